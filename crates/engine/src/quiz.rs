//! Quizzes: reading a learner's answer, grading it, keeping score. Shared by
//! the TUI and `datalab quiz --plain`.

use crate::progress::{Progress, UnitProgress};
use datalab_content::{AnswerValue, Question, QuestionKind, Quiz};

/// What a learner answered, once understood.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    Bool(bool),
    /// 0-based option positions as shown, sorted, unique.
    Options(Vec<usize>),
    Number(f64),
}

/// The verdict on one answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Feedback {
    pub correct: bool,
    /// The right answer in words ("False", "2) More than 500 million", "7 days").
    pub right_answer: String,
    pub explanation: String,
}

/// Parse what a learner typed for a question. `Err` says what to type
/// instead; nothing is recorded for a malformed answer.
pub fn parse_answer(q: &Question, input: &str) -> Result<Given, String> {
    let s = input.trim();
    match q.kind {
        QuestionKind::TrueFalse => match s.to_ascii_lowercase().as_str() {
            "t" | "true" | "y" | "yes" => Ok(Given::Bool(true)),
            "f" | "false" | "n" | "no" => Ok(Given::Bool(false)),
            _ => Err(format!("answer t (true) or f (false), not {s:?}")),
        },
        QuestionKind::Choice => {
            let n = q.options.len();
            let mut picked = Vec::new();
            for part in s.split([',', ' ', ';']).filter(|p| !p.is_empty()) {
                let idx = match part.parse::<usize>() {
                    Ok(i) if (1..=n).contains(&i) => i - 1,
                    _ => match part
                        .to_ascii_lowercase()
                        .chars()
                        .collect::<Vec<_>>()
                        .as_slice()
                    {
                        [c] if c.is_ascii_lowercase() && ((*c as u8 - b'a') as usize) < n => {
                            (*c as u8 - b'a') as usize
                        }
                        _ => {
                            return Err(format!(
                                "answer with option numbers from 1 to {n} (several: 1,3), not {part:?}"
                            ));
                        }
                    },
                };
                if !picked.contains(&idx) {
                    picked.push(idx);
                }
            }
            if picked.is_empty() {
                return Err(format!(
                    "answer with option numbers from 1 to {n} (several: 1,3)"
                ));
            }
            picked.sort_unstable();
            Ok(Given::Options(picked))
        }
        QuestionKind::Numeric => parse_number(s).map(Given::Number).ok_or_else(|| {
            format!("answer with a number (e.g. 7, 3.5e9 or 3,500,000,000), not {s:?}")
        }),
    }
}

/// A number as people type it: `7`, `7.5`, `3.5e9`, `3,500,000`, `3 500`,
/// `3.5k`, `3.5M`, `3.5B`.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    let (num, mult) = match cleaned.chars().last()? {
        'k' | 'K' => (&cleaned[..cleaned.len() - 1], 1e3),
        'M' => (&cleaned[..cleaned.len() - 1], 1e6),
        'B' | 'G' => (&cleaned[..cleaned.len() - 1], 1e9),
        'T' => (&cleaned[..cleaned.len() - 1], 1e12),
        _ => (cleaned.as_str(), 1.0),
    };
    let v: f64 = num.parse().ok()?;
    let v = v * mult;
    v.is_finite().then_some(v)
}

/// The right answer as option indexes in the file's order (choice questions).
pub(crate) fn right_options(q: &Question) -> Vec<usize> {
    let texts: Vec<&str> = match &q.answer.value {
        AnswerValue::Text(t) => vec![t.as_str()],
        AnswerValue::List(l) => l.iter().map(String::as_str).collect(),
        _ => vec![],
    };
    let mut idx: Vec<usize> = q
        .options
        .iter()
        .enumerate()
        .filter(|(_, o)| texts.contains(&o.as_str()))
        .map(|(i, _)| i)
        .collect();
    idx.sort_unstable();
    idx
}

/// Is this (choice) question answered with several options?
pub fn is_multiple(q: &Question) -> bool {
    matches!(&q.answer.value, AnswerValue::List(l) if l.len() > 1)
}

/// Grade a parsed answer. Options are numbered as shown: `order[shown]` is
/// the option's index in the file, and `given` holds shown positions.
fn grade(q: &Question, order: &[usize], given: &Given) -> Feedback {
    let (correct, right_answer) = match (&q.answer.value, given) {
        (AnswerValue::Bool(want), Given::Bool(got)) => (
            want == got,
            if *want { "True" } else { "False" }.to_string(),
        ),
        (AnswerValue::Number(want), Given::Number(got)) => grade_number(q, *want, *got),
        (_, Given::Options(got)) => {
            let want = shown_positions(order, &right_options(q));
            let words: Vec<String> = want
                .iter()
                .map(|&i| format!("{}) {}", i + 1, q.options[order[i]]))
                .collect();
            (&want == got, words.join("; "))
        }
        _ => (false, String::new()),
    };
    Feedback {
        correct,
        right_answer,
        explanation: q.explanation.trim().to_string(),
    }
}

fn grade_number(q: &Question, want: f64, got: f64) -> (bool, String) {
    let ok = if q.magnitude == Some(true) {
        got > 0.0 && (got.log10() - want.log10()).abs() <= 0.5
    } else {
        (got - want).abs() <= q.tolerance.unwrap_or(0.0) + f64::EPSILON * want.abs()
    };
    let unit = q
        .unit
        .as_deref()
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    // |log10 got - log10 want| <= 0.5 is a factor of 10^0.5 = 3.16 either way.
    let extra = match (q.magnitude, q.tolerance) {
        (Some(true), _) => " (any answer within a factor of about 3 counts)".to_string(),
        (_, Some(t)) if t > 0.0 => format!(" (within {})", fmt_number(t)),
        _ => String::new(),
    };
    (ok, format!("{}{unit}{extra}", fmt_number(want)))
}

/// Is `given` right for `q`, with options shown in `order`?
pub(crate) fn grade_given(q: &Question, order: &[usize], given: &Given) -> bool {
    grade(q, order, given).correct
}

/// File indexes → the positions they are shown at, sorted.
fn shown_positions(order: &[usize], file: &[usize]) -> Vec<usize> {
    let mut shown: Vec<usize> = file
        .iter()
        .filter_map(|f| order.iter().position(|o| o == f))
        .collect();
    shown.sort_unstable();
    shown
}

/// The order a choice question's options are shown in on one attempt at a
/// quiz: `order[shown] = index in the file`. It depends only on the quiz id,
/// the attempt number and the question id, so leaving a quiz and coming back
/// shows the same order until the attempt is finished; the next attempt
/// shuffles again. True/false and numeric questions have no options (empty).
pub fn option_order(quiz_id: &str, attempt: u32, q: &Question) -> Vec<usize> {
    let mut order: Vec<usize> = (0..q.options.len()).collect();
    if q.kind != QuestionKind::Choice {
        return order;
    }
    let mut state = fnv1a(&[
        quiz_id.as_bytes(),
        &attempt.to_le_bytes(),
        q.id.value.as_bytes(),
    ]);
    // Fisher-Yates with splitmix64: tiny, and the same on every platform
    // and Rust version (std's hashers promise neither).
    for i in (1..order.len()).rev() {
        let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain([0xffu8].iter()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A number without a needless `.0`, with thousands grouped.
pub(crate) fn fmt_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e18 {
        let s = format!("{}", v.abs() as u128);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 { format!("-{out}") } else { out }
    } else {
        format!("{v}")
    }
}

/// One graded answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Answered {
    /// What was picked, numbered as shown.
    pub given: Given,
    /// The answer as progress keeps it: choice options numbered in the
    /// file's order (`1,3`), so it means the same whatever order they were
    /// shown in; otherwise what was typed.
    pub saved: String,
    pub feedback: Feedback,
}

/// A quiz in progress: which question, what was answered, the score, and
/// the order each question's options are shown in.
#[derive(Clone, Debug, Default)]
pub struct QuizRun {
    pub current: usize,
    /// Per question: the answer once graded.
    pub answers: Vec<Option<Answered>>,
    /// Per question: `order[shown] = index in the file` (see [`option_order`]).
    orders: Vec<Vec<usize>>,
}

impl QuizRun {
    /// Attempt number `attempt` (0 for the first) at quiz `quiz_id`; see
    /// [`attempt`] for the one in progress.
    pub fn new(quiz_id: &str, quiz: &Quiz, attempt: u32) -> QuizRun {
        QuizRun {
            current: 0,
            answers: vec![None; quiz.questions.len()],
            orders: quiz
                .questions
                .iter()
                .map(|q| option_order(quiz_id, attempt, q))
                .collect(),
        }
    }

    /// Question `i`'s options in the order they are shown.
    pub fn shown_options<'q>(&self, quiz: &'q Quiz, i: usize) -> Vec<&'q str> {
        let q = &quiz.questions[i];
        self.orders[i]
            .iter()
            .map(|&f| q.options[f].as_str())
            .collect()
    }

    /// Question `i`'s right options, numbered as shown (0-based, sorted).
    pub fn right_shown(&self, quiz: &Quiz, i: usize) -> Vec<usize> {
        shown_positions(&self.orders[i], &right_options(&quiz.questions[i]))
    }

    /// Answer the current question with what the learner typed, options
    /// numbered as shown. Malformed input changes nothing.
    pub fn answer(&mut self, quiz: &Quiz, input: &str) -> Result<&Answered, String> {
        let i = self.current;
        let q = quiz.questions.get(i).ok_or("the quiz is finished")?;
        let given = parse_answer(q, input)?;
        let order = &self.orders[i];
        let saved = match &given {
            Given::Options(shown) => {
                let mut file: Vec<usize> = shown.iter().map(|&s| order[s] + 1).collect();
                file.sort_unstable();
                let file: Vec<String> = file.iter().map(usize::to_string).collect();
                file.join(",")
            }
            _ => input.trim().to_string(),
        };
        let feedback = grade(q, order, &given);
        let slot = &mut self.answers[i];
        Ok(slot.insert(Answered {
            given,
            saved,
            feedback,
        }))
    }

    /// Move to the next question; false at the end.
    pub fn next(&mut self, quiz: &Quiz) -> bool {
        if self.current + 1 < quiz.questions.len() {
            self.current += 1;
            true
        } else {
            self.current = quiz.questions.len();
            false
        }
    }

    pub fn finished(&self, quiz: &Quiz) -> bool {
        self.current >= quiz.questions.len()
    }

    pub fn score(&self) -> (u32, u32) {
        let right = self
            .answers
            .iter()
            .flatten()
            .filter(|a| a.feedback.correct)
            .count() as u32;
        (right, self.answers.len() as u32)
    }
}

/// The attempt in progress at a quiz: how many were finished before.
pub fn attempt(progress: &Progress, quiz_id: &str) -> u32 {
    progress.unit(quiz_id).map_or(0, |u| u.attempts)
}

/// Save one graded answer.
pub fn record_answer(u: &mut UnitProgress, question_id: &str, a: &Answered) {
    u.answers.insert(question_id.to_string(), a.saved.clone());
}

/// Save a finished attempt: its score, the best score (by ratio), done, and
/// the next attempt's number (so the next one is shuffled afresh).
pub fn record_finished(u: &mut UnitProgress, score: (u32, u32)) {
    u.score = Some(score);
    u.best = match u.best {
        Some(b) if b.0 * score.1.max(1) >= score.0 * b.1.max(1) && b.1 > 0 => Some(b),
        _ => Some(score),
    };
    u.done = true;
    u.attempts = u.attempts.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiz() -> Quiz {
        serde_saphyr::from_str(
            "title: T
questions:
  - { id: tf, kind: true_false, prompt: P, answer: true, explanation: E }
  - id: pick
    kind: choice
    prompt: P
    options: [a, b, c, d, e]
    answer: [a, c]
    explanation: E
  - { id: big, kind: numeric, prompt: P, answer: 1000, magnitude: true, explanation: E }
",
        )
        .expect("the quiz parses")
    }

    #[test]
    fn option_order_is_a_stable_permutation_that_changes_with_the_attempt() {
        let q = quiz();
        let pick = &q.questions[1];
        let orders: Vec<Vec<usize>> = (0..10).map(|a| option_order("t", a, pick)).collect();
        for o in &orders {
            let mut sorted = o.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, [0, 1, 2, 3, 4]);
        }
        assert_eq!(option_order("t", 3, pick), orders[3], "deterministic");
        assert!(orders.iter().any(|o| o != &orders[0]), "{orders:?}");
        assert!(option_order("t", 0, &q.questions[0]).is_empty());
        assert!(option_order("t", 0, &q.questions[2]).is_empty());
    }

    #[test]
    fn answers_and_feedback_are_numbered_as_shown_and_saved_by_the_file() {
        let q = quiz();
        let attempt = (0..20)
            .find(|&a| option_order("t", a, &q.questions[1])[0] != 0)
            .expect("some attempt moves option a");
        let mut run = QuizRun::new("t", &q, attempt);
        run.answer(&q, "t").unwrap();
        run.next(&q);
        let shown = run.shown_options(&q, 1);
        let at = |t: &str| shown.iter().position(|o| *o == t).unwrap() + 1;
        let (a, c) = (at("a"), at("c"));
        let a = run.answer(&q, &format!("{c},{a}")).unwrap();
        assert!(a.feedback.correct);
        assert_eq!(a.saved, "1,3");
        let (lo, hi) = ((at("a")).min(at("c")), at("a").max(at("c")));
        let first = if lo == at("a") { "a" } else { "c" };
        let second = if first == "a" { "c" } else { "a" };
        assert_eq!(
            a.feedback.right_answer,
            format!("{lo}) {first}; {hi}) {second}")
        );
        assert_eq!(run.right_shown(&q, 1), [lo - 1, hi - 1]);
        // Option 1 as shown is not option a: wrong.
        assert!(!run.answer(&q, "1").unwrap().feedback.correct);
    }

    #[test]
    fn magnitude_feedback_says_what_the_grader_accepts() {
        let q = quiz();
        let mut run = QuizRun::new("t", &q, 0);
        run.current = 2;
        let a = run.answer(&q, "3100").unwrap();
        assert!(a.feedback.correct, "within a factor of 3.16");
        assert_eq!(
            a.feedback.right_answer,
            "1,000 (any answer within a factor of about 3 counts)"
        );
        assert!(!run.answer(&q, "3200").unwrap().feedback.correct);
        assert!(run.answer(&q, "320").unwrap().feedback.correct);
        assert!(!run.answer(&q, "310").unwrap().feedback.correct);
    }

    #[test]
    fn a_finished_attempt_moves_to_the_next_and_keeps_the_best() {
        let mut u = UnitProgress::default();
        record_finished(&mut u, (2, 3));
        record_finished(&mut u, (1, 3));
        assert_eq!(
            (u.attempts, u.score, u.best),
            (2, Some((1, 3)), Some((2, 3)))
        );
    }
}
