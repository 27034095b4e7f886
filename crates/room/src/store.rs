//! The room's state in SQLite (`room.db` in the room dir, WAL mode).
//!
//! Durability: `synchronous=FULL` in WAL mode fsyncs the log on every
//! commit, and the server acknowledges events only after their commit, so an
//! acknowledged event survives kill -9 and power loss alike. Commits are
//! grouped by the writer thread, so the fsync cost is shared by every
//! request waiting at that moment.
//!
//! Events are unique on (learner, seq): a retried event is stored once.
//! Learner tokens are stored as SHA-256 hashes only.

use crate::protocol::{Envelope, Event};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// The schema this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("room database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("room database {path} has schema version {found}; this datalab knows {SCHEMA_VERSION}")]
    Newer { path: PathBuf, found: i64 },
    #[error("a learner named {0:?} is already in the room")]
    NameTaken(String),
    #[error("stored event is unreadable: {0}")]
    Corrupt(String),
}

/// A learner as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnerRow {
    pub id: u64,
    pub name: String,
    pub token_hash: [u8; 32],
    pub joined_ms: i64,
}

/// An event as stored, with its arrival order (`id`) and arrival time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: i64,
    pub learner: u64,
    pub seq: u64,
    pub at_ms: i64,
    pub received_ms: i64,
    pub event: Event,
}

pub struct Store {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS learners (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    token_hash BLOB NOT NULL UNIQUE,
    joined_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    learner INTEGER NOT NULL REFERENCES learners(id),
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (learner, seq)
);
CREATE TABLE IF NOT EXISTS live (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    body TEXT NOT NULL
);
";

/// `<dir>/room.db`.
pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("room.db")
}

impl Store {
    /// Open (creating if needed) the room database for reading and writing.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = db_path(dir);
        let conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let store = Store { conn };
        store.migrate(&path)?;
        Ok(store)
    }

    /// Open an existing room database read-only (the instructor's view and
    /// export read it while the server writes; WAL lets both run).
    pub fn open_readonly(dir: &Path) -> Result<Store, StoreError> {
        let path = db_path(dir);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::Newer { path, found });
        }
        Ok(Store { conn })
    }

    fn migrate(&self, path: &Path) -> Result<(), StoreError> {
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::Newer {
                path: path.to_path_buf(),
                found,
            });
        }
        self.conn.execute_batch(SCHEMA)?;
        self.conn
            .pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(())
    }

    /// A value from the meta table, set to `default()` the first time.
    pub fn meta_or_init(
        &self,
        key: &str,
        default: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        let q = "SELECT value FROM meta WHERE key = ?1";
        if let Some(v) = self.conn.query_row(q, [key], |r| r.get(0)).optional()? {
            return Ok(v);
        }
        let value = default();
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        Ok(value)
    }

    /// Add a learner; names are unique in a room (ignoring case).
    pub fn add_learner(
        &self,
        name: &str,
        token_hash: &[u8; 32],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let sql =
            "INSERT INTO learners (name, name_key, token_hash, joined_ms) VALUES (?1, ?2, ?3, ?4)";
        let key = name.to_lowercase();
        match self
            .conn
            .execute(sql, params![name, key, &token_hash[..], now_ms])
        {
            Ok(_) => Ok(self.conn.last_insert_rowid() as u64),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::NameTaken(name.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn learners(&self) -> Result<Vec<LearnerRow>, StoreError> {
        let sql = "SELECT id, name, token_hash, joined_ms FROM learners ORDER BY id";
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| {
            let hash: Vec<u8> = r.get(2)?;
            let mut token_hash = [0u8; 32];
            if hash.len() == 32 {
                token_hash.copy_from_slice(&hash);
            }
            Ok(LearnerRow {
                id: r.get::<_, i64>(0)? as u64,
                name: r.get(1)?,
                token_hash,
                joined_ms: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Store several learners' batches in one transaction (one fsync).
    /// Returns, per batch, how many events were new.
    pub fn insert_batches(
        &mut self,
        batches: &[(u64, &[Envelope])],
        received_ms: i64,
    ) -> Result<Vec<usize>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut counts = Vec::with_capacity(batches.len());
        {
            let sql = "INSERT OR IGNORE INTO events (learner, seq, at_ms, received_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)";
            let mut stmt = tx.prepare_cached(sql)?;
            for (learner, envs) in batches {
                let mut new = 0;
                for env in envs.iter() {
                    let body = serde_json::to_string(&env.event)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    new += stmt.execute(params![
                        *learner as i64,
                        env.seq as i64,
                        env.at_ms,
                        received_ms,
                        body
                    ])?;
                }
                counts.push(new);
            }
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Events stored after `after_id`, in arrival order, at most `limit`.
    pub fn events_since(
        &self,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let sql = "SELECT id, learner, seq, at_ms, received_ms, body FROM events WHERE id > ?1 ORDER BY id LIMIT ?2";
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![after_id, limit as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let body: String = r.get(5)?;
            let event =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.push(StoredEvent {
                id: r.get(0)?,
                learner: r.get::<_, i64>(1)? as u64,
                seq: r.get::<_, i64>(2)? as u64,
                at_ms: r.get(3)?,
                received_ms: r.get(4)?,
                event,
            });
        }
        Ok(out)
    }

    /// (events stored, highest seq) for one learner.
    pub fn learner_stats(&self, learner: u64) -> Result<(u64, u64), StoreError> {
        let sql = "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events WHERE learner = ?1";
        let (n, high): (i64, i64) = self
            .conn
            .query_row(sql, [learner as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((n as u64, high as u64))
    }

    /// Every stored (learner, seq) pair, for loss checks.
    pub fn all_keys(&self) -> Result<Vec<(u64, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT learner, seq FROM events ORDER BY learner, seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The room's live state as last saved (empty when never saved).
    pub fn live(&self) -> Result<crate::live::LiveState, StoreError> {
        let q = "SELECT body FROM live WHERE id = 1";
        let body: Option<String> = self.conn.query_row(q, [], |r| r.get(0)).optional()?;
        match body {
            None => Ok(Default::default()),
            Some(b) => serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(e.to_string())),
        }
    }

    /// Replace the saved live state (one row, one commit).
    pub fn save_live(&self, state: &crate::live::LiveState) -> Result<(), StoreError> {
        let body = serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = "INSERT INTO live (id, body) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET body = excluded.body";
        self.conn.execute(sql, [body])?;
        Ok(())
    }

    /// The notes saved in an activity (all activities when `activity` is
    /// empty), oldest first, with their authors.
    pub fn notes(&self, activity: &str) -> Result<Vec<crate::live::PickedNote>, StoreError> {
        let sql = "SELECT e.id, e.body, l.name FROM events e JOIN learners l ON l.id = e.learner \
                   WHERE e.body LIKE '{\"type\":\"note_saved\"%' ORDER BY e.id";
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let body: String = r.get(1)?;
            let event =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if let Event::NoteSaved {
                activity: a,
                phase,
                text,
            } = event
                && (activity.is_empty() || a == activity)
            {
                out.push(crate::live::PickedNote {
                    id: r.get(0)?,
                    activity: a,
                    phase,
                    text,
                    author: r.get(2)?,
                });
            }
        }
        Ok(out)
    }
}
