//! The HTTP API's rules over real loopback HTTP: tokens and roles, body
//! limits, malformed bodies, join codes, duplicates.

mod common;

use common::{TestRoom, file_mode};
use datalab_room::TlsMode;
use serde_json::{Value, json};

fn join_raw(room: &TestRoom, name: &str) -> (u64, String) {
    let body = json!({"code": room.code(), "name": name}).to_string();
    let (status, text) = room.raw("POST", "/api/v1/join", None, body.as_bytes());
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    (
        v["learner"].as_u64().unwrap(),
        v["token"].as_str().unwrap().to_string(),
    )
}

fn batch(learner: u64, seqs: std::ops::RangeInclusive<u64>) -> String {
    let events: Vec<Value> = seqs
        .map(|seq| {
            json!({"learner": learner, "seq": seq, "at_ms": 1_000 + seq as i64,
                          "event": {"type": "unit_opened", "unit": format!("u{seq}")}})
        })
        .collect();
    json!({ "events": events }).to_string()
}

#[test]
fn tokens_and_roles() {
    let room = TestRoom::start(TlsMode::Off);
    let (a, token_a) = join_raw(&room, "Ada");
    let (b, _token_b) = join_raw(&room, "Bob");
    let body = batch(a, 1..=2);
    // Missing and unknown tokens: 401, nothing written.
    assert_eq!(
        room.raw("POST", "/api/v1/events", None, body.as_bytes()).0,
        401
    );
    assert_eq!(
        room.raw("POST", "/api/v1/events", Some("nope"), body.as_bytes())
            .0,
        401
    );
    assert_eq!(room.raw("GET", "/api/v1/view", None, b"").0, 401);
    assert!(room.stored().is_empty());
    // A learner writes only its own events.
    let (status, text) = room.raw(
        "POST",
        "/api/v1/events",
        Some(&token_a),
        batch(b, 1..=1).as_bytes(),
    );
    assert_eq!(status, 403, "{text}");
    assert!(room.stored().is_empty());
    // ... and reads nothing of the room.
    for path in [
        "/api/v1/view",
        "/api/v1/summary",
        "/api/v1/export?format=csv",
        "/api/v1/learners/2",
    ] {
        assert_eq!(room.raw("GET", path, Some(&token_a), b"").0, 403, "{path}");
    }
    // The instructor does not post learner events; the view token reads the summary only.
    let instructor = room.instructor();
    assert_eq!(
        room.raw("POST", "/api/v1/events", Some(&instructor), body.as_bytes())
            .0,
        403
    );
    let view_token = room.server().view_token().to_string();
    assert_eq!(
        room.raw("GET", "/api/v1/summary", Some(&view_token), b"").0,
        200
    );
    assert_eq!(
        room.raw("GET", "/api/v1/view", Some(&view_token), b"").0,
        403
    );
    assert_eq!(
        room.raw("GET", "/api/v1/view", Some(&instructor), b"").0,
        200
    );
    // The learner's own events go in.
    let (status, text) = room.raw("POST", "/api/v1/events", Some(&token_a), body.as_bytes());
    assert_eq!(status, 200, "{text}");
    assert_eq!(room.stored(), vec![(a, 1), (a, 2)]);
    let (status, text) = room.raw("GET", "/api/v1/me", Some(&token_a), b"");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["high_seq"], 2);
}

#[test]
fn retried_events_are_stored_once() {
    let room = TestRoom::start(TlsMode::Off);
    let (a, token) = join_raw(&room, "Ada");
    let (_, first) = room.raw(
        "POST",
        "/api/v1/events",
        Some(&token),
        batch(a, 1..=3).as_bytes(),
    );
    let (_, again) = room.raw(
        "POST",
        "/api/v1/events",
        Some(&token),
        batch(a, 2..=4).as_bytes(),
    );
    let first: Value = serde_json::from_str(&first).unwrap();
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(
        (first["stored"].as_u64(), again["stored"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(again["acked"], json!([2, 3, 4]));
    assert_eq!(room.stored(), vec![(a, 1), (a, 2), (a, 3), (a, 4)]);
}

#[test]
fn bad_bodies_get_clear_answers() {
    let room = TestRoom::start(TlsMode::Off);
    let (a, token) = join_raw(&room, "Ada");
    let post = |body: &[u8]| room.raw("POST", "/api/v1/events", Some(&token), body);
    let (status, text) = post(b"{not json");
    assert_eq!(status, 400);
    assert!(text.contains("malformed JSON"), "{text}");
    let (status, text) =
        post(br#"{"events":[{"learner":1,"seq":1,"at_ms":0,"event":{"type":"teleport"}}]}"#);
    assert_eq!(status, 400, "{text}");
    let long = "x".repeat(5000);
    let body = json!({"events":[{"learner":a,"seq":1,"at_ms":0,"event":{"type":"unit_done","unit":long}}]});
    let (status, text) = post(body.to_string().as_bytes());
    assert_eq!(status, 400);
    assert!(text.contains("events[0]: unit: longer than"), "{text}");
    let huge = vec![b' '; 2 * 1024 * 1024];
    assert_eq!(post(&huge).0, 413);
    assert_eq!(room.raw("POST", "/api/v1/join", None, &huge).0, 413);
    assert_eq!(room.raw("POST", "/api/v1/join", None, b"[]").0, 400);
    assert!(room.stored().is_empty());
    // Still serving after all that.
    assert_eq!(room.raw("GET", "/api/v1/health", None, b"").0, 200);
}

#[test]
fn join_needs_the_code_and_a_free_name() {
    let room = TestRoom::start(TlsMode::Off);
    let wrong = json!({"code": "WRONGCODE", "name": "Eve"}).to_string();
    assert_eq!(
        room.raw("POST", "/api/v1/join", None, wrong.as_bytes()).0,
        401
    );
    join_raw(&room, "Ada");
    let again = json!({"code": room.code().to_lowercase(), "name": " ada "}).to_string();
    let (status, text) = room.raw("POST", "/api/v1/join", None, again.as_bytes());
    assert_eq!(status, 409, "{text}");
    let empty = json!({"code": room.code(), "name": "  "}).to_string();
    assert_eq!(
        room.raw("POST", "/api/v1/join", None, empty.as_bytes()).0,
        400
    );
}

#[test]
fn secrets_are_private_files_and_survive_restarts() {
    let mut room = TestRoom::start(TlsMode::On);
    let dir = room.room_dir();
    for f in ["instructor.token", "view.token", "key.pem"] {
        assert_eq!(file_mode(&dir.join(f)), 0o600, "{f}");
    }
    let (token, code, fp) = (
        room.instructor(),
        room.code(),
        room.server().fingerprint().unwrap().to_string(),
    );
    room.stop();
    room.restart();
    assert_eq!(room.instructor(), token);
    assert_eq!(room.code(), code);
    assert_eq!(room.server().fingerprint().unwrap(), fp);
    assert!(
        room.server()
            .join_line()
            .starts_with("datalab join https://127.0.0.1:")
    );
}

#[test]
fn export_over_http() {
    let room = TestRoom::start(TlsMode::Off);
    let (a, token) = join_raw(&room, "Ada");
    room.raw(
        "POST",
        "/api/v1/events",
        Some(&token),
        batch(a, 1..=1).as_bytes(),
    );
    let instructor = room.instructor();
    let (status, csv) = room.raw("GET", "/api/v1/export?format=csv", Some(&instructor), b"");
    assert_eq!(status, 200);
    assert!(csv.starts_with("learner,name,"), "{csv}");
    assert!(csv.contains("\r\n1,Ada,0,"), "{csv}");
    assert_eq!(
        room.raw("GET", "/api/v1/export?format=xml", Some(&instructor), b"")
            .0,
        400
    );
}
