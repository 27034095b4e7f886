//! What the exactly-once pipeline check reports while it runs, one JSON
//! object a line, to the file named by [`EVENTS_ENV`] in the run's
//! environment (a lab panel names it to follow the check live).

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;

/// The environment variable naming the events file.
pub const EVENTS_ENV: &str = "DATALAB_KAFKA_PIPELINE_EVENTS";

/// One thing that happened. `scored` is what the group has committed on the
/// input (orders done for good); `alerts` the records in the output's log,
/// transactions still open or aborted included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Run 1 (the first start) or 2 (the restart after the kill).
    Started {
        run: u32,
        orders: i64,
        expected_alerts: usize,
    },
    Progress {
        run: u32,
        scored: i64,
        alerts: i64,
    },
    /// SIGKILL sent to the program's process group.
    Killed {
        scored: i64,
        alerts: i64,
    },
    /// The verdict.
    Done {
        passed: bool,
        message: String,
    },
}

/// Appends events to the file, if the run names one; a write that fails is
/// dropped (the check does not depend on it).
pub(crate) struct Sink(Option<PathBuf>);

impl Sink {
    pub(crate) fn from_env(env: &[(String, String)]) -> Sink {
        Sink(
            env.iter()
                .rev()
                .find(|(k, _)| k == EVENTS_ENV)
                .map(|(_, v)| PathBuf::from(v)),
        )
    }

    pub(crate) fn send(&self, e: &Event) {
        let Some(p) = &self.0 else { return };
        let Ok(line) = serde_json::to_string(e) else {
            return;
        };
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}
