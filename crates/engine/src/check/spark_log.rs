//! Spark's event log, as the spark checks read it: one file per
//! application, one JSON object a line (`datalab spark submit` turns off
//! compression and rolling). What each SQL execution (one action: a
//! `count()`, a `write`) did is gathered from the events logged between its
//! start and its end: its physical plans (the first one and every adaptive
//! re-plan), the cached blocks stored, the shuffle data written.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// One SQL execution: what Spark ran for one action.
#[derive(Debug, Default)]
pub(crate) struct Execution {
    pub id: i64,
    /// `count at …`, `csv at …`.
    pub description: String,
    /// The physical plan, then each adaptive update of it.
    pub plans: Vec<String>,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    /// Spark's error when the execution failed.
    pub error: Option<String>,
    /// `rdd_*` blocks (cached partitions) stored while it ran.
    pub cached_blocks: usize,
    pub shuffle_bytes_written: u64,
}

impl Execution {
    pub fn plan_mentions(&self, text: &str) -> bool {
        self.plans.iter().any(|p| p.contains(text))
    }

    /// The first plan line containing `text`, trimmed.
    pub fn plan_line(&self, text: &str) -> Option<String> {
        self.plans
            .iter()
            .flat_map(|p| p.lines())
            .find(|l| l.contains(text))
            .map(|l| l.trim().to_string())
    }

    pub fn seconds(&self) -> Option<f64> {
        self.end_ms.map(|e| (e - self.start_ms) as f64 / 1000.0)
    }

    /// The action's name: `count`, `csv`, `collect`.
    pub fn action(&self) -> &str {
        self.description.split(" at ").next().unwrap_or("")
    }
}

/// One application's log.
#[derive(Debug, Default)]
pub(crate) struct App {
    pub name: String,
    pub file: PathBuf,
    /// The application stopped (its last event was logged).
    pub ended: bool,
    pub executions: Vec<Execution>,
}

/// The newest application log in `dir` (by modification time).
pub(crate) fn newest_app(dir: &Path) -> Result<App, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let newest = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, p)| p)
        .ok_or_else(|| format!("{} is empty", dir.display()))?;
    let text =
        std::fs::read_to_string(&newest).map_err(|e| format!("{}: {e}", newest.display()))?;
    let mut app = parse(&text);
    app.file = newest;
    Ok(app)
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Read an application's events in order.
pub(crate) fn parse(text: &str) -> App {
    let mut app = App::default();
    // Executions running now, innermost last.
    let mut open: Vec<usize> = Vec::new();
    for line in text.lines() {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let event = str_of(&e, "Event");
        let kind = event.rsplit('.').next().unwrap_or("");
        match kind {
            "SparkListenerApplicationStart" => app.name = str_of(&e, "App Name"),
            "SparkListenerApplicationEnd" => app.ended = true,
            "SparkListenerSQLExecutionStart" => {
                app.executions.push(Execution {
                    id: e["executionId"].as_i64().unwrap_or(-1),
                    description: str_of(&e, "description"),
                    plans: vec![str_of(&e, "physicalPlanDescription")],
                    start_ms: e["time"].as_i64().unwrap_or(0),
                    ..Execution::default()
                });
                open.push(app.executions.len() - 1);
            }
            "SparkListenerSQLExecutionEnd" => end(&mut app, &mut open, &e),
            _ => {
                if let Some(&i) = open.last() {
                    observe(&mut app.executions[i], kind, &e);
                }
            }
        }
    }
    app
}

fn end(app: &mut App, open: &mut Vec<usize>, e: &Value) {
    let id = e["executionId"].as_i64().unwrap_or(-1);
    if let Some(pos) = open.iter().position(|&i| app.executions[i].id == id) {
        let x = &mut app.executions[open.remove(pos)];
        x.end_ms = e["time"].as_i64();
        let error = str_of(e, "errorMessage");
        x.error = (!error.is_empty()).then_some(error);
    }
}

/// An event logged while `x` ran.
fn observe(x: &mut Execution, kind: &str, e: &Value) {
    match kind {
        "SparkListenerSQLAdaptiveExecutionUpdate" => {
            x.plans.push(str_of(e, "physicalPlanDescription"));
        }
        "SparkListenerBlockUpdated" => {
            let b = &e["Block Updated Info"];
            let stored = b["Memory Size"].as_u64().unwrap_or(0) > 0
                || b["Disk Size"].as_u64().unwrap_or(0) > 0;
            if stored && str_of(b, "Block ID").starts_with("rdd_") {
                x.cached_blocks += 1;
            }
        }
        "SparkListenerTaskEnd" => {
            let w = &e["Task Metrics"]["Shuffle Write Metrics"]["Shuffle Bytes Written"];
            x.shuffle_bytes_written += w.as_u64().unwrap_or(0);
        }
        _ => {}
    }
}
