//! `datalab mapreduce …`: run a local MapReduce job.

use super::Ctx;
use crate::mapreduce::{
    self, DEFAULT_MAX_ATTEMPTS, DEFAULT_REDUCERS, Event, JobConfig, JobReport, Phase, TaskKind,
};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Subcommand, Debug)]
pub enum MapreduceCommand {
    /// Run a MapReduce job: mappers, an optional combiner and reducers are
    /// commands in any language reading lines on stdin and writing
    /// key<TAB>value lines on stdout (Hadoop Streaming style)
    Run(RunArgs),
}

fn size(s: &str) -> Result<u64, String> {
    mapreduce::parse_size(s)
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
}

pub fn run(cmd: MapreduceCommand, _ctx: &Ctx) -> ExitCode {
    match cmd {
        MapreduceCommand::Run(args) => run_job(args),
    }
}

fn run_job(a: RunArgs) -> ExitCode {
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

    let bar = (!a.quiet && std::io::stderr().is_terminal()).then(|| {
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
    let map_tasks = AtomicUsize::new(0);
    let done = [AtomicUsize::new(0), AtomicUsize::new(0)];
    let reducers = cfg.reducers;
    let on_event = |e: &Event| {
        let say = |line: String| match &bar {
            Some(b) => b.println(line),
            None if !a.quiet => eprintln!("{line}"),
            None => {}
        };
        match e {
            Event::Planned { map_tasks: m, .. } => map_tasks.store(*m, Ordering::Relaxed),
            Event::TaskFailed {
                kind,
                task,
                attempt,
                will_retry: true,
                message,
            } => say(format!(
                "warning: {} task {task}, attempt {attempt} failed, retrying: {}",
                kind.name(),
                message.lines().next().unwrap_or("")
            )),
            _ => {}
        }
        let Some(b) = &bar else { return };
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
                let n = done[i].fetch_add(1, Ordering::Relaxed) + 1;
                let total = if i == 0 {
                    map_tasks.load(Ordering::Relaxed)
                } else {
                    reducers
                };
                b.set_message(format!("{n}/{total} {} tasks", kind.name()));
            }
            _ => {}
        }
    };
    let result = mapreduce::run_job(&cfg, &on_event);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match result {
        Ok(report) => {
            if a.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => eprintln!("datalab mapreduce: cannot print the report: {e}"),
                }
            } else if !a.quiet {
                print_report(&report);
            }
            if report.counters.malformed_records > 0 {
                eprintln!(
                    "warning: {} line(s) of mapper or combiner output had no tab and were skipped (--strict makes this an error); first: {}",
                    report.counters.malformed_records,
                    report.malformed_examples.join("; ")
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("datalab mapreduce: {e}");
            ExitCode::from(e.exit_code())
        }
    }
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
