//! The services layer: Kafka, MongoDB and Cassandra behind one interface.
//!
//! Labs and checks ask [`Services::ensure`] for a [`ServiceKind`] and get an
//! [`Endpoint`]; they never learn which provider started it. Providers:
//! `docker` (testcontainers), `native` (processes from published jars and local
//! installs) and `external` (endpoints an instructor hands out). `auto` tries
//! docker, then native. What is particular to Kafka, MongoDB or Cassandra
//! lives in one file per kind under `kinds/`; the providers are generic.
//!
//! Dependency direction: `tui`/`cli` → `lab`/`check` → `services`. Nothing in
//! here knows about labs, quizzes or the UI.

pub mod definition;
pub mod docker;
pub(crate) mod external;
mod kinds;
mod manager;
mod native;
pub(crate) mod probe;
pub mod process;
pub(crate) mod provider;
pub mod shared;
pub mod spark;

pub use kinds::hadoop::HadoopClient;
pub use manager::{ResetReport, docker_answers};

pub use datalab_clients::Namespace;
pub use datalab_content::ServiceKind;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How a service is provided.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// docker when a daemon answers, else native.
    #[default]
    Auto,
    Docker,
    Native,
    External,
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProviderKind::Auto => "auto",
            ProviderKind::Docker => "docker",
            ProviderKind::Native => "native",
            ProviderKind::External => "external",
        })
    }
}

/// Where a running service answers. This is all a lab or check ever sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub kind: ServiceKind,
    pub provider: ProviderKind,
    /// Kafka: bootstrap servers `host:port[,host:port…]`; MongoDB: a
    /// `mongodb://` URI; Cassandra: contact points `host:port[,…]`.
    pub address: String,
    /// Number of nodes: Kafka brokers, Cassandra nodes (1 for MongoDB).
    #[serde(default = "one")]
    pub nodes: u32,
    /// Server version as reported by the server, when known.
    #[serde(default)]
    pub version: Option<String>,
    /// Free text about the server flavour, e.g. "mongo-java-server 1.47.0 (MongoDB wire-compatible, H2 backend)".
    #[serde(default)]
    pub flavor: Option<String>,
    /// Unix seconds when the service was started, when known.
    #[serde(default)]
    pub started_at: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Endpoint {
    /// Kafka bootstrap servers, as rdkafka's `bootstrap.servers` wants them.
    pub fn kafka_bootstrap(&self) -> &str {
        &self.address
    }
    /// A MongoDB connection string.
    pub fn mongodb_uri(&self) -> &str {
        &self.address
    }
    /// Cassandra contact points (`host:port`).
    pub fn cassandra_contact_points(&self) -> Vec<String> {
        self.address
            .split(',')
            .map(|s| s.trim().to_string())
            .collect()
    }
    /// The environment variable a learner's script reads for this endpoint.
    pub fn env_var(&self) -> (&'static str, String) {
        (kinds::of(self.kind).env_var(), self.address.clone())
    }
}

/// What a caller may ask of a service when it is brought up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpOptions {
    /// Nodes wanted (1 or 3): Kafka brokers, Cassandra nodes; kinds that
    /// do not cluster (MongoDB) ignore it. A running single node does not
    /// satisfy a request for 3.
    pub nodes: u32,
    /// A room's shared cluster: logins and permissions on (native only).
    pub shared: Option<Shared>,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions {
            nodes: 1,
            shared: None,
        }
    }
}

/// How a shared cluster listens and who administers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shared {
    /// The address the servers listen on (`127.0.0.1` unless told).
    pub bind: String,
    /// The address learners reach them at (the bind address unless that
    /// is `0.0.0.0`).
    pub advertise: String,
    /// The instructor's identity: a Kafka super user, a Cassandra superuser
    /// role (the default `cassandra` role is disabled).
    pub admin: datalab_clients::auth::Login,
}

/// Where the services layer keeps state, caches and logs, and which provider
/// it should use.
#[derive(Clone, Debug)]
pub struct ServicesConfig {
    /// Data dir: service data, logs, pid files, state (`<home>/services`).
    pub data_dir: PathBuf,
    /// Download cache shared by all clones (`~/.cache/datalab`).
    pub cache_dir: PathBuf,
    pub provider: ProviderKind,
    /// Per-call client timeout used by health probes.
    pub timeout: Duration,
}

/// A service that cannot be had, with the reason and the command that fixes it.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{kind} is not available: {reason}\n  fix: {fix}")]
    Unavailable {
        kind: ServiceKind,
        reason: String,
        fix: String,
    },
    #[error("{kind} did not answer at {address}: {reason}")]
    Unreachable {
        kind: ServiceKind,
        address: String,
        reason: String,
    },
    #[error("{0}")]
    Other(String),
}

/// A service's current state, for `services status` and the TUI status line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub kind: ServiceKind,
    pub endpoint: Option<Endpoint>,
    /// "up", "down", "starting", "unhealthy: …"
    pub health: String,
    /// What a learner pastes into kcat, mongosh or cqlsh.
    pub connect_hint: Option<String>,
}

/// The facade labs, checks and the CLI use. The manager (state file, lock,
/// reuse, provider choice) lives in `manager.rs`.
#[derive(Clone, Debug)]
pub struct Services {
    pub config: ServicesConfig,
    /// Where `containers/<kind>.yaml` is read from (the built-in copy unless
    /// [`Services::with_content`] says otherwise).
    content: datalab_content::Content,
}

impl Services {
    pub fn new(config: ServicesConfig) -> Self {
        Services {
            config,
            content: datalab_content::Content::embedded(),
        }
    }

    /// Read service definitions from this content instead of the built-in one.
    pub fn with_content(mut self, content: datalab_content::Content) -> Self {
        self.content = content;
        self
    }
}
