//! The docker provider: Kafka, MongoDB and Cassandra as containers, started
//! through testcontainers 0.27 (`GenericImage` + `ImageExt`,
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
//!
//! The locally built images (`containers/docker/<kind>/`) take the official
//! images' ports and environment, so both run through the same code here.

use super::definition::ServiceDef;
use super::provider::{NodeHandle, ProgressFn, Provider, Running, ServiceDirs};
use super::{
    Endpoint, ProviderKind, ServiceError, ServiceKind, ServicesConfig, UpOptions, probe, process,
};
use datalab_content::Content;
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testcontainers::bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, LogsOptions, RemoveContainerOptions,
    StopContainerOptions,
};
use testcontainers::bollard::{self, Docker};
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt, ReuseDirective};

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

/// FNV-1a: a short stable tag for a data dir (container and network names).
fn home_tag(home: &Path) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in home.to_string_lossy().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", h as u32)
}

fn env_image_var(kind: ServiceKind) -> String {
    format!("DATALAB_IMAGE_{}", kind.name().to_uppercase())
}

/// `<data dir>/docker-images.json`: what `services build-images` recorded.
pub(crate) fn recorded_images_path(data_dir: &Path) -> PathBuf {
    data_dir.join("docker-images.json")
}

/// `<cache>/docker/images.json`: the same record, shared by every home on
/// this machine (the images live in the machine's daemon, like the cache).
pub(crate) fn shared_images_path(cache_dir: &Path) -> PathBuf {
    cache_dir.join("docker").join("images.json")
}

fn read_record(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Record `image` as the one the docker provider uses for `kind`.
pub(crate) fn record_image(
    data_dir: &Path,
    cache_dir: &Path,
    kind: ServiceKind,
    image: &str,
) -> std::io::Result<()> {
    for path in [
        recorded_images_path(data_dir),
        shared_images_path(cache_dir),
    ] {
        let mut map = read_record(&path);
        map.insert(kind.name().to_string(), image.to_string());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec_pretty(&map).map_err(std::io::Error::other)?;
        process::write_atomic(&path, &json)?;
    }
    Ok(())
}

/// Which image serves `kind`, and why (for messages).
pub(crate) fn chosen_image(
    def: &ServiceDef,
    data_dir: &Path,
    cache_dir: &Path,
) -> (String, String) {
    let var = env_image_var(def.kind);
    if let Ok(img) = std::env::var(&var)
        && !img.trim().is_empty()
    {
        return (img.trim().to_string(), format!("from {var}"));
    }
    for path in [
        recorded_images_path(data_dir),
        shared_images_path(cache_dir),
    ] {
        if let Some(img) = read_record(&path).get(def.kind.name()) {
            return (img.clone(), format!("recorded in {}", path.display()));
        }
    }
    (def.image.official.clone(), "the official image".into())
}

fn split_image(image: &str) -> (String, String) {
    // The tag is after the last ':' unless that ':' belongs to a registry port.
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    }
}

async fn image_present(docker: &Docker, image: &str) -> bool {
    docker.inspect_image(image).await.is_ok()
}

/// Try to pull `image` (a registry may be reachable elsewhere); bounded.
async fn try_pull(docker: &Docker, image: &str) -> Result<(), String> {
    let (repo, tag) = split_image(image);
    let opts = bollard::query_parameters::CreateImageOptions {
        from_image: Some(repo),
        tag: Some(tag),
        ..Default::default()
    };
    let pull = async {
        let mut stream = docker.create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            item.map_err(|e| short(&e))?;
        }
        Ok::<(), String>(())
    };
    match tokio::time::timeout(Duration::from_secs(120), pull).await {
        Ok(r) => r,
        Err(_) => Err("the pull did not finish within 2 minutes".into()),
    }
}

/// The image to run for `def`: present locally, else pulled, else a clear
/// error naming `datalab services build-images`.
async fn resolve_image(
    docker: &Docker,
    def: &ServiceDef,
    data_dir: &Path,
    cache_dir: &Path,
    progress: &ProgressFn,
) -> Result<String, ServiceError> {
    let (image, why) = chosen_image(def, data_dir, cache_dir);
    if image_present(docker, &image).await {
        return Ok(image);
    }
    if image == def.image.official && image_present(docker, &def.image.local).await {
        progress(&format!(
            "{} is not on this machine; using the locally built {}",
            image, def.image.local
        ));
        return Ok(def.image.local.clone());
    }
    progress(&format!("pulling {image} ({why})"));
    match try_pull(docker, &image).await {
        Ok(()) => Ok(image),
        Err(reason) => Err(ServiceError::Unavailable {
            kind: def.kind,
            reason: format!(
                "the image {image} ({why}) is not on this machine and cannot be pulled: {reason}"
            ),
            fix: format!(
                "datalab services build-images {} (builds it from containers/docker/ with no registry)",
                def.kind
            ),
        }),
    }
}

/// Last `tail` log lines of a container (stdout and stderr).
async fn container_logs(docker: &Docker, id: &str, tail: usize) -> String {
    let opts = LogsOptions {
        stdout: true,
        stderr: true,
        tail: tail.to_string(),
        ..Default::default()
    };
    let mut stream = docker.logs(id, Some(opts));
    let mut out = String::new();
    let collect = async {
        while let Some(Ok(chunk)) = stream.next().await {
            out.push_str(&chunk.to_string());
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), collect).await;
    out
}

async fn remove_container(docker: &Docker, id: &str) {
    let opts = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    let _ = docker.remove_container(id, Some(opts)).await;
}

fn label_filter(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    let mut f = HashMap::new();
    f.insert(
        "label".to_string(),
        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    );
    f
}

/// Remove datalab containers (and networks) of `kind` that belong to
/// `home`, or to a home that no longer exists: leftovers of a crashed or
/// killed run. Containers of other live homes are left alone.
async fn remove_leftovers(docker: &Docker, kind: Option<ServiceKind>, home: &str) -> usize {
    let mut pairs = vec![(LABEL, "1")];
    let kind_name = kind.map(|k| k.name());
    if let Some(k) = &kind_name {
        pairs.push((LABEL_KIND, k));
    }
    let opts = ListContainersOptions {
        all: true,
        filters: Some(label_filter(&pairs)),
        ..Default::default()
    };
    let mut removed = 0;
    if let Ok(list) = docker.list_containers(Some(opts)).await {
        for c in list {
            let labels = c.labels.unwrap_or_default();
            let owner = labels.get(LABEL_HOME).cloned().unwrap_or_default();
            if (owner == home || owner.is_empty() || !Path::new(&owner).exists())
                && let Some(id) = c.id
            {
                remove_container(docker, &id).await;
                removed += 1;
            }
        }
    }
    let opts = ListNetworksOptions {
        filters: Some(label_filter(&pairs)),
    };
    if let Ok(nets) = docker.list_networks(Some(opts)).await {
        for n in nets {
            let owner = n
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_HOME).cloned())
                .unwrap_or_default();
            if (owner == home || !Path::new(&owner).exists())
                && let Some(id) = n.id
            {
                let _ = docker.remove_network(&id).await;
            }
        }
    }
    removed
}

/// Everything needed to start one container.
struct NodeSpec {
    index: u32,
    name: String,
    image: String,
    port: u16,
    host_port: u16,
    env: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    network: Option<String>,
    ready_log: Option<String>,
    timeout: Duration,
    memory_mb: Option<u64>,
}

/// Start one container through testcontainers and wait for its readiness
/// log line. The container is marked reusable, so it outlives the handle.
async fn start_node_container(spec: NodeSpec) -> Result<String, (String, Option<String>)> {
    let (repo, tag) = split_image(&spec.image);
    let mut image = GenericImage::new(repo, tag).with_exposed_port(spec.port.tcp());
    if let Some(log) = &spec.ready_log {
        image = image.with_wait_for(WaitFor::message_on_either_std(log.as_str()));
    }
    let memory = spec.memory_mb.map(|mb| (mb * 1024 * 1024) as i64);
    let mut req = image
        .with_container_name(spec.name.clone())
        .with_labels(spec.labels.clone())
        .with_mapped_port(spec.host_port, spec.port.tcp())
        .with_startup_timeout(spec.timeout)
        .with_reuse(ReuseDirective::Always)
        .with_host_config_modifier(move |hc| {
            // Publish on loopback only: testcontainers leaves host_ip empty
            // (all interfaces).
            if let Some(bindings) = hc.port_bindings.as_mut() {
                for list in bindings.values_mut().flatten() {
                    for b in list.iter_mut() {
                        b.host_ip = Some("127.0.0.1".into());
                    }
                }
            }
            if memory.is_some() {
                hc.memory = memory;
            }
        });
    if let Some(net) = &spec.network {
        req = req.with_network(net.clone());
    }
    for (k, v) in &spec.env {
        req = req.with_env_var(k.clone(), v.clone());
    }
    match req.start().await {
        // Dropping a reusable container's handle leaves it running.
        Ok(c) => Ok(c.id().to_string()),
        Err(e) => Err((e.to_string(), None)),
    }
}

/// Find the id of a container by name (after a failed start).
async fn id_by_name(docker: &Docker, name: &str) -> Option<String> {
    docker
        .inspect_container(name, None)
        .await
        .ok()
        .and_then(|c| c.id)
}

/// Wait until `address` answers `kind`'s protocol (and, for Kafka, shows
/// `nodes` brokers).
async fn wait_protocol(
    kind: ServiceKind,
    address: &str,
    nodes: u32,
    deadline: Instant,
    timeout: Duration,
) -> Result<probe::PingInfo, ServiceError> {
    loop {
        let last = match probe::ping(kind, address, timeout).await {
            Ok(info) if info.nodes >= nodes || kind != ServiceKind::Kafka => return Ok(info),
            Ok(info) => format!("{} of {nodes} brokers registered", info.nodes),
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

fn pretty(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::Kafka => "Kafka",
        ServiceKind::Mongodb => "MongoDB",
        ServiceKind::Cassandra => "Cassandra",
    }
}

/// The docker provider (see the module docs).
pub(crate) struct DockerProvider {
    data_dir: PathBuf,
    cache_dir: PathBuf,
    timeout: Duration,
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
        let _ = docker.remove_network(&name).await;
        let req = bollard::models::NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            labels: Some(HashMap::from([
                (LABEL.to_string(), "1".to_string()),
                (LABEL_KIND.to_string(), kind.name().to_string()),
                (LABEL_HOME.to_string(), self.home()),
            ])),
            ..Default::default()
        };
        docker.create_network(req).await.map_err(|e| {
            other(format!(
                "cannot create the docker network {name}: {}",
                short(&e)
            ))
        })?;
        Ok(name)
    }

    /// Per-node environment: the definition's, plus what this start decides
    /// (Kafka: ids, listeners, quorum; Cassandra: loopback RPC broadcast).
    fn node_env(
        &self,
        def: &ServiceDef,
        index: u32,
        n: u32,
        host_port: u16,
        names: &[String],
        cluster_id: &str,
    ) -> BTreeMap<String, String> {
        let mut env = def.env.clone();
        match def.kind {
            ServiceKind::Kafka => {
                let rf = n.min(3);
                let isr = if rf >= 3 { 2 } else { 1 };
                let voters: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| format!("{}@{name}:9093", i + 1))
                    .collect();
                let me = &names[index as usize];
                let set = |env: &mut BTreeMap<String, String>, k: &str, v: String| {
                    env.insert(k.to_string(), v);
                };
                set(&mut env, "CLUSTER_ID", cluster_id.to_string());
                set(&mut env, "KAFKA_NODE_ID", (index + 1).to_string());
                set(&mut env, "KAFKA_PROCESS_ROLES", "broker,controller".into());
                set(
                    &mut env,
                    "KAFKA_LISTENERS",
                    format!(
                        "PLAINTEXT://0.0.0.0:{},CONTROLLER://0.0.0.0:9093,INTERNAL://0.0.0.0:19092",
                        def.port
                    ),
                );
                set(
                    &mut env,
                    "KAFKA_ADVERTISED_LISTENERS",
                    format!("PLAINTEXT://127.0.0.1:{host_port},INTERNAL://{me}:19092"),
                );
                set(
                    &mut env,
                    "KAFKA_INTER_BROKER_LISTENER_NAME",
                    "INTERNAL".into(),
                );
                set(
                    &mut env,
                    "KAFKA_CONTROLLER_LISTENER_NAMES",
                    "CONTROLLER".into(),
                );
                set(
                    &mut env,
                    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                    "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT".into(),
                );
                set(&mut env, "KAFKA_CONTROLLER_QUORUM_VOTERS", voters.join(","));
                set(&mut env, "KAFKA_DEFAULT_REPLICATION_FACTOR", rf.to_string());
                set(&mut env, "KAFKA_MIN_INSYNC_REPLICAS", "1".into());
                set(
                    &mut env,
                    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
                    rf.to_string(),
                );
                set(&mut env, "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS", "10".into());
                set(
                    &mut env,
                    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                    rf.to_string(),
                );
                set(
                    &mut env,
                    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
                    isr.to_string(),
                );
                set(
                    &mut env,
                    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
                    rf.to_string(),
                );
                set(
                    &mut env,
                    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
                    isr.to_string(),
                );
                env.entry("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS".into())
                    .or_insert_with(|| "0".into());
            }
            ServiceKind::Cassandra => {
                // Clients learn the node's RPC address from system.local:
                // keep it on loopback so no driver wanders off it.
                env.entry("CASSANDRA_BROADCAST_RPC_ADDRESS".into())
                    .or_insert_with(|| "127.0.0.1".into());
            }
            ServiceKind::Mongodb => {}
        }
        env
    }

    fn address(kind: ServiceKind, host_ports: &[u16]) -> String {
        match kind {
            ServiceKind::Mongodb => format!(
                "mongodb://127.0.0.1:{}/?directConnection=true",
                host_ports[0]
            ),
            _ => host_ports
                .iter()
                .map(|p| format!("127.0.0.1:{p}"))
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    fn node_address(kind: ServiceKind, host_port: u16) -> String {
        Self::address(kind, &[host_port])
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
        let _ = dirs;
        let kind = def.kind;
        let started = Instant::now();
        let docker = connect_for(kind).await?;
        let removed = remove_leftovers(&docker, Some(kind), &self.home()).await;
        if removed > 0 {
            progress(&format!(
                "removed {removed} leftover {kind} container(s) of an earlier run"
            ));
        }
        let image = resolve_image(&docker, def, &self.data_dir, &self.cache_dir, progress).await?;
        let n = if kind == ServiceKind::Kafka {
            opts.brokers.max(1)
        } else {
            1
        };
        // Host ports first: Kafka brokers advertise theirs.
        let mut host_ports = Vec::new();
        for _ in 0..n {
            host_ports.push(
                process::free_port()
                    .map_err(|e| other(format!("no free port on 127.0.0.1: {e}")))?,
            );
        }
        let names: Vec<String> = (0..n).map(|i| self.name(kind, i)).collect();
        let network = if kind == ServiceKind::Kafka {
            Some(self.create_network(&docker, kind).await?)
        } else {
            None
        };
        let cluster_id =
            process::random_kafka_uuid().map_err(|e| other(format!("no randomness: {e}")))?;
        progress(&format!(
            "starting {} {} container{} from {image}",
            n,
            pretty(kind),
            if n == 1 { "" } else { "s" }
        ));
        let timeout = Duration::from_secs(def.ready.timeout.max(10));
        let specs: Vec<NodeSpec> = (0..n)
            .map(|i| NodeSpec {
                index: i,
                name: names[i as usize].clone(),
                image: image.clone(),
                port: def.port,
                host_port: host_ports[i as usize],
                env: self.node_env(def, i, n, host_ports[i as usize], &names, &cluster_id),
                labels: self.labels(kind, i),
                network: network.clone(),
                ready_log: def.ready.log.clone(),
                timeout,
                memory_mb: def.limits.memory_mb,
            })
            .collect();
        // All brokers at once: a KRaft quorum needs a majority to come up.
        let results = futures::future::join_all(specs.into_iter().map(|s| {
            let index = s.index;
            async move { (index, start_node_container(s).await) }
        }))
        .await;
        let mut nodes = Vec::new();
        let mut failure = None;
        for (index, r) in results {
            match r {
                Ok(id) => nodes.push(NodeHandle {
                    index,
                    address: format!("127.0.0.1:{}", host_ports[index as usize]),
                    container_id: Some(id),
                    extra: BTreeMap::from([
                        ("name".to_string(), names[index as usize].clone()),
                        (
                            "host_port".to_string(),
                            host_ports[index as usize].to_string(),
                        ),
                        ("image".to_string(), image.clone()),
                    ]),
                    ..Default::default()
                }),
                Err((reason, _)) if failure.is_none() => failure = Some((index, reason)),
                Err(_) => {}
            }
        }
        if let Some((index, reason)) = failure {
            let name = &names[index as usize];
            let logs = match id_by_name(&docker, name).await {
                Some(id) => container_logs(&docker, &id, 15).await,
                None => String::new(),
            };
            remove_leftovers(&docker, Some(kind), &self.home()).await;
            return Err(other(format!(
                "the {kind} container {name} ({image}) did not become ready: {reason}{}",
                if logs.trim().is_empty() {
                    String::new()
                } else {
                    format!("\n  last log lines:\n{}", logs.trim_end())
                }
            )));
        }
        nodes.sort_by_key(|n| n.index);
        let address = Self::address(kind, &host_ports);
        progress(&format!(
            "waiting for {} to answer at {address}",
            pretty(kind)
        ));
        let info = match wait_protocol(kind, &address, n, started + timeout, self.timeout).await {
            Ok(info) => info,
            Err(e) => {
                remove_leftovers(&docker, Some(kind), &self.home()).await;
                return Err(e);
            }
        };
        let flavor = match kind {
            ServiceKind::Kafka => format!(
                "Apache Kafka (KRaft, {n} broker{}; docker image {image})",
                if n == 1 { "" } else { "s" }
            ),
            _ => match &info.flavor {
                Some(f) => format!("{f} (docker image {image})"),
                None => format!("docker image {image}"),
            },
        };
        let mut extra = BTreeMap::from([("image".to_string(), image.clone())]);
        if let Some(net) = network {
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
        let node = running.node(index)?;
        let docker = connect_for(running.kind).await?;
        let id = node
            .container_id
            .as_deref()
            .ok_or_else(|| other(format!("{} node {index} has no container id", running.kind)))?;
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
        })
    }

    async fn start_node(&self, running: &Running, index: u32) -> Result<(), ServiceError> {
        let node = running.node(index)?;
        let docker = connect_for(running.kind).await?;
        let id = node
            .container_id
            .as_deref()
            .ok_or_else(|| other(format!("{} node {index} has no container id", running.kind)))?;
        docker.start_container(id, None).await.map_err(|e| {
            other(format!(
                "cannot start {} node {index} (container {id}): {}",
                running.kind,
                short(&e)
            ))
        })?;
        let port: u16 = node
            .extra
            .get("host_port")
            .and_then(|p| p.parse().ok())
            .or_else(|| {
                node.address
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse().ok())
            })
            .unwrap_or_default();
        let address = Self::node_address(running.kind, port);
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

// ---------------------------------------------------------------------------
// Building the registry-free images (`datalab services build-images`)

/// What one image build did.
#[derive(Clone, Debug)]
pub struct BuiltImage {
    pub kind: ServiceKind,
    pub image: String,
    pub seconds: f64,
}

async fn run_logged(
    mut cmd: tokio::process::Command,
    what: &str,
    log: &Path,
    limit: Duration,
) -> Result<(), String> {
    let out = tokio::time::timeout(limit, cmd.kill_on_drop(true).output())
        .await
        .map_err(|_| format!("{what} did not finish within {} s", limit.as_secs()))?
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let mut text = out.stdout.clone();
    text.extend_from_slice(&out.stderr);
    let _ = std::fs::write(log, &text);
    if out.status.success() {
        Ok(())
    } else {
        let text = String::from_utf8_lossy(&text);
        let tail: Vec<&str> = text.lines().rev().take(8).collect();
        Err(format!(
            "{what} failed (full output in {}):\n    {}",
            log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
        ))
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> ServiceError {
    other(format!("cannot {what} {}: {e}", path.display()))
}

/// Make sure the Debian base image exists: run `containers/docker/setup.sh`
/// (from the content) when it does not.
async fn ensure_base(
    docker: &Docker,
    content: &Content,
    work: &Path,
    progress: &ProgressFn,
) -> Result<(), ServiceError> {
    if image_present(docker, BASE_IMAGE).await {
        return Ok(());
    }
    progress(&format!(
        "building the base image {BASE_IMAGE} (debootstrap, ~1 min)"
    ));
    let script = work.join("setup.sh");
    let text = content
        .read("containers/docker/setup.sh")
        .map_err(|e| other(format!("containers/docker/setup.sh: {e}")))?;
    std::fs::write(&script, &*text).map_err(|e| io("write", &script, e))?;
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(&script);
    run_logged(
        cmd,
        "containers/docker/setup.sh",
        &work.join("setup.log"),
        Duration::from_secs(900),
    )
    .await
    .map_err(|reason| ServiceError::Unavailable {
        kind: ServiceKind::Kafka,
        reason: format!("the base image {BASE_IMAGE} could not be built: {reason}"),
        fix: "sudo bash containers/docker/setup.sh".into(),
    })
}

/// The jars of the image: the ones the native provider resolves (the same
/// Maven coordinates, cached under `<cache>/m2`, offline after the first
/// time), copied flat into the build context's `jars/`.
async fn copy_jars(
    def: &ServiceDef,
    cache: &Path,
    jars: &Path,
    progress: &ProgressFn,
) -> Result<(), ServiceError> {
    let cp = super::native::maven_classpath(def, cache, progress).await?;
    progress(&format!(
        "copying the {} jars from the Maven cache",
        pretty(def.kind)
    ));
    std::fs::create_dir_all(jars).map_err(|e| io("create", jars, e))?;
    for jar in cp.split(':').map(Path::new) {
        let name = jar.file_name().ok_or_else(|| {
            other(format!(
                "a classpath entry without a file name: {}",
                jar.display()
            ))
        })?;
        std::fs::copy(jar, jars.join(name)).map_err(|e| io("copy", jar, e))?;
    }
    Ok(())
}

/// Build `datalab/<kind>` from `containers/docker/<kind>/` with no registry:
/// base image, build context under `<cache>/docker/ctx-<kind>` (the
/// Dockerfile and scripts, plus the jars or the FerretDB binary), `docker
/// build`, and record it as the image the docker provider uses.
pub async fn build_image(
    def: &ServiceDef,
    content: &Content,
    data_dir: &Path,
    cache_dir: &Path,
    progress: &ProgressFn,
) -> Result<BuiltImage, ServiceError> {
    let kind = def.kind;
    let t0 = Instant::now();
    let docker = connect_for(kind).await?;
    let work = cache_dir.join("docker");
    std::fs::create_dir_all(&work).map_err(|e| io("create", &work, e))?;
    ensure_base(&docker, content, &work, progress).await?;
    let ctx = work.join(format!("ctx-{kind}"));
    if ctx.exists() {
        std::fs::remove_dir_all(&ctx).map_err(|e| io("clear", &ctx, e))?;
    }
    std::fs::create_dir_all(&ctx).map_err(|e| io("create", &ctx, e))?;
    let dir = format!("containers/docker/{kind}");
    let files = content.list_files(&dir);
    if files.is_empty() {
        return Err(other(format!(
            "{}: no Dockerfile for {kind}",
            content.display_path(&dir)
        )));
    }
    for rel in files {
        let name = Path::new(&rel)
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        let bytes = content
            .read(&rel)
            .map_err(|e| other(format!("{}: {e}", content.display_path(&rel))))?;
        std::fs::write(ctx.join(&name), &*bytes).map_err(|e| io("write", &ctx, e))?;
    }
    match kind {
        ServiceKind::Kafka | ServiceKind::Cassandra => {
            copy_jars(def, cache_dir, &ctx.join("jars"), progress).await?;
        }
        ServiceKind::Mongodb => {
            let (bin, _) = super::ferretdb::launcher(
                def,
                cache_dir,
                progress,
                "for the datalab/mongodb image",
            )
            .await?;
            std::fs::copy(&bin, ctx.join("ferretdb")).map_err(|e| io("copy", &bin, e))?;
        }
    }
    let image = def.image.local.clone();
    progress(&format!("docker build -t {image} {}", ctx.display()));
    let mut cmd = tokio::process::Command::new("docker");
    // The classic builder: Debian's dockerd 20.10 has no BuildKit frontend
    // to lean on here, and the classic builder needs no registry at all.
    cmd.env("DOCKER_BUILDKIT", "0")
        .args(["build", "--label", "datalab.image=1", "-t", &image])
        .arg(&ctx);
    run_logged(
        cmd,
        &format!("docker build of {image}"),
        &work.join(format!("build-{kind}.log")),
        Duration::from_secs(1800),
    )
    .await
    .map_err(other)?;
    record_image(data_dir, cache_dir, kind, &image).map_err(|e| {
        other(format!(
            "cannot record the image in {}: {e}",
            data_dir.display()
        ))
    })?;
    Ok(BuiltImage {
        kind,
        image,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
