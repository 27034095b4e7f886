//! The docker provider: Kafka, MongoDB, Cassandra and Hadoop as containers,
//! started through testcontainers 0.27 (`GenericImage` + `ImageExt`,
//! `AsyncRunner::start`) and managed afterwards through the Docker API
//! (testcontainers' `bollard` re-export).
//!
//! - Images: `DATALAB_IMAGE_<KIND>` when set, else the image
//!   `datalab services build-images` recorded (`<data dir>/docker-images.json`,
//!   then `<cache>/docker/images.json`), else the official one
//!   (`containers/<kind>.yaml` `image.official`). An official image that is
//!   not on this machine is replaced by the locally built one when that
//!   exists; nothing is pulled when the image is present.
//! - Containers outlive the datalab process (testcontainers' reusable
//!   containers: dropping the handle does not remove them), publish their
//!   ports on 127.0.0.1 only and carry the labels `datalab=1`,
//!   `datalab.kind`, `datalab.home` (the data dir) and `datalab.node`.
//!   Leftovers of a crashed run (same home, or a home that no longer exists)
//!   are found by label and removed before a start.
//! - Kafka with N brokers: N containers on one user-defined network, a KRaft
//!   quorum across them (controller and inter-broker listeners on the
//!   network), each advertising `127.0.0.1:<its host port>` to clients.
//! - Cassandra with N > 1 nodes: N containers on one user-defined network,
//!   node 0 started first and the seed of the others. Drivers learn the
//!   nodes from `system.peers` (addresses, no ports), so clients dial the
//!   containers' addresses on the network (port 9042), which the host routes
//!   to; a stopped node keeps its address when it starts again
//!   ([`network::pin_address`]). One node keeps its published port.
//! - Hadoop: one container on a network of its own whose servers (NameNode,
//!   DataNode, ResourceManager, JobHistory) advertise its address there;
//!   clients dial that address, and the kind writes Hadoop's client
//!   configuration for the host once the container answers
//!   ([`kinds::Kind::docker_ready`]).
//!
//! The locally built images (`containers/docker/<kind>/`) take the official
//! images' ports and environment, so both run through the same code here.

mod build;
mod containers;
mod images;
mod network;

pub use build::{BuiltImage, build_image};

use crate::definition::ServiceDef;
use crate::kinds::{self, DockerNode, PingInfo, Wiring};
use crate::provider::{NodeHandle, ProgressFn, Provider, Running, ServiceDirs};
use crate::{
    Endpoint, ProviderKind, ServiceError, ServiceKind, ServicesConfig, UpOptions, probe, process,
};
use containers::{
    NodeSpec, container_logs, id_by_name, remove_container, remove_leftovers, start_node_container,
};
use images::resolve_image;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testcontainers::bollard::query_parameters::StopContainerOptions;
use testcontainers::bollard::{self, Docker};

/// The command that makes a Docker daemon answer on these machines.
pub(crate) const SETUP_FIX: &str = "bash containers/docker/setup.sh (as root: installs Debian's docker.io, starts dockerd and builds the base image), or use --provider native";

/// The base image `setup.sh` builds with debootstrap + `docker import`.
pub(crate) const BASE_IMAGE: &str = "datalab/debian:bookworm";

const LABEL: &str = "datalab";
const LABEL_KIND: &str = "datalab.kind";
const LABEL_HOME: &str = "datalab.home";
const LABEL_NODE: &str = "datalab.node";

/// Where `DOCKER_HOST` (or the default socket) points, for messages.
fn docker_host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into())
}

/// A one-line reason from a bollard error (never a Debug dump).
fn short(e: &bollard::errors::Error) -> String {
    use bollard::errors::Error as E;
    match e {
        E::SocketNotFoundError(p) => format!("no socket at {p}"),
        E::DockerResponseServerError {
            status_code,
            message,
        } => format!("the daemon answered {status_code}: {message}"),
        other => {
            let text = other.to_string();
            if text.contains("Connect") || text.contains("connect") {
                format!("cannot connect ({text})")
            } else {
                text
            }
        }
    }
}

fn other(msg: impl Into<String>) -> ServiceError {
    ServiceError::Other(msg.into())
}

/// The daemon's client, or the clear "no daemon" error.
async fn connect() -> Result<Docker, String> {
    let docker = Docker::connect_with_defaults().map_err(|e| {
        format!(
            "no Docker daemon answers at {}: {}",
            docker_host(),
            short(&e)
        )
    })?;
    match tokio::time::timeout(Duration::from_secs(3), docker.ping()).await {
        Ok(Ok(_)) => Ok(docker),
        Ok(Err(e)) => Err(format!(
            "no Docker daemon answers at {}: {}",
            docker_host(),
            short(&e)
        )),
        Err(_) => Err(format!(
            "the Docker daemon at {} did not answer within 3 s",
            docker_host()
        )),
    }
}

async fn connect_for(kind: ServiceKind) -> Result<Docker, ServiceError> {
    connect().await.map_err(|reason| ServiceError::Unavailable {
        kind,
        reason,
        fix: SETUP_FIX.into(),
    })
}

/// Can the docker provider run `def` without a build first: it has an
/// official image (pulled if absent) or its image is on this machine. A kind
/// without an official image (Hadoop) needs `services build-images` first,
/// so `auto` runs it natively until then.
pub(crate) async fn can_run(def: &ServiceDef, data_dir: &Path, cache_dir: &Path) -> bool {
    let Some(images) = def.image.as_ref() else {
        return false;
    };
    if images.official.is_some() {
        return true;
    }
    let Ok(docker) = connect().await else {
        return false;
    };
    let (image, _) = images::chosen_image(def, data_dir, cache_dir);
    images::image_present(&docker, &image).await
}

/// FNV-1a: a short stable tag for a data dir (container and network names).
fn home_tag(home: &Path) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in home.to_string_lossy().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", h as u32)
}

/// Wait until `address` answers `kind`'s protocol with `nodes` nodes.
async fn wait_protocol(
    kind: ServiceKind,
    address: &str,
    nodes: u32,
    deadline: Instant,
    timeout: Duration,
) -> Result<PingInfo, ServiceError> {
    loop {
        let last = match probe::ping(kind, address, timeout).await {
            Ok(info) if info.nodes >= nodes => return Ok(info),
            Ok(info) => {
                let noun = kinds::of(kind).node_noun();
                format!("{} of {nodes} {noun}s registered", info.nodes)
            }
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            return Err(ServiceError::Unreachable {
                kind,
                address: address.to_string(),
                reason: format!("not ready over its protocol in time: {last}"),
            });
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Node `index` of a docker service and its container id.
fn container_of(running: &Running, index: u32) -> Result<(&NodeHandle, &str), ServiceError> {
    let node = running.node(index)?;
    let id = (node.container_id.as_deref())
        .ok_or_else(|| other(format!("{} node {index} has no container id", running.kind)))?;
    Ok((node, id))
}

fn host(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// The docker provider (see the module docs).
pub(crate) struct DockerProvider {
    data_dir: PathBuf,
    cache_dir: PathBuf,
    timeout: Duration,
}

/// The containers one start runs.
struct Plan {
    image: String,
    names: Vec<String>,
    host_ports: Vec<u16>,
    wiring: Wiring,
    network: Option<String>,
}

impl DockerProvider {
    pub(crate) fn new(config: &ServicesConfig) -> Self {
        DockerProvider {
            data_dir: config.data_dir.clone(),
            cache_dir: config.cache_dir.clone(),
            timeout: config.timeout,
        }
    }

    fn home(&self) -> String {
        self.data_dir.to_string_lossy().into_owned()
    }

    fn labels(&self, kind: ServiceKind, index: u32) -> BTreeMap<String, String> {
        BTreeMap::from([
            (LABEL.to_string(), "1".to_string()),
            (LABEL_KIND.to_string(), kind.name().to_string()),
            (LABEL_HOME.to_string(), self.home()),
            (LABEL_NODE.to_string(), index.to_string()),
        ])
    }

    fn name(&self, kind: ServiceKind, index: u32) -> String {
        format!(
            "datalab-{}-{}-{index}",
            home_tag(&self.data_dir),
            kind.name()
        )
    }

    async fn create_network(
        &self,
        docker: &Docker,
        kind: ServiceKind,
    ) -> Result<String, ServiceError> {
        let name = format!("datalab-{}-{}", home_tag(&self.data_dir), kind.name());
        network::create_network(docker, &name, kind, &self.home())
            .await
            .map_err(other)?;
        Ok(name)
    }

    /// Image, names, host ports (first: Kafka brokers advertise theirs) and
    /// network of a start of `n` nodes.
    async fn plan(
        &self,
        docker: &Docker,
        def: &ServiceDef,
        n: u32,
        progress: &ProgressFn,
    ) -> Result<Plan, ServiceError> {
        let kind = def.kind;
        let image = resolve_image(docker, def, &self.data_dir, &self.cache_dir, progress).await?;
        let host_ports = (0..n)
            .map(|_| process::free_port())
            .collect::<Result<Vec<u16>, _>>()
            .map_err(|e| other(format!("no free port on 127.0.0.1: {e}")))?;
        let names = (0..n).map(|i| self.name(kind, i)).collect();
        let wiring = kinds::of(kind).docker_wiring(n);
        let network = match wiring {
            Wiring::Published => None,
            Wiring::Named | Wiring::Seeded | Wiring::Routed => {
                Some(self.create_network(docker, kind).await?)
            }
        };
        Ok(Plan {
            image,
            names,
            host_ports,
            wiring,
            network,
        })
    }

    /// What container `index` of `plan` is started with.
    fn spec(
        &self,
        def: &ServiceDef,
        plan: &Plan,
        index: u32,
        cluster_id: &str,
        seed: Option<&str>,
    ) -> NodeSpec {
        let i = index as usize;
        let node = DockerNode {
            index,
            host_port: plan.host_ports[i],
            names: &plan.names,
            cluster_id,
            seed,
        };
        NodeSpec {
            index,
            name: plan.names[i].clone(),
            image: plan.image.clone(),
            port: def.port,
            host_port: plan.host_ports[i],
            env: kinds::of(def.kind).docker_env(def, &node),
            labels: self.labels(def.kind, index),
            network: plan.network.clone(),
            hostname: kinds::of(def.kind).docker_hostname().map(String::from),
            ready_log: def.ready.log.clone(),
            timeout: Duration::from_secs(def.ready.timeout.max(10)),
            memory_mb: def.limits.memory_mb,
        }
    }

    /// Start every container of `plan` at once (a KRaft quorum needs a
    /// majority to come up); a seeded cluster's seed first, without waiting
    /// for it to serve (the others wait for its gossip). On a failure, its
    /// last log lines and no leftovers.
    async fn start_all(
        &self,
        docker: &Docker,
        def: &ServiceDef,
        plan: &Plan,
    ) -> Result<Vec<NodeHandle>, ServiceError> {
        let cluster_id =
            process::random_cluster_id().map_err(|e| other(format!("no randomness: {e}")))?;
        let mut nodes = Vec::new();
        let mut seed = None;
        if plan.wiring == Wiring::Seeded {
            let mut spec = self.spec(def, plan, 0, &cluster_id, None);
            spec.ready_log = None;
            let node = self.start_one(docker, def, plan, spec).await?;
            seed = node.extra.get("ip").cloned();
            nodes.push(node);
        }
        let first = nodes.len() as u32;
        let specs = (first..plan.names.len() as u32)
            .map(|i| self.spec(def, plan, i, &cluster_id, seed.as_deref()));
        let results =
            futures::future::join_all(specs.map(|s| self.start_one(docker, def, plan, s))).await;
        for r in results {
            nodes.push(r?);
        }
        nodes.sort_by_key(|n| n.index);
        Ok(nodes)
    }

    /// Start one container of `plan` and describe it; clients of a seeded
    /// cluster dial its address on the network.
    async fn start_one(
        &self,
        docker: &Docker,
        def: &ServiceDef,
        plan: &Plan,
        spec: NodeSpec,
    ) -> Result<NodeHandle, ServiceError> {
        let (index, i) = (spec.index, spec.index as usize);
        let id = match start_node_container(spec).await {
            Ok(id) => id,
            Err((reason, _)) => return Err(self.failed(docker, def.kind, plan, i, reason).await),
        };
        let mut extra = BTreeMap::from([
            ("name".to_string(), plan.names[i].clone()),
            ("host_port".to_string(), plan.host_ports[i].to_string()),
            ("image".to_string(), plan.image.clone()),
        ]);
        let mut address = host(plan.host_ports[i]);
        if let Some(net) = &plan.network {
            let Some(ip) = network::address_on(docker, &id, net).await else {
                let reason = format!("it has no address on the network {net}");
                return Err(self.failed(docker, def.kind, plan, i, reason).await);
            };
            if matches!(plan.wiring, Wiring::Seeded | Wiring::Routed) {
                address = format!("{ip}:{}", def.port);
            }
            extra.insert("ip".into(), ip);
        }
        Ok(NodeHandle {
            index,
            address,
            container_id: Some(id),
            extra,
            ..Default::default()
        })
    }

    /// Containers that started but never answered: the error with each
    /// one's last log lines (why a node or broker gave up is there, and the
    /// containers are about to go), and every container of the start removed.
    async fn not_ready(
        &self,
        docker: &Docker,
        kind: ServiceKind,
        plan: &Plan,
        e: ServiceError,
    ) -> ServiceError {
        let mut logs = String::new();
        for name in &plan.names {
            let Some(id) = id_by_name(docker, name).await else {
                continue;
            };
            let tail = container_logs(docker, &id, 15).await;
            if !tail.trim().is_empty() {
                logs.push_str(&format!(
                    "\n  last log lines of {name}:\n{}",
                    tail.trim_end()
                ));
            }
        }
        remove_leftovers(docker, Some(kind), &self.home()).await;
        match e {
            ServiceError::Unreachable {
                kind,
                address,
                reason,
            } => ServiceError::Unreachable {
                kind,
                address,
                reason: format!("{reason}{logs}"),
            },
            ServiceError::Other(m) => other(format!("{m}{logs}")),
            e => e,
        }
    }

    /// A container that did not come up: its last log lines, and every
    /// container of the start removed.
    async fn failed(
        &self,
        docker: &Docker,
        kind: ServiceKind,
        plan: &Plan,
        i: usize,
        reason: String,
    ) -> ServiceError {
        let name = &plan.names[i];
        let logs = match id_by_name(docker, name).await {
            Some(id) => container_logs(docker, &id, 15).await,
            None => String::new(),
        };
        remove_leftovers(docker, Some(kind), &self.home()).await;
        let logs = match logs.trim().is_empty() {
            true => String::new(),
            false => format!("\n  last log lines:\n{}", logs.trim_end()),
        };
        other(format!(
            "the {kind} container {name} ({}) did not become ready: {reason}{logs}",
            plan.image
        ))
    }
}

#[async_trait::async_trait]
impl Provider for DockerProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Docker
    }

    async fn available(&self) -> Result<(), ServiceError> {
        connect().await.map(|_| ()).map_err(|reason| {
            other(format!(
                "the docker provider is not available: {reason}\n  fix: {SETUP_FIX}"
            ))
        })
    }

    async fn start(
        &self,
        def: &ServiceDef,
        opts: &UpOptions,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<Running, ServiceError> {
        let (kind, k) = (def.kind, kinds::of(def.kind));
        let started = Instant::now();
        let docker = connect_for(kind).await?;
        let removed = remove_leftovers(&docker, Some(kind), &self.home()).await;
        if removed > 0 {
            progress(&format!(
                "removed {removed} leftover {kind} container(s) of an earlier run"
            ));
        }
        let n = k.nodes(opts);
        let plan = self.plan(&docker, def, n, progress).await?;
        let s = if n == 1 { "" } else { "s" };
        let (title, image) = (k.title(), &plan.image);
        progress(&format!("starting {n} {title} container{s} from {image}"));
        let nodes = self.start_all(&docker, def, &plan).await?;
        let hosts: Vec<String> = nodes.iter().map(|n| n.address.clone()).collect();
        let address = k.address(&hosts);
        progress(&format!("waiting for {title} to answer at {address}"));
        let deadline = started + Duration::from_secs(def.ready.timeout.max(10));
        let ready = async {
            let info = wait_protocol(kind, &address, n, deadline, self.timeout).await?;
            k.docker_ready(&address, dirs).map(|_| info)
        };
        let info = match ready.await {
            Ok(info) => info,
            Err(e) => return Err(self.not_ready(&docker, kind, &plan, e).await),
        };
        let flavor = match k.docker_flavor(&info, n) {
            Some(f) => format!("{f} (docker image {image})"),
            None => format!("docker image {image}"),
        };
        let mut extra = BTreeMap::from([("image".to_string(), image.clone())]);
        if let Some(net) = plan.network {
            extra.insert("network".into(), net);
        }
        Ok(Running {
            kind,
            provider: ProviderKind::Docker,
            endpoint: Endpoint {
                kind,
                provider: ProviderKind::Docker,
                address,
                nodes: n,
                version: info.version.or_else(|| Some(def.version.clone())),
                flavor: Some(flavor),
                started_at: Some(process::now_secs()),
            },
            nodes,
            extra,
        })
    }

    async fn stop(&self, running: &Running) -> Result<(), ServiceError> {
        let Ok(docker) = connect().await else {
            // No daemon: its containers are gone with it.
            return Ok(());
        };
        for node in &running.nodes {
            if let Some(id) = &node.container_id {
                remove_container(&docker, id).await;
            }
        }
        remove_leftovers(&docker, Some(running.kind), &self.home()).await;
        if let Some(net) = running.extra.get("network") {
            let _ = docker.remove_network(net).await;
        }
        Ok(())
    }

    async fn stop_node(&self, running: &Running, index: u32) -> Result<(), ServiceError> {
        let (node, id) = container_of(running, index)?;
        let docker = connect_for(running.kind).await?;
        let opts = StopContainerOptions {
            t: Some(10),
            ..Default::default()
        };
        docker.stop_container(id, Some(opts)).await.map_err(|e| {
            other(format!(
                "cannot stop {} node {index} (container {id}): {}",
                running.kind,
                short(&e)
            ))
        })?;
        // Docker would hand the address out again at the next start.
        match (running.extra.get("network"), node.extra.get("ip")) {
            (Some(net), Some(ip)) => network::pin_address(&docker, id, net, ip)
                .await
                .map_err(other),
            _ => Ok(()),
        }
    }

    async fn start_node(&self, running: &Running, index: u32) -> Result<(), ServiceError> {
        let (node, id) = container_of(running, index)?;
        let docker = connect_for(running.kind).await?;
        docker.start_container(id, None).await.map_err(|e| {
            other(format!(
                "cannot start {} node {index} (container {id}): {}",
                running.kind,
                short(&e)
            ))
        })?;
        // The node's own address: its published port, or its address on a
        // seeded cluster's network.
        let address = kinds::of(running.kind).address(std::slice::from_ref(&node.address));
        let deadline = Instant::now() + Duration::from_secs(120);
        wait_protocol(running.kind, &address, 1, deadline, self.timeout)
            .await
            .map(|_| ())
    }

    async fn logs(&self, running: &Running, tail: usize) -> Result<String, ServiceError> {
        let docker = connect_for(running.kind).await?;
        let mut out = String::new();
        for node in &running.nodes {
            if let Some(id) = &node.container_id {
                let name = node
                    .extra
                    .get("name")
                    .cloned()
                    .unwrap_or_else(|| id.clone());
                out.push_str(&format!(
                    "==> {} node {} ({name}) <==\n",
                    running.kind, node.index
                ));
                out.push_str(&container_logs(&docker, id, tail).await);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        Ok(out)
    }

    async fn install(
        &self,
        def: &ServiceDef,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        let _ = dirs;
        let docker = connect_for(def.kind).await?;
        resolve_image(&docker, def, &self.data_dir, &self.cache_dir, progress)
            .await
            .map(|_| ())
    }
}
