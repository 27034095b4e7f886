//! The manager behind [`Services`]: which provider serves, the state file
//! that lets later datalab processes reuse a running service, the lock that
//! keeps two processes from starting the same service twice, and the
//! commands (`down`, `reset`, `logs`, …).
//!
//! Per kind, under the data dir: `<kind>/state.json` (the [`Running`] record,
//! written atomically) and `<kind>/lock` (an `flock` held while starting or
//! replacing the service).

use super::definition::{self, ServiceDef};
use super::external::{ExternalProvider, ServicesFile};
use super::kinds;
use super::native::{self, NativeProvider};
use super::provider::{ProgressFn, Provider, Running, ServiceDirs};
use super::{
    Endpoint, Namespace, ProviderKind, ServiceError, ServiceKind, ServiceStatus, Services,
    UpOptions, probe, process,
};
use nix::fcntl::{Flock, FlockArg};
use serde::Serialize;
use std::fs::{self, File};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The mark of a shared cluster's state (`Running::extra`).
const SHARED: &str = "shared";

/// What `services reset` did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ResetReport {
    /// "topic orders", "database shop", "keyspace iot", …
    pub dropped: Vec<String>,
    /// Kinds that were not running (nothing to reset).
    pub not_running: Vec<ServiceKind>,
}

/// Does a Docker daemon answer `GET /_ping` within ~200 ms? Probes
/// `DOCKER_HOST` (unix:// or tcp://) or `/var/run/docker.sock` itself: a
/// `docker` client binary on PATH proves nothing.
pub async fn docker_answers() -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let attempt = async {
        let req = b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
        let mut buf = Vec::new();
        if let Some(addr) = host.strip_prefix("tcp://") {
            let mut s = tokio::net::TcpStream::connect(addr.trim_end_matches('/')).await?;
            s.write_all(req).await?;
            s.read_to_end(&mut buf).await?;
        } else {
            let path = host
                .strip_prefix("unix://")
                .filter(|p| !p.is_empty())
                .unwrap_or("/var/run/docker.sock")
                .to_string();
            let mut s = tokio::net::UnixStream::connect(path).await?;
            s.write_all(req).await?;
            s.read_to_end(&mut buf).await?;
        }
        Ok::<_, std::io::Error>(buf)
    };
    match tokio::time::timeout(Duration::from_millis(200), attempt).await {
        Ok(Ok(buf)) => {
            let text = String::from_utf8_lossy(&buf);
            text.starts_with("HTTP/1.") && text.contains(" 200 ")
        }
        _ => false,
    }
}

impl Services {
    pub(crate) fn dirs(&self, kind: ServiceKind) -> ServiceDirs {
        ServiceDirs::new(&self.config.data_dir, &self.config.cache_dir, kind)
    }

    fn state_path(&self, kind: ServiceKind) -> PathBuf {
        self.config.data_dir.join(kind.name()).join("state.json")
    }

    /// `<home>/services.yaml` (home = the data dir's parent).
    pub(crate) fn config_file(&self) -> PathBuf {
        self.config
            .data_dir
            .parent()
            .map(|h| h.join("services.yaml"))
            .unwrap_or_else(|| PathBuf::from("services.yaml"))
    }

    /// The recorded service; a shared cluster's admin login is registered
    /// on the way, so whatever connects to it next presents it.
    fn read_state(&self, kind: ServiceKind) -> Option<Running> {
        let text = fs::read_to_string(self.state_path(kind)).ok()?;
        let running: Running = serde_json::from_str(&text).ok()?;
        if running.extra.contains_key(SHARED) {
            self.register_admin(&running.endpoint);
        }
        Some(running)
    }

    /// The recorded endpoint of `kind`, if any (no probe).
    pub(crate) fn recorded(&self, kind: ServiceKind) -> Option<Endpoint> {
        self.read_state(kind).map(|r| r.endpoint)
    }

    fn write_state(&self, running: &Running) -> Result<(), ServiceError> {
        let path = self.state_path(running.kind);
        let json = serde_json::to_vec_pretty(running)
            .map_err(|e| ServiceError::Other(format!("cannot encode state: {e}")))?;
        process::write_atomic(&path, &json)
            .map_err(|e| ServiceError::Other(format!("cannot write {}: {e}", path.display())))
    }

    fn clear_state(&self, kind: ServiceKind) {
        let _ = fs::remove_file(self.state_path(kind));
    }

    pub(crate) fn definition(&self, kind: ServiceKind) -> Result<ServiceDef, ServiceError> {
        definition::load(&self.content, kind).map_err(ServiceError::Other)
    }

    /// The provider asked for: the config's, else `provider:` in
    /// services.yaml, else auto.
    fn requested_provider(&self) -> Result<ProviderKind, ServiceError> {
        if self.config.provider != ProviderKind::Auto {
            return Ok(self.config.provider);
        }
        Ok(ServicesFile::load(&self.config_file())?
            .provider
            .unwrap_or(ProviderKind::Auto))
    }

    /// The provider for `kind`: as [`Self::requested_provider`], except
    /// that with neither `--provider` nor `provider:` a kind whose endpoint
    /// services.yaml names is external (a room's shared Kafka and Cassandra
    /// beside the laptop's own MongoDB).
    fn provider_for(&self, kind: ServiceKind) -> Result<ProviderKind, ServiceError> {
        if self.config.provider != ProviderKind::Auto {
            return Ok(self.config.provider);
        }
        let file = ServicesFile::load(&self.config_file())?;
        Ok(match (file.provider, file.get(kind)) {
            (Some(p), _) => p,
            (None, Some(_)) => ProviderKind::External,
            (None, None) => ProviderKind::Auto,
        })
    }

    fn external(&self) -> ExternalProvider {
        ExternalProvider {
            config_file: self.config_file(),
            timeout: self.config.timeout,
        }
    }

    /// The docker provider, when this build has one. The docker provider
    /// lives in `docker.rs` (testcontainers) and implements [`Provider`];
    /// hook it in here.
    fn docker(&self) -> Option<Arc<dyn Provider>> {
        Some(Arc::new(super::docker::DockerProvider::new(&self.config)))
    }

    fn provider(&self, kind: ProviderKind) -> Result<Arc<dyn Provider>, ServiceError> {
        match kind {
            ProviderKind::Native | ProviderKind::Auto => Ok(Arc::new(NativeProvider {
                timeout: self.config.timeout,
            })),
            ProviderKind::External => Ok(Arc::new(self.external())),
            ProviderKind::Docker => self.docker().ok_or_else(|| ServiceError::Other(
                "the docker provider is not part of this build of datalab; use --provider native (or external)".into(),
            )),
        }
    }

    /// auto → docker when a daemon answers (and this build has the docker
    /// provider), else native.
    /// Kinds without a docker image (Hadoop) always run natively.
    async fn resolve_auto(&self, def: &ServiceDef) -> ProviderKind {
        let (data, cache) = (&self.config.data_dir, &self.config.cache_dir);
        if self.docker().is_some()
            && docker_answers().await
            && super::docker::can_run(def, data, cache).await
        {
            ProviderKind::Docker
        } else {
            ProviderKind::Native
        }
    }

    /// Quick liveness of a recorded service: live pid + TCP for native, TCP
    /// for the others. Fast enough for every `ensure`.
    fn quick_ok(&self, running: &Running) -> bool {
        match running.provider {
            ProviderKind::Native => native::quick_alive(running),
            _ => running
                .nodes
                .iter()
                .any(|n| process::tcp_open(&n.address, Duration::from_millis(300))),
        }
    }

    /// A shared cluster serves plain requests too (with the admin login);
    /// a request for a shared one replaces a service without logins.
    fn satisfies(running: &Running, want: ProviderKind, opts: &UpOptions) -> bool {
        (want == ProviderKind::Auto || running.provider == want)
            && running.nodes.len() as u32 >= kinds::of(running.kind).nodes(opts)
            && (opts.shared.is_none() || running.extra.contains_key(SHARED))
    }

    async fn lock(
        &self,
        kind: ServiceKind,
        progress: &ProgressFn,
    ) -> Result<Flock<File>, ServiceError> {
        let dir = self.config.data_dir.join(kind.name());
        fs::create_dir_all(&dir)
            .map_err(|e| ServiceError::Other(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("lock");
        let deadline = Instant::now() + Duration::from_secs(1800);
        let mut told = false;
        loop {
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| ServiceError::Other(format!("cannot open {}: {e}", path.display())))?;
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Ok(lock),
                Err((_, errno)) if errno == nix::errno::Errno::EWOULDBLOCK => {
                    if !told {
                        progress(&format!(
                            "another datalab process is starting {kind}; waiting for it"
                        ));
                        told = true;
                    }
                    if Instant::now() > deadline {
                        return Err(ServiceError::Other(format!(
                            "gave up waiting for another datalab process to finish starting {kind} (lock {})",
                            path.display()
                        )));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err((_, errno)) => {
                    return Err(ServiceError::Other(format!(
                        "cannot lock {}: {errno}",
                        path.display()
                    )));
                }
            }
        }
    }

    /// Return a running service of this kind, starting it if needed. Reuses a
    /// running one (from this or an earlier datalab process).
    pub async fn ensure(
        &self,
        kind: ServiceKind,
        opts: &UpOptions,
    ) -> Result<Endpoint, ServiceError> {
        self.ensure_with_progress(kind, opts, &|_| {}).await
    }

    /// [`Services::ensure`], reporting cold-start steps to `progress`.
    pub async fn ensure_with_progress(
        &self,
        kind: ServiceKind,
        opts: &UpOptions,
        progress: &ProgressFn,
    ) -> Result<Endpoint, ServiceError> {
        let want = self.provider_for(kind)?;
        if want == ProviderKind::External {
            let def = self.definition(kind)?;
            let r = self
                .external()
                .start(&def, opts, &self.dirs(kind), progress)
                .await?;
            return Ok(r.endpoint);
        }
        if opts.shared.is_some() && want == ProviderKind::Docker {
            return Err(ServiceError::Other(
                "a shared cluster runs natively (logins and permissions are set up for the native servers); drop --provider docker".into(),
            ));
        }
        // Fast path: no lock, no protocol round trip.
        if let Some(r) = self.read_state(kind)
            && Self::satisfies(&r, want, opts)
            && self.quick_ok(&r)
        {
            return Ok(r.endpoint);
        }
        let _lock = self.lock(kind, progress).await?;
        let previous = self.read_state(kind);
        if let Some(r) = &previous
            && Self::satisfies(r, want, opts)
            && self.quick_ok(r)
        {
            return Ok(r.endpoint.clone());
        }
        if let Some(r) = previous {
            progress(&format!(
                "replacing the {} {kind} recorded in {}",
                r.provider,
                self.state_path(kind).display()
            ));
            if let Ok(p) = self.provider(r.provider) {
                let _ = p.stop(&r).await;
            }
            self.clear_state(kind);
        }
        native::kill_leftovers(&self.config.data_dir, Some(kind)).await;
        let def = self.definition(kind)?;
        let chosen = match want {
            ProviderKind::Auto => self.resolve_auto(&def).await,
            p => p,
        };
        let provider = self.provider(chosen)?;
        provider.available().await?;
        let chosen = if opts.shared.is_some() {
            self.provider(ProviderKind::Native)?
        } else {
            provider
        };
        let mut running = chosen.start(&def, opts, &self.dirs(kind), progress).await?;
        if opts.shared.is_some() {
            running.extra.insert(SHARED.into(), "1".into());
        }
        self.write_state(&running)?;
        Ok(running.endpoint)
    }

    /// The endpoint of a running service, without starting anything.
    pub async fn running(&self, kind: ServiceKind) -> Option<Endpoint> {
        self.check(kind).await.ok()
    }

    /// The endpoint of a running service, or a clear error saying why there
    /// is none (never started, stopped, crashed or killed) and what to run.
    pub async fn check(&self, kind: ServiceKind) -> Result<Endpoint, ServiceError> {
        if self.provider_for(kind)? == ProviderKind::External {
            let ext = self.external();
            let Some(address) = ext.address(kind)? else {
                return Err(ServiceError::Unavailable {
                    kind,
                    reason: format!("no external {kind} is configured"),
                    fix: format!("export {}=…", kinds::of(kind).env_var()),
                });
            };
            let info = probe::ping(kind, &address, self.config.timeout).await?;
            return Ok(Endpoint {
                kind,
                provider: ProviderKind::External,
                address,
                nodes: info.nodes.max(1),
                version: info.version,
                flavor: info.flavor,
                started_at: None,
            });
        }
        let Some(r) = self.read_state(kind) else {
            return Err(ServiceError::Unavailable {
                kind,
                reason: format!("{kind} is not running"),
                fix: format!("datalab services up {kind}"),
            });
        };
        if self.quick_ok(&r) {
            return Ok(r.endpoint);
        }
        let what = match r.provider {
            ProviderKind::Native => {
                let pids: Vec<String> = r
                    .nodes
                    .iter()
                    .filter_map(|n| n.pid.map(|p| p.to_string()))
                    .collect();
                format!(
                    "the native {kind} server (pid {}) is no longer running: it was stopped, killed or crashed",
                    pids.join(", ")
                )
            }
            p => format!("the {p} {kind} no longer accepts connections"),
        };
        Err(ServiceError::Unreachable {
            kind,
            address: r.endpoint.address,
            reason: format!(
                "{what}; see `datalab services logs {kind}`, then restart it with `datalab services up {kind}`"
            ),
        })
    }

    /// Per-kind status for `services status` and the TUI status line: a
    /// protocol ping of every recorded or configured service.
    pub async fn status(&self) -> Vec<ServiceStatus> {
        let mut out = Vec::new();
        for kind in ServiceKind::ALL {
            let (endpoint, health) = match self.check(kind).await {
                Ok(e) => match probe::ping(kind, &e.address, self.config.timeout).await {
                    Ok(info) => {
                        let mut e = e;
                        if e.version.is_none() {
                            e.version = info.version;
                        }
                        if e.nodes == 0 {
                            e.nodes = info.nodes;
                        }
                        let health = if info.nodes < e.nodes {
                            let noun = kinds::of(kind).node_noun();
                            format!("up ({} of {} {noun}s answering)", info.nodes, e.nodes)
                        } else {
                            "up".to_string()
                        };
                        (Some(e), health)
                    }
                    Err(err) => (Some(e), format!("unhealthy: {err}")),
                },
                Err(ServiceError::Unavailable { .. }) => (None, "down".to_string()),
                Err(err) => (
                    self.read_state(kind).map(|r| r.endpoint),
                    format!("down: {err}"),
                ),
            };
            out.push(ServiceStatus {
                kind,
                connect_hint: (endpoint.as_ref()).map(|e| kinds::of(kind).connect_hint(&e.address)),
                endpoint,
                health,
            });
        }
        out
    }

    /// Stop the services datalab started (all kinds when `kinds` is empty),
    /// and kill leftovers of crashed runs found through pid files. External
    /// services are never stopped. Returns what was stopped.
    pub async fn down(&self, kinds: &[ServiceKind]) -> Result<Vec<String>, ServiceError> {
        let kinds: Vec<ServiceKind> = if kinds.is_empty() {
            ServiceKind::ALL.to_vec()
        } else {
            kinds.to_vec()
        };
        // Kinds stop concurrently (Cassandra's drain and a 3-broker Kafka
        // shutdown take seconds each).
        let results = futures::future::join_all(kinds.iter().map(|&kind| async move {
            let mut stopped = Vec::new();
            if let Some(r) = self.read_state(kind) {
                if r.provider != ProviderKind::External {
                    let p = self.provider(r.provider)?;
                    p.stop(&r).await?;
                    stopped.push(format!("{kind} ({}, {})", r.provider, r.endpoint.address));
                }
                self.clear_state(kind);
            }
            for pid in native::kill_leftovers(&self.config.data_dir, Some(kind)).await {
                stopped.push(format!("{kind} leftover process {pid}"));
            }
            Ok::<_, ServiceError>(stopped)
        }))
        .await;
        let mut stopped = Vec::new();
        for r in results {
            stopped.extend(r?);
        }
        Ok(stopped)
    }

    /// Drop this namespace's lab data: topics and consumer groups, databases,
    /// keyspaces (every non-system one with the empty namespace). No restart.
    pub async fn reset(
        &self,
        kind: Option<ServiceKind>,
        ns: &Namespace,
    ) -> Result<ResetReport, ServiceError> {
        let kinds: Vec<ServiceKind> = match kind {
            Some(k) => vec![k],
            None => ServiceKind::ALL.to_vec(),
        };
        let mut report = ResetReport::default();
        for k in kinds {
            match self.check(k).await {
                Ok(e) => {
                    let dropped = probe::reset(k, &e.address, ns, self.config.timeout).await?;
                    report.dropped.extend(dropped);
                }
                Err(_) => report.not_running.push(k),
            }
        }
        Ok(report)
    }

    /// Fetch what the chosen provider needs (jars, binaries), so the course
    /// then works offline.
    pub async fn install(
        &self,
        kinds: &[ServiceKind],
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        let kinds: Vec<ServiceKind> = if kinds.is_empty() {
            ServiceKind::ALL.to_vec()
        } else {
            kinds.to_vec()
        };
        let want = self.requested_provider()?;
        for kind in kinds {
            let def = self.definition(kind)?;
            let provider = self.provider(match want {
                ProviderKind::Auto => self.resolve_auto(&def).await,
                p => p,
            })?;
            provider.install(&def, &self.dirs(kind), progress).await?;
            progress(&format!(
                "{kind}: ready to run offline ({})",
                provider.kind()
            ));
        }
        Ok(())
    }

    /// The last `tail` lines of a service's logs.
    pub async fn logs(&self, kind: ServiceKind, tail: usize) -> Result<String, ServiceError> {
        if let Some(r) = self.read_state(kind) {
            return self.provider(r.provider)?.logs(&r, tail).await;
        }
        // Not running: show what the last native run left behind.
        let logs = self.dirs(kind).logs;
        let mut out = String::new();
        if let Ok(entries) = fs::read_dir(&logs) {
            let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            files.sort();
            for f in files {
                let text = process::tail_file(&f, tail);
                if !text.trim().is_empty() {
                    out.push_str(&format!("==> {} <==\n{text}\n", f.display()));
                }
            }
        }
        if out.is_empty() {
            return Err(ServiceError::Unavailable {
                kind,
                reason: format!("{kind} is not running and has no logs yet"),
                fix: format!("datalab services up {kind}"),
            });
        }
        Ok(out)
    }

    /// Process ids of a running native service's nodes (for RSS figures and
    /// orphan checks). Empty for other providers.
    pub fn native_pids(&self, kind: ServiceKind) -> Vec<u32> {
        self.read_state(kind)
            .filter(|r| r.provider == ProviderKind::Native)
            .map(|r| {
                r.nodes
                    .iter()
                    .filter_map(|n| native::node_pid(&r, n))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Stop one Kafka broker (by index 0..n) of a multi-broker cluster, for
    /// the replication lab's failure step; `start_kafka_broker` brings it
    /// back with its data.
    pub async fn stop_kafka_broker(&self, index: u32) -> Result<(), ServiceError> {
        self.stop_node(ServiceKind::Kafka, index).await
    }

    pub async fn start_kafka_broker(&self, index: u32) -> Result<(), ServiceError> {
        self.start_node(ServiceKind::Kafka, index).await
    }

    /// Stop node `index` (0..n) of a running multi-node service (a Kafka
    /// broker, a Cassandra node), keeping its data, for the labs' failure
    /// steps; [`Services::start_node`] brings it back.
    pub async fn stop_node(&self, kind: ServiceKind, index: u32) -> Result<(), ServiceError> {
        let r = self.state_of(kind)?;
        self.provider(r.provider)?.stop_node(&r, index).await
    }

    /// Start a node stopped by [`Services::stop_node`] again, with its data,
    /// and wait until every node answers (a no-op when it runs).
    pub async fn start_node(&self, kind: ServiceKind, index: u32) -> Result<(), ServiceError> {
        let r = self.state_of(kind)?;
        self.provider(r.provider)?.start_node(&r, index).await
    }

    fn state_of(&self, kind: ServiceKind) -> Result<Running, ServiceError> {
        self.read_state(kind)
            .ok_or_else(|| ServiceError::Unavailable {
                kind,
                reason: format!("{} is not running", kinds::of(kind).title()),
                fix: format!("datalab services up {kind}"),
            })
    }
}
