//! `datalab cql [-e STATEMENT | --file F]`: a small cqlsh for the lab.
//! Keyspaces are put in the learner's namespace (`iot` → `<ns>_iot`), and
//! cqlsh's `CONSISTENCY` and `COPY … FROM` work too. Without -e or --file it
//! reads statements from standard input. What the statements do lives in
//! [`datalab_clients::console::cql`] (the TUI's CQL panel runs the same
//! code); this module reads the text, finds the server and prints.

use super::Ctx;
use clap::Args;
use datalab_clients::console::cql::{Source, execute, parse};
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

/// The statements' text and how errors name it.
fn read_text(a: &CqlArgs) -> Result<(String, String), String> {
    match (&a.execute, &a.file) {
        (Some(e), _) => Ok((e.clone(), "<-e>".to_string())),
        (None, Some(f)) => std::fs::read_to_string(f)
            .map(|t| (t, f.display().to_string()))
            .map_err(|e| format!("cannot read {}: {e}", f.display())),
        (None, None) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            Ok((s, "<stdin>".to_string()))
        }
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("datalab cql: {msg}");
    ExitCode::from(1)
}

pub async fn run(a: CqlArgs, ctx: &Ctx) -> ExitCode {
    let (text, display) = match read_text(&a) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    // A text that cannot split is refused before the server is asked.
    if let Err(e) = parse(&text, Source::File(&display)) {
        return super::print_output("", Err(e), 1);
    }
    let contact = match endpoint(ctx).await {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let timeout = Duration::from_secs(a.timeout);
    let session = match cql::session(&contact, timeout).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut runner = Runner::new(session, ctx.namespace.clone(), &cwd, timeout);
    let out = execute(&mut runner, &text, Source::File(&display), a.json).await;
    super::print_output("", out, 1)
}
