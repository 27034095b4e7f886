//! The native provider: real servers as local processes, no Docker. What
//! each kind runs (its command line, configuration and storage) comes from
//! its file in `kinds/`; this module spawns the nodes, waits until they
//! answer, finds them again and stops them.
//!
//! Layout under the data dir, per kind: `data/` (wiped on a fresh start),
//! `logs/node-<i>.log` (server log) and `node-<i>.out` (stdout/stderr),
//! `run/` (generated configs, JVM argument files, pid files). Downloads live
//! in the cache: `m2/` (Maven) and `native/<kind>-<version>/` (generated pom,
//! resolved classpath), plus whatever a kind builds there.

pub(crate) mod jvm;

use crate::definition::ServiceDef;
use crate::kinds::{self, PingInfo};
use crate::probe;
use crate::process::{self, alive, read_pid, tail_file, tcp_open};
use crate::provider::{NodeHandle, ProgressFn, Provider, Running, ServiceDirs};
use crate::{Endpoint, ProviderKind, ServiceError, ServiceKind, UpOptions};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub(crate) struct NativeProvider {
    /// Per-call client timeout for readiness probes.
    pub(crate) timeout: Duration,
}

pub(crate) fn other(msg: impl Into<String>) -> ServiceError {
    ServiceError::Other(msg.into())
}

pub(crate) fn io_err(what: &str, path: &Path, e: std::io::Error) -> ServiceError {
    other(format!("{what} {}: {e}", path.display()))
}

/// The directory holding everything of one kind (`<data_dir>/<kind>`); its
/// path marks our processes' command lines.
fn base_dir(dirs: &ServiceDirs) -> PathBuf {
    dirs.data
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dirs.data.clone())
}

pub(crate) fn run_dir(dirs: &ServiceDirs) -> PathBuf {
    base_dir(dirs).join("run")
}

fn marker_of(running: &Running, node: &NodeHandle) -> String {
    node.extra
        .get("marker")
        .cloned()
        .or_else(|| running.extra.get("marker").cloned())
        .unwrap_or_default()
}

fn pid_file(run: &Path, index: u32) -> PathBuf {
    run.join(format!("node-{index}.pid"))
}

/// The live pid of a node: its pid file first (it is rewritten when a node
/// restarts), then the pid recorded at start.
pub(crate) fn node_pid(running: &Running, node: &NodeHandle) -> Option<u32> {
    let marker = marker_of(running, node);
    let from_file = node
        .extra
        .get("pid_file")
        .and_then(|p| read_pid(Path::new(p)));
    from_file
        .into_iter()
        .chain(node.pid)
        .find(|&pid| alive(pid, &marker))
}

/// Quick health: some node has a live process and accepts TCP connections.
pub(crate) fn quick_alive(running: &Running) -> bool {
    running
        .nodes
        .iter()
        .any(|n| node_pid(running, n).is_some() && tcp_open(&n.address, Duration::from_millis(300)))
}

// ---------------------------------------------------------------------------
// Starting

/// Wipe and recreate a kind's data and run dirs (a fresh start).
pub(crate) fn fresh_dirs(dirs: &ServiceDirs) -> Result<(), ServiceError> {
    let run = run_dir(dirs);
    for d in [&dirs.data, &run, &dirs.logs] {
        if d.exists() {
            fs::remove_dir_all(d).map_err(|e| io_err("cannot clear", d, e))?;
        }
        fs::create_dir_all(d).map_err(|e| io_err("cannot create", d, e))?;
    }
    // A shared cluster's run files hold its admin password.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&run, fs::Permissions::from_mode(0o700))
        .map_err(|e| io_err("cannot restrict", &run, e))?;
    Ok(())
}

pub(crate) fn write(path: &Path, text: &str) -> Result<(), ServiceError> {
    process::write_atomic(path, text.as_bytes()).map_err(|e| io_err("cannot write", path, e))
}

pub(crate) fn free_port() -> Result<u16, ServiceError> {
    process::free_port().map_err(|e| other(format!("no free port on 127.0.0.1: {e}")))
}

/// What a kind prepared for a native start: one command per node.
pub(crate) struct Prepared {
    pub(crate) commands: Vec<NodeCommand>,
    /// `host:port` of every node, in node order.
    pub(crate) addresses: Vec<String>,
    pub(crate) version: String,
    pub(crate) flavor: String,
}

/// A program and its arguments.
pub(crate) struct NodeCommand {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
}

impl NodeCommand {
    pub(crate) fn new(program: PathBuf, args: Vec<String>) -> Self {
        NodeCommand { program, args }
    }
}

/// Spawn node `index` of a prepared service.
fn spawn_node(
    program: &Path,
    args: &[String],
    dirs: &ServiceDirs,
    index: u32,
) -> Result<u32, ServiceError> {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(base_dir(dirs));
    let out = dirs.logs.join(format!("node-{index}.out"));
    let pid_path = pid_file(&run_dir(dirs), index);
    process::spawn_detached(cmd, &out, &pid_path)
        .map_err(|e| other(format!("cannot start {}: {e}", program.display())))
}

/// What went wrong with a node that exited: its last log lines.
fn died(kind: ServiceKind, logs: &Path, index: u32) -> ServiceError {
    let mut text = tail_file(&logs.join(format!("node-{index}.out")), 8);
    let log = tail_file(&logs.join(format!("node-{index}.log")), 8);
    if text.trim().is_empty() || log.contains("ERROR") {
        text = log;
    }
    ServiceError::Other(format!(
        "native {kind} (node {index}) exited while starting; last log lines:\n{}\n(full logs: {})",
        text.trim_end(),
        logs.display()
    ))
}

/// Wait until every node accepts TCP, then until the protocol answers with
/// every node (Kafka: all brokers registered). With `only`, a node just
/// restarted while others may still be stopped (a failure step restarts
/// them one by one): wait for that node and for as many nodes as run.
async fn wait_ready(
    running: &Running,
    dirs: &ServiceDirs,
    deadline: Instant,
    timeout: Duration,
    only: Option<u32>,
) -> Result<PingInfo, ServiceError> {
    let kind = running.kind;
    let watched: Vec<&NodeHandle> = (running.nodes.iter())
        .filter(|n| only.is_none_or(|i| n.index == i || node_pid(running, n).is_some()))
        .collect();
    let want = watched.len() as u32;
    let mut last_err = String::from("no answer yet");
    loop {
        if let Some(n) = watched.iter().find(|n| node_pid(running, n).is_none()) {
            return Err(died(kind, &dirs.logs, n.index));
        }
        if Instant::now() > deadline {
            return Err(ServiceError::Other(format!(
                "native {kind} did not become ready in time ({last_err}); logs: {}",
                dirs.logs.display()
            )));
        }
        let all_open = (watched.iter()).all(|n| tcp_open(&n.address, Duration::from_millis(200)));
        if all_open {
            match probe::ping(kind, &running.endpoint.address, timeout).await {
                Ok(info) if info.nodes >= want => return Ok(info),
                Ok(info) => {
                    let noun = kinds::of(kind).node_noun();
                    last_err = format!("{} of {want} {noun}s registered", info.nodes);
                }
                Err(e) => last_err = e.to_string(),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Spawn every node of a prepared start.
fn spawn_all(prepared: &Prepared, dirs: &ServiceDirs) -> Result<Vec<NodeHandle>, ServiceError> {
    let marker = base_dir(dirs).display().to_string();
    let run = run_dir(dirs);
    let mut nodes = Vec::new();
    for (i, (cmd, address)) in prepared
        .commands
        .iter()
        .zip(&prepared.addresses)
        .enumerate()
    {
        let index = i as u32;
        let pid = spawn_node(&cmd.program, &cmd.args, dirs, index)?;
        let extra = BTreeMap::from([
            ("program".to_string(), cmd.program.display().to_string()),
            (
                "args".into(),
                serde_json::to_string(&cmd.args).unwrap_or_default(),
            ),
            (
                "pid_file".into(),
                pid_file(&run, index).display().to_string(),
            ),
            ("marker".into(), marker.clone()),
        ]);
        nodes.push(NodeHandle {
            index,
            address: address.clone(),
            pid: Some(pid),
            data_dir: Some(dirs.data.join(format!("node-{i}"))),
            container_id: None,
            extra,
        });
    }
    Ok(nodes)
}

/// The record of a native start whose nodes were just spawned.
fn running_of(
    kind: ServiceKind,
    prepared: &Prepared,
    nodes: Vec<NodeHandle>,
    dirs: &ServiceDirs,
) -> Running {
    let address = kinds::of(kind).address(&prepared.addresses);
    Running {
        kind,
        provider: ProviderKind::Native,
        endpoint: Endpoint {
            kind,
            provider: ProviderKind::Native,
            address,
            nodes: nodes.len() as u32,
            version: Some(prepared.version.clone()),
            flavor: Some(prepared.flavor.clone()),
            started_at: Some(process::now_secs()),
        },
        nodes,
        extra: BTreeMap::from([
            ("marker".to_string(), base_dir(dirs).display().to_string()),
            ("logs".to_string(), dirs.logs.display().to_string()),
        ]),
    }
}

/// Stop one node (its whole process group) and forget its pid file.
async fn stop_one(running: &Running, n: &NodeHandle) {
    let marker = marker_of(running, n);
    if let Some(pid) = node_pid(running, n) {
        process::stop(pid, &marker, Duration::from_secs(30)).await;
    }
    if let Some(p) = n.extra.get("pid_file") {
        let _ = fs::remove_file(p);
    }
}

#[async_trait::async_trait]
impl Provider for NativeProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Native
    }

    async fn available(&self) -> Result<(), ServiceError> {
        Ok(())
    }

    async fn install(
        &self,
        def: &ServiceDef,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        kinds::of(def.kind)
            .native_install(def, &dirs.cache, progress)
            .await
    }

    async fn start(
        &self,
        def: &ServiceDef,
        opts: &UpOptions,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<Running, ServiceError> {
        let kind = kinds::of(def.kind);
        let prepared = kind.native_prepare(def, opts, dirs, progress).await?;
        let address = kind.address(&prepared.addresses);
        progress(&format!("starting {} on {address}", prepared.flavor));
        let nodes = spawn_all(&prepared, dirs)?;
        let mut running = running_of(def.kind, &prepared, nodes, dirs);
        progress(&format!("waiting for {} to answer", def.kind));
        let deadline = Instant::now() + Duration::from_secs(def.ready.timeout);
        match wait_ready(&running, dirs, deadline, self.timeout, None).await {
            Ok(info) => {
                kind.describe(&mut running.endpoint, &info);
                let address = running.endpoint.address.clone();
                if let Err(e) = kind.native_ready(&address, opts, self.timeout).await {
                    let _ = self.stop(&running).await;
                    return Err(e);
                }
                Ok(running)
            }
            Err(e) => {
                let _ = self.stop(&running).await;
                Err(e)
            }
        }
    }

    async fn stop(&self, running: &Running) -> Result<(), ServiceError> {
        futures::future::join_all(running.nodes.iter().map(|n| stop_one(running, n))).await;
        // Whatever the servers started in sessions of their own (YARN's
        // task JVMs) and left behind; only once every node is down, since
        // the nodes of one service share its directory.
        let markers: std::collections::BTreeSet<String> = running
            .nodes
            .iter()
            .map(|n| marker_of(running, n))
            .collect();
        for m in markers {
            process::stop_marked(&m, Duration::from_secs(10)).await;
        }
        Ok(())
    }

    async fn stop_node(&self, running: &Running, index: u32) -> Result<(), ServiceError> {
        stop_one(running, running.node(index)?).await;
        Ok(())
    }

    async fn start_node(&self, running: &Running, index: u32) -> Result<(), ServiceError> {
        let n = running.node(index)?;
        if node_pid(running, n).is_some() {
            return Ok(());
        }
        let program = n.extra.get("program").ok_or_else(|| {
            other(format!(
                "{} node {index}: no recorded command",
                running.kind
            ))
        })?;
        let args: Vec<String> = (n.extra.get("args"))
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        let base = PathBuf::from(marker_of(running, n));
        let dirs = ServiceDirs {
            data: base.join("data"),
            logs: base.join("logs"),
            cache: PathBuf::new(),
        };
        spawn_node(Path::new(program), &args, &dirs, index)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        wait_ready(running, &dirs, deadline, self.timeout, Some(index))
            .await
            .map(|_| ())
    }

    async fn logs(&self, running: &Running, tail: usize) -> Result<String, ServiceError> {
        let logs = (running.extra.get("logs"))
            .map(PathBuf::from)
            .ok_or_else(|| other("no log directory recorded"))?;
        let mut out = String::new();
        for n in &running.nodes {
            for name in [
                format!("node-{}.log", n.index),
                format!("node-{}.out", n.index),
            ] {
                let path = logs.join(&name);
                let text = tail_file(&path, tail);
                if !text.trim().is_empty() {
                    out.push_str(&format!("==> {} <==\n{text}\n", path.display()));
                }
            }
        }
        Ok(out)
    }
}

/// Kill leftovers of crashed runs: every pid file under `data_dir` (all
/// kinds, or one) whose process still runs one of our servers.
pub(crate) async fn kill_leftovers(data_dir: &Path, kind: Option<ServiceKind>) -> Vec<u32> {
    let mut killed = Vec::new();
    for pf in process::pid_files(data_dir) {
        // <data_dir>/<kind>/run/node-i.pid
        let Some(base) = pf.parent().and_then(Path::parent) else {
            continue;
        };
        if let Some(k) = kind
            && base.file_name().is_none_or(|n| n != k.name())
        {
            continue;
        }
        let marker = base.display().to_string();
        if let Some(pid) = read_pid(&pf)
            && alive(pid, &marker)
        {
            process::stop(pid, &marker, Duration::from_secs(30)).await;
            killed.push(pid);
        }
        let _ = fs::remove_file(&pf);
    }
    killed
}
