//! What a learner types for a quiz question (`datalab quiz --plain`, the
//! TUI): parsed and graded against every kind of shipped question, options
//! shuffled by the attempt. Never a panic.
#![no_main]

use datalab_content::{Content, Course};
use datalab_engine::quiz::{QuizRun, parse_answer};
use std::sync::OnceLock;

fn course() -> &'static Course {
    static COURSE: OnceLock<Course> = OnceLock::new();
    COURSE.get_or_init(|| Course::load(Content::embedded()).expect("the shipped course"))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [q_pick, question, attempt, rest @ ..] = data else {
        return;
    };
    let Ok(input) = std::str::from_utf8(rest) else {
        return;
    };
    let quizzes: Vec<_> = course().quizzes.iter().collect();
    let (id, quiz) = quizzes[*q_pick as usize % quizzes.len()];
    let i = *question as usize % quiz.questions.len();
    let _ = parse_answer(&quiz.questions[i], input);
    let mut run = QuizRun::new(id, quiz, u32::from(*attempt));
    run.current = i;
    if let Ok(a) = run.answer(quiz, input) {
        let _ = (&a.saved, &a.feedback.right_answer);
    }
    let _ = run.score();
});
