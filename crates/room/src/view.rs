//! The instructor's view as plain data: one row per learner (stuck ones
//! first), a per-learner detail, and per-unit finished counts. Every text
//! that came from a learner is already escaped for display here.

use crate::model::{LearnerState, RoomModel};
use crate::sanitize::sanitize_name;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewOptions {
    /// A step failing for longer than this marks the learner stuck.
    pub stuck_after: Duration,
    /// This many hints on a step that still fails marks the learner stuck.
    pub stuck_hints: usize,
    /// Case-insensitive substring of the name; empty shows everyone.
    pub filter: String,
}

impl Default for ViewOptions {
    fn default() -> ViewOptions {
        ViewOptions {
            stuck_after: Duration::from_secs(600),
            stuck_hints: 3,
            filter: String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Stuck {
    /// The step has been failing for this long.
    Failing { for_ms: i64 },
    /// This many hints revealed and the step still fails.
    Hints { hints: usize },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub learner: u64,
    /// Escaped for display.
    pub name: String,
    pub unit: Option<String>,
    pub lab: Option<String>,
    pub step: Option<String>,
    pub checks_passing: usize,
    pub checks_total: usize,
    /// Time since the learner reached the current step.
    pub on_step_ms: Option<i64>,
    /// Unix ms of the learner's latest event.
    pub last_activity_ms: Option<i64>,
    pub units_done: usize,
    pub stuck: Option<Stuck>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCount {
    pub lab: String,
    pub step: String,
    pub passed: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCount {
    pub unit: String,
    pub finished: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomView {
    pub now_ms: i64,
    /// Learners in the room (before filtering).
    pub learners: usize,
    pub stuck: usize,
    pub rows: Vec<Row>,
    /// Units anyone finished, by id; the caller orders them by the agenda.
    pub units: Vec<UnitCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckLine {
    pub at_ms: i64,
    pub lab: String,
    pub step: String,
    pub check_id: String,
    pub passed: bool,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HintLine {
    pub at_ms: i64,
    pub lab: String,
    pub step: String,
    pub hint: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizScore {
    pub quiz: String,
    pub right: usize,
    pub answered: usize,
}

/// What Enter on a learner shows; newest entries last, text escaped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    pub row: Row,
    pub recent_checks: Vec<CheckLine>,
    pub hints: Vec<HintLine>,
    pub hints_total: usize,
    pub quizzes: Vec<QuizScore>,
    pub units_done: Vec<String>,
    pub steps_passed: Vec<String>,
    pub notes: usize,
}

impl RoomModel {
    /// The rows, stuck learners first (longest stuck first), then by name.
    pub fn view(&self, now_ms: i64, opts: &ViewOptions) -> RoomView {
        let all: Vec<Row> = self
            .learners
            .values()
            .map(|l| row(l, now_ms, opts))
            .collect();
        let learners = all.len();
        let stuck = all.iter().filter(|r| r.stuck.is_some()).count();
        let needle = opts.filter.to_lowercase();
        let mut rows: Vec<Row> = all
            .into_iter()
            .filter(|r| needle.is_empty() || r.name.to_lowercase().contains(&needle))
            .collect();
        rows.sort_by_cached_key(|r| {
            (
                r.stuck.is_none(),
                -stuck_weight(&r.stuck),
                r.name.to_lowercase(),
                r.learner,
            )
        });
        RoomView {
            now_ms,
            learners,
            stuck,
            rows,
            units: self.unit_counts(),
        }
    }

    /// How many learners finished each unit.
    pub fn unit_counts(&self) -> Vec<UnitCount> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for l in self.learners.values() {
            for u in &l.units_done {
                *counts.entry(u).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .map(|(unit, finished)| UnitCount {
                unit: sanitize_name(unit),
                finished,
            })
            .collect()
    }

    /// Per lab step, how many learners passed it (lab, then step order).
    pub fn step_counts(&self) -> Vec<StepCount> {
        let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for l in self.learners.values() {
            for (lab, step) in &l.steps_passed {
                *counts.entry((lab, step)).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .map(|((lab, step), passed)| StepCount {
                lab: sanitize_name(lab),
                step: sanitize_name(step),
                passed,
            })
            .collect()
    }

    /// One learner's detail, or None for an unknown id.
    pub fn detail(&self, learner: u64, now_ms: i64, opts: &ViewOptions) -> Option<Detail> {
        let l = self.learners.get(&learner)?;
        Some(Detail {
            row: row(l, now_ms, opts),
            recent_checks: l.recent_checks.iter().map(check_line).collect(),
            hints: l.hints.iter().map(hint_line).collect(),
            hints_total: l.hints_total,
            quizzes: quiz_scores(l),
            units_done: l.units_done.iter().map(|u| sanitize_name(u)).collect(),
            steps_passed: steps_passed(l),
            notes: l.notes,
        })
    }
}

fn stuck_weight(s: &Option<Stuck>) -> i64 {
    match s {
        Some(Stuck::Failing { for_ms }) => *for_ms,
        Some(Stuck::Hints { .. }) => 0,
        None => 0,
    }
}

fn row(l: &LearnerState, now_ms: i64, opts: &ViewOptions) -> Row {
    let step = l.step.as_ref();
    let passing = step.map_or(0, |s| s.checks.values().filter(|ok| **ok).count());
    Row {
        learner: l.id,
        name: sanitize_name(&l.name),
        unit: l.current_unit.as_deref().map(sanitize_name),
        lab: step.map(|s| sanitize_name(&s.lab)),
        step: step.map(|s| sanitize_name(&s.step)),
        checks_passing: passing,
        checks_total: step.map_or(0, |s| s.checks.len()),
        on_step_ms: step.map(|s| (now_ms - s.since_ms).max(0)),
        last_activity_ms: l.last_ms,
        units_done: l.units_done.len(),
        stuck: stuck(l, now_ms, opts),
    }
}

/// Stuck: the current step fails and has failed for over `stuck_after`,
/// or the learner revealed `stuck_hints` hints on it and it still fails.
fn stuck(l: &LearnerState, now_ms: i64, opts: &ViewOptions) -> Option<Stuck> {
    let step = l.step.as_ref()?;
    let since = step.failing_since?;
    let for_ms = (now_ms - since).max(0);
    if for_ms as u128 >= opts.stuck_after.as_millis() {
        Some(Stuck::Failing { for_ms })
    } else if step.hints >= opts.stuck_hints.max(1) {
        Some(Stuck::Hints { hints: step.hints })
    } else {
        None
    }
}

pub(crate) fn quiz_scores(l: &LearnerState) -> Vec<QuizScore> {
    l.quizzes
        .iter()
        .map(|(quiz, answers)| QuizScore {
            quiz: sanitize_name(quiz),
            right: answers.values().filter(|ok| **ok).count(),
            answered: answers.len(),
        })
        .collect()
}

pub(crate) fn steps_passed(l: &LearnerState) -> Vec<String> {
    l.steps_passed
        .iter()
        .map(|(lab, step)| sanitize_name(&format!("{lab}/{step}")))
        .collect()
}

fn check_line(c: &crate::model::CheckLine) -> CheckLine {
    CheckLine {
        at_ms: c.at_ms,
        lab: sanitize_name(&c.lab),
        step: sanitize_name(&c.step),
        check_id: sanitize_name(&c.check_id),
        passed: c.passed,
        message: sanitize_name(&c.message),
    }
}

fn hint_line(h: &crate::model::HintLine) -> HintLine {
    HintLine {
        at_ms: h.at_ms,
        lab: sanitize_name(&h.lab),
        step: sanitize_name(&h.step),
        hint: sanitize_name(&h.hint),
    }
}
