//! `datalab quiz ID --plain` end to end: right, wrong and malformed answers.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

fn run_quiz(home: &std::path::Path, input: &str) -> (String, i32) {
    let mut child = Command::new(common::datalab_bin())
        .args(["--content", "tests/fixtures/mini", "--home"])
        .arg(home)
        .args(["quiz", "basics", "--plain"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn all_right() {
    let home = tempfile::tempdir().unwrap();
    let (out, code) = run_quiz(home.path(), "f\n1,3\n7\n");
    assert_eq!(code, 0);
    assert!(out.contains("✓ correct: False"), "{out}");
    assert!(
        out.contains("Sensors and shops produce it too."),
        "explanation shown: {out}"
    );
    assert!(
        out.contains("✓ correct: 1) Storm; 3) Spark Streaming"),
        "{out}"
    );
    assert!(out.contains("✓ correct: 7 days (within 1)"), "{out}");
    assert_eq!(out.lines().last(), Some("score: 3/3"));
}

#[test]
fn wrong_answers_show_the_right_one_and_the_explanation() {
    let home = tempfile::tempdir().unwrap();
    let (out, _) = run_quiz(home.path(), "t\n1\n100\n");
    assert!(out.contains("✗ not quite. The answer: False"), "{out}");
    assert!(
        out.contains("✗ not quite. The answer: 1) Storm; 3) Spark Streaming"),
        "{out}"
    );
    assert!(
        out.contains("✗ not quite. The answer: 7 days (within 1)"),
        "{out}"
    );
    assert!(
        out.contains("3.5 billion rows at 500 million a day."),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("score: 0/3"));
}

#[test]
fn malformed_answers_are_asked_again_and_count_for_nothing() {
    let home = tempfile::tempdir().unwrap();
    let (out, _) = run_quiz(home.path(), "maybe\nf\n9\nx\n1,3\nseven\n8\n");
    assert!(
        out.contains("? answer t (true) or f (false), not \"maybe\""),
        "{out}"
    );
    assert!(
        out.contains("? answer with option numbers from 1 to 3"),
        "{out}"
    );
    assert!(out.contains("? answer with a number"), "{out}");
    assert_eq!(out.lines().last(), Some("score: 3/3"));
}

#[test]
fn the_score_is_saved_in_progress() {
    let home = tempfile::tempdir().unwrap();
    run_quiz(home.path(), "f\n2\n7\n");
    let out = Command::new(common::datalab_bin())
        .args(["--content", "tests/fixtures/mini", "--home"])
        .arg(home.path())
        .args(["progress", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let quiz = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == "basics")
        .unwrap();
    assert_eq!(quiz["done"], true);
    assert_eq!(quiz["score"], serde_json::json!([2, 3]));
}

#[test]
fn running_out_of_answers_still_prints_the_score() {
    let home = tempfile::tempdir().unwrap();
    let (out, code) = run_quiz(home.path(), "f\n");
    assert_eq!(code, 0);
    assert!(out.contains("(no more answers)"));
    assert_eq!(out.lines().last(), Some("score: 1/3"));
}

#[test]
fn an_unknown_quiz_is_a_usage_error() {
    let out = Command::new(common::datalab_bin())
        .args([
            "--content",
            "tests/fixtures/mini",
            "quiz",
            "nope",
            "--plain",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no quiz `nope`; quizzes: basics"));
}
