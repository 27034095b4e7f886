//! The shape of the content files. Every struct denies unknown fields so a
//! typo in an instructor's edit is reported with its line and column.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// `course.yaml`: the agenda.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CourseDef {
    pub title: String,
    #[serde(default)]
    pub(crate) subtitle: Option<String>,
    pub(crate) days: Vec<DayDef>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DayDef {
    pub id: Spanned<String>,
    pub title: String,
    pub(crate) sessions: Vec<SessionDef>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionDef {
    pub id: Spanned<String>,
    pub title: String,
    /// Planned duration.
    pub minutes: u32,
    pub(crate) units: Vec<UnitRef>,
}

/// A unit of a session, pointing at a content file by kind and id.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnitRef {
    pub kind: UnitKind,
    pub id: Spanned<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Lesson,
    Quiz,
    Comparison,
    Activity,
    Lab,
}

impl UnitKind {
    pub fn name(self) -> &'static str {
        match self {
            UnitKind::Lesson => "lesson",
            UnitKind::Quiz => "quiz",
            UnitKind::Comparison => "comparison",
            UnitKind::Activity => "activity",
            UnitKind::Lab => "lab",
        }
    }

    /// The content-relative file that holds a unit of this kind.
    pub(crate) fn path(self, id: &str) -> String {
        match self {
            UnitKind::Lesson => format!("lessons/{id}.md"),
            UnitKind::Quiz => format!("quizzes/{id}.yaml"),
            UnitKind::Comparison => format!("lessons/comparisons/{id}.yaml"),
            UnitKind::Activity => format!("lessons/activities/{id}.yaml"),
            UnitKind::Lab => format!("labs/{id}/lab.yaml"),
        }
    }
}

/// A lesson: Markdown whose first line is `# Title`.
#[derive(Clone, Debug)]
pub struct Lesson {
    pub title: String,
    pub markdown: String,
}

/// `quizzes/<id>.yaml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    pub title: String,
    #[serde(default)]
    pub intro: Option<String>,
    pub questions: Vec<Question>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    TrueFalse,
    Choice,
    Numeric,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: Spanned<String>,
    pub kind: QuestionKind,
    pub prompt: String,
    /// Choice questions only.
    #[serde(default)]
    pub options: Vec<String>,
    pub answer: Spanned<AnswerValue>,
    /// Numeric: accepted when `|given - answer| <= tolerance`.
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// Numeric: accepted within a factor of about 3 (half an order of
    /// magnitude either way: `|log10 given - log10 answer| <= 0.5`).
    #[serde(default)]
    pub magnitude: Option<bool>,
    #[serde(default)]
    pub unit: Option<String>,
    pub explanation: String,
}

/// A question's right answer as written: `true`, `7`, `"text"` or a list.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum AnswerValue {
    Bool(bool),
    Number(f64),
    Text(String),
    List(Vec<String>),
}

/// `lessons/comparisons/<id>.yaml`: options × criteria, and verdicts.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    pub title: String,
    #[serde(default)]
    pub intro: Option<String>,
    pub options: Vec<ComparisonOption>,
    pub criteria: Vec<Criterion>,
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonOption {
    pub id: Spanned<String>,
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub name: Spanned<String>,
    pub values: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub verdict: Spanned<String>,
    pub why: String,
}

/// `lessons/activities/<id>.yaml`: a timed group exercise.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    pub title: String,
    pub summary: String,
    pub phases: Vec<Phase>,
    #[serde(default)]
    pub notes_prompt: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub title: String,
    pub minutes: Spanned<u32>,
    pub instructions: String,
}
