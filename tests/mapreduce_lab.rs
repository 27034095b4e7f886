//! The MapReduce lab: the reference solution passes every step and the
//! starter fails every step, through the real runner and the real engine.

mod common;

use datalab_content::{Lab, LabDef};
use datalab_engine::lab::{RunOptions, StepResult, run_step};
use datalab_services::Namespace;
use std::path::Path;
use std::time::Duration;

fn load() -> Lab {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(Path::new(root).join("labs/mapreduce/lab.yaml")).unwrap();
    let def: LabDef = match serde_saphyr::from_str(&text) {
        Ok(d) => d,
        Err(e) => panic!("labs/mapreduce/lab.yaml: {e}"),
    };
    Lab {
        id: "mapreduce".into(),
        def,
        content: datalab_content::Content::disk(root),
    }
}

/// Run every step of the lab with `files` (solution/ or starter/) as the
/// learner's workspace.
fn run_all(files: &str) -> Vec<StepResult> {
    run_with(files, |_| {}, usize::MAX)
}

/// Like [`run_all`], with a change to the workspace and only the first
/// `steps` steps.
fn run_with(files: &str, change: impl FnOnce(&Path), steps: usize) -> Vec<StepResult> {
    run_with_env(files, change, steps, Vec::new())
}

/// Like [`run_with`], with extra environment for the step commands.
fn run_with_env(
    files: &str,
    change: impl FnOnce(&Path),
    steps: usize,
    env: Vec<(String, String)>,
) -> Vec<StepResult> {
    common::put_datalab_on_path();

    let lab = load();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    datalab_engine::lab::prepare_workspace(&lab, &ws).unwrap();
    lab.content
        .extract_dir(&format!("labs/mapreduce/{files}"), &ws, true)
        .unwrap();
    change(&ws);
    let data = datalab_engine::lab::materialize_data(&lab, &tmp.path().join("data")).unwrap();
    let opts = RunOptions {
        workspace: ws,
        lab_data: data,
        namespace: Namespace::none(),
        services: common::services(),
        check_timeout: Duration::from_secs(10),
        env,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    (0..lab.def.steps.len().min(steps))
        .map(|i| rt.block_on(run_step(&lab, i, &opts)))
        .collect()
}

fn describe(r: &StepResult) -> String {
    let mut s = format!("step {}:", r.step);
    for c in &r.checks {
        s.push_str(&format!(
            "\n  [{:?}] {}: {}",
            c.outcome.status, c.description, c.outcome.message
        ));
    }
    if let Some(cmd) = &r.command {
        s.push_str(&format!(
            "\n  command exit {:?}, stderr: {}",
            cmd.status, cmd.stderr
        ));
    }
    s
}

#[test]
fn the_solution_passes_every_step() {
    let results = run_all("solution");
    assert_eq!(results.len(), 5);
    for r in &results {
        assert!(r.passed(), "{}", describe(r));
    }
}

#[test]
fn the_starter_fails_every_step() {
    let results = run_all("starter");
    for r in &results {
        assert!(!r.passed(), "the starter passes {}", describe(r));
        assert!(
            !r.errored(),
            "a check errored instead of failing: {}",
            describe(r)
        );
        // Every failure says what is wrong and points at a learner's file.
        let failed = r.checks.iter().find(|c| !c.outcome.passed()).unwrap();
        assert!(failed.outcome.file.is_some(), "{}", describe(r));
        eprintln!("{}", describe(r));
    }
}

#[test]
fn a_wrong_count_names_the_key_saw_and_expected() {
    let results = run_with(
        "solution",
        |ws| {
            // An off-by-one reducer: every total one too many.
            let r = ws.join("wordcount/reducer.py");
            let text = std::fs::read_to_string(&r).unwrap();
            std::fs::write(
                &r,
                text.replace("current, total = word, 0", "current, total = word, 1"),
            )
            .unwrap();
        },
        1,
    );
    let r = &results[0];
    assert!(!r.passed());
    let msg = &r.checks[0].outcome.message;
    assert!(msg.contains("saw") && msg.contains("expected"), "{msg}");
    assert!(msg.contains("wordcount/reducer.py"), "{msg}");
}

/// The lab screen's MapReduce panel names an events file in the step
/// command's environment (RunOptions.env); the step's real job writes its
/// events there and the panel folds them into the finished job.
#[test]
fn the_panel_env_reaches_the_step_command_and_the_panel_sees_the_job() {
    use datalab_mapreduce::events::{EVENTS_ENV, Outcome};
    use datalab_tui::panel::{LabPanel, PanelCtx};
    use datalab_tui::panels::mapreduce::{MapReducePanel, fits};
    let lab = load();
    assert!(fits(&lab));
    let mut panel = MapReducePanel::new();
    let env = panel.run_env();
    assert_eq!(env.len(), 1);
    assert_eq!(env[0].0, EVENTS_ENV);
    let results = run_with_env("solution", |_| {}, 1, env);
    assert!(results[0].passed(), "{}", describe(&results[0]));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let services = common::services();
    let ws = tempfile::tempdir().unwrap();
    let ctx = PanelCtx {
        lab: &lab,
        services: &services,
        namespace: &Namespace::none(),
        runtime: rt.handle(),
        workspace: ws.path(),
        step: 0,
        checking: false,
    };
    panel.tick(&ctx);
    let jobs = &panel.log().jobs;
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    let job = &jobs[0];
    assert_eq!(job.outcome, Outcome::Succeeded);
    assert_eq!(job.output, "out/wordcount");
    assert_eq!(job.reduces.done, 2);
    assert!(job.counters.map_output_records > 1000, "{:?}", job.counters);

    // A new check starts over: the file is emptied and the view with it.
    let _ = panel.run_env();
    panel.tick(&ctx);
    assert!(panel.log().jobs.is_empty());
}

/// A step command that runs past its timeout gets SIGTERM before SIGKILL,
/// so the `datalab mapreduce run` in it kills its tasks (they run in their
/// own process groups) and removes its working folder.
#[test]
fn a_step_timeout_lets_the_job_clean_up() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    std::fs::write(w.join("in.txt"), "a b c\n".repeat(1000)).unwrap();
    let cmd = format!(
        "'{}' mapreduce run --input in.txt --split-size 2K --parallel 2 --mapper 'sleep 300 & echo $$ $! >> pids; cat >/dev/null; wait' --reducer cat --output out",
        common::datalab_bin().display()
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let out = rt.block_on(datalab_engine::lab::run_command(
        &cmd,
        w,
        &[],
        Duration::from_secs(3),
    ));
    assert!(out.timed_out, "{out:?}");
    let pids: Vec<i32> = std::fs::read_to_string(w.join("pids"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    assert!(pids.len() >= 4, "the mappers ran: {pids:?}");
    let t = std::time::Instant::now();
    let alive = |p: &i32| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
    };
    while pids.iter().any(alive) && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<i32> = pids.iter().copied().filter(alive).collect();
    assert!(left.is_empty(), "task processes left: {left:?}");
    let names: Vec<String> = std::fs::read_dir(w)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("datalab-")), "{names:?}");
}
