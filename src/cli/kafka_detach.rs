//! `datalab kafka consume --group G --detach`: start the consumer as a
//! process of its own and return once it is a member of the group with
//! partitions, as `docker run -d` returns once its container runs. A step
//! script that starts two workers this way ends with both in the group, so
//! the check that follows watches a group that is already split instead of
//! waiting for the workers to start, log in and join.
//!
//! The consumer is this same command run again, with the same arguments;
//! the environment variable [`super::kafka::DETACHED`] tells it it is the
//! detached one. It writes its first partitions to a file this command
//! waits for. It stays in this command's process group, so a lab step that
//! ends its background processes ends it too, and its output goes where
//! this command's goes.

use super::kafka::DETACHED;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Start the detached consumer and wait, up to `limit`, until it has
/// partitions of its group; then leave it running.
pub(super) async fn start(group: &str, limit: Duration) -> ExitCode {
    match start_and_wait(limit).await {
        Ok((pid, partitions)) => {
            eprintln!(
                "datalab kafka: consumer {pid} is a member of group {group} with partition(s) {partitions}; it goes on in the background"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("datalab kafka: {e}");
            ExitCode::from(1)
        }
    }
}

async fn start_and_wait(limit: Duration) -> Result<(u32, String), String> {
    let dir = tempfile::Builder::new()
        .prefix("datalab-consumer-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let ready = dir.path().join("partitions");
    let exe = std::env::current_exe().map_err(|e| format!("cannot find datalab itself: {e}"))?;
    let mut child = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(DETACHED, &ready)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the consumer: {e}"))?;
    let pid = child.id();
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(text) = std::fs::read_to_string(&ready) {
            return Ok((pid, text));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the consumer ended ({status}) before it had partitions (its messages are above)"
            ));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the consumer got no partitions within {} s; stopped it",
                limit.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// In the detached consumer: the cell the consumer fills with its first
/// partitions, and a task that writes them to `ready` (whole: written
/// beside it, then renamed) for the command that started it.
pub(super) fn tell_when_joined(ready: PathBuf) -> Arc<OnceLock<Vec<i32>>> {
    let joined: Arc<OnceLock<Vec<i32>>> = Arc::new(OnceLock::new());
    let cell = joined.clone();
    tokio::spawn(async move {
        loop {
            if let Some(parts) = cell.get() {
                write_ready(&ready, parts);
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    joined
}

fn write_ready(ready: &Path, parts: &[i32]) {
    let text = parts
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let tmp = ready.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, ready);
    }
}
