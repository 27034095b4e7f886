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
//! datalab never starts or stops them: `start` health-probes the endpoint
//! (at most once every few seconds per process), `stop` does nothing.

use super::definition::ServiceDef;
use super::kinds::{self, Kind, PingInfo};
use super::probe;
use super::provider::{NodeHandle, ProgressFn, Provider, Running, ServiceDirs};
use super::{Endpoint, ProviderKind, ServiceError, ServiceKind, UpOptions};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// `<home>/services.yaml`: an optional `provider:` and one endpoint per kind
/// name.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct ServicesFile {
    #[serde(default)]
    pub(crate) provider: Option<ProviderKind>,
    #[serde(flatten)]
    endpoints: BTreeMap<String, String>,
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
        let file: ServicesFile = serde_saphyr::from_str(&text).map_err(|e| {
            ServiceError::Other(match e.location() {
                Some(l) => format!("{}:{}:{}: {e}", path.display(), l.line(), l.column()),
                None => format!("{}: {e}", path.display()),
            })
        })?;
        file.check_keys(path, &text)?;
        Ok(file)
    }

    /// Every key names a kind (a typo is reported where it is).
    fn check_keys(&self, path: &Path, text: &str) -> Result<(), ServiceError> {
        let Some(bad) = (self.endpoints.keys()).find(|k| k.parse::<ServiceKind>().is_err()) else {
            return Ok(());
        };
        let line = (text
            .lines()
            .position(|l| l.trim_start().starts_with(bad.as_str())))
        .map_or(1, |i| i + 1);
        let names: Vec<&str> = kinds::ALL.iter().map(|k| k.kind().name()).collect();
        Err(ServiceError::Other(format!(
            "{}:{line}:1: unknown field `{bad}`, expected `provider` or one of: {}",
            path.display(),
            names.join(", ")
        )))
    }

    pub(crate) fn get(&self, kind: ServiceKind) -> Option<&str> {
        self.endpoints.get(kind.name()).map(String::as_str)
    }
}

/// How long a successful probe of an external endpoint stands in this
/// process. Every check asks for its endpoint, and the probe (a TCP look
/// and a metadata request) was ~45 ms of each Kafka check under a shared
/// room's load; a service that went down since is still reported by the
/// check's own request, only in its words.
const PROBE_STANDS: Duration = Duration::from_secs(10);

type Pings = HashMap<(ServiceKind, String), (Instant, PingInfo)>;

fn pings() -> &'static Mutex<Pings> {
    static PINGS: OnceLock<Mutex<Pings>> = OnceLock::new();
    PINGS.get_or_init(Default::default)
}

/// The answer of a probe of `address` made less than [`PROBE_STANDS`] ago.
fn recent_ping(kind: ServiceKind, address: &str) -> Option<PingInfo> {
    let p = pings().lock().ok()?;
    let (at, info) = p.get(&(kind, address.to_string()))?;
    (at.elapsed() < PROBE_STANDS).then(|| info.clone())
}

fn remember_ping(kind: ServiceKind, address: &str, info: &PingInfo) {
    if let Ok(mut p) = pings().lock() {
        p.insert((kind, address.to_string()), (Instant::now(), info.clone()));
    }
}

pub(crate) struct ExternalProvider {
    pub(crate) config_file: PathBuf,
    pub(crate) timeout: Duration,
}

impl ExternalProvider {
    /// The configured address of `kind`, env first, then the config file.
    /// A learner's login (`services login`) is registered for it.
    pub(crate) fn address(&self, kind: ServiceKind) -> Result<Option<String>, ServiceError> {
        let address = match std::env::var(kinds::of(kind).env_var()) {
            Ok(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
            _ => ServicesFile::load(&self.config_file)?
                .get(kind)
                .map(|s| s.trim().to_string()),
        };
        if let Some(a) = &address {
            let credentials = self.config_file.with_file_name("credentials.yaml");
            if credentials.is_file() {
                let c = crate::shared::Credentials::load(&credentials)?;
                datalab_clients::auth::register(a, &c.login());
            }
        }
        Ok(address)
    }

    /// The configured, well-formed address of `kind`, or what to do.
    fn configured(&self, k: &dyn Kind) -> Result<String, ServiceError> {
        let (kind, var, file) = (k.kind(), k.env_var(), self.config_file.display());
        let address = self.address(kind)?.ok_or_else(|| ServiceError::Unavailable {
            kind,
            reason: format!(
                "the external provider has no {kind} endpoint (neither {var} nor `{kind}:` in {file})"
            ),
            fix: format!("export {var}=… (or add `{kind}: …` to {file}), or use --provider native"),
        })?;
        // The shape first, so a typo gets a clear message, not a driver error.
        k.validate(&address)
            .map_err(|reason| ServiceError::Unavailable {
                kind,
                reason: format!("{var} is malformed: {reason}"),
                fix: k.env_example().into(),
            })?;
        Ok(address)
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
        let (kind, k) = (def.kind, kinds::of(def.kind));
        let address = self.configured(k)?;
        let info = match recent_ping(kind, &address) {
            Some(info) => info,
            None => {
                progress(&format!("checking external {kind} at {address}"));
                let info = probe::ping(kind, &address, self.timeout).await?;
                remember_ping(kind, &address, &info);
                info
            }
        };
        let nodes = info.nodes.max(1);
        let wanted = k.nodes(opts);
        if nodes < wanted {
            return Err(ServiceError::Unavailable {
                kind,
                reason: format!(
                    "the external {} at {address} has {nodes} {}(s); {wanted} wanted",
                    k.title(),
                    k.node_noun()
                ),
                fix: format!(
                    "point {} at a cluster with enough {}s, or use --provider native",
                    k.env_var(),
                    k.node_noun()
                ),
            });
        }
        let mut node_addresses = k.host_ports(&address);
        if node_addresses.is_empty() {
            node_addresses.push(address.clone());
        }
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
