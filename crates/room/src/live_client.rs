//! Following the room live (#13): [`LiveFeed`] keeps a server-sent-event
//! stream open in a background thread, reconnecting by itself, and holds
//! the latest [`LiveView`]; [`send_command`] and [`answer_poll`] are the
//! instructor's and the learner's one-shot requests.

use crate::http::{ClientError, Endpoint, HttpClient, block_on};
use crate::live::{Command, LiveView, PollAnswer};
use crate::outbox::RoomDir;
use http_body_util::BodyExt;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a request (or opening the stream) may take.
const TIMEOUT: Duration = Duration::from_secs(15);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3);
/// Longest event accepted from the stream.
const MAX_EVENT: usize = 1024 * 1024;

/// What the feed knows now.
#[derive(Clone, Debug, Default)]
pub struct Feed {
    /// The latest view and when it arrived (its `remaining_ms` counts from
    /// then).
    pub view: Option<(LiveView, Instant)>,
    pub connected: bool,
    /// Why the last connection failed or ended.
    pub error: Option<String>,
}

/// A live stream followed in the background; dropping it stops it.
pub struct LiveFeed {
    rx: watch::Receiver<Feed>,
    _stop: watch::Sender<bool>,
}

impl LiveFeed {
    /// Follow the room at `endpoint` with `token` (any role).
    pub fn follow(endpoint: Endpoint, token: String) -> Result<LiveFeed, ClientError> {
        let http = HttpClient::new(endpoint, TIMEOUT)?;
        let (tx, rx) = watch::channel(Feed::default());
        let (stop, stop_rx) = watch::channel(false);
        std::thread::Builder::new()
            .name("room-live".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a single-thread tokio runtime");
                rt.block_on(run(http, token, tx, stop_rx));
            })
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Ok(LiveFeed { rx, _stop: stop })
    }

    /// Follow the room the learner whose data dir is `home` joined; None
    /// when not in a room.
    pub fn follow_joined(home: &Path) -> Result<Option<LiveFeed>, ClientError> {
        let Some(file) = RoomDir::new(home).load()? else {
            return Ok(None);
        };
        LiveFeed::follow(Endpoint::parse(&file.url)?, file.token).map(Some)
    }

    /// The latest state (cheap; call it every frame).
    pub fn now(&self) -> Feed {
        self.rx.borrow().clone()
    }

    /// Has anything arrived since the last `now_changed`?
    pub fn now_changed(&mut self) -> Option<Feed> {
        if self.rx.has_changed().unwrap_or(false) {
            Some(self.rx.borrow_and_update().clone())
        } else {
            None
        }
    }

    /// Wait (blocking) until `pred` holds for the feed, up to `limit`.
    pub fn wait_for(&mut self, limit: Duration, pred: impl Fn(&Feed) -> bool) -> Option<Feed> {
        let end = Instant::now() + limit;
        loop {
            let f = self.rx.borrow_and_update().clone();
            if pred(&f) {
                return Some(f);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

async fn run(
    http: HttpClient,
    token: String,
    tx: watch::Sender<Feed>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let why = tokio::select! {
            r = follow_once(&http, &token, &tx) => r,
            _ = stop.changed() => return,
        };
        tx.send_modify(|f| {
            f.connected = false;
            f.error = Some(why);
        });
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Read one stream until it ends; returns why it ended.
async fn follow_once(http: &HttpClient, token: &str, tx: &watch::Sender<Feed>) -> String {
    let mut body = match http.open_stream("/api/v1/live/stream", token).await {
        Ok(b) => b,
        Err(e) => return e.to_string(),
    };
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let frame = match body.frame().await {
            None => return "the room closed the stream".into(),
            Some(Err(e)) => return format!("the stream broke: {e}"),
            Some(Ok(f)) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buf.extend_from_slice(&data);
        if buf.len() > MAX_EVENT * 2 {
            return "the room sent an oversized event".into();
        }
        while let Some(event) = take_event(&mut buf) {
            if let Some(view) = parse_event(&event) {
                tx.send_modify(|f| {
                    f.view = Some((view, Instant::now()));
                    f.connected = true;
                    f.error = None;
                });
            }
        }
    }
}

/// Cut the first complete event (ended by a blank line) off `buf`.
fn take_event(buf: &mut Vec<u8>) -> Option<String> {
    let text = std::str::from_utf8(buf).ok()?;
    let normalized_end = text.find("\n\n").map(|i| (i, 2));
    let crlf_end = text.find("\r\n\r\n").map(|i| (i, 4));
    let (at, len) = match (normalized_end, crlf_end) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    let event = text[..at].to_string();
    buf.drain(..at + len);
    Some(event)
}

/// The live view in one server-sent event (`event: live`), if it is one.
pub fn parse_event(event: &str) -> Option<LiveView> {
    let mut kind = "message";
    let mut data = String::new();
    for line in event.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(v) = line.strip_prefix("event:") {
            kind = v.trim_start();
        } else if let Some(v) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    if kind != "live" || data.len() > MAX_EVENT {
        return None;
    }
    serde_json::from_str(&data).ok()
}

/// Send an instructor's command to the room at `url`; returns the room's
/// view after it (or the room's reason for refusing it).
pub fn send_command(url: &str, token: &str, cmd: &Command) -> Result<LiveView, ClientError> {
    let body = serde_json::to_vec(cmd).map_err(|e| ClientError::Network(e.to_string()))?;
    post(url, token, "/api/v1/live", body)
}

/// Send a learner's poll answer to the room they joined.
pub fn answer_poll(home: &Path, answer: &PollAnswer) -> Result<LiveView, ClientError> {
    let file = RoomDir::new(home).load()?.ok_or(ClientError::NotJoined)?;
    let body = serde_json::to_vec(answer).map_err(|e| ClientError::Network(e.to_string()))?;
    post(&file.url, &file.token, "/api/v1/live/answer", body)
}

/// The notes learners saved (all activities when `activity` is empty).
pub fn notes(
    url: &str,
    token: &str,
    activity: &str,
) -> Result<Vec<crate::live::PickedNote>, ClientError> {
    let path = format!("/api/v1/live/notes?activity={}", query_escape(activity));
    let bytes = request(url, token, hyper::Method::GET, path, None)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::Network(format!("unreadable answer: {e}")))
}

fn post(url: &str, token: &str, path: &str, body: Vec<u8>) -> Result<LiveView, ClientError> {
    let bytes = request(
        url,
        token,
        hyper::Method::POST,
        path.to_string(),
        Some(body),
    )?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::Network(format!("unreadable answer: {e}")))
}

fn request(
    url: &str,
    token: &str,
    method: hyper::Method,
    path: String,
    body: Option<Vec<u8>>,
) -> Result<axum::body::Bytes, ClientError> {
    let endpoint = Endpoint::parse(url)?;
    let token = token.to_string();
    let r = block_on(async move {
        let mut http = HttpClient::new(endpoint, TIMEOUT)?;
        http.request(method, &path, Some(&token), body).await
    });
    r.map_err(refusal)
}

/// The room refusing a live change (409: not now; 400: not like that)
/// says why in words; that is the whole message.
fn refusal(e: ClientError) -> ClientError {
    match e {
        ClientError::Http {
            status: 400 | 409,
            message,
        } => ClientError::Refused(message),
        other => other,
    }
}

fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cut_at_blank_lines_and_read() {
        let mut buf = b"event: live\ndata: {\"version\":3,\"activity\":null,\"poll\":null,\"note\":null}\n\n: keep-alive\n\nevent: li".to_vec();
        let first = take_event(&mut buf).unwrap();
        assert_eq!(parse_event(&first).unwrap().version, 3);
        let ping = take_event(&mut buf).unwrap();
        assert_eq!(parse_event(&ping), None);
        assert_eq!(take_event(&mut buf), None, "an unfinished event waits");
        assert_eq!(buf, b"event: li");
        assert_eq!(parse_event("event: live\ndata: {not json"), None);
    }
}
