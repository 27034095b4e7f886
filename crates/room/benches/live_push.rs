//! Push latency of the room's live stream (#13): from the moment the
//! instructor's command is sent to the moment each connected learner's
//! feed holds the new state. A room on loopback, `LEARNERS` learners
//! joined and following the stream, `ROUNDS` commands; prints p50, p99 and
//! the worst case over every (command, learner) pair.
//!
//! `cargo bench -p datalab-room --bench live_push` (release build). Figures
//! only: nothing here asserts a time.

use datalab_room::live::{Command, LivePhase};
use datalab_room::{LiveFeed, RoomServer, ServeConfig, TlsMode, join, send_command};
use std::time::{Duration, Instant};

const LEARNERS: usize = 50;
const ROUNDS: usize = 50;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = ServeConfig::new(dir.path().join("room"));
    config.bind = "127.0.0.1:0".parse().expect("addr");
    config.tls = TlsMode::Off;
    let server = rt.block_on(RoomServer::start(config)).expect("room");
    let (url, code, boss) = (
        server.join_url(),
        server.join_code().to_string(),
        server.instructor_token().to_string(),
    );
    let homes: Vec<_> = (0..LEARNERS)
        .map(|_| tempfile::tempdir().expect("home"))
        .collect();
    let mut feeds: Vec<LiveFeed> = homes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            join(h.path(), &url, &code, &format!("learner {i}")).expect("join");
            LiveFeed::follow_joined(h.path())
                .expect("room file")
                .expect("joined")
        })
        .collect();
    for f in &mut feeds {
        f.wait_for(Duration::from_secs(60), |f| f.connected)
            .expect("every feed connects");
    }
    let start = Command::StartActivity {
        id: "bench".into(),
        title: "Bench".into(),
        phases: vec![LivePhase {
            title: "one".into(),
            secs: 600,
        }],
    };
    send_command(&url, &boss, &start).expect("start");
    let mut samples = Vec::with_capacity(LEARNERS * ROUNDS);
    for _ in 0..ROUNDS {
        let sent = Instant::now();
        let v = send_command(&url, &boss, &Command::AddMinute)
            .expect("command")
            .version;
        for f in &mut feeds {
            let got = f
                .wait_for(Duration::from_secs(60), |f| {
                    f.view.as_ref().is_some_and(|(x, _)| x.version >= v)
                })
                .expect("the feed gets the change");
            let (_, at) = got.view.expect("a view");
            samples.push(at.saturating_duration_since(sent));
        }
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "live push, {LEARNERS} learners x {ROUNDS} commands on loopback: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*samples.last().expect("samples"))
    );
    drop(feeds);
    rt.block_on(server.shutdown());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
