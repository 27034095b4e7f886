//! Parameters of the mongo check kinds.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub(crate) fn default_db() -> String {
    "lab".into()
}

/// `mongo_count`: how many documents a collection (or a filter) has, against
/// a number or the trusted data file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MongoCount {
    #[serde(default = "default_db")]
    pub db: String,
    pub collection: String,
    #[serde(default)]
    pub filter: Option<Value>,
    #[serde(default)]
    pub equals: Option<u64>,
    /// Expected = documents of this lab data file (matching `data_filter`, else `filter`).
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub data_filter: Option<Value>,
    /// The learner's file this count depends on (for the message).
    #[serde(default)]
    pub file: Option<String>,
}

/// `mongo_find`: the learner's query file (filter, projection, sort, limit)
/// returns exactly what the checker computes from the trusted data.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MongoFind {
    #[serde(default = "default_db")]
    pub db: String,
    pub collection: String,
    pub file: String,
    pub data: String,
    /// The question, for the checker: equality filter on the data.
    #[serde(rename = "where")]
    pub where_: Value,
    /// Fields each result must have, and only these.
    pub fields: Vec<String>,
    /// `[field, 1|-1]` pairs.
    pub sort: Vec<(String, i32)>,
    pub limit: usize,
}

/// `mongo_document`: one document (by `_id`) after the learner's updates.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MongoDocument {
    #[serde(default = "default_db")]
    pub db: String,
    pub collection: String,
    pub id: Value,
    /// The learner's file that should have changed it.
    pub file: String,
    /// Field values it must have.
    #[serde(default)]
    pub equals: BTreeMap<String, Value>,
    /// Fields that must have grown by this much from the trusted data.
    #[serde(default)]
    pub delta: BTreeMap<String, f64>,
    /// Array fields that must contain this value.
    #[serde(default)]
    pub contains: BTreeMap<String, Value>,
    #[serde(default)]
    pub data: Option<String>,
}

/// `mongo_index`: the learner's index serves the given query. On MongoDB:
/// `explain` shows `IXSCAN` and fewer documents examined than a collection
/// scan (`hint: {$natural: 1}`). On a server without MongoDB's query plans
/// (datalab's native stand-in has no `explain`), the index definition and
/// the query's answer (against `data`) are what is graded.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MongoIndex {
    #[serde(default = "default_db")]
    pub db: String,
    pub collection: String,
    /// The learner's index keys file.
    pub file: String,
    /// The query the index must serve (`filter`, `sort`).
    pub query: Value,
    /// The fields the index must start with, in order.
    pub prefix: Vec<String>,
    /// The lab data file the collection was loaded from: the query's
    /// expected answer where no plan can be read.
    #[serde(default)]
    pub data: Option<String>,
}

/// `mongo_top_values`: a pipeline that counts an array field's values among
/// the documents matching `match` and returns the top `limit`, most first.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MongoTopValues {
    #[serde(default = "default_db")]
    pub db: String,
    pub collection: String,
    pub file: String,
    pub data: String,
    #[serde(rename = "match")]
    pub match_: Value,
    pub unwind: String,
    pub limit: usize,
}

/// `mongo_lookup`: a pipeline joining to another collection with `$lookup`.
/// On MongoDB the whole pipeline runs and each result must carry the joined
/// user's name (datalab's native stand-in runs `$lookup` too). FerretDB does
/// not implement `$lookup`: there the stages before it run on the server, the
/// `$lookup` stage is checked for the right collection and fields, and the
/// message says so.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MongoLookup {
    #[serde(default = "default_db")]
    pub db: String,
    pub collection: String,
    pub file: String,
    pub data: String,
    pub from: String,
    pub from_data: String,
    pub local_field: String,
    pub foreign_field: String,
    /// The joined field to find in each result (e.g. `name`).
    pub show: String,
    /// The question: top `limit` by `sort`.
    pub sort: Vec<(String, i32)>,
    pub limit: usize,
}

/// `mongo_validator`: the learner's `$jsonSchema` validator accepts the good
/// documents and rejects the bad one. The check creates the collection with
/// the validator and tries the inserts. Where the server does not keep it
/// (datalab's native stand-in accepts and drops it, as `listCollections`
/// shows; FerretDB refuses it), datalab evaluates the `$jsonSchema` itself
/// and says so.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MongoValidator {
    #[serde(default = "default_db")]
    pub db: String,
    pub collection: String,
    pub file: String,
    pub good: Vec<Value>,
    pub bad: Vec<Value>,
}
