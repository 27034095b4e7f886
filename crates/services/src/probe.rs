//! Protocol-level pings and namespace resets, shared by every provider.
//! Each talks to the server over its own protocol with a timeout on every
//! call.

use super::{Namespace, ServiceError, ServiceKind};
use std::time::Duration;

/// What a successful ping learned.
#[derive(Clone, Debug, Default)]
pub(crate) struct PingInfo {
    pub(crate) version: Option<String>,
    pub(crate) flavor: Option<String>,
    /// Kafka: brokers in the cluster metadata.
    pub(crate) nodes: u32,
}

fn unreachable(kind: ServiceKind, address: &str, reason: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unreachable {
        kind,
        address: address.to_string(),
        reason: reason.to_string(),
    }
}

/// Ping a service at `address` (bootstrap servers, a MongoDB URI or CQL
/// contact points) over its protocol.
pub(crate) async fn ping(
    kind: ServiceKind,
    address: &str,
    timeout: Duration,
) -> Result<PingInfo, ServiceError> {
    // A dead port gets a plain answer at once rather than a driver timeout.
    let hosts = host_ports(kind, address);
    if !hosts.is_empty() {
        let probe_hosts = hosts.clone();
        let open = tokio::task::spawn_blocking(move || {
            probe_hosts
                .iter()
                .any(|h| super::process::tcp_open(h, Duration::from_millis(1000)))
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
    match kind {
        ServiceKind::Kafka => kafka_ping(address, timeout).await,
        ServiceKind::Mongodb => mongodb_ping(address, timeout).await,
        ServiceKind::Cassandra => cassandra_ping(address, timeout).await,
    }
}

fn kafka_admin(
    bootstrap: &str,
    timeout: Duration,
) -> Result<rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext>, ServiceError> {
    rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "socket.timeout.ms",
            timeout.as_millis().max(100).to_string(),
        )
        .set(
            "socket.connection.setup.timeout.ms",
            timeout.as_millis().max(1000).to_string(),
        )
        .set("log_level", "0")
        .create()
        .map_err(|e| unreachable(ServiceKind::Kafka, bootstrap, e))
}

/// Topic names and broker count from the cluster metadata.
async fn kafka_metadata(
    bootstrap: &str,
    timeout: Duration,
) -> Result<(Vec<String>, u32), ServiceError> {
    let bootstrap = bootstrap.to_string();
    tokio::task::spawn_blocking(move || {
        let admin = kafka_admin(&bootstrap, timeout)?;
        let md = admin
            .inner()
            .fetch_metadata(None, timeout)
            .map_err(|e| unreachable(ServiceKind::Kafka, &bootstrap, e))?;
        let topics = md.topics().iter().map(|t| t.name().to_string()).collect();
        Ok((topics, md.brokers().len() as u32))
    })
    .await
    .map_err(|e| ServiceError::Other(format!("kafka metadata task failed: {e}")))?
}

async fn kafka_ping(bootstrap: &str, timeout: Duration) -> Result<PingInfo, ServiceError> {
    let (_, nodes) = kafka_metadata(bootstrap, timeout).await?;
    Ok(PingInfo {
        nodes,
        ..Default::default()
    })
}

async fn mongodb_client(uri: &str, timeout: Duration) -> Result<mongodb::Client, ServiceError> {
    let mut opts = tokio::time::timeout(timeout, mongodb::options::ClientOptions::parse(uri))
        .await
        .map_err(|_| unreachable(ServiceKind::Mongodb, uri, "timed out parsing the URI"))?
        .map_err(|e| unreachable(ServiceKind::Mongodb, uri, e))?;
    opts.server_selection_timeout = Some(timeout);
    opts.connect_timeout = Some(timeout);
    opts.app_name = Some("datalab".into());
    mongodb::Client::with_options(opts).map_err(|e| unreachable(ServiceKind::Mongodb, uri, e))
}

async fn mongodb_ping(uri: &str, timeout: Duration) -> Result<PingInfo, ServiceError> {
    use mongodb::bson::doc;
    let client = mongodb_client(uri, timeout).await?;
    let admin = client.database("admin");
    let info = tokio::time::timeout(timeout, admin.run_command(doc! {"buildInfo": 1}))
        .await
        .map_err(|_| unreachable(ServiceKind::Mongodb, uri, "no answer in time"))?
        .map_err(|e| unreachable(ServiceKind::Mongodb, uri, first_line(&e.to_string())))?;
    let version = info.get_str("version").ok().map(str::to_string);
    let flavor = match info.get_str("ferretdbVersion") {
        Ok(f) if f != "unknown" => Some(format!(
            "FerretDB {} (MongoDB wire-compatible)",
            f.trim_start_matches('v')
        )),
        Ok(_) => Some("FerretDB (MongoDB wire-compatible)".to_string()),
        Err(_) => Some("MongoDB".to_string()),
    };
    Ok(PingInfo {
        version,
        flavor,
        nodes: 1,
    })
}

pub(crate) async fn cassandra_session(
    contact: &str,
    timeout: Duration,
) -> Result<scylla::client::session::Session, ServiceError> {
    use scylla::client::session_builder::SessionBuilder;
    let nodes: Vec<&str> = contact.split(',').map(str::trim).collect();
    tokio::time::timeout(
        timeout,
        SessionBuilder::new()
            .known_nodes(nodes)
            .connection_timeout(timeout)
            .fetch_schema_metadata(false)
            .build(),
    )
    .await
    .map_err(|_| unreachable(ServiceKind::Cassandra, contact, "no answer in time"))?
    .map_err(|e| unreachable(ServiceKind::Cassandra, contact, first_line(&e.to_string())))
}

async fn cassandra_ping(contact: &str, timeout: Duration) -> Result<PingInfo, ServiceError> {
    let session = cassandra_session(contact, timeout).await?;
    let rows = tokio::time::timeout(
        timeout,
        session.query_unpaged("SELECT release_version FROM system.local", &[]),
    )
    .await
    .map_err(|_| unreachable(ServiceKind::Cassandra, contact, "no answer in time"))?
    .map_err(|e| unreachable(ServiceKind::Cassandra, contact, first_line(&e.to_string())))?;
    let version = rows
        .into_rows_result()
        .ok()
        .and_then(|r| r.single_row::<(String,)>().ok().map(|(v,)| v));
    Ok(PingInfo {
        version,
        flavor: Some("Apache Cassandra".into()),
        nodes: 1,
    })
}

/// `host:port` pairs of an address (empty when they cannot be told, e.g. a
/// `mongodb+srv://` URI).
fn host_ports(kind: ServiceKind, address: &str) -> Vec<String> {
    let list = match kind {
        ServiceKind::Mongodb => {
            let Some(rest) = address.strip_prefix("mongodb://") else {
                return Vec::new();
            };
            let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
            rest.split(['/', '?']).next().unwrap_or("").to_string()
        }
        _ => address.to_string(),
    };
    list.split(',')
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .map(|h| {
            if h.contains(':') {
                h.to_string()
            } else {
                format!("{h}:27017")
            }
        })
        .collect()
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// Is `name` something reset may drop in namespace `ns`?
fn in_namespace(ns: &Namespace, name: &str) -> bool {
    ns.strip(name).is_some()
}

/// Drop this namespace's lab data (every non-system topic, database or
/// keyspace with the empty namespace). Returns what was dropped.
pub async fn reset(
    kind: ServiceKind,
    address: &str,
    ns: &Namespace,
    timeout: Duration,
) -> Result<Vec<String>, ServiceError> {
    match kind {
        ServiceKind::Kafka => reset_kafka(address, ns, timeout).await,
        ServiceKind::Mongodb => reset_mongodb(address, ns, timeout).await,
        ServiceKind::Cassandra => reset_cassandra(address, ns, timeout).await,
    }
}

async fn reset_kafka(
    bootstrap: &str,
    ns: &Namespace,
    timeout: Duration,
) -> Result<Vec<String>, ServiceError> {
    use rdkafka::admin::AdminOptions;
    let (topics, _) = kafka_metadata(bootstrap, timeout).await?;
    let doomed: Vec<String> = topics
        .into_iter()
        .filter(|t| !t.starts_with("__") && !t.starts_with('_') && in_namespace(ns, t))
        .collect();
    let admin = kafka_admin(bootstrap, timeout)?;
    let opts = AdminOptions::new()
        .request_timeout(Some(timeout))
        .operation_timeout(Some(timeout));
    let mut dropped = Vec::new();
    if !doomed.is_empty() {
        let names: Vec<&str> = doomed.iter().map(String::as_str).collect();
        let results = tokio::time::timeout(timeout * 2, admin.delete_topics(&names, &opts))
            .await
            .map_err(|_| unreachable(ServiceKind::Kafka, bootstrap, "topic deletion timed out"))?
            .map_err(|e| unreachable(ServiceKind::Kafka, bootstrap, e))?;
        for r in results {
            match r {
                Ok(t) => dropped.push(format!("topic {t}")),
                Err((t, code)) => {
                    return Err(ServiceError::Other(format!(
                        "kafka: could not delete topic {t}: {code}"
                    )));
                }
            }
        }
    }
    // Consumer groups of this namespace go too (their committed offsets
    // would otherwise survive the topics).
    let groups = {
        let bootstrap = bootstrap.to_string();
        tokio::task::spawn_blocking(move || -> Result<Vec<String>, ServiceError> {
            let admin = kafka_admin(&bootstrap, timeout)?;
            let list = admin
                .inner()
                .fetch_group_list(None, timeout)
                .map_err(|e| unreachable(ServiceKind::Kafka, &bootstrap, e))?;
            Ok(list.groups().iter().map(|g| g.name().to_string()).collect())
        })
        .await
        .map_err(|e| ServiceError::Other(format!("kafka group list task failed: {e}")))??
    };
    let groups: Vec<String> = groups
        .into_iter()
        .filter(|g| !g.is_empty() && in_namespace(ns, g))
        .collect();
    if !groups.is_empty() {
        let names: Vec<&str> = groups.iter().map(String::as_str).collect();
        if let Ok(Ok(results)) =
            tokio::time::timeout(timeout * 2, admin.delete_groups(&names, &opts)).await
        {
            for g in results.into_iter().flatten() {
                dropped.push(format!("group {g}"));
            }
        }
    }
    Ok(dropped)
}

async fn reset_mongodb(
    uri: &str,
    ns: &Namespace,
    timeout: Duration,
) -> Result<Vec<String>, ServiceError> {
    let client = mongodb_client(uri, timeout).await?;
    let names = tokio::time::timeout(timeout, client.list_database_names())
        .await
        .map_err(|_| unreachable(ServiceKind::Mongodb, uri, "no answer in time"))?
        .map_err(|e| unreachable(ServiceKind::Mongodb, uri, first_line(&e.to_string())))?;
    let mut dropped = Vec::new();
    for name in names {
        if matches!(name.as_str(), "admin" | "config" | "local") || !in_namespace(ns, &name) {
            continue;
        }
        tokio::time::timeout(timeout, client.database(&name).drop())
            .await
            .map_err(|_| unreachable(ServiceKind::Mongodb, uri, "drop timed out"))?
            .map_err(|e| {
                ServiceError::Other(format!("mongodb: could not drop database {name}: {e}"))
            })?;
        dropped.push(format!("database {name}"));
    }
    Ok(dropped)
}

async fn reset_cassandra(
    contact: &str,
    ns: &Namespace,
    timeout: Duration,
) -> Result<Vec<String>, ServiceError> {
    let session = cassandra_session(contact, timeout).await?;
    let rows = tokio::time::timeout(
        timeout,
        session.query_unpaged("SELECT keyspace_name FROM system_schema.keyspaces", &[]),
    )
    .await
    .map_err(|_| unreachable(ServiceKind::Cassandra, contact, "no answer in time"))?
    .map_err(|e| unreachable(ServiceKind::Cassandra, contact, first_line(&e.to_string())))?;
    let names: Vec<String> = rows
        .into_rows_result()
        .map_err(|e| ServiceError::Other(format!("cassandra: {e}")))?
        .rows::<(String,)>()
        .map_err(|e| ServiceError::Other(format!("cassandra: {e}")))?
        .filter_map(|r| r.ok().map(|(n,)| n))
        .collect();
    let mut dropped = Vec::new();
    for name in names {
        if name.starts_with("system") || !in_namespace(ns, &name) {
            continue;
        }
        // Schema changes can take a while on a busy node: allow more time.
        tokio::time::timeout(
            timeout * 6,
            session.query_unpaged(format!("DROP KEYSPACE IF EXISTS \"{name}\""), &[]),
        )
        .await
        .map_err(|_| unreachable(ServiceKind::Cassandra, contact, "DROP KEYSPACE timed out"))?
        .map_err(|e| {
            ServiceError::Other(format!(
                "cassandra: could not drop keyspace {name}: {}",
                first_line(&e.to_string())
            ))
        })?;
        dropped.push(format!("keyspace {name}"));
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports_of_each_address_form() {
        assert_eq!(
            host_ports(ServiceKind::Mongodb, "mongodb://u:p@h1:1,h2/?x=y"),
            vec!["h1:1", "h2:27017"]
        );
        assert!(host_ports(ServiceKind::Mongodb, "mongodb+srv://x").is_empty());
        assert_eq!(
            host_ports(ServiceKind::Kafka, "a:1, b:2"),
            vec!["a:1", "b:2"]
        );
    }
}
