//! Labs: one folder each (`labs/<id>/`): `lab.yaml`, `starter/`, `solution/`,
//! `data/`. This module is the engine: it loads a lab, prepares a learner's
//! workspace, runs a step's command and its checks, and reports results. The
//! TUI, `check`, `grade` and the tests all go through [`run_step`].

mod model;
mod runner;

pub use model::{LabDef, Step};
pub use runner::{
    CheckResult, LabRun, ProcessGroup, RunOptions, StepResult, end_group, materialize_data,
    prepare_workspace, run_command, run_command_in_group, run_step, step_env,
};

use crate::course::Content;

/// A loaded lab: its id, definition and where its files come from.
#[derive(Clone, Debug)]
pub struct Lab {
    pub id: String,
    pub def: LabDef,
    pub content: Content,
}

impl Lab {
    /// The content-relative folder of this lab.
    pub fn dir(&self) -> String {
        format!("labs/{}", self.id)
    }

    pub fn step(&self, id_or_number: &str) -> Option<(usize, &Step)> {
        if let Ok(n) = id_or_number.parse::<usize>()
            && n >= 1
            && n <= self.def.steps.len()
        {
            return Some((n - 1, &self.def.steps[n - 1]));
        }
        self.def
            .steps
            .iter()
            .enumerate()
            .find(|(_, s)| s.id == id_or_number)
    }

    /// Kafka brokers the lab needs at most (3 for the replication step).
    pub fn max_brokers(&self) -> u32 {
        self.def
            .steps
            .iter()
            .map(|s| s.brokers.unwrap_or(1))
            .max()
            .unwrap_or(1)
    }
}
