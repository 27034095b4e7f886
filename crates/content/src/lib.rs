//! The course: its content model, loading and linting. Content is data
//! (Markdown + YAML) read through [`Content`], embedded or from a folder.

mod balance;
pub mod checks;
mod kind;
pub mod lab;
mod lint;
pub(crate) mod model;
mod source;

pub use kind::ServiceKind;
pub use lab::{Lab, LabDef, Step};
pub use lint::{Diagnostic, Severity, lint};
pub use model::*;
pub use source::Content;

use serde::Serialize;
use std::collections::BTreeMap;

/// One unit of the agenda, resolved: its kind, id, title and place.
#[derive(Clone, Debug, Serialize)]
pub struct Unit {
    pub id: String,
    pub kind: UnitKind,
    pub title: String,
    pub day: usize,
    pub session: usize,
}

/// A session of the agenda, resolved.
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    pub id: String,
    pub title: String,
    pub minutes: u32,
    /// Indexes into [`Course::units`].
    pub units: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Day {
    pub id: String,
    pub title: String,
    pub sessions: Vec<Session>,
}

/// The whole loaded course.
#[derive(Clone, Debug)]
pub struct Course {
    pub title: String,
    pub subtitle: Option<String>,
    pub days: Vec<Day>,
    /// Every unit in agenda order.
    pub units: Vec<Unit>,
    pub lessons: BTreeMap<String, Lesson>,
    pub quizzes: BTreeMap<String, Quiz>,
    pub comparisons: BTreeMap<String, Comparison>,
    pub activities: BTreeMap<String, Activity>,
    pub labs: BTreeMap<String, Lab>,
}

/// Why the course could not be loaded: every problem found, each with
/// `path:line:col`.
#[derive(Debug)]
pub struct LoadError(pub Vec<Diagnostic>);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in self.0.iter().filter(|d| d.severity == Severity::Error) {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

impl Course {
    /// Load and validate the whole course. Fails with every error found.
    pub fn load(content: Content) -> Result<Course, LoadError> {
        let (course, diags) = lint::load_all(content);
        match course {
            Some(c) if !diags.iter().any(|d| d.severity == Severity::Error) => Ok(c),
            _ => Err(LoadError(diags)),
        }
    }

    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.id == id)
    }

    pub fn unit_index(&self, id: &str) -> Option<usize> {
        self.units.iter().position(|u| u.id == id)
    }

    pub fn lab(&self, id: &str) -> Option<&Lab> {
        self.labs.get(id)
    }

    /// The outline as JSON: `{"days": [...]}` with sessions and units, each
    /// carrying `id`, `kind` and `title`.
    pub fn outline_json(&self) -> serde_json::Value {
        use serde_json::json;
        json!({
            "title": self.title,
            "days": self.days.iter().map(|d| json!({
                "id": d.id,
                "kind": "day",
                "title": d.title,
                "sessions": d.sessions.iter().map(|s| json!({
                    "id": s.id,
                    "kind": "session",
                    "title": s.title,
                    "minutes": s.minutes,
                    "units": s.units.iter().map(|&i| {
                        let u = &self.units[i];
                        json!({"id": u.id, "kind": u.kind.name(), "title": u.title})
                    }).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// Parse a lab definition (used by the loader and by tools that load one lab).
pub fn parse_lab(content: &Content, id: &str) -> Result<LabDef, Vec<Diagnostic>> {
    let rel = UnitKind::Lab.path(id);
    lint::parse_yaml::<LabDef>(content, &rel)
}
