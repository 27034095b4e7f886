//! CQL for the Cassandra lab: split a learner's `.cql` file into statements
//! (quotes and comments respected), put keyspaces in the learner's namespace,
//! run statements through the scylla driver with a timeout, and return rows
//! as strings. Two cqlsh shell commands are understood as well, because that
//! is what cqlsh users write: `CONSISTENCY <level>` and
//! `COPY ks.table (cols) FROM 'file.csv' [WITH HEADER = TRUE]`.
//!
//! Namespaces: a learner writes `iot`; datalab runs it as `<ns>_iot`. Every
//! keyspace name in a statement is rewritten: after `KEYSPACE` (with
//! `IF [NOT] EXISTS`), after `USE`, and before the `.` of a qualified
//! `keyspace.table`. System keyspaces (`system`, `system_*`) are left alone.

mod calendar;
mod copy;
mod run;
mod session;
mod split;

pub use calendar::{fmt_date, fmt_double, fmt_timestamp, parse_date, parse_timestamp};
pub use copy::{csv_fields, resolve_data_path};
pub use run::{FileRun, Runner};
pub use session::{execute, own_session, session};
pub use split::{Command, Stmt, parse_command, split};

use serde::Serialize;
use std::time::Duration;

/// A query's result: column names and rows of printable values (None = null).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Rows {
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }
    /// The `[applied]` value of a lightweight transaction's result.
    pub fn applied(&self) -> Option<bool> {
        let i = self.col("[applied]")?;
        Some(self.rows.first()?.get(i)?.as_deref() == Some("true"))
    }
}

/// Errors of the CQL client, worded for a learner.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CqlError {
    #[error("Cassandra did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach Cassandra at {address}: {reason}")]
    Connect { address: String, reason: String },
    /// The server answered and refused the login (wrong password, no login).
    #[error("Cassandra at {address} refused the login: {reason}")]
    Login { address: String, reason: String },
    /// The server's own error for a statement.
    #[error("{message}")]
    Server {
        message: String,
        /// CQL syntax error (nothing was run).
        syntax: bool,
    },
    #[error("{0}")]
    Other(String),
}
