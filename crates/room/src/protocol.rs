//! What learners and the instructor exchange with the room server: the
//! events a learner reports, their envelopes (learner id + sequence number)
//! and the request/response bodies. Every body the server reads goes through
//! one `parse_*` function here, which never panics and answers a clear
//! message for anything malformed or out of bounds.

use serde::{Deserialize, Serialize};

/// Longest learner name, in characters (after trimming).
pub const MAX_NAME_CHARS: usize = 64;
/// Longest id (unit, quiz, lab, step, check id, activity, phase), in bytes.
pub const MAX_ID_BYTES: usize = 128;
/// Longest free text (check message, answer, hint, note), in bytes.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Most events in one posted batch.
pub const MAX_BATCH: usize = 200;
/// Largest request body the server reads; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One thing a learner did, as reported to the room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    UnitOpened {
        unit: String,
    },
    UnitDone {
        unit: String,
    },
    QuizAnswer {
        quiz: String,
        question: String,
        answer: String,
        correct: bool,
    },
    CheckResult {
        lab: String,
        step: String,
        check_id: String,
        passed: bool,
        message: String,
    },
    HintRevealed {
        lab: String,
        step: String,
        hint: String,
    },
    NoteSaved {
        activity: String,
        phase: String,
        text: String,
    },
}

/// An event as sent: who, which one (per-learner sequence number, from 1)
/// and when it happened on the learner's machine (unix milliseconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub learner: u64,
    pub seq: u64,
    pub at_ms: i64,
    pub event: Event,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub code: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinResponse {
    pub learner: u64,
    pub token: String,
    pub name: String,
    /// The learner's own login on services the room's instructor runs
    /// (see [`crate::JoinHook`]), when the room hands logins out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Secret>,
    /// Why the room could not make that login (the join itself stands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_error: Option<String>,
}

/// A document the room passes on without reading it (a learner's
/// credentials); its `Debug` hides it, so no log shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub events: Vec<Envelope>,
}

/// The sequence numbers now stored (new or already there): the client may
/// drop them from its outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAck {
    pub acked: Vec<u64>,
    /// How many of them were new (the rest were retries).
    pub stored: usize,
}

/// A learner's view of itself (`GET /api/v1/me`): nothing about others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeResponse {
    pub learner: u64,
    pub name: String,
    pub events: u64,
    pub high_seq: u64,
}

/// Error body of every 4xx/5xx answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// Why a body was refused (the server answers 400 with this message).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

fn bad(msg: impl Into<String>) -> BadRequest {
    BadRequest(msg.into())
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, BadRequest> {
    serde_json::from_slice(body).map_err(|e| bad(format!("malformed JSON: {e}")))
}

/// Parse and validate a join body. Returns the name trimmed.
pub fn parse_join(body: &[u8]) -> Result<JoinRequest, BadRequest> {
    let mut req: JoinRequest = parse_json(body)?;
    req.name = validate_name(&req.name)?;
    if req.code.is_empty() || req.code.len() > MAX_ID_BYTES {
        return Err(bad("join code: missing or too long"));
    }
    Ok(req)
}

/// Parse and validate an events batch (1..=MAX_BATCH envelopes).
pub fn parse_batch(body: &[u8]) -> Result<EventBatch, BadRequest> {
    let batch: EventBatch = parse_json(body)?;
    if batch.events.is_empty() {
        return Err(bad("events: empty batch"));
    }
    if batch.events.len() > MAX_BATCH {
        return Err(bad(format!("events: more than {MAX_BATCH} in one batch")));
    }
    for (i, env) in batch.events.iter().enumerate() {
        validate_envelope(env).map_err(|e| bad(format!("events[{i}]: {}", e.0)))?;
    }
    Ok(batch)
}

/// A name: trimmed, 1..=MAX_NAME_CHARS characters. Any character is
/// allowed; names are escaped wherever they are shown.
pub fn validate_name(name: &str) -> Result<String, BadRequest> {
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("name: empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(bad(format!(
            "name: longer than {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_string())
}

/// Sequence numbers start at 1; fields have bounded lengths.
pub fn validate_envelope(env: &Envelope) -> Result<(), BadRequest> {
    if env.seq == 0 || env.seq > i64::MAX as u64 {
        return Err(bad("seq: must be between 1 and 2^63-1"));
    }
    if env.learner > i64::MAX as u64 {
        return Err(bad("learner: out of range"));
    }
    validate_event(&env.event)
}

pub fn validate_event(event: &Event) -> Result<(), BadRequest> {
    for (field, value, limit) in event_fields(event) {
        if value.len() > limit {
            return Err(bad(format!("{field}: longer than {limit} bytes")));
        }
        if limit == MAX_ID_BYTES && value.is_empty() {
            return Err(bad(format!("{field}: empty")));
        }
    }
    Ok(())
}

/// Every string field of an event with its length limit.
fn event_fields(event: &Event) -> Vec<(&'static str, &str, usize)> {
    const ID: usize = MAX_ID_BYTES;
    const TEXT: usize = MAX_TEXT_BYTES;
    match event {
        Event::UnitOpened { unit } | Event::UnitDone { unit } => vec![("unit", unit, ID)],
        Event::QuizAnswer {
            quiz,
            question,
            answer,
            ..
        } => vec![
            ("quiz", quiz, ID),
            ("question", question, ID),
            ("answer", answer, TEXT),
        ],
        Event::CheckResult {
            lab,
            step,
            check_id,
            message,
            ..
        } => vec![
            ("lab", lab, ID),
            ("step", step, ID),
            ("check_id", check_id, ID),
            ("message", message, TEXT),
        ],
        Event::HintRevealed { lab, step, hint } => {
            vec![("lab", lab, ID), ("step", step, ID), ("hint", hint, TEXT)]
        }
        Event::NoteSaved {
            activity,
            phase,
            text,
        } => vec![
            ("activity", activity, ID),
            ("phase", phase, ID),
            ("text", text, TEXT),
        ],
    }
}

impl Event {
    /// The tag used in JSON and in the store (`check_result`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::UnitOpened { .. } => "unit_opened",
            Event::UnitDone { .. } => "unit_done",
            Event::QuizAnswer { .. } => "quiz_answer",
            Event::CheckResult { .. } => "check_result",
            Event::HintRevealed { .. } => "hint_revealed",
            Event::NoteSaved { .. } => "note_saved",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_json() {
        let e = Event::UnitOpened { unit: "u1".into() };
        let j = serde_json::to_string(&e).unwrap();
        assert_eq!(j, r#"{"type":"unit_opened","unit":"u1"}"#);
    }

    #[test]
    fn batch_errors_name_the_event() {
        let body = br#"{"events":[{"learner":1,"seq":0,"at_ms":0,"event":{"type":"unit_done","unit":"x"}}]}"#;
        let err = parse_batch(body).unwrap_err();
        assert!(err.0.starts_with("events[0]: seq"), "{err}");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name("  Ada ").unwrap(), "Ada");
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"é".repeat(65)).is_err());
        assert!(validate_name(&"é".repeat(64)).is_ok());
    }
}
