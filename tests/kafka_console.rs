//! `datalab kafka …` against a real broker: JSON shapes, namespaces, and a
//! dead port that gives a clear message instead of a hang.

mod common;

use datalab_services::{ServiceKind, UpOptions};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn kafka(bootstrap: &str, learner: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(common::datalab_bin());
    cmd.args(["--learner", learner, "kafka"])
        .args(args)
        .env("DATALAB_KAFKA_BOOTSTRAP", bootstrap)
        .env_remove("DATALAB_NAMESPACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(o)).unwrap()
}

async fn bootstrap() -> String {
    common::services()
        .ensure(ServiceKind::Kafka, &UpOptions::default())
        .await
        .expect("Kafka")
        .address
}

#[tokio::test]
async fn topics_produce_consume_groups_in_json() {
    let b = bootstrap().await;
    let me = format!("console{}", std::process::id());
    let v = json(&kafka(
        &b,
        &me,
        &[
            "--json",
            "topics",
            "create",
            "t1",
            "--partitions",
            "3",
            "--replication-factor",
            "1",
            "--config",
            "retention.ms=3600000",
        ],
        None,
    ));
    assert_eq!(v["result"], "created");
    let v = json(&kafka(
        &b,
        &me,
        &["--json", "topics", "describe", "t1"],
        None,
    ));
    assert_eq!(v["name"], "t1", "the namespace prefix is stripped: {v}");
    assert_eq!(v["partitions"].as_array().unwrap().len(), 3);
    assert_eq!(v["partitions"][0]["replicas"].as_array().unwrap().len(), 1);
    assert!(v["partitions"][0]["leader"].as_i64().unwrap() >= 1);
    assert_eq!(v["configs"]["retention.ms"], "3600000");
    assert!(
        v["overrides"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "retention.ms")
    );
    let v = json(&kafka(&b, &me, &["--json", "topics", "describe"], None));
    assert!(
        v["topics"].as_array().unwrap().iter().any(|t| t == "t1"),
        "{v}"
    );

    let v = json(&kafka(
        &b,
        &me,
        &["--json", "produce", "t1"],
        Some("a\tone\nb\ttwo\na\tthree\nno-key line\n"),
    ));
    assert_eq!(v["records"], 4);
    assert_eq!(v["topic"], "t1");

    let out = ok(&kafka(
        &b,
        &me,
        &[
            "--json",
            "consume",
            "t1",
            "--group",
            "g1",
            "--from-beginning",
            "--max",
            "3",
        ],
        None,
    ));
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    for l in &lines {
        assert!(l["partition"].is_i64() && l["offset"].is_i64() && l["value"].is_string());
    }
    let v = json(&kafka(
        &b,
        &me,
        &["--json", "groups", "describe", "g1"],
        None,
    ));
    assert_eq!(v["group"], "g1");
    let offsets = v["offsets"].as_array().unwrap();
    assert_eq!(offsets.len(), 3, "{v}");
    assert!(offsets.iter().all(|o| o["topic"] == "t1"));
    let lag: i64 = offsets.iter().map(|o| o["lag"].as_i64().unwrap()).sum();
    assert_eq!(lag, 1, "4 records, 3 consumed: {v}");

    // Another learner does not see these topics.
    let v = json(&kafka(
        &b,
        &format!("{me}x"),
        &["--json", "topics", "describe"],
        None,
    ));
    assert!(
        !v["topics"].as_array().unwrap().iter().any(|t| t == "t1"),
        "{v}"
    );

    // Errors name the topic without the prefix.
    let o = kafka(&b, &me, &["topics", "describe", "nope"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("topic nope does not exist"));
    let o = kafka(&b, &me, &["topics", "create", "t1"], None);
    assert!(String::from_utf8_lossy(&o.stderr).contains("topic t1 already exists"));
    ok(&kafka(&b, &me, &["topics", "delete", "t1"], None));
}

#[test]
fn a_dead_port_gives_a_clear_message_and_no_hang() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("127.0.0.1:{port}");
    for args in [
        &["topics", "describe", "x"][..],
        &["consume", "x", "--from-beginning"][..],
        &["groups", "describe", "g", "--timeout", "2"][..],
    ] {
        let t = Instant::now();
        let o = kafka(&dead, "dead", args, None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!("Kafka at {dead} did not answer within"))
                && err.contains("datalab services up kafka"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{args:?} took {:?}",
            t.elapsed()
        );
    }
    let o = kafka(&dead, "dead", &["produce", "x"], Some("a\n"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did not answer within"));
}
