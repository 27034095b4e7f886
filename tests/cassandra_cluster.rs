//! The Cassandra lab's node-failure step on a real three-node cluster
//! (native: three JVMs on 127.0.0.1-3), and full grades of the lab. The
//! step's check stops nodes, so everything here runs in one test, in order:
//! nothing else may use the cluster while a node is down.

mod common;
#[path = "nosql/mod.rs"]
mod nosql;

use datalab_clients::cql;
use datalab_engine::check::Status;
use datalab_services::{ServiceKind, Services, UpOptions};
use nosql::*;
use scylla::statement::Consistency;
use std::time::{Duration, Instant};

const LAB: &str = "cassandra";

/// Resident memory of a process, from /proc (Linux).
fn rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Every node runs, and a write then a read at ALL (all three replicas)
/// works through the driver.
async fn assert_whole(services: &Services, ns: &datalab_services::Namespace) {
    let pids = services.native_pids(ServiceKind::Cassandra);
    if common::provider() == datalab_services::ProviderKind::Native {
        assert_eq!(pids.len(), 3, "three live node processes: {pids:?}");
    }
    let ep = services
        .running(ServiceKind::Cassandra)
        .await
        .expect("Cassandra still runs");
    let s = cql::own_session(&ep.address, Duration::from_secs(20))
        .await
        .expect("a session");
    let ks = ns.keyspace("fleet");
    let t = Duration::from_secs(20);
    cql::execute(
        &s,
        &format!("INSERT INTO {ks}.events (id, message) VALUES ('whole', 'all three')"),
        Consistency::All,
        t,
    )
    .await
    .expect("a write at ALL after the check");
    let rows = cql::execute(
        &s,
        &format!("SELECT message FROM {ks}.events WHERE id = 'whole'"),
        Consistency::All,
        t,
    )
    .await
    .expect("a read at ALL after the check");
    assert_eq!(rows.rows.len(), 1, "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_failure_step_and_full_grades_on_three_nodes() {
    let lab = lab(LAB);
    let services = common::services();
    let t = Instant::now();
    let ep = services
        .ensure(
            ServiceKind::Cassandra,
            &UpOptions {
                nodes: 3,
                ..Default::default()
            },
        )
        .await
        .expect("a three-node Cassandra");
    assert_eq!(ep.cassandra_contact_points().len(), 3, "{ep:?}");
    eprintln!("3-node Cassandra ready in {:?}", t.elapsed());
    for pid in services.native_pids(ServiceKind::Cassandra) {
        eprintln!("node pid {pid}: RSS {:?} MB", rss_mb(pid));
    }
    let (step, _) = lab.step("node-failure").expect("the node-failure step");

    // The solution passes: the check stopped two nodes and started them
    // again itself.
    let ws = workspace(&lab, "solution");
    let ns = fresh_namespace("cnf");
    let mut g = Grader::new(&lab, ws.path(), ns.clone());
    // The live events the lab screen's CQL panel follows.
    let events = tempfile::NamedTempFile::new().unwrap();
    g.opts.env.push((
        datalab_engine::check::cql_outage::EVENTS_ENV.into(),
        events.path().display().to_string(),
    ));
    let t = Instant::now();
    let r = g.step(step).await;
    eprintln!("node-failure step (solution) took {:?}", t.elapsed());
    assert!(r.passed(), "{}", explain(&r));
    let mut view = datalab_tui::panels::cql::OutageView::new(3);
    for line in std::fs::read_to_string(events.path()).unwrap().lines() {
        view.apply(&serde_json::from_str(line).unwrap());
    }
    let shown = view.lines().join("\n");
    eprintln!("the CQL panel's live view after the step:\n{shown}");
    assert_eq!(view.results.len(), 6, "{shown}");
    assert!(shown.starts_with("nodes 3/3 up"), "{shown}");
    assert!(
        shown.contains("2 nodes down: ONE ok · QUORUM fails · ALL fails"),
        "{shown}"
    );
    let msg = &r.checks[0].outcome.message;
    assert!(
        msg.contains("one node down: ONE ok, QUORUM ok, ALL fails")
            && msg.contains("two nodes down: ONE ok, QUORUM fails, ALL fails"),
        "{msg}"
    );
    assert!(msg.contains("ALL works again"), "{msg}");
    assert_whole(&services, &ns).await;

    // A wrong prediction fails, pointing at the answer file, with what
    // really happened; the nodes are back afterwards all the same.
    wrong_quorum_prediction_fails(&g, ws.path(), step).await;
    assert_whole(&services, &ns).await;

    // ALL predicted to survive two nodes down: the message quotes the error.
    wrong_outage_prediction_fails(
        &g,
        ws.path(),
        step,
        "one_node_down: {ONE: succeeds, QUORUM: succeeds, ALL: fails}\n\
         two_nodes_down: {ONE: succeeds, QUORUM: fails, ALL: succeeds}\n",
        "you said ALL succeeds with two nodes down, but it failed (Unavailable",
    )
    .await;
    assert_whole(&services, &ns).await;

    // One replica only: refused before any node is stopped.
    let ws1 = workspace(&lab, "solution");
    let cql_file = ws1.path().join("cluster.cql");
    let text = std::fs::read_to_string(&cql_file).unwrap();
    std::fs::write(
        &cql_file,
        text.replace("'replication_factor': 3", "'replication_factor': 1"),
    )
    .unwrap();
    let r = Grader::new(&lab, ws1.path(), fresh_namespace("cnf1"))
        .step(step)
        .await;
    let c = &r.checks[0];
    assert_eq!(c.outcome.status, Status::Fail, "{}", explain(&r));
    assert!(
        c.outcome.message.contains("keeps 1 copies"),
        "{}",
        c.outcome.message
    );
    assert_eq!(c.outcome.file.as_deref(), Some("cluster.cql".as_ref()));

    // The starter fails the step without erroring.
    let st = workspace(&lab, "starter");
    let r = Grader::new(&lab, st.path(), fresh_namespace("cnfst"))
        .step(step)
        .await;
    assert!(!r.passed() && !r.errored(), "{}", explain(&r));

    // A full grade of the solution through the CLI: one JUnit testcase per
    // check, none failed; twice as JSON, the same statuses.
    let content = content_dir(&lab);
    let ws = workspace(&lab, "solution");
    let t = Instant::now();
    let (code, xml) = grade_cli(content.path(), LAB, ws.path(), "junit");
    eprintln!("full grade of the solution took {:?}", t.elapsed());
    assert_eq!(code, 0, "{xml}");
    let checks: usize = lab.def.steps.iter().map(|s| s.checks.len()).sum();
    assert_eq!(xml.matches("<testcase ").count(), checks, "{xml}");
    let statuses = |json: &str| -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["check"].to_string(), c["status"].to_string()))
            .collect()
    };
    let (c1, j1) = grade_cli(content.path(), LAB, ws.path(), "json");
    let (c2, j2) = grade_cli(content.path(), LAB, ws.path(), "json");
    assert_eq!((c1, c2), (0, 0));
    assert_eq!(statuses(&j1), statuses(&j2));
    assert_whole(&services, &ns).await;
}
