//! The grade book after the workshop: per learner, units done, quiz scores,
//! lab steps passed and time spent, as CSV (RFC 4180) or JSON.

use crate::model::{IDLE_CAP_MS, RoomModel};
use crate::sanitize::{json_terminal_safe, sanitize_name};
use crate::view::{QuizScore, quiz_scores, steps_passed};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<ExportFormat, String> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            other => Err(format!("unknown export format {other:?} (csv or json)")),
        }
    }
}

/// One learner's line in the grade book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeRow {
    pub learner: u64,
    /// As the learner typed it (JSON) / escaped for display (CSV).
    pub name: String,
    pub joined_ms: i64,
    pub units_done: Vec<String>,
    pub quiz_scores: Vec<QuizScore>,
    pub steps_passed: Vec<String>,
    /// Sum of the gaps between the learner's events, each capped at 5 min.
    pub time_spent_secs: i64,
    pub events: u64,
    pub last_activity_ms: Option<i64>,
}

impl RoomModel {
    /// The grade book, in join order.
    pub fn gradebook(&self) -> Vec<GradeRow> {
        self.learners
            .values()
            .map(|l| GradeRow {
                learner: l.id,
                name: l.name.clone(),
                joined_ms: l.joined_ms,
                units_done: l.units_done.iter().cloned().collect(),
                quiz_scores: quiz_scores(l),
                steps_passed: steps_passed(l),
                time_spent_secs: l.active_ms / 1000,
                events: l.events,
                last_activity_ms: l.last_ms,
            })
            .collect()
    }
}

/// The grade book in the chosen format.
pub fn render(rows: &[GradeRow], format: ExportFormat) -> String {
    match format {
        ExportFormat::Csv => to_csv(rows),
        ExportFormat::Json => to_json(rows),
    }
}

/// JSON array of `GradeRow`; names raw, with every control character
/// escaped so the file is also safe to `cat`.
pub fn to_json(rows: &[GradeRow]) -> String {
    let json = serde_json::to_string_pretty(rows).unwrap_or_else(|_| "[]".into());
    json_terminal_safe(&json) + "\n"
}

const CSV_HEADER: &str =
    "learner,name,units_done,units,quiz_scores,steps_passed,steps,time_spent_min,events";

/// CSV with a header, CRLF line ends, fields quoted per RFC 4180. Names are
/// display-escaped and cells that a spreadsheet would run as a formula
/// are prefixed with `'`.
pub fn to_csv(rows: &[GradeRow]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for r in rows {
        let quizzes: Vec<String> = r
            .quiz_scores
            .iter()
            .map(|q| format!("{} {}/{}", q.quiz, q.right, q.answered))
            .collect();
        let fields = [
            r.learner.to_string(),
            sanitize_name(&r.name),
            r.units_done.len().to_string(),
            sanitize_name(&r.units_done.join(";")),
            quizzes.join(";"),
            r.steps_passed.len().to_string(),
            r.steps_passed.join(";"),
            format!("{:.1}", r.time_spent_secs as f64 / 60.0),
            r.events.to_string(),
        ];
        let cells: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Document the time-spent rule next to the number it explains.
pub const TIME_SPENT_RULE: &str =
    "time spent = sum of the gaps between a learner's events, each gap capped at 5 minutes";

const _: () = assert!(IDLE_CAP_MS == 5 * 60 * 1000);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_guards() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-3"), "-3");
    }
}
