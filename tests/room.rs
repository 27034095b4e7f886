//! The instructor's room end to end with real processes over loopback:
//! `datalab room serve`, learners joining and reporting through the CLI
//! (`quiz --plain`, `check` of the MapReduce lab, which needs no services),
//! a learner stuck then recovering, `room export`, kill -9 of the server
//! under load, a learner offline then back, refused tokens and bodies, and
//! a name full of escape sequences. Every process is killed at the end.

mod common;

use datalab_room::{Reporter, RoomModel, Store, Stuck, ViewOptions};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A `datalab room serve` child on a fixed loopback port (so it can be
/// restarted where learners expect it); killed when dropped.
struct Server {
    home: PathBuf,
    port: u16,
    child: Option<Child>,
    url: String,
    code: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn start(home: &Path) -> Server {
        let mut s = Server {
            home: home.to_path_buf(),
            port: free_port(),
            child: None,
            url: String::new(),
            code: String::new(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let mut child = Command::new(common::datalab_bin())
            .arg("--home")
            .arg(&self.home)
            .args([
                "room",
                "serve",
                "--bind",
                &format!("127.0.0.1:{}", self.port),
            ])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("datalab room serve starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        self.child = Some(child);
        for line in lines.by_ref() {
            let line = line.unwrap();
            let w: Vec<&str> = line.split_whitespace().collect();
            if let ["datalab", "join", url, code, "--name", "NAME"] = w[..] {
                (self.url, self.code) = (url.to_string(), code.to_string());
                // Keep reading: the server's stdout stays open.
                std::thread::spawn(move || lines.for_each(drop));
                return;
            }
        }
        panic!("the server printed no join line");
    }

    fn room_dir(&self) -> PathBuf {
        self.home.join("room")
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn store(&self) -> Store {
        Store::open_readonly(&self.room_dir()).unwrap()
    }

    fn model(&self) -> RoomModel {
        RoomModel::load(&self.store()).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Run datalab with `home`, `args` and `stdin`.
fn datalab(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(common::datalab_bin())
        .arg("--home")
        .arg(home)
        .args(args)
        .env("DATALAB_PROVIDER", "native")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn join(server: &Server, home: &Path, name: &str) -> Output {
    datalab(
        home,
        &["join", &server.url, &server.code, "--name", name],
        "",
    )
}

/// Deliver what a learner's outbox holds (a reporter of its own, up to a
/// minute: the machine may be busy); asserts it drained.
fn drain(home: &Path) {
    let r = Reporter::start(home).unwrap().expect("joined");
    let f = r.flush(Duration::from_secs(60));
    assert!(f.delivered, "outbox of {} drained: {f:?}", home.display());
}

/// The true-or-false quiz: six right, the last (numeric) wrong.
const QUIZ_ANSWERS: &str = "f\nf\nf\nf\nt\nt\n97000000000000\n";

fn learner_id(server: &Server, name: &str) -> u64 {
    server
        .model()
        .gradebook()
        .into_iter()
        .find(|r| r.name == name)
        .map(|r| r.learner)
        .expect("the learner is in the room")
}

#[test]
fn two_learners_report_one_gets_stuck_and_recovers_and_export_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("instructor"));
    let (ada, bob) = (tmp.path().join("ada"), tmp.path().join("bob"));
    for (home, name) in [(&ada, "Ada"), (&bob, "Bob")] {
        let out = join(&server, home, name);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains(&format!("as {name}")));
    }

    let quiz = datalab(&ada, &["quiz", "true-or-false", "--plain"], QUIZ_ANSWERS);
    assert!(
        text(&quiz.stdout).ends_with("score: 6/7\n"),
        "{}",
        text(&quiz.stdout)
    );

    // Bob checks the word count step with the starter files: it fails.
    let check = datalab(&bob, &["check", "mapreduce", "wordcount"], "");
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stdout));
    drain(&ada);
    drain(&bob);
    let bob_id = learner_id(&server, "Bob");
    let later = datalab_room::now_ms() + 11 * 60 * 1000;
    let view = server.model().view(later, &ViewOptions::default());
    assert_eq!(view.rows[0].learner, bob_id, "the stuck learner is on top");
    assert!(matches!(view.rows[0].stuck, Some(Stuck::Failing { .. })));
    assert_eq!(view.stuck, 1);

    // Bob fixes the step: no longer stuck, the step counts as passed.
    let ws = bob.join("workspaces/mapreduce/wordcount");
    let solution = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/mapreduce/solution/wordcount");
    for f in ["mapper.py", "reducer.py"] {
        std::fs::copy(solution.join(f), ws.join(f)).unwrap();
    }
    let check = datalab(&bob, &["check", "mapreduce", "wordcount"], "");
    assert!(check.status.success(), "{}", text(&check.stdout));
    drain(&bob);
    let view = server.model().view(later, &ViewOptions::default());
    assert_eq!(view.stuck, 0, "{view:?}");

    export_matches(&server);
}

/// `room export` (JSON and CSV) says what the learners sent.
fn export_matches(server: &Server) {
    let dir = server.room_dir();
    let dir = dir.to_str().unwrap();
    let out = datalab(
        &server.home,
        &["room", "export", "--format", "json", "--dir", dir],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 2);
    let ada = rows.iter().find(|r| r["name"] == "Ada").unwrap();
    assert_eq!(ada["quiz_scores"][0]["quiz"], "true-or-false");
    assert_eq!(ada["quiz_scores"][0]["right"], 6);
    assert_eq!(ada["quiz_scores"][0]["answered"], 7);
    assert_eq!(ada["units_done"], serde_json::json!(["true-or-false"]));
    // unit opened, 7 answers, unit done
    assert_eq!(ada["events"], 9);
    let bob = rows.iter().find(|r| r["name"] == "Bob").unwrap();
    assert_eq!(
        bob["steps_passed"],
        serde_json::json!(["mapreduce/wordcount"])
    );

    let out = datalab(
        &server.home,
        &["room", "export", "--format", "csv", "--dir", dir],
        "",
    );
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("learner,name,units_done"), "{csv}");
    let ada_line = lines.iter().find(|l| l.contains(",Ada,")).unwrap();
    assert!(ada_line.contains("true-or-false 6/7"), "{csv}");
    let bob_line = lines.iter().find(|l| l.contains(",Bob,")).unwrap();
    assert!(bob_line.contains(",1,mapreduce/wordcount,"), "{csv}");
}

#[test]
fn kill_9_under_load_then_restart_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("instructor"));
    let homes: Vec<PathBuf> = (0..3).map(|i| tmp.path().join(format!("l{i}"))).collect();
    for (i, h) in homes.iter().enumerate() {
        assert!(join(&server, h, &format!("L{i}")).status.success());
    }
    let running = Arc::new(AtomicBool::new(true));
    let reporters: Vec<_> = homes
        .iter()
        .map(|h| {
            let (h, running) = (h.clone(), running.clone());
            std::thread::spawn(move || {
                let r = Reporter::start(&h).unwrap().unwrap();
                let mut last = 0;
                while running.load(Ordering::SeqCst) {
                    let unit = format!("u{last}");
                    last = r.report(datalab_room::Event::UnitOpened { unit }).unwrap();
                    std::thread::sleep(Duration::from_millis(3));
                }
                last
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9();
    std::thread::sleep(Duration::from_millis(500));
    server.spawn();
    std::thread::sleep(Duration::from_millis(1500));
    running.store(false, Ordering::SeqCst);
    let sent: Vec<u64> = reporters.into_iter().map(|t| t.join().unwrap()).collect();
    for h in &homes {
        drain(h);
    }
    let keys = server.store().all_keys().unwrap();
    for (i, n) in sent.iter().enumerate() {
        let id = learner_id(&server, &format!("L{i}"));
        let mut seqs: Vec<u64> = keys.iter().filter(|k| k.0 == id).map(|k| k.1).collect();
        seqs.sort_unstable();
        assert_eq!(
            seqs,
            (1..=*n).collect::<Vec<_>>(),
            "learner L{i}: every event once"
        );
    }
}

#[test]
fn a_learner_offline_for_a_while_delivers_every_event_once_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("instructor"));
    let home = tmp.path().join("ada");
    assert!(join(&server, &home, "Ada").status.success());
    server.kill9();

    let quiz = datalab(&home, &["quiz", "true-or-false", "--plain"], QUIZ_ANSWERS);
    assert!(quiz.status.success());
    assert!(
        text(&quiz.stderr).contains("wait to be sent"),
        "{}",
        text(&quiz.stderr)
    );
    let status = datalab(&home, &["room", "status"], "");
    assert_eq!(status.status.code(), Some(1));
    let said = text(&status.stdout);
    assert!(
        said.contains("queued    9 event(s)") && said.contains("does not answer"),
        "{said}"
    );

    server.spawn();
    let again = datalab(&home, &["quiz", "true-or-false", "--plain"], "t\n");
    assert!(again.status.success());
    drain(&home);
    let id = learner_id(&server, "Ada");
    let arrived: Vec<u64> = server
        .store()
        .events_since(0, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.learner == id)
        .map(|e| e.seq)
        .collect();
    // 9 offline (unit opened, 7 answers, unit done), then unit opened and
    // one answer.
    assert_eq!(arrived, (1..=11).collect::<Vec<_>>(), "once each, in order");
    let status = datalab(&home, &["room", "status"], "");
    assert!(status.status.success(), "{}", text(&status.stdout));
    assert!(text(&status.stdout).contains("events are flowing"));
}

/// A raw HTTP/1.1 request; returns the status code.
fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn wrong_codes_tokens_roles_and_bodies_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("instructor"));
    let home = tmp.path().join("ada");

    let out = datalab(
        &home,
        &["join", &server.url, "WRONG123", "--name", "Ada"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("refused the join code"),
        "{}",
        text(&out.stderr)
    );
    assert!(!home.join("room.json").exists());
    let out = datalab(
        &home,
        &["join", "ftp://nowhere", &server.code, "--name", "Ada"],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = datalab(&home, &["room", "status"], "");
    assert!(text(&out.stdout).contains("not in a room"));
    let out = datalab(&home, &["room", "export", "--dir", "/nonexistent/room"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no room in /nonexistent/room"));

    assert!(join(&server, &home, "Ada").status.success());
    let room: Value =
        serde_json::from_slice(&std::fs::read(home.join("room.json")).unwrap()).unwrap();
    let (token, id) = (
        room["token"].as_str().unwrap(),
        room["learner"].as_u64().unwrap(),
    );
    let event = format!(
        r#"{{"events":[{{"learner":{id},"seq":1,"at_ms":0,"event":{{"type":"unit_done","unit":"u"}}}}]}}"#
    );
    let addr = server.addr();
    assert_eq!(
        http(addr, "POST", "/api/v1/events", None, event.as_bytes()),
        401
    );
    assert_eq!(
        http(
            addr,
            "POST",
            "/api/v1/events",
            Some("nope"),
            event.as_bytes()
        ),
        401
    );
    assert!(
        server.store().all_keys().unwrap().is_empty(),
        "nothing written"
    );
    assert_eq!(http(addr, "GET", "/api/v1/view", Some(token), b""), 403);
    assert_eq!(
        http(addr, "POST", "/api/v1/events", Some(token), b"{\"events\":"),
        400
    );
    let big = vec![b' '; 2 * 1024 * 1024];
    assert_eq!(http(addr, "POST", "/api/v1/events", Some(token), &big), 413);
    assert_eq!(
        http(
            addr,
            "POST",
            "/api/v1/events",
            Some(token),
            event.as_bytes()
        ),
        200
    );
    assert_eq!(server.store().all_keys().unwrap(), vec![(id, 1)]);

    let out = datalab(&home, &["leave"], "");
    assert!(out.status.success());
    assert!(!home.join("room.json").exists());
}

#[test]
fn a_name_with_escape_sequences_is_shown_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("instructor"));
    let home = tmp.path().join("eve");
    let name = "\u{1b}[31mEve\u{1b}]0;pwned\u{7}";
    let out = join(&server, &home, name);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!out.stdout.contains(&0x1b), "join prints the name escaped");
    datalab(&home, &["quiz", "true-or-false", "--plain"], "f\n");
    drain(&home);

    let dir = server.room_dir();
    let dir = dir.to_str().unwrap();
    let csv = datalab(
        &server.home,
        &["room", "export", "--format", "csv", "--dir", dir],
        "",
    );
    let json = datalab(
        &server.home,
        &["room", "export", "--format", "json", "--dir", dir],
        "",
    );
    for out in [&csv.stdout, &json.stdout] {
        assert!(
            !out.contains(&0x1b) && !out.contains(&0x07),
            "{}",
            text(out)
        );
    }
    assert!(
        text(&csv.stdout).contains(r"\x1b[31mEve\x1b]0;pwned\x07"),
        "{}",
        text(&csv.stdout)
    );
    let rows: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        rows[0]["name"], name,
        "JSON keeps the name, escaped as JSON"
    );

    let course = datalab_content::Course::load(common::content()).unwrap();
    let screen = datalab_tui::RoomScreen::new(
        server.model(),
        &course,
        ViewOptions::default(),
        datalab_room::now_ms(),
    );
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    term.draw(|f| screen.render(f)).unwrap();
    let shown = common::buffer_text(term.backend().buffer());
    assert!(
        !shown.contains('\u{1b}') && shown.contains(r"\x1b[31mEve"),
        "{shown}"
    );
}

/// A `datalab poll` learner process: answers go in on stdin, what it
/// prints is read line by line.
struct PollLearner {
    child: Child,
    stdin: std::process::ChildStdin,
    lines: std::sync::mpsc::Receiver<String>,
}

impl PollLearner {
    fn start(home: &Path) -> PollLearner {
        let mut child = Command::new(common::datalab_bin())
            .arg("--home")
            .arg(home)
            .arg("poll")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("datalab poll starts");
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for chunk in BufReader::new(out).split(b'\n').map_while(Result::ok) {
                let _ = tx.send(String::from_utf8_lossy(&chunk).into_owned());
            }
        });
        PollLearner {
            child,
            stdin,
            lines,
        }
    }

    /// Read until a line contains `what` (a minute at most: a busy machine).
    fn until(&mut self, what: &str) -> String {
        let mut seen = String::new();
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    seen.push_str(&line);
                    seen.push('\n');
                    if line.contains(what) {
                        return seen;
                    }
                }
                Err(_) => panic!("`datalab poll` never printed {what:?}; it printed:\n{seen}"),
            }
        }
    }

    fn say(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
    }
}

impl Drop for PollLearner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn live(server: &Server, args: &[&str]) -> String {
    let mut all = vec!["room", "live"];
    all.extend_from_slice(args);
    let out = datalab(&server.home, &all, "");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "room live {args:?}: {stdout}{stderr}");
    stdout
}

#[test]
fn a_live_poll_run_from_the_cli_reaches_a_plain_learner_and_the_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("instructor"));
    let ada = tmp.path().join("ada");
    assert!(join(&server, &ada, "Ada").status.success());
    let mut learner = PollLearner::start(&ada);
    learner.until("waiting for the instructor's poll");
    let opened = live(&server, &["poll", "true-or-false"]);
    assert!(opened.contains("question 1/7"), "{opened}");
    learner.until("2) False");
    learner.say("maybe");
    learner.until("not taken: answer t (true) or f (false)");
    learner.say("f");
    learner.until("waiting for the reveal");
    let shown = live(&server, &["show"]);
    assert!(
        shown.contains("2) False: 1") && shown.contains("1 answered"),
        "{shown}"
    );
    live(&server, &["reveal"]);
    let revealed = learner.until("offline");
    assert!(revealed.contains("right 2) False: 1  (you)"), "{revealed}");
    live(&server, &["question", "2"]);
    learner.until("machine learning always outperforms");
    live(&server, &["close"]);
    learner.until("the poll is closed");
    let status = learner.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn the_room_timer_runs_from_the_cli_and_refuses_what_does_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("instructor"));
    let started = live(&server, &["start", "brainstorm-applications"]);
    assert!(started.contains("phase 1/"), "{started}");
    assert!(live(&server, &["pause"]).contains("(paused)"));
    live(&server, &["add-minute"]);
    assert!(!live(&server, &["resume"]).contains("(paused)"));
    let out = datalab(&server.home, &["room", "live", "resume"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already running"),
        "{}",
        text(&out.stderr)
    );
    let out = datalab(
        &server.home,
        &["room", "live", "start", "no-such-activity"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("brainstorm-applications"),
        "lists the known ones"
    );
    assert!(live(&server, &["notes"]).contains("no notes yet"));
    let nowhere = tmp.path().join("nobody");
    let out = datalab(&nowhere, &["room", "live", "pause"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is the room running?"),
        "{}",
        text(&out.stderr)
    );
}
