//! Apache Kafka in KRaft mode: every node is a combined broker + controller.
//! The cluster rule (ids, voters, replication factor and minimum ISR for `n`
//! brokers) is [`kraft`], written once: the native provider writes it as
//! `server.properties`, the docker provider as the image's `KAFKA_*`
//! environment.

use super::{About, DockerNode, Kind, PingInfo, unreachable};
use crate::definition::ServiceDef;
use crate::native::{self, NodeCommand, Prepared, jvm};
use crate::provider::{ProgressFn, ServiceDirs};
use crate::{Namespace, ServiceError, ServiceKind, Shared, UpOptions};
use datalab_clients::auth::Login;
use datalab_clients::kafka::{Kafka as Client, KafkaError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) struct Kafka;

/// How the nodes of one start reach each other and their clients.
struct Listeners {
    /// `listeners=`
    bind: String,
    /// `advertised.listeners=`
    advertised: String,
    /// The listener brokers replicate over.
    inter_broker: &'static str,
    /// `listener.security.protocol.map=`
    protocols: &'static str,
    /// `controller.quorum.voters=` (`id@host:port`, one per node).
    voters: String,
}

/// The KRaft cluster of `n` brokers, node `index` (0-based; node ids start at
/// 1): roles, quorum, listeners, and replication settings that `n` brokers
/// can honour (replication factor up to 3, minimum ISR 2 from 3 replicas).
fn kraft(index: u32, n: u32, net: &Listeners) -> Vec<(&'static str, String)> {
    let rf = n.min(3);
    let isr = if rf >= 3 { 2 } else { 1 };
    vec![
        ("process.roles", "broker,controller".into()),
        ("node.id", (index + 1).to_string()),
        ("controller.quorum.voters", net.voters.clone()),
        ("listeners", net.bind.clone()),
        ("advertised.listeners", net.advertised.clone()),
        ("controller.listener.names", "CONTROLLER".into()),
        ("inter.broker.listener.name", net.inter_broker.into()),
        ("listener.security.protocol.map", net.protocols.into()),
        ("default.replication.factor", rf.to_string()),
        ("min.insync.replicas", "1".into()),
        ("offsets.topic.replication.factor", rf.to_string()),
        ("offsets.topic.num.partitions", "10".into()),
        ("transaction.state.log.replication.factor", rf.to_string()),
        ("transaction.state.log.min.isr", isr.to_string()),
        (
            "share.coordinator.state.topic.replication.factor",
            rf.to_string(),
        ),
        ("share.coordinator.state.topic.min.isr", isr.to_string()),
        ("group.initial.rebalance.delay.ms", "0".into()),
    ]
}

/// What a native broker sets beyond the cluster rule: its data, and small
/// thread pools and buffers for a laptop.
const NATIVE_EXTRAS: &str = "num.partitions=1\n\
    transaction.state.log.num.partitions=10\n\
    num.network.threads=2\n\
    num.io.threads=2\n\
    background.threads=2\n\
    log.cleaner.dedupe.buffer.size=8388608\n\
    log.cleaner.threads=1\n";

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[async_trait::async_trait]
impl Kind for Kafka {
    fn about(&self) -> &'static About {
        &About {
            kind: ServiceKind::Kafka,
            title: "Kafka",
            env_var: "DATALAB_KAFKA_BOOTSTRAP",
            env_example: "export DATALAB_KAFKA_BOOTSTRAP=host:9092[,host:9092…]",
            node_noun: "broker",
        }
    }

    fn nodes(&self, opts: &UpOptions) -> u32 {
        opts.nodes.max(1)
    }

    fn connect_hint(&self, address: &str) -> String {
        format!("kcat -b {address} -L")
    }

    async fn ping(&self, address: &str, timeout: Duration) -> Result<PingInfo, ServiceError> {
        let (brokers, _) = Client::new(address, timeout)
            .cluster()
            .await
            .map_err(|e| match e {
                // The broker answered and refused (the login): not "did not answer".
                KafkaError::Failed(_) => ServiceError::Other(e.to_string()),
                e => unreachable(ServiceKind::Kafka, address, e),
            })?;
        Ok(PingInfo {
            nodes: brokers.len() as u32,
            ..Default::default()
        })
    }

    /// Topics (not internal ones) and consumer groups of the namespace: a
    /// group's committed offsets would otherwise outlive its topics.
    async fn reset(
        &self,
        address: &str,
        ns: &Namespace,
        timeout: Duration,
    ) -> Result<Vec<String>, ServiceError> {
        let client = Client::new(address, timeout);
        let failed = |e| ServiceError::Other(format!("kafka: {e}"));
        let (_, topics) = client.cluster().await.map_err(failed)?;
        let doomed: Vec<String> = topics
            .into_iter()
            .filter(|t| !t.starts_with('_') && ns.strip(t).is_some())
            .collect();
        let mut dropped: Vec<String> = (client.delete_topics(&doomed).await)
            .map_err(failed)?
            .into_iter()
            .map(|t| format!("topic {t}"))
            .collect();
        let groups: Vec<String> = (client.groups().await.map_err(failed)?)
            .into_iter()
            .filter(|g| !g.is_empty() && ns.strip(g).is_some())
            .collect();
        let gone = client.delete_groups(&groups).await;
        dropped.extend(gone.into_iter().map(|g| format!("group {g}")));
        Ok(dropped)
    }

    /// The cluster rule as the image's `KAFKA_*` variables: clients on the
    /// published port, brokers and controllers on the start's network by
    /// container name.
    fn docker_env(&self, def: &ServiceDef, node: &DockerNode<'_>) -> BTreeMap<String, String> {
        let me = &node.names[node.index as usize];
        let voters: Vec<String> = (node.names.iter().enumerate())
            .map(|(i, name)| format!("{}@{name}:9093", i + 1))
            .collect();
        let net = Listeners {
            bind: format!(
                "PLAINTEXT://0.0.0.0:{},CONTROLLER://0.0.0.0:9093,INTERNAL://0.0.0.0:19092",
                def.port
            ),
            advertised: format!(
                "PLAINTEXT://127.0.0.1:{},INTERNAL://{me}:19092",
                node.host_port
            ),
            inter_broker: "INTERNAL",
            protocols: "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT",
            voters: voters.join(","),
        };
        let mut env = def.env.clone();
        env.insert("CLUSTER_ID".into(), node.cluster_id.to_string());
        for (key, value) in kraft(node.index, node.names.len() as u32, &net) {
            env.insert(
                format!("KAFKA_{}", key.to_uppercase().replace('.', "_")),
                value,
            );
        }
        env
    }

    fn docker_wiring(&self, _nodes: u32) -> super::Wiring {
        super::Wiring::Named
    }

    fn docker_flavor(&self, _info: &PingInfo, nodes: u32) -> Option<String> {
        Some(format!(
            "Apache Kafka (KRaft, {nodes} broker{})",
            plural(nodes)
        ))
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
        let mut ports = Vec::new();
        for _ in 0..n {
            ports.push((native::free_port()?, native::free_port()?));
        }
        let voters: Vec<String> = (ports.iter().enumerate())
            .map(|(i, (_, c))| format!("{}@127.0.0.1:{c}", i + 1))
            .collect();
        let setup = NativeSetup {
            def,
            dirs,
            java,
            cp,
            voters: voters.join(","),
            n,
            shared: opts.shared.as_ref(),
        };
        let nodes = (ports.iter().enumerate())
            .map(|(i, &(port, cport))| setup.node(i as u32, port, cport))
            .collect::<Result<Vec<_>, _>>()?;
        progress(&format!("formatting KRaft storage for {n} broker(s)"));
        setup.format_storage(&nodes).await?;
        let host = opts.shared.as_ref().map_or("127.0.0.1", |s| &s.advertise);
        let addresses: Vec<String> = ports.iter().map(|(p, _)| format!("{host}:{p}")).collect();
        if let Some(s) = &opts.shared {
            datalab_clients::auth::register(&addresses.join(","), &s.admin);
        }
        Ok(Prepared {
            commands: nodes.into_iter().map(|n| n.command).collect(),
            addresses,
            version: def.version.clone(),
            flavor: format!(
                "Apache Kafka {} (KRaft, {n} broker{})",
                def.version,
                plural(n)
            ),
        })
    }
}

/// What every native broker of one start shares.
struct NativeSetup<'a> {
    def: &'a ServiceDef,
    dirs: &'a ServiceDirs,
    java: PathBuf,
    cp: String,
    voters: String,
    n: u32,
    shared: Option<&'a Shared>,
}

/// A shared cluster's brokers: SCRAM-SHA-512 logins for clients and for
/// replication between brokers, PLAIN for the loopback-only controller
/// quorum (KRaft's controllers cannot use SCRAM), the standard authorizer
/// with the admin as the only super user, and nothing allowed without an
/// ACL.
fn secured(admin: &Login) -> String {
    let (user, pw) = (&admin.user, &admin.password);
    format!(
        "sasl.enabled.mechanisms=SCRAM-SHA-512\n\
         sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512\n\
         listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{user}\" password=\"{pw}\";\n\
         sasl.mechanism.controller.protocol=PLAIN\n\
         listener.name.controller.sasl.enabled.mechanisms=PLAIN\n\
         listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"{user}\" password=\"{pw}\" user_{user}=\"{pw}\";\n\
         authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n\
         super.users=User:{user}\n\
         allow.everyone.if.no.acl.found=false\n"
    )
}

/// One native broker's command and files.
struct NativeNode {
    command: NodeCommand,
    properties: PathBuf,
    log4j: PathBuf,
}

impl NativeSetup<'_> {
    /// Write broker `i`'s `server.properties`, log configuration and JVM
    /// argument file.
    fn node(&self, i: u32, port: u16, cport: u16) -> Result<NativeNode, ServiceError> {
        let run = native::run_dir(self.dirs);
        let net = match &self.shared {
            None => Listeners {
                bind: format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}"),
                advertised: format!("PLAINTEXT://127.0.0.1:{port}"),
                inter_broker: "PLAINTEXT",
                protocols: "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                voters: self.voters.clone(),
            },
            Some(s) => Listeners {
                bind: format!(
                    "SASL_PLAINTEXT://{}:{port},CONTROLLER://127.0.0.1:{cport}",
                    s.bind
                ),
                advertised: format!("SASL_PLAINTEXT://{}:{port}", s.advertise),
                inter_broker: "SASL_PLAINTEXT",
                protocols: "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
                voters: self.voters.clone(),
            },
        };
        let mut props = format!("# generated by datalab: native Kafka broker {i}\n");
        for (key, value) in kraft(i, self.n, &net) {
            props.push_str(&format!("{key}={value}\n"));
        }
        if let Some(s) = &self.shared {
            props.push_str(&secured(&s.admin));
        }
        let data = self.dirs.data.join(format!("node-{i}"));
        props.push_str(&format!("log.dirs={}\n{NATIVE_EXTRAS}", data.display()));
        let properties = run.join(format!("node-{i}.properties"));
        native::write(&properties, &props)?;
        let log4j = run.join(format!("node-{i}.log4j2.xml"));
        native::write(
            &log4j,
            &log4j_config(&self.dirs.logs.join(format!("node-{i}.log"))),
        )?;
        let mut args: Vec<String> = self.def.native.jvm_opts.clone();
        args.push(format!("-Dlog4j2.configurationFile={}", log4j.display()));
        args.push(format!("-Dkafka.logs.dir={}", self.dirs.logs.display()));
        args.extend(["-cp".into(), self.cp.clone()]);
        args.push(
            self.def
                .native
                .main_class
                .clone()
                .unwrap_or_else(|| "kafka.Kafka".into()),
        );
        args.push(properties.display().to_string());
        let command = jvm::java_command(&self.java, &run.join(format!("node-{i}.args")), &args)?;
        Ok(NativeNode {
            command,
            properties,
            log4j,
        })
    }

    /// A shared cluster's admin SCRAM login, for `format` to put in the
    /// metadata from the start: in an argument file (0600 in a 0700
    /// folder), never on a command line.
    fn scram_args(&self) -> Result<Option<PathBuf>, ServiceError> {
        let Some(s) = self.shared else {
            return Ok(None);
        };
        let (user, pw) = (&s.admin.user, &s.admin.password);
        let scram = format!("SCRAM-SHA-512=[name={user},password={pw}]");
        let file = native::run_dir(self.dirs).join("scram.args");
        // Read by the tool's own argument parser: one argument a line, as is.
        native::write(&file, &format!("--add-scram\n{scram}\n"))?;
        Ok(Some(file))
    }

    /// `kafka-storage format` for every broker, at once.
    async fn format_storage(&self, nodes: &[NativeNode]) -> Result<(), ServiceError> {
        let cp_file = native::run_dir(self.dirs).join("classpath.args");
        native::write(&cp_file, &jvm::argfile(&["-cp".into(), self.cp.clone()]))?;
        let cluster_id = crate::process::random_cluster_id()
            .map_err(|e| native::other(format!("no randomness: {e}")))?;
        let scram = self.scram_args()?;
        let formats = nodes.iter().map(|node| {
            let mut c = tokio::process::Command::new(&self.java);
            c.arg("-Xmx256m")
                .arg("-XX:TieredStopAtLevel=1")
                .arg(format!("@{}", cp_file.display()))
                .arg(format!(
                    "-Dlog4j2.configurationFile={}",
                    node.log4j.display()
                ))
                .args(["kafka.tools.StorageTool", "format", "-t", &cluster_id, "-c"])
                .arg(&node.properties)
                .kill_on_drop(true);
            if let Some(file) = &scram {
                c.arg(format!("@{}", file.display()));
            }
            async move { tokio::time::timeout(Duration::from_secs(120), c.output()).await }
        });
        for out in futures::future::join_all(formats).await {
            let out = out
                .map_err(|_| native::other("formatting Kafka storage took more than 2 minutes"))?
                .map_err(|e| native::io_err("cannot run", &self.java, e))?;
            if !out.status.success() {
                return Err(native::other(format!(
                    "formatting Kafka storage failed: {}{}",
                    String::from_utf8_lossy(&out.stdout).trim(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
        Ok(())
    }
}

/// log4j2 configuration: the broker's log into `log_file`, client chatter
/// left out.
fn log4j_config(log_file: &Path) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<!-- generated by datalab -->\n<Configuration status=\"WARN\">\
         <Appenders><File name=\"f\" fileName=\"{}\"><PatternLayout pattern=\"[%d] %p %m (%c)%n\"/></File></Appenders>\
         <Loggers><Root level=\"info\"><AppenderRef ref=\"f\"/></Root>\
         <Logger name=\"kafka.request.logger\" level=\"warn\"/><Logger name=\"org.apache.kafka.clients\" level=\"warn\"/></Loggers>\
         </Configuration>\n",
        log_file.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> Listeners {
        Listeners {
            bind: "b".into(),
            advertised: "a".into(),
            inter_broker: "PLAINTEXT",
            protocols: "p",
            voters: "1@x:1,2@y:2,3@z:3".into(),
        }
    }

    #[test]
    fn the_cluster_rule_follows_the_broker_count() {
        let get = |n, key| {
            kraft(0, n, &net())
                .into_iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v)
                .unwrap()
        };
        assert_eq!(get(1, "default.replication.factor"), "1");
        assert_eq!(get(3, "default.replication.factor"), "3");
        assert_eq!(get(3, "transaction.state.log.min.isr"), "2");
        assert_eq!(get(1, "share.coordinator.state.topic.min.isr"), "1");
        assert_eq!(get(5, "offsets.topic.replication.factor"), "3");
    }

    #[test]
    fn docker_env_is_the_same_rule_as_kafka_variables() {
        let def: ServiceDef = serde_saphyr::from_str(
            "kind: kafka\nversion: '1'\nimage: {official: a, local: b}\nport: 9092\nready: {timeout: 1}\n",
        )
        .unwrap();
        let names = ["n0".to_string(), "n1".into(), "n2".into()];
        let node = DockerNode {
            index: 1,
            host_port: 4000,
            names: &names,
            cluster_id: "id",
            seed: None,
        };
        let env = Kafka.docker_env(&def, &node);
        assert_eq!(env["KAFKA_NODE_ID"], "2");
        assert_eq!(
            env["KAFKA_CONTROLLER_QUORUM_VOTERS"],
            "1@n0:9093,2@n1:9093,3@n2:9093"
        );
        assert_eq!(env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"], "2");
        assert_eq!(
            env["KAFKA_ADVERTISED_LISTENERS"],
            "PLAINTEXT://127.0.0.1:4000,INTERNAL://n1:19092"
        );
        assert_eq!(env["CLUSTER_ID"], "id");
    }
}
