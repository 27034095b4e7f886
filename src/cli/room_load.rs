//! `datalab room load`: a fresh room served by a child `datalab room serve`
//! (so the peak RSS measured is the server's alone), N simulated learners
//! posting events over loopback, then the figures: events/s, ack latency,
//! events lost, server peak RSS, and the instructor's screen drawn with
//! that room.

use super::Ctx;
use super::room::{LoadArgs, open_room};
use datalab_room::load::{LoadOptions, load};
use datalab_room::{RoomModel, ViewOptions};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Frames drawn to time the instructor's screen.
const FRAMES: u32 = 50;

/// The server child, stopped (SIGTERM, then SIGKILL after 10 s) and
/// reaped however `run` ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(a: LoadArgs, ctx: &Ctx, rt: &tokio::runtime::Runtime) -> ExitCode {
    if a.learners == 0
        || a.rate.is_nan()
        || a.rate <= 0.0
        || a.duration.is_nan()
        || a.duration <= 0.0
    {
        eprintln!("datalab room load: --learners, --rate and --duration must be above 0");
        return ExitCode::from(super::USAGE);
    }
    match measure(&a, ctx, rt) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("datalab room load: {e}");
            ExitCode::from(1)
        }
    }
}

/// Run the load and print the figures; returns the events lost.
fn measure(a: &LoadArgs, ctx: &Ctx, rt: &tokio::runtime::Runtime) -> Result<u64, String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let room = tmp.path().join("room");
    let (server, url, code) = spawn_server(tmp.path(), &room)?;
    println!(
        "{} learners × {} event/s × {} s against {url}",
        a.learners, a.rate, a.duration
    );
    let opts = LoadOptions {
        url,
        code,
        learners: a.learners,
        rate: a.rate,
        duration: Duration::from_secs_f64(a.duration),
        server_pid: Some(server.0.id()),
        room_dir: Some(room.clone()),
    };
    let report = rt.block_on(load(opts)).map_err(|e| e.to_string())?;
    print!("{report}");
    let frame = tui_frame(&room, ctx)?;
    drop(server);
    println!(
        "instructor TUI      80×24 frame {:.2} ms ({} learners, mean of {FRAMES})",
        frame.as_secs_f64() * 1000.0,
        report.learners
    );
    Ok(report.lost)
}

/// `datalab room serve` on a free loopback port; its join line gives the
/// URL and code.
fn spawn_server(home: &Path, room: &Path) -> Result<(Server, String, String), String> {
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let mut child = Command::new(exe)
        .arg("--home")
        .arg(home)
        .args(["room", "serve", "--bind", "127.0.0.1:0", "--dir"])
        .arg(room)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the room server: {e}"))?;
    let stdout = child.stdout.take().ok_or("no server output")?;
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.map_err(|e| format!("reading the server's output: {e}"))?;
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["datalab", "join", url, code, ..] = words[..] {
            // Keep its stdout open and drained while it runs.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((server, url.to_string(), code.to_string()));
        }
    }
    Err("the room server ended without printing its join line".into())
}

/// Draw the instructor's room screen with the loaded room into an 80×24
/// test terminal; the mean time per frame.
fn tui_frame(room: &Path, ctx: &Ctx) -> Result<Duration, String> {
    let course = ctx.course().map_err(|_| "the course content has errors")?;
    let store = open_room(room)?;
    let started = Instant::now();
    let model = RoomModel::load(&store).map_err(|e| e.to_string())?;
    let loaded = started.elapsed();
    let screen = datalab_tui::RoomScreen::new(
        model,
        &course,
        ViewOptions::default(),
        datalab_room::now_ms(),
    );
    let frame = screen.time_frames(80, 24, FRAMES);
    println!(
        "instructor TUI      load {:.1} ms",
        loaded.as_secs_f64() * 1000.0
    );
    Ok(frame)
}
