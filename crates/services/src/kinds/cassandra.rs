//! Apache Cassandra, one node: natively `CassandraDaemon` from the
//! `cassandra-all` jars with a generated `cassandra.yaml` on 127.0.0.1; in
//! docker the image's `CASSANDRA_*` environment.

use super::{About, Kind, PingInfo, first_line, unreachable};
use crate::definition::ServiceDef;
use crate::native::{self, Prepared, jvm};
use crate::provider::{ProgressFn, ServiceDirs};
use crate::{Namespace, ServiceError, ServiceKind, UpOptions};
use datalab_clients::cql;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

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
    let session = cql::session(contact, timeout)
        .await
        .map_err(|e| unreachable(KIND, contact, first_line(&e.to_string())))?;
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
        Ok(PingInfo {
            version,
            flavor: Some("Apache Cassandra".into()),
            nodes: 1,
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

    /// Clients learn the node's RPC address from `system.local`: keep it on
    /// loopback so no driver wanders off it.
    fn docker_env(
        &self,
        def: &ServiceDef,
        _node: &super::DockerNode<'_>,
    ) -> BTreeMap<String, String> {
        let mut env = def.env.clone();
        env.entry("CASSANDRA_BROADCAST_RPC_ADDRESS".into())
            .or_insert_with(|| "127.0.0.1".into());
        env
    }

    async fn native_prepare(
        &self,
        def: &ServiceDef,
        _opts: &UpOptions,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<Prepared, ServiceError> {
        let java = jvm::find_java(def.kind).await?;
        let cp = jvm::maven_classpath(def, &dirs.cache, progress).await?;
        native::fresh_dirs(dirs)?;
        let run = native::run_dir(dirs);
        let (native_port, storage_port) = (native::free_port()?, native::free_port()?);
        let d = dirs.data.join("node-0");
        let yaml = run.join("cassandra.yaml");
        native::write(&yaml, &cassandra_yaml(&d, native_port, storage_port))?;
        let logback = run.join("logback.xml");
        native::write(&logback, &logback_config(&dirs.logs.join("node-0.log")))?;
        let mut args: Vec<String> = def.native.jvm_opts.clone();
        args.push(format!("-Dcassandra.config=file://{}", yaml.display()));
        args.push(format!("-Dcassandra.storagedir={}", d.display()));
        args.push(format!("-Dcassandra.logdir={}", dirs.logs.display()));
        args.push(format!("-Dlogback.configurationFile={}", logback.display()));
        args.push(format!("-XX:HeapDumpPath={}", dirs.logs.display()));
        args.extend(["-cp".into(), cp]);
        let main = def.native.main_class.as_deref();
        args.push(
            main.unwrap_or("org.apache.cassandra.service.CassandraDaemon")
                .into(),
        );
        let command = jvm::java_command(&java, &run.join("node-0.args"), &args)?;
        Ok(Prepared {
            commands: vec![command],
            addresses: vec![format!("127.0.0.1:{native_port}")],
            version: def.version.clone(),
            flavor: format!("Apache Cassandra {}", def.version),
        })
    }
}

/// One node on 127.0.0.1 with its data under `d`, sized for a laptop.
fn cassandra_yaml(d: &Path, native_port: u16, storage_port: u16) -> String {
    format!(
        "# generated by datalab: one native Cassandra node on 127.0.0.1\n\
         cluster_name: datalab\n\
         num_tokens: 16\n\
         allocate_tokens_for_local_replication_factor: 1\n\
         partitioner: org.apache.cassandra.dht.Murmur3Partitioner\n\
         authenticator: AllowAllAuthenticator\n\
         authorizer: AllowAllAuthorizer\n\
         data_file_directories: [\"{d}/data\"]\n\
         commitlog_directory: \"{d}/commitlog\"\n\
         saved_caches_directory: \"{d}/saved_caches\"\n\
         hints_directory: \"{d}/hints\"\n\
         cdc_raw_directory: \"{d}/cdc_raw\"\n\
         commitlog_sync: periodic\n\
         commitlog_sync_period: 10000ms\n\
         seed_provider:\n  - class_name: org.apache.cassandra.locator.SimpleSeedProvider\n    parameters:\n      - seeds: \"127.0.0.1:{storage_port}\"\n\
         listen_address: 127.0.0.1\n\
         rpc_address: 127.0.0.1\n\
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
        d = d.display()
    )
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
