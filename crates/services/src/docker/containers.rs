//! Containers through testcontainers and the Docker API: start one node,
//! read its logs, remove it, and find leftovers of crashed runs by label.

use super::images::split_image;
use super::{LABEL, LABEL_HOME, LABEL_KIND};
use crate::ServiceKind;
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;
use testcontainers::bollard::Docker;
use testcontainers::bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, LogsOptions, RemoveContainerOptions,
};
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt, ReuseDirective};

/// Last `tail` log lines of a container (stdout and stderr).
pub(super) async fn container_logs(docker: &Docker, id: &str, tail: usize) -> String {
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

pub(super) async fn remove_container(docker: &Docker, id: &str) {
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
pub(super) async fn remove_leftovers(
    docker: &Docker,
    kind: Option<ServiceKind>,
    home: &str,
) -> usize {
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
pub(super) struct NodeSpec {
    pub(super) index: u32,
    pub(super) name: String,
    pub(super) image: String,
    pub(super) port: u16,
    pub(super) host_port: u16,
    pub(super) env: BTreeMap<String, String>,
    pub(super) labels: BTreeMap<String, String>,
    pub(super) network: Option<String>,
    /// The container's own host name, when the kind fixes one.
    pub(super) hostname: Option<String>,
    pub(super) ready_log: Option<String>,
    pub(super) timeout: Duration,
    pub(super) memory_mb: Option<u64>,
}

/// Start one container through testcontainers and wait for its readiness
/// log line. The container is marked reusable, so it outlives the handle.
pub(super) async fn start_node_container(
    spec: NodeSpec,
) -> Result<String, (String, Option<String>)> {
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
    if let Some(h) = &spec.hostname {
        req = req.with_hostname(h.clone());
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
pub(super) async fn id_by_name(docker: &Docker, name: &str) -> Option<String> {
    docker
        .inspect_container(name, None)
        .await
        .ok()
        .and_then(|c| c.id)
}
