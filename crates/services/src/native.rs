//! The native provider: real servers as local processes, no Docker.
//!
//! - Kafka: the Apache Kafka broker (KRaft, combined broker + controller)
//!   from its Maven Central jars on the machine's JDK 17.
//! - Cassandra: Apache Cassandra from `cassandra-all` and its dependencies.
//! - MongoDB: a `mongod` on PATH when there is one, else FerretDB v1 (SQLite
//!   backend) built once from the Go module proxy into the cache.
//!
//! Layout under the data dir, per kind: `data/` (wiped on a fresh start),
//! `logs/node-<i>.log` (server log) and `node-<i>.out` (stdout/stderr),
//! `run/` (generated configs, JVM argument files, pid files). Downloads live
//! in the cache: `m2/` (Maven), `native/<kind>-<version>/` (generated pom,
//! resolved classpath, FerretDB launcher source), `go/` (module cache, bin).

use super::definition::ServiceDef;
use super::probe;
use super::process::{self, alive, read_pid, tail_file, tcp_open, which};
use super::provider::{NodeHandle, ProgressFn, Provider, Running, ServiceDirs};
use super::{Endpoint, ProviderKind, ServiceError, ServiceKind, UpOptions};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub(crate) struct NativeProvider {
    /// Per-call client timeout for readiness probes.
    pub(crate) timeout: Duration,
}

type Progress<'a> = &'a ProgressFn;

fn other(msg: impl Into<String>) -> ServiceError {
    ServiceError::Other(msg.into())
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> ServiceError {
    other(format!("{what} {}: {e}", path.display()))
}

/// The directory holding everything of one kind (`<data_dir>/<kind>`); its
/// path marks our processes' command lines.
fn base_dir(dirs: &ServiceDirs) -> PathBuf {
    dirs.data
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dirs.data.clone())
}

fn run_dir(dirs: &ServiceDirs) -> PathBuf {
    base_dir(dirs).join("run")
}

fn marker_of(running: &Running, node: &NodeHandle) -> String {
    node.extra
        .get("marker")
        .cloned()
        .or_else(|| running.extra.get("marker").cloned())
        .unwrap_or_default()
}

fn pid_file(run: &Path, index: u32) -> PathBuf {
    run.join(format!("node-{index}.pid"))
}

/// The live pid of a node: its pid file first (it is rewritten when a node
/// restarts), then the pid recorded at start.
pub(crate) fn node_pid(running: &Running, node: &NodeHandle) -> Option<u32> {
    let marker = marker_of(running, node);
    let from_file = node
        .extra
        .get("pid_file")
        .and_then(|p| read_pid(Path::new(p)));
    from_file
        .into_iter()
        .chain(node.pid)
        .find(|&pid| alive(pid, &marker))
}

/// Quick health: some node has a live process and accepts TCP connections.
pub(crate) fn quick_alive(running: &Running) -> bool {
    running
        .nodes
        .iter()
        .any(|n| node_pid(running, n).is_some() && tcp_open(&n.address, Duration::from_millis(300)))
}

// ---------------------------------------------------------------------------
// Tools: Java, Maven, Go

/// The `java` to run servers with, checked to be Java 17 or newer.
pub(crate) async fn find_java(kind: ServiceKind) -> Result<PathBuf, ServiceError> {
    let fix = "apt-get install -y openjdk-17-jre-headless (or set JAVA_HOME to a JDK 17+)";
    let java = std::env::var_os("JAVA_HOME")
        .map(|h| PathBuf::from(h).join("bin/java"))
        .filter(|p| process::is_executable(p))
        .or_else(|| which("java"))
        .ok_or_else(|| ServiceError::Unavailable {
            kind,
            reason: format!(
                "Java 17 is needed for native {} but no Java runtime was found (no JAVA_HOME, no `java` on PATH)",
                pretty(kind)
            ),
            fix: fix.into(),
        })?;
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new(&java).arg("-version").output(),
    )
    .await
    .map_err(|_| other(format!("`{} -version` did not answer", java.display())))?
    .map_err(|e| io_err("cannot run", &java, e))?;
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let major = java_major(&text);
    match major {
        Some(m) if m >= 17 => Ok(java),
        _ => Err(ServiceError::Unavailable {
            kind,
            reason: format!(
                "Java 17 is needed for native {} but {} is {}",
                pretty(kind),
                java.display(),
                text.lines().next().unwrap_or("of an unknown version")
            ),
            fix: fix.into(),
        }),
    }
}

/// `openjdk version "17.0.15"` → 17; `java version "1.8.0_392"` → 8.
fn java_major(text: &str) -> Option<u32> {
    let v = text.split('"').nth(1)?;
    let mut parts = v.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

fn pretty(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::Kafka => "Kafka",
        ServiceKind::Mongodb => "MongoDB",
        ServiceKind::Cassandra => "Cassandra",
    }
}

/// Resolve Maven coordinates with their runtime dependencies into the cache
/// and return the classpath. Offline after the first time.
pub(super) async fn maven_classpath(
    def: &ServiceDef,
    cache: &Path,
    progress: Progress<'_>,
) -> Result<String, ServiceError> {
    let kind = def.kind;
    let dir = cache
        .join("native")
        .join(format!("{}-{}", kind.name(), def.version));
    fs::create_dir_all(&dir).map_err(|e| io_err("cannot create", &dir, e))?;
    let mut deps = String::new();
    for coord in &def.native.maven {
        let parts: Vec<&str> = coord.split(':').collect();
        let [g, a, v] = parts[..] else {
            return Err(other(format!(
                "containers/{}.yaml: native.maven entry `{coord}` is not group:artifact:version",
                kind.name()
            )));
        };
        deps.push_str(&format!(
            "<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>\n"
        ));
    }
    let pom = format!(
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>\n\
         <!-- generated by datalab: the jars of native {kind} -->\n\
         <groupId>datalab.native</groupId><artifactId>{kind}</artifactId><version>1</version><packaging>pom</packaging>\n\
         <dependencies>\n{deps}</dependencies></project>\n"
    );
    let pom_path = dir.join("pom.xml");
    let cp_path = dir.join("classpath.txt");
    let pom_same = fs::read_to_string(&pom_path).is_ok_and(|p| p == pom);
    if pom_same && let Ok(cp) = fs::read_to_string(&cp_path) {
        let cp = cp.trim().to_string();
        if !cp.is_empty() && cp.split(':').all(|j| Path::new(j).is_file()) {
            return Ok(cp);
        }
    }
    if !pom_same {
        process::write_atomic(&pom_path, pom.as_bytes())
            .map_err(|e| io_err("cannot write", &pom_path, e))?;
    }
    let mvn = which("mvn").ok_or_else(|| ServiceError::Unavailable {
        kind,
        reason: format!(
            "Maven is needed once to download the {} jars into {} (then it works offline)",
            pretty(kind),
            cache.display()
        ),
        fix: "apt-get install -y maven".into(),
    })?;
    progress(&format!(
        "resolving {} {} jars with Maven into {} (first time only)",
        pretty(kind),
        def.version,
        cache.join("m2").display()
    ));
    let run = |offline: bool| {
        let mut c = tokio::process::Command::new(&mvn);
        c.current_dir(&dir)
            .arg("-B")
            .arg("-q")
            .arg(format!("-Dmaven.repo.local={}", cache.join("m2").display()));
        if offline {
            c.arg("-o");
        }
        c.args([
            "dependency:build-classpath",
            "-Dmdep.outputFile=classpath.txt",
            "-Dmdep.includeScope=runtime",
        ]);
        c.kill_on_drop(true);
        c
    };
    let mut ok = false;
    let mut last = String::new();
    for offline in [true, false] {
        let out = tokio::time::timeout(Duration::from_secs(900), run(offline).output())
            .await
            .map_err(|_| other("Maven did not finish within 15 minutes"))?
            .map_err(|e| io_err("cannot run", &mvn, e))?;
        if out.status.success() {
            ok = true;
            break;
        }
        last = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
    }
    if !ok {
        let tail: Vec<&str> = last
            .lines()
            .filter(|l| l.contains("ERROR"))
            .take(5)
            .collect();
        return Err(ServiceError::Unavailable {
            kind,
            reason: format!(
                "Maven could not resolve {}: {}",
                def.native.maven.join(", "),
                tail.join(" | ")
            ),
            fix: format!(
                "check that Maven Central is reachable, then run `datalab services install {}`",
                kind.name()
            ),
        });
    }
    let cp = fs::read_to_string(&cp_path)
        .map_err(|e| io_err("cannot read", &cp_path, e))?
        .trim()
        .to_string();
    Ok(cp)
}

async fn ferretdb_binary(
    def: &ServiceDef,
    cache: &Path,
    progress: Progress<'_>,
) -> Result<(PathBuf, String), ServiceError> {
    super::ferretdb::launcher(
        def,
        cache,
        progress,
        "(the MongoDB-compatible server) since no `mongod` is on PATH; or put a `mongod` on PATH",
    )
    .await
}

// ---------------------------------------------------------------------------
// Starting

/// Wipe and recreate a kind's data and run dirs (a fresh start).
fn fresh_dirs(dirs: &ServiceDirs) -> Result<(), ServiceError> {
    let run = run_dir(dirs);
    for d in [&dirs.data, &run, &dirs.logs] {
        if d.exists() {
            fs::remove_dir_all(d).map_err(|e| io_err("cannot clear", d, e))?;
        }
        fs::create_dir_all(d).map_err(|e| io_err("cannot create", d, e))?;
    }
    Ok(())
}

/// A JVM argument file (`java @file`): one argument per line, quoted.
fn argfile(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn write(path: &Path, text: &str) -> Result<(), ServiceError> {
    process::write_atomic(path, text.as_bytes()).map_err(|e| io_err("cannot write", path, e))
}

fn free_port() -> Result<u16, ServiceError> {
    process::free_port().map_err(|e| other(format!("no free port on 127.0.0.1: {e}")))
}

struct Prepared {
    /// Program and arguments per node.
    commands: Vec<(PathBuf, Vec<String>)>,
    addresses: Vec<String>,
    endpoint_address: String,
    version: String,
    flavor: String,
}

async fn prepare_kafka(
    def: &ServiceDef,
    opts: &UpOptions,
    dirs: &ServiceDirs,
    progress: Progress<'_>,
) -> Result<Prepared, ServiceError> {
    let java = find_java(def.kind).await?;
    let cp = maven_classpath(def, &dirs.cache, progress).await?;
    fresh_dirs(dirs)?;
    let run = run_dir(dirs);
    let n = opts.brokers.max(1);
    let cluster_id =
        process::random_kafka_uuid().map_err(|e| other(format!("no randomness: {e}")))?;
    let mut ports = Vec::new();
    for _ in 0..n {
        ports.push((free_port()?, free_port()?));
    }
    let voters: Vec<String> = ports
        .iter()
        .enumerate()
        .map(|(i, (_, c))| format!("{}@127.0.0.1:{c}", i + 1))
        .collect();
    let rf = n.min(3);
    let cp_file = run.join("classpath.args");
    write(&cp_file, &argfile(&["-cp".into(), cp.clone()]))?;
    let mut commands = Vec::new();
    let mut addresses = Vec::new();
    let mut formats = Vec::new();
    progress(&format!("formatting KRaft storage for {n} broker(s)"));
    for (i, (port, cport)) in ports.iter().enumerate() {
        let data = dirs.data.join(format!("node-{i}"));
        let props = run.join(format!("node-{i}.properties"));
        write(
            &props,
            &format!(
                "# generated by datalab: native Kafka broker {i}\n\
                 process.roles=broker,controller\n\
                 node.id={id}\n\
                 controller.quorum.voters={voters}\n\
                 listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}\n\
                 advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
                 controller.listener.names=CONTROLLER\n\
                 inter.broker.listener.name=PLAINTEXT\n\
                 listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n\
                 log.dirs={data}\n\
                 num.partitions=1\n\
                 default.replication.factor={rf}\n\
                 min.insync.replicas=1\n\
                 offsets.topic.replication.factor={rf}\n\
                 offsets.topic.num.partitions=10\n\
                 transaction.state.log.replication.factor={rf}\n\
                 transaction.state.log.min.isr={isr}\n\
                 transaction.state.log.num.partitions=10\n\
                 share.coordinator.state.topic.replication.factor={rf}\n\
                 share.coordinator.state.topic.min.isr={isr}\n\
                 group.initial.rebalance.delay.ms=0\n\
                 num.network.threads=2\n\
                 num.io.threads=2\n\
                 background.threads=2\n\
                 log.cleaner.dedupe.buffer.size=8388608\n\
                 log.cleaner.threads=1\n",
                id = i + 1,
                voters = voters.join(","),
                data = data.display(),
                isr = if rf >= 3 { 2 } else { 1 },
            ),
        )?;
        let log4j = run.join(format!("node-{i}.log4j2.xml"));
        let log_file = dirs.logs.join(format!("node-{i}.log"));
        write(
            &log4j,
            &format!(
                "<?xml version=\"1.0\"?>\n<!-- generated by datalab -->\n<Configuration status=\"WARN\">\
                 <Appenders><File name=\"f\" fileName=\"{}\"><PatternLayout pattern=\"[%d] %p %m (%c)%n\"/></File></Appenders>\
                 <Loggers><Root level=\"info\"><AppenderRef ref=\"f\"/></Root>\
                 <Logger name=\"kafka.request.logger\" level=\"warn\"/><Logger name=\"org.apache.kafka.clients\" level=\"warn\"/></Loggers>\
                 </Configuration>\n",
                log_file.display()
            ),
        )?;
        let mut args: Vec<String> = def.native.jvm_opts.clone();
        args.push(format!("-Dlog4j2.configurationFile={}", log4j.display()));
        args.push(format!("-Dkafka.logs.dir={}", dirs.logs.display()));
        args.push("-cp".into());
        args.push(cp.clone());
        args.push(
            def.native
                .main_class
                .clone()
                .unwrap_or_else(|| "kafka.Kafka".into()),
        );
        args.push(props.display().to_string());
        let node_args = run.join(format!("node-{i}.args"));
        write(&node_args, &argfile(&args))?;
        commands.push((java.clone(), vec![format!("@{}", node_args.display())]));
        addresses.push(format!("127.0.0.1:{port}"));
        let mut format = tokio::process::Command::new(&java);
        format
            .arg("-Xmx256m")
            .arg("-XX:TieredStopAtLevel=1")
            .arg(format!("@{}", cp_file.display()))
            .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
            .args(["kafka.tools.StorageTool", "format", "-t", &cluster_id, "-c"])
            .arg(&props)
            .kill_on_drop(true);
        formats.push(format);
    }
    let outs = futures::future::join_all(
        formats
            .iter_mut()
            .map(|c| tokio::time::timeout(Duration::from_secs(120), c.output())),
    )
    .await;
    for out in outs {
        let out = out
            .map_err(|_| other("formatting Kafka storage took more than 2 minutes"))?
            .map_err(|e| io_err("cannot run", &java, e))?;
        if !out.status.success() {
            return Err(other(format!(
                "formatting Kafka storage failed: {}",
                String::from_utf8_lossy(&out.stdout).trim().to_string()
                    + String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    Ok(Prepared {
        commands,
        endpoint_address: addresses.join(","),
        addresses,
        version: def.version.clone(),
        flavor: format!(
            "Apache Kafka {} (KRaft, {n} broker{})",
            def.version,
            if n == 1 { "" } else { "s" }
        ),
    })
}

async fn prepare_cassandra(
    def: &ServiceDef,
    dirs: &ServiceDirs,
    progress: Progress<'_>,
) -> Result<Prepared, ServiceError> {
    let java = find_java(def.kind).await?;
    let cp = maven_classpath(def, &dirs.cache, progress).await?;
    fresh_dirs(dirs)?;
    let run = run_dir(dirs);
    let (native_port, storage_port) = (free_port()?, free_port()?);
    let d = dirs.data.join("node-0");
    let yaml = run.join("cassandra.yaml");
    write(
        &yaml,
        &format!(
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
        ),
    )?;
    let logback = run.join("logback.xml");
    write(
        &logback,
        &format!(
            "<configuration><!-- generated by datalab -->\
             <appender name=\"F\" class=\"ch.qos.logback.core.FileAppender\"><file>{}</file>\
             <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %F:%L - %msg%n</pattern></encoder></appender>\
             <root level=\"INFO\"><appender-ref ref=\"F\"/></root></configuration>\n",
            dirs.logs.join("node-0.log").display()
        ),
    )?;
    let mut args: Vec<String> = def.native.jvm_opts.clone();
    args.push(format!("-Dcassandra.config=file://{}", yaml.display()));
    args.push(format!("-Dcassandra.storagedir={}", d.display()));
    args.push(format!("-Dcassandra.logdir={}", dirs.logs.display()));
    args.push(format!("-Dlogback.configurationFile={}", logback.display()));
    args.push(format!("-XX:HeapDumpPath={}", dirs.logs.display()));
    args.push("-cp".into());
    args.push(cp);
    args.push(
        def.native
            .main_class
            .clone()
            .unwrap_or_else(|| "org.apache.cassandra.service.CassandraDaemon".into()),
    );
    let node_args = run.join("node-0.args");
    write(&node_args, &argfile(&args))?;
    let address = format!("127.0.0.1:{native_port}");
    Ok(Prepared {
        commands: vec![(java, vec![format!("@{}", node_args.display())])],
        addresses: vec![address.clone()],
        endpoint_address: address,
        version: def.version.clone(),
        flavor: format!("Apache Cassandra {}", def.version),
    })
}

/// Builds a server's arguments from its port and data dir.
type ArgsOf = Box<dyn Fn(u16, &Path) -> Vec<String>>;

async fn prepare_mongodb(
    def: &ServiceDef,
    dirs: &ServiceDirs,
    progress: Progress<'_>,
) -> Result<Prepared, ServiceError> {
    let mongod = def.native.prefer_binary.as_deref().and_then(which);
    let (bin, args_of, version, flavor): (PathBuf, ArgsOf, String, String) = match mongod {
        Some(bin) => {
            let logs = dirs.logs.clone();
            (
                bin,
                Box::new(move |port, data| {
                    vec![
                        "--dbpath".into(),
                        data.display().to_string(),
                        "--bind_ip".into(),
                        "127.0.0.1".into(),
                        "--port".into(),
                        port.to_string(),
                        "--logpath".into(),
                        logs.join("node-0.log").display().to_string(),
                    ]
                }),
                def.version.clone(),
                "MongoDB (local mongod)".into(),
            )
        }
        None => {
            let (bin, label) = ferretdb_binary(def, &dirs.cache, progress).await?;
            (
                bin,
                Box::new(|port, data| {
                    vec![
                        "-listen-addr".into(),
                        format!("127.0.0.1:{port}"),
                        "-sqlite-url".into(),
                        format!("file:{}/", data.display()),
                    ]
                }),
                label.clone(),
                format!("FerretDB {label} (MongoDB wire-compatible, SQLite backend)"),
            )
        }
    };
    fresh_dirs(dirs)?;
    let data = dirs.data.join("node-0");
    fs::create_dir_all(&data).map_err(|e| io_err("cannot create", &data, e))?;
    let port = free_port()?;
    let args = args_of(port, &data);
    Ok(Prepared {
        commands: vec![(bin, args)],
        addresses: vec![format!("127.0.0.1:{port}")],
        endpoint_address: format!("mongodb://127.0.0.1:{port}/?directConnection=true"),
        version,
        flavor,
    })
}

/// Spawn node `index` of a prepared service.
fn spawn_node(
    program: &Path,
    args: &[String],
    dirs: &ServiceDirs,
    index: u32,
) -> Result<u32, ServiceError> {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(base_dir(dirs));
    let out = dirs.logs.join(format!("node-{index}.out"));
    let pid_path = pid_file(&run_dir(dirs), index);
    process::spawn_detached(cmd, &out, &pid_path)
        .map_err(|e| other(format!("cannot start {}: {e}", program.display())))
}

/// What went wrong with a node that exited: its last log lines.
fn died(kind: ServiceKind, logs: &Path, index: u32) -> ServiceError {
    let mut text = tail_file(&logs.join(format!("node-{index}.out")), 8);
    let log = tail_file(&logs.join(format!("node-{index}.log")), 8);
    if text.trim().is_empty() || log.contains("ERROR") {
        text = log;
    }
    ServiceError::Other(format!(
        "native {kind} (node {index}) exited while starting; last log lines:\n{}\n(full logs: {})",
        text.trim_end(),
        logs.display()
    ))
}

/// Wait until every node accepts TCP, then until the protocol answers
/// (Kafka: with all brokers registered).
async fn wait_ready(
    kind: ServiceKind,
    running: &Running,
    dirs: &ServiceDirs,
    deadline: Instant,
    timeout: Duration,
) -> Result<probe::PingInfo, ServiceError> {
    let want = running.nodes.len() as u32;
    let mut last_err = String::from("no answer yet");
    loop {
        for n in &running.nodes {
            if node_pid(running, n).is_none() {
                return Err(died(kind, &dirs.logs, n.index));
            }
        }
        if Instant::now() > deadline {
            return Err(ServiceError::Other(format!(
                "native {kind} did not become ready in time ({last_err}); logs: {}",
                dirs.logs.display()
            )));
        }
        let all_open = running
            .nodes
            .iter()
            .all(|n| tcp_open(&n.address, Duration::from_millis(200)));
        if all_open {
            match probe::ping(kind, &running.endpoint.address, timeout).await {
                Ok(info) if kind != ServiceKind::Kafka || info.nodes >= want => return Ok(info),
                Ok(info) => last_err = format!("{} of {want} brokers registered", info.nodes),
                Err(e) => last_err = e.to_string(),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[async_trait::async_trait]
impl Provider for NativeProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Native
    }

    async fn available(&self) -> Result<(), ServiceError> {
        Ok(())
    }

    async fn install(
        &self,
        def: &ServiceDef,
        dirs: &ServiceDirs,
        progress: Progress<'_>,
    ) -> Result<(), ServiceError> {
        match def.kind {
            ServiceKind::Kafka | ServiceKind::Cassandra => {
                find_java(def.kind).await?;
                maven_classpath(def, &dirs.cache, progress).await?;
            }
            ServiceKind::Mongodb => {
                if def
                    .native
                    .prefer_binary
                    .as_deref()
                    .and_then(which)
                    .is_none()
                {
                    ferretdb_binary(def, &dirs.cache, progress).await?;
                }
            }
        }
        Ok(())
    }

    async fn start(
        &self,
        def: &ServiceDef,
        opts: &UpOptions,
        dirs: &ServiceDirs,
        progress: Progress<'_>,
    ) -> Result<Running, ServiceError> {
        let kind = def.kind;
        let prepared = match kind {
            ServiceKind::Kafka => prepare_kafka(def, opts, dirs, progress).await?,
            ServiceKind::Cassandra => prepare_cassandra(def, dirs, progress).await?,
            ServiceKind::Mongodb => prepare_mongodb(def, dirs, progress).await?,
        };
        let marker = base_dir(dirs).display().to_string();
        let run = run_dir(dirs);
        progress(&format!(
            "starting {} on {}",
            prepared.flavor, prepared.endpoint_address
        ));
        let started_at = process::now_secs();
        let mut nodes = Vec::new();
        for (i, ((program, args), address)) in prepared
            .commands
            .iter()
            .zip(&prepared.addresses)
            .enumerate()
        {
            let index = i as u32;
            let pid = spawn_node(program, args, dirs, index)?;
            let mut extra = BTreeMap::new();
            extra.insert("program".into(), program.display().to_string());
            extra.insert(
                "args".into(),
                serde_json::to_string(args).unwrap_or_default(),
            );
            extra.insert(
                "pid_file".into(),
                pid_file(&run, index).display().to_string(),
            );
            extra.insert("marker".into(), marker.clone());
            nodes.push(NodeHandle {
                index,
                address: address.clone(),
                pid: Some(pid),
                data_dir: Some(dirs.data.join(format!("node-{i}"))),
                container_id: None,
                extra,
            });
        }
        let mut running = Running {
            kind,
            provider: ProviderKind::Native,
            endpoint: Endpoint {
                kind,
                provider: ProviderKind::Native,
                address: prepared.endpoint_address.clone(),
                nodes: nodes.len() as u32,
                version: Some(prepared.version.clone()),
                flavor: Some(prepared.flavor.clone()),
                started_at: Some(started_at),
            },
            nodes,
            extra: BTreeMap::from([
                ("marker".to_string(), marker),
                ("logs".to_string(), dirs.logs.display().to_string()),
            ]),
        };
        progress(&format!("waiting for {kind} to answer"));
        let deadline = Instant::now() + Duration::from_secs(def.ready.timeout);
        match wait_ready(kind, &running, dirs, deadline, self.timeout).await {
            Ok(info) => {
                if kind != ServiceKind::Mongodb
                    && let Some(v) = info.version.clone()
                {
                    running.endpoint.version = Some(v);
                }
                if kind == ServiceKind::Mongodb
                    && let Some(wire) = info.version
                {
                    // FerretDB reports the MongoDB version it emulates.
                    if prepared.flavor.starts_with("FerretDB") {
                        running.endpoint.flavor =
                            Some(format!("{} speaking MongoDB {wire}", prepared.flavor));
                    } else {
                        running.endpoint.version = Some(wire);
                    }
                }
                Ok(running)
            }
            Err(e) => {
                let _ = self.stop(&running).await;
                Err(e)
            }
        }
    }

    async fn stop(&self, running: &Running) -> Result<(), ServiceError> {
        let stops = running.nodes.iter().map(|n| async move {
            let marker = marker_of(running, n);
            if let Some(pid) = node_pid(running, n) {
                process::stop(pid, &marker, Duration::from_secs(30)).await;
            }
            if let Some(p) = n.extra.get("pid_file") {
                let _ = fs::remove_file(p);
            }
        });
        futures::future::join_all(stops).await;
        Ok(())
    }

    async fn stop_node(&self, running: &Running, index: u32) -> Result<(), ServiceError> {
        let n = running.node(index)?;
        let marker = marker_of(running, n);
        if let Some(pid) = node_pid(running, n) {
            process::stop(pid, &marker, Duration::from_secs(30)).await;
        }
        if let Some(p) = n.extra.get("pid_file") {
            let _ = fs::remove_file(p);
        }
        Ok(())
    }

    async fn start_node(&self, running: &Running, index: u32) -> Result<(), ServiceError> {
        let n = running.node(index)?;
        if node_pid(running, n).is_some() {
            return Ok(());
        }
        let program = n.extra.get("program").ok_or_else(|| {
            other(format!(
                "{} node {index}: no recorded command",
                running.kind
            ))
        })?;
        let args: Vec<String> = n
            .extra
            .get("args")
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        let marker = marker_of(running, n);
        let base = PathBuf::from(&marker);
        let dirs = ServiceDirs {
            data: base.join("data"),
            logs: base.join("logs"),
            cache: PathBuf::new(),
        };
        spawn_node(Path::new(program), &args, &dirs, index)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        wait_ready(running.kind, running, &dirs, deadline, self.timeout)
            .await
            .map(|_| ())
    }

    async fn logs(&self, running: &Running, tail: usize) -> Result<String, ServiceError> {
        let logs = running
            .extra
            .get("logs")
            .map(PathBuf::from)
            .ok_or_else(|| other("no log directory recorded"))?;
        let mut out = String::new();
        for n in &running.nodes {
            for name in [
                format!("node-{}.log", n.index),
                format!("node-{}.out", n.index),
            ] {
                let path = logs.join(&name);
                let text = tail_file(&path, tail);
                if !text.trim().is_empty() {
                    out.push_str(&format!("==> {} <==\n{text}\n", path.display()));
                }
            }
        }
        Ok(out)
    }
}

/// Kill leftovers of crashed runs: every pid file under `data_dir` (all
/// kinds, or one) whose process still runs one of our servers.
pub(crate) async fn kill_leftovers(data_dir: &Path, kind: Option<ServiceKind>) -> Vec<u32> {
    let mut killed = Vec::new();
    for pf in process::pid_files(data_dir) {
        // <data_dir>/<kind>/run/node-i.pid
        let Some(base) = pf.parent().and_then(Path::parent) else {
            continue;
        };
        if let Some(k) = kind
            && base.file_name().is_none_or(|n| n != k.name())
        {
            continue;
        }
        let marker = base.display().to_string();
        if let Some(pid) = read_pid(&pf)
            && alive(pid, &marker)
        {
            process::stop(pid, &marker, Duration::from_secs(30)).await;
            killed.push(pid);
        }
        let _ = fs::remove_file(&pf);
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_parse() {
        assert_eq!(
            java_major("openjdk version \"17.0.15\" 2025-04-15"),
            Some(17)
        );
        assert_eq!(java_major("java version \"1.8.0_392\""), Some(8));
        assert_eq!(java_major("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(java_major("garbage"), None);
    }

    #[test]
    fn argfiles_quote_every_argument() {
        assert_eq!(
            argfile(&["-cp".into(), "/a b/c.jar".into()]),
            "\"-cp\"\n\"/a b/c.jar\"\n"
        );
    }
}
