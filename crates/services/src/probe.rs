//! Protocol-level pings and namespace resets, shared by every provider: a
//! quick TCP look first (a dead port gets a plain answer at once rather than
//! a driver timeout), then the kind's own ping or reset over the clients'
//! connections (`datalab-clients`), each call under a timeout.

use super::kinds::{self, PingInfo, unreachable};
use super::{Namespace, ServiceError, ServiceKind};
use std::time::Duration;

/// Ping a service at `address` (bootstrap servers, a MongoDB URI or CQL
/// contact points) over its protocol.
pub(crate) async fn ping(
    kind: ServiceKind,
    address: &str,
    timeout: Duration,
) -> Result<PingInfo, ServiceError> {
    let k = kinds::of(kind);
    let hosts = k.host_ports(address);
    if !hosts.is_empty() {
        let probe_hosts = hosts.clone();
        let open = tokio::task::spawn_blocking(move || {
            (probe_hosts.iter()).any(|h| super::process::tcp_open(h, Duration::from_millis(1000)))
        })
        .await
        .unwrap_or(true);
        if !open {
            return Err(unreachable(
                kind,
                address,
                format!(
                    "nothing accepts connections at {} (connection refused or no route)",
                    hosts.join(", ")
                ),
            ));
        }
    }
    k.ping(address, timeout).await
}

/// Drop this namespace's lab data (every non-system topic, database or
/// keyspace with the empty namespace). Returns what was dropped.
pub(crate) async fn reset(
    kind: ServiceKind,
    address: &str,
    ns: &Namespace,
    timeout: Duration,
) -> Result<Vec<String>, ServiceError> {
    kinds::of(kind).reset(address, ns, timeout).await
}
