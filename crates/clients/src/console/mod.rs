//! The consoles, one per query language: Kafka's words (`topics`,
//! `produce`, …), MongoDB's requests (`find COLL {filter} --limit 5`, …) and
//! CQL. Each has ONE grammar and ONE `execute`, used by both its CLI
//! subcommand (`datalab kafka|mongo|cql …`) and its TUI panel:
//!
//! - the grammar is a clap type; the CLI gets it from its argv, a panel from
//!   a typed line ([`line`] splits it into words and runs the same clap
//!   parser), and CQL's is its statement text ([`cql::parse`]);
//! - `execute` runs it against the server into an [`Output`] (tables,
//!   lines, notes), or a [`Failure`]: a bad request ([`Bad`]: the CLI prints
//!   its message, a panel says `1:col: message` and keeps the line) or the
//!   server's refusal.
//!
//! Nothing in here prints or draws.

pub mod cql;
pub mod kafka;
pub mod line;
pub mod mongo;
mod table;

pub use line::{LineError, Word, words};
pub use table::{Table, plural, text_table, truncate};

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

/// What a command printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Results as tables: a panel shows the last, the CLI prints each.
    pub tables: Vec<Table>,
    /// Text for stdout (JSON, `created index x_1`, a Kafka table as text).
    pub lines: Vec<String>,
    /// For stderr: counts, what was committed.
    pub notes: Vec<String>,
}

impl From<Table> for Output {
    fn from(t: Table) -> Output {
        Output {
            tables: vec![t],
            ..Output::default()
        }
    }
}

impl Output {
    pub(crate) fn line(&mut self, s: impl Into<String>) {
        self.lines.push(s.into());
    }

    pub(crate) fn json(&mut self, v: &impl serde::Serialize) {
        let text = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into());
        self.lines.extend(text.lines().map(str::to_string));
    }

    /// What the CLI prints on stdout: each table as text with its summary
    /// in parentheses under it, then the lines.
    pub fn stdout(&self) -> String {
        let mut out = String::new();
        for t in &self.tables {
            if !t.columns.is_empty() {
                out += &text_table(&t.columns, &t.rows);
                out += &format!("({})\n", t.summary);
            }
        }
        for l in &self.lines {
            out += l;
            out.push('\n');
        }
        out
    }
}

/// A request that cannot run as written, and where the fault is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bad {
    pub message: String,
    /// The column in the typed line, when the line's parser knows it.
    pub col: Option<usize>,
    /// The word at fault, as typed (a panel finds its column).
    pub word: Option<String>,
    /// Where inside that word (line, column; 1-based): inline JSON.
    pub pos: Option<(usize, usize)>,
    /// How the CLI names the word in front of `pos` (`<query>`).
    pub label: Option<String>,
}

impl Bad {
    pub(crate) fn new(message: impl Into<String>) -> Bad {
        Bad {
            message: message.into(),
            ..Bad::default()
        }
    }

    pub(crate) fn at_col(col: usize, message: impl Into<String>) -> Bad {
        Bad {
            col: Some(col),
            ..Bad::new(message)
        }
    }

    pub(crate) fn in_word(word: &str, message: impl Into<String>) -> Bad {
        Bad {
            word: Some(word.to_string()),
            ..Bad::new(message)
        }
    }

    /// The fault in a typed line: `1:col: message`, the column of the word
    /// at fault (its first occurrence), else 1.
    pub fn in_line(&self, words: &[Word]) -> LineError {
        let col = self.col.or_else(|| {
            let w = self.word.as_ref()?;
            let found = words.iter().find(|x| &x.text == w)?;
            Some(match self.pos {
                Some((1, c)) => found.col + c.saturating_sub(1),
                _ => found.col,
            })
        });
        LineError {
            col: col.unwrap_or(1),
            message: self.message.clone(),
        }
    }
}

/// What the CLI prints: the message, after `label:line:col:` when the
/// fault is inside a labelled word (`<query>:1:15: trailing comma`).
impl std::fmt::Display for Bad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.label, self.pos) {
            (Some(l), Some((line, col))) => write!(f, "{l}:{line}:{col}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Why a command did not give an [`Output`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The request is wrong; nothing ran (exit 2 in the CLI).
    Usage(Bad),
    /// Not an error: `--help` asked for this text and nothing ran.
    Help(Vec<String>),
    /// The server refused or did not answer (exit 1), in its words.
    Service(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(b) => b.fmt(f),
            Failure::Help(lines) => f.write_str(&lines.join("\n")),
            Failure::Service(m) => f.write_str(m),
        }
    }
}

/// Where a command runs: relative `--file` paths are taken from `cwd`;
/// `stdin` is the text a command without inline input reads (the CLI reads
/// its stdin; a panel has none); `stop` ends a long command early;
/// `joined` is where a group consumer started with `--detach` tells the
/// command that started it which partitions it got (the CLI only).
#[derive(Clone, Debug, Default)]
pub struct Io {
    pub cwd: PathBuf,
    pub stdin: Option<String>,
    pub stop: Option<Arc<AtomicBool>>,
    pub joined: Option<Arc<OnceLock<Vec<i32>>>>,
}
