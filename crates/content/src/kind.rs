//! The kinds of service a lab can ask for.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of service a lab can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    Kafka,
    Mongodb,
    Cassandra,
    /// HDFS + YARN (Hadoop's MiniCluster), for MapReduce on real Hadoop.
    Hadoop,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 4] = [
        ServiceKind::Kafka,
        ServiceKind::Mongodb,
        ServiceKind::Cassandra,
        ServiceKind::Hadoop,
    ];

    /// The kinds `services up` starts when none is named: Hadoop (a gigabyte
    /// of memory, fixed YARN ports) only when asked for by name.
    pub const DEFAULT_UP: [ServiceKind; 3] = [
        ServiceKind::Kafka,
        ServiceKind::Mongodb,
        ServiceKind::Cassandra,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Kafka => "kafka",
            ServiceKind::Mongodb => "mongodb",
            ServiceKind::Cassandra => "cassandra",
            ServiceKind::Hadoop => "hadoop",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ServiceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<ServiceKind, String> {
        ServiceKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ServiceKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown service kind `{s}` (one of: {})", names.join(", "))
            })
    }
}
