//! Helpers for the Kafka lab tests: load the lab, build a workspace from
//! `starter/` or `solution/`, run steps in a namespace.
#![allow(dead_code)]

use datalab_content::Lab;
use datalab_engine::lab::{RunOptions, StepResult, run_step};
use datalab_services::Namespace;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn load() -> Lab {
    let content = datalab_content::Content::disk(env!("CARGO_MANIFEST_DIR"));
    let def = match datalab_content::parse_lab(&content, "kafka") {
        Ok(d) => d,
        Err(e) => panic!("labs/kafka/lab.yaml: {e:?}"),
    };
    Lab {
        id: "kafka".into(),
        def,
        content,
    }
}

/// A learner's workspace: the starter (and data), with `files` (`solution`
/// or `starter`) copied over it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub lab: Lab,
    pub opts: RunOptions,
}

pub fn unique_ns(tag: &str) -> Namespace {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Namespace::for_learner(&format!("t{}_{tag}_{t}", std::process::id()))
}

pub fn workspace(files: &str, tag: &str) -> Workspace {
    crate::common::put_datalab_on_path();
    // The console must take the endpoint the runner hands it, not a stale one.
    // SAFETY: set before step commands start; every test sets the same value.
    unsafe { std::env::remove_var("DATALAB_KAFKA_BOOTSTRAP") };
    let lab = load();
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    datalab_engine::lab::prepare_workspace(&lab, &ws).unwrap();
    lab.content
        .extract_dir(&format!("labs/kafka/{files}"), &ws, true)
        .unwrap();
    let lab_data =
        datalab_engine::lab::materialize_data(&lab, &dir.path().join("lab-data")).unwrap();
    let opts = RunOptions {
        workspace: ws,
        lab_data,
        namespace: unique_ns(tag),
        services: crate::common::services(),
        check_timeout: Duration::from_secs(5),
        env: Vec::new(),
    };
    Workspace { dir, lab, opts }
}

impl Workspace {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.opts.workspace.join(rel)
    }

    pub async fn step(&self, id: &str) -> StepResult {
        let (i, _) = self.lab.step(id).unwrap_or_else(|| panic!("no step {id}"));
        run_step(&self.lab, i, &self.opts).await
    }

    /// Replace text in a workspace file; returns the original.
    pub fn edit(&self, rel: &str, from: &str, to: &str) -> String {
        let p = self.path(rel);
        let orig = std::fs::read_to_string(&p).unwrap();
        assert!(orig.contains(from), "{rel} has no {from:?}");
        std::fs::write(&p, orig.replace(from, to)).unwrap();
        orig
    }

    pub fn restore(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }
}

/// The Python venv's `bin/` (`tests/python-venv.sh`), checked to import
/// confluent_kafka: a missing venv fails the test with what to run.
pub fn venv_bin() -> PathBuf {
    let venv = std::env::var_os("DATALAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::common::cache_dir().join("venv"));
    let python = venv.join("bin/python3");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import confluent_kafka"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "no Python venv with confluent-kafka at {}: run `bash tests/python-venv.sh` first (tests/run-all.sh does)",
        venv.display()
    );
    venv.join("bin")
}

/// The Python route over a workspace: `solution-python/` copied over it and
/// the venv's `python3` first on PATH for the step commands.
pub fn python_route(w: &Workspace) {
    let bin = venv_bin();
    datalab_content::Content::disk(env!("CARGO_MANIFEST_DIR"))
        .extract_dir("labs/kafka/solution-python", &w.opts.workspace, true)
        .unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&path).next().as_deref() == Some(bin.as_path()) {
        return;
    }
    let mut parts = vec![bin];
    parts.extend(std::env::split_paths(&path));
    // SAFETY: set before the step commands that need it start; every test
    // sets the same value.
    unsafe { std::env::set_var("PATH", std::env::join_paths(parts).unwrap()) };
}

/// Every check's message, for assertion failures.
pub fn explain(r: &StepResult) -> String {
    let mut s = format!("step {}:\n", r.step);
    for c in &r.checks {
        s.push_str(&format!(
            "  {:?} {}: {}\n",
            c.outcome.status, c.description, c.outcome.message
        ));
    }
    if let Some(cmd) = &r.command {
        s.push_str(&format!(
            "  command `{}` exit {:?}\n  stdout: {}\n  stderr: {}\n",
            cmd.command, cmd.status, cmd.stdout, cmd.stderr
        ));
    }
    s
}

pub fn assert_passes(r: &StepResult) {
    assert!(r.passed(), "expected a pass\n{}", explain(r));
}

/// The step fails (not errors) and one check's message contains `needle`.
pub fn assert_fails_with(r: &StepResult, needle: &str) {
    assert!(!r.passed(), "expected a failure\n{}", explain(r));
    assert!(
        !r.errored(),
        "expected a failure, not an error\n{}",
        explain(r)
    );
    assert!(
        r.checks.iter().any(|c| c.outcome.message.contains(needle)),
        "no message contains {needle:?}\n{}",
        explain(r)
    );
}

/// Processes still running whose environment names this workspace (the
/// step commands' children carry `DATALAB_WORKSPACE`), as `pid: cmdline`.
pub fn processes_of(ws: &Path) -> Vec<String> {
    let needle = format!("DATALAB_WORKSPACE={}", ws.display());
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            // A zombie waiting for its parent is not running anymore.
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            if stat.rsplit(") ").next().is_some_and(|s| s.starts_with('Z')) {
                continue;
            }
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            found.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&cmd).replace('\0', " ")
            ));
        }
    }
    found
}
