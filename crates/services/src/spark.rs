//! What Apache Spark needs beyond PySpark itself: the Kafka connector for
//! Structured Streaming. PySpark (from PyPI) carries Spark and its 280 jars
//! but not the connector; Maven Central has it, resolved here with the same
//! Maven code (and cache) the native Kafka, Cassandra and Hadoop jars use.

use crate::definition::{Native, Ready, ServiceDef};
use crate::native::jvm;
use crate::{ServiceError, ServiceKind, Services};
use std::path::PathBuf;

/// The PySpark release the lab runs. Maven Central has the Kafka connector
/// up to 4.2.0 (no 4.3.x), and the two must match.
pub const PYSPARK_VERSION: &str = "4.2.0";

/// The environment variable naming a JSON-lines file `datalab spark submit`
/// appends one [`SubmitLine`] to before it starts Spark: how the TUI's lab
/// panel learns which event-log folder to follow while a step runs.
pub const SUBMITS_ENV: &str = "DATALAB_SPARK_SUBMITS";

/// One `datalab spark submit` starting: its event-log folder (absolute) and
/// when (ms since the epoch); Spark's log file there is newer than that.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SubmitLine {
    pub event_log: PathBuf,
    pub at_ms: u64,
}

/// The connector and the jars it needs that PySpark lacks, each without its
/// own dependencies (they would bring second copies of jars Spark already
/// has, in other versions).
pub const SPARK_KAFKA_JARS: [&str; 4] = [
    "org.apache.spark:spark-sql-kafka-0-10_2.13:4.2.0",
    "org.apache.spark:spark-token-provider-kafka-0-10_2.13:4.2.0",
    "org.apache.kafka:kafka-clients:3.9.2",
    "org.apache.commons:commons-pool2:2.13.1",
];

/// A definition that only names jars: Maven resolves it into
/// `<cache>/native/kafka-spark-connector-<version>/`. Its kind (Kafka) only
/// names the service in error messages.
fn connector_def() -> ServiceDef {
    ServiceDef {
        kind: ServiceKind::Kafka,
        version: format!("spark-connector-{PYSPARK_VERSION}"),
        image: None,
        port: 0,
        env: Default::default(),
        ready: Ready {
            log: None,
            timeout: 1,
        },
        native: Native {
            maven_alone: SPARK_KAFKA_JARS.iter().map(|s| s.to_string()).collect(),
            ..Native::default()
        },
        limits: Default::default(),
    }
}

impl Services {
    /// The Spark Kafka connector's jars, downloaded into the cache the first
    /// time (offline afterwards).
    pub async fn spark_kafka_jars(
        &self,
        progress: &(dyn Fn(&str) + Send + Sync + 'static),
    ) -> Result<Vec<PathBuf>, ServiceError> {
        let cp = jvm::maven_classpath(&connector_def(), &self.config.cache_dir, progress).await?;
        Ok(cp.split(':').map(PathBuf::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connector_matches_pyspark() {
        let v = format!(":{PYSPARK_VERSION}");
        assert!(SPARK_KAFKA_JARS[..2].iter().all(|c| c.ends_with(&v)));
        assert_eq!(connector_def().native.coordinates().len(), 4);
    }
}
