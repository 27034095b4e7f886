//! The command line (clap). Each command group lives in its own file and
//! exposes a clap `Subcommand`/`Args` type plus `run(…, &Ctx) -> ExitCode`.

mod course;
pub mod cql;
mod hdfs;
pub mod images;
pub mod kafka;
mod kafka_detach;
mod labs;
pub mod mapreduce;
mod mapreduce_hadoop;
pub mod mongo;
mod poll;
mod room;
mod room_live;
mod room_load;
pub mod services;
mod shared;
pub mod spark;

use clap::{Parser, Subcommand};
use datalab_content::Content;
use datalab_engine::progress::{Progress, ProgressError};
use datalab_engine::room::RoomLink;
use datalab_services::{Namespace, ProviderKind, Services, ServicesConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "datalab",
    version,
    about = "Big Data Technologies and Architectures: a terminal course with real labs"
)]
pub struct Cli {
    /// Where progress, workspaces and service data live [default: the XDG data dir]
    #[arg(long, global = true, env = "DATALAB_HOME")]
    pub home: Option<PathBuf>,
    /// Load course content from this folder instead of the built-in copy
    #[arg(long, global = true, env = "DATALAB_CONTENT")]
    pub content: Option<PathBuf>,
    /// How services are provided
    #[arg(long, global = true, env = "DATALAB_PROVIDER", value_enum)]
    pub provider: Option<ProviderKind>,
    /// Learner name: prefixes topics, groups, databases and keyspaces on a shared cluster
    #[arg(long, global = true, env = "DATALAB_LEARNER")]
    pub learner: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the agenda: days, sessions and units
    Outline(course::OutlineArgs),
    /// Validate content files (an instructor's copy with --content, or PATH)
    Lint(course::LintArgs),
    /// Take a quiz (plain text when stdin is not a terminal, or with --plain)
    Quiz(course::QuizArgs),
    /// Show what is done
    Progress(course::ProgressArgs),
    /// Forget progress (all, or one unit)
    Reset(course::ResetArgs),
    /// Open a lab: prepare its workspace and show its steps
    Lab(labs::LabArgs),
    /// Run a lab's checks against your workspace (all steps up to the first failing one, or STEP)
    Check(labs::CheckArgs),
    /// Run every check of a lab (or all labs) and report; exit 0 all pass, 1 some fail, 2 usage/content error
    Grade(labs::GradeArgs),
    /// Start, stop and inspect the Kafka, MongoDB and Cassandra servers the labs use
    #[command(subcommand)]
    Services(services::ServicesCommand),
    /// Run MapReduce jobs locally (mappers and reducers in any language)
    #[command(subcommand)]
    Mapreduce(mapreduce::MapreduceCommand),
    /// HDFS of the `hadoop` service: `hdfs dfs` (ls, put, cat, …) and `hdfs fsck` (blocks, replicas)
    #[command(subcommand)]
    Hdfs(hdfs::HdfsCommand),
    /// Apache Spark (PySpark): install it, run jobs with spark-submit (local[*] by default)
    #[command(subcommand)]
    Spark(spark::SparkCommand),
    /// A MongoDB console: find, aggregate, explain, indexes, update, import (Extended JSON)
    Mongo(mongo::MongoArgs),
    /// A CQL console: run statements (-e) or a file (--file); understands CONSISTENCY and COPY … FROM
    Cql(cql::CqlArgs),
    /// Kafka console: topics, produce, consume, consumer groups (in your namespace)
    Kafka(kafka::KafkaArgs),
    /// The instructor's room: `datalab room` shows it; serve, export, load; `room status` for learners
    Room(room::RoomArgs),
    /// Join an instructor's room: your progress is reported there from now on
    Join(room::JoinArgs),
    /// Leave the room: stop reporting
    Leave,
    /// Answer the room's live poll in plain text (the TUI's live screen is `L`)
    Poll,
}

/// What every command needs: where things live, the content, the services.
pub struct Ctx {
    pub home: PathBuf,
    pub content: Content,
    pub services: Arc<Services>,
    pub namespace: Namespace,
}

impl Ctx {
    pub fn from_cli(cli: &Cli) -> Ctx {
        let home = cli.home.clone().unwrap_or_else(default_home);
        let content = match &cli.content {
            Some(dir) => Content::disk(dir),
            None => Content::embedded(),
        };
        let cache_dir = std::env::var_os("DATALAB_CACHE")
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|b| b.cache_dir().join("datalab")))
            .unwrap_or_else(|| home.join("cache"));
        let services = Services::new(ServicesConfig {
            data_dir: home.join("services"),
            cache_dir,
            provider: cli.provider.unwrap_or_default(),
            timeout: Duration::from_secs(5),
        })
        .with_content(content.clone());
        let logged_in = services.register_logins();
        let namespace = match (&cli.learner, std::env::var("DATALAB_NAMESPACE")) {
            (Some(l), _) => Namespace::for_learner(l),
            (None, Ok(ns)) => Namespace::for_learner(&ns),
            // A learner logged in to a room's shared cluster is that learner.
            (None, Err(_)) => {
                logged_in.map_or_else(Namespace::none, |l| Namespace::for_learner(&l))
            }
        };
        Ctx {
            home,
            content,
            services: Arc::new(services),
            namespace,
        }
    }
}

/// `$XDG_DATA_HOME/datalab` (usually `~/.local/share/datalab`).
pub fn default_home() -> PathBuf {
    directories::ProjectDirs::from("", "", "datalab")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".datalab"))
}

/// `datalab outline | head`: once the reader is gone, `println!` panics
/// ("failed printing to stdout: Broken pipe"). End quietly instead, with the
/// status a shell gives a process killed by SIGPIPE. SIGPIPE itself stays
/// ignored, so the room server and every socket write still get EPIPE as an
/// error they handle.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

pub fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    let ctx = Ctx::from_cli(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("datalab: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Outline(a)) => course::outline(a, &ctx),
        Some(Command::Lint(a)) => course::lint(a, &ctx),
        Some(Command::Quiz(a)) => course::quiz(a, &ctx),
        Some(Command::Progress(a)) => course::progress(a, &ctx),
        Some(Command::Reset(a)) => course::reset(a, &ctx),
        Some(Command::Lab(a)) => labs::lab(a, &ctx, &rt),
        Some(Command::Check(a)) => rt.block_on(interruptible(labs::check(a, &ctx))),
        Some(Command::Grade(a)) => rt.block_on(interruptible(labs::grade(a, &ctx))),
        Some(Command::Services(cmd)) => rt.block_on(services::run(cmd, &ctx)),
        Some(Command::Mongo(a)) => rt.block_on(mongo::run(a, &ctx)),
        Some(Command::Cql(a)) => rt.block_on(cql::run(a, &ctx)),
        Some(Command::Mapreduce(cmd)) => mapreduce::run(cmd, &ctx),
        Some(Command::Hdfs(cmd)) => hdfs::run(cmd, &ctx),
        Some(Command::Spark(cmd)) => spark::run(cmd, &ctx, &rt),
        Some(Command::Kafka(a)) => rt.block_on(kafka::run(a, &ctx)),
        Some(Command::Room(a)) => room::run(a, &ctx, &rt),
        Some(Command::Join(a)) => room::join(a, &ctx),
        Some(Command::Leave) => room::leave(&ctx),
        Some(Command::Poll) => poll::run(&ctx),
        None => open_tui(&ctx, &rt, None),
    }
}

/// Exit code for usage and content errors.
pub const USAGE: u8 = 2;

/// Print what a console command gave: its output (notes on stderr), or
/// its failure after `prefix`; exit 0, `usage` for a bad request, else 1.
pub(crate) fn print_output(
    prefix: &str,
    out: Result<datalab_clients::console::Output, datalab_clients::console::Failure>,
    usage: u8,
) -> ExitCode {
    use datalab_clients::console::Failure;
    match out {
        Ok(out) => {
            print!("{}", out.stdout());
            for l in &out.notes {
                eprintln!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(Failure::Help(lines)) => {
            println!("{}", lines.join("\n"));
            ExitCode::SUCCESS
        }
        Err(e @ Failure::Usage(_)) => {
            eprintln!("{prefix}{e}");
            ExitCode::from(usage)
        }
        Err(e) => {
            eprintln!("{prefix}{e}");
            ExitCode::from(1)
        }
    }
}

impl Ctx {
    /// Load the course, or print every content error (`path:line:col:
    /// message`) and return the exit code.
    pub fn course(&self) -> Result<datalab_content::Course, ExitCode> {
        datalab_content::Course::load(self.content.clone()).map_err(|e| {
            eprint!("datalab: the course content has errors:\n{e}");
            ExitCode::from(USAGE)
        })
    }

    pub fn store(&self) -> datalab_engine::progress::ProgressStore {
        datalab_engine::progress::ProgressStore::new(&self.home)
    }

    /// The learner's room link (inert when not joined; an unreadable room
    /// file is reported once and ignored).
    pub fn room_link(&self) -> RoomLink {
        RoomLink::start(&self.home).unwrap_or_else(|e| {
            eprintln!("datalab: {e}");
            RoomLink::none()
        })
    }

    /// Change progress through the store and report the units it finished.
    pub fn save_progress<R>(
        &self,
        room: &RoomLink,
        f: impl FnOnce(&mut Progress) -> R,
    ) -> Result<R, ProgressError> {
        self.store().update(|p| {
            let before = room.joined().then(|| p.clone());
            let r = f(p);
            if let Some(before) = before {
                room.units_done(&before, p);
            }
            r
        })
    }

    /// Load progress, reporting (not failing on) a corrupt or newer file.
    pub fn progress(&self) -> datalab_engine::progress::Progress {
        let (p, warn) = self.store().load();
        if let Some(w) = warn {
            eprintln!("datalab: {w}");
        }
        p
    }
}

/// Before a short command exits: deliver its room events, waiting at most
/// a second; what is left stays in the outbox for the next run.
pub fn flush_room(room: &RoomLink) {
    if let Some(f) = room.flush(Duration::from_secs(1))
        && !f.delivered
    {
        eprintln!(
            "datalab: the room did not answer; {} event(s) wait to be sent (`datalab room status`)",
            f.queued
        );
    }
}

/// The course UI, or, without a terminal, what to run instead.
pub(crate) fn open_tui(
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    start_unit: Option<String>,
) -> ExitCode {
    if !datalab_tui::is_interactive() {
        println!("{}", datalab_tui::NO_TTY_HELP);
        return ExitCode::SUCCESS;
    }
    let course = match ctx.course() {
        Ok(c) => c,
        Err(code) => return code,
    };
    // A corrupt or newer progress file is kept aside; say so before the UI
    // takes the screen.
    let (_, warn) = ctx.store().load();
    if let Some(w) = warn {
        eprintln!("datalab: {w}");
    }
    let opts = datalab_tui::TuiOptions {
        course,
        store: ctx.store(),
        services: ctx.services.clone(),
        home: ctx.home.clone(),
        namespace: ctx.namespace.clone(),
        start_unit,
        runtime: rt.handle().clone(),
    };
    match datalab_tui::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datalab: {e}");
            ExitCode::from(1)
        }
    }
}

/// Ctrl-C (or SIGTERM) while checks run: drop the run, which ends the step
/// command's process group and what it started in the background (the
/// terminal's SIGINT does not reach that group: it runs apart so a timeout
/// can kill all of it), then exit 130.
async fn interruptible(run: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        // The run first: `check --watch` ends on Ctrl-C by itself, with 0.
        biased;
        code = run => code,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("datalab: interrupted; the step's processes were stopped");
            ExitCode::from(130)
        }
        _ = terminated => ExitCode::from(143),
    }
}
