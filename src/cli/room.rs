//! The instructor's room and the learner's side of it: `room` (the
//! instructor's view), `room serve|status|export|load`, `join`, `leave`.

use super::{Ctx, USAGE};
use clap::{Args, Subcommand};
use datalab_room::{ClientError, ExportFormat, RoomModel, ServeConfig, Store, ViewOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct RoomArgs {
    #[command(subcommand)]
    pub command: Option<RoomCommand>,
    /// The room dir [default: <home>/room]
    #[arg(long, global = true)]
    pub dir: Option<PathBuf>,
    /// Mark a learner stuck after failing the same step this long (90s, 10m, 1h)
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub stuck_after: Duration,
    /// …or after revealing this many hints on a step that still fails
    #[arg(long, default_value_t = 3)]
    pub stuck_hints: usize,
}

#[derive(Subcommand, Debug)]
pub enum RoomCommand {
    /// Start a room server; prints the line learners run to join
    Serve(ServeArgs),
    /// (learner) Is your room reachable, are your events flowing, how many are queued
    Status,
    /// Write the grade book: per learner, units done, quiz scores, lab steps passed, time spent
    Export(ExportArgs),
    /// Run the room live: an activity's timer, a quiz as a poll, a note on the projector
    #[command(subcommand)]
    Live(super::room_live::LiveCommand),
    /// Simulate learners posting events to a fresh local room and print throughput, latency, losses, memory and frame time
    Load(LoadArgs),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; 0.0.0.0:PORT serves the LAN over HTTPS [default: 127.0.0.1:7878]
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    /// Give each learner who joins a login on this home's shared cluster (`services up --shared`)
    #[arg(long)]
    pub shared_services: bool,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_parser = parse_format, default_value = "csv")]
    pub format: ExportFormat,
    /// Write here instead of stdout
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    #[arg(long, default_value_t = 200)]
    pub learners: usize,
    /// Events per second per learner
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Seconds
    #[arg(long, default_value_t = 60.0)]
    pub duration: f64,
}

#[derive(Args, Debug)]
pub struct JoinArgs {
    /// The room's URL, as the instructor's join line gives it (https://…#sha256=… on a LAN)
    pub url: String,
    /// The room's join code
    pub code: String,
    /// Your name, as the instructor will see it
    #[arg(long)]
    pub name: String,
}

/// `90`, `90s`, `10m`, `1h`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (like 90s, 10m, 1h)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("unknown unit {other:?} (s, m or h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

fn parse_format(s: &str) -> Result<ExportFormat, String> {
    s.parse()
}

fn room_dir(ctx: &Ctx, a: &RoomArgs) -> PathBuf {
    a.dir.clone().unwrap_or_else(|| ctx.home.join("room"))
}

pub fn run(a: RoomArgs, ctx: &Ctx, rt: &tokio::runtime::Runtime) -> ExitCode {
    let dir = room_dir(ctx, &a);
    match a.command {
        None => view(&a, &dir, ctx),
        Some(RoomCommand::Serve(s)) => serve(s, dir, ctx, rt),
        Some(RoomCommand::Status) => status(ctx),
        Some(RoomCommand::Export(e)) => export(e, &dir),
        Some(RoomCommand::Load(l)) => super::room_load::run(l, ctx, rt),
        Some(RoomCommand::Live(l)) => super::room_live::run(l, &dir, ctx),
    }
}

fn serve(a: ServeArgs, dir: PathBuf, ctx: &Ctx, rt: &tokio::runtime::Runtime) -> ExitCode {
    let mut config = ServeConfig::new(dir);
    if let Some(bind) = a.bind {
        config.bind = bind;
    }
    if a.shared_services {
        match super::shared::RoomLogins::new(ctx.services.clone()) {
            Ok(h) => config.join_hook = Some(datalab_room::JoinHookHandle(Arc::new(h))),
            Err(e) => {
                eprintln!("datalab room serve: {e}");
                return ExitCode::from(USAGE);
            }
        }
    }
    match rt.block_on(datalab_room::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datalab room serve: {e}");
            ExitCode::from(1)
        }
    }
}

/// The room's database, read-only, or a message saying how to start one.
pub(crate) fn open_room(dir: &Path) -> Result<Store, String> {
    if !datalab_room::store::db_path(dir).is_file() {
        return Err(format!(
            "no room in {} (start one with `datalab room serve --dir {}`)",
            dir.display(),
            dir.display()
        ));
    }
    Store::open_readonly(dir).map_err(|e| e.to_string())
}

fn view(a: &RoomArgs, dir: &Path, ctx: &Ctx) -> ExitCode {
    if let Err(e) = open_room(dir) {
        eprintln!("datalab room: {e}");
        return ExitCode::from(USAGE);
    }
    if !datalab_tui::is_interactive() {
        eprintln!(
            "datalab room: the instructor's view needs a terminal; `datalab room export` writes the grade book"
        );
        return ExitCode::from(USAGE);
    }
    let course = match ctx.course() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let opts = ViewOptions {
        stuck_after: a.stuck_after,
        stuck_hints: a.stuck_hints,
        filter: String::new(),
    };
    match datalab_tui::run_room(dir, &course, opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datalab room: {e}");
            ExitCode::from(1)
        }
    }
}

fn export(a: ExportArgs, dir: &Path) -> ExitCode {
    let rows =
        match open_room(dir).and_then(|store| RoomModel::load(&store).map_err(|e| e.to_string())) {
            Ok(model) => model.gradebook(),
            Err(e) => {
                eprintln!("datalab room export: {e}");
                return ExitCode::from(USAGE);
            }
        };
    let text = datalab_room::export::render(&rows, a.format);
    match &a.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("datalab room export: cannot write {}: {e}", path.display());
                return ExitCode::from(1);
            }
            eprintln!("{} learner(s) written to {}", rows.len(), path.display());
        }
        None => print!("{text}"),
    }
    ExitCode::SUCCESS
}

/// The learner's side: the room, delivery state, and a live probe.
fn status(ctx: &Ctx) -> ExitCode {
    let st = match datalab_room::status(&ctx.home) {
        Ok(Some(st)) => st,
        Ok(None) => {
            println!("not in a room (join one with `datalab join URL CODE --name NAME`)");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("datalab room status: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "room      {} as {} (learner {})",
        st.joined.url,
        datalab_room::sanitize_name(&st.joined.name),
        st.joined.learner
    );
    println!("queued    {} event(s) waiting to be sent", st.queued);
    if let Some(at) = st.last_ok_ms {
        let ago = (datalab_room::now_ms() - at).max(0) / 1000;
        println!("delivered last {ago}s ago");
    }
    if let Some(e) = &st.last_error {
        println!("last error {e}");
    }
    if st.dropped > 0 {
        println!(
            "refused   {} event(s) the room refused as invalid",
            st.dropped
        );
    }
    match datalab_room::probe(&ctx.home, Duration::from_secs(2)) {
        Ok(me) => {
            println!(
                "the room answers: it holds {} of your events (latest #{})",
                me.events, me.high_seq
            );
            if st.queued == 0 {
                println!("events are flowing");
            } else {
                println!("events are flowing; the queue drains while datalab runs");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!(
                "the room does not answer ({e}); events wait in the outbox and are sent later"
            );
            ExitCode::from(1)
        }
    }
}

pub fn join(a: JoinArgs, ctx: &Ctx) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(&ctx.home) {
        eprintln!("datalab join: cannot create {}: {e}", ctx.home.display());
        return ExitCode::from(1);
    }
    match datalab_room::join_handed(&ctx.home, &a.url, &a.code, &a.name) {
        Ok((j, handed)) => {
            println!(
                "joined the room at {} as {} (learner {})",
                j.url,
                datalab_room::sanitize_name(&j.name),
                j.learner
            );
            println!(
                "datalab now reports your progress there; `datalab room status` shows delivery, `datalab leave` stops it"
            );
            super::shared::login_from_room(ctx, &handed)
        }
        Err(e) => {
            eprintln!("datalab join: {}", join_error(&e, &a.url));
            ExitCode::from(if matches!(e, ClientError::BadUrl { .. }) {
                USAGE
            } else {
                1
            })
        }
    }
}

/// What went wrong joining, in the learner's words.
fn join_error(e: &ClientError, url: &str) -> String {
    match e {
        ClientError::Http { status: 401, .. } => {
            "the room refused the join code: check the code your instructor gave you".into()
        }
        ClientError::Http { status: 409, .. } => {
            "someone in the room already has that name: choose another --name".into()
        }
        ClientError::Http {
            status: 400,
            message,
        } => format!("the room refused: {message}"),
        ClientError::Network(why) => {
            format!(
                "cannot reach the room at {url} ({why}); is the address right and the room running?"
            )
        }
        ClientError::Timeout(_) => {
            format!("{e} (at {url}); is the address right and the room running?")
        }
        ClientError::Tls(_) => format!(
            "{e}: the room's certificate does not match the fingerprint in the URL; ask your instructor for the join line again"
        ),
        _ => e.to_string(),
    }
}

pub fn leave(ctx: &Ctx) -> ExitCode {
    // Deliver what is queued (at most a second) before the outbox goes.
    let link = ctx.room_link();
    let flushed = link.flush(Duration::from_secs(1));
    drop(link);
    match datalab_room::leave(&ctx.home) {
        Ok(Some(left)) => {
            println!("left the room at {}", left.joined.url);
            if left.discarded > 0 {
                let why = if flushed.is_some_and(|f| !f.delivered) {
                    " (the room did not answer)"
                } else {
                    ""
                };
                println!("{} queued event(s) were not sent{why}", left.discarded);
            }
            ExitCode::SUCCESS
        }
        Ok(None) => {
            println!("not in a room");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("datalab leave: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("m").is_err());
    }
}
