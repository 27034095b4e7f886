//! The learner's side: join a room, report events in the background, flush
//! before a short command exits, see how delivery is going, leave.

use crate::http::{ClientError, Endpoint, HttpClient, block_on};
use crate::outbox::{FILE_VERSION, RoomDir, RoomFile};
use crate::protocol::{self, Event, JoinRequest, JoinResponse, MeResponse, Secret};
use crate::sender::{self, Shared};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The room a learner is in, as stored in `<data dir>/room.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    pub url: String,
    pub learner: u64,
    pub name: String,
}

/// How delivery is going (`datalab room status` on the learner side).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomStatus {
    pub joined: Joined,
    /// Events waiting in the outbox.
    pub queued: usize,
    /// Some(true): the last attempt was acknowledged; Some(false): it
    /// failed; None: nothing tried yet by this process.
    pub flowing: Option<bool>,
    pub last_ok_ms: Option<i64>,
    pub last_error: Option<String>,
    /// Events the room refused as invalid and that were dropped.
    pub dropped: u64,
}

/// What the room handed a learner at `join` besides admission: their login
/// on the room's shared services, or why it could not make one.
#[derive(Clone, Debug, Default)]
pub struct Handed {
    pub credentials: Option<Secret>,
    pub credentials_error: Option<String>,
}

/// How long a join may take: a room that hands out logins makes one on
/// its shared cluster first (a JVM's work, seconds on a busy laptop).
const JOIN_TIMEOUT: Duration = Duration::from_secs(120);

/// Join the room at `url` (`http://…` or `https://…#sha256=…`) with its join
/// code; stores the room, the learner id and token in `<data_dir>/room.json`
/// (0600). Blocks up to [`JOIN_TIMEOUT`]; call it from the `join` command.
pub fn join(data_dir: &Path, url: &str, code: &str, name: &str) -> Result<Joined, ClientError> {
    join_handed(data_dir, url, code, name).map(|(j, _)| j)
}

/// [`join`], with what the room handed over (kept by the caller, not here).
pub fn join_handed(
    data_dir: &Path,
    url: &str,
    code: &str,
    name: &str,
) -> Result<(Joined, Handed), ClientError> {
    let dir = RoomDir::new(data_dir);
    if let Some(existing) = dir.load()? {
        return Err(ClientError::AlreadyJoined {
            url: existing.url,
            name: existing.name,
        });
    }
    let endpoint = Endpoint::parse(url)?;
    let name = protocol::validate_name(name)?;
    let body = serde_json::to_vec(&JoinRequest {
        code: code.trim().to_string(),
        name,
    })
    .map_err(|e| ClientError::Network(e.to_string()))?;
    let ep = endpoint.clone();
    let bytes = block_on(async move {
        let mut http = HttpClient::new(ep, JOIN_TIMEOUT)?;
        http.request(hyper::Method::POST, "/api/v1/join", None, Some(body))
            .await
    })?;
    let resp: JoinResponse = serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::Network(format!("unreadable answer: {e}")))?;
    let file = RoomFile {
        version: FILE_VERSION,
        url: endpoint.url(),
        learner: resp.learner,
        name: resp.name,
        token: resp.token,
        next_seq: 1,
        events: Vec::new(),
        last_ok_ms: None,
        last_error: None,
        dropped: 0,
    };
    dir.create(&file)?;
    let handed = Handed {
        credentials: resp.credentials,
        credentials_error: resp.credentials_error,
    };
    Ok((joined(&file), handed))
}

fn joined(f: &RoomFile) -> Joined {
    Joined {
        url: f.url.clone(),
        learner: f.learner,
        name: f.name.clone(),
    }
}

/// What `leave` removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Left {
    pub joined: Joined,
    /// Events still queued, now discarded.
    pub discarded: usize,
}

/// Stop reporting: removes `<data_dir>/room.json` and with it the outbox
/// (flush first to deliver what is queued). Running reporters stop.
pub fn leave(data_dir: &Path) -> Result<Option<Left>, ClientError> {
    let removed = RoomDir::new(data_dir).remove()?;
    Ok(removed.map(|f| Left {
        joined: joined(&f),
        discarded: f.events.len(),
    }))
}

/// Delivery state as recorded in the room file (no network).
pub fn status(data_dir: &Path) -> Result<Option<RoomStatus>, ClientError> {
    Ok(RoomDir::new(data_dir).load()?.map(|f| RoomStatus {
        joined: joined(&f),
        queued: f.events.len(),
        flowing: match (&f.last_error, f.last_ok_ms) {
            (Some(_), _) => Some(false),
            (None, Some(_)) => Some(true),
            (None, None) => None,
        },
        last_ok_ms: f.last_ok_ms,
        last_error: f.last_error.clone(),
        dropped: f.dropped,
    }))
}

/// Ask the room what it holds for this learner (a live check for
/// `datalab room status`); waits at most `timeout`.
pub fn probe(data_dir: &Path, timeout: Duration) -> Result<MeResponse, ClientError> {
    let f = RoomDir::new(data_dir)
        .load()?
        .ok_or(ClientError::NotJoined)?;
    let endpoint = Endpoint::parse(&f.url)?;
    let bytes = block_on(async move {
        let mut http = HttpClient::new(endpoint, timeout)?;
        http.request(hyper::Method::GET, "/api/v1/me", Some(&f.token), None)
            .await
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::Network(format!("unreadable answer: {e}")))
}

/// Reports a learner's events to their room in the background.
///
/// `report` appends to the outbox on local disk (atomic write, like
/// progress) and returns; a sender thread delivers in order. Dropping the
/// reporter stops the thread without waiting; whatever is queued stays in
/// the outbox for the next run.
pub struct Reporter {
    dir: RoomDir,
    data_dir: PathBuf,
    shared: Arc<Shared>,
}

/// What `flush` achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flushed {
    /// Everything queued when flush started was acknowledged.
    pub delivered: bool,
    /// Events still in the outbox.
    pub queued: usize,
}

impl Reporter {
    /// Start reporting for the learner in `data_dir`; None when not joined.
    pub fn start(data_dir: &Path) -> Result<Option<Reporter>, ClientError> {
        let dir = RoomDir::new(data_dir);
        if dir.load()?.is_none() {
            return Ok(None);
        }
        let shared = Arc::new(Shared::default());
        sender::spawn(dir.clone(), shared.clone()).map_err(|e| ClientError::Io {
            path: "room-sender thread".into(),
            source: e,
        })?;
        Ok(Some(Reporter {
            dir,
            data_dir: data_dir.to_path_buf(),
            shared,
        }))
    }

    /// Queue an event and wake the sender; returns its sequence number.
    /// Costs one small atomic file write, never a network round trip.
    pub fn report(&self, event: Event) -> Result<u64, ClientError> {
        protocol::validate_event(&event)?;
        let seq = self.dir.append(event, crate::now_ms())?;
        self.shared.wake(false);
        Ok(seq)
    }

    /// Wait until everything queued so far is acknowledged, or `timeout`
    /// (use about 1 s before a short command exits).
    pub fn flush(&self, timeout: Duration) -> Flushed {
        let deadline = Instant::now() + timeout;
        let target = match self.dir.load() {
            Ok(Some(f)) => f.next_seq.saturating_sub(1),
            _ => {
                return Flushed {
                    delivered: false,
                    queued: 0,
                };
            }
        };
        self.shared.wake(true);
        loop {
            let (head, queued) = match self.dir.load() {
                Ok(Some(f)) => (f.events.first().map(|e| e.seq), f.events.len()),
                _ => {
                    return Flushed {
                        delivered: false,
                        queued: 0,
                    };
                }
            };
            if head.is_none_or(|h| h > target) {
                return Flushed {
                    delivered: true,
                    queued,
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Flushed {
                    delivered: false,
                    queued,
                };
            }
            let live = self.shared.live.lock().unwrap_or_else(|p| p.into_inner());
            let pause = (deadline - now).min(Duration::from_millis(50));
            let _ = self.shared.changed.wait_timeout(live, pause);
        }
    }

    /// Delivery state: the room file plus what this process's sender saw.
    pub fn status(&self) -> Result<Option<RoomStatus>, ClientError> {
        let mut st = status(&self.data_dir)?;
        let live = self
            .shared
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let (Some(s), Some(flowing)) = (st.as_mut(), live.flowing) {
            s.flowing = Some(flowing);
        }
        Ok(st)
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake(true);
    }
}
