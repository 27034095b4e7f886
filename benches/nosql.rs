//! Figures for the NoSQL labs (printed, not asserted): warm check latency
//! p50/p95 per lab (targets: ≤ 100 ms MongoDB, ≤ 150 ms Cassandra) and the
//! full `grade` time of each lab's solution on a warm server.
//!
//!     cargo bench --bench nosql            # services from the services layer
//!     NOSQL_BENCH_LABS=mongodb cargo bench --bench nosql   # one lab only
//!
//! Services come from the same layer the labs use (`DATALAB_PROVIDER`,
//! default native; `DATALAB_HOME` default target/bench-home).

use datalab_content::Lab;
use datalab_content::{Content, parse_lab};
use datalab_engine::check::CheckContext;
use datalab_engine::lab::{RunOptions, materialize_data};
use datalab_services::{Namespace, ProviderKind, ServiceKind, Services, ServicesConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn bench_lab(id: &str, services: Arc<Services>, rounds: usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let content = Content::disk(&root);
    let lab = Lab {
        id: id.into(),
        def: parse_lab(&content, id).expect("lab.yaml"),
        content,
    };
    let ws = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("solution", ws.path().to_path_buf()),
        ("data", ws.path().join("data")),
    ] {
        lab.content
            .extract_dir(&format!("labs/{id}/{from}"), &to, true)
            .unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let lab_data = materialize_data(&lab, data.path()).unwrap();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 100_000;
    let opts = |tag: &str| RunOptions {
        workspace: ws.path().to_path_buf(),
        lab_data: lab_data.clone(),
        namespace: Namespace::for_learner(&format!("b{tag}{stamp}")),
        services: services.clone(),
        check_timeout: Duration::from_secs(10),
        env: Vec::new(),
    };
    // Full grade on a warm server (the first one also warms the server up).
    let warm = opts("w");
    let first = datalab_engine::grade::grade_lab(&lab, &warm).await;
    let failed: Vec<String> = first
        .steps
        .iter()
        .filter(|s| !s.passed())
        .map(|s| s.step.clone())
        .collect();
    if !failed.is_empty() {
        println!("{id}: the solution did not pass steps {failed:?}; figures would mean nothing");
        return;
    }
    let g = opts("g");
    let t = Instant::now();
    datalab_engine::grade::grade_lab(&lab, &g).await;
    let grade_s = t.elapsed().as_secs_f64();
    // Warm checks: every check of the lab, `rounds` times, on the warm namespace.
    let ctx = CheckContext {
        workspace: warm.workspace.clone(),
        lab_data: warm.lab_data.clone(),
        namespace: warm.namespace.clone(),
        services: services.clone(),
        step_output: None,
        timeout: warm.check_timeout,
        brokers: 1,
        nodes: 1,
        env: Vec::new(),
    };
    let mut all = Vec::new();
    let mut per: Vec<(String, f64)> = Vec::new();
    // Single-node checks only: the node-failure step stops and restarts
    // nodes for tens of seconds; tests/cassandra_cluster.rs prints its time.
    for step in lab.def.steps.iter().filter(|s| s.nodes.unwrap_or(1) == 1) {
        for spec in &step.checks {
            let c = datalab_engine::check::check_of(spec);
            let mut v = Vec::new();
            for _ in 0..rounds {
                let t = Instant::now();
                let _ = c.run(&ctx).await;
                v.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            all.extend(v.iter().copied());
            per.push((format!("{}: {}", step.id, spec.kind()), pct(&mut v, 0.5)));
        }
    }
    let (p50, p95) = (pct(&mut all.clone(), 0.5), pct(&mut all, 0.95));
    println!(
        "{id}: warm check p50 {p50:.1} ms, p95 {p95:.1} ms over {} runs; full grade {grade_s:.2} s",
        all.len()
    );
    for (name, ms) in per {
        println!("    {name:<40} p50 {ms:7.1} ms");
    }
}

fn main() {
    let home = std::env::var_os("DATALAB_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-home"));
    let cache = std::env::var_os("DATALAB_CACHE")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.cache_dir().join("datalab")))
        .unwrap_or_else(|| home.join("cache"));
    let provider = match std::env::var("DATALAB_PROVIDER").as_deref() {
        Ok("docker") => ProviderKind::Docker,
        Ok("external") => ProviderKind::External,
        Ok("auto") => ProviderKind::Auto,
        _ => ProviderKind::Native,
    };
    let services = Arc::new(Services::new(ServicesConfig {
        data_dir: home.join("services"),
        cache_dir: cache,
        provider,
        timeout: Duration::from_secs(5),
    }));
    // Step commands run `datalab`: the debug or release build next to us.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let mut parts = vec![dir];
    parts.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    // SAFETY: set before any thread starts.
    unsafe { std::env::set_var("PATH", std::env::join_paths(parts).unwrap()) };
    let rounds: usize = std::env::var("NOSQL_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let labs = std::env::var("NOSQL_BENCH_LABS").unwrap_or_else(|_| "mongodb,cassandra".into());
    rt.block_on(async {
        for (id, kind) in [
            ("mongodb", ServiceKind::Mongodb),
            ("cassandra", ServiceKind::Cassandra),
        ] {
            if !labs.split(',').any(|l| l.trim() == id) {
                continue;
            }
            bench_lab(id, services.clone(), rounds).await;
            for pid in services.native_pids(kind) {
                let rss = datalab_services::process::rss_bytes(pid).unwrap_or(0);
                println!(
                    "{id}: native server RSS after the lab {:.1} MiB (pid {pid})",
                    rss as f64 / 1048576.0
                );
            }
        }
    });
}
