//! `datalab grade`: exit codes, and the shape of its JSON and JUnit reports.

mod common;

use std::process::Command;

fn grade(args: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(common::datalab_bin())
        .args(["--content", "tests/fixtures/mini", "--home"])
        .arg(home.path())
        .arg("grade")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SOLUTION: &str = "tests/fixtures/mini/labs/files/solution";
const STARTER: &str = "tests/fixtures/mini/labs/files/starter";

#[test]
fn solution_passes_with_exit_0() {
    let (code, out, _) = grade(&["--lab", "files", "--workspace", SOLUTION]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 checks passed, 0 failed"), "{out}");
}

#[test]
fn starter_fails_with_exit_1() {
    let (code, out, _) = grade(&["--lab", "files", "--workspace", STARTER]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("hello.txt is missing from the workspace"),
        "{out}"
    );
    assert!(out.contains("is not answered yet"), "{out}");
}

#[test]
fn usage_and_content_errors_exit_2() {
    assert_eq!(grade(&["--lab", "nope"]).0, 2);
    assert_eq!(
        grade(&["--lab", "files", "--workspace", "/no/such/dir"]).0,
        2
    );
    assert_eq!(grade(&["--format", "yaml"]).0, 2);
    let out = Command::new(common::datalab_bin())
        .args(["--content", "tests/fixtures/broken", "grade"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn junit_has_one_testcase_per_check() {
    let (code, xml, _) = grade(&[
        "--lab",
        "files",
        "--workspace",
        STARTER,
        "--format",
        "junit",
    ]);
    assert_eq!(code, 1);
    assert!(xml.starts_with("<?xml"));
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 3, "{xml}");
    assert!(
        xml.contains(r#"<testsuite name="datalab.files" tests="3""#),
        "{xml}"
    );
}

#[test]
fn json_has_one_object_per_check() {
    let (code, json, _) = grade(&[
        "--lab",
        "files",
        "--workspace",
        SOLUTION,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 3);
    for c in checks {
        assert_eq!(c["passed"], true);
        assert_eq!(c["lab"], "files");
        assert!(c["message"].is_string() && c["duration_ms"].is_u64() && c["step"].is_string());
    }
    assert_eq!(v["totals"]["passed"], 3);
}

#[test]
fn out_writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    let (code, out, _) = grade(&[
        "--lab",
        "files",
        "--workspace",
        SOLUTION,
        "--format",
        "junit",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(out.is_empty());
    assert!(
        std::fs::read_to_string(file)
            .unwrap()
            .contains("<testsuites")
    );
}

#[test]
fn grading_never_changes_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello\n").unwrap();
    let (code, _, _) = grade(&[
        "--lab",
        "files",
        "--workspace",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "answers.yaml is missing");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("hello.txt")]);
}

/// The starter has no hello.txt: step `hello`'s command (`cat hello.txt`)
/// fails, and every format says so with the end of its stderr.
#[test]
fn a_failed_step_command_is_reported_with_its_stderr_in_every_format() {
    let args =
        |format: &'static str| ["--lab", "files", "--workspace", STARTER, "--format", format];
    let (code, text, _) = grade(&args("text"));
    assert_eq!(code, 1);
    assert!(
        text.contains("! the step's command `cat hello.txt` failed (exit status 1)"),
        "{text}"
    );
    assert!(
        text.contains("| cat: hello.txt: No such file or directory"),
        "{text}"
    );
    assert!(text.contains("1 step command(s) failed"), "{text}");

    let (_, json, _) = grade(&args("json"));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let failures = v["command_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{json}");
    assert_eq!(failures[0]["step"], "hello");
    assert_eq!(failures[0]["command"], "cat hello.txt");
    assert_eq!(failures[0]["exit_status"], 1);
    assert!(
        failures[0]["stderr"]
            .as_str()
            .unwrap()
            .contains("hello.txt: No such file or directory"),
        "{json}"
    );
    assert_eq!(v["totals"]["command_failures"], 1);

    let (_, xml, _) = grade(&args("junit"));
    assert!(xml.contains("<system-err>"), "{xml}");
    assert!(
        xml.contains("`cat hello.txt` failed (exit status 1)"),
        "{xml}"
    );
    assert!(xml.contains("No such file or directory"), "{xml}");
    // The answer step ran no command: its failure says nothing of one.
    let answer = xml.split("answer.1:").nth(1).unwrap();
    assert!(!answer.contains("cat hello.txt"), "{xml}");
}

#[test]
fn a_passing_command_is_not_reported() {
    let (_, json, _) = grade(&[
        "--lab",
        "files",
        "--workspace",
        SOLUTION,
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["command_failures"], serde_json::json!([]));
    assert_eq!(v["totals"]["command_failures"], 0);
}
