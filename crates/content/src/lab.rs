//! Labs: one folder each (`labs/<id>/`): `lab.yaml`, `starter/`, `solution/`,
//! `data/`. The shape of `lab.yaml` and a loaded lab.

use crate::checks::CheckSpec;
use crate::{Content, ServiceKind};
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
    /// Nodes of a clustered service other than Kafka this step needs
    /// (Cassandra: 3 for the node-failure step; default 1).
    #[serde(default)]
    pub nodes: Option<u32>,
    /// The learner's files for this step, shown in the TUI and watched by
    /// `check --watch`.
    #[serde(default)]
    pub files: Vec<String>,
    pub checks: Vec<CheckSpec>,
}

/// A loaded lab: its id, definition and where its files come from.
#[derive(Clone, Debug)]
pub struct Lab {
    pub id: String,
    pub def: LabDef,
    pub content: Content,
}

impl Step {
    /// Nodes of `kind` this step runs on: `brokers` for Kafka, `nodes` for
    /// the other kinds (1 when unset).
    pub fn nodes_of(&self, kind: ServiceKind) -> u32 {
        let n = if kind == ServiceKind::Kafka {
            self.brokers
        } else {
            self.nodes
        };
        n.unwrap_or(1).max(1)
    }
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
