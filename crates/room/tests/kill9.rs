//! kill -9 of the room server under load, then a restart: every event the
//! server acknowledged is there, and the learners' outboxes drain with no
//! duplicates. The server runs as a child process (examples/serve.rs).

mod common;

use common::{learner_dir, try_raw, unit_opened};
use datalab_room::{Reporter, Store};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn serve_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/serve");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--example", "serve"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    bin
}

fn spawn_server(room: &Path, bind: &str) -> (Child, Value) {
    let mut child = Command::new(serve_binary())
        .arg(room)
        .arg(bind)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, serde_json::from_str(&line).unwrap())
}

/// Posts its own events as fast as it can; returns the seqs acknowledged.
fn hammer(addr: SocketAddr, learner: u64, token: String, stop: Arc<AtomicBool>) -> Vec<u64> {
    let (mut acked, mut seq) = (Vec::new(), 0u64);
    while !stop.load(Ordering::SeqCst) {
        let seqs: Vec<u64> = (seq + 1..=seq + 10).collect();
        let events: Vec<Value> = seqs
            .iter()
            .map(|s| json!({"learner": learner, "seq": s, "at_ms": 0, "event": {"type": "unit_opened", "unit": "u"}}))
            .collect();
        let body = json!({ "events": events }).to_string();
        match try_raw(
            addr,
            "POST",
            "/api/v1/events",
            Some(&token),
            body.as_bytes(),
        ) {
            Some((200, _)) => {
                acked.extend(&seqs);
                seq += 10;
            }
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    acked
}

#[test]
fn kill_9_loses_no_acknowledged_event() {
    let tmp = tempfile::tempdir().unwrap();
    let room = tmp.path().join("room");
    let (mut child, info) = spawn_server(&room, "127.0.0.1:0");
    let url = info["url"].as_str().unwrap().to_string();
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let code = info["code"].as_str().unwrap().to_string();
    let dirs: Vec<_> = (0..3).map(|_| learner_dir()).collect();
    let ids: Vec<u64> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            datalab_room::join(d.path(), &url, &code, &format!("L{i}"))
                .unwrap()
                .learner
        })
        .collect();
    let body = json!({"code": code, "name": "hammer"}).to_string();
    let (_, joined) = try_raw(addr, "POST", "/api/v1/join", None, body.as_bytes()).unwrap();
    let joined: Value = serde_json::from_str(&joined).unwrap();
    let (hid, htoken) = (
        joined["learner"].as_u64().unwrap(),
        joined["token"].as_str().unwrap().to_string(),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let reporting = Arc::new(AtomicBool::new(true));
    let hammer = {
        let stop = stop.clone();
        std::thread::spawn(move || hammer(addr, hid, htoken, stop))
    };
    let reporters: Vec<_> = dirs
        .iter()
        .map(|d| {
            let (path, reporting) = (d.path().to_path_buf(), reporting.clone());
            std::thread::spawn(move || {
                let r = Reporter::start(&path).unwrap().unwrap();
                let mut n = 0u64;
                while reporting.load(Ordering::SeqCst) {
                    n = r.report(unit_opened(&format!("u{n}"))).unwrap();
                    std::thread::sleep(Duration::from_millis(3));
                }
                assert!(r.flush(Duration::from_secs(30)).delivered, "outbox drained");
                n
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(600));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (mut child, _) = spawn_server(&room, &addr.to_string());
    std::thread::sleep(Duration::from_millis(400));
    stop.store(true, Ordering::SeqCst);
    reporting.store(false, Ordering::SeqCst);
    let acked = hammer.join().unwrap();
    let reported: Vec<u64> = reporters.into_iter().map(|h| h.join().unwrap()).collect();
    let _ = child.kill();
    let _ = child.wait();

    let keys = Store::open_readonly(&room).unwrap().all_keys().unwrap();
    let stored = |l: u64| -> Vec<u64> { keys.iter().filter(|k| k.0 == l).map(|k| k.1).collect() };
    let hammered = stored(hid);
    assert!(!acked.is_empty());
    for s in &acked {
        assert!(hammered.contains(s), "acknowledged event {s} lost");
    }
    for (id, n) in ids.iter().zip(reported) {
        assert_eq!(
            stored(*id),
            (1..=n).collect::<Vec<_>>(),
            "learner {id}: each event once, none missing"
        );
    }
}
