//! The learner's room file, `<data dir>/room.json` (mode 0600): where the
//! room is, the learner's id and token, the next sequence number and the
//! outbox of events not yet acknowledged, in sequence order.
//!
//! One file, so the sequence counter and the events it numbered can never
//! disagree. Every change is a read-modify-write under `room.lock`, written
//! atomically (temp, fsync, rename, fsync of the folder): an event is in the
//! outbox before anything sends it, and leaves only once the room has
//! acknowledged it, whatever crashes in between. Two datalab processes (the
//! TUI and `check --watch`) share it safely.

use crate::fsutil;
use crate::http::ClientError;
use crate::protocol::{Envelope, Event};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub(crate) const FILE_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RoomFile {
    pub version: u32,
    /// Join URL, `#sha256=` fingerprint included for HTTPS.
    pub url: String,
    pub learner: u64,
    pub name: String,
    pub token: String,
    pub next_seq: u64,
    pub events: Vec<Envelope>,
    #[serde(default)]
    pub last_ok_ms: Option<i64>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// Events the room refused as invalid (never retried).
    #[serde(default)]
    pub dropped: u64,
}

/// The room file and its lock in a learner's data dir.
#[derive(Clone, Debug)]
pub(crate) struct RoomDir {
    data_dir: PathBuf,
}

impl RoomDir {
    pub fn new(data_dir: &Path) -> RoomDir {
        RoomDir {
            data_dir: data_dir.to_path_buf(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.data_dir.join("room.json")
    }

    fn io(&self, source: std::io::Error) -> ClientError {
        ClientError::Io {
            path: self.path().display().to_string(),
            source,
        }
    }

    fn lock(&self) -> Result<fsutil::DirLock, ClientError> {
        fsutil::lock(&self.data_dir.join("room.lock")).map_err(|e| self.io(e))
    }

    fn read_unlocked(&self) -> Result<Option<RoomFile>, ClientError> {
        let bytes = match std::fs::read(self.path()) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(e)),
        };
        let file: RoomFile = serde_json::from_slice(&bytes).map_err(|e| ClientError::Corrupt {
            path: self.path().display().to_string(),
            reason: e.to_string(),
        })?;
        if file.version > FILE_VERSION {
            return Err(ClientError::Corrupt {
                path: self.path().display().to_string(),
                reason: format!("written by a newer datalab (version {})", file.version),
            });
        }
        Ok(Some(file))
    }

    fn write_unlocked(&self, file: &RoomFile) -> Result<(), ClientError> {
        let bytes = serde_json::to_vec(file).map_err(|e| self.io(std::io::Error::other(e)))?;
        fsutil::write_private_atomic(&self.path(), &bytes).map_err(|e| self.io(e))
    }

    /// The room file as it is now (None: not joined).
    pub fn load(&self) -> Result<Option<RoomFile>, ClientError> {
        let _lock = self.lock()?;
        self.read_unlocked()
    }

    /// Write a new room file; refuses if one is there.
    pub fn create(&self, file: &RoomFile) -> Result<(), ClientError> {
        let _lock = self.lock()?;
        if let Some(existing) = self.read_unlocked()? {
            return Err(ClientError::AlreadyJoined {
                url: existing.url,
                name: existing.name,
            });
        }
        self.write_unlocked(file)
    }

    /// Change the room file under the lock; written back only when `f`
    /// says it changed something.
    pub fn update<R>(&self, f: impl FnOnce(&mut RoomFile) -> (R, bool)) -> Result<R, ClientError> {
        let _lock = self.lock()?;
        let mut file = self.read_unlocked()?.ok_or(ClientError::NotJoined)?;
        let (r, changed) = f(&mut file);
        if changed {
            self.write_unlocked(&file)?;
        }
        Ok(r)
    }

    /// Remove the room file (whatever its state); returns what it held.
    pub fn remove(&self) -> Result<Option<RoomFile>, ClientError> {
        let _lock = self.lock()?;
        let held = self.read_unlocked().unwrap_or(None);
        match std::fs::remove_file(self.path()) {
            Ok(()) => Ok(held),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(e)),
        }
    }

    /// Number and append an event; returns its sequence number.
    pub fn append(&self, event: Event, at_ms: i64) -> Result<u64, ClientError> {
        self.update(|f| {
            let seq = f.next_seq;
            f.next_seq += 1;
            f.events.push(Envelope {
                learner: f.learner,
                seq,
                at_ms,
                event,
            });
            (seq, true)
        })
    }

    /// Drop acknowledged events and note the success.
    pub fn ack(&self, seqs: &[u64], now_ms: i64) -> Result<usize, ClientError> {
        self.update(|f| {
            f.events.retain(|e| !seqs.contains(&e.seq));
            f.last_ok_ms = Some(now_ms);
            f.last_error = None;
            (f.events.len(), true)
        })
    }

    /// Drop one event the room refused as invalid (it would never pass).
    pub fn reject(&self, seq: u64, why: &str) -> Result<(), ClientError> {
        self.update(|f| {
            f.events.retain(|e| e.seq != seq);
            f.dropped += 1;
            f.last_error = Some(format!("event {seq} refused: {why}"));
            ((), true)
        })
    }

    /// Remember the last delivery error (written only when it changes).
    pub fn note_error(&self, why: &str) -> Result<(), ClientError> {
        self.update(|f| {
            let changed = f.last_error.as_deref() != Some(why);
            f.last_error = Some(why.to_string());
            ((), changed)
        })
    }
}
