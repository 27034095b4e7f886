//! Parameters of the Hadoop check kinds: they read HDFS (WebHDFS) and the
//! JobHistory server of the `hadoop` service, at `hdfs://` paths.

use super::mapreduce::Expect;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Answers the learner wrote in a YAML file of the workspace, each compared
/// with what Hadoop reports: `{ path: answers.yaml, keys: { map_tasks:
/// TOTAL_LAUNCHED_MAPS } }` (answer key → the fact it must equal).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    pub path: String,
    pub keys: BTreeMap<String, String>,
}

/// `hdfs_output: { path: hdfs:///lab/wordcount, expect: wordcount, input:
/// corpus, files: [wordcount/mapper.py] }`: the job's `part-*` files read
/// back from HDFS and compared with the answer the check computes itself.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HdfsOutput {
    /// The job's output folder in HDFS (`hdfs:///…`).
    pub path: String,
    pub expect: Expect,
    /// The input, relative to the lab's data folder.
    pub input: String,
    /// For `top_n` (default 3).
    #[serde(default)]
    pub n: Option<usize>,
    /// The learner's mapper/reducer files, named in failure messages.
    #[serde(default)]
    pub files: Vec<String>,
}

/// `hadoop_counters: { output: hdfs:///lab/wordcount, less_than: {
/// COMBINE_OUTPUT_RECORDS: COMBINE_INPUT_RECORDS }, answers: … }`: the
/// counters of the newest finished job that wrote `output`, from the
/// JobHistory server's REST API. Counter names are Hadoop's
/// (`MAP_INPUT_RECORDS`, `TOTAL_LAUNCHED_MAPS`, `SPILLED_RECORDS`, …).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HadoopCounters {
    pub output: String,
    /// counter → its minimum.
    #[serde(default)]
    pub at_least: BTreeMap<String, u64>,
    /// counter → another counter it must be below.
    #[serde(default)]
    pub less_than: BTreeMap<String, String>,
    /// Answer key → counter.
    #[serde(default)]
    pub answers: Option<Answers>,
    /// Said after a failure of `at_least`/`less_than`: what to change.
    #[serde(default)]
    pub advice: Option<String>,
    /// The learner's file to point at for `at_least`/`less_than`.
    #[serde(default)]
    pub file: Option<String>,
}

/// `hdfs_blocks: { path: hdfs:///lab/big/corpus.txt, min_blocks: 2, answers:
/// { path: answers.yaml, keys: { blocks: blocks } } }`: the file's blocks
/// and replication as the NameNode reports them. Answer facts: `blocks`,
/// `replication`, `block_size`, `length`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HdfsBlocks {
    pub path: String,
    #[serde(default)]
    pub min_blocks: Option<u64>,
    #[serde(default)]
    pub answers: Option<Answers>,
    /// The learner's file that wrote the file to HDFS.
    #[serde(default)]
    pub file: Option<String>,
}

/// The facts an `hdfs_blocks` answer may name.
pub const BLOCK_FACTS: [&str; 4] = ["blocks", "replication", "block_size", "length"];

/// Hadoop's MapReduce counters a `hadoop_counters` check may name (the
/// task, job and file system groups); a job that never touched one has
/// none, which reads as 0.
pub const COUNTERS: [&str; 30] = [
    "MAP_INPUT_RECORDS",
    "MAP_OUTPUT_RECORDS",
    "MAP_OUTPUT_BYTES",
    "MAP_OUTPUT_MATERIALIZED_BYTES",
    "SPLIT_RAW_BYTES",
    "COMBINE_INPUT_RECORDS",
    "COMBINE_OUTPUT_RECORDS",
    "REDUCE_INPUT_GROUPS",
    "REDUCE_SHUFFLE_BYTES",
    "REDUCE_INPUT_RECORDS",
    "REDUCE_OUTPUT_RECORDS",
    "SPILLED_RECORDS",
    "SHUFFLED_MAPS",
    "FAILED_SHUFFLE",
    "MERGED_MAP_OUTPUTS",
    "GC_TIME_MILLIS",
    "CPU_MILLISECONDS",
    "TOTAL_LAUNCHED_MAPS",
    "TOTAL_LAUNCHED_REDUCES",
    "NUM_FAILED_MAPS",
    "NUM_FAILED_REDUCES",
    "NUM_KILLED_MAPS",
    "DATA_LOCAL_MAPS",
    "RACK_LOCAL_MAPS",
    "MILLIS_MAPS",
    "MILLIS_REDUCES",
    "HDFS_BYTES_READ",
    "HDFS_BYTES_WRITTEN",
    "FILE_BYTES_READ",
    "FILE_BYTES_WRITTEN",
];
