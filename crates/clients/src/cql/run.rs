//! The runner: statements and cqlsh commands in the learner's namespace,
//! one at a time or a whole file (checked for syntax before any runs).

use super::session::{execute, parse_consistency, syntax_check};
use super::split::{Command, Stmt, is_schema_change, parse_command, rewrite_keyspaces};
use super::{CqlError, Rows};
use crate::Namespace;
use scylla::client::session::Session;
use scylla::statement::Consistency;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The least time a schema change is given (see [`Runner::timeout_of`]).
const SCHEMA_CHANGE_TIMEOUT: Duration = Duration::from_secs(60);

/// What running a file did, statement by statement.
#[derive(Clone, Debug, Default)]
pub struct FileRun {
    /// (statement as run, its line, its rows)
    pub results: Vec<(String, usize, Rows)>,
    /// The consistency level in force at the end.
    pub(crate) consistency: Option<String>,
}

/// A runner for statements and cqlsh commands, with the learner's namespace.
pub struct Runner {
    pub session: Arc<Session>,
    pub(crate) namespace: Namespace,
    pub(crate) consistency: Consistency,
    pub(crate) consistency_name: Option<String>,
    /// Relative `COPY` paths are read from here.
    pub(crate) base_dir: std::path::PathBuf,
    pub(crate) timeout: Duration,
}

impl Runner {
    pub fn new(
        session: Arc<Session>,
        namespace: Namespace,
        base_dir: &Path,
        timeout: Duration,
    ) -> Runner {
        Runner {
            session,
            namespace,
            consistency: Consistency::One,
            consistency_name: None,
            base_dir: base_dir.to_path_buf(),
            timeout,
        }
    }

    /// Run one statement or shell command (not yet namespaced). Returns the
    /// statement as run and its rows.
    pub async fn run(&mut self, stmt: &str) -> Result<(String, Rows), CqlError> {
        let cql = rewrite_keyspaces(stmt, &self.namespace);
        match parse_command(&cql).map_err(CqlError::Other)? {
            Command::Consistency(None) => Ok((
                cql,
                Rows {
                    columns: vec!["consistency".into()],
                    rows: vec![vec![Some(format!("{:?}", self.consistency).to_uppercase())]],
                },
            )),
            Command::Consistency(Some(l)) => {
                self.consistency = parse_consistency(&l).unwrap_or(Consistency::One);
                self.consistency_name = Some(l);
                Ok((cql, Rows::default()))
            }
            Command::Use(k) => {
                match tokio::time::timeout(self.timeout, self.session.use_keyspace(&k, false)).await
                {
                    Err(_) => Err(CqlError::Timeout(self.timeout)),
                    Ok(Err(e)) => Err(CqlError::Server {
                        message: e.to_string(),
                        syntax: false,
                    }),
                    Ok(Ok(())) => Ok((cql, Rows::default())),
                }
            }
            Command::Copy {
                keyspace,
                table,
                columns,
                file,
                header,
            } => {
                let n = self.copy(keyspace, &table, columns, &file, header).await?;
                Ok((
                    cql,
                    Rows {
                        columns: vec!["rows imported".into()],
                        rows: vec![vec![Some(n.to_string())]],
                    },
                ))
            }
            Command::Cql(c) => {
                let rows =
                    execute(&self.session, &c, self.consistency, self.timeout_of(&c)).await?;
                Ok((cql, rows))
            }
        }
    }

    /// A schema change may wait its turn behind other learners' on a
    /// shared node (the server applies them one at a time): it gets at least
    /// [`SCHEMA_CHANGE_TIMEOUT`], where a timeout would leave the learner's
    /// next statement without its table. Other statements get `timeout`.
    fn timeout_of(&self, cql: &str) -> Duration {
        if is_schema_change(cql) {
            self.timeout.max(SCHEMA_CHANGE_TIMEOUT)
        } else {
            self.timeout
        }
    }

    /// Check every statement before any runs: a cqlsh command's words, and
    /// CQL syntax as the server parses it. Err: the statement's index and
    /// what is wrong.
    pub async fn check_all(&self, stmts: &[Stmt]) -> Result<(), (usize, String)> {
        for (i, s) in stmts.iter().enumerate() {
            let cql = rewrite_keyspaces(&s.text, &self.namespace);
            match parse_command(&cql) {
                Err(m) => return Err((i, m)),
                Ok(Command::Cql(c)) => {
                    if let Err(e) = syntax_check(&self.session, &c, self.timeout).await {
                        return Err((i, e.to_string()));
                    }
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }

    /// Run a file's statements (checked first, see [`Runner::check_all`]);
    /// errors read `display:line: message`.
    pub async fn run_stmts(&mut self, stmts: &[Stmt], display: &str) -> Result<FileRun, String> {
        if let Err((i, m)) = self.check_all(stmts).await {
            return Err(format!("{display}:{}: {m}", stmts[i].line));
        }
        let mut run = FileRun::default();
        for s in stmts {
            match self.run(&s.text).await {
                Ok((cql, rows)) => run.results.push((cql, s.line, rows)),
                Err(e) => return Err(format!("{display}:{}: {e}", s.line)),
            }
        }
        run.consistency = self.consistency_name.clone();
        Ok(run)
    }
}
