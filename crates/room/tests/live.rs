//! The room, live (#13), against a real room server on loopback: learners
//! and the projector follow the live stream; the instructor's commands,
//! poll answers and reveals reach every one of them; a late joiner gets the
//! current state at once; a restarted server carries on and the feeds
//! reconnect by themselves; nobody without the right token gets in.

mod common;

use common::{TestRoom, learner_dir};
use datalab_room::live::{Command, PollAnswer, QuestionDef};
use datalab_room::{Endpoint, Feed, LiveFeed, TlsMode, answer_poll, send_command};
use std::time::Duration;

/// Generous: the suite runs on a busy 2-core machine.
const WAIT: Duration = Duration::from_secs(30);

fn activity() -> Command {
    common::brainstorm("Brainstorm: a data platform for a retailer")
}

fn poll() -> Command {
    let q = |id: &str, right| QuestionDef {
        id: id.into(),
        prompt: format!("question {id}"),
        options: vec!["True".into(), "False".into()],
        right: vec![right],
        explanation: format!("because {id}"),
    };
    Command::OpenPoll {
        quiz: "big-data-basics".into(),
        title: "Big data basics".into(),
        questions: vec![q("q1", 0), q("q2", 1)],
    }
}

fn instruct(room: &TestRoom, cmd: &Command) {
    send_command(&room.join_url(), &room.instructor(), cmd).expect("the instructor's command");
}

/// A learner who joined the room, and their live feed.
fn learner(room: &TestRoom, name: &str) -> (tempfile::TempDir, LiveFeed) {
    let home = learner_dir();
    datalab_room::join(home.path(), &room.join_url(), &room.code(), name).expect("join");
    let feed = LiveFeed::follow_joined(home.path())
        .unwrap()
        .expect("joined");
    (home, feed)
}

fn projector(room: &TestRoom) -> LiveFeed {
    let ep = Endpoint::parse(&room.join_url()).unwrap();
    LiveFeed::follow(ep, room.server().view_token().to_string()).unwrap()
}

fn wait(feed: &mut LiveFeed, what: &str, pred: impl Fn(&Feed) -> bool) -> Feed {
    feed.wait_for(WAIT, pred)
        .unwrap_or_else(|| panic!("{what}: the feed never showed it; it has {:?}", feed.now()))
}

fn version(f: &Feed) -> u64 {
    f.view.as_ref().map_or(0, |(v, _)| v.version)
}

#[test]
fn a_late_joiner_gets_the_running_activity_at_once_and_then_every_change() {
    let room = TestRoom::start(TlsMode::Off);
    instruct(&room, &activity());
    let (_home, mut feed) = learner(&room, "Late Lena");
    let f = wait(&mut feed, "the running activity", |f| {
        f.view.as_ref().is_some_and(|(v, _)| v.activity.is_some())
    });
    let a = f.view.unwrap().0.activity.unwrap();
    assert!(
        a.running && a.phase == 0 && a.remaining_ms > 170_000,
        "{a:?}"
    );
    for (cmd, check) in [
        (Command::Pause, "paused"),
        (Command::AddMinute, "a minute more"),
        (Command::Resume, "running again"),
        (Command::NextPhase, "phase 2"),
    ] {
        instruct(&room, &cmd);
        let v = room_version(&room);
        let f = wait(&mut feed, check, |f| version(f) >= v);
        let a = f.view.unwrap().0.activity.unwrap();
        match cmd {
            Command::Pause => assert!(!a.running),
            Command::AddMinute => assert!(a.remaining_ms > 230_000, "{a:?}"),
            Command::NextPhase => assert_eq!((a.phase, a.running), (1, true)),
            _ => assert!(a.running),
        }
    }
    instruct(&room, &Command::EndActivity);
    wait(&mut feed, "the activity ended", |f| {
        f.view.as_ref().is_some_and(|(v, _)| v.activity.is_none())
    });
}

/// The room's current version, as the instructor sees it.
fn room_version(room: &TestRoom) -> u64 {
    let (status, body) = room.raw("GET", "/api/v1/live", Some(&room.instructor()), b"");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["version"]
        .as_u64()
        .unwrap()
}

fn answer(home: &tempfile::TempDir, question: &str, option: usize) {
    let a = PollAnswer {
        question: question.into(),
        options: vec![option],
    };
    answer_poll(home.path(), &a).expect("the answer is taken");
}

#[test]
fn poll_counts_equal_the_answers_and_the_reveal_reaches_every_learner() {
    let room = TestRoom::start(TlsMode::Off);
    instruct(&room, &poll());
    let mut learners: Vec<_> = (0..5).map(|i| learner(&room, &format!("L{i}"))).collect();
    let mut screen = projector(&room);
    for (i, (home, _)) in learners.iter().enumerate() {
        answer(home, "q1", usize::from(i >= 3)); // three say True, two False
    }
    answer(&learners[4].0, "q1", 0); // one changes their mind: 4 True, 1 False
    let v = room_version(&room);
    let f = wait(&mut screen, "the counts", |f| version(f) >= v);
    let q = f.view.unwrap().0.poll.unwrap().question;
    assert_eq!((q.counts, q.answered, q.right), (Some(vec![4, 1]), 5, None));
    let (_, feed) = &mut learners[0];
    let q = wait(feed, "the learner's view", |f| version(f) >= v)
        .view
        .unwrap()
        .0
        .poll
        .unwrap()
        .question;
    assert_eq!(
        (q.counts, q.right, q.mine),
        (None, None, Some(vec![0])),
        "nothing of others before the reveal"
    );
    instruct(&room, &Command::Reveal);
    for (i, (_, feed)) in learners.iter_mut().enumerate() {
        let f = wait(feed, &format!("learner {i} sees the reveal"), |f| {
            f.view
                .as_ref()
                .is_some_and(|(v, _)| v.poll.as_ref().is_some_and(|p| p.question.revealed))
        });
        let q = f.view.unwrap().0.poll.unwrap().question;
        assert_eq!(q.right, Some(vec![0]));
        assert_eq!(q.explanation.as_deref(), Some("because q1"));
        assert_eq!(q.counts, Some(vec![4, 1]));
    }
    let late = PollAnswer {
        question: "q1".into(),
        options: vec![1],
    };
    let err = answer_poll(learners[1].0.path(), &late).unwrap_err();
    assert!(err.to_string().contains("answers are closed"), "{err}");
    instruct(&room, &Command::ShowQuestion { index: 1 });
    let f = wait(&mut screen, "question 2", |f| {
        f.view
            .as_ref()
            .is_some_and(|(v, _)| v.poll.as_ref().is_some_and(|p| p.current == 1))
    });
    assert_eq!(
        f.view.unwrap().0.poll.unwrap().question.counts,
        Some(vec![0, 0])
    );
}

#[test]
fn a_restarted_room_carries_on_and_feeds_reconnect_by_themselves() {
    let mut room = TestRoom::start(TlsMode::Off);
    instruct(&room, &activity());
    instruct(&room, &poll());
    let (home, mut feed) = learner(&room, "Rita");
    answer(&home, "q1", 1);
    let before = room_version(&room);
    wait(&mut feed, "the state before the restart", |f| {
        version(f) >= before
    });
    room.stop();
    wait(&mut feed, "the feed notices", |f| !f.connected);
    room.restart();
    let f = wait(&mut feed, "reconnected", |f| f.connected);
    let v = f.view.unwrap().0;
    assert_eq!(v.version, before, "the saved state, not a fresh one");
    assert_eq!(
        v.poll.unwrap().question.mine,
        Some(vec![1]),
        "the acknowledged answer survived"
    );
    assert!(v.activity.unwrap().running);
    instruct(&room, &Command::Pause);
    wait(&mut feed, "a change after the restart", |f| {
        version(f) > before
    });
}

#[test]
fn the_live_routes_ask_for_the_right_token() {
    let room = TestRoom::start(TlsMode::Off);
    let (home, _feed) = learner(&room, "Tom");
    let cmd = serde_json::to_vec(&Command::Pause).unwrap();
    assert_eq!(room.raw("GET", "/api/v1/live/stream", None, b"").0, 401);
    assert_eq!(
        room.raw("GET", "/api/v1/live/stream?token=nope", None, b"")
            .0,
        401
    );
    assert_eq!(room.raw("POST", "/api/v1/live", None, &cmd).0, 401);
    let view = room.server().view_token().to_string();
    assert_eq!(room.raw("POST", "/api/v1/live", Some(&view), &cmd).0, 403);
    let a = br#"{"question":"q1","options":[0]}"#;
    assert_eq!(
        room.raw("POST", "/api/v1/live/answer", Some(&view), a).0,
        403
    );
    assert_eq!(
        room.raw("GET", "/api/v1/live/notes", Some(&view), b"").0,
        403
    );
    let me = room.instructor();
    let (status, body) = room.raw("POST", "/api/v1/live", Some(&me), b"{\"cmd\":\"explode\"}");
    assert_eq!(status, 400, "{body}");
    let (status, body) = room.raw("POST", "/api/v1/live", Some(&me), &cmd);
    assert_eq!(status, 409, "pause with no activity: {body}");
    assert!(body.contains("no activity"), "{body}");
    let err = answer_poll(
        home.path(),
        &PollAnswer {
            question: "q1".into(),
            options: vec![0],
        },
    );
    assert!(err.unwrap_err().to_string().contains("no poll"));
    let (status, page) = room.raw("GET", "/projector", None, b"");
    assert_eq!(status, 200);
    assert!(
        page.contains("EventSource") && !page.contains(&view),
        "the page carries no token"
    );
}

#[test]
fn notes_reach_the_room_and_a_picked_one_shows_without_its_author() {
    let room = TestRoom::start(TlsMode::Off);
    let (home, _feed) = learner(&room, "Nora");
    let reporter = datalab_room::Reporter::start(home.path()).unwrap().unwrap();
    reporter
        .report(datalab_room::Event::NoteSaved {
            activity: "brainstorm".into(),
            phase: "1".into(),
            text: "Kafka in front of the warehouse".into(),
        })
        .unwrap();
    assert!(reporter.flush(WAIT).delivered, "the note was delivered");
    let notes = datalab_room::notes(&room.join_url(), &room.instructor(), "brainstorm").unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].author, "Nora");
    instruct(&room, &Command::PickNote { id: notes[0].id });
    let mut screen = projector(&room);
    let f = wait(&mut screen, "the picked note", |f| {
        f.view.as_ref().is_some_and(|(v, _)| v.note.is_some())
    });
    let note = f.view.unwrap().0.note.unwrap();
    assert_eq!(
        (note.text.as_str(), note.author),
        ("Kafka in front of the warehouse", None)
    );
}
