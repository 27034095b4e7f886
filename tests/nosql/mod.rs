//! Shared by `mongodb_lab.rs` and `cassandra_lab.rs`: load one lab from the
//! source tree, make workspaces from its starter/solution, grade them on the
//! real servers the services layer gives, and run the datalab binary on a
//! content folder holding just this lab.
#![allow(dead_code)]

use super::common;
use datalab_content::Lab;
use datalab_content::{Content, parse_lab};
use datalab_engine::check::Status;
use datalab_engine::lab::{LabRun, RunOptions, StepResult, materialize_data, run_step};
use datalab_services::Namespace;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub fn lab(id: &str) -> Lab {
    let content = common::content();
    let def = parse_lab(&content, id).unwrap_or_else(|e| panic!("labs/{id}/lab.yaml: {e:?}"));
    // Step commands run `datalab …`: put this build first on PATH.
    let bin_dir = common::datalab_bin().parent().unwrap().to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut parts = vec![bin_dir];
    parts.extend(std::env::split_paths(&path));
    // SAFETY: tests set it before any step runs; the value is the same each time.
    unsafe { std::env::set_var("PATH", std::env::join_paths(parts).unwrap()) };
    Lab {
        id: id.into(),
        def,
        content,
    }
}

/// A learner's workspace: `labs/<id>/<which>` plus a copy of `data/`.
pub fn workspace(lab: &Lab, which: &str) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    let root = format!("labs/{}", lab.id);
    let repo = datalab_content::Content::disk(env!("CARGO_MANIFEST_DIR"));
    repo.extract_dir(&format!("{root}/{which}"), ws.path(), true)
        .unwrap();
    repo.extract_dir(&format!("{root}/data"), &ws.path().join("data"), true)
        .unwrap();
    ws
}

/// A namespace of its own for each grading, as `datalab grade` does.
pub fn fresh_namespace(tag: &str) -> Namespace {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros()
        % 1_000_000_000;
    Namespace::for_learner(&format!("t{tag}{}_{n}", std::process::id()))
}

pub struct Grader {
    pub lab: Lab,
    pub opts: RunOptions,
    _data: tempfile::TempDir,
}

impl Grader {
    pub fn new(lab: &Lab, ws: &Path, ns: Namespace) -> Grader {
        let data = tempfile::tempdir().unwrap();
        let lab_data = materialize_data(lab, data.path()).unwrap();
        Grader {
            lab: lab.clone(),
            opts: RunOptions {
                workspace: ws.to_path_buf(),
                lab_data,
                namespace: ns,
                services: common::services(),
                check_timeout: Duration::from_secs(10),
                env: Vec::new(),
            },
            _data: data,
        }
    }
    pub async fn step(&self, i: usize) -> StepResult {
        run_step(&self.lab, i, &self.opts).await
    }
    /// Steps 0..=last, in order (later steps build on earlier ones).
    pub async fn up_to(&self, last: usize) -> Vec<StepResult> {
        let mut out = Vec::new();
        for i in 0..=last {
            out.push(self.step(i).await);
        }
        out
    }
    pub async fn all(&self) -> LabRun {
        datalab_engine::grade::grade_lab(&self.lab, &self.opts).await
    }
}

pub fn explain(r: &StepResult) -> String {
    let mut s = format!("step {}:", r.step);
    for c in &r.checks {
        s += &format!(
            "\n  {:?} {}: {}",
            c.outcome.status, c.description, c.outcome.message
        );
    }
    if let Some(cmd) = &r.command {
        s += &format!(
            "\n  command: {:?}\n  stdout: {}\n  stderr: {}",
            cmd.status, cmd.stdout, cmd.stderr
        );
    }
    s
}

/// The first failure message of a step (panics when it passed).
pub fn failure(r: &StepResult) -> String {
    let c = r
        .checks
        .iter()
        .find(|c| c.outcome.status != Status::Pass)
        .unwrap_or_else(|| panic!("step {} passed, expected a failure\n{}", r.step, explain(r)));
    assert_eq!(c.outcome.status, Status::Fail, "{}", explain(r));
    c.outcome.message.clone()
}

/// A content folder with just this lab, for the datalab binary.
pub fn content_dir(lab: &Lab) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rel = format!("labs/{}", lab.id);
    datalab_content::Content::disk(env!("CARGO_MANIFEST_DIR"))
        .extract_dir(&rel, &dir.path().join(&rel), true)
        .unwrap();
    for d in ["lessons", "quizzes"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    std::fs::write(
        dir.path().join("course.yaml"),
        format!(
            "title: NoSQL labs\ndays:\n  - id: d\n    title: Day\n    sessions:\n      - id: s\n        title: NoSQL\n        minutes: 60\n        units:\n          - {{ kind: lab, id: {} }}\n",
            lab.id
        ),
    )
    .unwrap();
    let _ = Content::disk(dir.path());
    dir
}

/// `datalab grade` on a workspace: (exit code, stdout).
pub fn grade_cli(content: &Path, lab: &str, ws: &Path, format: &str) -> (i32, String) {
    let out = Command::new(common::datalab_bin())
        .arg("--content")
        .arg(content)
        .arg("--home")
        .arg(common::test_home())
        .args(["grade", "--lab", lab, "--format", format, "--workspace"])
        .arg(ws)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Run the datalab binary with the test home: (exit code, stdout, stderr).
pub fn datalab(args: &[&str], cwd: &Path, ns: &Namespace) -> (i32, String, String) {
    let out = Command::new(common::datalab_bin())
        .arg("--home")
        .arg(common::test_home())
        .args(args)
        .current_dir(cwd)
        .env("DATALAB_NAMESPACE", ns.as_str())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Type a line into a lab panel, press Enter and tick it until the line is
/// done (the panel runs it on `ctx.runtime`, as in the TUI).
pub async fn panel_line<P: datalab_tui::panel::LabPanel>(
    p: &mut P,
    ctx: &datalab_tui::panel::PanelCtx<'_>,
    line: &str,
    busy: fn(&P) -> bool,
) {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    // Start from an empty line (a bad line stays in the prompt to be fixed).
    p.handle_key(
        &KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL),
        ctx,
    );
    for c in line.chars() {
        assert!(p.handle_key(&KeyEvent::from(KeyCode::Char(c)), ctx));
    }
    assert!(p.handle_key(&KeyEvent::from(KeyCode::Enter), ctx));
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        p.tick(ctx);
        if !busy(p) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the panel still runs {line:?}: a line must end within its timeout"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The reference solution passes all `steps` steps.
pub async fn solution_passes(lab: &Lab, steps: usize, tag: &str) {
    let ws = workspace(lab, "solution");
    let run = Grader::new(lab, ws.path(), fresh_namespace(tag))
        .all()
        .await;
    assert_eq!(run.steps.len(), steps);
    for s in &run.steps {
        assert!(s.passed(), "{}", explain(s));
    }
}

/// The starter fails every step, and fails rather than errors.
pub async fn starter_fails(lab: &Lab, tag: &str) {
    let ws = workspace(lab, "starter");
    for s in &Grader::new(lab, ws.path(), fresh_namespace(tag))
        .all()
        .await
        .steps
    {
        assert!(!s.passed(), "{}", explain(s));
        assert!(
            !s.errored(),
            "a starter fails, it does not error: {}",
            explain(s)
        );
    }
}

/// For each `(step, file, text, want)`: the solution with `file` replaced by
/// `text` fails `step` with a message containing `want`, pointing at `file`.
pub async fn wrong_files_fail(lab: &Lab, tag: &str, cases: &[(usize, &str, &str, &str)]) {
    for &(step, file, text, want) in cases {
        let ws = workspace(lab, "solution");
        std::fs::write(ws.path().join(file), text).unwrap();
        let g = Grader::new(lab, ws.path(), fresh_namespace(&format!("{tag}{step}")));
        let results = g.up_to(step).await;
        let r = results.last().unwrap();
        let msg = failure(r);
        assert!(
            msg.contains(want),
            "step {step}: {msg:?} should contain {want:?}\n{}",
            explain(r)
        );
        let c = r
            .checks
            .iter()
            .find(|c| c.outcome.status == Status::Fail)
            .unwrap();
        assert_eq!(
            c.outcome.file.as_deref(),
            Some(Path::new(file)),
            "step {step} points at the learner's file"
        );
    }
}

/// Cassandra's node-failure step graded with an `outage.yaml` that says
/// QUORUM fails with one node down: the check fails, says what really
/// happened and points at the answer file.
pub async fn wrong_quorum_prediction_fails(g: &Grader, workspace: &Path, step: usize) {
    wrong_outage_prediction_fails(
        g,
        workspace,
        step,
        "one_node_down: {ONE: succeeds, QUORUM: fails, ALL: fails}\n\
         two_nodes_down: {ONE: succeeds, QUORUM: fails, ALL: fails}\n",
        "you said QUORUM fails with one node down, but it succeeded",
    )
    .await;
}

/// The node-failure step graded with `answers` as its `outage.yaml`: the
/// check fails with a message containing `says`, pointing at that file.
pub async fn wrong_outage_prediction_fails(
    g: &Grader,
    workspace: &Path,
    step: usize,
    answers: &str,
    says: &str,
) {
    std::fs::write(workspace.join("outage.yaml"), answers).unwrap();
    let r = g.step(step).await;
    let c = &r.checks[0];
    assert_eq!(c.outcome.status, Status::Fail, "{}", explain(&r));
    assert!(c.outcome.message.contains(says), "{}", c.outcome.message);
    assert_eq!(c.outcome.file.as_deref(), Some("outage.yaml".as_ref()));
}
