//! Every shipped content file loads and lints clean, and the course covers
//! what the workshop promises.

mod common;

use datalab_content::{Course, QuestionKind, Severity, UnitKind, lint};

#[test]
fn shipped_content_lints_clean() {
    let diags = lint(&common::content());
    let listed: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    assert!(
        diags.is_empty(),
        "lint found problems:\n{}",
        listed.join("\n")
    );
}

#[test]
fn embedded_content_is_the_shipped_content() {
    // The binary embeds the same files the tree has.
    let embedded =
        Course::load(datalab_content::Content::embedded()).expect("embedded content loads");
    let disk = Course::load(common::content()).expect("content loads");
    let ids = |c: &Course| c.units.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&embedded), ids(&disk));
}

#[test]
fn agenda_is_the_two_day_workshop() {
    let course = Course::load(common::content()).expect("content loads");
    let titles: Vec<Vec<String>> = course
        .days
        .iter()
        .map(|d| d.sessions.iter().map(|s| s.title.to_lowercase()).collect())
        .collect();
    assert_eq!(titles.len(), 2, "two days");
    let want = [
        vec![
            "big data and industry",
            "architectures i",
            "brainstorming and discussion",
            "handling data",
            "streaming with kafka",
            "hands-on kafka",
        ],
        vec![
            "nosql databases",
            "hands-on mongodb",
            "hands-on cassandra",
            "architectures ii",
            "brainstorming and discussion",
            "wrap-up",
        ],
    ];
    for (day, want) in titles.iter().zip(want.iter()) {
        assert_eq!(day.len(), want.len(), "sessions: {day:?}");
        for (got, w) in day.iter().zip(want.iter()) {
            assert!(got.starts_with(w), "session {got:?} should be {w:?}");
        }
    }
    for lab in [
        "kafka",
        "mongodb",
        "cassandra",
        "mapreduce",
        "mapreduce-hadoop",
        "spark",
    ] {
        assert!(course.lab(lab).is_some(), "lab {lab} is on the agenda");
    }
    let session_of = |lab: &str| {
        let u = course.unit(lab).expect("lab unit");
        course.days[u.day].sessions[u.session].title.to_lowercase()
    };
    assert!(session_of("kafka").contains("kafka"));
    assert!(session_of("mongodb").contains("mongodb"));
    assert!(session_of("cassandra").contains("cassandra"));
    assert!(session_of("mapreduce").contains("handling data"));
    assert!(session_of("mapreduce-hadoop").contains("handling data"));
    assert!(session_of("spark").contains("handling data"));
}

#[test]
fn enough_lessons_quizzes_and_questions() {
    let course = Course::load(common::content()).expect("content loads");
    let count = |k: UnitKind| course.units.iter().filter(|u| u.kind == k).count();
    assert!(count(UnitKind::Lesson) >= 8, "at least 8 lessons");
    assert!(count(UnitKind::Quiz) >= 8, "at least 8 quizzes");
    assert!(count(UnitKind::Comparison) >= 3, "three comparisons");
    assert!(
        count(UnitKind::Activity) >= 2,
        "the brainstorms and the data snapshot"
    );
    let questions: Vec<_> = course.quizzes.values().flat_map(|q| &q.questions).collect();
    assert!(
        questions.len() >= 40,
        "at least 40 questions, got {}",
        questions.len()
    );
    for kind in [
        QuestionKind::TrueFalse,
        QuestionKind::Choice,
        QuestionKind::Numeric,
    ] {
        assert!(
            questions.iter().any(|q| q.kind == kind),
            "some {kind:?} question"
        );
    }
    assert!(questions.iter().all(|q| !q.explanation.trim().is_empty()));
}

#[test]
fn no_warnings_either() {
    let diags = lint(&common::content());
    assert!(diags.iter().all(|d| d.severity != Severity::Warning));
}
