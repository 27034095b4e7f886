//! The external provider: services someone else runs (an instructor's
//! shared cluster, CI service containers). Endpoints come from the
//! environment (`DATALAB_KAFKA_BOOTSTRAP`, `DATALAB_MONGODB_URI`,
//! `DATALAB_CASSANDRA_CONTACT`) or from `<home>/services.yaml`:
//!
//! ```yaml
//! provider: external        # optional: makes external the default
//! kafka: broker1:9092,broker2:9092
//! mongodb: mongodb://host:27017
//! cassandra: host:9042
//! ```
//!
//! datalab never starts or stops them: `start` health-probes the endpoint,
//! `stop` does nothing.

use super::definition::ServiceDef;
use super::probe;
use super::provider::{NodeHandle, ProgressFn, Provider, Running, ServiceDirs};
use super::{Endpoint, ProviderKind, ServiceError, ServiceKind, UpOptions};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `<home>/services.yaml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServicesFile {
    #[serde(default)]
    pub(crate) provider: Option<ProviderKind>,
    #[serde(default)]
    pub(crate) kafka: Option<String>,
    #[serde(default)]
    pub(crate) mongodb: Option<String>,
    #[serde(default)]
    pub(crate) cassandra: Option<String>,
}

impl ServicesFile {
    /// Read the file; a missing file is empty, a bad one is an error with
    /// `file:line:col`.
    pub(crate) fn load(path: &Path) -> Result<ServicesFile, ServiceError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(ServiceError::Other(format!("{}: {e}", path.display()))),
        };
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_saphyr::from_str(&text).map_err(|e| {
            ServiceError::Other(match e.location() {
                Some(l) => format!("{}:{}:{}: {e}", path.display(), l.line(), l.column()),
                None => format!("{}: {e}", path.display()),
            })
        })
    }

    fn get(&self, kind: ServiceKind) -> Option<&str> {
        match kind {
            ServiceKind::Kafka => self.kafka.as_deref(),
            ServiceKind::Mongodb => self.mongodb.as_deref(),
            ServiceKind::Cassandra => self.cassandra.as_deref(),
        }
    }
}

pub fn env_var(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::Kafka => "DATALAB_KAFKA_BOOTSTRAP",
        ServiceKind::Mongodb => "DATALAB_MONGODB_URI",
        ServiceKind::Cassandra => "DATALAB_CASSANDRA_CONTACT",
    }
}

pub(crate) struct ExternalProvider {
    pub(crate) config_file: PathBuf,
    pub(crate) timeout: Duration,
}

impl ExternalProvider {
    /// The configured address of `kind`, env first, then the config file.
    pub(crate) fn address(&self, kind: ServiceKind) -> Result<Option<String>, ServiceError> {
        if let Ok(v) = std::env::var(env_var(kind))
            && !v.trim().is_empty()
        {
            return Ok(Some(v.trim().to_string()));
        }
        let file = ServicesFile::load(&self.config_file)?;
        Ok(file.get(kind).map(|s| s.trim().to_string()))
    }

    /// Validate the shape of an address before any network call, so a typo
    /// gets a clear message instead of a driver error.
    fn validate(kind: ServiceKind, address: &str) -> Result<(), String> {
        match kind {
            ServiceKind::Mongodb => {
                if !(address.starts_with("mongodb://") || address.starts_with("mongodb+srv://")) {
                    return Err(format!(
                        "`{address}` is not a MongoDB URI (it must start with mongodb:// or mongodb+srv://)"
                    ));
                }
            }
            ServiceKind::Kafka | ServiceKind::Cassandra => {
                for part in address.split(',') {
                    let part = part.trim();
                    let Some((host, port)) = part.rsplit_once(':') else {
                        return Err(format!("`{part}` is not host:port"));
                    };
                    if host.is_empty() || port.parse::<u16>().is_err() {
                        return Err(format!("`{part}` is not host:port"));
                    }
                }
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Provider for ExternalProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::External
    }

    async fn available(&self) -> Result<(), ServiceError> {
        Ok(())
    }

    async fn start(
        &self,
        def: &ServiceDef,
        opts: &UpOptions,
        _dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<Running, ServiceError> {
        let kind = def.kind;
        let address = self
            .address(kind)?
            .ok_or_else(|| ServiceError::Unavailable {
                kind,
                reason: format!(
                    "the external provider has no {kind} endpoint (neither {} nor `{kind}:` in {})",
                    env_var(kind),
                    self.config_file.display()
                ),
                fix: format!(
                    "export {}=… (or add `{kind}: …` to {}), or use --provider native",
                    env_var(kind),
                    self.config_file.display()
                ),
            })?;
        Self::validate(kind, &address).map_err(|reason| ServiceError::Unavailable {
            kind,
            reason: format!("{} is malformed: {reason}", env_var(kind)),
            fix: match kind {
                ServiceKind::Kafka => "export DATALAB_KAFKA_BOOTSTRAP=host:9092[,host:9092…]",
                ServiceKind::Mongodb => "export DATALAB_MONGODB_URI=mongodb://host:27017",
                ServiceKind::Cassandra => "export DATALAB_CASSANDRA_CONTACT=host:9042[,host:9042…]",
            }
            .into(),
        })?;
        progress(&format!("checking external {kind} at {address}"));
        let info = probe::ping(kind, &address, self.timeout).await?;
        let nodes = if kind == ServiceKind::Kafka {
            info.nodes.max(1)
        } else {
            1
        };
        if kind == ServiceKind::Kafka && nodes < opts.brokers {
            return Err(ServiceError::Unavailable {
                kind,
                reason: format!(
                    "the external Kafka cluster at {address} has {nodes} broker(s); {} wanted",
                    opts.brokers
                ),
                fix: "point DATALAB_KAFKA_BOOTSTRAP at a cluster with enough brokers, or use --provider native".into(),
            });
        }
        let node_addresses: Vec<String> = match kind {
            ServiceKind::Mongodb => vec![address.clone()],
            _ => address.split(',').map(|s| s.trim().to_string()).collect(),
        };
        Ok(Running {
            kind,
            provider: ProviderKind::External,
            endpoint: Endpoint {
                kind,
                provider: ProviderKind::External,
                address,
                nodes,
                version: info.version,
                flavor: info.flavor,
                started_at: None,
            },
            nodes: node_addresses
                .into_iter()
                .enumerate()
                .map(|(i, a)| NodeHandle {
                    index: i as u32,
                    address: a,
                    ..Default::default()
                })
                .collect(),
            extra: BTreeMap::new(),
        })
    }

    async fn stop(&self, _running: &Running) -> Result<(), ServiceError> {
        Ok(())
    }

    async fn stop_node(&self, running: &Running, index: u32) -> Result<(), ServiceError> {
        Err(ServiceError::Other(format!(
            "cannot stop node {index} of the external {}: datalab does not control external services",
            running.kind
        )))
    }

    async fn start_node(&self, running: &Running, index: u32) -> Result<(), ServiceError> {
        Err(ServiceError::Other(format!(
            "cannot start node {index} of the external {}: datalab does not control external services",
            running.kind
        )))
    }

    async fn logs(&self, running: &Running, _tail: usize) -> Result<String, ServiceError> {
        Ok(format!(
            "{} is external ({}): its logs are with whoever runs it\n",
            running.kind, running.endpoint.address
        ))
    }
}
