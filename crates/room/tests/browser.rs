//! The projector page (#13) in a real browser: Debian's headless Chromium,
//! driven through chromedriver (WebDriver), against a real room server on
//! loopback. The page takes its token from the URL fragment, follows the
//! live stream and polls the summary; the instructor's commands and the
//! learners' answers must show on it. Screenshots at 1280×720 and
//! 1920×1080 are left in the target dir for a person to look at.
//!
//! Needs /usr/bin/chromium and /usr/bin/chromedriver (tests/browser-setup.sh
//! installs them; tests/run-all.sh runs it). Every wait polls the page with
//! a generous limit: nothing here measures time.

mod common;

use common::{TestRoom, learner_dir};
use datalab_room::live::{Command, PollAnswer, QuestionDef};
use datalab_room::{Event, Reporter, TlsMode, answer_poll, send_command};
use fantoccini::{Client, ClientBuilder};
use serde::Deserialize;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Generous: the suite runs on a busy 2-core machine.
const WAIT: Duration = Duration::from_secs(30);
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const MISSING: &str = "chromium and chromium-driver are missing: run `bash tests/browser-setup.sh` (tests/run-all.sh does)";

const PROMPT: &str = "HDFS keeps three copies of every block by default";
const EXPLANATION: &str = "dfs.replication defaults to 3";
const ACTIVITY: &str = "Brainstorm: a data platform for a retailer";
const NOTE: &str = "Kafka in front of the warehouse, so the shops keep selling when it is down";

/// chromedriver on a free loopback port, in a process group of its own so
/// that dropping it (a panic included) kills it and the browser it started.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    fn start(dir: &Path) -> Driver {
        let port = free_port();
        let log = dir.join("chromedriver.log");
        let child = std::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            // The browser inherits these: its crash-report database and
            // caches go to the test's temp dir, not the user's home.
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut driver = Driver { child, port, log };
        driver.wait_ready();
        driver
    }

    /// Until `GET /status` says ready.
    fn wait_ready(&mut self) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let end = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("chromedriver's status") {
                panic!("chromedriver exited ({status}): {}", self.log_tail());
            }
            if status_says_ready(addr) {
                return;
            }
            assert!(
                Instant::now() < end,
                "chromedriver did not answer on port {} within {WAIT:?}: {}",
                self.port,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Does chromedriver's `GET /status` say it is ready? (Read only until it
/// does: chromedriver keeps the connection open.)
fn status_says_ready(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = format!("GET /status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = s.read(&mut buf) {
        got.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&got).contains("\"ready\":true") {
            return true;
        }
    }
    false
}

fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free loopback port");
    l.local_addr().unwrap().port()
}

/// One headless Chromium session. Dropping it ends the session, then the
/// driver, then removes the browser's profile dir.
struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "{MISSING}"
        );
        let profile = tempfile::tempdir().unwrap();
        let driver = Driver::start(profile.path());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--window-size=1280,720",
                    "--force-device-scale-factor=1",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.path().join("chromium").display()),
                ],
            },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let connected = rt.block_on(async {
            tokio::time::timeout(
                WAIT * 2,
                ClientBuilder::new(connector)
                    .capabilities(caps)
                    .connect(&driver.url()),
            )
            .await
        });
        let Ok(connected) = connected else {
            panic!("no browser session within {:?}", WAIT * 2)
        };
        let client =
            connected.unwrap_or_else(|e| panic!("no browser session: {e}\n{}", driver.log_tail()));
        Browser {
            rt,
            client: Some(client),
            driver,
            _profile: profile,
        }
    }

    fn client(&self) -> Client {
        self.client.clone().expect("a browser session")
    }

    /// Run one WebDriver exchange (bounded, so a hung browser fails the test).
    fn run<T, E: std::fmt::Display>(&self, what: &str, f: impl Future<Output = Result<T, E>>) -> T {
        self.rt
            .block_on(async { tokio::time::timeout(WAIT * 2, f).await })
            .unwrap_or_else(|_| panic!("{what}: the browser did not answer within {:?}", WAIT * 2))
            .unwrap_or_else(|e| panic!("{what}: {e}\n{}", self.driver.log_tail()))
    }

    fn goto(&self, url: &str) {
        let c = self.client();
        self.run("open the page", async move { c.goto(url).await })
    }

    /// What the page shows now.
    fn shot(&self) -> Shot {
        let c = self.client();
        let v = self.run(
            "read the page",
            async move { c.execute(SHOT_JS, vec![]).await },
        );
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("the page's state {v}: {e}"))
    }

    /// Poll the page until `pred` holds; fail with what it shows instead.
    fn until(&self, what: &str, pred: impl Fn(&Shot) -> bool) -> Shot {
        let end = Instant::now() + WAIT;
        loop {
            let s = self.shot();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < end,
                "{what}: the page never showed it within {WAIT:?}; it shows {s:#?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Make the page's viewport `w`×`h` (a window may have a frame around
    /// it) and wait until the page has the new size.
    fn viewport(&self, w: u32, h: u32) {
        let end = Instant::now() + WAIT;
        loop {
            let s = self.shot();
            if (s.inner_w, s.inner_h) == (w, h) {
                return;
            }
            assert!(
                Instant::now() < end,
                "the viewport did not become {w}×{h}: it is {}×{}",
                s.inner_w,
                s.inner_h
            );
            let (ow, oh) = (s.outer_w + w - s.inner_w, s.outer_h + h - s.inner_h);
            let c = self.client();
            self.run("resize the window", async move {
                c.set_window_size(ow, oh).await
            });
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the viewport at `w`×`h`, saved under the target dir.
    fn screenshot(&self, w: u32, h: u32) -> PathBuf {
        self.viewport(w, h);
        let c = self.client();
        let png = self.run("take a screenshot", async move { c.screenshot().await });
        assert!(!png.is_empty(), "an empty screenshot");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        let dim = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!((dim(16), dim(20)), (w, h), "the screenshot's size");
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("projector-{w}x{h}.png"));
        std::fs::write(&path, &png).unwrap();
        println!("screenshot {w}×{h}: {}", path.display());
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(WAIT, c.close()).await });
        }
    }
}

/// The page's state as a person reads it (rendered text, not the DOM's).
#[derive(Debug, Deserialize)]
struct Shot {
    version: Option<String>,
    status: String,
    activity: String,
    phase: String,
    timer: String,
    poll_title: String,
    prompt: String,
    options: Vec<Opt>,
    answered: String,
    explanation: String,
    note: String,
    learners: String,
    units: usize,
    steps: usize,
    inner_w: u32,
    inner_h: u32,
    outer_w: u32,
    outer_h: u32,
    scroll_w: u32,
    scroll_h: u32,
}

#[derive(Debug, Deserialize)]
struct Opt {
    option: String,
    text: String,
    count: String,
    right: bool,
    fill: bool,
}

const SHOT_JS: &str = r##"
const text = (sel) => { const e = document.querySelector(sel); return e ? e.innerText : ""; };
const all = (sel) => [...document.querySelectorAll(sel)];
return {
  version: document.body.dataset.version || null,
  status: text("#status"),
  activity: text("#activity"),
  phase: text("#phase"),
  timer: text("#timer"),
  poll_title: text("#poll-title"),
  prompt: text("#prompt"),
  options: all("#options .opt").map((o) => ({
    option: o.dataset.option || "",
    text: o.querySelector(".label .text")?.innerText ?? "",
    count: o.querySelector(".label .count")?.innerText ?? "",
    right: o.classList.contains("right"),
    fill: o.querySelector(".fill") !== null,
  })),
  answered: text("#answered"),
  explanation: text("#explanation"),
  note: text("#note"),
  learners: text("#learners"),
  units: all("#units .row").length,
  steps: all("#steps .row").length,
  inner_w: window.innerWidth,
  inner_h: window.innerHeight,
  outer_w: window.outerWidth,
  outer_h: window.outerHeight,
  scroll_w: document.documentElement.scrollWidth,
  scroll_h: document.documentElement.scrollHeight,
};
"##;

/// `mm:ss`, as the page's timer shows it.
fn is_mmss(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit())
        && b[3] <= b'5'
}

fn instruct(room: &TestRoom, cmd: &Command) {
    send_command(&room.join_url(), &room.instructor(), cmd).expect("the instructor's command");
}

fn join(room: &TestRoom, name: &str) -> tempfile::TempDir {
    let home = learner_dir();
    datalab_room::join(home.path(), &room.join_url(), &room.code(), name).expect("join");
    home
}

/// Events from a learner's machine, delivered before this returns.
fn report(home: &Path, events: Vec<Event>) {
    let reporter = Reporter::start(home).unwrap().expect("joined");
    for e in events {
        reporter.report(e).unwrap();
    }
    assert!(reporter.flush(WAIT).delivered, "the events were delivered");
}

fn answer(home: &Path, option: usize) {
    let a = PollAnswer {
        question: "q1".into(),
        options: vec![option],
    };
    answer_poll(home, &a).expect("the answer is taken");
}

fn poll() -> Command {
    Command::OpenPoll {
        quiz: "hdfs".into(),
        title: "HDFS basics".into(),
        questions: vec![QuestionDef {
            id: "q1".into(),
            prompt: PROMPT.into(),
            options: vec!["True".into(), "False".into()],
            right: vec![0],
            explanation: EXPLANATION.into(),
        }],
    }
}

fn activity() -> Command {
    common::brainstorm(ACTIVITY)
}

fn counts(s: &Shot) -> Vec<&str> {
    s.options.iter().map(|o| o.count.as_str()).collect()
}

#[test]
fn the_projector_page_shows_the_poll_the_activity_and_the_room_in_a_real_browser() {
    let started = Instant::now();
    let browser = Browser::start();
    let room = TestRoom::start(TlsMode::Off);
    let ada = join(&room, "Ada");
    let bob = join(&room, "Bob");

    browser.goto(&room.server().projector_url());
    let s = browser.until("the stream is live", |s| {
        s.status == "live" && s.version.is_some()
    });
    assert!(s.prompt.contains("no poll open"), "{s:#?}");
    assert_eq!(s.timer, "--:--");

    instruct(&room, &poll());
    instruct(&room, &activity());
    let s = browser.until("the poll and the activity", |s| {
        s.prompt == PROMPT && s.activity == ACTIVITY && is_mmss(&s.timer)
    });
    assert!(s.phase.starts_with("Phase 1 of 2: Think alone"), "{s:#?}");
    assert!(s.poll_title.starts_with("HDFS basics"), "{s:#?}");
    assert_eq!(counts(&s), ["0", "0"]);
    assert_eq!(s.answered, "0 answered");
    let labels: Vec<_> = s
        .options
        .iter()
        .map(|o| (o.option.as_str(), o.text.as_str()))
        .collect();
    assert_eq!(labels, [("0", "True"), ("1", "False")]);
    assert!(s.options.iter().all(|o| o.fill && !o.right), "{s:#?}");

    answer(ada.path(), 0);
    answer(bob.path(), 1);
    browser.until("one True, one False", |s| {
        counts(s) == ["1", "1"] && s.answered == "2 answered"
    });

    instruct(&room, &Command::Reveal);
    let s = browser.until("the reveal", |s| s.options.iter().any(|o| o.right));
    let right: Vec<_> = s.options.iter().filter(|o| o.right).collect();
    assert_eq!(right.len(), 1, "{s:#?}");
    assert_eq!(right[0].option, "0", "True is right");
    browser.until("the explanation", |s| s.explanation == EXPLANATION);

    instruct(&room, &Command::NextPhase);
    browser.until("phase 2", |s| s.phase.starts_with("Phase 2 of 2"));
    instruct(&room, &Command::Pause);
    let s = browser.until("paused", |s| s.phase.contains("(paused)"));
    assert!(
        s.phase.starts_with("Phase 2 of 2: Share in pairs"),
        "{s:#?}"
    );
    assert!(is_mmss(&s.timer), "{s:#?}");

    // The rest of the screen, so the screenshots show a full room.
    report(
        ada.path(),
        vec![
            Event::UnitDone {
                unit: "hdfs-basics".into(),
            },
            Event::UnitDone {
                unit: "kafka-intro".into(),
            },
            common::check("kafka", "step-03", "topic-exists", true, "ok"),
        ],
    );
    report(
        bob.path(),
        vec![
            Event::UnitDone {
                unit: "hdfs-basics".into(),
            },
            Event::NoteSaved {
                activity: "brainstorm".into(),
                phase: "1".into(),
                text: NOTE.into(),
            },
        ],
    );
    let notes = datalab_room::notes(&room.join_url(), &room.instructor(), "brainstorm").unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    instruct(&room, &Command::PickNote { id: notes[0].id });
    let s = browser.until("the note and the room's progress", |s| {
        s.note == NOTE && s.learners.contains("2 learners") && s.units >= 2 && s.steps >= 1
    });
    assert!(!s.note.contains("Bob"), "names stay off the projector");

    let small = browser.screenshot(1280, 720);
    let s = browser.shot();
    assert!(
        s.scroll_w <= s.inner_w && s.scroll_h <= s.inner_h,
        "nothing overflows at 1280×720: {s:#?}"
    );
    let large = browser.screenshot(1920, 1080);
    let s = browser.shot();
    assert!(
        s.scroll_w <= s.inner_w && s.scroll_h <= s.inner_h,
        "nothing overflows at 1920×1080: {s:#?}"
    );
    assert!(small.exists() && large.exists());
    println!("browser test: {:.1}s", started.elapsed().as_secs_f64());
}
