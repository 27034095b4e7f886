//! Labs: one folder each (`labs/<id>/`): `lab.yaml`, `starter/`, `solution/`,
//! `data/`. This module is the engine: it loads a lab, prepares a learner's
//! workspace, runs a step's command and its checks, and reports results. The
//! TUI, `check`, `grade` and the tests all go through [`run_step`].

mod runner;

pub(crate) use runner::spawn_in_group;
pub use runner::{
    CheckResult, LabRun, ProcessGroup, RunOptions, StepResult, end_group, kafka_env,
    materialize_data, prepare_workspace, run_command, run_command_in_group, run_step, step_env,
};
