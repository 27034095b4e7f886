//! The background sender: one thread with its own small tokio runtime that
//! sends the outbox head, in order, and removes what the room acknowledged.
//! On failure it backs off (0.2 s doubling to 30 s); a flush request cuts a
//! backoff short. Nothing here ever blocks the caller.

use crate::http::{ClientError, Endpoint, HttpClient};
use crate::outbox::RoomDir;
use crate::protocol::{BatchAck, Envelope, EventBatch};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// With nothing queued, look at the outbox this often anyway (another
/// process may have appended).
const IDLE_POLL: Duration = Duration::from_secs(5);
/// Events per request.
const SEND_BATCH: usize = 100;
/// Generous: a loaded 2-core machine may take a while to answer.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What the sender last saw; read by `Reporter::status`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Live {
    pub queued: usize,
    pub flowing: Option<bool>,
    pub last_error: Option<String>,
    pub last_ok_ms: Option<i64>,
    pub stopped: bool,
}

#[derive(Default)]
pub(crate) struct Shared {
    pub notify: Notify,
    pub stop: AtomicBool,
    pub urgent: AtomicBool,
    pub live: Mutex<Live>,
    pub changed: Condvar,
}

impl Shared {
    pub fn set(&self, f: impl FnOnce(&mut Live)) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut live);
        self.changed.notify_all();
    }

    pub fn wake(&self, urgent: bool) {
        if urgent {
            self.urgent.store(true, Ordering::SeqCst);
        }
        self.notify.notify_one();
    }
}

pub(crate) fn spawn(dir: RoomDir, shared: Arc<Shared>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("room-sender".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match rt {
                Ok(rt) => rt.block_on(run(dir, shared.clone())),
                Err(e) => shared.set(|l| l.last_error = Some(e.to_string())),
            }
            shared.set(|l| l.stopped = true);
        })?;
    Ok(())
}

/// What one round did, deciding how long to wait before the next.
enum Round {
    Sent,
    Idle,
    Failed,
    Gone,
}

async fn run(dir: RoomDir, shared: Arc<Shared>) {
    let mut client: Option<(String, HttpClient)> = None;
    let mut backoff = MIN_BACKOFF;
    let mut batch = SEND_BATCH;
    while !shared.stop.load(Ordering::SeqCst) {
        match round(&dir, &shared, &mut client, &mut batch).await {
            Round::Sent => backoff = MIN_BACKOFF,
            Round::Idle => {
                backoff = MIN_BACKOFF;
                wait(&shared, IDLE_POLL, false).await;
            }
            Round::Failed => {
                wait(&shared, backoff, true).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Round::Gone => return,
        }
    }
}

/// Sleep `d`, or less when woken (any report; only a flush while backing off).
async fn wait(shared: &Shared, d: Duration, backing_off: bool) {
    let deadline = tokio::time::Instant::now() + d;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return,
            _ = shared.notify.notified() => {
                if !backing_off || shared.urgent.swap(false, Ordering::SeqCst) || shared.stop.load(Ordering::SeqCst) {
                    return;
                }
            }
        }
    }
}

async fn round(
    dir: &RoomDir,
    shared: &Shared,
    client: &mut Option<(String, HttpClient)>,
    batch: &mut usize,
) -> Round {
    let file = match dir.load() {
        Ok(Some(f)) => f,
        Ok(None) => return Round::Gone,
        Err(e) => return failed(dir, shared, &e.to_string()),
    };
    shared.set(|l| l.queued = file.events.len());
    if file.events.is_empty() {
        return Round::Idle;
    }
    let http = match connection(client, &file.url) {
        Ok(h) => h,
        Err(e) => return failed(dir, shared, &e.to_string()),
    };
    let events: Vec<Envelope> = file.events.iter().take(*batch).cloned().collect();
    match post(http, &file.token, events.clone()).await {
        Ok(ack) => {
            *batch = SEND_BATCH;
            let now = crate::now_ms();
            let left = dir.ack(&ack.acked, now).unwrap_or(file.events.len());
            shared.set(|l| {
                (l.queued, l.flowing, l.last_error, l.last_ok_ms) =
                    (left, Some(true), None, Some(now));
            });
            Round::Sent
        }
        Err(ClientError::Http {
            status: 400,
            message,
        }) => refused(dir, shared, batch, &events, &message),
        Err(e) => failed(dir, shared, &e.to_string()),
    }
}

/// A 400: find the bad event by sending one at a time, then drop it.
fn refused(
    dir: &RoomDir,
    shared: &Shared,
    batch: &mut usize,
    events: &[Envelope],
    why: &str,
) -> Round {
    match events {
        [one] => {
            let _ = dir.reject(one.seq, why);
            shared.set(|l| l.last_error = Some(format!("event {} refused: {why}", one.seq)));
        }
        _ => *batch = 1,
    }
    Round::Sent
}

fn failed(dir: &RoomDir, shared: &Shared, why: &str) -> Round {
    let _ = dir.note_error(why);
    shared.set(|l| {
        l.flowing = Some(false);
        l.last_error = Some(why.to_string());
    });
    Round::Failed
}

fn connection<'a>(
    client: &'a mut Option<(String, HttpClient)>,
    url: &str,
) -> Result<&'a mut HttpClient, ClientError> {
    if client.as_ref().is_none_or(|(u, _)| u != url) {
        let http = HttpClient::new(Endpoint::parse(url)?, REQUEST_TIMEOUT)?;
        *client = Some((url.to_string(), http));
    }
    client
        .as_mut()
        .map(|(_, h)| h)
        .ok_or(ClientError::NotJoined)
}

/// POST one batch; the acknowledgement lists the sequence numbers stored.
pub(crate) async fn post(
    http: &mut HttpClient,
    token: &str,
    events: Vec<Envelope>,
) -> Result<BatchAck, ClientError> {
    let body = serde_json::to_vec(&EventBatch { events })
        .map_err(|e| ClientError::Network(e.to_string()))?;
    let bytes = http
        .request(
            hyper::Method::POST,
            "/api/v1/events",
            Some(token),
            Some(body),
        )
        .await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::Network(format!("unreadable acknowledgement: {e}")))
}
