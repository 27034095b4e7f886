//! The user-defined network of one start (one per home and kind, named
//! `datalab-<home tag>-<kind>`, labelled like the containers so `down` and
//! the leftover sweep remove it): its containers reach each other on it, and
//! the host routes to its addresses (a Linux bridge).
//!
//! A container's address must survive a stop and a start (a Cassandra node
//! is known to its peers and to drivers by address), but Docker gives a
//! restarted container the lowest free address, which may be another
//! stopped node's. So the network gets an explicit subnet (the one Docker
//! would pick itself), and a stopped container is reconnected with its
//! address pinned before it starts again.

use super::{LABEL, LABEL_HOME, LABEL_KIND, short};
use crate::ServiceKind;
use std::collections::HashMap;
use testcontainers::bollard::Docker;
use testcontainers::bollard::models::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, NetworkConnectRequest,
    NetworkCreateRequest, NetworkDisconnectRequest,
};

fn labels(kind: ServiceKind, home: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL.to_string(), "1".to_string()),
        (LABEL_KIND.to_string(), kind.name().to_string()),
        (LABEL_HOME.to_string(), home.to_string()),
    ])
}

async fn create(docker: &Docker, req: NetworkCreateRequest) -> Result<(), String> {
    let name = req.name.clone();
    (docker.create_network(req).await)
        .map(|_| ())
        .map_err(|e| format!("cannot create the docker network {name}: {}", short(&e)))
}

/// The subnet Docker gave network `name`.
async fn subnet_of(docker: &Docker, name: &str) -> Option<String> {
    let net = docker.inspect_network(name, None).await.ok()?;
    let configs = net.ipam?.config?;
    configs.into_iter().find_map(|c| c.subnet)
}

/// (Re)create network `name` for `kind` of `home` with a subnet of its own,
/// free on this machine: the one Docker picks, made explicit so addresses
/// can be pinned (Docker refuses fixed addresses on a network whose subnet
/// it chose).
pub(super) async fn create_network(
    docker: &Docker,
    name: &str,
    kind: ServiceKind,
    home: &str,
) -> Result<(), String> {
    let _ = docker.remove_network(name).await;
    let req = NetworkCreateRequest {
        name: name.to_string(),
        driver: Some("bridge".into()),
        labels: Some(labels(kind, home)),
        ..Default::default()
    };
    create(docker, req.clone()).await?;
    let subnet = subnet_of(docker, name).await;
    let _ = docker.remove_network(name).await;
    let Some(subnet) = subnet else {
        return Err(format!("the docker network {name} got no IPv4 subnet"));
    };
    let ipam = Ipam {
        config: Some(vec![IpamConfig {
            subnet: Some(subnet),
            ..Default::default()
        }]),
        ..Default::default()
    };
    create(
        docker,
        NetworkCreateRequest {
            ipam: Some(ipam),
            ..req
        },
    )
    .await
}

/// Container `id`'s address on `network` (while it runs).
pub(super) async fn address_on(docker: &Docker, id: &str, network: &str) -> Option<String> {
    let c = docker.inspect_container(id, None).await.ok()?;
    let mut nets = c.network_settings?.networks?;
    let ip = nets.remove(network)?.ip_address?;
    (!ip.is_empty()).then_some(ip)
}

/// Reconnect the stopped container `id` to `network` with address `ip`
/// fixed, so its next start gets that address back.
pub(super) async fn pin_address(
    docker: &Docker,
    id: &str,
    network: &str,
    ip: &str,
) -> Result<(), String> {
    let fail = |e: testcontainers::bollard::errors::Error| {
        format!(
            "cannot keep address {ip} on {network} for container {id}: {}",
            short(&e)
        )
    };
    let off = NetworkDisconnectRequest {
        container: id.to_string(),
        force: Some(true),
    };
    docker
        .disconnect_network(network, off)
        .await
        .map_err(fail)?;
    let on = NetworkConnectRequest {
        container: id.to_string(),
        endpoint_config: Some(EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: Some(ip.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    docker.connect_network(network, on).await.map_err(fail)
}
