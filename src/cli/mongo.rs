//! `datalab mongo …`: a small MongoDB console for the lab. The words and
//! what each request does live in [`datalab_clients::console::mongo`] (the
//! TUI's MongoDB panel runs the same code); this module finds the server
//! and prints.

use super::Ctx;
use datalab_clients::console::Io;
pub use datalab_clients::console::mongo::MongoArgs;
use datalab_clients::console::mongo::{Db, execute};
use datalab_clients::mongo;
use datalab_services::{ServiceKind, UpOptions};
use std::process::ExitCode;
use std::time::Duration;

/// The MongoDB URI: `DATALAB_MONGODB_URI`, else the services layer.
pub async fn endpoint(ctx: &Ctx) -> Result<String, String> {
    if let Ok(u) = std::env::var("DATALAB_MONGODB_URI")
        && !u.trim().is_empty()
    {
        return Ok(u);
    }
    ctx.services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .map(|e| e.address)
        .map_err(|e| e.to_string())
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("datalab mongo: {msg}");
    ExitCode::from(1)
}

pub async fn run(a: MongoArgs, ctx: &Ctx) -> ExitCode {
    let uri = match endpoint(ctx).await {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    let m = match mongo::connect(&uri, Duration::from_secs(a.timeout)).await {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let db = Db {
        full: ctx.namespace.database(&a.db),
        shown: a.db,
    };
    let io = Io {
        cwd: std::env::current_dir().unwrap_or_default(),
        ..Io::default()
    };
    let out = execute(a.cmd, &m, &db, a.json, &io).await;
    // A malformed query file exits 1 like a refusal: both are the learner's
    // files to fix, and step scripts test for non-zero.
    super::print_output("datalab mongo: ", out, 1)
}
