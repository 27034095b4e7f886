//! The learner's progress: one JSON file under the data dir, written
//! atomically (temp file in the same folder, fsync, rename, fsync of the
//! folder) under a lock, so a kill mid-write never corrupts it and two
//! datalab processes never lose each other's updates. A corrupt file, or one
//! written by a newer datalab, is reported and kept aside, never overwritten.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub version: u32,
    /// The unit the learner was last on (resume point).
    #[serde(default)]
    pub last_unit: Option<String>,
    #[serde(default)]
    pub units: BTreeMap<String, UnitProgress>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitProgress {
    #[serde(default)]
    pub done: bool,
    /// Quiz: last score (right, total) and best.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<(u32, u32)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<(u32, u32)>,
    /// Quiz: attempts finished; the one in progress shows its options in
    /// the order this number gives (`quiz::option_order`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// Quiz: question id → the answer given (choice options numbered in the
    /// file's order, whatever order they were shown in).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub answers: BTreeMap<String, String>,
    /// Activity: the learner's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Lab: steps whose checks all passed.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub steps_done: BTreeSet<String>,
    /// Lab: hints revealed per step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hints: BTreeMap<String, u32>,
    /// Lesson: where the reader was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            version: FORMAT_VERSION,
            ..Default::default()
        }
    }
    pub fn unit(&self, id: &str) -> Option<&UnitProgress> {
        self.units.get(id)
    }
    pub fn unit_mut(&mut self, id: &str) -> &mut UnitProgress {
        self.units.entry(id.to_string()).or_default()
    }
    pub fn is_done(&self, id: &str) -> bool {
        self.units.get(id).is_some_and(|u| u.done)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error(
        "{path} could not be read as progress ({reason}); it was kept as {kept} and a fresh record started"
    )]
    Corrupt {
        path: PathBuf,
        reason: String,
        kept: PathBuf,
    },
    #[error(
        "{path} was written by a newer datalab (format {found}, this one reads {FORMAT_VERSION}); it was kept as {kept} and a fresh record started"
    )]
    Newer {
        path: PathBuf,
        found: u32,
        kept: PathBuf,
    },
    #[error("cannot save progress to {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where progress lives, and the only way to read or change it.
#[derive(Clone, Debug)]
pub struct ProgressStore {
    path: PathBuf,
}

impl ProgressStore {
    /// `<home>/progress.json`.
    pub fn new(home: &Path) -> ProgressStore {
        ProgressStore {
            path: home.join("progress.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read progress. A missing file is a fresh start. A corrupt or newer
    /// file is moved aside and reported in the second value; the learner
    /// keeps going with a fresh record.
    pub fn load(&self) -> (Progress, Option<ProgressError>) {
        let _lock = self.lock().ok();
        self.load_unlocked()
    }

    fn load_unlocked(&self) -> (Progress, Option<ProgressError>) {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Progress::new(), None),
            Err(e) => {
                return (
                    Progress::new(),
                    Some(ProgressError::Io {
                        path: self.path.clone(),
                        source: e,
                    }),
                );
            }
        };
        // Look at the version first, so a newer format is not mistaken for corruption.
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        match serde_json::from_slice::<Version>(&bytes) {
            Ok(v) if v.version > FORMAT_VERSION => {
                let kept = self.keep_aside(&format!("v{}", v.version));
                return (
                    Progress::new(),
                    Some(ProgressError::Newer {
                        path: self.path.clone(),
                        found: v.version,
                        kept,
                    }),
                );
            }
            _ => {}
        }
        match serde_json::from_slice::<Progress>(&bytes) {
            Ok(p) => (p, None),
            Err(e) => {
                let kept = self.keep_aside("corrupt");
                (
                    Progress::new(),
                    Some(ProgressError::Corrupt {
                        path: self.path.clone(),
                        reason: e.to_string(),
                        kept,
                    }),
                )
            }
        }
    }

    /// Move the current file aside as `progress.json.<tag>-<unix secs>`.
    fn keep_aside(&self, tag: &str) -> PathBuf {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut kept = self.path.clone().into_os_string();
        kept.push(format!(".{tag}-{secs}"));
        let kept = PathBuf::from(kept);
        let _ = fs::rename(&self.path, &kept);
        kept
    }

    /// Read, change and write back under the lock: concurrent datalab
    /// processes (the TUI and a `check --watch`) never lose updates.
    pub fn update<R>(&self, f: impl FnOnce(&mut Progress) -> R) -> Result<R, ProgressError> {
        let _lock = self.lock()?;
        let (mut p, _) = self.load_unlocked();
        let r = f(&mut p);
        self.write_atomic(&p)?;
        Ok(r)
    }

    fn io(&self, source: std::io::Error) -> ProgressError {
        ProgressError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn lock(&self) -> Result<nix::fcntl::Flock<File>, ProgressError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("progress.lock"))
            .map_err(|e| self.io(e))?;
        nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| self.io(std::io::Error::from(e)))
    }

    fn write_atomic(&self, p: &Progress) -> Result<(), ProgressError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut p = p.clone();
        p.version = FORMAT_VERSION;
        let json = serde_json::to_vec_pretty(&p).map_err(|e| self.io(std::io::Error::other(e)))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| self.io(e))?;
        tmp.write_all(&json).map_err(|e| self.io(e))?;
        tmp.as_file().sync_all().map_err(|e| self.io(e))?;
        tmp.persist(&self.path).map_err(|e| self.io(e.error))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
