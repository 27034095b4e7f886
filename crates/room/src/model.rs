//! The room as the instructor sees it, folded from the stored events: per
//! learner, where they are and what they did. Pure data; `RoomModel::refresh`
//! reads only what was stored since the last call, so a view refreshed every
//! second costs a few rows, not the whole history.

use crate::protocol::Event;
use crate::store::{LearnerRow, Store, StoreError, StoredEvent};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Gaps longer than this between two events count as a break, not as
/// time spent (time spent = sum of gaps, each capped at this).
pub const IDLE_CAP_MS: i64 = 5 * 60 * 1000;
/// Check messages and hints kept per learner for the detail screen.
const RECENT: usize = 20;

/// One check result as shown in the detail screen (message raw).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CheckLine {
    pub at_ms: i64,
    pub lab: String,
    pub step: String,
    pub check_id: String,
    pub passed: bool,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HintLine {
    pub at_ms: i64,
    pub lab: String,
    pub step: String,
    pub hint: String,
}

/// The lab step a learner is on now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StepState {
    pub lab: String,
    pub step: String,
    pub since_ms: i64,
    /// Latest result of each check seen on this step.
    pub checks: BTreeMap<String, bool>,
    /// Since when the step has been failing (None: passing or unchecked).
    pub failing_since: Option<i64>,
    pub hints: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LearnerState {
    pub id: u64,
    pub name: String,
    pub joined_ms: i64,
    pub current_unit: Option<String>,
    pub units_done: BTreeSet<String>,
    /// quiz -> question -> last answer right?
    pub quizzes: BTreeMap<String, BTreeMap<String, bool>>,
    pub step: Option<StepState>,
    pub steps_passed: BTreeSet<(String, String)>,
    pub recent_checks: VecDeque<CheckLine>,
    pub hints: VecDeque<HintLine>,
    pub hints_total: usize,
    pub notes: usize,
    pub last_ms: Option<i64>,
    pub active_ms: i64,
    pub events: u64,
}

/// Every learner's folded state.
#[derive(Clone, Debug, Default)]
pub struct RoomModel {
    pub(crate) learners: BTreeMap<u64, LearnerState>,
    last_event_id: i64,
}

impl RoomModel {
    pub fn new() -> RoomModel {
        RoomModel::default()
    }

    /// The whole room from the store.
    pub fn load(store: &Store) -> Result<RoomModel, StoreError> {
        let mut model = RoomModel::new();
        model.refresh(store)?;
        Ok(model)
    }

    /// Take in learners and events stored since the last call; returns how
    /// many events were new.
    pub fn refresh(&mut self, store: &Store) -> Result<usize, StoreError> {
        for row in store.learners()? {
            self.add_learner(&row);
        }
        let mut n = 0;
        loop {
            let batch = store.events_since(self.last_event_id, 5000)?;
            if batch.is_empty() {
                return Ok(n);
            }
            n += batch.len();
            for ev in &batch {
                self.apply(ev);
            }
        }
    }

    pub fn add_learner(&mut self, row: &LearnerRow) {
        self.learners.entry(row.id).or_insert_with(|| LearnerState {
            id: row.id,
            name: row.name.clone(),
            joined_ms: row.joined_ms,
            ..LearnerState::default()
        });
    }

    /// Fold one stored event in. Event times are the learner's clock,
    /// clamped to the arrival time (a clock running ahead cannot make
    /// a learner look active in the future).
    pub fn apply(&mut self, ev: &StoredEvent) {
        self.last_event_id = self.last_event_id.max(ev.id);
        let learner = self
            .learners
            .entry(ev.learner)
            .or_insert_with(|| LearnerState {
                id: ev.learner,
                name: format!("learner {}", ev.learner),
                ..LearnerState::default()
            });
        learner.apply(ev.at_ms.min(ev.received_ms), &ev.event);
    }

    pub fn learner_count(&self) -> usize {
        self.learners.len()
    }
}

impl LearnerState {
    fn apply(&mut self, at: i64, event: &Event) {
        self.events += 1;
        if let Some(last) = self.last_ms {
            self.active_ms += (at - last).clamp(0, IDLE_CAP_MS);
        }
        self.last_ms = Some(self.last_ms.map_or(at, |l| l.max(at)));
        match event {
            Event::UnitOpened { unit } => self.current_unit = Some(unit.clone()),
            Event::UnitDone { unit } => {
                self.units_done.insert(unit.clone());
            }
            Event::QuizAnswer {
                quiz,
                question,
                correct,
                ..
            } => {
                let q = self.quizzes.entry(quiz.clone()).or_default();
                q.insert(question.clone(), *correct);
            }
            Event::CheckResult { .. } => self.apply_check(at, event),
            Event::HintRevealed { lab, step, hint } => {
                self.enter_step(lab, step, at).hints += 1;
                self.hints_total += 1;
                push_bounded(
                    &mut self.hints,
                    HintLine {
                        at_ms: at,
                        lab: lab.clone(),
                        step: step.clone(),
                        hint: hint.clone(),
                    },
                );
            }
            Event::NoteSaved { .. } => self.notes += 1,
        }
    }

    fn apply_check(&mut self, at: i64, event: &Event) {
        let Event::CheckResult {
            lab,
            step,
            check_id,
            passed,
            message,
        } = event
        else {
            return;
        };
        let state = self.enter_step(lab, step, at);
        state.checks.insert(check_id.clone(), *passed);
        let failing = state.checks.values().any(|ok| !ok);
        if !failing {
            state.failing_since = None;
            self.steps_passed.insert((lab.clone(), step.clone()));
        } else if state.failing_since.is_none() {
            state.failing_since = Some(at);
        }
        push_bounded(
            &mut self.recent_checks,
            CheckLine {
                at_ms: at,
                lab: lab.clone(),
                step: step.clone(),
                check_id: check_id.clone(),
                passed: *passed,
                message: message.clone(),
            },
        );
    }

    /// The learner's current step, switching to (lab, step) if it differs.
    fn enter_step(&mut self, lab: &str, step: &str, at: i64) -> &mut StepState {
        if !matches!(&self.step, Some(s) if s.lab == lab && s.step == step) {
            self.step = None;
        }
        self.step.get_or_insert_with(|| StepState {
            lab: lab.to_string(),
            step: step.to_string(),
            since_ms: at,
            ..StepState::default()
        })
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, item: T) {
    if q.len() == RECENT {
        q.pop_front();
    }
    q.push_back(item);
}
