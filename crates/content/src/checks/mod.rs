//! Checks as written in `lab.yaml`: each kind's typed parameters. The engine
//! (datalab-engine's `check`) runs them; this is only their shape, so that
//! content can be loaded and linted without the engine.

pub mod cql;
pub mod generic;
pub mod hadoop;
pub mod kafka;
pub mod mapreduce;
pub mod mongo;
pub mod spark;

use serde::{Deserialize, Serialize};

/// A check as written in `lab.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckSpec {
    FileExists(generic::FileExists),
    FileParses(generic::FileParses),
    CommandOutput(generic::CommandOutputCheck),
    Answer(generic::Answer),
    MapreduceOutput(mapreduce::MapreduceOutput),
    MapreduceCounters(mapreduce::MapreduceCounters),
    HdfsOutput(hadoop::HdfsOutput),
    HadoopCounters(hadoop::HadoopCounters),
    HdfsBlocks(hadoop::HdfsBlocks),
    MongoCount(mongo::MongoCount),
    MongoFind(mongo::MongoFind),
    MongoDocument(mongo::MongoDocument),
    MongoIndex(mongo::MongoIndex),
    MongoTopValues(mongo::MongoTopValues),
    MongoLookup(mongo::MongoLookup),
    MongoValidator(mongo::MongoValidator),
    CqlKeyspace(cql::CqlKeyspace),
    CqlTable(cql::CqlTable),
    CqlPartitionCounts(cql::CqlPartitionCounts),
    CqlQueries(cql::CqlQueries),
    CqlTablesAgree(cql::CqlTablesAgree),
    CqlTtl(cql::CqlTtl),
    CqlLwt(cql::CqlLwt),
    CqlConsistency(cql::CqlConsistency),
    CqlNodeFailure(cql::CqlNodeFailure),
    KafkaTopic(kafka::TopicCheck),
    KafkaKeyedRecords(kafka::KeyedRecords),
    KafkaTotals(kafka::Totals),
    KafkaGroupLag(kafka::GroupLag),
    KafkaGroupSplit(kafka::GroupSplit),
    KafkaOrdered(kafka::Ordered),
    KafkaLatestPerKey(kafka::LatestPerKey),
    KafkaIsolation(kafka::Isolation),
    KafkaFailover(kafka::Failover),
    KafkaLagAnswer(kafka::LagAnswer),
    KafkaExactlyOncePipeline(kafka::ExactlyOncePipeline),
    SparkOutput(spark::SparkOutput),
    SparkCache(spark::SparkCache),
    SparkShuffle(spark::SparkShuffle),
    SparkStreamWindows(spark::SparkStreamWindows),
}

impl CheckSpec {
    /// The kind name as written in YAML.
    pub fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_object().and_then(|o| o.keys().next().cloned()))
            .unwrap_or_else(|| "check".into())
    }
}

impl CheckSpec {
    /// The `hdfs://` paths a Hadoop check reads (empty for other kinds).
    pub fn hdfs_paths(&self) -> Vec<&str> {
        match self {
            CheckSpec::HdfsOutput(c) => vec![&c.path],
            CheckSpec::HadoopCounters(c) => vec![&c.output],
            CheckSpec::HdfsBlocks(c) => vec![&c.path],
            _ => Vec::new(),
        }
    }

    /// The learner's answer file a Hadoop check compares with what Hadoop
    /// reports, and the facts it may name.
    pub fn hadoop_answers(&self) -> Option<&hadoop::Answers> {
        match self {
            CheckSpec::HadoopCounters(c) => c.answers.as_ref(),
            CheckSpec::HdfsBlocks(c) => c.answers.as_ref(),
            _ => None,
        }
    }
}
