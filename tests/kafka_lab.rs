//! The Kafka lab on a real single broker (native provider in CI): the
//! reference solution passes every step, the starter fails every step, and a
//! deliberately wrong workspace for each step fails with its message. Step 9
//! (3 brokers) lives in `kafka_cluster.rs` so that cluster starts once.

mod common;
#[path = "common/kafka_lab.rs"]
mod kl;

use kl::{assert_fails_with, assert_passes, workspace};

/// In one namespace, step by step: the wrong version of a step first (it
/// must fail with its message), then the solution's (it must pass, and
/// leaves the state the next step builds on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solution_passes_and_each_wrong_step_fails_with_its_message() {
    let w = workspace("solution", "sol");

    assert_passes(&w.step("topics").await);

    let orig = w.edit("02_produce.sh", "print c \"\\t\" $0", "print $0");
    assert_fails_with(&w.step("keys").await, "has key none, expected \"c");
    w.restore("02_produce.sh", &orig);
    assert_passes(&w.step("keys").await);

    let orig = w.edit("03_billing.sh", "t[$1] += a", "t[$1] += a + 1");
    assert_fails_with(&w.step("groups").await, "the records of orders add up to");
    w.restore("03_billing.sh", &orig);
    let orig = w.edit(
        "03_billing.sh",
        "--group billing --from-beginning",
        "--group billing --from-beginning --no-commit",
    );
    assert_fails_with(
        &w.step("groups").await,
        "group billing has no committed offsets on orders",
    );
    w.restore("03_billing.sh", &orig);
    assert_passes(&w.step("groups").await);

    let orig = w.edit("04_lag.sh", "--max 40", "--max 50");
    assert_fails_with(
        &w.step("lag").await,
        "group analytics committed 50 records of orders, expected 40",
    );
    w.restore("04_lag.sh", &orig);
    assert_passes(&w.step("lag").await);

    let t = std::time::Instant::now();
    assert_passes(&w.step("scaling").await);
    // The two background consumers (`--stay 25`) end with the step's check,
    // not 25 s later.
    let left = kl::processes_of(&w.opts.workspace);
    assert!(
        left.is_empty(),
        "step 5 left consumers running after {:?}: {left:#?}",
        t.elapsed()
    );

    let orig = w.edit("06_audit.sh", "--partitions 1", "--partitions 3");
    assert_fails_with(
        &w.step("global-order").await,
        "audit has 3 partitions, expected 1",
    );
    w.restore("06_audit.sh", &orig);
    assert_passes(&w.step("global-order").await);

    let orig = w.edit(
        "07_retention.sh",
        "retention.ms=3600000",
        "retention.ms=7200000",
    );
    assert_fails_with(
        &w.step("retention").await,
        "clicks has retention.ms=7200000, expected retention.ms=3600000",
    );
    w.restore("07_retention.sh", &orig);
    let orig = w.edit("07_retention.sh", "print k \"\\t\" $0", "print $0");
    assert_fails_with(
        &w.step("retention").await,
        "customers has no records, expected the 8 profiles",
    );
    w.restore("07_retention.sh", &orig);
    assert_passes(&w.step("retention").await);

    let orig = w.edit("08_transactions.sh", " --abort", "");
    assert_fails_with(
        &w.step("exactly-once").await,
        "a read_committed consumer sees 15 records of payments-tx, expected 10",
    );
    w.restore("08_transactions.sh", &orig);
    assert_passes(&w.step("exactly-once").await);

    let orig = w.edit("monitoring.yaml", "total_lag: 80", "total_lag: 40");
    let r = w.step("monitoring").await;
    assert_fails_with(&r, "says the lag of analytics is 40, the broker says 80");
    assert!(r.checks[0].outcome.file.as_deref() == Some(std::path::Path::new("monitoring.yaml")));
    w.restore("monitoring.yaml", &orig);
    assert_passes(&w.step("monitoring").await);
}

/// Steps whose wrong version leaves state the solution cannot repair in the
/// same namespace: a 1-partition `orders`, a lone consumer still in the group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_partition_and_one_consumer_fail_with_their_messages() {
    let w = workspace("solution", "wrong");
    w.edit("01_topics.sh", "--partitions 3", "--partitions 1");
    let r = w.step("topics").await;
    assert_fails_with(&r, "orders has 1 partition, expected 3");
    assert_eq!(
        r.checks[0].outcome.file.as_deref(),
        Some(std::path::Path::new("01_topics.sh"))
    );
    assert_passes(&w.step("keys").await);
    w.edit("05_scale.sh", "for w in 1 2", "for w in 1");
    assert_fails_with(&w.step("scaling").await, "group workers has 1 member");
}

/// The starter workspace fails every single-broker step (and never errors:
/// the failures are the learner's to fix).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starter_fails_every_step() {
    let w = workspace("starter", "starter");
    for s in w.lab.def.steps.clone() {
        if s.brokers.unwrap_or(1) > 1 {
            continue;
        }
        let r = w.step(&s.id).await;
        assert!(!r.passed(), "starter passed {}\n{}", s.id, kl::explain(&r));
        assert!(
            !r.errored(),
            "starter errored on {}\n{}",
            s.id,
            kl::explain(&r)
        );
    }
}

/// Two gradings at once in two namespaces on one broker do not see each
/// other's topics or groups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_namespaces_at_once_do_not_collide() {
    let a = workspace("solution", "na");
    let b = workspace("solution", "nb");
    assert_ne!(a.opts.namespace, b.opts.namespace);
    for step in ["topics", "keys", "groups", "lag"] {
        let (ra, rb) = tokio::join!(a.step(step), b.step(step));
        assert_passes(&ra);
        assert_passes(&rb);
    }
}
