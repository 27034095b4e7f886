//! `datalab quiz ID --plain` end to end: right, wrong and malformed answers,
//! options shuffled per attempt and numbered as shown.

mod common;

use datalab_content::{Content, Course};
use datalab_engine::quiz::option_order;
use std::io::Write;
use std::process::{Command, Stdio};

/// The fixture's choice question `pick`: options in the file's order.
const PICK: [&str; 3] = ["Storm", "MySQL", "Spark Streaming"];

/// The order `pick`'s options are shown in on an attempt (file indexes).
fn order(attempt: u32) -> Vec<usize> {
    let course = Course::load(Content::disk("tests/fixtures/mini")).unwrap();
    let quiz = &course.quizzes["basics"];
    option_order("basics", attempt, &quiz.questions[1])
}

/// What to type on an attempt to pick these options (by text).
fn typed(attempt: u32, texts: &[&str]) -> String {
    let order = order(attempt);
    let mut shown: Vec<usize> = texts
        .iter()
        .map(|t| {
            let f = PICK.iter().position(|p| p == t).unwrap();
            order.iter().position(|&o| o == f).unwrap() + 1
        })
        .collect();
    shown.sort_unstable();
    let shown: Vec<String> = shown.iter().map(usize::to_string).collect();
    shown.join(",")
}

/// The right answer in words as shown on an attempt: "2) Storm; 3) Spark Streaming".
fn right_words(attempt: u32) -> String {
    let order = order(attempt);
    let words: Vec<String> = order
        .iter()
        .enumerate()
        .filter(|&(_, &f)| f != 1)
        .map(|(i, &f)| format!("{}) {}", i + 1, PICK[f]))
        .collect();
    words.join("; ")
}

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
    let right = typed(0, &["Storm", "Spark Streaming"]);
    let (out, code) = run_quiz(home.path(), &format!("f\n{right}\n7\n"));
    assert_eq!(code, 0);
    assert!(out.contains("✓ correct: False"), "{out}");
    assert!(
        out.contains("Sensors and shops produce it too."),
        "explanation shown: {out}"
    );
    assert!(
        out.contains(&format!("✓ correct: {}", right_words(0))),
        "{out}"
    );
    assert!(out.contains("✓ correct: 7 days (within 1)"), "{out}");
    assert_eq!(out.lines().last(), Some("score: 3/3"));
}

#[test]
fn wrong_answers_show_the_right_one_and_the_explanation() {
    let home = tempfile::tempdir().unwrap();
    let wrong = typed(0, &["MySQL"]);
    let (out, _) = run_quiz(home.path(), &format!("t\n{wrong}\n100\n"));
    assert!(out.contains("✗ not quite. The answer: False"), "{out}");
    assert!(
        out.contains(&format!("✗ not quite. The answer: {}", right_words(0))),
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
    let right = typed(0, &["Storm", "Spark Streaming"]);
    let (out, _) = run_quiz(home.path(), &format!("maybe\nf\n9\nx\n{right}\nseven\n8\n"));
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
    run_quiz(home.path(), &format!("f\n{}\n7\n", typed(0, &["MySQL"])));
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

/// The options as printed, in the order shown.
fn printed_options(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("  ")?.split_once(") "))
        .filter(|(n, _)| n.parse::<usize>().is_ok())
        .map(|(_, o)| o.to_string())
        .collect()
}

#[test]
fn options_are_shown_shuffled_and_typed_as_shown() {
    let home = tempfile::tempdir().unwrap();
    let (out, _) = run_quiz(home.path(), "f\n");
    let shown: Vec<&str> = order(0).iter().map(|&f| PICK[f]).collect();
    assert_eq!(printed_options(&out), shown, "{out}");
    // Several attempts: not every one shows the file's order.
    assert!(
        (0..8).any(|a| order(a) != [0, 1, 2]),
        "the options are shuffled"
    );
}

#[test]
fn the_order_holds_across_a_resume_and_changes_with_the_next_attempt() {
    let home = tempfile::tempdir().unwrap();
    let (first, _) = run_quiz(home.path(), "f\n");
    let (again, _) = run_quiz(home.path(), "f\n");
    assert_eq!(printed_options(&first), printed_options(&again));
    // Finish the attempt: the saved answer names options in the file's
    // order, whatever order they were shown in.
    let right = typed(0, &["Storm", "Spark Streaming"]);
    run_quiz(home.path(), &format!("f\n{right}\n7\n"));
    let p = datalab_engine::progress::ProgressStore::new(home.path())
        .load()
        .0;
    assert_eq!(p.units["basics"].answers["pick"], "1,3");
    assert_eq!(p.units["basics"].attempts, 1);
    let (next, _) = run_quiz(home.path(), "f\n");
    let shown: Vec<&str> = order(1).iter().map(|&f| PICK[f]).collect();
    assert_eq!(printed_options(&next), shown, "{next}");
}
