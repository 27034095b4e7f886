//! The shape of `lab.yaml`.

use crate::check::CheckSpec;
use crate::services::ServiceKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabDef {
    pub title: String,
    /// Markdown shown before the first step.
    #[serde(default)]
    pub intro: Option<String>,
    /// Services the lab needs; started when the lab opens.
    #[serde(default)]
    pub services: Vec<ServiceKind>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Stable id (`topics`, `keys-and-ordering`); steps are also addressed by number.
    pub id: String,
    pub title: String,
    /// Markdown.
    pub instructions: String,
    /// Revealed one at a time.
    #[serde(default)]
    pub hints: Vec<String>,
    /// A shell command run from the workspace before the checks (any
    /// language). It sees `DATALAB_*` variables for endpoints, namespace and
    /// lab data, and `datalab` on its PATH. Processes it leaves running in
    /// the background are ended (SIGTERM, then SIGKILL 3 s later) when the
    /// step's checks are done.
    #[serde(default)]
    pub run: Option<String>,
    /// Seconds the command may take (default 60).
    #[serde(default)]
    pub timeout: Option<u64>,
    /// Kafka brokers this step needs (default 1).
    #[serde(default)]
    pub brokers: Option<u32>,
    /// The learner's files for this step, shown in the TUI and watched by
    /// `check --watch`.
    #[serde(default)]
    pub files: Vec<String>,
    pub checks: Vec<CheckSpec>,
}
