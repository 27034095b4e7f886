//! The internal seam between the manager ([`super::Services`]) and the ways a
//! service can be provided (native processes, docker containers, external
//! endpoints). Labs never see this: they get an [`Endpoint`].
//!
//! The manager owns the state file, the lock and reuse; a provider only
//! starts, stops and inspects what it started. Everything a provider needs to
//! find its service again (in a later datalab process) goes into [`Running`],
//! which the manager stores as JSON.

use super::definition::ServiceDef;
use super::{Endpoint, ProviderKind, ServiceError, ServiceKind, UpOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Receives short human lines about a cold start ("resolving jars", …).
pub(crate) type ProgressFn = dyn Fn(&str) + Send + Sync;

/// Where a provider keeps what belongs to one service kind.
#[derive(Clone, Debug)]
pub(crate) struct ServiceDirs {
    /// Server data: `<data_dir>/<kind>/data` (node `i` under `data/node-<i>`).
    pub(crate) data: PathBuf,
    /// Server logs and pid files: `<data_dir>/<kind>/logs`.
    pub(crate) logs: PathBuf,
    /// Download / build cache shared by all clones (`~/.cache/datalab`).
    pub(crate) cache: PathBuf,
}

impl ServiceDirs {
    pub(crate) fn new(
        data_dir: &std::path::Path,
        cache_dir: &std::path::Path,
        kind: ServiceKind,
    ) -> Self {
        let base = data_dir.join(kind.name());
        ServiceDirs {
            data: base.join("data"),
            logs: base.join("logs"),
            cache: cache_dir.to_path_buf(),
        }
    }
}

/// One node of a running service (one Kafka broker; the only node of a
/// MongoDB or Cassandra server).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NodeHandle {
    /// 0-based node index (the Kafka broker index the replication lab uses).
    pub(crate) index: u32,
    /// `host:port` clients use to reach this node.
    pub(crate) address: String,
    /// native: the server process id (leader of its own process group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pid: Option<u32>,
    /// native: this node's data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) data_dir: Option<PathBuf>,
    /// docker: the container id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) container_id: Option<String>,
    /// Anything else a provider needs to restart or find this node again
    /// (e.g. native: the command line; docker: the published ports).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) extra: BTreeMap<String, String>,
}

/// A service a provider started (or, for external, found), as stored in the
/// manager's state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Running {
    pub(crate) kind: ServiceKind,
    pub(crate) provider: ProviderKind,
    pub(crate) endpoint: Endpoint,
    pub(crate) nodes: Vec<NodeHandle>,
    /// Provider-specific, service-wide data (e.g. docker: a network id).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) extra: BTreeMap<String, String>,
}

impl Running {
    pub(crate) fn node(&self, index: u32) -> Result<&NodeHandle, ServiceError> {
        self.nodes.iter().find(|n| n.index == index).ok_or_else(|| {
            ServiceError::Other(format!(
                "{} has no node {index} (it runs {} node{})",
                self.kind,
                self.nodes.len(),
                if self.nodes.len() == 1 { "" } else { "s" }
            ))
        })
    }
}

/// How one provider starts and stops services. `Send + Sync` so the manager
/// can hold providers behind `Arc<dyn Provider>`.
#[async_trait::async_trait]
pub(crate) trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;

    /// Can this provider serve here at all? `Err` = a human reason plus the
    /// command that fixes it (`ServiceError::Unavailable`).
    async fn available(&self) -> Result<(), ServiceError>;

    /// Start `def` (`opts.nodes` nodes for Kafka and Cassandra, one for MongoDB) and
    /// wait until it is ready. `progress` receives short human lines
    /// ("downloading Kafka jars", "formatting storage", …).
    async fn start(
        &self,
        def: &ServiceDef,
        opts: &UpOptions,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<Running, ServiceError>;

    /// Stop everything `running` describes (all nodes). Must not fail when
    /// it is already gone.
    async fn stop(&self, running: &Running) -> Result<(), ServiceError>;

    /// Stop one node (Kafka broker or Cassandra node index) of a running
    /// cluster, keeping its data.
    async fn stop_node(&self, running: &Running, index: u32) -> Result<(), ServiceError>;

    /// Start a node stopped by `stop_node` again, with its data.
    async fn start_node(&self, running: &Running, index: u32) -> Result<(), ServiceError>;

    /// The last `tail` lines of the service's logs (all nodes).
    async fn logs(&self, running: &Running, tail: usize) -> Result<String, ServiceError>;

    /// Fetch everything `start` would download or build (jars, binaries,
    /// images), so the course then works offline. Default: nothing to fetch.
    async fn install(
        &self,
        def: &ServiceDef,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        let _ = (def, dirs, progress);
        Ok(())
    }
}
