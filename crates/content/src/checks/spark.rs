//! Parameters of the spark check kinds. They read what Spark itself
//! recorded: the job's output files and its event log (`datalab spark
//! submit` writes it as plain JSON lines, one file per application, to the
//! step's `--event-log` folder; the newest application there is judged).

use serde::{Deserialize, Serialize};

/// What a Spark job's output should be.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SparkExpect {
    /// `word<TAB>count`: the MapReduce lab's word count of `input`.
    Wordcount,
    /// `country<TAB>revenue`: the sum of the orders' amounts per customer
    /// country, orders of unknown customers left out; `input` is a folder
    /// with `customers.csv` and `orders.csv`.
    RevenuePerCountry,
}

/// `spark_output: { output: out/wordcount, expect: wordcount, input: corpus,
/// event_log: spark-events/wordcount, file: wordcount.py }`: the newest
/// application in `event_log` ended, one of its SQL executions wrote
/// `output`, and the `part-*` files there hold the expected answer.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SparkOutput {
    pub output: String,
    pub expect: SparkExpect,
    /// The input, relative to the lab's data folder.
    pub input: String,
    pub event_log: String,
    /// The learner's script, named in failure messages.
    #[serde(default)]
    pub file: Option<String>,
}

/// `spark_cache: { event_log: spark-events/cache, file: cache.py }`: an
/// action of the newest application stored cached blocks in memory, and a
/// later action read the cached data (`InMemoryTableScan`) without
/// computing any block again: it was served from memory.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SparkCache {
    pub event_log: String,
    #[serde(default)]
    pub file: Option<String>,
}

/// `spark_shuffle: { event_log: spark-events/shop, output: out/revenue }`:
/// the SQL execution that wrote `output` has an `Exchange` (a shuffle) in
/// its physical plan and its tasks wrote shuffle data.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SparkShuffle {
    pub event_log: String,
    pub output: String,
    #[serde(default)]
    pub file: Option<String>,
}

/// `spark_stream_windows: { input: orders, output: order-counts,
/// window_seconds: 10, checkpoint: checkpoints/order-counts, runs: 2 }`: a
/// Structured Streaming query counted the records of the Kafka topic
/// `input` per tumbling window of their Kafka timestamps and wrote
/// `{"start": <epoch seconds>, "count": n}` records to `output` (update
/// mode: the latest record of a window is its count). Every window's
/// latest count must equal the checker's own count from `input`, and the
/// query's checkpoint must say it read `input` to its end in at least
/// `runs` runs that each read new records (a restart resumed from it).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SparkStreamWindows {
    pub input: String,
    pub output: String,
    pub window_seconds: u64,
    /// The query's checkpoint folder, relative to the workspace.
    pub checkpoint: String,
    /// Batches that read new records, at least (default 1).
    #[serde(default)]
    pub runs: Option<usize>,
    #[serde(default)]
    pub file: Option<String>,
}
