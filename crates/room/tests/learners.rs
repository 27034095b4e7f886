//! The learner side against a real server over loopback: join, report in
//! the background, flush, offline outbox, TLS pinning, leave.

mod common;

use common::{TestRoom, check, file_mode, learner_dir, unit_opened};
use datalab_room::{ClientError, Event, Reporter, RoomModel, Store, TlsMode, ViewOptions};
use std::time::Duration;

const FLUSH: Duration = Duration::from_secs(20);

fn model(room: &TestRoom) -> RoomModel {
    RoomModel::load(&Store::open_readonly(&room.room_dir()).unwrap()).unwrap()
}

#[test]
fn two_learners_report_get_stuck_and_recover() {
    let room = TestRoom::start(TlsMode::Off);
    let (da, db) = (learner_dir(), learner_dir());
    let a = datalab_room::join(da.path(), &room.join_url(), &room.code(), "Ada").unwrap();
    let b = datalab_room::join(db.path(), &room.join_url(), &room.code(), "Bob").unwrap();
    assert_eq!(file_mode(&da.path().join("room.json")), 0o600);
    let ra = Reporter::start(da.path()).unwrap().unwrap();
    let rb = Reporter::start(db.path()).unwrap().unwrap();
    ra.report(unit_opened("kafka-lab")).unwrap();
    ra.report(check(
        "kafka",
        "2",
        "topic-exists",
        false,
        "no topic named orders",
    ))
    .unwrap();
    for hint in ["h1", "h2", "h3"] {
        let e = Event::HintRevealed {
            lab: "kafka".into(),
            step: "2".into(),
            hint: hint.into(),
        };
        ra.report(e).unwrap();
    }
    rb.report(unit_opened("kafka-lab")).unwrap();
    rb.report(check("kafka", "2", "topic-exists", true, "ok"))
        .unwrap();
    rb.report(Event::UnitDone {
        unit: "intro".into(),
    })
    .unwrap();
    assert!(ra.flush(FLUSH).delivered);
    assert!(rb.flush(FLUSH).delivered);
    let opts = ViewOptions::default();
    let view = model(&room).view(datalab_room::now_ms(), &opts);
    assert_eq!(view.rows.len(), 2);
    assert_eq!(view.rows[0].learner, a.learner, "stuck Ada sorts first");
    assert!(view.rows[0].stuck.is_some());
    assert!(view.rows[1].stuck.is_none());
    assert_eq!(view.rows[1].learner, b.learner);
    assert_eq!(view.units[0].unit, "intro");
    assert_eq!(view.units[0].finished, 1);
    // Ada fixes it: no longer stuck.
    ra.report(check("kafka", "2", "topic-exists", true, "ok"))
        .unwrap();
    assert!(ra.flush(FLUSH).delivered);
    let view = model(&room).view(datalab_room::now_ms(), &opts);
    assert!(view.rows.iter().all(|r| r.stuck.is_none()));
    let st = ra.status().unwrap().unwrap();
    assert_eq!((st.queued, st.flowing), (0, Some(true)));
}

#[test]
fn offline_learner_drains_in_order_exactly_once() {
    let mut room = TestRoom::start(TlsMode::Off);
    let dir = learner_dir();
    let joined = datalab_room::join(dir.path(), &room.join_url(), &room.code(), "Ada").unwrap();
    room.stop();
    let r = Reporter::start(dir.path()).unwrap().unwrap();
    for i in 0..30 {
        r.report(unit_opened(&format!("u{i}"))).unwrap();
    }
    let flushed = r.flush(Duration::from_millis(300));
    assert_eq!((flushed.delivered, flushed.queued), (false, 30));
    let st = datalab_room::status(dir.path()).unwrap().unwrap();
    assert_eq!(st.queued, 30);
    assert_eq!(st.flowing, Some(false));
    assert!(st.last_error.is_some());
    drop(r);
    // A new process (fresh reporter) after the room is back.
    room.restart();
    let r = Reporter::start(dir.path()).unwrap().unwrap();
    assert!(r.flush(FLUSH).delivered);
    let want: Vec<(u64, u64)> = (1..=30).map(|s| (joined.learner, s)).collect();
    assert_eq!(room.stored(), want);
    let store = Store::open_readonly(&room.room_dir()).unwrap();
    let arrival: Vec<u64> = store
        .events_since(0, 100)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(arrival, (1..=30).collect::<Vec<_>>(), "arrived in order");
    assert_eq!(datalab_room::status(dir.path()).unwrap().unwrap().queued, 0);
}

#[test]
fn https_with_the_pinned_fingerprint() {
    let room = TestRoom::start(TlsMode::On);
    let url = room.join_url();
    assert!(
        url.starts_with("https://") && url.contains("#sha256="),
        "{url}"
    );
    let dir = learner_dir();
    datalab_room::join(dir.path(), &url, &room.code(), "Ada").unwrap();
    let r = Reporter::start(dir.path()).unwrap().unwrap();
    r.report(unit_opened("intro")).unwrap();
    assert!(r.flush(FLUSH).delivered);
    assert_eq!(room.stored().len(), 1);
    let me = datalab_room::probe(dir.path(), Duration::from_secs(10)).unwrap();
    assert_eq!((me.events, me.high_seq), (1, 1));
}

#[test]
fn a_wrong_fingerprint_is_refused() {
    let room = TestRoom::start(TlsMode::On);
    let fp = room.server().fingerprint().unwrap();
    let wrong: String = fp.chars().rev().collect();
    let url = room.join_url().replace(fp, &wrong);
    let dir = learner_dir();
    let err = datalab_room::join(dir.path(), &url, &room.code(), "Ada").unwrap_err();
    assert!(matches!(err, ClientError::Network(_)), "{err}");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    assert!(!dir.path().join("room.json").exists());
    // Plain HTTP to the HTTPS room does not work either.
    let plain = format!("http://{}", room.addr);
    assert!(datalab_room::join(dir.path(), &plain, &room.code(), "Ada").is_err());
}

#[test]
fn names_with_escape_sequences_are_shown_escaped() {
    let room = TestRoom::start(TlsMode::Off);
    let dir = learner_dir();
    let evil = "\u{1b}[31mEve\u{1b}]0;owned\u{7}\u{9b}2J";
    datalab_room::join(dir.path(), &room.join_url(), &room.code(), evil).unwrap();
    let view = model(&room).view(datalab_room::now_ms(), &ViewOptions::default());
    assert_eq!(view.rows[0].name, "\\x1b[31mEve\\x1b]0;owned\\x07\\x9b2J");
    let (status, body) = room.raw("GET", "/api/v1/view", Some(&room.instructor()), b"");
    assert_eq!(status, 200);
    assert!(
        !body.contains('\u{1b}') && !body.contains('\u{9b}'),
        "{body}"
    );
    let (_, csv) = room.raw(
        "GET",
        "/api/v1/export?format=csv",
        Some(&room.instructor()),
        b"",
    );
    assert!(!csv.contains('\u{1b}'), "{csv}");
}

#[test]
fn join_twice_leave_and_report_after_leaving() {
    let room = TestRoom::start(TlsMode::Off);
    let dir = learner_dir();
    datalab_room::join(dir.path(), &room.join_url(), &room.code(), "Ada").unwrap();
    let again = datalab_room::join(dir.path(), &room.join_url(), &room.code(), "Ada");
    assert!(matches!(again, Err(ClientError::AlreadyJoined { .. })));
    let r = Reporter::start(dir.path()).unwrap().unwrap();
    let left = datalab_room::leave(dir.path()).unwrap().unwrap();
    assert_eq!(left.joined.name, "Ada");
    assert!(matches!(
        r.report(unit_opened("x")),
        Err(ClientError::NotJoined)
    ));
    assert!(Reporter::start(dir.path()).unwrap().is_none());
    assert!(datalab_room::status(dir.path()).unwrap().is_none());
    assert!(datalab_room::leave(dir.path()).unwrap().is_none());
}
