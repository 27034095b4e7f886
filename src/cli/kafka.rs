//! `datalab kafka …`: a small Kafka console (topics, produce, consume,
//! groups). The words and what each command does live in
//! [`datalab_clients::console::kafka`] (the TUI's Kafka panel runs the same
//! code); this module finds the broker, reads stdin and prints.
//!
//! The broker is `$DATALAB_KAFKA_BOOTSTRAP` when set (a lab step's command
//! gets it), else the one the services layer runs (started if needed). Topic
//! and group names live in the learner's namespace (`--learner` or
//! `$DATALAB_NAMESPACE`): `orders` is `<ns>_orders` on the broker, and output
//! shows the short name again.

use super::Ctx;
use super::kafka_detach as detach;
use datalab_clients::console::Io;
pub use datalab_clients::console::kafka::KafkaArgs;
use datalab_clients::console::kafka::{execute, time_limit};
use datalab_clients::kafka::Kafka;
use datalab_services::{ServiceKind, UpOptions};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Find the broker: the step's endpoint, else the services layer.
async fn connect(ctx: &Ctx, timeout: Duration) -> Result<Kafka, String> {
    if let Ok(b) = std::env::var("DATALAB_KAFKA_BOOTSTRAP")
        && !b.trim().is_empty()
    {
        return Ok(Kafka::new(b.trim(), timeout));
    }
    let ep = ctx
        .services
        .ensure(ServiceKind::Kafka, &UpOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    Ok(Kafka::new(ep.kafka_bootstrap(), timeout))
}

/// Set in a detached consumer's environment: the file it writes its first
/// partitions to, which the command that started it waits for.
pub(super) const DETACHED: &str = "DATALAB_KAFKA_DETACHED";

pub async fn run(a: KafkaArgs, ctx: &Ctx) -> ExitCode {
    let timeout = Duration::from_secs(a.timeout.max(1));
    let ready_file = std::env::var_os(DETACHED).map(PathBuf::from);
    if let Some(group) = a.command.detaches()
        && ready_file.is_none()
    {
        let limit = time_limit(&a.command, timeout);
        return detach::start(group, limit).await;
    }
    let kafka = match connect(ctx, timeout).await {
        Ok(k) => k,
        Err(e) => {
            eprintln!("datalab kafka: {e}");
            return ExitCode::from(1);
        }
    };
    let mut io = Io {
        cwd: PathBuf::from("."),
        stdin: None,
        stop: Some(stop_on_signal()),
        joined: ready_file.map(detach::tell_when_joined),
    };
    if a.command.reads_stdin() {
        let mut s = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut s) {
            eprintln!("datalab kafka: cannot read stdin: {e}");
            return ExitCode::from(super::USAGE);
        }
        io.stdin = Some(s);
    }
    let out = execute(a.command, &kafka, &ctx.namespace, a.json, &io).await;
    super::print_output("datalab kafka: ", out, super::USAGE)
}

/// A flag set on SIGTERM or Ctrl-C: a consumer in the background of a step
/// (`--stay`) is ended by the lab runner when the step's checks are done,
/// and then leaves its group instead of lingering as a dead member.
fn stop_on_signal() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let f = flag.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        f.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    flag
}
