//! The Cassandra lab on a real Apache Cassandra node: the solution passes
//! every single-node step, the starter fails them, one wrong workspace per
//! step fails with its message, and a malformed CQL file says file:line
//! with the server's own error and runs nothing. The three-node step and
//! full grades run in `cassandra_cluster.rs`.

mod common;
#[path = "nosql/mod.rs"]
mod nosql;

use datalab_tui::panels::prompt::PromptPanel;
use nosql::*;

const LAB: &str = "cassandra";

/// The single-node steps (all but the last). The node-failure step needs
/// three nodes and stops two of them, which would break the other tests of
/// this file running meanwhile: `tests/cassandra_cluster.rs` runs it alone.
const SINGLE_NODE_STEPS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solution_passes_every_single_node_step() {
    let lab = lab(LAB);
    assert_eq!(lab.def.steps[SINGLE_NODE_STEPS].id, "node-failure");
    let ws = workspace(&lab, "solution");
    let g = Grader::new(&lab, ws.path(), fresh_namespace("csol"));
    let steps = g.up_to(SINGLE_NODE_STEPS - 1).await;
    assert_eq!(steps.len(), SINGLE_NODE_STEPS);
    for s in &steps {
        assert!(s.passed(), "{}", explain(s));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starter_fails_every_single_node_step() {
    let lab = lab(LAB);
    let ws = workspace(&lab, "starter");
    let g = Grader::new(&lab, ws.path(), fresh_namespace("cst"));
    for s in &g.up_to(SINGLE_NODE_STEPS - 1).await {
        assert!(!s.passed(), "{}", explain(s));
        assert!(
            !s.errored(),
            "a starter fails, it does not error: {}",
            explain(s)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_wrong_workspace_per_step_fails_with_its_message() {
    let lab = lab(LAB);
    let cases: [(usize, &str, &str, &str); 8] = [
        (
            0,
            "keyspace.cql",
            "CREATE KEYSPACE IF NOT EXISTS iot WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3};",
            "with 3 replica(s)",
        ),
        (
            1,
            "schema.cql",
            "CREATE TABLE IF NOT EXISTS iot.readings_by_sensor_day (sensor_id text, day date, ts timestamp, temperature double, humidity double, PRIMARY KEY ((sensor_id, day), ts));",
            "clustering columns are [ts asc]",
        ),
        (
            2,
            "load.cql",
            "INSERT INTO iot.readings_by_sensor_day (sensor_id, day, ts, temperature) VALUES ('s-01', '2024-03-01', '2024-03-01 00:00:00+0000', 15.2);",
            "partition (s-01, 2024-03-01) of readings_by_sensor_day has 1 rows, expected 96",
        ),
        (
            3,
            "queries.cql",
            "SELECT ts, temperature FROM iot.readings_by_sensor_day WHERE sensor_id = 's-03' AND day = '2024-03-02';\nSELECT ts, temperature, humidity FROM iot.readings_by_sensor_day WHERE sensor_id = 's-01' AND day = '2024-03-01' AND ts >= '2024-03-01 06:00:00+0000' AND ts < '2024-03-01 07:00:00+0000' ORDER BY ts ASC;",
            "queries.cql:1: question 1 returns 96 rows, expected 5",
        ),
        (
            4,
            "by_day.cql",
            "CREATE TABLE IF NOT EXISTS iot.readings_by_day (day date, ts timestamp, sensor_id text, temperature double, humidity double, PRIMARY KEY ((day), ts, sensor_id)) WITH CLUSTERING ORDER BY (ts DESC, sensor_id ASC);",
            "are missing from readings_by_day",
        ),
        (
            5,
            "alerts.cql",
            "CREATE TABLE IF NOT EXISTS iot.alerts (sensor_id text, ts timestamp, message text, PRIMARY KEY ((sensor_id), ts));\nINSERT INTO iot.alerts (sensor_id, ts, message) VALUES ('s-01', '2024-03-01 10:00:00+0000', 'a');\nINSERT INTO iot.alerts (sensor_id, ts, message) VALUES ('s-01', '2024-03-01 11:00:00+0000', 'b');\nINSERT INTO iot.alerts (sensor_id, ts, message) VALUES ('s-01', '2024-03-01 12:00:00+0000', 'c');",
            "has no TTL",
        ),
        (
            6,
            "register.cql",
            "CREATE TABLE IF NOT EXISTS iot.users (username text PRIMARY KEY, email text);\nINSERT INTO iot.users (username, email) VALUES ('ada', 'ada@example.org');",
            "has no INSERT … IF NOT EXISTS",
        ),
        (7, "consistency.yaml", "read: ONE\nwrite: ONE\n", "≤ 3"),
    ];
    wrong_files_fail(&lab, "cw", &cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_cql_says_file_line_with_the_servers_error_and_runs_nothing() {
    let lab = lab(LAB);
    let ws = workspace(&lab, "solution");
    let ns = fresh_namespace("cbad");
    let (code, _, err) = datalab(&["cql", "--file", "keyspace.cql"], ws.path(), &ns);
    assert_eq!(code, 0, "{err}");
    std::fs::write(
        ws.path().join("bad.cql"),
        "-- a valid statement first\nCREATE TABLE iot.first (k text PRIMARY KEY);\n\nCREAT TABLE iot.second (k text PRIMARY KEY);\n",
    )
    .unwrap();
    let (code, _, err) = datalab(&["cql", "--file", "bad.cql"], ws.path(), &ns);
    assert_eq!(code, 1);
    assert!(err.starts_with("bad.cql:4: "), "{err}");
    assert!(err.contains("CREAT"), "the server's own text: {err}");
    let (code, out, err) = datalab(
        &[
            "cql",
            "--json",
            "-e",
            &format!(
                "SELECT table_name FROM system_schema.tables WHERE keyspace_name = '{}'",
                ns.keyspace("iot")
            ),
        ],
        ws.path(),
        &ns,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("first"),
        "nothing of a malformed file runs: {out}"
    );
    // An unterminated string is caught before the server is asked.
    std::fs::write(
        ws.path().join("bad.cql"),
        "SELECT * FROM iot.x\n WHERE k = 'oops;\n",
    )
    .unwrap();
    let (code, _, err) = datalab(&["cql", "--file", "bad.cql"], ws.path(), &ns);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("bad.cql:2: this string is never closed"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cql_panel_runs_statements_in_the_learners_keyspace() {
    use datalab_services::{ServiceKind, UpOptions};
    use datalab_tui::panel::{LabPanel, PanelCtx};
    use datalab_tui::panels::cql::CqlPanel;
    let lab = lab(LAB);
    let services = common::services();
    services
        .ensure(ServiceKind::Cassandra, &UpOptions::default())
        .await
        .expect("Cassandra");
    let ns = fresh_namespace("cpanel");
    let ws = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Handle::current();
    let ctx = PanelCtx {
        lab: &lab,
        services: &services,
        namespace: &ns,
        runtime: &rt,
        workspace: ws.path(),
        step: 0,
        checking: false,
    };
    let mut p = CqlPanel::new();
    let busy = |p: &CqlPanel| p.busy();
    let ok = |p: &CqlPanel| {
        p.table()
            .cloned()
            .unwrap_or_else(|| panic!("{:?}", p.error()))
    };

    panel_line(
        &mut p,
        &ctx,
        "CREATE KEYSPACE IF NOT EXISTS shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        busy,
    )
    .await;
    assert_eq!(ok(&p).summary, "done");
    // USE works on the panel's own session and shows the learner's name.
    panel_line(&mut p, &ctx, "USE shop", busy).await;
    ok(&p);
    assert_eq!(p.title(), "CQL · shop");
    panel_line(
        &mut p,
        &ctx,
        "CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, name text)",
        busy,
    )
    .await;
    ok(&p);
    panel_line(
        &mut p,
        &ctx,
        "INSERT INTO users (id, name) VALUES (1, 'ada')",
        busy,
    )
    .await;
    ok(&p);
    panel_line(&mut p, &ctx, "SELECT id, name FROM users", busy).await;
    let t = ok(&p);
    assert_eq!(t.columns, ["id", "name"]);
    assert_eq!(t.rows, [["1", "ada"]]);
    // The qualified name is the learner's keyspace too.
    panel_line(
        &mut p,
        &ctx,
        "SELECT name FROM shop.users WHERE id = 1",
        busy,
    )
    .await;
    assert_eq!(ok(&p).rows, [["ada"]]);
    // A lightweight transaction says whether it applied.
    panel_line(
        &mut p,
        &ctx,
        "INSERT INTO users (id, name) VALUES (1, 'bob') IF NOT EXISTS",
        busy,
    )
    .await;
    let t = ok(&p);
    assert_eq!(t.columns[0], "[applied]");
    assert!(t.summary.starts_with("[applied] false"), "{t:?}");
    // Errors are the server's own text.
    panel_line(&mut p, &ctx, "SELECT * FROM nosuch", busy).await;
    let e = p.error().expect("an error").to_lowercase();
    assert!(e.contains("nosuch"), "{e}");
    panel_line(&mut p, &ctx, "SELEC name FROM users", busy).await;
    let e = p.error().expect("an error").to_lowercase();
    assert!(e.contains("selec"), "{e}");
    panel_line(&mut p, &ctx, "DROP KEYSPACE shop", busy).await;
    ok(&p);
}
