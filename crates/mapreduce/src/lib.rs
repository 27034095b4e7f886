//! A local MapReduce engine in the style of Hadoop Streaming.
//!
//! Mappers, combiners and reducers are shell commands (`sh -c CMD`) in any
//! language: they read records on stdin and write `key<TAB>value` lines on
//! stdout. A job:
//!
//! 1. **split**: every input file is cut into splits of about `split_size`
//!    bytes, always on a line boundary;
//! 2. **map**: one task per split, up to `parallelism` at a time; the mapper
//!    gets the split's lines on stdin. Its output is partitioned by a hash of
//!    the key (FNV-1a, modulo the number of reducers) into a memory-bounded
//!    sort buffer that spills sorted runs to disk when full;
//! 3. **combine** (optional): the combiner gets each map task's output,
//!    sorted by key, and its output replaces the map output;
//! 4. **shuffle/sort**: each reduce task k-way merges its partition's sorted
//!    segments from every map task (with extra merge passes when there are
//!    very many);
//! 5. **reduce**: one task per partition, in parallel; the reducer gets its
//!    partition sorted by key (bytewise, like `LC_ALL=C sort`) and its stdout
//!    becomes `part-NNNNN`;
//! 6. **commit**: `_COUNTERS.json` and then `_SUCCESS` are written and the
//!    whole folder, built beside the output, is renamed into place.
//!
//! No UI here: progress goes out as [`Event`]s through a callback.

mod buffer;
mod cancel;
pub mod events;
mod job;
mod merge;
mod process;
mod split;

pub use cancel::CancelToken;
pub use job::run_job;
pub use split::{InputSplit, plan_splits};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Default split size: 32 MiB.
pub(crate) const DEFAULT_SPLIT_SIZE: u64 = 32 << 20;
/// Default memory for sort buffers, shared by the tasks running at once.
pub(crate) const DEFAULT_MEMORY: u64 = 256 << 20;
/// Default number of reduce tasks.
pub const DEFAULT_REDUCERS: usize = 2;
/// Default tries per task (the first and two retries).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// The file holding a finished job's counters, next to `_SUCCESS`.
pub const COUNTERS_FILE: &str = "_COUNTERS.json";

/// Everything a job needs.
#[derive(Clone, Debug)]
pub struct JobConfig {
    /// Files or folders (read recursively; names starting with `.` or `_`
    /// are skipped, like Hadoop does).
    pub(crate) inputs: Vec<PathBuf>,
    pub(crate) mapper: String,
    pub(crate) reducer: String,
    pub combiner: Option<String>,
    /// Number of reduce tasks, so of `part-` files.
    pub reducers: usize,
    pub output: PathBuf,
    /// Bytes per split; `None` picks one: splits of at most
    /// [`DEFAULT_SPLIT_SIZE`], in a multiple of `parallelism` so every core
    /// gets the same share (at least 1 MiB each).
    pub split_size: Option<u64>,
    /// Bytes of sort buffer, shared by the tasks running at once.
    pub memory: u64,
    pub overwrite: bool,
    /// Fail the job when a mapper writes a line without a tab (otherwise
    /// such lines are counted, reported and skipped).
    pub strict: bool,
    /// Tries per task before the job fails.
    pub max_attempts: u32,
    /// Tasks running at once (default: the number of cores).
    pub parallelism: usize,
    /// Where the commands run (default: the current folder).
    pub(crate) workdir: Option<PathBuf>,
    /// Stops the job from another thread (a signal handler): its task
    /// processes are killed and its working folder removed.
    pub cancel: CancelToken,
}

impl JobConfig {
    pub fn new(
        inputs: Vec<PathBuf>,
        mapper: impl Into<String>,
        reducer: impl Into<String>,
        output: impl Into<PathBuf>,
    ) -> JobConfig {
        JobConfig {
            inputs,
            mapper: mapper.into(),
            reducer: reducer.into(),
            combiner: None,
            reducers: DEFAULT_REDUCERS,
            output: output.into(),
            split_size: None,
            memory: DEFAULT_MEMORY,
            overwrite: false,
            strict: false,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            parallelism: default_parallelism(),
            workdir: None,
            cancel: CancelToken::default(),
        }
    }
}

/// The split size chosen when none is given (see [`JobConfig::split_size`]).
pub(crate) fn auto_split_size(input_bytes: u64, parallelism: usize) -> u64 {
    let p = parallelism.max(1) as u64;
    let rounds = input_bytes.div_ceil(p * DEFAULT_SPLIT_SIZE).max(1);
    input_bytes.div_ceil(p * rounds).max(1 << 20)
}

/// The number of cores.
pub(crate) fn default_parallelism() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The job was badly asked for (missing input, output exists, bad
    /// sizes); nothing ran.
    #[error("{0}")]
    Usage(String),
    /// A task failed for good, or the engine hit an I/O error.
    #[error("{0}")]
    Failed(String),
    /// Stopped through [`JobConfig::cancel`] (Ctrl-C); nothing was left
    /// behind.
    #[error("interrupted: the job was stopped, its tasks killed and its working folder removed")]
    Interrupted,
}

impl JobError {
    /// 2 for usage errors, 1 for failed jobs, 130 (like a shell after
    /// Ctrl-C) for interrupted ones.
    pub fn exit_code(&self) -> u8 {
        match self {
            JobError::Usage(_) => 2,
            JobError::Failed(_) => 1,
            JobError::Interrupted => 130,
        }
    }
}

/// Wall time per phase, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseTimes {
    pub(crate) split_ms: u64,
    pub(crate) map_ms: u64,
    pub(crate) shuffle_ms: u64,
    pub(crate) reduce_ms: u64,
    pub(crate) commit_ms: u64,
    pub total_ms: u64,
}

/// Hadoop-like counters, for a task or a whole job.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub map_tasks: u64,
    pub reduce_tasks: u64,
    /// Task attempts that failed and were retried (or failed the job).
    pub failed_attempts: u64,
    pub map_input_records: u64,
    pub map_input_bytes: u64,
    pub map_output_records: u64,
    pub map_output_bytes: u64,
    /// Mapper lines without a tab (skipped unless the job is strict).
    pub malformed_records: u64,
    /// Records written to sorted runs on disk (map side and merge passes).
    pub spilled_records: u64,
    pub combine_input_records: u64,
    pub combine_output_records: u64,
    /// Bytes the reducers fetched from the map outputs.
    pub shuffle_bytes: u64,
    /// Distinct keys the reducers saw.
    pub reduce_input_groups: u64,
    pub reduce_input_records: u64,
    pub reduce_output_records: u64,
    pub reduce_output_bytes: u64,
    #[serde(default)]
    pub time: PhaseTimes,
}

impl Counters {
    /// Add another task's counts (times are not added).
    pub fn add(&mut self, o: &Counters) {
        self.map_tasks += o.map_tasks;
        self.reduce_tasks += o.reduce_tasks;
        self.failed_attempts += o.failed_attempts;
        self.map_input_records += o.map_input_records;
        self.map_input_bytes += o.map_input_bytes;
        self.map_output_records += o.map_output_records;
        self.map_output_bytes += o.map_output_bytes;
        self.malformed_records += o.malformed_records;
        self.spilled_records += o.spilled_records;
        self.combine_input_records += o.combine_input_records;
        self.combine_output_records += o.combine_output_records;
        self.shuffle_bytes += o.shuffle_bytes;
        self.reduce_input_groups += o.reduce_input_groups;
        self.reduce_input_records += o.reduce_input_records;
        self.reduce_output_records += o.reduce_output_records;
        self.reduce_output_bytes += o.reduce_output_bytes;
    }

    /// `(group, name, value)` rows, in the order Hadoop prints them.
    pub fn rows(&self) -> Vec<(&'static str, &'static str, u64)> {
        let t = &self.time;
        vec![
            ("Job", "Launched map tasks", self.map_tasks),
            ("Job", "Launched reduce tasks", self.reduce_tasks),
            ("Job", "Failed task attempts", self.failed_attempts),
            ("Map-Reduce", "Map input records", self.map_input_records),
            ("Map-Reduce", "Map input bytes", self.map_input_bytes),
            ("Map-Reduce", "Map output records", self.map_output_records),
            ("Map-Reduce", "Map output bytes", self.map_output_bytes),
            (
                "Map-Reduce",
                "Malformed map output lines",
                self.malformed_records,
            ),
            (
                "Map-Reduce",
                "Combine input records",
                self.combine_input_records,
            ),
            (
                "Map-Reduce",
                "Combine output records",
                self.combine_output_records,
            ),
            ("Map-Reduce", "Spilled records", self.spilled_records),
            ("Map-Reduce", "Shuffle bytes", self.shuffle_bytes),
            (
                "Map-Reduce",
                "Reduce input groups",
                self.reduce_input_groups,
            ),
            (
                "Map-Reduce",
                "Reduce input records",
                self.reduce_input_records,
            ),
            (
                "Map-Reduce",
                "Reduce output records",
                self.reduce_output_records,
            ),
            (
                "Map-Reduce",
                "Reduce output bytes",
                self.reduce_output_bytes,
            ),
            ("Time (ms)", "Split", t.split_ms),
            ("Time (ms)", "Map (and combine)", t.map_ms),
            ("Time (ms)", "Shuffle merge passes", t.shuffle_ms),
            ("Time (ms)", "Sort-merge and reduce", t.reduce_ms),
            ("Time (ms)", "Commit", t.commit_ms),
            ("Time (ms)", "Total", t.total_ms),
        ]
    }
}

/// The phases of a job, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Split,
    Map,
    Shuffle,
    Reduce,
    Commit,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Split => "split",
            Phase::Map => "map",
            Phase::Shuffle => "shuffle",
            Phase::Reduce => "reduce",
            Phase::Commit => "commit",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    Map,
    Reduce,
}

impl TaskKind {
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Map => "map",
            TaskKind::Reduce => "reduce",
        }
    }
}

/// What a running job reports, for progress bars and the TUI (which reads
/// them as JSON lines, see [`events`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The first event of every job.
    JobStarted {
        output: PathBuf,
        mapper: String,
        reducer: String,
        combiner: Option<String>,
        reducers: usize,
    },
    /// The splits are known.
    Planned {
        map_tasks: usize,
        reduce_tasks: usize,
        input_bytes: u64,
    },
    PhaseStarted {
        phase: Phase,
    },
    PhaseFinished {
        phase: Phase,
        elapsed: Duration,
    },
    /// `bytes`: what the task will read (its split, or its partition).
    TaskStarted {
        kind: TaskKind,
        task: usize,
        attempt: u32,
        bytes: u64,
    },
    /// `bytes` more of the task's input were read.
    TaskProgress {
        kind: TaskKind,
        task: usize,
        bytes: u64,
    },
    TaskFinished {
        kind: TaskKind,
        task: usize,
        attempt: u32,
        counters: Box<Counters>,
    },
    TaskFailed {
        kind: TaskKind,
        task: usize,
        attempt: u32,
        will_retry: bool,
        message: String,
    },
    Finished {
        counters: Box<Counters>,
    },
    /// The last event of a job that did not finish.
    JobFailed {
        message: String,
    },
}

/// A finished job.
#[derive(Clone, Debug, Serialize)]
pub struct JobReport {
    pub output: PathBuf,
    pub counters: Counters,
    /// The first few malformed mapper lines, with their task.
    pub malformed_examples: Vec<String>,
}

/// Parse a size: `4096`, `64K`, `64M`, `1G`, `1.5G`, `64MB`, `64MiB`
/// (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let mult: u64 = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => {
            return Err(format!(
                "{s:?} is not a size (examples: 65536, 64K, 64M, 1G)"
            ));
        }
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 65536, 64K, 64M, 1G)"))?;
    if !(n.is_finite() && n > 0.0) {
        return Err(format!("{s:?}: a size must be more than 0"));
    }
    Ok((n * mult as f64).round() as u64)
}

/// The partition of a key: FNV-1a (64 bit) modulo the number of reducers.
/// Stable across runs and machines.
pub fn partition_of(key: &[u8], reducers: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % reducers.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("64mb"), Ok(64 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5K"), Ok(1536));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn partitions_are_stable_and_in_range() {
        for r in 1..6 {
            for k in ["", "a", "hello", "world"] {
                let p = partition_of(k.as_bytes(), r);
                assert!(p < r);
                assert_eq!(p, partition_of(k.as_bytes(), r));
            }
        }
    }
}
