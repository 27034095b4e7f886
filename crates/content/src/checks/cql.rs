//! Parameters of the cql check kinds.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `cql_keyspace`: the keyspace exists with this replication.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CqlKeyspace {
    pub keyspace: String,
    pub replication_factor: u32,
    /// The learner's file that creates it.
    pub file: String,
}

/// `cql_table`: partition key, clustering columns and their order.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CqlTable {
    pub keyspace: String,
    pub table: String,
    pub partition_key: Vec<String>,
    /// `name asc|desc`.
    pub clustering: Vec<String>,
    pub file: String,
}

/// `cql_partition_counts`: every partition of the data holds its rows.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CqlPartitionCounts {
    pub keyspace: String,
    pub table: String,
    pub data: String,
    pub partition_key: Vec<String>,
    pub file: String,
}

/// One question of `cql_queries`, answered by the checker from the CSV.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Equality conditions on the data's columns.
    #[serde(rename = "where")]
    pub where_: BTreeMap<String, String>,
    /// A range on `range_column`: `from` ≤ value < `to`.
    #[serde(default)]
    pub range_column: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// Sort column and direction (`ts desc`).
    pub order: String,
    #[serde(default)]
    pub limit: Option<usize>,
    /// The columns the answer must have.
    pub columns: Vec<String>,
}

/// `cql_queries`: each SELECT of the learner's file answers its question
/// (same rows, same order) without `ALLOW FILTERING`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CqlQueries {
    pub file: String,
    pub data: String,
    pub questions: Vec<Question>,
}

/// `cql_tables_agree`: a denormalised table holds the same rows as the first.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CqlTablesAgree {
    pub keyspace: String,
    pub table: String,
    pub other: String,
    pub columns: Vec<String>,
    pub file: String,
}

/// `cql_ttl`: rows written with a time to live of about `ttl` seconds.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CqlTtl {
    pub keyspace: String,
    pub table: String,
    pub ttl: i64,
    /// Seconds below `ttl` still accepted (time since the write).
    #[serde(default = "default_tol")]
    pub tolerance: i64,
    pub min_rows: usize,
    pub file: String,
}

pub(crate) fn default_tol() -> i64 {
    3600
}

/// `cql_lwt`: the learner's `INSERT … IF NOT EXISTS`, run twice by the check:
/// the second run must answer `[applied] = false`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CqlLwt {
    pub file: String,
}

/// `cql_consistency`: the learner picks read/write levels for RF 3 with one
/// replica down (graded by reasoning: ONE, TWO, QUORUM, LOCAL_QUORUM,
/// LOCAL_ONE survive, THREE and ALL do not; reads must overlap writes,
/// R + W > 3), and their query file runs its SELECT at the chosen read level
/// here. On one node with RF 1, levels needing 2+ replicas (TWO, THREE,
/// ALL at RF 3) cannot run, so for those only the reasoning is graded.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CqlConsistency {
    pub file: String,
    pub answers: String,
}

/// `cql_node_failure`: on a cluster of 3 nodes (the step's `nodes: 3`), the
/// learner's `file` creates `keyspace` with 3 replicas and `table`
/// (`id text PRIMARY KEY, message text`) and writes to it at QUORUM. The
/// check stops one node, then a second, writes and reads at ONE, QUORUM and
/// ALL during each outage, starts the nodes again, reads back at ALL what was
/// written while they were down, and compares what happened with the
/// learner's `answers` (`one_node_down:` and `two_nodes_down:`, each
/// mapping ONE, QUORUM and ALL to `succeeds` or `fails`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CqlNodeFailure {
    pub keyspace: String,
    pub table: String,
    pub file: String,
    pub answers: String,
}
