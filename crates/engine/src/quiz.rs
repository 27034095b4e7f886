//! Quizzes: reading a learner's answer, grading it, keeping score. Shared by
//! the TUI and `datalab quiz --plain`.

use datalab_content::{AnswerValue, Question, QuestionKind, Quiz};

/// What a learner answered, once understood.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    Bool(bool),
    /// 0-based option indexes, sorted, unique.
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

/// The right answer as option indexes (choice questions).
pub fn right_options(q: &Question) -> Vec<usize> {
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

/// Grade a parsed answer.
pub(crate) fn grade(q: &Question, given: &Given) -> Feedback {
    let (correct, right_answer) = match (&q.answer.value, given) {
        (AnswerValue::Bool(want), Given::Bool(got)) => (
            want == got,
            if *want { "True" } else { "False" }.to_string(),
        ),
        (AnswerValue::Number(want), Given::Number(got)) => {
            let ok = if q.magnitude == Some(true) {
                *got > 0.0 && (got.log10() - want.log10()).abs() <= 0.5
            } else {
                (got - want).abs() <= q.tolerance.unwrap_or(0.0) + f64::EPSILON * want.abs()
            };
            let unit = q
                .unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            let extra = match (q.magnitude, q.tolerance) {
                (Some(true), _) => {
                    " (any answer of the same order of magnitude counts)".to_string()
                }
                (_, Some(t)) if t > 0.0 => format!(" (within {})", fmt_number(t)),
                _ => String::new(),
            };
            (ok, format!("{}{unit}{extra}", fmt_number(*want)))
        }
        (_, Given::Options(got)) => {
            let want = right_options(q);
            let words: Vec<String> = want
                .iter()
                .map(|&i| format!("{}) {}", i + 1, q.options[i]))
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

/// A quiz in progress: which question, what was answered, the score.
#[derive(Clone, Debug, Default)]
pub struct QuizRun {
    pub current: usize,
    /// Per question: the feedback once answered.
    pub answers: Vec<Option<(String, Feedback)>>,
}

impl QuizRun {
    pub fn new(quiz: &Quiz) -> QuizRun {
        QuizRun {
            current: 0,
            answers: vec![None; quiz.questions.len()],
        }
    }

    /// Answer the current question. Malformed input changes nothing.
    pub fn answer(&mut self, quiz: &Quiz, input: &str) -> Result<&Feedback, String> {
        let q = quiz
            .questions
            .get(self.current)
            .ok_or("the quiz is finished")?;
        let given = parse_answer(q, input)?;
        let fb = grade(q, &given);
        self.answers[self.current] = Some((input.trim().to_string(), fb));
        Ok(&self.answers[self.current].as_ref().expect("just set").1)
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
            .filter(|(_, f)| f.correct)
            .count() as u32;
        (right, self.answers.len() as u32)
    }
}
