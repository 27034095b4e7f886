//! Parameters of the mapreduce check kinds.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a job's output should be.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// `word<TAB>count`; words are runs of `a-z` in the lower-cased text.
    Wordcount,
    /// `word<TAB>doc1,doc2` (file names, sorted, each once).
    InvertedIndex,
    /// `order_id<TAB>name<TAB>country<TAB>amount` for every order with a known
    /// customer; `input` is a folder with `customers.csv` and `orders.csv`.
    Join,
    /// `region<TAB>product<TAB>revenue`, the `n` best products per region,
    /// best first (ties by name); `input` is `sales.csv`.
    TopN,
}

/// `mapreduce_output: { output: out/wordcount, expect: wordcount, input: corpus,
/// files: [wordcount/mapper.py, wordcount/reducer.py] }`
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MapreduceOutput {
    /// The job's output folder, relative to the workspace.
    pub output: String,
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

/// `mapreduce_counters: { output: out/wc, at_least: { combine_input_records: 1 },
/// less_than: { combine_output_records: combine_input_records } }`: reads
/// the `_COUNTERS.json` every finished job writes next to `_SUCCESS`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MapreduceCounters {
    pub output: String,
    /// counter → its minimum.
    #[serde(default)]
    pub at_least: BTreeMap<String, u64>,
    /// counter → another counter it must be below.
    #[serde(default)]
    pub less_than: BTreeMap<String, String>,
    /// Said after a failure: what the learner should change.
    #[serde(default)]
    pub advice: Option<String>,
    /// The learner's file to point at.
    #[serde(default)]
    pub file: Option<String>,
}
