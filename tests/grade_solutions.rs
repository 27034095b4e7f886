//! Every lab's reference solution, graded as it is in the repository (a copy
//! of `labs/<id>/solution/` alone, no `data/` beside it, as in a learner's
//! repository checked out by a CI grader), passes every check: step
//! commands read the lab's trusted data from `$DATALAB_LAB_DATA`, never from
//! the graded folder. Real services (see tests/common).

mod common;

use std::path::Path;
use std::process::Command;

/// `datalab grade --lab ID --workspace <copy of its solution> --format json`.
fn grade_solution(lab: &str) {
    common::services(); // sets DATALAB_BIN for step commands
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join(lab);
    common::copy_dir(&repo.join("labs").join(lab).join("solution"), &ws);
    assert!(!ws.join("data").exists(), "graded without a data/ folder");
    let provider = std::env::var("DATALAB_PROVIDER").unwrap_or_else(|_| "native".into());
    // Step 11's scorer is Python (confluent-kafka): the venv that
    // tests/python-venv.sh makes goes first on PATH, as a learner's would.
    let venv = std::env::var_os("DATALAB_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| common::cache_dir().join("venv"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut parts = vec![venv.join("bin")];
    parts.extend(std::env::split_paths(&path));
    let out = Command::new(common::datalab_bin())
        .env("PATH", std::env::join_paths(parts).unwrap())
        .arg("--home")
        .arg(common::test_home())
        .args([
            "--provider",
            &provider,
            "grade",
            "--lab",
            lab,
            "--workspace",
        ])
        .arg(&ws)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let checks = report["checks"].as_array().cloned().unwrap_or_default();
    assert!(!checks.is_empty(), "{stdout}");
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c["passed"] != true)
        .map(|c| format!("{} / {}: {}", c["step"], c["check"], c["message"]))
        .collect();
    assert!(failed.is_empty(), "{lab}: {failed:#?}\n{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}

#[test]
fn mapreduce_solution_passes_as_it_is_in_the_repository() {
    grade_solution("mapreduce");
}

#[test]
fn kafka_solution_passes_as_it_is_in_the_repository() {
    grade_solution("kafka");
}

#[test]
fn mongodb_solution_passes_as_it_is_in_the_repository() {
    grade_solution("mongodb");
}

#[test]
fn cassandra_solution_passes_as_it_is_in_the_repository() {
    grade_solution("cassandra");
}
