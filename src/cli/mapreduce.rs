//! `datalab mapreduce …`: run a local MapReduce job.

use super::Ctx;
use clap::{Args, Subcommand};
use datalab_mapreduce::events::{EVENTS_ENV, EventWriter};
use datalab_mapreduce::{
    self, CancelToken, DEFAULT_MAX_ATTEMPTS, DEFAULT_REDUCERS, Event, JobConfig, JobReport, Phase,
    TaskKind,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Subcommand, Debug)]
pub enum MapreduceCommand {
    /// Run a MapReduce job: mappers, an optional combiner and reducers are
    /// commands in any language reading lines on stdin and writing
    /// key<TAB>value lines on stdout (Hadoop Streaming style).
    ///
    /// With DATALAB_MAPREDUCE_EVENTS=FILE set, the job's progress events are
    /// appended to FILE as JSON lines (the TUI's live job view reads them).
    /// Ctrl-C (or SIGTERM) kills the running tasks, removes the job's working
    /// folder and exits with 130.
    Run(RunArgs),
}

fn size(s: &str) -> Result<u64, String> {
    datalab_mapreduce::parse_size(s)
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Input files or folders (folders are read recursively; names starting with . or _ are skipped)
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// The map command, run with `sh -c` (e.g. "python3 mapper.py")
    #[arg(long, value_name = "CMD")]
    pub mapper: String,
    /// The reduce command; it gets its partition's lines sorted by key
    #[arg(long, value_name = "CMD")]
    pub reducer: String,
    /// A command run on each map task's sorted output before the shuffle
    #[arg(long, value_name = "CMD")]
    pub combiner: Option<String>,
    /// Number of reduce tasks (and of part-NNNNN files)
    #[arg(long, default_value_t = DEFAULT_REDUCERS, value_name = "N")]
    pub reducers: usize,
    /// The output folder (built beside it and moved into place when the job succeeds)
    #[arg(long, default_value = "output", value_name = "DIR")]
    pub output: PathBuf,
    /// Bytes of input per map task (64K, 32M, 1G) [default: up to 32M, an equal share per core]
    #[arg(long, value_parser = size, value_name = "BYTES")]
    pub split_size: Option<u64>,
    /// Sort buffer memory shared by the running tasks; more is spilled to disk (64M, 1G)
    #[arg(long, default_value = "256M", value_parser = size, value_name = "BYTES")]
    pub memory: u64,
    /// Replace the output folder if it exists
    #[arg(long)]
    pub overwrite: bool,
    /// Fail the job when a mapper writes a line without a tab (otherwise it is counted and skipped)
    #[arg(long)]
    pub strict: bool,
    /// Tries per task before the job fails
    #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS, value_name = "N")]
    pub max_attempts: u32,
    /// Tasks running at once [default: the number of cores]
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
    /// Print the report (counters) as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// No progress bar and no counters table
    #[arg(long, short)]
    pub quiet: bool,
    /// Which MapReduce runs the job: datalab's own engine, or real Hadoop
    /// (the `hadoop` service, started when needed) through Hadoop Streaming,
    /// the input uploaded to HDFS and the output copied back
    #[arg(long, value_enum, default_value_t = Engine::Datalab)]
    pub engine: Engine,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Datalab,
    Hadoop,
}

pub fn run(cmd: MapreduceCommand, ctx: &Ctx) -> ExitCode {
    match cmd {
        MapreduceCommand::Run(args) if args.engine == Engine::Hadoop => {
            super::mapreduce_hadoop::run(&args, ctx)
        }
        MapreduceCommand::Run(args) => {
            let paths = args.input.iter().chain([&args.output]);
            if let Some(p) = paths
                .into_iter()
                .find(|p| super::mapreduce_hadoop::is_hdfs(p))
            {
                eprintln!(
                    "datalab mapreduce: {} is in HDFS: pass --engine hadoop to run the job on Hadoop",
                    p.display()
                );
                return ExitCode::from(2);
            }
            run_job(args)
        }
    }
}

fn run_job(a: RunArgs) -> ExitCode {
    let (json, quiet) = (a.json, a.quiet);
    let cfg = job_config(a);
    if let Err(e) = stop_on_signals(cfg.cancel.clone()) {
        eprintln!("warning: Ctrl-C will not clean up the job: {e}");
    }
    let events = event_writer();
    let progress = Progress::new(quiet, cfg.reducers);
    let on_event = |e: &Event| {
        if let Some(w) = &events {
            w.write(e);
        }
        progress.on_event(e);
    };
    let result = datalab_mapreduce::run_job(&cfg, &on_event);
    drop(events);
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    match result {
        Ok(report) => {
            print_outcome(&report, json, quiet);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("datalab mapreduce: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn job_config(a: RunArgs) -> JobConfig {
    let mut cfg = JobConfig::new(a.input, a.mapper, a.reducer, a.output);
    cfg.combiner = a.combiner;
    cfg.reducers = a.reducers;
    cfg.split_size = a.split_size;
    cfg.memory = a.memory;
    cfg.overwrite = a.overwrite;
    cfg.strict = a.strict;
    cfg.max_attempts = a.max_attempts;
    if let Some(p) = a.parallel {
        cfg.parallelism = p.max(1);
    }
    cfg
}

/// The TUI (or anyone) follows the job through the file `$DATALAB_MAPREDUCE_EVENTS` names.
fn event_writer() -> Option<EventWriter> {
    let p = std::env::var_os(EVENTS_ENV).filter(|p| !p.is_empty())?;
    let path = std::path::Path::new(&p);
    EventWriter::append(path)
        .map_err(|e| {
            eprintln!(
                "warning: cannot write the job's events to {} ({EVENTS_ENV}): {e}",
                path.display()
            )
        })
        .ok()
}

/// The job's progress on stderr: a bar on a terminal, retry warnings always
/// (unless `--quiet`).
struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    reducers: usize,
    map_tasks: AtomicUsize,
    /// Finished map and reduce tasks.
    done: [AtomicUsize; 2],
}

impl Progress {
    fn new(quiet: bool, reducers: usize) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(0);
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix:>7} [{bar:30}] {bytes}/{total_bytes} {msg} ({elapsed})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        });
        Progress {
            bar,
            quiet,
            reducers,
            map_tasks: AtomicUsize::new(0),
            done: [AtomicUsize::new(0), AtomicUsize::new(0)],
        }
    }

    fn say(&self, line: String) {
        match &self.bar {
            Some(b) => b.println(line),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }

    fn on_event(&self, e: &Event) {
        match e {
            Event::Planned { map_tasks: m, .. } => self.map_tasks.store(*m, Ordering::Relaxed),
            Event::TaskFailed {
                kind,
                task,
                attempt,
                will_retry: true,
                message,
            } => self.say(format!(
                "warning: {} task {task}, attempt {attempt} failed, retrying: {}",
                kind.name(),
                message.lines().next().unwrap_or("")
            )),
            _ => {}
        }
        if let Some(b) = &self.bar {
            self.draw(b, e);
        }
    }

    fn draw(&self, b: &ProgressBar, e: &Event) {
        match e {
            Event::Planned { input_bytes, .. } => {
                b.set_length(*input_bytes);
                b.set_prefix("map");
            }
            Event::PhaseStarted { phase } => {
                b.set_prefix(phase.name());
                if *phase == Phase::Reduce {
                    b.set_position(0);
                    b.set_length(0);
                    b.set_message("");
                }
            }
            Event::TaskStarted {
                kind: TaskKind::Reduce,
                bytes,
                attempt: 1,
                ..
            } => b.inc_length(*bytes),
            Event::TaskProgress { bytes, .. } => b.inc(*bytes),
            Event::TaskFinished { kind, .. } => {
                let i = (*kind == TaskKind::Reduce) as usize;
                let n = self.done[i].fetch_add(1, Ordering::Relaxed) + 1;
                let total = if i == 0 {
                    self.map_tasks.load(Ordering::Relaxed)
                } else {
                    self.reducers
                };
                b.set_message(format!("{n}/{total} {} tasks", kind.name()));
            }
            _ => {}
        }
    }
}

fn print_outcome(report: &JobReport, json: bool, quiet: bool) {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("datalab mapreduce: cannot print the report: {e}"),
        }
    } else if !quiet {
        print_report(report);
    }
    if report.counters.malformed_records > 0 {
        eprintln!(
            "warning: {} line(s) of mapper or combiner output had no tab and were skipped (--strict makes this an error); first: {}",
            report.counters.malformed_records,
            report.malformed_examples.join("; ")
        );
    }
}

/// How long a cancelled job may take to stop before it is cleaned up here
/// and the process exits anyway.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// On SIGINT or SIGTERM, cancel the job (its task process groups are
/// killed and `run_job` returns `Interrupted` after removing its working
/// folder). A second signal, or a job that does not stop within
/// [`STOP_GRACE`], removes the working folder here and exits with 130.
fn stop_on_signals(cancel: CancelToken) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The handlers are installed now, before any task starts.
    let (mut int, mut term) = {
        let _guard = rt.enter();
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            rt.block_on(async {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                cancel.cancel();
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                    _ = tokio::time::sleep(STOP_GRACE) => {}
                }
            });
            cancel.cancel();
            for d in cancel.workdirs() {
                let _ = std::fs::remove_dir_all(d);
            }
            eprintln!("datalab mapreduce: interrupted; the job's tasks were killed and its working folder removed");
            std::process::exit(130);
        })?;
    Ok(())
}

fn print_report(r: &JobReport) {
    let c = &r.counters;
    println!(
        "Job succeeded in {:.2}s: {} map task(s), {} reduce task(s); output in {}",
        c.time.total_ms as f64 / 1000.0,
        c.map_tasks,
        c.reduce_tasks,
        r.output.display()
    );
    let mut group = "";
    for (g, name, v) in c.rows() {
        if g != group {
            println!("  {g}");
            group = g;
        }
        println!("    {name:<28} {v:>14}");
    }
}
