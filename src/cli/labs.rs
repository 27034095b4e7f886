//! `lab`, `check`, `grade`.

use super::{Ctx, USAGE};
use clap::{Args, ValueEnum};
use datalab_content::Course;
use datalab_content::Lab;
use datalab_engine::check::Status;
use datalab_engine::lab::{RunOptions, StepResult, materialize_data, prepare_workspace, run_step};
use datalab_engine::room::RoomLink;
use datalab_services::{Namespace, ServiceKind, UpOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Per-call timeout of a check's client calls.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

fn find_lab<'a>(course: &'a Course, id: &str) -> Result<&'a Lab, ExitCode> {
    course.lab(id).ok_or_else(|| {
        let ids: Vec<&str> = course.labs.keys().map(String::as_str).collect();
        eprintln!("datalab: no lab `{id}`; labs: {}", ids.join(", "));
        ExitCode::from(USAGE)
    })
}

/// The learner's own workspace for a lab: `<home>/workspaces/<lab>`.
pub fn default_workspace(ctx: &Ctx, lab: &str) -> PathBuf {
    ctx.home.join("workspaces").join(lab)
}

fn run_options(
    ctx: &Ctx,
    lab: &Lab,
    workspace: &Path,
    namespace: Namespace,
) -> Result<RunOptions, ExitCode> {
    let data = ctx.home.join("lab-data").join(&lab.id);
    let lab_data = materialize_data(lab, &data).map_err(|e| {
        eprintln!(
            "datalab: cannot write the lab's data to {}: {e}",
            data.display()
        );
        ExitCode::from(1)
    })?;
    Ok(RunOptions {
        workspace: workspace.to_path_buf(),
        lab_data,
        namespace,
        services: ctx.services.clone(),
        check_timeout: CHECK_TIMEOUT,
        env: Vec::new(),
    })
}

#[derive(Args, Debug)]
pub struct LabArgs {
    /// The lab's id: mapreduce, kafka, mongodb, cassandra
    pub id: String,
    /// Where the workspace is [default: <home>/workspaces/<id>]
    #[arg(long)]
    pub workspace: Option<PathBuf>,
}

pub fn lab(a: LabArgs, ctx: &Ctx, rt: &tokio::runtime::Runtime) -> ExitCode {
    let course = match ctx.course() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let lab = match find_lab(&course, &a.id) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let ws = a
        .workspace
        .clone()
        .unwrap_or_else(|| default_workspace(ctx, &lab.id));
    match prepare_workspace(lab, &ws) {
        Ok(n) if n > 0 => eprintln!("prepared {} with {n} starter file(s)", ws.display()),
        Ok(_) => {}
        Err(e) => {
            eprintln!("datalab lab: cannot prepare {}: {e}", ws.display());
            return ExitCode::from(1);
        }
    }
    if datalab_tui::is_interactive() && a.workspace.is_none() {
        return super::open_tui(ctx, rt, Some(lab.id.clone()));
    }
    let progress = ctx.progress();
    let done = progress
        .unit(&lab.id)
        .map(|u| u.steps_done.clone())
        .unwrap_or_default();
    println!("{}\nworkspace: {}", lab.def.title, ws.display());
    if !lab.def.services.is_empty() {
        let names: Vec<&str> = lab.def.services.iter().map(|k| k.name()).collect();
        println!("services: {}", names.join(", "));
    }
    for (i, s) in lab.def.steps.iter().enumerate() {
        let mark = if done.contains(&s.id) { "✓" } else { "·" };
        println!("  {mark} {}. {} ({})", i + 1, s.title, s.id);
    }
    println!(
        "\nnext: edit the files in the workspace, then `datalab check {}` (add --watch to re-check on save)",
        lab.id
    );
    ExitCode::SUCCESS
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The lab's id
    pub lab: String,
    /// One step (number or id) [default: every step up to the first that fails]
    pub step: Option<String>,
    /// Re-run when a workspace file is saved
    #[arg(long)]
    pub watch: bool,
    /// The workspace [default: <home>/workspaces/<lab>]
    #[arg(long)]
    pub workspace: Option<PathBuf>,
}

fn print_step(i: usize, r: &StepResult) {
    let mark = if r.passed() {
        "✓"
    } else if r.errored() {
        "!"
    } else {
        "✗"
    };
    println!("{mark} step {}: {}", i + 1, r.title);
    for c in &r.checks {
        let m = match c.outcome.status {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Error => "!",
        };
        print!("   {m} {}", c.description);
        if !c.outcome.passed() {
            print!("\n       {}", c.outcome.message.replace('\n', "\n       "));
            if let Some(f) = &c.outcome.file {
                print!("\n       (see {})", f.display());
            }
        }
        println!();
    }
    if !r.passed()
        && !r.checks.iter().any(|c| c.kind == "command_output")
        && let Some(cmd) = &r.command
        && cmd.status != Some(0)
    {
        let tail = datalab_engine::check::generic::tail_lines(&cmd.stderr, 8);
        if !tail.is_empty() {
            println!(
                "   the step's command `{}` said:\n     {}",
                cmd.command,
                tail.replace('\n', "\n     ")
            );
        }
    }
}

/// Run the chosen steps once; returns true when all of them passed.
async fn check_once(
    ctx: &Ctx,
    room: &RoomLink,
    lab: &Lab,
    opts: &RunOptions,
    step: Option<usize>,
) -> bool {
    let indexes: Vec<usize> = match step {
        Some(i) => vec![i],
        None => (0..lab.def.steps.len()).collect(),
    };
    let mut all = true;
    for i in indexes {
        let r = run_step(lab, i, opts).await;
        print_step(i, &r);
        room.step_checked(&lab.id, &r);
        let passed = r.passed();
        let id = r.step.clone();
        let lab_id = lab.id.clone();
        let saved = ctx.save_progress(room, |p| {
            let u = p.unit_mut(&lab_id);
            if passed {
                u.steps_done.insert(id);
            }
            u.done = lab.def.steps.iter().all(|s| u.steps_done.contains(&s.id));
            p.last_unit = Some(lab_id.clone());
        });
        if let Err(e) = saved {
            eprintln!("datalab: {e}");
        }
        if !passed {
            all = false;
            if step.is_none() {
                if let Some(hint) = lab.def.steps[i].hints.first() {
                    println!("   hint: {hint}");
                }
                break;
            }
        }
    }
    if all {
        println!("all checks passed");
    }
    all
}

pub async fn check(a: CheckArgs, ctx: &Ctx) -> ExitCode {
    let course = match ctx.course() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let lab = match find_lab(&course, &a.lab) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let step = match &a.step {
        Some(s) => match lab.step(s) {
            Some((i, _)) => Some(i),
            None => {
                let ids: Vec<&str> = lab.def.steps.iter().map(|s| s.id.as_str()).collect();
                eprintln!(
                    "datalab check: lab `{}` has no step `{s}`; steps: {}",
                    lab.id,
                    ids.join(", ")
                );
                return ExitCode::from(USAGE);
            }
        },
        None => None,
    };
    let ws = match &a.workspace {
        Some(w) => w.clone(),
        None => {
            let w = default_workspace(ctx, &lab.id);
            if let Err(e) = prepare_workspace(lab, &w) {
                eprintln!("datalab check: cannot prepare {}: {e}", w.display());
                return ExitCode::from(1);
            }
            w
        }
    };
    if !ws.is_dir() {
        eprintln!(
            "datalab check: the workspace {} does not exist",
            ws.display()
        );
        return ExitCode::from(USAGE);
    }
    let opts = match run_options(ctx, lab, &ws, ctx.namespace.clone()) {
        Ok(o) => o,
        Err(code) => return code,
    };
    // Checking the whole lab: start the largest cluster it needs first, so
    // moving to the 3-broker step later does not start a fresh cluster
    // (which would lose the earlier steps' topics).
    if step.is_none() && lab.def.services.contains(&ServiceKind::Kafka) && lab.max_brokers() > 1 {
        let want = UpOptions {
            nodes: lab.max_brokers(),
            ..Default::default()
        };
        if let Err(e) = ctx.services.ensure(ServiceKind::Kafka, &want).await {
            eprintln!("datalab check: {e}");
        }
    }
    let room = ctx.room_link();
    let ok = check_once(ctx, &room, lab, &opts, step).await;
    let code = if !a.watch {
        if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    } else {
        watch(ctx, &room, lab, &opts, step).await
    };
    super::flush_room(&room);
    code
}

/// Re-run on every save in the workspace, like rustlings' watch mode.
async fn watch(
    ctx: &Ctx,
    room: &RoomLink,
    lab: &Lab,
    opts: &RunOptions,
    step: Option<usize>,
) -> ExitCode {
    use notify::{RecursiveMode, Watcher};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = match notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev
            && (ev.kind.is_modify() || ev.kind.is_create())
        {
            let _ = tx.send(ev.paths);
        }
    }) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("datalab check --watch: cannot watch files: {e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = watcher.watch(&opts.workspace, RecursiveMode::Recursive) {
        eprintln!(
            "datalab check --watch: cannot watch {}: {e}",
            opts.workspace.display()
        );
        return ExitCode::from(1);
    }
    println!(
        "\nwatching {} — save a file to re-check, Ctrl-C to stop",
        opts.workspace.display()
    );
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
            got = rx.recv() => {
                let Some(paths) = got else { return ExitCode::SUCCESS };
                if !paths.iter().any(|p| is_learner_file(lab, step, &opts.workspace, p)) {
                    continue;
                }
                // Let the editor finish writing, then drop the burst of events.
                tokio::time::sleep(Duration::from_millis(150)).await;
                while rx.try_recv().is_ok() {}
                println!("\n— re-checking —");
                check_once(ctx, room, lab, opts, step).await;
                // What the step's own command wrote must not trigger another run.
                while rx.try_recv().is_ok() {}
            }
        }
    }
}

/// Does a changed path belong to the learner's files (not to output the
/// step's command wrote)? Steps may list their files; otherwise any file
/// outside `out/`, `data/` and hidden folders counts.
fn is_learner_file(lab: &Lab, step: Option<usize>, ws: &Path, p: &Path) -> bool {
    let Ok(rel) = p.strip_prefix(ws) else {
        return false;
    };
    let rel_s = rel.to_string_lossy();
    let listed: Vec<&String> = match step {
        Some(i) => lab.def.steps[i].files.iter().collect(),
        None => lab.def.steps.iter().flat_map(|s| &s.files).collect(),
    };
    if !listed.is_empty() {
        return listed.iter().any(|f| rel_s == f.as_str());
    }
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    !(first.starts_with('.') || first == "out" || first == "data" || first == "__pycache__")
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Junit,
}

#[derive(Args, Debug)]
pub struct GradeArgs {
    /// Grade one lab [default: every lab]
    #[arg(long)]
    pub lab: Option<String>,
    /// The workspace: with --lab, the lab's folder; without, a folder holding one sub-folder per lab
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report here instead of stdout
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// With --lab: grade only this step (repeatable; ids as in `datalab lab LAB`)
    #[arg(long = "step", requires = "lab")]
    pub steps: Vec<String>,
}

/// The lab with only the steps named (all when none is).
fn only_steps(lab: &Lab, steps: &[String]) -> Result<Lab, ExitCode> {
    if let Some(bad) = steps
        .iter()
        .find(|id| !lab.def.steps.iter().any(|s| &&s.id == id))
    {
        let ids: Vec<&str> = lab.def.steps.iter().map(|s| s.id.as_str()).collect();
        eprintln!(
            "datalab grade: lab {} has no step {bad:?}; its steps: {}",
            lab.id,
            ids.join(", ")
        );
        return Err(ExitCode::from(USAGE));
    }
    let mut lab = lab.clone();
    if !steps.is_empty() {
        lab.def.steps.retain(|s| steps.contains(&s.id));
    }
    Ok(lab)
}

pub async fn grade(a: GradeArgs, ctx: &Ctx) -> ExitCode {
    let course = match ctx.course() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let labs: Vec<Lab> = match &a.lab {
        Some(id) => match find_lab(&course, id).and_then(|l| only_steps(l, &a.steps)) {
            Ok(l) => vec![l],
            Err(code) => return code,
        },
        None => course.labs.values().cloned().collect(),
    };
    // A namespace of its own per grading run: two gradings (or two learners)
    // on one cluster never collide, and nothing needs a restart between runs.
    let run_ns = format!(
        "{}g{}{}",
        if ctx.namespace.is_empty() {
            String::new()
        } else {
            format!("{}_", ctx.namespace.as_str())
        },
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_micros())
            .unwrap_or(0)
    );
    let namespace = Namespace::for_learner(&run_ns);
    let room = ctx.room_link();
    let mut runs = Vec::new();
    for lab in &labs {
        let ws = match (&a.workspace, &a.lab) {
            (Some(w), Some(_)) => w.clone(),
            (Some(w), None) => w.join(&lab.id),
            (None, _) => default_workspace(ctx, &lab.id),
        };
        if a.lab.is_some() && !ws.is_dir() {
            eprintln!(
                "datalab grade: the workspace {} does not exist",
                ws.display()
            );
            return ExitCode::from(USAGE);
        }
        let opts = match run_options(ctx, lab, &ws, namespace.clone()) {
            Ok(o) => o,
            Err(code) => return code,
        };
        let run = datalab_engine::grade::grade_lab(lab, &opts).await;
        for step in &run.steps {
            room.step_checked(&lab.id, step);
        }
        runs.push(run);
        // Drop what this grading run created (topics, databases, keyspaces
        // under its own namespace); the servers keep running for the next.
        for kind in &lab.def.services {
            if let Err(e) = ctx.services.reset(Some(*kind), &namespace).await {
                eprintln!(
                    "datalab grade: could not clean up {kind} namespace {}: {e}",
                    namespace.as_str()
                );
            }
        }
    }
    let report = match a.format {
        Format::Text => datalab_engine::grade::to_text(&runs),
        Format::Json => {
            serde_json::to_string_pretty(&datalab_engine::grade::to_json(&runs)).unwrap_or_default()
                + "\n"
        }
        Format::Junit => datalab_engine::grade::to_junit(&runs),
    };
    match &a.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &report) {
                eprintln!("datalab grade: cannot write {}: {e}", path.display());
                return ExitCode::from(USAGE);
            }
            let t = datalab_engine::grade::totals(&runs);
            eprintln!("{} checks passed, {} failed", t.passed, t.failed + t.errors);
        }
        None => print!("{report}"),
    }
    super::flush_room(&room);
    let t = datalab_engine::grade::totals(&runs);
    if t.failed + t.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
