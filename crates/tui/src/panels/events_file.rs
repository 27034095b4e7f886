//! The JSON-lines file a check appends its events to while a panel follows
//! it live (the Kafka pipeline step, the Cassandra node-failure step): a
//! private temp file, named to the check through one environment variable,
//! read as it grows.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

pub(crate) struct EventsFile {
    /// The environment variable the check reads the file's path from.
    env: &'static str,
    _dir: Option<tempfile::TempDir>,
    path: Option<PathBuf>,
    offset: u64,
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
            path,
            offset: 0,
        }
    }

    /// A check starts: an empty file, named in its environment.
    pub(crate) fn run_env(&self) -> Vec<(String, String)> {
        match &self.path {
            Some(p) if std::fs::File::create(p).is_ok() => {
                vec![(self.env.to_string(), p.display().to_string())]
            }
            _ => Vec::new(),
        }
    }

    /// Events appended since the last call (whole lines only; lines that
    /// are not an event are skipped).
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
            || f.take(1 << 20).read_to_end(&mut buf).is_err()
        {
            return Vec::new();
        }
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        self.offset += end as u64 + 1;
        String::from_utf8_lossy(&buf[..=end])
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
