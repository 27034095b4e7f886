//! The Kafka lab's replication step on a real 3-broker cluster (started
//! once for this file), and a full grade of the lab with its JUnit report.
//! The step-9 check stops a broker, so everything here runs in one test, in
//! order: nothing else may use the cluster while a broker is down.

mod common;
#[path = "common/kafka_lab.rs"]
mod kl;

use datalab::services::{ServiceKind, UpOptions};
use kl::{assert_fails_with, assert_passes, workspace};
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_step_and_full_grade_on_three_brokers() {
    let services = common::services();
    let t = Instant::now();
    let ep = services
        .ensure(ServiceKind::Kafka, &UpOptions { brokers: 3 })
        .await
        .expect("a 3-broker Kafka");
    assert!(ep.nodes >= 3, "{ep:?}");
    eprintln!("3-broker Kafka ready in {:?}", t.elapsed());

    // The solution passes: the check stopped and restarted a broker itself.
    let w = workspace("solution", "repl");
    let t = Instant::now();
    let r = w.step("replication").await;
    assert_passes(&r);
    eprintln!("step 9 (solution) took {:?}", t.elapsed());
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
    let g = workspace("solution", "grade");
    let t = Instant::now();
    let run = datalab::grade::grade_lab(&g.lab, &g.opts).await;
    eprintln!("full grade of the solution took {:?}", t.elapsed());
    for s in &run.steps {
        assert_passes(s);
    }
    let checks: usize = g.lab.def.steps.iter().map(|s| s.checks.len()).sum();
    let xml = datalab::grade::to_junit(std::slice::from_ref(&run));
    assert_eq!(xml.matches("<testcase ").count(), checks, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 0, "{xml}");

    // The starter's grade: every check a failure in the report.
    let st = workspace("starter", "grade_starter");
    let run = datalab::grade::grade_lab(&st.lab, &st.opts).await;
    let xml = datalab::grade::to_junit(std::slice::from_ref(&run));
    assert_eq!(xml.matches("<testcase ").count(), checks, "{xml}");
    assert!(run.steps.iter().all(|s| !s.passed()));
}
