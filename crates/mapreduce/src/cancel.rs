//! Stopping a running job from outside (Ctrl-C): every task command runs in
//! its own process group, registered here while it lives, so a cancel can
//! kill the whole group (`sh -c` and what it started) at once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A handle that stops a job: [`CancelToken::cancel`] kills the job's task
/// process groups and makes the job return [`super::JobError::Interrupted`]
/// (removing its working folder on the way out). Clones share the state.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    /// Process group ids of running task commands.
    groups: Mutex<HashSet<i32>>,
    /// The job's working folder while it exists.
    workdirs: Mutex<Vec<PathBuf>>,
}

impl CancelToken {
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Stop the job: no new task starts and every running one is killed.
    pub fn cancel(&self) {
        let groups = self.lock_groups();
        self.0.cancelled.store(true, Ordering::SeqCst);
        for &g in groups.iter() {
            kill_group(g);
        }
    }

    /// The working folders of jobs still running, for a last-resort
    /// cleanup when the job does not return in time after [`Self::cancel`].
    pub fn workdirs(&self) -> Vec<PathBuf> {
        self.0
            .workdirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn lock_groups(&self) -> std::sync::MutexGuard<'_, HashSet<i32>> {
        self.0.groups.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remember a task process (the leader of its own group). If the job
    /// was cancelled meanwhile, the group is killed at once.
    pub(crate) fn register(&self, pid: u32) {
        let mut groups = self.lock_groups();
        if self.is_cancelled() {
            kill_group(pid as i32);
        }
        groups.insert(pid as i32);
    }

    /// Forget a task process once it has been waited for (its id may be
    /// reused after that).
    pub(crate) fn unregister(&self, pid: u32) {
        self.lock_groups().remove(&(pid as i32));
    }

    pub(crate) fn add_workdir(&self, dir: &Path) {
        self.0
            .workdirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(dir.to_path_buf());
    }

    pub(crate) fn remove_workdir(&self, dir: &Path) {
        self.0
            .workdirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|d| d != dir);
    }
}

#[cfg(unix)]
fn kill_group(pgid: i32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pgid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[cfg(not(unix))]
fn kill_group(_pgid: i32) {}
