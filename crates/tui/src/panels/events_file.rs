//! The JSON-lines file a check appends its events to while a panel follows
//! it live (the Kafka pipeline step, the Cassandra node-failure step): a
//! private temp file, named to the check through one environment variable,
//! read as it grows. [`Tail`] is the reading half alone, for a file the
//! panel does not own (Spark's event log).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// At most this much of the file is read per call.
const READ_MAX: u64 = 1 << 20;

pub(crate) struct EventsFile {
    /// The environment variable the check reads the file's path from.
    env: &'static str,
    _dir: Option<tempfile::TempDir>,
    tail: Tail,
}

impl EventsFile {
    /// A file in a fresh temp dir named `prefix…` (none if that fails: the
    /// panel then shows no live view).
    pub(crate) fn new(prefix: &str, env: &'static str) -> EventsFile {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().ok();
        let path = dir.as_ref().map(|d| d.path().join("events.jsonl"));
        EventsFile {
            env,
            _dir: dir,
            tail: Tail::new(path),
        }
    }

    /// Whether there is a file (a temp folder could be made).
    pub(crate) fn exists(&self) -> bool {
        self.tail.path().is_some()
    }

    /// A check starts: an empty file, named in its environment.
    pub(crate) fn run_env(&self) -> Vec<(String, String)> {
        match self.tail.path() {
            Some(p) if std::fs::File::create(p).is_ok() => {
                vec![(self.env.to_string(), p.display().to_string())]
            }
            _ => Vec::new(),
        }
    }

    /// Events appended since the last call (see [`Tail::read_new`]).
    pub(crate) fn read_new<T>(&mut self) -> Vec<T>
    where
        T: serde::de::DeserializeOwned,
    {
        self.tail.read_new()
    }
}

/// A JSON-lines file read as it grows, from where the last read stopped.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    path: Option<PathBuf>,
    offset: u64,
}

impl Tail {
    pub(crate) fn new(path: Option<PathBuf>) -> Tail {
        Tail { path, offset: 0 }
    }

    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The same file under a new name (Spark renames `X.inprogress` to `X`
    /// when the application ends): reading goes on where it stopped.
    pub(crate) fn renamed(&mut self, to: PathBuf) {
        self.path = Some(to);
    }

    /// Events appended since the last call (whole lines only: a partly
    /// written last line is read again next time; lines that are not an
    /// event are skipped).
    pub(crate) fn read_new<T>(&mut self) -> Vec<T>
    where
        T: serde::de::DeserializeOwned,
    {
        let Some(Ok(mut f)) = self.path.as_ref().map(std::fs::File::open) else {
            return Vec::new();
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.offset {
            self.offset = 0; // truncated: a new check
        }
        let mut buf = Vec::new();
        if len == self.offset
            || f.seek(SeekFrom::Start(self.offset)).is_err()
            || f.take(READ_MAX).read_to_end(&mut buf).is_err()
        {
            return Vec::new();
        }
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            if buf.len() as u64 == READ_MAX {
                self.offset += READ_MAX; // one huge line: drop its start
            }
            return Vec::new();
        };
        self.offset += end as u64 + 1;
        String::from_utf8_lossy(&buf[..=end])
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
