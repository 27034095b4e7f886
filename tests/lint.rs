//! Broken content gives exact `file:line:col: message` errors, through the
//! library and through `datalab lint`.

mod common;

use datalab_content::{Content, lint};
use std::process::Command;

const EXPECTED: &[&str] = &[
    "tests/fixtures/broken/lessons/no-title.md:1:1: a lesson must start with a `# Title` line",
    "tests/fixtures/broken/course.yaml:11:33: lesson `missing` has no file: expected lessons/missing.md",
    "tests/fixtures/broken/quizzes/bad-answer.yaml:7:13: answer \"Lots\" is not one of the options of `tweets`",
    "tests/fixtures/broken/quizzes/bad-answer.yaml:9:9: numeric question `days` needs exactly one of `tolerance: N` or `magnitude: true`",
    "tests/fixtures/broken/quizzes/typo.yaml:7:5: unknown field `explantion`, expected one of id, kind, prompt, options, answer, tolerance, magnitude, unit, explanation",
    "tests/fixtures/broken/quizzes/syntax.yaml:5:13: expected string scalar",
    "tests/fixtures/broken/lessons/comparisons/bad-verdict.yaml:6:11: criterion \"Speed\" has no value for option `b`",
    "tests/fixtures/broken/lessons/comparisons/bad-verdict.yaml:10:14: verdict `c` is not one of the options (a, b)",
    "tests/fixtures/broken/lessons/activities/zero.yaml:5:14: phase \"Nothing\" must last at least a minute",
    "tests/fixtures/broken/labs/nosol/lab.yaml:1:1: lab `nosol` has no solution/ folder: every lab ships a reference solution",
    "tests/fixtures/broken/labs/nosol/lab.yaml:8:9: step id `one` is used twice",
    "tests/fixtures/broken/labs/nosol/lab.yaml:13:9: id `Two` must be lowercase letters, digits, `-` or `_`",
    "tests/fixtures/broken/labs/nosol/lab.yaml:13:9: step `Two` has no checks",
    "tests/fixtures/broken/course.yaml:18:31: unit id `bad-answer` is used twice",
    "tests/fixtures/broken/quizzes/lopsided.yaml:3:9: warning: the right answer is option 1 in 4 of 5 single-answer questions; spread it over the positions",
    "tests/fixtures/broken/quizzes/lopsided.yaml:33:9: warning: 7 of 8 true/false statements are true: answering true every time scores well; balance them",
    "tests/fixtures/broken/course.yaml:1:1: warning: across the course's quizzes, the right answer is option 1 in 4 of 5 single-answer questions; spread it over the positions",
    "tests/fixtures/broken/course.yaml:1:1: warning: across the course's quizzes, 7 of 8 true/false statements are true: answering true every time scores well; balance them",
];

#[test]
fn broken_fixtures_give_exact_locations() {
    let got: Vec<String> = lint(&Content::disk("tests/fixtures/broken"))
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(got, EXPECTED);
}

#[test]
fn lint_command_prints_them_and_exits_1() {
    let out = Command::new(common::datalab_bin())
        .args(["lint", "tests/fixtures/broken"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().collect::<Vec<_>>(), EXPECTED);
}

#[test]
fn lint_of_a_clean_tree_exits_0() {
    let out = Command::new(common::datalab_bin())
        .args(["lint", "tests/fixtures/mini"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_broken_course_refuses_to_start_with_the_errors() {
    let out = Command::new(common::datalab_bin())
        .args(["--content", "tests/fixtures/broken", "outline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("quizzes/typo.yaml:7:5: unknown field `explantion`"),
        "{stderr}"
    );
}

#[test]
fn lint_without_course_yaml_is_a_usage_error() {
    let out = Command::new(common::datalab_bin())
        .args(["lint", "tests"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no course.yaml"));
}
