//! A server that stops while a check runs: the check ends within its client
//! timeout with an error that says what happened — never a hang, a panic or a
//! pass. Each test brings up its OWN MongoDB / Cassandra (a services layer on
//! a temp data dir), so the shared test services other binaries use are never
//! touched, and stops it at the end.
//!
//! Two ways a server stops: paused (SIGSTOP: connections stay open and
//! nothing answers, the case only a timeout catches) and killed (SIGKILL
//! while a check waits on it). Native provider only (they signal the server
//! process); with another provider they say so and pass.

mod common;
#[path = "nosql/mod.rs"]
mod nosql;

use datalab_content::Lab;
use datalab_engine::check::{CheckContext, Outcome, Status};
use datalab_engine::lab::{RunOptions, materialize_data, run_step};
use datalab_services::{ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use nosql::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The client timeout of these checks.
const TIMEOUT: Duration = Duration::from_secs(3);
/// What a check may take beyond its timeout (the check's own bookkeeping,
/// a loaded CI machine).
const SLACK: Duration = Duration::from_secs(4);

struct Own {
    services: Arc<Services>,
    _dir: tempfile::TempDir,
}

impl Drop for Own {
    fn drop(&mut self) {
        // Stop this test's server whatever happened (a panic included).
        let s = self.services.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(async { s.down(&[]).await })
        })
        .join();
    }
}

fn own_services() -> Option<Own> {
    if common::provider() != ProviderKind::Native {
        eprintln!("skipped: these tests signal a native server process");
        return None;
    }
    // Step commands run `datalab …`: make sure they find this build.
    let _ = common::services();
    let dir = tempfile::tempdir().unwrap();
    Some(Own {
        services: Arc::new(Services::new(ServicesConfig {
            data_dir: dir.path().join("services"),
            cache_dir: common::cache_dir(),
            provider: ProviderKind::Native,
            timeout: Duration::from_secs(5),
        })),
        _dir: dir,
    })
}

/// Run the checks of step `step` once; the first that does not pass, or
/// the last outcome.
async fn run_checks(lab: &Lab, step: usize, ctx: &CheckContext) -> Outcome {
    let mut last = Outcome::pass("no checks");
    for spec in &lab.def.steps[step].checks {
        last = datalab_engine::check::check_of(spec).run(ctx).await;
        if !last.passed() {
            return last;
        }
    }
    last
}

fn signal(pid: u32, s: Signal) {
    kill(Pid::from_raw(pid as i32), s).unwrap_or_else(|e| panic!("kill -{s} {pid}: {e}"));
}

/// Bring the lab up to `step` on a server of our own, then pause and kill
/// the server under the checks of `step`.
async fn server_stops_under_a_check(lab_id: &str, kind: ServiceKind, step: usize) {
    let Some(own) = own_services() else { return };
    let services = own.services.clone();
    services
        .ensure(kind, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
    let lab = lab(lab_id);
    let ws = workspace(&lab, "solution");
    let data = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        workspace: ws.path().to_path_buf(),
        lab_data: materialize_data(&lab, data.path()).unwrap(),
        namespace: fresh_namespace("out"),
        services: services.clone(),
        check_timeout: TIMEOUT,
        env: Vec::new(),
    };
    for i in 0..=step {
        let r = run_step(&lab, i, &opts).await;
        assert!(r.passed(), "{}", explain(&r));
    }
    let ctx = CheckContext {
        workspace: opts.workspace.clone(),
        lab_data: opts.lab_data.clone(),
        namespace: opts.namespace.clone(),
        services: services.clone(),
        step_output: None,
        timeout: TIMEOUT,
        brokers: 1,
        nodes: 1,
        env: Vec::new(),
    };
    assert!(run_checks(&lab, step, &ctx).await.passed());
    let pids = services.native_pids(kind);
    assert!(!pids.is_empty(), "{kind} has a process");

    // 1. Paused: nothing answers. The check must give up by itself.
    pids.iter().for_each(|&p| signal(p, Signal::SIGSTOP));
    let t = Instant::now();
    let o = tokio::time::timeout(TIMEOUT + SLACK, run_checks(&lab, step, &ctx))
        .await
        .unwrap_or_else(|_| panic!("a check on a paused {kind} hung past its timeout"));
    let took = t.elapsed();
    println!(
        "paused {kind}: {:?} after {took:?}: {}",
        o.status, o.message
    );
    assert_eq!(o.status, Status::Error, "{}", o.message);
    assert!(
        o.message.to_lowercase().contains(kind.name()),
        "the message names the server: {}",
        o.message
    );
    assert!(
        o.message.contains("did not answer") || o.message.contains("running"),
        "{}",
        o.message
    );

    // 2. Killed while a check waits on it (still paused, so the check is
    // surely in flight when the process dies).
    let check = {
        let (lab, ctx) = (lab.clone(), ctx.clone());
        tokio::spawn(async move {
            let t = Instant::now();
            (run_checks(&lab, step, &ctx).await, t.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    pids.iter().for_each(|&p| signal(p, Signal::SIGKILL));
    let (o, took) = tokio::time::timeout(TIMEOUT + SLACK, check)
        .await
        .unwrap_or_else(|_| panic!("a check on a killed {kind} hung past its timeout"))
        .expect("the check does not panic");
    println!(
        "killed {kind}: {:?} after {took:?}: {}",
        o.status, o.message
    );
    assert_eq!(o.status, Status::Error, "{}", o.message);
    assert!(
        o.message.contains("running") || o.message.contains("did not answer"),
        "{}",
        o.message
    );
    drop(own);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_stopping_under_a_check_is_a_clear_error() {
    // Step 1 (find) reads what step 0 loaded.
    server_stops_under_a_check("mongodb", ServiceKind::Mongodb, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_stopping_under_a_check_is_a_clear_error() {
    // Step 1 (table) reads the schema step 0 and 1 made.
    server_stops_under_a_check("cassandra", ServiceKind::Cassandra, 1).await;
}
