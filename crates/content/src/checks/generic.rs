//! Parameters of the generic check kinds.

use serde::{Deserialize, Serialize};

/// `file_exists: { path: totals.json }`: a file is in the workspace and is
/// not empty.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileExists {
    pub path: String,
}

/// Formats a file can be checked to parse as.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    /// One JSON value a line.
    Jsonl,
    Yaml,
}

/// `file_parses: { path: totals.json, format: json }`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileParses {
    pub path: String,
    pub format: Format,
}

/// `command_output: { contains: "3 partitions", exit_code: 0 }`: looks at
/// what the step's `run` command printed (stdout and stderr).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CommandOutputCheck {
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub contains: Option<String>,
    /// A regular expression the output must match.
    #[serde(default)]
    pub matches: Option<String>,
}

/// `answer: { path: answers.yaml, key: lag, one_of: ["40"] }`: a learner's
/// answer file. With `key`, the file is YAML or JSON and the value under that
/// key is compared; without, the whole file's trimmed text is. Comparison is
/// case-insensitive. `number` with `tolerance` compares numerically.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub path: String,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub one_of: Vec<String>,
    #[serde(default)]
    pub number: Option<f64>,
    #[serde(default)]
    pub tolerance: Option<f64>,
}
