//! Quizzes whose answers can be guessed without reading them: the right
//! option at one position of the file in most single-answer questions, or
//! one truth value in most true/false statements. The quiz engine shows
//! options shuffled, but the file is what instructors print and share, and
//! no shuffle helps with true/false.

use crate::model::{AnswerValue, Question, QuestionKind};
use std::collections::BTreeMap;

/// When a set of questions is too lopsided to let pass.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Single-answer choice questions needed before positions are judged.
    pub(crate) min_single: usize,
    /// True/false statements needed before their balance is judged.
    pub(crate) min_statements: usize,
}

/// One quiz: a quiz of six statements may well be a fixed set (the opening
/// quiz is the slides' group task, five myths and one fact), so true/false
/// balance is judged from eight statements; over the whole course from six.
pub(crate) const PER_QUIZ: Limits = Limits {
    min_single: 4,
    min_statements: 8,
};
pub(crate) const COURSE: Limits = Limits {
    min_single: 4,
    min_statements: 6,
};

/// Each cluster found, as a message and the first question in it. A
/// cluster: more than half of the single-answer questions right at one
/// position, or more than 70% of the statements one truth value.
pub(crate) fn clusters<'q>(
    questions: &[&'q Question],
    limits: Limits,
) -> Vec<(String, &'q Question)> {
    let mut at_position: BTreeMap<usize, Vec<&Question>> = BTreeMap::new();
    let mut by_truth: BTreeMap<bool, Vec<&Question>> = BTreeMap::new();
    for &q in questions {
        if let Some(i) = single_answer_position(q) {
            at_position.entry(i).or_default().push(q);
        } else if let (QuestionKind::TrueFalse, AnswerValue::Bool(b)) = (q.kind, &q.answer.value) {
            by_truth.entry(*b).or_default().push(q);
        }
    }
    let mut found = Vec::new();
    let singles: usize = at_position.values().map(Vec::len).sum();
    if let Some((i, qs)) = largest(&at_position)
        && singles >= limits.min_single
        && qs.len() * 2 > singles
    {
        let message = format!(
            "the right answer is option {} in {} of {singles} single-answer questions; spread it over the positions",
            i + 1,
            qs.len()
        );
        found.push((message, qs[0]));
    }
    let statements: usize = by_truth.values().map(Vec::len).sum();
    if let Some((b, qs)) = largest(&by_truth)
        && statements >= limits.min_statements
        && qs.len() * 10 > statements * 7
    {
        let message = format!(
            "{} of {statements} true/false statements are {b}: answering {b} every time scores well; balance them",
            qs.len()
        );
        found.push((message, qs[0]));
    }
    found
}

/// Where the one right option sits in the file (choice questions with a
/// single answer).
fn single_answer_position(q: &Question) -> Option<usize> {
    if q.kind != QuestionKind::Choice {
        return None;
    }
    let answer = match &q.answer.value {
        AnswerValue::Text(t) => t,
        AnswerValue::List(l) if l.len() == 1 => &l[0],
        _ => return None,
    };
    q.options.iter().position(|o| o == answer)
}

/// The biggest group (the first of equals).
fn largest<K: Copy, V>(groups: &BTreeMap<K, Vec<V>>) -> Option<(K, &Vec<V>)> {
    groups
        .iter()
        .rev()
        .max_by_key(|(_, v)| v.len())
        .map(|(k, v)| (*k, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Quiz;

    /// A quiz of single-answer questions right at these positions, then
    /// statements with these truth values.
    fn quiz(positions: &[usize], truths: &[bool]) -> Quiz {
        let mut yaml = String::from("title: T\nquestions:\n");
        for (n, p) in positions.iter().enumerate() {
            let answer = ["a", "b", "c"][*p];
            yaml += &format!(
                "  - {{ id: c{n}, kind: choice, prompt: P, options: [a, b, c], answer: {answer}, explanation: E }}\n"
            );
        }
        for (n, t) in truths.iter().enumerate() {
            yaml += &format!(
                "  - {{ id: t{n}, kind: true_false, prompt: P, answer: {t}, explanation: E }}\n"
            );
        }
        serde_saphyr::from_str(&yaml).expect("quiz")
    }

    fn messages(q: &Quiz, limits: Limits) -> Vec<String> {
        let qs: Vec<&Question> = q.questions.iter().collect();
        clusters(&qs, limits).into_iter().map(|(m, _)| m).collect()
    }

    #[test]
    fn half_at_one_position_or_too_few_questions_pass() {
        assert!(messages(&quiz(&[0, 0, 1, 2], &[]), PER_QUIZ).is_empty());
        assert!(messages(&quiz(&[0, 0, 0], &[]), PER_QUIZ).is_empty());
        let m = messages(&quiz(&[2, 2, 2, 0], &[]), PER_QUIZ);
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with("the right answer is option 3 in 3 of 4"),
            "{m:?}"
        );
    }

    #[test]
    fn true_false_over_70_percent_warns_from_enough_statements() {
        let six = [false, false, false, false, false, true];
        assert!(messages(&quiz(&[], &six), PER_QUIZ).is_empty());
        assert_eq!(messages(&quiz(&[], &six), COURSE).len(), 1);
        let seven_of_ten = [
            true, true, true, true, true, true, true, false, false, false,
        ];
        assert!(messages(&quiz(&[], &seven_of_ten), PER_QUIZ).is_empty());
        let m = messages(&quiz(&[], &[true; 8]), PER_QUIZ);
        assert_eq!(
            m,
            [
                "8 of 8 true/false statements are true: answering true every time scores well; balance them"
            ]
        );
    }
}
