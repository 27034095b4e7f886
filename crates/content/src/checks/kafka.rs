//! Parameters of the kafka check kinds.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `kafka_topic: { topic: orders, partitions: 3, replication_factor: 1,
/// configs: { retention.ms: "3600000" } }`: the topic's metadata and configs.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopicCheck {
    pub topic: String,
    #[serde(default)]
    pub partitions: Option<usize>,
    #[serde(default)]
    pub replication_factor: Option<usize>,
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    /// The learner's file responsible.
    #[serde(default)]
    pub file: Option<String>,
}

/// `kafka_keyed_records: { topic: orders, data: orders.jsonl, key_field:
/// customer, seq_field: seq }`: every line of the lab's data file is a
/// record of the topic (no more, no less), keyed by `key_field`; all records
/// of a key sit in one partition and, in offset order, their `seq_field`
/// increases.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyedRecords {
    pub topic: String,
    pub data: String,
    pub key_field: String,
    #[serde(default)]
    pub seq_field: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
}

/// `kafka_totals: { topic: orders, path: totals.json, key_field: customer,
/// sum_field: amount }`: the learner's totals file (`{key: total}`) matches
/// the sums computed from the topic's real records.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub topic: String,
    pub path: String,
    pub key_field: String,
    pub sum_field: String,
}

/// `kafka_group_lag: { group: billing, topic: orders, lag: 0 }` (every
/// partition fully consumed and committed) or `{ …, consumed: 40 }` (the
/// group committed exactly 40 records; lag = end − committed on each
/// partition).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupLag {
    pub group: String,
    pub topic: String,
    #[serde(default)]
    pub lag: Option<i64>,
    #[serde(default)]
    pub consumed: Option<i64>,
    #[serde(default)]
    pub file: Option<String>,
}

/// `kafka_group_split: { group: workers, topic: orders, members: 2, within:
/// 20 }`: while the step's command keeps its consumers running (in the
/// background), the group's description shows `members` members that split
/// every partition of the topic with no overlap. Polled until `within`
/// seconds after the check starts.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSplit {
    pub group: String,
    pub topic: String,
    pub members: usize,
    #[serde(default = "twenty")]
    pub within: u64,
    #[serde(default)]
    pub file: Option<String>,
}

pub(crate) fn twenty() -> u64 {
    20
}

/// `kafka_ordered: { topic: audit, data: audit.txt }`: the topic has one
/// partition and reading it returns the data file's lines in order.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ordered {
    pub topic: String,
    pub data: String,
    #[serde(default)]
    pub file: Option<String>,
}

/// `kafka_latest_per_key: { topic: customers, data: customers.jsonl,
/// key_field: id }`: reading the topic and keeping the last value of each
/// key (what compaction keeps) gives the data file's latest version of each
/// key.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LatestPerKey {
    pub topic: String,
    pub data: String,
    pub key_field: String,
    #[serde(default)]
    pub file: Option<String>,
}

/// `kafka_isolation: { topic: payments-tx, committed: 10, total: 15 }`: a
/// `read_committed` consumer sees exactly `committed` records and a
/// `read_uncommitted` one sees `total`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Isolation {
    pub topic: String,
    pub committed: usize,
    pub total: usize,
    #[serde(default)]
    pub file: Option<String>,
}

/// `kafka_failover: { topic: payments, producer: sh 09_produce.sh }`: stops
/// the broker leading partition 0 of the topic, waits until every partition
/// has a leader on another broker, runs the learner's producer command (it
/// must succeed and its records must land), restarts the broker and waits
/// until every partition's ISR is complete again. Needs 3 brokers.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Failover {
    pub topic: String,
    pub producer: String,
    /// Seconds to wait for leaders to move and the ISR to recover.
    #[serde(default = "sixty")]
    pub within: u64,
    #[serde(default)]
    pub file: Option<String>,
}

pub(crate) fn sixty() -> u64 {
    60
}

/// `kafka_exactly_once_pipeline: { input: orders, output: alerts, group:
/// fraud, model: fraud_model.json, program: sh 11_score.sh }`: runs the
/// learner's consume-transform-produce program, kills its process group
/// (SIGKILL) at a random point while it writes `output`, runs it again, and
/// waits until `group` has committed the end of `input`. Then, reading
/// `output` with read_committed, every record of `input` whose score by the
/// lab's `model` reaches the threshold has exactly one alert with that score,
/// and no other record is there.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExactlyOncePipeline {
    pub input: String,
    pub output: String,
    pub group: String,
    /// The model file in the lab's data (trusted, not the learner's copy).
    pub model: String,
    /// The command that runs the learner's program from the workspace.
    pub program: String,
    /// Seconds each run of the program may take to reach its kill point or
    /// the end of the input.
    #[serde(default = "sixty")]
    pub within: u64,
    #[serde(default)]
    pub file: Option<String>,
}

/// `kafka_lag_answer: { path: monitoring.yaml, key: total_lag, group:
/// analytics, topic: orders, explain_key: meaning }`: the learner's number
/// equals the group's live total lag, and the explanation is a sentence or
/// more.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LagAnswer {
    pub path: String,
    pub key: String,
    pub group: String,
    pub topic: String,
    #[serde(default)]
    pub explain_key: Option<String>,
}
