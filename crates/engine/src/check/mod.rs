//! Checks: the automatic verdicts of a lab step.
//!
//! A check is a Rust type behind the [`Check`] trait. `lab.yaml` names a check
//! by its kind with typed parameters, externally tagged so YAML stays natural
//! and every parse error keeps its line and column:
//!
//! ```yaml
//! checks:
//!   - file_exists: { path: totals.json }
//!   - answer: { path: answers.yaml, key: lag, equals: "40" }
//! ```
//!
//! To add a kind: write a params struct (`#[derive(Deserialize)]`,
//! `deny_unknown_fields`), implement [`Check`] for it, and add a variant to
//! `CheckSpec` (datalab-content) plus a line in [`check_of`]. Service checks live
//! in their own files (`kafka.rs`, `mongo.rs`, `cql.rs`, `mapreduce.rs`, `hadoop.rs`,
//! `spark.rs`).

pub(crate) mod cql;
pub mod cql_outage;
pub mod generic;
pub(crate) mod hadoop;
pub(crate) mod kafka;
pub mod kafka_pipeline;
pub(crate) mod mapreduce;
pub(crate) mod mongo;
pub(crate) mod spark;
mod spark_log;
mod spark_stream;

use async_trait::async_trait;
use datalab_content::checks::CheckSpec;
use datalab_services::{Endpoint, Namespace, ServiceError, ServiceKind, Services, UpOptions};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The verdict of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// The check could not run (service down, timeout): not the learner's fault.
    Error,
}

/// What a check reports: a verdict, a message that says what it saw and what
/// it expected, and the learner's file at fault when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

impl Outcome {
    pub fn pass(message: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Pass,
            message: message.into(),
            file: None,
        }
    }
    pub(crate) fn fail(message: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Fail,
            message: message.into(),
            file: None,
        }
    }
    pub(crate) fn error(message: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Error,
            message: message.into(),
            file: None,
        }
    }
    /// Point at the learner's file that caused the verdict.
    pub(crate) fn in_file(mut self, file: impl Into<PathBuf>) -> Outcome {
        self.file = Some(file.into());
        self
    }
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
}

impl From<ServiceError> for Outcome {
    fn from(e: ServiceError) -> Outcome {
        Outcome::error(e.to_string())
    }
}

/// The output of a step's `run` command, when the step has one.
#[derive(Clone, Debug, Default)]
pub struct CommandOutput {
    pub command: String,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// Everything a check may look at. Built by the lab runner.
#[derive(Clone)]
pub struct CheckContext {
    /// The learner's workspace (their files).
    pub workspace: PathBuf,
    /// The lab's own data folder materialised on disk (trusted: from the
    /// built-in content, not the learner's copy).
    pub lab_data: PathBuf,
    /// Prefix for topics, groups, databases and keyspaces.
    pub namespace: Namespace,
    pub services: Arc<Services>,
    /// What the step's `run` command printed, if the step has one.
    pub step_output: Option<CommandOutput>,
    /// Timeout for each client call a check makes.
    pub timeout: Duration,
    /// Kafka brokers the step needs (from the step's `brokers`).
    pub brokers: u32,
    /// Nodes of the other clustered kinds (Cassandra) the step needs (its `nodes`).
    pub nodes: u32,
    /// Extra environment of the run (see `RunOptions::env`), also given to
    /// the commands a check runs itself; a lab panel may name files there
    /// that a check reports its progress to.
    pub env: Vec<(String, String)>,
}

impl CheckContext {
    /// A path inside the learner's workspace.
    pub(crate) fn ws(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.workspace.join(rel)
    }

    /// The endpoint of a service this lab needs, started if necessary.
    pub(crate) async fn endpoint(&self, kind: ServiceKind) -> Result<Endpoint, ServiceError> {
        let nodes = if kind == ServiceKind::Kafka {
            self.brokers
        } else {
            self.nodes
        };
        let opts = UpOptions {
            nodes: nodes.max(1),
            ..Default::default()
        };
        self.services.ensure(kind, &opts).await
    }
}

/// One automatic verdict on a learner's work.
#[async_trait]
pub trait Check: Send + Sync {
    /// What is checked, in a few words: "topic orders has 3 partitions".
    fn describe(&self) -> String;
    /// Run against real state. Never panics; a service problem is
    /// `Status::Error` with a message that says what to do.
    async fn run(&self, ctx: &CheckContext) -> Outcome;
}

/// The check behind a `lab.yaml` spec.
pub fn check_of(spec: &CheckSpec) -> &dyn Check {
    match spec {
        CheckSpec::FileExists(c) => c,
        CheckSpec::FileParses(c) => c,
        CheckSpec::CommandOutput(c) => c,
        CheckSpec::Answer(c) => c,
        CheckSpec::MapreduceOutput(c) => c,
        CheckSpec::MapreduceCounters(c) => c,
        CheckSpec::HdfsOutput(c) => c,
        CheckSpec::HadoopCounters(c) => c,
        CheckSpec::HdfsBlocks(c) => c,
        CheckSpec::MongoCount(c) => c,
        CheckSpec::MongoFind(c) => c,
        CheckSpec::MongoDocument(c) => c,
        CheckSpec::MongoIndex(c) => c,
        CheckSpec::MongoTopValues(c) => c,
        CheckSpec::MongoLookup(c) => c,
        CheckSpec::MongoValidator(c) => c,
        CheckSpec::CqlKeyspace(c) => c,
        CheckSpec::CqlTable(c) => c,
        CheckSpec::CqlPartitionCounts(c) => c,
        CheckSpec::CqlQueries(c) => c,
        CheckSpec::CqlTablesAgree(c) => c,
        CheckSpec::CqlTtl(c) => c,
        CheckSpec::CqlLwt(c) => c,
        CheckSpec::CqlConsistency(c) => c,
        CheckSpec::CqlNodeFailure(c) => c,
        CheckSpec::KafkaTopic(c) => c,
        CheckSpec::KafkaKeyedRecords(c) => c,
        CheckSpec::KafkaTotals(c) => c,
        CheckSpec::KafkaGroupLag(c) => c,
        CheckSpec::KafkaGroupSplit(c) => c,
        CheckSpec::KafkaOrdered(c) => c,
        CheckSpec::KafkaLatestPerKey(c) => c,
        CheckSpec::KafkaIsolation(c) => c,
        CheckSpec::KafkaFailover(c) => c,
        CheckSpec::KafkaLagAnswer(c) => c,
        CheckSpec::KafkaExactlyOncePipeline(c) => c,
        CheckSpec::SparkOutput(c) => c,
        CheckSpec::SparkCache(c) => c,
        CheckSpec::SparkShuffle(c) => c,
        CheckSpec::SparkStreamWindows(c) => c,
    }
}
