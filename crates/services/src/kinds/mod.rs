//! One file (or folder) per service kind, like testcontainers-modules has one
//! module per image: everything datalab knows about a kind lives there, once:
//! its Docker environment and the image build context, its native command
//! line and configuration, readiness (a protocol ping), the namespace reset,
//! the environment variable scripts and the external provider read, the
//! address form and the connection hint (kcat, mongosh, cqlsh). The providers
//! (`native`, `docker`, `external`) are generic over [`Kind`] and never ask
//! which kind they run.
//!
//! Adding a kind (Hadoop, Spark, …) is one new file here implementing
//! [`Kind`], listed in [`ALL`], plus its definition `containers/<kind>.yaml`
//! (and, for the docker provider's registry-free image,
//! `containers/docker/<kind>/`). A lab names it in its `services:` list by the
//! `ServiceKind` of the content crate, which holds the kind names labs may use.

mod cassandra;
pub(crate) mod hadoop;
mod kafka;
mod mongodb;

use super::definition::ServiceDef;
use super::native::{self, Prepared};
use super::provider::{ProgressFn, ServiceDirs};
use super::{Endpoint, Namespace, ServiceError, ServiceKind, UpOptions};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Every kind datalab can run.
pub(crate) const ALL: [&dyn Kind; 4] = [
    &kafka::Kafka,
    &mongodb::Mongodb,
    &cassandra::Cassandra,
    &hadoop::Hadoop,
];

/// The kind behind a [`ServiceKind`].
pub(crate) fn of(kind: ServiceKind) -> &'static dyn Kind {
    ALL.into_iter()
        .find(|k| k.kind() == kind)
        .unwrap_or_else(|| unreachable!("kinds::ALL lists every ServiceKind ({kind} is missing)"))
}

/// What a successful ping learned.
#[derive(Clone, Debug, Default)]
pub(crate) struct PingInfo {
    pub(crate) version: Option<String>,
    pub(crate) flavor: Option<String>,
    /// Nodes the server reports (Kafka: brokers in the cluster metadata).
    pub(crate) nodes: u32,
}

/// One container of a docker start, for [`Kind::docker_env`].
pub(crate) struct DockerNode<'a> {
    pub(crate) index: u32,
    /// The host port published for the client port (127.0.0.1 only).
    pub(crate) host_port: u16,
    /// Container names of every node of this start (peers reach each other by
    /// name on the start's network).
    pub(crate) names: &'a [String],
    /// A random id every node of this start shares.
    pub(crate) cluster_id: &'a str,
    /// [`Wiring::Seeded`]: node 0's address on the network, for the others
    /// (node 0 itself starts without one).
    pub(crate) seed: Option<&'a str>,
}

/// How the containers of one docker start are connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wiring {
    /// No network of their own; clients use each container's client port,
    /// published on 127.0.0.1.
    Published,
    /// A network of their own where nodes reach each other by container
    /// name; clients still use the published ports (Kafka brokers advertise
    /// them).
    Named,
    /// A network of their own; node 0 starts first and is the seed of the
    /// others, by address; clients dial the containers' addresses on the
    /// network (the host routes to a bridge network), because the nodes
    /// tell drivers about each other by address (Cassandra's
    /// `system.peers`) and a published port cannot stand for that.
    Seeded,
    /// A network of its own for one container whose servers advertise its
    /// address on it (Hadoop: the NameNode hands out the DataNode's); clients
    /// dial that address, which the host routes to, like [`Wiring::Seeded`].
    Routed,
}

/// The plain facts of a kind.
pub(crate) struct About {
    pub(crate) kind: ServiceKind,
    /// The name in prose ("Kafka").
    pub(crate) title: &'static str,
    /// The environment variable a learner's script reads for the endpoint,
    /// and where the external provider looks for one.
    pub(crate) env_var: &'static str,
    /// `export VAR=…` with an example value, for messages.
    pub(crate) env_example: &'static str,
    /// What one node is called in messages ("broker").
    pub(crate) node_noun: &'static str,
}

/// A service kind (see the module docs).
#[async_trait::async_trait]
pub(crate) trait Kind: Send + Sync {
    fn about(&self) -> &'static About;

    fn kind(&self) -> ServiceKind {
        self.about().kind
    }

    fn title(&self) -> &'static str {
        self.about().title
    }

    fn env_var(&self) -> &'static str {
        self.about().env_var
    }

    fn env_example(&self) -> &'static str {
        self.about().env_example
    }

    fn node_noun(&self) -> &'static str {
        self.about().node_noun
    }

    /// How many nodes a start with `opts` runs.
    fn nodes(&self, opts: &UpOptions) -> u32 {
        let _ = opts;
        1
    }

    /// The endpoint address of nodes answering at `hosts` (`host:port`).
    fn address(&self, hosts: &[String]) -> String {
        hosts.join(",")
    }

    /// The `host:port` pairs of an address (empty when they cannot be told).
    fn host_ports(&self, address: &str) -> Vec<String> {
        split_hosts(address, None)
    }

    /// Check the shape of an address before any network call.
    fn validate(&self, address: &str) -> Result<(), String> {
        validate_host_ports(address)
    }

    /// What a learner pastes into this kind's shell (kcat, mongosh, cqlsh).
    fn connect_hint(&self, address: &str) -> String;

    /// Ask the server at `address` over its protocol who it is.
    async fn ping(&self, address: &str, timeout: Duration) -> Result<PingInfo, ServiceError>;

    /// Drop what belongs to namespace `ns` (topics, databases, keyspaces).
    async fn reset(
        &self,
        address: &str,
        ns: &Namespace,
        timeout: Duration,
    ) -> Result<Vec<String>, ServiceError>;

    /// The endpoint's version and flavour once a native start answered.
    fn describe(&self, endpoint: &mut Endpoint, info: &PingInfo) {
        if let Some(v) = &info.version {
            endpoint.version = Some(v.clone());
        }
    }

    /// Container environment of one node: the definition's `env` plus what
    /// this start decides.
    fn docker_env(&self, def: &ServiceDef, node: &DockerNode<'_>) -> BTreeMap<String, String> {
        let _ = node;
        def.env.clone()
    }

    /// How the containers of a start of `nodes` nodes are connected.
    fn docker_wiring(&self, nodes: u32) -> Wiring {
        let _ = nodes;
        Wiring::Published
    }

    /// The host name a container of this kind gets, when its servers hand
    /// their own host name to clients (Hadoop's job tracking addresses), so
    /// the host can be told what it stands for. Default: Docker's choice.
    fn docker_hostname(&self) -> Option<&'static str> {
        None
    }

    /// Once a docker start answers at `address`: what the host's own clients
    /// need besides the address (Hadoop's client configuration), written
    /// under `dirs`. Default: nothing.
    fn docker_ready(&self, address: &str, dirs: &ServiceDirs) -> Result<(), ServiceError> {
        let _ = (address, dirs);
        Ok(())
    }

    /// What a docker container runs, in words, from its ping.
    fn docker_flavor(&self, info: &PingInfo, nodes: u32) -> Option<String> {
        let _ = nodes;
        info.flavor.clone()
    }

    /// Put what the image build needs besides `containers/docker/<kind>/`
    /// into the build context `ctx` (default: the native jars under `jars/`).
    async fn image_context(
        &self,
        def: &ServiceDef,
        cache: &Path,
        ctx: &Path,
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        native::jvm::copy_jars(def, cache, &ctx.join("jars"), progress).await
    }

    /// Fetch what a native start needs (default: Java and the Maven jars).
    async fn native_install(
        &self,
        def: &ServiceDef,
        cache: &Path,
        progress: &ProgressFn,
    ) -> Result<(), ServiceError> {
        native::jvm::find_java(def.kind).await?;
        native::jvm::maven_classpath(def, cache, progress).await?;
        Ok(())
    }

    /// Prepare a native start in fresh directories: configuration files,
    /// storage, and the command line of every node.
    async fn native_prepare(
        &self,
        def: &ServiceDef,
        opts: &UpOptions,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<Prepared, ServiceError>;

    /// The last step of a native start, once every node answers (a shared
    /// cluster's roles). Default: nothing.
    async fn native_ready(
        &self,
        _address: &str,
        _opts: &UpOptions,
        _timeout: Duration,
    ) -> Result<(), ServiceError> {
        Ok(())
    }
}

/// `a:1, b` → `["a:1", "b:<default>"]` (entries without a port keep theirs
/// when `default_port` is None).
pub(crate) fn split_hosts(list: &str, default_port: Option<u16>) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| match default_port {
            Some(p) if !h.contains(':') => format!("{h}:{p}"),
            _ => h.to_string(),
        })
        .collect()
}

/// Every comma-separated entry is `host:port`.
fn validate_host_ports(address: &str) -> Result<(), String> {
    for part in address.split(',') {
        let part = part.trim();
        let ok = part
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !ok {
            return Err(format!("`{part}` is not host:port"));
        }
    }
    Ok(())
}

/// The error of a server that does not answer as it should.
pub(crate) fn unreachable(
    kind: ServiceKind,
    address: &str,
    reason: impl std::fmt::Display,
) -> ServiceError {
    ServiceError::Unreachable {
        kind,
        address: address.to_string(),
        reason: reason.to_string(),
    }
}

/// The first line of an error's text.
pub(crate) fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_kind_has_its_kind() {
        for kind in ServiceKind::ALL {
            assert_eq!(of(kind).kind(), kind);
        }
    }

    #[test]
    fn host_lists_split_and_validate() {
        assert_eq!(split_hosts("a:1, b:2", None), vec!["a:1", "b:2"]);
        assert_eq!(
            split_hosts("h1:1,h2", Some(27017)),
            vec!["h1:1", "h2:27017"]
        );
        assert!(validate_host_ports("a:1,b:2").is_ok());
        assert!(validate_host_ports("a").is_err());
        assert!(validate_host_ports(":1").is_err());
    }
}
