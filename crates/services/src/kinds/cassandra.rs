//! Apache Cassandra, one node or a cluster of `n`: natively `CassandraDaemon`
//! from the `cassandra-all` jars with a generated `cassandra.yaml` per node;
//! in docker the image's `CASSANDRA_*` environment (a cluster: one container
//! per node on a network of their own, see [`cluster_env`]).
//!
//! A native cluster puts node `i` on loopback address `127.0.0.<i+1>`, every
//! node on the same client and storage ports: drivers learn the other nodes
//! from `system.peers`, which holds addresses without ports, and then dial
//! them on the port of the contact point. Node 0 is the seed. A fresh cluster
//! has no data to stream, so nodes join without bootstrapping
//! (`auto_bootstrap: false`) and do not wait for gossip to settle.

use super::{About, Kind, PingInfo, first_line, unreachable};
use crate::definition::ServiceDef;
use crate::native::{self, Prepared, jvm};
use crate::provider::{ProgressFn, ServiceDirs};
use crate::{Namespace, ServiceError, ServiceKind, UpOptions};
use datalab_clients::cql;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Heap of each node of a multi-node native cluster (a single node keeps the
/// definition's `-Xms512m -Xmx1g`): three nodes fit in ~2 GB of RAM.
pub(crate) const CLUSTER_HEAP: [&str; 2] = ["-Xms384m", "-Xmx512m"];

/// The loopback address of native node `index`.
fn node_host(index: u32) -> String {
    format!("127.0.0.{}", index + 1)
}

/// A port free on the loopback addresses of all `n` nodes.
fn cluster_port(n: u32) -> Result<u16, ServiceError> {
    for _ in 0..32 {
        let port = native::free_port()?;
        let free_everywhere =
            (1..n).all(|i| std::net::TcpListener::bind((node_host(i).as_str(), port)).is_ok());
        if free_everywhere {
            return Ok(port);
        }
    }
    Err(ServiceError::Other(format!(
        "no port is free on 127.0.0.1-127.0.0.{n} for {n} Cassandra nodes"
    )))
}

pub(super) struct Cassandra;

const KIND: ServiceKind = ServiceKind::Cassandra;

/// Run one query on the clients' session to `contact`, bounded by `limit`;
/// the rows as strings (the first column).
async fn strings(
    contact: &str,
    query: &str,
    timeout: Duration,
    limit: Duration,
) -> Result<Vec<String>, ServiceError> {
    let session = cql::session(contact, timeout).await.map_err(|e| match e {
        // The server answered: a refused login is not "did not answer".
        cql::CqlError::Login { .. } => ServiceError::Other(e.to_string()),
        e => unreachable(KIND, contact, first_line(&e.to_string())),
    })?;
    let rows = tokio::time::timeout(limit, session.query_unpaged(query, &[]))
        .await
        .map_err(|_| unreachable(KIND, contact, "no answer in time"))?
        .map_err(|e| unreachable(KIND, contact, first_line(&e.to_string())))?;
    let rows = rows
        .into_rows_result()
        .map_err(|e| ServiceError::Other(format!("cassandra: {e}")))?;
    let names = rows
        .rows::<(String,)>()
        .map_err(|e| ServiceError::Other(format!("cassandra: {e}")))?
        .filter_map(|r| r.ok().map(|(n,)| n))
        .collect();
    Ok(names)
}

#[async_trait::async_trait]
impl Kind for Cassandra {
    fn about(&self) -> &'static About {
        &About {
            kind: KIND,
            title: "Cassandra",
            env_var: "DATALAB_CASSANDRA_CONTACT",
            env_example: "export DATALAB_CASSANDRA_CONTACT=host:9042[,host:9042…]",
            node_noun: "node",
        }
    }

    fn connect_hint(&self, address: &str) -> String {
        let first = self
            .host_ports(address)
            .into_iter()
            .next()
            .unwrap_or_default();
        match first.rsplit_once(':') {
            Some((h, p)) => format!("cqlsh {h} {p}"),
            None => format!("cqlsh {first}"),
        }
    }

    async fn ping(&self, address: &str, timeout: Duration) -> Result<PingInfo, ServiceError> {
        let query = "SELECT release_version FROM system.local";
        let version = strings(address, query, timeout, timeout)
            .await?
            .into_iter()
            .next();
        // The nodes the answering node knows: itself and its peers.
        let peers = strings(
            address,
            "SELECT data_center FROM system.peers",
            timeout,
            timeout,
        )
        .await
        .map(|p| p.len() as u32)
        .unwrap_or(0);
        Ok(PingInfo {
            version,
            flavor: Some("Apache Cassandra".into()),
            nodes: 1 + peers,
        })
    }

    /// The namespace's keyspaces (never a `system*` one).
    async fn reset(
        &self,
        address: &str,
        ns: &Namespace,
        timeout: Duration,
    ) -> Result<Vec<String>, ServiceError> {
        let query = "SELECT keyspace_name FROM system_schema.keyspaces";
        let names = strings(address, query, timeout, timeout).await?;
        let session = cql::session(address, timeout)
            .await
            .map_err(|e| unreachable(KIND, address, first_line(&e.to_string())))?;
        let mut dropped = Vec::new();
        for name in names {
            if name.starts_with("system") || ns.strip(&name).is_none() {
                continue;
            }
            // Schema changes can take a while on a busy node: allow more time.
            let drop = session.query_unpaged(format!("DROP KEYSPACE IF EXISTS \"{name}\""), &[]);
            tokio::time::timeout(timeout * 6, drop)
                .await
                .map_err(|_| unreachable(KIND, address, "DROP KEYSPACE timed out"))?
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

    fn nodes(&self, opts: &UpOptions) -> u32 {
        opts.nodes.max(1)
    }

    /// One node: clients learn its RPC address from `system.local`, so keep
    /// it on loopback (where its port is published). Several nodes: see
    /// [`cluster_env`].
    fn docker_env(
        &self,
        def: &ServiceDef,
        node: &super::DockerNode<'_>,
    ) -> BTreeMap<String, String> {
        let mut env = def.env.clone();
        if node.names.len() > 1 {
            cluster_env(&mut env, node);
        } else {
            env.entry("CASSANDRA_BROADCAST_RPC_ADDRESS".into())
                .or_insert_with(|| "127.0.0.1".into());
        }
        env
    }

    /// Several nodes tell drivers about each other by address
    /// (`system.peers`): they need a network whose addresses the host
    /// reaches, with node 0 as the seed.
    fn docker_wiring(&self, nodes: u32) -> super::Wiring {
        match nodes {
            0 | 1 => super::Wiring::Published,
            _ => super::Wiring::Seeded,
        }
    }

    fn docker_flavor(&self, info: &PingInfo, nodes: u32) -> Option<String> {
        match nodes {
            0 | 1 => info.flavor.clone(),
            n => Some(format!("Apache Cassandra ({n} nodes)")),
        }
    }

    /// A shared cluster: the admin role made with the default superuser,
    /// then that superuser disabled (no login, no rights, a random
    /// password); with several nodes the roles are kept on every node.
    async fn native_ready(
        &self,
        address: &str,
        opts: &UpOptions,
        timeout: Duration,
    ) -> Result<(), ServiceError> {
        let Some(shared) = &opts.shared else {
            return Ok(());
        };
        let (user, pw) = (&shared.admin.user, &shared.admin.password);
        let slow = timeout.max(Duration::from_secs(30));
        as_role(address, &format!(
            "CREATE ROLE IF NOT EXISTS {user} WITH PASSWORD = '{pw}' AND SUPERUSER = true AND LOGIN = true"
        ), slow).await?;
        datalab_clients::auth::register(address, &shared.admin);
        let scrap = datalab_clients::auth::new_password()
            .map_err(|e| native::other(format!("no randomness: {e}")))?;
        as_role(address, &format!(
            "ALTER ROLE cassandra WITH PASSWORD = '{scrap}' AND SUPERUSER = false AND LOGIN = false"
        ), slow).await?;
        if self.nodes(opts) > 1 {
            let rf = self.nodes(opts).min(3);
            as_role(address, &format!(
                "ALTER KEYSPACE system_auth WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
            ), slow).await?;
        }
        Ok(())
    }

    async fn native_prepare(
        &self,
        def: &ServiceDef,
        opts: &UpOptions,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<Prepared, ServiceError> {
        let java = jvm::find_java(def.kind).await?;
        let cp = jvm::maven_classpath(def, &dirs.cache, progress).await?;
        native::fresh_dirs(dirs)?;
        let n = self.nodes(opts);
        let net = Net {
            n,
            native_port: cluster_port(n)?,
            storage_port: cluster_port(n)?,
            shared: shared_host(opts, n)?,
        };
        let mut commands = Vec::new();
        let mut addresses = Vec::new();
        for i in 0..n {
            commands.push(native_node(def, dirs, &java, &cp, &net, i)?);
            addresses.push(format!("{}:{}", net.host(i), net.native_port));
        }
        if net.shared.is_some() {
            // Until `native_ready` makes the admin role, only the default
            // superuser can log in.
            datalab_clients::auth::register(&addresses.join(","), &default_superuser());
        }
        let flavor = if n == 1 {
            format!("Apache Cassandra {}", def.version)
        } else {
            format!("Apache Cassandra {} ({n} nodes)", def.version)
        };
        Ok(Prepared {
            commands,
            addresses,
            version: def.version.clone(),
            flavor,
        })
    }
}

/// Node `i` of a docker cluster, the native cluster's rule in the image's
/// variables: its own container address for everything (the entrypoint's
/// default), node 0's as the seed, one evenly spaced token and no bootstrap
/// (the nodes start together on a fresh ring), the cluster heap, and a long
/// ring delay on the non-seeds (the seed may answer gossip later than they
/// start).
fn cluster_env(env: &mut BTreeMap<String, String>, node: &super::DockerNode<'_>) {
    let (i, n) = (node.index, node.names.len() as u32);
    if let Some(seed) = node.seed {
        env.insert("CASSANDRA_SEEDS".into(), seed.to_string());
    }
    env.insert("CASSANDRA_NUM_TOKENS".into(), "1".into());
    env.insert("MAX_HEAP_SIZE".into(), "512M".into());
    env.insert("HEAP_NEWSIZE".into(), "100M".into());
    let ring_delay = if i > 0 { "15000" } else { "100" };
    let mut opts: Vec<String> = (env.get("JVM_EXTRA_OPTS").map(String::as_str))
        .unwrap_or_default()
        .split_whitespace()
        .filter(|o| {
            !o.starts_with("-Dcassandra.initial_token=")
                && !o.starts_with("-Dcassandra.ring_delay_ms=")
        })
        .map(String::from)
        .collect();
    opts.push(format!("-Dcassandra.initial_token={}", initial_token(i, n)));
    opts.push("-Dcassandra.auto_bootstrap=false".into());
    opts.push(format!("-Dcassandra.ring_delay_ms={ring_delay}"));
    // After the entrypoint's -Xms/-Xmx of MAX_HEAP_SIZE: the last one wins.
    opts.extend(CLUSTER_HEAP.map(String::from));
    env.insert("JVM_EXTRA_OPTS".into(), opts.join(" "));
}

/// The ports every node of a native start shares, and how many nodes.
struct Net {
    n: u32,
    native_port: u16,
    storage_port: u16,
    /// A shared cluster (logins on): the one node's address.
    shared: Option<String>,
}

impl Net {
    fn host(&self, i: u32) -> String {
        match (&self.shared, self.n) {
            (Some(host), 1) => host.clone(),
            _ => node_host(i),
        }
    }
}

/// A shared cluster's node address: the bind address for one node; several
/// nodes on one machine need 127.0.0.x addresses of their own.
fn shared_host(opts: &UpOptions, n: u32) -> Result<Option<String>, ServiceError> {
    let Some(s) = &opts.shared else {
        return Ok(None);
    };
    if n > 1 && !s.bind.starts_with("127.") {
        return Err(native::other(format!(
            "a shared Cassandra of {n} nodes runs on 127.0.0.x addresses of one machine, not on {}: share one node on the room's network, or keep the cluster on loopback",
            s.bind
        )));
    }
    Ok(Some(s.bind.clone()))
}

/// Run `cql` as whoever is registered for `address` now, on a session of
/// its own (the cached one may carry an older login).
async fn as_role(address: &str, cql: &str, timeout: Duration) -> Result<(), ServiceError> {
    let fail = |e: cql::CqlError| native::other(format!("securing the shared Cassandra: {e}"));
    let session = cql::own_session(address, timeout).await.map_err(fail)?;
    cql::execute(&session, cql, scylla::statement::Consistency::One, timeout)
        .await
        .map(|_| ())
        .map_err(fail)
}

/// Cassandra's built-in superuser, disabled once the admin role exists.
fn default_superuser() -> datalab_clients::auth::Login {
    datalab_clients::auth::Login {
        user: "cassandra".into(),
        password: "cassandra".into(),
    }
}

/// Node `i`'s configuration files and command line.
fn native_node(
    def: &ServiceDef,
    dirs: &ServiceDirs,
    java: &Path,
    cp: &str,
    net: &Net,
    i: u32,
) -> Result<native::NodeCommand, ServiceError> {
    let run = native::run_dir(dirs);
    let d = dirs.data.join(format!("node-{i}"));
    let yaml = run.join(format!("cassandra-{i}.yaml"));
    native::write(&yaml, &cassandra_yaml(&d, net, i))?;
    let logback = run.join(format!("logback-{i}.xml"));
    native::write(
        &logback,
        &logback_config(&dirs.logs.join(format!("node-{i}.log"))),
    )?;
    let mut args: Vec<String> = def.native.jvm_opts.clone();
    if net.shared.is_some() {
        // The default superuser at once, not after ten seconds.
        args.push("-Dcassandra.superuser_setup_delay_ms=0".into());
        // A room's learners change the schema at once and the node applies
        // the changes one at a time; without a flush of the schema tables
        // after each (the commit log still keeps them), a CREATE takes
        // milliseconds instead of a memtable flush.
        args.push("-Dcassandra.test.flush_local_schema_changes=false".into());
    }
    if net.n > 1 {
        // The last -Xms/-Xmx wins; non-seed nodes wait for the seed's
        // gossip (it may start later than they do) instead of giving up
        // after the definition's short ring delay.
        args.extend(CLUSTER_HEAP.map(String::from));
        if i > 0 {
            args.push("-Dcassandra.ring_delay_ms=15000".into());
        }
    }
    args.push(format!("-Dcassandra.config=file://{}", yaml.display()));
    args.push(format!("-Dcassandra.storagedir={}", d.display()));
    args.push(format!("-Dcassandra.logdir={}", dirs.logs.display()));
    args.push(format!("-Dlogback.configurationFile={}", logback.display()));
    args.push(format!("-XX:HeapDumpPath={}", dirs.logs.display()));
    args.extend(["-cp".into(), cp.to_string()]);
    let main = def.native.main_class.as_deref();
    args.push(
        main.unwrap_or("org.apache.cassandra.service.CassandraDaemon")
            .into(),
    );
    let argfile: PathBuf = run.join(format!("node-{i}.args"));
    jvm::java_command(java, &argfile, &args)
}

/// Node `i` of `net.n` on `127.0.0.<i+1>` with its data under `d`, sized
/// for a laptop; node 0 is the seed.
fn cassandra_yaml(d: &Path, net: &Net, i: u32) -> String {
    let host = net.host(i);
    let (seed, storage_port, native_port) = (net.host(0), net.storage_port, net.native_port);
    let (authenticator, authorizer) = match net.shared {
        Some(_) => ("PasswordAuthenticator", "CassandraAuthorizer"),
        None => ("AllowAllAuthenticator", "AllowAllAuthorizer"),
    };
    // Several nodes starting together would all pick the same tokens
    // (none knows the others' yet): give each one token, evenly spaced.
    let tokens = if net.n > 1 {
        format!(
            "num_tokens: 1\ninitial_token: {}\nauto_bootstrap: false\n",
            initial_token(i, net.n)
        )
    } else {
        "num_tokens: 16\nallocate_tokens_for_local_replication_factor: 1\n".to_string()
    };
    format!(
        "# generated by datalab: native Cassandra node {i} of {n} on {host}\n\
         cluster_name: datalab\n\
         {tokens}\
         partitioner: org.apache.cassandra.dht.Murmur3Partitioner\n\
         authenticator: {authenticator}\n\
         authorizer: {authorizer}\n\
         role_manager: CassandraRoleManager\n\
         data_file_directories: [\"{d}/data\"]\n\
         commitlog_directory: \"{d}/commitlog\"\n\
         saved_caches_directory: \"{d}/saved_caches\"\n\
         hints_directory: \"{d}/hints\"\n\
         cdc_raw_directory: \"{d}/cdc_raw\"\n\
         commitlog_sync: periodic\n\
         commitlog_sync_period: 10000ms\n\
         seed_provider:\n  - class_name: org.apache.cassandra.locator.SimpleSeedProvider\n    parameters:\n      - seeds: \"{seed}:{storage_port}\"\n\
         listen_address: {host}\n\
         rpc_address: {host}\n\
         storage_port: {storage_port}\n\
         native_transport_port: {native_port}\n\
         start_native_transport: true\n\
         endpoint_snitch: SimpleSnitch\n\
         concurrent_reads: 8\n\
         concurrent_writes: 8\n\
         concurrent_counter_writes: 8\n\
         memtable_allocation_type: heap_buffers\n\
         disk_access_mode: mmap_index_only\n\
         materialized_views_enabled: true\n\
         sasi_indexes_enabled: true\n",
        d = d.display(),
        n = net.n,
    )
}

/// Node `i`'s token in a ring of `n` evenly spaced ones (Murmur3: -2^63..2^63).
fn initial_token(i: u32, n: u32) -> i64 {
    let step = (u64::MAX / u64::from(n.max(1))) as i128;
    (i64::MIN as i128 + step * i128::from(i)) as i64
}

fn logback_config(log_file: &Path) -> String {
    format!(
        "<configuration><!-- generated by datalab -->\
         <appender name=\"F\" class=\"ch.qos.logback.core.FileAppender\"><file>{}</file>\
         <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %F:%L - %msg%n</pattern></encoder></appender>\
         <root level=\"INFO\"><appender-ref ref=\"F\"/></root></configuration>\n",
        log_file.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_nodes_get_distinct_hosts_tokens_and_one_seed() {
        let net = Net {
            n: 3,
            native_port: 19042,
            storage_port: 17000,
            shared: None,
        };
        let yamls: Vec<String> = (0..3)
            .map(|i| cassandra_yaml(Path::new("/d"), &net, i))
            .collect();
        for (i, y) in yamls.iter().enumerate() {
            assert!(
                y.contains(&format!("listen_address: 127.0.0.{}\n", i + 1)),
                "{y}"
            );
            assert!(y.contains("seeds: \"127.0.0.1:17000\""), "{y}");
            assert!(y.contains("auto_bootstrap: false"), "{y}");
            assert!(y.contains("native_transport_port: 19042"), "{y}");
        }
        assert_eq!(initial_token(0, 3), i64::MIN);
        assert!(initial_token(1, 3) < initial_token(2, 3));
        assert!(initial_token(2, 3) > 0);
        let one = cassandra_yaml(Path::new("/d"), &Net { n: 1, ..net }, 0);
        assert!(one.contains("num_tokens: 16") && !one.contains("auto_bootstrap"));
        assert!(one.contains("authenticator: AllowAllAuthenticator"));
    }

    #[test]
    fn docker_nodes_share_the_seed_and_get_their_own_token() {
        let def: ServiceDef = serde_saphyr::from_str(
            "kind: cassandra\nversion: '1'\nimage: {official: a, local: b}\nport: 9042\nready: {timeout: 1}\nenv: {JVM_EXTRA_OPTS: -Dx=1 -Dcassandra.initial_token=0 -Dcassandra.ring_delay_ms=100}\n",
        )
        .unwrap();
        let names = ["n0".to_string(), "n1".into(), "n2".into()];
        let node = |index, seed| super::super::DockerNode {
            index,
            host_port: 4000,
            names: &names,
            cluster_id: "id",
            seed,
        };
        let seed = Cassandra.docker_env(&def, &node(0, None));
        assert!(!seed.contains_key("CASSANDRA_SEEDS"), "{seed:?}");
        assert!(!seed.contains_key("CASSANDRA_BROADCAST_RPC_ADDRESS"));
        let env = Cassandra.docker_env(&def, &node(2, Some("172.30.0.2")));
        assert_eq!(env["CASSANDRA_SEEDS"], "172.30.0.2");
        assert_eq!(env["CASSANDRA_NUM_TOKENS"], "1");
        let opts = &env["JVM_EXTRA_OPTS"];
        let token = format!("-Dcassandra.initial_token={}", initial_token(2, 3));
        assert!(
            opts.starts_with("-Dx=1 ") && opts.contains(&token),
            "{opts}"
        );
        assert!(!opts.contains("initial_token=0 ") && !opts.contains("ring_delay_ms=100"));
        assert!(opts.contains("-Dcassandra.auto_bootstrap=false"), "{opts}");
        assert!(opts.ends_with("-Xms384m -Xmx512m"), "{opts}");
        let one = ["n0".to_string()];
        let single = Cassandra.docker_env(
            &def,
            &super::super::DockerNode {
                names: &one,
                ..node(0, None)
            },
        );
        assert_eq!(single["CASSANDRA_BROADCAST_RPC_ADDRESS"], "127.0.0.1");
        assert_eq!(single["JVM_EXTRA_OPTS"], def.env["JVM_EXTRA_OPTS"]);
        assert_eq!(Cassandra.docker_wiring(1), super::super::Wiring::Published);
        assert_eq!(Cassandra.docker_wiring(3), super::super::Wiring::Seeded);
    }

    #[test]
    fn a_shared_node_listens_where_told_and_asks_for_logins() {
        let net = Net {
            n: 1,
            native_port: 19042,
            storage_port: 17000,
            shared: Some("10.1.2.3".into()),
        };
        let y = cassandra_yaml(Path::new("/d"), &net, 0);
        assert!(y.contains("rpc_address: 10.1.2.3\n"), "{y}");
        assert!(y.contains("authenticator: PasswordAuthenticator\n"), "{y}");
        assert!(y.contains("authorizer: CassandraAuthorizer\n"), "{y}");
        let mut opts = UpOptions {
            nodes: 3,
            shared: Some(crate::Shared {
                bind: "10.1.2.3".into(),
                advertise: "10.1.2.3".into(),
                admin: default_superuser(),
            }),
        };
        assert!(shared_host(&opts, 3).is_err());
        opts.shared.as_mut().unwrap().bind = "127.0.0.1".into();
        assert!(shared_host(&opts, 3).is_ok());
    }
}
