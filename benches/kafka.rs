//! Kafka lab figures, printed (no timing asserts): a warm check's p50/p95,
//! a full grade of the reference solution on a warm single broker (steps
//! that need one broker; step 11 through its Python route, with the venv of
//! `tests/python-venv.sh`), step 11's and the replication step's total
//! times, and a full `grade_lab` on the warm 3-broker cluster.
//!
//! `cargo bench --bench kafka` (DATALAB_PROVIDER picks the provider,
//! default native; services live under `target/bench-home` and are stopped
//! at the end).

use datalab_content::Lab;
use datalab_content::checks::CheckSpec;
use datalab_engine::check::CheckContext;
use datalab_engine::lab::{RunOptions, run_step};
use datalab_services::{Namespace, ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo test --all-targets` runs bench binaries too (without --bench):
    // the figures are for `cargo bench` only.
    if !std::env::args().any(|a| a == "--bench") {
        println!("kafka bench: skipped (run `cargo bench --bench kafka`)");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_datalab"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut parts = vec![bin.parent().unwrap().to_path_buf()];
    parts.extend(std::env::split_paths(&path));
    let cache = std::env::var_os("DATALAB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            directories::BaseDirs::new()
                .unwrap()
                .cache_dir()
                .join("datalab")
        });
    // Step 11's scorer is Python: the venv's python3 first.
    let venv = std::env::var_os("DATALAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache.join("venv"));
    parts.insert(0, venv.join("bin"));
    // SAFETY: single-threaded here, before any runtime starts.
    unsafe {
        std::env::set_var("PATH", std::env::join_paths(parts).unwrap());
        std::env::remove_var("DATALAB_KAFKA_BOOTSTRAP");
    }
    let provider = match std::env::var("DATALAB_PROVIDER").as_deref() {
        Ok("docker") => ProviderKind::Docker,
        Ok("external") => ProviderKind::External,
        _ => ProviderKind::Native,
    };
    let services = Arc::new(Services::new(ServicesConfig {
        data_dir: root.join("target/bench-home/services"),
        cache_dir: cache,
        provider,
        timeout: Duration::from_secs(5),
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(services.clone(), &root));
    if provider != ProviderKind::External {
        let _ = rt.block_on(services.down(&[ServiceKind::Kafka]));
    }
}

async fn run(services: Arc<Services>, root: &Path) {
    let content = datalab_content::Content::disk(root);
    let def = datalab_content::parse_lab(&content, "kafka").expect("labs/kafka/lab.yaml");
    let lab = Lab {
        id: "kafka".into(),
        def,
        content,
    };
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    datalab_engine::lab::prepare_workspace(&lab, &ws).unwrap();
    for dir in ["labs/kafka/solution", "labs/kafka/solution-python"] {
        lab.content.extract_dir(dir, &ws, true).unwrap();
    }
    let lab_data = datalab_engine::lab::materialize_data(&lab, &tmp.path().join("data")).unwrap();
    let ns = |tag: &str| Namespace::for_learner(&format!("bench_{}_{tag}", std::process::id()));
    let opts = |namespace: Namespace| RunOptions {
        workspace: ws.clone(),
        lab_data: lab_data.clone(),
        namespace,
        services: services.clone(),
        check_timeout: Duration::from_secs(5),
        env: Vec::new(),
    };

    let t = Instant::now();
    let ep = services
        .ensure(
            ServiceKind::Kafka,
            &UpOptions {
                nodes: 1,
                ..Default::default()
            },
        )
        .await
        .expect("Kafka");
    println!(
        "kafka ready ({} broker(s), {}) in {}",
        ep.nodes,
        ep.provider,
        ms(t.elapsed())
    );

    // Full grade of the single-broker steps on the warm broker.
    let o = opts(ns("grade1"));
    let t = Instant::now();
    let mut checks = 0;
    for (i, s) in lab.def.steps.iter().enumerate() {
        if s.brokers.unwrap_or(1) > 1 {
            continue;
        }
        let st = Instant::now();
        let r = run_step(&lab, i, &o).await;
        assert!(r.passed(), "step {} failed: {:?}", s.id, r.checks);
        checks += r.checks.len();
        if s.id == "pipeline" {
            println!(
                "step 11 (exactly-once scoring: run, kill, restart, verify) total: {} ({})",
                ms(st.elapsed()),
                r.checks[0].outcome.message
            );
        }
    }
    println!(
        "grade of the solution, every single-broker step ({} checks), warm single broker: {}",
        checks,
        ms(t.elapsed())
    );

    // Warm checks, state left by the grade above.
    let ctx = CheckContext {
        workspace: ws.clone(),
        lab_data: lab_data.clone(),
        namespace: o.namespace.clone(),
        services: services.clone(),
        step_output: None,
        timeout: Duration::from_secs(5),
        brokers: 1,
        nodes: 1,
        env: Vec::new(),
    };
    let pick = |id: &str, n: usize| -> CheckSpec { lab.step(id).unwrap().1.checks[n].clone() };
    for (name, spec) in [
        ("kafka_topic (orders metadata + configs)", pick("topics", 0)),
        ("kafka_group_lag (analytics offsets)", pick("lag", 0)),
        ("kafka_keyed_records (read 120 records)", pick("keys", 0)),
        ("kafka_isolation (two reads)", pick("exactly-once", 0)),
    ] {
        let check = datalab_engine::check::check_of(&spec);
        let mut times = Vec::new();
        for _ in 0..25 {
            let t = Instant::now();
            let out = check.run(&ctx).await;
            times.push(t.elapsed());
            assert!(out.passed(), "{name}: {}", out.message);
        }
        times.sort();
        println!(
            "warm check {name}: p50 {} p95 {} (n={})",
            ms(pct(&times, 0.5)),
            ms(pct(&times, 0.95)),
            times.len()
        );
    }

    // The replication step on 3 brokers.
    let t = Instant::now();
    let ep = services
        .ensure(
            ServiceKind::Kafka,
            &UpOptions {
                nodes: 3,
                ..Default::default()
            },
        )
        .await
        .expect("3-broker Kafka");
    println!(
        "3-broker kafka ready ({} nodes) in {}",
        ep.nodes,
        ms(t.elapsed())
    );
    let (i, _) = lab.step("replication").unwrap();
    let o3 = opts(ns("repl"));
    let t = Instant::now();
    let r = run_step(&lab, i, &o3).await;
    assert!(r.passed(), "step 9 failed: {:?}", r.checks);
    println!(
        "step 9 (replication and failure) total: {} (failover check {} ms)",
        ms(t.elapsed()),
        r.checks[1].duration_ms
    );

    // The whole lab, as `grade --lab kafka` runs it, on the warm cluster.
    let og = opts(ns("gradeall"));
    let t = Instant::now();
    let run = datalab_engine::grade::grade_lab(&lab, &og).await;
    let total = datalab_engine::grade::totals(std::slice::from_ref(&run));
    println!(
        "full grade of the solution, warm 3-broker cluster: {} ({} passed, {} failed)",
        ms(t.elapsed()),
        total.passed,
        total.failed + total.errors
    );
}
