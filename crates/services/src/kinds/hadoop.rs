//! Apache Hadoop: HDFS, YARN and the JobHistory server in one JVM, Hadoop's
//! own CLI MiniCluster (`MiniHadoopClusterManager`) from Maven Central jars.
//! The address is the NameNode, `hdfs://127.0.0.1:N`; datalab gives the NameNode's web port (WebHDFS) the
//! next port, N + 1, so the address alone reaches WebHDFS for pings and
//! resets. The ResourceManager's web port (8088) and the JobHistory web port
//! (19888) are fixed by the MiniCluster whatever it is told.
//!
//! A start writes the client configuration folder (`core-site.xml`,
//! `hdfs-site.xml`, `yarn-site.xml`, `mapred-site.xml`) into the data dir's
//! `conf/`: with it first on the classpath, Hadoop's own tools (FsShell,
//! Hadoop Streaming) talk to this cluster ([`crate::Services::hadoop_client`]).
//!
//! In docker (`containers/docker/hadoop/`, [`super::Wiring::Routed`]) the
//! same jars run as Hadoop's own NameNode and DataNode plus the MiniCluster's
//! YARN and JobHistory (`-nodfs`: its DataNode would listen on 127.0.0.1
//! only), every server on the container's address, which the host routes
//! to: the address is `hdfs://<container>:8020`, the ResourceManager 8032,
//! JobHistory 10020, and the client configuration, written once the
//! container answers, names them, with the image's jars as the jobs'
//! classpath.

use super::{About, Kind, PingInfo, unreachable};
use crate::definition::ServiceDef;
use crate::native::{self, NodeCommand, Prepared, jvm};
use crate::provider::{ProgressFn, ServiceDirs};
use crate::{Endpoint, Namespace, ServiceError, ServiceKind, Services, UpOptions};
use datalab_clients::hadoop::{JHS_WEB_PORT, get_json, http};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) struct Hadoop;

const KIND: ServiceKind = ServiceKind::Hadoop;
/// Ports the MiniCluster fixes whatever it is told.
const RM_SCHEDULER_PORT: u16 = 8030;
const RM_WEB_PORT: u16 = 8088;
// The JobHistory web port (19888) is fixed too: `JHS_WEB_PORT`.
/// Where MapReduce jobs stage their files (cluster and clients must agree,
/// or JobHistory does not list the jobs).
const STAGING: &str = "/staging";
/// Servers whose listening address is 127.0.0.1 rather than all interfaces.
const BIND_HOSTS: [&str; 4] = [
    "yarn.resourcemanager.bind-host",
    "yarn.nodemanager.bind-host",
    "mapreduce.jobhistory.bind-host",
    "dfs.namenode.rpc-bind-host",
];
/// Top-level HDFS folders a reset keeps: MapReduce's own.
const KEPT: [&str; 2] = ["staging", "tmp"];

/// `hdfs://host:port[/]` → `host:port`.
fn namenode(address: &str) -> Option<&str> {
    let rest = address.trim().strip_prefix("hdfs://")?;
    let hp = rest.trim_end_matches('/');
    let (host, port) = hp.rsplit_once(':')?;
    (!host.is_empty() && port.parse::<u16>().is_ok()).then_some(hp)
}

/// The NameNode's web (WebHDFS) `host:port`: the RPC port + 1.
fn web_of(namenode: &str) -> Option<(String, String)> {
    let (host, port) = namenode.rsplit_once(':')?;
    let web = port.parse::<u16>().ok()?.checked_add(1)?;
    Some((host.to_string(), format!("{host}:{web}")))
}

/// The entries of an HDFS folder over WebHDFS: (name, owner).
async fn list(web: &str, dir: &str, timeout: Duration) -> Result<Vec<(String, String)>, String> {
    let v = get_json(web, &format!("/webhdfs/v1{dir}?op=LISTSTATUS"), timeout).await?;
    let entries = v["FileStatuses"]["FileStatus"].as_array().cloned();
    Ok(entries
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("pathSuffix"), s("owner"))
        })
        .collect())
}

/// A job waits forever without a running NodeManager (YARN marks one
/// unhealthy when, say, its disks look full), so the cluster is up only with
/// one; otherwise the error carries YARN's own health report.
fn healthy_node(nodes: &serde_json::Value) -> Result<(), String> {
    let list = nodes["nodes"]["node"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if list.iter().any(|n| n["state"] == "RUNNING") {
        return Ok(());
    }
    let reports: Vec<String> = list
        .iter()
        .map(|n| {
            let state = n["state"].as_str().unwrap_or("unknown");
            let report = n["healthReport"].as_str().unwrap_or("");
            format!("{state} {report}").trim().to_string()
        })
        .collect();
    Err(match reports.is_empty() {
        true => "no YARN NodeManager has registered yet".into(),
        false => format!("no YARN NodeManager runs jobs: {}", reports.join("; ")),
    })
}

#[async_trait::async_trait]
impl Kind for Hadoop {
    fn about(&self) -> &'static About {
        &About {
            kind: KIND,
            title: "Hadoop",
            env_var: "DATALAB_HADOOP_FS",
            env_example: "export DATALAB_HADOOP_FS=hdfs://host:port",
            node_noun: "node",
        }
    }

    fn address(&self, hosts: &[String]) -> String {
        format!("hdfs://{}", hosts.first().map(String::as_str).unwrap_or(""))
    }

    fn host_ports(&self, address: &str) -> Vec<String> {
        namenode(address).map(str::to_string).into_iter().collect()
    }

    fn validate(&self, address: &str) -> Result<(), String> {
        namenode(address)
            .map(|_| ())
            .ok_or_else(|| format!("`{address}` is not hdfs://host:port"))
    }

    fn connect_hint(&self, address: &str) -> String {
        match namenode(address).and_then(web_of) {
            Some((_, web)) => format!("curl 'http://{web}/webhdfs/v1/?op=LISTSTATUS'"),
            None => address.to_string(),
        }
    }

    /// HDFS answers over WebHDFS, the ResourceManager says STARTED, and the
    /// JobHistory server answers: the whole cluster is up.
    async fn ping(&self, address: &str, timeout: Duration) -> Result<PingInfo, ServiceError> {
        let fail = |e: String| unreachable(KIND, address, e);
        let (host, web) = namenode(address)
            .and_then(web_of)
            .ok_or_else(|| fail("not hdfs://host:port".into()))?;
        get_json(&web, "/webhdfs/v1/?op=GETFILESTATUS", timeout)
            .await
            .map_err(fail)?;
        let rm = format!("{host}:{RM_WEB_PORT}");
        let info = get_json(&rm, "/ws/v1/cluster/info", timeout)
            .await
            .map_err(fail)?;
        let state = info["clusterInfo"]["state"].as_str().unwrap_or("unknown");
        if state != "STARTED" {
            return Err(fail(format!("the ResourceManager is {state}")));
        }
        let nodes = get_json(&rm, "/ws/v1/cluster/nodes", timeout)
            .await
            .map_err(fail)?;
        healthy_node(&nodes).map_err(fail)?;
        let jhs = format!("{host}:{JHS_WEB_PORT}");
        get_json(&jhs, "/ws/v1/history/info", timeout)
            .await
            .map_err(fail)?;
        let version = info["clusterInfo"]["hadoopVersion"].as_str();
        Ok(PingInfo {
            version: version.map(str::to_string),
            flavor: Some("Apache Hadoop (HDFS + YARN)".into()),
            nodes: 1,
        })
    }

    /// Every top-level HDFS entry of the namespace, except MapReduce's own
    /// `/staging` and `/tmp`.
    async fn reset(
        &self,
        address: &str,
        ns: &Namespace,
        timeout: Duration,
    ) -> Result<Vec<String>, ServiceError> {
        let fail = |e: String| unreachable(KIND, address, e);
        let (_, web) = namenode(address)
            .and_then(web_of)
            .ok_or_else(|| fail("not hdfs://host:port".into()))?;
        let mut dropped = Vec::new();
        for (name, owner) in list(&web, "/", timeout).await.map_err(fail)? {
            if KEPT.contains(&name.as_str()) || ns.strip(&name).is_none() {
                continue;
            }
            let path = format!("/webhdfs/v1/{name}?op=DELETE&recursive=true&user.name={owner}");
            let (code, body) = http("DELETE", &web, &path, timeout * 6)
                .await
                .map_err(fail)?;
            if code != 200 {
                return Err(ServiceError::Other(format!(
                    "hadoop: could not delete /{name}: {code} {}",
                    body.trim()
                )));
            }
            dropped.push(format!("hdfs /{name}"));
        }
        Ok(dropped)
    }

    fn docker_wiring(&self, _nodes: u32) -> super::Wiring {
        super::Wiring::Routed
    }

    fn docker_hostname(&self) -> Option<&'static str> {
        Some(DOCKER_HOSTNAME)
    }

    /// The client configuration, as natively, naming the container's address
    /// and the image's fixed ports (`containers/docker/hadoop/`).
    fn docker_ready(&self, address: &str, dirs: &ServiceDirs) -> Result<(), ServiceError> {
        let bad = || native::other(format!("`{address}` is not hdfs://host:port"));
        let (host, port) = namenode(address)
            .and_then(|nn| nn.rsplit_once(':'))
            .ok_or_else(bad)?;
        let namenode: u16 = port.parse().map_err(|_| bad())?;
        let ports = Ports {
            host: host.to_string(),
            namenode,
            namenode_web: namenode.saturating_add(1),
            rm: DOCKER_RM,
            jhs: DOCKER_JHS,
        };
        write_client_conf(&conf_dir(dirs), &ports, Runs::Docker)?;
        // The job's tracking addresses name the container's host name; the
        // host's resolver does not know it, the client JVM reads this file.
        native::write(&conf_dir(dirs).join(HOSTS_FILE), &hosts_file(host))
    }

    async fn native_prepare(
        &self,
        def: &ServiceDef,
        _opts: &UpOptions,
        dirs: &ServiceDirs,
        progress: &ProgressFn,
    ) -> Result<Prepared, ServiceError> {
        let java = jvm::find_java(KIND).await?;
        let cp = jvm::maven_classpath(def, &dirs.cache, progress).await?;
        native::fresh_dirs(dirs)?;
        // YARN's work folders of an earlier run (`target/` under the
        // working directory, whatever test.build.data says).
        let _ = std::fs::remove_dir_all(dirs.data.with_file_name("target"));
        let ports = Ports::pick()?;
        write_client_conf(&conf_dir(dirs), &ports, Runs::Native)?;
        // A docker run's name table, if one came before in this home.
        let _ = std::fs::remove_file(conf_dir(dirs).join(HOSTS_FILE));
        let command = cluster_command(def, dirs, &java, cp, &ports)?;
        Ok(Prepared {
            commands: vec![command],
            addresses: vec![format!("127.0.0.1:{}", ports.namenode)],
            version: def.version.clone(),
            flavor: format!(
                "Apache Hadoop {} MiniCluster: HDFS web 127.0.0.1:{}, YARN ResourceManager 127.0.0.1:{} (web :{RM_WEB_PORT}), JobHistory 127.0.0.1:{} (web :{JHS_WEB_PORT}); client config {}",
                def.version,
                ports.namenode_web,
                ports.rm,
                ports.jhs,
                conf_dir(dirs).display()
            ),
        })
    }
}

/// The ports the image's entrypoint fixes (the NameNode's is the address's).
const DOCKER_RM: u16 = 8032;
const DOCKER_JHS: u16 = 10020;

/// Where one start's servers answer.
struct Ports {
    /// 127.0.0.1 natively, the container's address in docker.
    host: String,
    namenode: u16,
    /// Always `namenode + 1` (see the module docs).
    namenode_web: u16,
    rm: u16,
    jhs: u16,
}

impl Ports {
    fn pick() -> Result<Ports, ServiceError> {
        for _ in 0..50 {
            let nn = native::free_port()?;
            let free = nn
                .checked_add(1)
                .is_some_and(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
            if free {
                return Ok(Ports {
                    host: "127.0.0.1".into(),
                    namenode: nn,
                    namenode_web: nn + 1,
                    rm: native::free_port()?,
                    jhs: native::free_port()?,
                });
            }
        }
        Err(native::other("no two free neighbouring ports on 127.0.0.1"))
    }
}

/// The client configuration folder of a start.
fn conf_dir(dirs: &ServiceDirs) -> PathBuf {
    dirs.data.join("conf")
}

fn site_xml(props: &[(&str, String)], cluster: &str) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\"?>\n<!-- generated by datalab: {cluster} -->\n<configuration>\n"
    );
    for (k, v) in props {
        s.push_str(&format!(
            "  <property><name>{k}</name><value>{v}</value></property>\n"
        ));
    }
    s + "</configuration>\n"
}

/// Where the cluster runs, for its client configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runs {
    Native,
    Docker,
}

/// The docker container's host name, and the file in the client
/// configuration folder that tells the client JVM its address
/// (`-Djdk.net.hosts.file`, [`HadoopClient::jvm_args`]).
const DOCKER_HOSTNAME: &str = "hadoop";
const HOSTS_FILE: &str = "hosts";

/// The client JVM's whole name table (`-Djdk.net.hosts.file` replaces the
/// resolver). The MiniCluster's NodeManager calls itself `localhost`, so a
/// job's ApplicationMaster is announced as `localhost:<port>`: for this
/// client, which reaches nothing else by that name, `localhost` is the
/// container (and so is its host name); this machine's own host name, which
/// Hadoop's client looks up, keeps its address.
fn hosts_file(container: &str) -> String {
    let mut text = String::new();
    if let Some(me) = own_host_name() {
        use std::net::ToSocketAddrs;
        let ip = (me.as_str(), 0)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .map_or("127.0.0.1".to_string(), |a| a.ip().to_string());
        text.push_str(&format!("{ip} {me}\n"));
    }
    text.push_str(&format!("{container} {DOCKER_HOSTNAME} localhost\n"));
    text
}

/// This machine's host name (`gethostname`).
fn own_host_name() -> Option<String> {
    let name = nix::unistd::gethostname().ok()?;
    let name = name.to_string_lossy().into_owned();
    (!name.is_empty()).then_some(name)
}

/// The image's configuration folder and jars (`containers/docker/hadoop/`).
const IMAGE_CLASSPATH: &str = "/etc/hadoop:/opt/hadoop/lib/*";

impl Runs {
    fn title(self) -> &'static str {
        match self {
            Runs::Native => "the native Hadoop MiniCluster",
            Runs::Docker => "the docker image datalab/hadoop",
        }
    }

    /// How YARN finds MapReduce's classes for a job's containers. Without:
    /// "Could not find or load main class MRAppMaster".
    fn classpath(self) -> Vec<(&'static str, String)> {
        match self {
            // The MiniCluster's way: the submitting client's own classpath,
            // the same files on the same machine.
            Runs::Native => vec![("yarn.is.minicluster", "true".into())],
            // The client's paths are not in the container: the image's jars.
            Runs::Docker => vec![
                ("yarn.application.classpath", IMAGE_CLASSPATH.into()),
                ("mapreduce.application.classpath", IMAGE_CLASSPATH.into()),
            ],
        }
    }
}

/// What a client needs to reach the cluster. The file the MiniCluster writes
/// itself (`-writeConfig`) is not usable: it says `framework.name=local`.
fn write_client_conf(conf: &Path, p: &Ports, runs: Runs) -> Result<(), ServiceError> {
    let at = |port: u16| format!("{}:{port}", p.host);
    let mut yarn = vec![
        ("yarn.resourcemanager.address", at(p.rm)),
        (
            "yarn.resourcemanager.scheduler.address",
            at(RM_SCHEDULER_PORT),
        ),
        ("yarn.resourcemanager.webapp.address", at(RM_WEB_PORT)),
    ];
    yarn.extend(runs.classpath());
    let files = [
        (
            "core-site.xml",
            vec![("fs.defaultFS", format!("hdfs://{}", at(p.namenode)))],
        ),
        (
            "hdfs-site.xml",
            vec![
                ("dfs.replication", "1".into()),
                ("dfs.namenode.http-address", at(p.namenode_web)),
            ],
        ),
        ("yarn-site.xml", yarn),
        (
            "mapred-site.xml",
            vec![
                ("mapreduce.framework.name", "yarn".into()),
                ("mapreduce.jobhistory.address", at(p.jhs)),
                ("mapreduce.jobhistory.webapp.address", at(JHS_WEB_PORT)),
                ("yarn.app.mapreduce.am.staging-dir", STAGING.into()),
            ],
        ),
    ];
    for (name, props) in files {
        native::write(&conf.join(name), &site_xml(&props, runs.title()))?;
    }
    Ok(())
}

/// `env JAVA_HOME=… java @args MiniHadoopClusterManager …`: task containers
/// inherit the cluster's environment (they need JAVA_HOME; an inherited
/// PYTHONUNBUFFERED would change Python tasks' buffering).
fn cluster_command(
    def: &ServiceDef,
    dirs: &ServiceDirs,
    java: &Path,
    cp: String,
    p: &Ports,
) -> Result<NodeCommand, ServiceError> {
    let run = native::run_dir(dirs);
    let d = dirs.data.join("node-0");
    let mut args: Vec<String> = def.native.jvm_opts.clone();
    args.push(format!(
        "-Djava.io.tmpdir={}",
        dirs.data.join("tmp").display()
    ));
    args.push(format!("-Dtest.build.data={}", d.display()));
    args.push(format!("-Dhadoop.tmp.dir={}", d.join("hadoop").display()));
    args.push(format!("-Dhadoop.log.dir={}", dirs.logs.display()));
    args.extend(["-cp".into(), cp]);
    let main = def.native.main_class.as_deref();
    args.push(
        main.unwrap_or("org.apache.hadoop.mapreduce.MiniHadoopClusterManager")
            .into(),
    );
    for (flag, port) in [
        ("-nnport", p.namenode),
        ("-nnhttpport", p.namenode_web),
        ("-rmport", p.rm),
        ("-jhsport", p.jhs),
    ] {
        args.extend([flag.into(), port.to_string()]);
    }
    args.extend(["-nodemanagers", "1", "-datanodes", "1", "-format"].map(String::from));
    args.push("-writeDetails".into());
    args.push(run.join("details.json").display().to_string());
    args.extend([
        "-D".into(),
        format!("yarn.app.mapreduce.am.staging-dir={STAGING}"),
    ]);
    // YARN's default stops running jobs once a disk is 90 % used, which
    // left a job waiting forever on a laptop or CI machine with a full disk;
    // a learner's small jobs need no such guard.
    for key in [
        "yarn.nodemanager.disk-health-checker.disk-utilization-threshold.enabled=false",
        "yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage=100.0",
    ] {
        args.extend(["-D".into(), key.into()]);
    }
    // The fixed ports would otherwise listen on every interface.
    for key in BIND_HOSTS {
        args.extend(["-D".into(), format!("{key}=127.0.0.1")]);
    }
    for dir in [dirs.data.join("tmp"), d] {
        std::fs::create_dir_all(&dir).map_err(|e| native::io_err("cannot create", &dir, e))?;
    }
    let args_file = run.join("node-0.args");
    native::write(&args_file, &jvm::argfile(&args))?;
    let java_home = std::fs::canonicalize(java)
        .ok()
        .and_then(|j| Some(j.parent()?.parent()?.to_path_buf()))
        .unwrap_or_default();
    Ok(NodeCommand::new(
        PathBuf::from("/usr/bin/env"),
        vec![
            "-u".into(),
            "PYTHONUNBUFFERED".into(),
            format!("JAVA_HOME={}", java_home.display()),
            java.display().to_string(),
            format!("@{}", args_file.display()),
        ],
    ))
}

/// What Hadoop's own client tools need to reach the running native Hadoop:
/// with `conf_dir` first on the classpath, `java -cp … FsShell` and
/// `… HadoopStreaming` use this cluster.
#[derive(Clone, Debug)]
pub struct HadoopClient {
    pub endpoint: Endpoint,
    pub java: PathBuf,
    pub classpath: String,
    pub conf_dir: PathBuf,
}

impl HadoopClient {
    /// The classpath with the client configuration first.
    pub fn client_classpath(&self) -> String {
        format!("{}:{}", self.conf_dir.display(), self.classpath)
    }

    /// JVM options of the client tools: a docker Hadoop's name table, so
    /// the job's tracking addresses (the container's host name) resolve and
    /// progress shows while the job runs.
    pub fn jvm_args(&self) -> Vec<String> {
        let hosts = self.conf_dir.join(HOSTS_FILE);
        match hosts.is_file() {
            true => vec![format!("-Djdk.net.hosts.file={}", hosts.display())],
            false => vec![],
        }
    }

    /// The JobHistory server's web address (`host:port`).
    pub fn history_web(&self) -> String {
        let host = namenode(&self.endpoint.address)
            .and_then(|nn| nn.rsplit_once(':'))
            .map_or("127.0.0.1", |(h, _)| h);
        format!("{host}:{JHS_WEB_PORT}")
    }
}

impl Services {
    /// Start (or reuse) Hadoop and return what its client tools need. A
    /// Hadoop datalab started (native or docker) has a client configuration
    /// folder; an external one has none.
    pub async fn hadoop_client(&self, progress: &ProgressFn) -> Result<HadoopClient, ServiceError> {
        let endpoint = (self.ensure_with_progress(KIND, &UpOptions::default(), progress)).await?;
        let conf_dir = conf_dir(&self.dirs(KIND));
        if !conf_dir.join("core-site.xml").is_file() {
            return Err(ServiceError::Other(format!(
                "the {} Hadoop at {} has no client configuration in {}; a Hadoop started by datalab (native or docker) has one",
                endpoint.provider,
                endpoint.address,
                conf_dir.display()
            )));
        }
        let def = self.definition(KIND)?;
        Ok(HadoopClient {
            java: jvm::find_java(KIND).await?,
            classpath: jvm::maven_classpath(&def, &self.config.cache_dir, progress).await?,
            conf_dir,
            endpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_without_a_running_nodemanager_is_not_up() {
        let unhealthy = serde_json::json!({"nodes": {"node": [{
            "state": "UNHEALTHY",
            "healthReport": "1/1 local-dirs usable space is below configured utilization percentage"
        }]}});
        let e = healthy_node(&unhealthy).unwrap_err();
        assert!(e.contains("UNHEALTHY 1/1 local-dirs usable space"), "{e}");
        let none = serde_json::json!({"nodes": null});
        assert!(healthy_node(&none).unwrap_err().contains("registered"));
        let running = serde_json::json!({"nodes": {"node": [{"state": "RUNNING"}]}});
        assert!(healthy_node(&running).is_ok());
    }

    #[test]
    fn addresses_are_namenode_uris_and_webhdfs_is_the_next_port() {
        assert_eq!(namenode("hdfs://127.0.0.1:9000/"), Some("127.0.0.1:9000"));
        assert_eq!(namenode("127.0.0.1:9000"), None);
        assert_eq!(namenode("hdfs://h:x"), None);
        let (host, web) = web_of("127.0.0.1:9000").unwrap();
        assert_eq!(
            (host.as_str(), web.as_str()),
            ("127.0.0.1", "127.0.0.1:9001")
        );
        assert_eq!(
            Hadoop.address(&["127.0.0.1:9000".into()]),
            "hdfs://127.0.0.1:9000"
        );
        assert!(Hadoop.validate("hdfs://a:1").is_ok());
        assert!(Hadoop.validate("a:1").is_err());
    }

    #[test]
    fn the_client_config_names_the_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let p = Ports {
            host: "127.0.0.1".into(),
            namenode: 9000,
            namenode_web: 9001,
            rm: 9002,
            jhs: 9003,
        };
        write_client_conf(dir.path(), &p, Runs::Native).unwrap();
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(read("core-site.xml").contains("<value>hdfs://127.0.0.1:9000</value>"));
        let yarn = read("yarn-site.xml");
        assert!(yarn.contains("<name>yarn.is.minicluster</name><value>true</value>"));
        assert!(read("mapred-site.xml").contains("<value>/staging</value>"));
    }

    #[test]
    fn the_docker_client_config_names_the_container_and_the_images_jars() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = ServiceDirs::new(dir.path(), dir.path(), KIND);
        Hadoop
            .docker_ready("hdfs://172.20.0.2:8020", &dirs)
            .unwrap();
        let read = |f: &str| std::fs::read_to_string(conf_dir(&dirs).join(f)).unwrap();
        assert!(read(HOSTS_FILE).contains("172.20.0.2 hadoop localhost\n"));
        assert!(read("core-site.xml").contains("<value>hdfs://172.20.0.2:8020</value>"));
        assert!(read("hdfs-site.xml").contains("<value>172.20.0.2:8021</value>"));
        let yarn = read("yarn-site.xml");
        assert!(yarn.contains("<value>172.20.0.2:8032</value>"), "{yarn}");
        assert!(yarn.contains(&format!("<value>{IMAGE_CLASSPATH}</value>")));
        assert!(!yarn.contains("yarn.is.minicluster"), "{yarn}");
        assert!(read("mapred-site.xml").contains("<value>172.20.0.2:10020</value>"));
        let e = Hadoop.docker_ready("172.20.0.2:8020", &dirs).unwrap_err();
        assert!(e.to_string().contains("is not hdfs://host:port"), "{e}");
    }
}
