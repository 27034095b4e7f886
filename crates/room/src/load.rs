//! A load generator for a running room: N simulated learners join, then
//! each posts R events a second for D seconds over its own kept-alive
//! connection. Reports throughput, acknowledgement latency, events lost
//! (acknowledged but not stored: must be 0), the server's peak RSS and
//! what the instructor's view model costs with that room.

use crate::http::{ClientError, Endpoint, HttpClient};
use crate::model::RoomModel;
use crate::protocol::{Envelope, Event, JoinRequest, JoinResponse, MeResponse};
use crate::store::Store;
use crate::view::ViewOptions;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Join URL of the room (with `#sha256=` for HTTPS).
    pub url: String,
    pub code: String,
    pub learners: usize,
    /// Events per second per learner.
    pub rate: f64,
    pub duration: Duration,
    /// The server process, for its peak RSS (`VmHWM`).
    pub server_pid: Option<u32>,
    /// The room dir, to time the instructor's view model on the result.
    pub room_dir: Option<PathBuf>,
}

#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub learners: usize,
    pub acked: u64,
    /// Events never acknowledged before the end (kept retrying).
    pub unacked: u64,
    /// Acknowledged but not stored.
    pub lost: u64,
    pub retries: u64,
    pub events_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub server_peak_rss_kb: Option<u64>,
    /// Folding the whole room from the database (once, at view start).
    pub view_load_ms: Option<f64>,
    /// Building the rows of one frame (sort, stuck flags, summary).
    pub view_frame_ms: Option<f64>,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "learners            {}", self.learners)?;
        writeln!(
            f,
            "events acked        {} ({:.1}/s)",
            self.acked, self.events_per_sec
        )?;
        writeln!(
            f,
            "ack latency         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.p50_ms, self.p99_ms, self.max_ms
        )?;
        writeln!(
            f,
            "events lost         {} (unacked {}, retries {})",
            self.lost, self.unacked, self.retries
        )?;
        if let Some(kb) = self.server_peak_rss_kb {
            writeln!(f, "server peak RSS     {:.1} MB", kb as f64 / 1024.0)?;
        }
        if let (Some(l), Some(v)) = (self.view_load_ms, self.view_frame_ms) {
            writeln!(f, "instructor view     load {l:.1} ms, per frame {v:.2} ms")?;
        }
        Ok(())
    }
}

struct Learner {
    id: u64,
    token: String,
}

struct Outcome {
    latencies_us: Vec<u64>,
    acked: u64,
    unacked: u64,
    retries: u64,
}

/// Run the load against the room at `opts.url`.
pub async fn load(opts: LoadOptions) -> Result<LoadReport, ClientError> {
    let endpoint = Endpoint::parse(&opts.url)?;
    let learners = join_all(&endpoint, &opts).await?;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(learners.len());
    for (i, l) in learners.iter().enumerate() {
        let (ep, id, token, o) = (endpoint.clone(), l.id, l.token.clone(), opts.clone());
        let offset = Duration::from_secs_f64(i as f64 / opts.learners.max(1) as f64 / opts.rate);
        tasks.push(tokio::spawn(async move {
            simulate(ep, id, token, &o, offset).await
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.map_err(|e| ClientError::Network(e.to_string()))??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut report = summarize(&outcomes, elapsed, learners.len());
    report.lost = count_lost(&endpoint, &learners, &outcomes).await?;
    report.server_peak_rss_kb = opts.server_pid.and_then(peak_rss_kb);
    if let Some(dir) = &opts.room_dir {
        let (load_ms, frame_ms) = time_view(dir.clone()).await?;
        (report.view_load_ms, report.view_frame_ms) = (Some(load_ms), Some(frame_ms));
    }
    Ok(report)
}

async fn join_all(endpoint: &Endpoint, opts: &LoadOptions) -> Result<Vec<Learner>, ClientError> {
    let run: u32 = rand::random();
    let mut http = HttpClient::new(endpoint.clone(), Duration::from_secs(30))?;
    let mut out = Vec::with_capacity(opts.learners);
    for i in 0..opts.learners {
        let req = JoinRequest {
            code: opts.code.clone(),
            name: format!("load-{run:08x}-{i:04}"),
        };
        let body = serde_json::to_vec(&req).map_err(|e| ClientError::Network(e.to_string()))?;
        let bytes = http
            .request(hyper::Method::POST, "/api/v1/join", None, Some(body))
            .await?;
        let r: JoinResponse =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Network(e.to_string()))?;
        out.push(Learner {
            id: r.learner,
            token: r.token,
        });
    }
    Ok(out)
}

/// One simulated learner: an event every 1/rate s, each retried until
/// acknowledged (latency counts from the first attempt).
async fn simulate(
    ep: Endpoint,
    id: u64,
    token: String,
    opts: &LoadOptions,
    offset: Duration,
) -> Result<Outcome, ClientError> {
    let mut http = HttpClient::new(ep, Duration::from_secs(30))?;
    let count = (opts.rate * opts.duration.as_secs_f64()).round() as u64;
    let period = Duration::from_secs_f64(1.0 / opts.rate);
    let start = tokio::time::Instant::now() + offset;
    let deadline = start + opts.duration + Duration::from_secs(30);
    let mut out = Outcome {
        latencies_us: Vec::with_capacity(count as usize),
        acked: 0,
        unacked: 0,
        retries: 0,
    };
    for seq in 1..=count {
        tokio::time::sleep_until(start + period * (seq - 1) as u32).await;
        let env = Envelope {
            learner: id,
            seq,
            at_ms: crate::now_ms(),
            event: sample_event(seq),
        };
        let sent = Instant::now();
        loop {
            match crate::sender::post(&mut http, &token, vec![env.clone()]).await {
                Ok(_) => {
                    out.latencies_us.push(sent.elapsed().as_micros() as u64);
                    out.acked += 1;
                    break;
                }
                Err(_) if tokio::time::Instant::now() < deadline => {
                    out.retries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(_) => {
                    out.unacked += 1;
                    break;
                }
            }
        }
    }
    Ok(out)
}

fn sample_event(seq: u64) -> Event {
    let step = format!("{}", seq / 20 + 1);
    match seq % 5 {
        0 => Event::UnitOpened {
            unit: format!("unit-{}", seq / 50),
        },
        1 => Event::CheckResult {
            lab: "kafka".into(),
            step,
            check_id: "topic-exists".into(),
            passed: false,
            message: "no topic named orders yet".into(),
        },
        2 => Event::HintRevealed {
            lab: "kafka".into(),
            step,
            hint: "kafka topics create orders".into(),
        },
        3 => Event::CheckResult {
            lab: "kafka".into(),
            step,
            check_id: "topic-exists".into(),
            passed: true,
            message: "topic orders has 3 partitions".into(),
        },
        _ => Event::QuizAnswer {
            quiz: "kafka-basics".into(),
            question: format!("q{}", seq % 7),
            answer: "b".into(),
            correct: seq.is_multiple_of(3),
        },
    }
}

fn summarize(outcomes: &[Outcome], elapsed: f64, learners: usize) -> LoadReport {
    let mut lat: Vec<u64> = outcomes
        .iter()
        .flat_map(|o| o.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    let acked: u64 = outcomes.iter().map(|o| o.acked).sum();
    LoadReport {
        learners,
        acked,
        unacked: outcomes.iter().map(|o| o.unacked).sum(),
        retries: outcomes.iter().map(|o| o.retries).sum(),
        events_per_sec: acked as f64 / elapsed.max(1e-9),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
        ..LoadReport::default()
    }
}

/// Ask the room, as each learner, how many of its events it holds.
async fn count_lost(
    ep: &Endpoint,
    learners: &[Learner],
    outcomes: &[Outcome],
) -> Result<u64, ClientError> {
    let mut http = HttpClient::new(ep.clone(), Duration::from_secs(30))?;
    let mut lost = 0;
    for (l, o) in learners.iter().zip(outcomes) {
        let bytes = http
            .request(hyper::Method::GET, "/api/v1/me", Some(&l.token), None)
            .await?;
        let me: MeResponse =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Network(e.to_string()))?;
        lost += o.acked.saturating_sub(me.events);
    }
    Ok(lost)
}

/// Peak resident set of a process, from /proc/PID/status (VmHWM, kB).
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn time_view(dir: PathBuf) -> Result<(f64, f64), ClientError> {
    let work = move || -> Result<(f64, f64), String> {
        let store = Store::open_readonly(&dir).map_err(|e| e.to_string())?;
        let t = Instant::now();
        let model = RoomModel::load(&store).map_err(|e| e.to_string())?;
        let load_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        const FRAMES: u32 = 20;
        for _ in 0..FRAMES {
            std::hint::black_box(model.view(crate::now_ms(), &ViewOptions::default()));
        }
        Ok((load_ms, t.elapsed().as_secs_f64() * 1000.0 / FRAMES as f64))
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ClientError::Network(e.to_string()))?
        .map_err(ClientError::Network)
}
