//! The Kafka lab's replication step on a real 3-broker cluster (started
//! once for this file), and a full grade of the lab with its JUnit report.
//! The step-9 check stops a broker, so everything here runs in one test, in
//! order: nothing else may use the cluster while a broker is down.

mod common;
#[path = "common/kafka_lab.rs"]
mod kl;

use datalab_services::{ServiceKind, UpOptions};
use kl::{assert_fails_with, assert_passes, workspace};
use std::time::Instant;

/// The TUI's Kafka panel watching a step, ticked on its own thread as the
/// lab screen does (10 times a second).
mod panel {
    use super::kl::Workspace;
    use datalab_tui::panel::{LabPanel, PanelCtx};
    use datalab_tui::panels::kafka::{KafkaPanel, ReplicationView};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    #[derive(Debug)]
    pub struct Seen {
        pub refreshes: u64,
        pub longest_gap: Duration,
        /// Brokers up, per refresh that changed it.
        pub up_counts: Vec<usize>,
        pub last: Option<ReplicationView>,
    }

    pub struct Watch {
        stop: Arc<AtomicBool>,
        task: tokio::task::JoinHandle<Seen>,
    }

    pub fn watch(w: &Workspace) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let lab = w.lab.clone();
        let services = w.opts.services.clone();
        let ns = w.opts.namespace.clone();
        let ws = w.opts.workspace.clone();
        let rt = tokio::runtime::Handle::current();
        let (step, _) = lab.step("replication").unwrap();
        let flag = stop.clone();
        let task = tokio::task::spawn_blocking(move || {
            let mut p = KafkaPanel::new();
            let mut seen = Seen {
                refreshes: 0,
                longest_gap: Duration::ZERO,
                up_counts: Vec::new(),
                last: None,
            };
            let mut last_at = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                let ctx = PanelCtx {
                    lab: &lab,
                    services: &services,
                    namespace: &ns,
                    runtime: &rt,
                    workspace: &ws,
                    step,
                    checking: true,
                };
                p.tick(&ctx);
                if p.refreshes > seen.refreshes {
                    seen.refreshes = p.refreshes;
                    seen.longest_gap = seen.longest_gap.max(last_at.elapsed());
                    last_at = Instant::now();
                    if let Some(v) = &p.replication
                        && v.error.is_none()
                    {
                        if seen.up_counts.last() != Some(&v.up.len()) {
                            seen.up_counts.push(v.up.len());
                        }
                        seen.last = Some(v.clone());
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            seen
        });
        Watch { stop, task }
    }

    impl Watch {
        /// Stop watching after one more refresh (the view after the step).
        pub async fn finish(self) -> Seen {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            self.stop.store(true, Ordering::Relaxed);
            self.task.await.unwrap()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_step_and_full_grade_on_three_brokers() {
    let services = common::services();
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
        .expect("a 3-broker Kafka");
    assert!(ep.nodes >= 3, "{ep:?}");
    eprintln!("3-broker Kafka ready in {:?}", t.elapsed());

    // The solution passes: the check stopped and restarted a broker itself.
    // Meanwhile the TUI's Kafka panel, showing step 9, refreshes its live
    // replication view and sees the broker go down and come back.
    let w = workspace("solution", "repl");
    let watch = panel::watch(&w);
    let t = Instant::now();
    let r = w.step("replication").await;
    assert_passes(&r);
    eprintln!("step 9 (solution) took {:?}", t.elapsed());
    let seen = watch.finish().await;
    eprintln!(
        "the panel refreshed {} times during step 9 (longest gap {:?}); states seen: {:?}",
        seen.refreshes, seen.longest_gap, seen.up_counts
    );
    assert!(
        seen.up_counts.iter().any(|n| *n < 3),
        "the panel never showed a broker down: {seen:?}"
    );
    assert!(seen.refreshes >= 5, "{seen:?}");
    let last = seen.last.expect("a replication view");
    assert_eq!(last.up.len(), 3, "{last:?}");
    let payments = last
        .topics
        .iter()
        .find(|t| t.name == "payments")
        .unwrap_or_else(|| panic!("payments in the view: {last:?}"));
    assert_eq!(payments.partitions.len(), 3);
    for p in &payments.partitions {
        assert_eq!(p.replicas.len(), 3, "{p:?}");
        assert_eq!(p.isr.len(), 3, "the ISR is whole again: {p:?}");
    }
    let text = last.lines().join("\n");
    assert!(text.contains("brokers 3/3 up"), "{text}");
    assert!(
        r.checks[1]
            .outcome
            .message
            .contains("every ISR is complete"),
        "{}",
        kl::explain(&r)
    );

    // min.insync.replicas=3: the topic check says so, and the failover
    // check explains why acks=all writes would be refused with a broker down.
    let orig = w.edit(
        "09_replication.sh",
        "min.insync.replicas=2",
        "min.insync.replicas=3",
    );
    let r = w.step("replication").await;
    assert_fails_with(
        &r,
        "payments has min.insync.replicas=3, expected min.insync.replicas=2",
    );
    assert_fails_with(&r, "so an acks=all producer would fail");
    w.restore("09_replication.sh", &orig);

    // Replication factor 1: one broker down would lose partitions.
    w.edit(
        "09_replication.sh",
        "--replication-factor 3",
        "--replication-factor 1",
    );
    let r = w.step("replication").await;
    assert_fails_with(&r, "payments has replication factor 1, expected 3");

    // The starter fails the step.
    let s = workspace("starter", "repl_starter");
    let r = s.step("replication").await;
    assert!(!r.passed() && !r.errored(), "{}", kl::explain(&r));

    // A full grade of the solution: every check passes, and the JUnit
    // report has one testcase per check.
    // Step 11 (exactly-once scoring) has only a Python route.
    let g = workspace("solution", "grade");
    kl::python_route(&g);
    let t = Instant::now();
    let run = datalab_engine::grade::grade_lab(&g.lab, &g.opts).await;
    eprintln!("full grade of the solution took {:?}", t.elapsed());
    for s in &run.steps {
        assert_passes(s);
    }
    let checks: usize = g.lab.def.steps.iter().map(|s| s.checks.len()).sum();
    let xml = datalab_engine::grade::to_junit(std::slice::from_ref(&run));
    assert_eq!(xml.matches("<testcase ").count(), checks, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 0, "{xml}");

    // The starter's grade: every check a failure in the report.
    let st = workspace("starter", "grade_starter");
    let run = datalab_engine::grade::grade_lab(&st.lab, &st.opts).await;
    let xml = datalab_engine::grade::to_junit(std::slice::from_ref(&run));
    assert_eq!(xml.matches("<testcase ").count(), checks, "{xml}");
    assert!(run.steps.iter().all(|s| !s.passed()));
}
