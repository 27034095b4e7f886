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

/// `datalab kafka` with the output going to `log` (a detached consumer
/// keeps the command's output open: a pipe would not close until it ends).
fn kafka_logged(bootstrap: &str, learner: &str, args: &[&str], log: &std::path::Path) -> i32 {
    let f = std::fs::File::create(log).unwrap();
    Command::new(common::datalab_bin())
        .args(["--learner", learner, "kafka"])
        .args(args)
        .env("DATALAB_KAFKA_BOOTSTRAP", bootstrap)
        .env_remove("DATALAB_NAMESPACE")
        .stdin(Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .status()
        .unwrap()
        .code()
        .unwrap_or(-1)
}

/// `consume --group G --detach` returns once its consumer is a member with
/// partitions: the group shows it the moment the command returns, and the
/// consumer goes on in the background until told to stop. A consumer that
/// fails before it joins makes the command fail with its message; without
/// a group, or in a panel, `--detach` is refused.
#[tokio::test]
async fn detach_returns_once_the_member_has_partitions() {
    let b = bootstrap().await;
    let me = format!("detach{}", std::process::id());
    ok(&kafka(
        &b,
        &me,
        &["topics", "create", "jobs", "--partitions", "2"],
        None,
    ));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    let args = [
        "consume", "jobs", "--group", "crew", "--stay", "60", "--detach",
    ];
    let code = kafka_logged(&b, &me, &args, &log);
    let said = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("is a member of group crew with partition(s) 0, 1"),
        "{said}"
    );
    let v = json(&kafka(
        &b,
        &me,
        &["--json", "groups", "describe", "crew"],
        None,
    ));
    assert_eq!(v["members"].as_array().map(Vec::len), Some(1), "{v}");

    // The consumer is still running: stop it as a lab step would (SIGTERM),
    // and it leaves the group.
    let pid: i32 = said
        .split("consumer ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {said}"));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("the detached consumer runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = json(&kafka(
            &b,
            &me,
            &["--json", "groups", "describe", "crew"],
            None,
        ));
        if v["members"].as_array().is_none_or(Vec::is_empty) {
            break;
        }
        assert!(Instant::now() < deadline, "still a member: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }

    let code = kafka_logged(
        &b,
        &me,
        &["consume", "nope", "--group", "crew", "--detach"],
        &log,
    );
    let said = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("nope")
            && said.contains("the consumer ended (exit status: 1) before it had partitions"),
        "{said}"
    );
    let o = kafka(&b, &me, &["consume", "jobs", "--detach"], None);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--group"),
        "{o:?}"
    );
}
