//! `datalab cql [-e STATEMENT | --file F]`: a small cqlsh for the lab.
//! Keyspaces are put in the learner's namespace (`iot` → `<ns>_iot`), and
//! cqlsh's `CONSISTENCY` and `COPY … FROM` work too. Without -e or --file it
//! reads statements from standard input.

use super::Ctx;
use clap::Args;
use datalab_clients::console;
use datalab_clients::cql::{self, Runner};
use datalab_services::{ServiceKind, UpOptions};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct CqlArgs {
    /// Run these statement(s)
    #[arg(short = 'e', long = "execute", conflicts_with = "file")]
    pub execute: Option<String>,
    /// Run the statements of a file (relative COPY paths are read from its folder's working directory)
    #[arg(long, short = 'f')]
    pub file: Option<PathBuf>,
    /// Print rows as JSON objects, one a line
    #[arg(long)]
    pub json: bool,
    /// Seconds each statement may take
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
}

/// Contact points: `DATALAB_CASSANDRA_CONTACT`, else the services layer.
pub async fn endpoint(ctx: &Ctx) -> Result<String, String> {
    if let Ok(u) = std::env::var("DATALAB_CASSANDRA_CONTACT")
        && !u.trim().is_empty()
    {
        return Ok(u);
    }
    ctx.services
        .ensure(ServiceKind::Cassandra, &UpOptions::default())
        .await
        .map(|e| e.address)
        .map_err(|e| e.to_string())
}

fn print_rows(rows: &cql::Rows, json: bool) {
    if rows.columns.is_empty() {
        return;
    }
    if json {
        for r in &rows.rows {
            let o: serde_json::Map<String, serde_json::Value> = rows
                .columns
                .iter()
                .zip(r)
                .map(|(c, v)| {
                    (
                        c.clone(),
                        v.clone()
                            .map(serde_json::Value::String)
                            .unwrap_or(serde_json::Value::Null),
                    )
                })
                .collect();
            println!("{}", serde_json::Value::Object(o));
        }
        return;
    }
    let t = console::cql_table(rows);
    print!("{}", console::text_table(&t.columns, &t.rows));
    println!("({})", console::plural(t.rows.len(), "row"));
}

pub async fn run(a: CqlArgs, ctx: &Ctx) -> ExitCode {
    let (text, display) = match (&a.execute, &a.file) {
        (Some(e), _) => (e.clone(), "<-e>".to_string()),
        (None, Some(f)) => match std::fs::read_to_string(f) {
            Ok(t) => (t, f.display().to_string()),
            Err(e) => {
                eprintln!("datalab cql: cannot read {}: {e}", f.display());
                return ExitCode::from(1);
            }
        },
        (None, None) => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                eprintln!("datalab cql: cannot read standard input: {e}");
                return ExitCode::from(1);
            }
            (s, "<stdin>".to_string())
        }
    };
    let stmts = match cql::split(&text) {
        Ok(s) => s,
        Err((l, m)) => {
            eprintln!("{display}:{l}: {m}");
            return ExitCode::from(1);
        }
    };
    let contact = match endpoint(ctx).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("datalab cql: {e}");
            return ExitCode::from(1);
        }
    };
    let timeout = Duration::from_secs(a.timeout);
    let session = match cql::session(&contact, timeout).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("datalab cql: {e}");
            return ExitCode::from(1);
        }
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut runner = Runner::new(session, ctx.namespace.clone(), &cwd, timeout);
    match runner.run_stmts(&stmts, &display).await {
        Ok(run) => {
            for (_, _, rows) in &run.results {
                print_rows(rows, a.json);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
