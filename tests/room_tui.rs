//! The instructor's room screen drawn into a `TestBackend` at 80×24 from a
//! room folded from events with a fixed clock: a few learners with one
//! stuck, the detail pane, the units tab, a 200-learner room (scrolling,
//! filtering), a name full of escape sequences shown escaped, and the live
//! tab (a running activity, an open poll with counts; the commands its
//! keys queue).

mod common;

use datalab_content::Course;
use datalab_room::live::{
    ActivityView, Command, LivePhase, LiveView, NoteView, PollView, QuestionView,
};
use datalab_room::store::{LearnerRow, StoredEvent};
use datalab_room::{Event, RoomModel, ViewOptions};
use datalab_tui::RoomScreen;
use datalab_tui::room::Tab;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use std::time::Instant;

/// The fixed "now" of every screen: 2026-01-01 10:00 UTC.
const NOW: i64 = 1_767_261_600_000;
const MIN: i64 = 60_000;

fn course() -> Course {
    Course::load(common::content()).expect("the shipped course loads")
}

/// Folds events into a model the way the room does, with explicit times.
struct Room {
    model: RoomModel,
    next_event: i64,
}

impl Room {
    fn new() -> Room {
        Room {
            model: RoomModel::new(),
            next_event: 1,
        }
    }

    fn learner(&mut self, id: u64, name: &str, joined_min_ago: i64) {
        self.model.add_learner(&LearnerRow {
            id,
            name: name.into(),
            token_hash: [0; 32],
            joined_ms: NOW - joined_min_ago * MIN,
        });
    }

    fn event(&mut self, learner: u64, min_ago: i64, event: Event) {
        let at = NOW - min_ago * MIN;
        self.model.apply(&StoredEvent {
            id: self.next_event,
            learner,
            seq: self.next_event as u64,
            at_ms: at,
            received_ms: at,
            event,
        });
        self.next_event += 1;
    }

    fn check(&mut self, learner: u64, min_ago: i64, step: &str, id: &str, passed: bool, msg: &str) {
        let event = Event::CheckResult {
            lab: "mapreduce".into(),
            step: step.into(),
            check_id: id.into(),
            passed,
            message: msg.into(),
        };
        self.event(learner, min_ago, event);
    }

    fn screen(self) -> RoomScreen {
        RoomScreen::new(self.model, &course(), ViewOptions::default(), NOW).monochrome()
    }
}

fn opened(unit: &str) -> Event {
    Event::UnitOpened { unit: unit.into() }
}

fn done(unit: &str) -> Event {
    Event::UnitDone { unit: unit.into() }
}

fn answer(quiz: &str, q: &str, correct: bool) -> Event {
    Event::QuizAnswer {
        quiz: quiz.into(),
        question: q.into(),
        answer: "t".into(),
        correct,
    }
}

/// Five learners: one stuck on a failing step for 25 minutes, one whose
/// name carries terminal escape sequences.
fn small_room() -> RoomScreen {
    let mut r = Room::new();
    r.learner(1, "Ada Lovelace", 90);
    r.learner(2, "Grace Hopper", 90);
    r.learner(3, "\u{1b}[31mEve\u{1b}]0;pwned\u{7}", 80);
    r.learner(4, "Linus", 70);
    r.learner(5, "Margaret Hamilton", 60);
    r.event(1, 80, done("true-or-false-task"));
    r.event(1, 70, answer("true-or-false", "only-online", true));
    r.event(1, 69, answer("true-or-false", "tweets", false));
    r.event(1, 60, done("true-or-false"));
    r.event(1, 40, opened("mapreduce"));
    r.check(
        1,
        30,
        "wordcount",
        "1.mapreduce_output",
        false,
        "word `the`: expected 412, got 1",
    );
    r.event(
        1,
        28,
        Event::HintRevealed {
            lab: "mapreduce".into(),
            step: "wordcount".into(),
            hint: "re.findall(r\"[a-z]+\", line.lower()) gives the words".into(),
        },
    );
    r.check(
        1,
        25,
        "wordcount",
        "1.mapreduce_output",
        false,
        "word `the`: expected 412, got 2",
    );
    r.event(2, 85, done("true-or-false-task"));
    r.event(2, 50, opened("mapreduce"));
    r.check(
        2,
        20,
        "wordcount",
        "1.mapreduce_output",
        true,
        "all 1,203 words counted right",
    );
    r.check(
        2,
        3,
        "index",
        "1.mapreduce_output",
        false,
        "doc list for `data` is not sorted",
    );
    r.event(3, 10, opened("what-is-big-data"));
    r.event(4, 2, opened("kafka-fundamentals"));
    r.event(4, 1, done("true-or-false-task"));
    r.screen()
}

fn draw(s: &RoomScreen) -> String {
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
    term.draw(|f| s.render(f)).expect("draw");
    common::buffer_text(term.backend().buffer())
}

fn key(s: &mut RoomScreen, code: KeyCode) {
    s.handle_key(KeyEvent::from(code));
}

fn typed(s: &mut RoomScreen, text: &str) {
    for c in text.chars() {
        key(s, KeyCode::Char(c));
    }
}

#[test]
fn room_with_one_learner_stuck() {
    let s = small_room();
    let text = draw(&s);
    // The stuck learner is first and marked.
    let first = text.lines().nth(3).unwrap();
    assert!(first.starts_with("▸! Ada Lovelace"), "{text}");
    insta::assert_snapshot!("room_small", text);
}

#[test]
fn names_with_escape_sequences_are_shown_escaped() {
    let s = small_room();
    let text = draw(&s);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("\\x1b[31mEve\\x1b"), "{text}");
}

#[test]
fn enter_shows_the_learner_detail() {
    let mut s = small_room();
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.detail_open(), Some(1));
    let text = draw(&s);
    assert!(
        text.contains("STUCK: this step has failed for 30m"),
        "{text}"
    );
    insta::assert_snapshot!("room_detail", text);
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.detail_open(), None);
    assert!(!s.quit());
}

#[test]
fn units_tab_follows_the_agenda() {
    let mut s = small_room();
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.tab(), Tab::Units);
    let text = draw(&s);
    let task = text
        .find("Group task - true or false?")
        .expect("the first unit");
    let quiz = text.find("Is it true?").expect("the second unit");
    assert!(task < quiz, "agenda order: {text}");
    insta::assert_snapshot!("room_units", text);
}

/// 200 learners, every fifth stuck.
fn big_room() -> RoomScreen {
    let mut r = Room::new();
    for i in 1..=200u64 {
        r.learner(i, &format!("learner {i:03}"), 120);
        r.event(i, 100, opened("mapreduce"));
        let passed = i % 5 != 0;
        let ago = if passed { 5 } else { 15 + (i as i64 % 7) };
        r.check(i, ago, "wordcount", "1.mapreduce_output", passed, "checked");
        if i % 3 == 0 {
            r.event(i, 2, done("true-or-false"));
        }
    }
    r.screen()
}

#[test]
fn a_room_of_200_scrolls_and_filters() {
    let mut s = big_room();
    let text = draw(&s);
    assert!(text.contains("200 learners · 40 stuck"), "{text}");
    insta::assert_snapshot!("room_200", text);
    key(&mut s, KeyCode::End);
    let text = draw(&s);
    assert!(text.contains("learner 199"), "the last rows show: {text}");
    key(&mut s, KeyCode::Char('/'));
    typed(&mut s, "learner 12");
    key(&mut s, KeyCode::Enter);
    let text = draw(&s);
    assert!(text.contains("filter: learner 12  (10 of 200)"), "{text}");
    assert!(
        text.contains("learner 120") && !text.contains("learner 199"),
        "{text}"
    );
    key(&mut s, KeyCode::Esc);
    assert!(draw(&s).contains("200 learners"));
    assert!(!s.quit());
}

#[test]
fn too_small_a_terminal_says_so() {
    let s = small_room();
    let mut term = Terminal::new(TestBackend::new(60, 20)).expect("test terminal");
    term.draw(|f| s.render(f)).expect("draw");
    let text = common::buffer_text(term.backend().buffer());
    assert!(text.contains("at least 80×24"), "{text}");
}

// ------------------------------------------------------------ the room live

/// The instructor's view mid-workshop: the brainstorm's second phase with
/// 1:35 left (`running` or paused), question 2 of 9 of a quiz open as a
/// poll with 12 answers, and a learner's note on the projector.
fn live_view(running: bool) -> LiveView {
    let phase = |t: &str, secs| LivePhase {
        title: t.into(),
        secs,
    };
    let options = [
        "Map output is shuffled and sorted so each key's values meet in one reducer",
        "Each mapper writes its pairs straight into the job's final output files",
        "Reducers read the raw input again and join it with the mappers' output",
        "A master node merges all of the map output in memory, then splits it evenly",
    ];
    LiveView {
        version: 12,
        activity: Some(ActivityView {
            id: "brainstorm-applications".into(),
            title: "Brainstorm - where big data meets your work".into(),
            phases: vec![
                phase("Write down an application", 180),
                phase("Pass it on and build on it", 120),
                phase("Find the weak spot", 120),
            ],
            phase: 1,
            running,
            remaining_ms: 95_000,
        }),
        poll: Some(PollView {
            quiz: "processing-frameworks".into(),
            title: "Handling big data".into(),
            current: 1,
            total: 9,
            question: QuestionView {
                id: "mapreduce-phases".into(),
                prompt: "In MapReduce, what happens between the map and the reduce phase?".into(),
                options: options.map(String::from).to_vec(),
                answered: 12,
                counts: Some(vec![9, 2, 1, 0]),
                revealed: false,
                right: Some(vec![0]),
                explanation: None,
                mine: None,
            },
        }),
        note: Some(NoteView {
            activity: "brainstorm-applications".into(),
            phase: "1".into(),
            text: "Predict late trains from live track sensor data".into(),
            author: Some("Ada Lovelace".into()),
        }),
        show_names: false,
    }
}

/// The small room on its live tab, showing `view` with a fixed clock.
fn live_tab(view: LiveView) -> RoomScreen {
    let mut s = small_room();
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.tab(), Tab::Live);
    s.show_live(view, Instant::now());
    s
}

#[test]
fn live_tab_shows_the_timer_the_poll_and_the_note() {
    let s = live_tab(live_view(true));
    let text = draw(&s);
    assert!(text.contains("Phase 2 of 3: Pass it on"), "{text}");
    assert!(text.contains("01:35 left"), "{text}");
    assert!(text.contains("question 2 of 9"), "{text}");
    assert!(text.contains("12 answered"), "{text}");
    assert!(text.contains("✓ 1)"), "the right option is marked: {text}");
    insta::assert_snapshot!("room_live", text);
}

#[test]
fn live_tab_keys_queue_the_room_commands() {
    let mut s = live_tab(live_view(true));
    key(&mut s, KeyCode::Char(' '));
    key(&mut s, KeyCode::Char('v'));
    key(&mut s, KeyCode::Char(']'));
    key(&mut s, KeyCode::Char('N'));
    assert_eq!(
        s.take_live_commands(),
        [
            Command::Pause,
            Command::Reveal,
            Command::ShowQuestion { index: 2 },
            Command::ShowNames { on: true },
        ]
    );
    s.show_live(live_view(false), Instant::now());
    key(&mut s, KeyCode::Char(' '));
    assert_eq!(s.take_live_commands(), [Command::Resume]);
    assert!(s.take_live_commands().is_empty(), "taken once");
}

#[test]
fn enter_on_the_live_tab_starts_what_the_cursor_is_on() {
    let mut s = live_tab(LiveView::default());
    // The agenda opens with an activity, then a quiz.
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Down);
    key(&mut s, KeyCode::Enter);
    let sent = s.take_live_commands();
    assert!(
        matches!(&sent[0], Command::StartActivity { id, phases, .. }
            if id == "true-or-false-task" && !phases.is_empty()),
        "{sent:?}"
    );
    assert!(
        matches!(&sent[1], Command::OpenPoll { quiz, questions, .. }
            if quiz == "true-or-false" && !questions.is_empty()),
        "{sent:?}"
    );
    assert_eq!(sent.len(), 2);
    assert!(!s.quit());
}
