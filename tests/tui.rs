//! The TUI without a terminal: every screen drawn into a `TestBackend` at
//! 80×24 from the fixture course and snapshotted (text only, so colours and
//! NO_COLOR do not matter), plus key-driven behaviour against a temp home.
//! No services are needed: the fixture lab uses generic checks only.

mod common;

use datalab_content::{Content, Course};
use datalab_engine::progress::ProgressStore;
use datalab_services::{Namespace, ProviderKind, Services, ServicesConfig};
use datalab_tui::{App, Screen, TuiOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-course")
}

struct Harness {
    home: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    app: App,
}

fn course() -> Course {
    Course::load(Content::disk(fixture())).expect("the fixture course loads")
}

fn services(home: &Path) -> Arc<Services> {
    Arc::new(Services::new(ServicesConfig {
        data_dir: home.join("services"),
        cache_dir: home.join("cache"),
        provider: ProviderKind::External,
        timeout: Duration::from_secs(1),
    }))
}

/// An app on a fresh temp home; `prepare` may write progress first.
fn harness_with(start: Option<&str>, prepare: impl FnOnce(&ProgressStore)) -> Harness {
    harness_of(course(), start, prepare)
}

/// [`harness_with`] on any course.
fn harness_of(
    course: Course,
    start: Option<&str>,
    prepare: impl FnOnce(&ProgressStore),
) -> Harness {
    let home = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let store = ProgressStore::new(home.path());
    prepare(&store);
    let app = App::new(TuiOptions {
        course,
        store,
        services: services(home.path()),
        home: home.path().to_path_buf(),
        namespace: Namespace::none(),
        start_unit: start.map(str::to_string),
        runtime: rt.handle().clone(),
    })
    .expect("the app starts");
    Harness { home, rt, app }
}

fn harness(start: Option<&str>) -> Harness {
    harness_with(start, |_| {})
}

impl Harness {
    /// Draw at `w`×`h` and return the screen as text (trailing blanks
    /// trimmed, the temp home replaced by `<home>`).
    fn draw_at(&mut self, w: u16, h: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        term.draw(|f| self.app.render(f)).expect("draw");
        let text = common::buffer_text(term.backend().buffer())
            .replace(&self.home.path().display().to_string(), "<home>");
        steady_timings(&text)
    }

    fn draw(&mut self) -> String {
        self.draw_at(80, 24)
    }

    fn key(&mut self, code: KeyCode) {
        self.app.handle_key(KeyEvent::from(code));
        // Keys that scroll need the geometry of a drawn frame.
        self.draw();
    }

    fn chars(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn store(&self) -> ProgressStore {
        ProgressStore::new(self.home.path())
    }

    /// Pump background results until the lab's checks are done.
    fn wait_idle(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.app.busy() {
            assert!(Instant::now() < deadline, "checks did not finish");
            std::thread::sleep(Duration::from_millis(10));
            self.app.pump_events();
        }
    }
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_home() {
    let mut h = harness_with(None, |s| {
        s.update(|p| {
            p.unit_mut("what-is-big-data").done = true;
            p.unit_mut("opening").done = true;
            p.unit_mut("opening").best = Some((2, 3));
            p.last_unit = Some("architectures".into());
        })
        .unwrap();
    });
    insta::assert_snapshot!("home", h.draw());
}

#[test]
fn snapshot_lesson() {
    let mut h = harness(Some("what-is-big-data"));
    insta::assert_snapshot!("lesson", h.draw());
}

#[test]
fn snapshot_lesson_scrolled() {
    let mut h = harness(Some("what-is-big-data"));
    h.draw();
    h.key(KeyCode::PageDown);
    insta::assert_snapshot!("lesson_scrolled", h.draw());
}

#[test]
fn snapshot_quiz_question() {
    let mut h = harness(Some("opening"));
    insta::assert_snapshot!("quiz_question", h.draw());
}

#[test]
fn snapshot_quiz_choice() {
    let mut h = harness(Some("opening"));
    h.chars("t");
    h.key(KeyCode::Enter);
    h.chars(&pick_keys(&h, &["Volume", "Vanity"]));
    insta::assert_snapshot!("quiz_choice", h.draw());
}

#[test]
fn snapshot_quiz_feedback() {
    let mut h = harness(Some("opening"));
    h.chars("t");
    insta::assert_snapshot!("quiz_feedback", h.draw());
}

#[test]
fn snapshot_quiz_score() {
    let mut h = harness(Some("opening"));
    answer_all(&mut h);
    insta::assert_snapshot!("quiz_score", h.draw());
}

#[test]
fn snapshot_comparison() {
    let mut h = harness(Some("styles"));
    insta::assert_snapshot!("comparison", h.draw());
}

#[test]
fn snapshot_activity() {
    let mut h = harness(Some("brainstorm"));
    insta::assert_snapshot!("activity", h.draw());
}

#[test]
fn snapshot_lab() {
    let mut h = harness(Some("files"));
    insta::assert_snapshot!("lab", h.draw());
}

#[test]
fn snapshot_help_overlay() {
    let mut h = harness(None);
    h.key(KeyCode::Char('?'));
    assert!(h.app.help);
    insta::assert_snapshot!("help", h.draw());
}

#[test]
fn snapshot_too_small() {
    let mut h = harness(None);
    let text = h.draw_at(60, 20);
    assert!(text.contains("datalab needs at least 80×24 (this terminal is 60×20)"));
    insta::assert_snapshot!("too_small", text);
}

// ---------------------------------------------------------------- behaviour

/// The keys that pick these options of the current question, numbered as
/// the quiz shows them this attempt.
fn pick_keys(h: &Harness, texts: &[&str]) -> String {
    let Screen::Quiz(q) = &h.app.screen else {
        panic!("not on the quiz")
    };
    let course = course();
    let shown = q
        .run
        .shown_options(&course.quizzes["opening"], q.run.current);
    texts
        .iter()
        .map(|t| {
            let i = shown.iter().position(|o| o == t).expect("an option");
            char::from(b'1' + i as u8)
        })
        .collect()
}

const RIGHT_VS: [&str; 3] = ["Volume", "Velocity", "Variety"];

/// Right, right, right: f; Volume, Velocity, Variety; 500.
fn answer_all(h: &mut Harness) {
    h.chars("f");
    h.key(KeyCode::Enter);
    h.chars(&pick_keys(h, &RIGHT_VS));
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    h.chars("500");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
}

#[test]
fn answering_a_quiz_updates_score_and_progress() {
    let mut h = harness(Some("opening"));
    h.chars("t"); // wrong
    {
        let Screen::Quiz(q) = &h.app.screen else {
            panic!("not on the quiz")
        };
        assert!(q.answered);
        assert_eq!(q.run.score(), (0, 3));
    }
    assert_eq!(
        h.store().load().0.units["opening"].answers["laptop"],
        "t",
        "each answer is saved as it is given"
    );
    h.key(KeyCode::Enter);
    h.chars(&pick_keys(&h, &RIGHT_VS));
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    h.chars("480"); // within the tolerance of 100
    h.key(KeyCode::Enter);
    assert!(h.draw().contains("Correct"));
    h.key(KeyCode::Enter);
    let p = h.store().load().0;
    let u = &p.units["opening"];
    assert_eq!(u.score, Some((2, 3)));
    assert_eq!(u.best, Some((2, 3)));
    assert!(u.done);
    assert_eq!(u.answers["vs"], "1,2,4");
    assert_eq!(u.answers["tweets"], "480");
    assert!(h.draw().contains("Score: 2/3"));

    // Retry and do better: the best score follows.
    h.key(KeyCode::Char('r'));
    answer_all(&mut h);
    let u = h.store().load().0.units["opening"].clone();
    assert_eq!(u.score, Some((3, 3)));
    assert_eq!(u.best, Some((3, 3)));

    // And worse: best stays.
    h.key(KeyCode::Char('r'));
    h.chars("t");
    h.key(KeyCode::Enter);
    h.chars(&pick_keys(&h, &["Vanity"]));
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    h.chars("1");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    let u = h.store().load().0.units["opening"].clone();
    assert_eq!(u.score, Some((0, 3)));
    assert_eq!(u.best, Some((3, 3)));
}

#[test]
fn malformed_numeric_input_changes_nothing() {
    let mut h = harness(Some("opening"));
    h.chars("f");
    h.key(KeyCode::Enter);
    h.chars("1");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    let before = h.store().load().0;
    h.chars("5x0");
    h.key(KeyCode::Enter);
    let screen = h.draw();
    assert!(
        screen.contains("answer with a number"),
        "the parse error is shown:\n{screen}"
    );
    let Screen::Quiz(q) = &h.app.screen else {
        panic!("not on the quiz")
    };
    assert_eq!(q.run.current, 2);
    assert!(q.run.answers[2].is_none());
    assert!(!q.answered);
    assert_eq!(h.store().load().0, before, "nothing was recorded");
    // Letters typed into a number do not trigger keys: `q` did not leave.
    h.key(KeyCode::Char('q'));
    assert!(matches!(h.app.screen, Screen::Quiz(_)));
}

#[test]
fn empty_choice_is_rejected_and_single_choice_replaces() {
    let mut h = harness(Some("opening"));
    h.chars("f");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    assert!(h.draw().contains("option numbers"));
    h.chars("9");
    assert!(h.draw().contains("pick an option from 1 to 4"));
    let Screen::Quiz(q) = &h.app.screen else {
        panic!()
    };
    assert!(q.run.answers[1].is_none());
}

#[test]
fn hints_are_revealed_one_at_a_time() {
    let mut h = harness(Some("files"));
    let screen = h.draw();
    assert!(screen.contains("h for a hint (2 left)"));
    assert!(!screen.contains("Hint 1/2"));
    h.key(KeyCode::Char('h'));
    let screen = h.draw();
    assert!(screen.contains("Hint 1/2"), "{screen}");
    assert!(!screen.contains("Hint 2/2"));
    assert_eq!(h.store().load().0.units["files"].hints["create"], 1);
    h.key(KeyCode::Char('h'));
    assert!(h.draw().contains("Hint 2/2"));
    assert_eq!(h.store().load().0.units["files"].hints["create"], 2);
    h.key(KeyCode::Char('h'));
    assert_eq!(h.store().load().0.units["files"].hints["create"], 2);
    assert!(h.draw().contains("no more hints"));
    // The count survives a restart.
    let mut again = harness_with(Some("files"), |s| {
        s.update(|p| {
            p.unit_mut("files").hints.insert("create".into(), 1);
        })
        .unwrap();
    });
    assert!(again.draw().contains("Hint 1/2"));
}

#[test]
fn resume_puts_the_cursor_on_the_last_unit() {
    let mut h = harness_with(None, |s| {
        s.update(|p| p.last_unit = Some("styles".into())).unwrap();
    });
    assert_eq!(h.app.cursor_unit(), Some("styles"));
    assert!(h.draw().contains("resume: Architecture styles compared"));
    // Opening a unit moves the resume point.
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    assert!(matches!(h.app.screen, Screen::Activity(_)));
    assert_eq!(h.store().load().0.last_unit.as_deref(), Some("brainstorm"));
    h.key(KeyCode::Esc);
    assert!(matches!(h.app.screen, Screen::Home));
    assert_eq!(h.app.cursor_unit(), Some("brainstorm"));
}

#[test]
fn checking_a_step_runs_in_the_background_and_records_a_pass() {
    let mut h = harness(Some("files"));
    h.key(KeyCode::Char('c'));
    assert!(h.app.busy(), "the check runs in the background");
    assert!(h.draw().contains("checking"));
    h.wait_idle();
    let screen = h.draw();
    assert!(screen.contains("✗ hello.txt exists"), "{screen}");
    assert!(
        !h.store()
            .load()
            .0
            .unit("files")
            .is_some_and(|u| u.steps_done.contains("create"))
    );

    std::fs::write(h.home.path().join("workspaces/files/hello.txt"), "hi\n").unwrap();
    h.key(KeyCode::Char('c'));
    h.wait_idle();
    let screen = h.draw();
    assert!(screen.contains("✓ hello.txt exists"), "{screen}");
    assert!(screen.contains("step passed"));
    let p = h.store().load().0;
    assert!(p.units["files"].steps_done.contains("create"));
    assert!(!p.units["files"].done);

    // The second step: the starter answer is a TODO, so it fails, then passes.
    h.key(KeyCode::Char('n'));
    h.key(KeyCode::Char('c'));
    h.wait_idle();
    assert!(h.draw().contains("✗ the answer `vs` in answers.yaml"));
    std::fs::write(
        h.home.path().join("workspaces/files/answers.yaml"),
        "vs: 3\n",
    )
    .unwrap();
    h.key(KeyCode::Char('c'));
    h.wait_idle();
    let p = h.store().load().0;
    assert!(p.units["files"].steps_done.contains("answer"));
    assert!(p.units["files"].done, "all steps passed: the lab is done");
    drop(h.rt);
}

#[test]
fn a_lesson_remembers_its_position_and_is_done_at_the_end() {
    let mut h = harness(Some("what-is-big-data"));
    h.draw();
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    h.key(KeyCode::Char('q'));
    let p = h.store().load().0;
    assert_eq!(p.units["what-is-big-data"].position, Some(2));
    assert!(!p.units["what-is-big-data"].done);

    let mut h2 = harness_with(Some("what-is-big-data"), |s| {
        s.update(|p| p.unit_mut("what-is-big-data").position = Some(2))
            .unwrap();
    });
    h2.draw();
    let Screen::Lesson(l) = &h2.app.screen else {
        panic!()
    };
    assert_eq!(l.scroll.offset, 2);
    h2.key(KeyCode::End);
    assert!(h2.store().load().0.units["what-is-big-data"].done);
    // n opens the next unit (the quiz).
    h2.key(KeyCode::Char('n'));
    assert!(matches!(h2.app.screen, Screen::Quiz(_)));
}

#[test]
fn activity_timer_rings_and_notes_are_saved() {
    let mut h = harness(Some("brainstorm"));
    h.key(KeyCode::Char(' '));
    let Screen::Activity(a) = &h.app.screen else {
        panic!()
    };
    assert!(a.timer.running());
    // Three minutes later the first phase is over: bell and flash.
    h.app.tick(Instant::now() + Duration::from_secs(181));
    assert!(h.app.take_bell());
    let screen = h.draw();
    assert!(screen.contains("time is up"), "{screen}");
    assert!(screen.contains("00:00"));
    h.key(KeyCode::Char('n'));
    let screen = h.draw();
    assert!(screen.contains("02:00"), "{screen}");

    h.key(KeyCode::Tab);
    h.chars("Pick a monolith? q");
    assert!(
        matches!(h.app.screen, Screen::Activity(_)),
        "q is a letter here"
    );
    // Debounced: saved once typing pauses.
    h.app.tick(Instant::now() + Duration::from_secs(1));
    assert_eq!(
        h.store().load().0.units["brainstorm"].notes.as_deref(),
        Some("Pick a monolith? q")
    );
    h.key(KeyCode::Backspace);
    h.key(KeyCode::Tab);
    assert_eq!(
        h.store().load().0.units["brainstorm"].notes.as_deref(),
        Some("Pick a monolith? ")
    );
    h.key(KeyCode::Char('d'));
    assert!(h.store().load().0.units["brainstorm"].done);
}

#[test]
fn ctrl_c_quits_from_anywhere_and_saves() {
    let mut h = harness(Some("brainstorm"));
    h.key(KeyCode::Tab);
    h.chars("abc");
    h.app
        .handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(h.app.quit);
    assert_eq!(
        h.store().load().0.units["brainstorm"].notes.as_deref(),
        Some("abc")
    );
}

#[test]
fn an_unknown_start_unit_is_an_error_before_the_terminal_changes() {
    let home = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = App::new(TuiOptions {
        course: course(),
        store: ProgressStore::new(home.path()),
        services: services(home.path()),
        home: home.path().to_path_buf(),
        namespace: Namespace::none(),
        start_unit: Some("nope".into()),
        runtime: rt.handle().clone(),
    })
    .err()
    .expect("an error");
    assert!(err.to_string().contains("no unit `nope`"));
}

#[test]
fn a_corrupt_progress_file_is_reported_on_screen() {
    let mut h = harness_with(None, |s| {
        std::fs::create_dir_all(s.path().parent().unwrap()).unwrap();
        std::fs::write(s.path(), "{ not json").unwrap();
    });
    let screen = h.draw();
    assert!(screen.contains("could not be read as progress"), "{screen}");
}

#[test]
fn monochrome_theme_uses_no_colour_on_any_screen() {
    use ratatui::style::Color;
    for start in [
        None,
        Some("what-is-big-data"),
        Some("opening"),
        Some("styles"),
        Some("brainstorm"),
        Some("files"),
    ] {
        let mut h = harness(start);
        h.app.ctx.theme = datalab_tui::theme::Theme::monochrome();
        h.app.help = start.is_none();
        let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
        term.draw(|f| h.app.render(f)).unwrap();
        let buf = term.backend().buffer();
        for cell in buf.content() {
            assert_eq!(cell.fg, Color::Reset, "{start:?}: a foreground colour");
            assert_eq!(cell.bg, Color::Reset, "{start:?}: a background colour");
        }
    }
}

#[test]
fn help_lists_the_keys_of_the_current_screen() {
    let mut h = harness(Some("files"));
    h.key(KeyCode::Char('?'));
    let screen = h.draw();
    assert!(screen.contains("Keys: lab"));
    assert!(screen.contains("check this step"));
    h.key(KeyCode::Esc);
    assert!(!h.app.help);
    assert!(
        matches!(h.app.screen, Screen::Lab(_)),
        "Esc closed help only"
    );
    h.key(KeyCode::Esc);
    assert!(matches!(h.app.screen, Screen::Home));
}

#[test]
fn nothing_is_written_before_the_first_frame() {
    let mut h = harness(Some("styles"));
    assert!(
        !h.store().path().exists(),
        "no write before the first frame"
    );
    h.draw();
    h.app.tick(Instant::now());
    assert_eq!(h.store().load().0.last_unit.as_deref(), Some("styles"));
}

/// A course bigger than a screen: 2 days × 6 sessions × 4 lessons.
fn big_course(dir: &Path) -> Course {
    let mut yaml = String::from("title: Big\ndays:\n");
    for d in 1..=2 {
        yaml.push_str(&format!(
            "  - id: d{d}\n    title: Day {d}\n    sessions:\n"
        ));
        for s in 1..=6 {
            yaml.push_str(&format!(
                "      - id: d{d}s{s}\n        title: Session {d}.{s}\n        minutes: 45\n        units:\n"
            ));
            for u in 1..=4 {
                let id = format!("l{d}-{s}-{u}");
                yaml.push_str(&format!("          - {{ kind: lesson, id: {id} }}\n"));
                std::fs::create_dir_all(dir.join("lessons")).unwrap();
                std::fs::write(
                    dir.join(format!("lessons/{id}.md")),
                    format!("# Lesson {d}.{s}.{u}\n\nText.\n"),
                )
                .unwrap();
            }
        }
    }
    std::fs::write(dir.join("course.yaml"), yaml).unwrap();
    Course::load(Content::disk(dir)).expect("the big course loads")
}

#[test]
fn the_agenda_scrolls_to_keep_the_cursor_visible() {
    let content = tempfile::tempdir().unwrap();
    let course = big_course(content.path());
    let mut h = harness_with(None, |s| {
        s.update(|p| p.last_unit = Some("l2-6-4".into())).unwrap();
    });
    h.app = App::new(TuiOptions {
        course,
        store: h.store(),
        services: services(h.home.path()),
        home: h.home.path().to_path_buf(),
        namespace: Namespace::none(),
        start_unit: None,
        runtime: h.rt.handle().clone(),
    })
    .unwrap();
    let screen = h.draw();
    assert!(screen.contains("▸ • lesson    Lesson 2.6.4"), "{screen}");
    assert!(!screen.contains("Lesson 1.1.1"));
    h.key(KeyCode::Home);
    let screen = h.draw();
    assert!(screen.contains("Day 1"), "{screen}");
    assert!(screen.contains("▸ • lesson    Lesson 1.1.1"), "{screen}");
    for _ in 0..20 {
        h.key(KeyCode::Down);
    }
    let screen = h.draw();
    assert!(screen.contains("▸ • lesson    Lesson 1.6.1"), "{screen}");
    h.key(KeyCode::Up);
    assert!(h.draw().contains("▸ • lesson    Lesson 1.5.4"));
    insta::assert_snapshot!("home_scrolled", h.draw());
}

// ------------------------------------------------- the MapReduce live panel

/// A fixed job as the lines `datalab mapreduce run` writes: `upto` cuts it
/// short (a job still running).
fn mapreduce_events(upto: usize) -> String {
    use datalab_mapreduce::events::EventLine;
    use datalab_mapreduce::{Counters, Event, Phase, TaskKind};
    let map_c = |i: u64| Counters {
        map_tasks: 1,
        map_input_records: 100 + i,
        map_input_bytes: 4096,
        map_output_records: 800,
        map_output_bytes: 6400,
        combine_input_records: 800,
        combine_output_records: 90,
        ..Counters::default()
    };
    let red_c = Counters {
        reduce_tasks: 1,
        shuffle_bytes: 1000,
        reduce_input_groups: 80,
        reduce_input_records: 135,
        reduce_output_records: 80,
        reduce_output_bytes: 700,
        ..Counters::default()
    };
    let mut total = Counters::default();
    for i in 0..3 {
        total.add(&map_c(i));
    }
    total.add(&red_c);
    total.add(&red_c);
    total.failed_attempts = 1;
    total.time.total_ms = 1234;
    let ms = std::time::Duration::from_millis;
    let mut ev: Vec<(u64, Event)> = vec![
        (
            0,
            Event::JobStarted {
                output: "out/wordcount".into(),
                mapper: "python3 wordcount/mapper.py".into(),
                reducer: "python3 wordcount/reducer.py".into(),
                combiner: Some("python3 wordcount/reducer.py".into()),
                reducers: 2,
            },
        ),
        (
            0,
            Event::PhaseStarted {
                phase: Phase::Split,
            },
        ),
        (
            3,
            Event::PhaseFinished {
                phase: Phase::Split,
                elapsed: ms(3),
            },
        ),
        (
            3,
            Event::Planned {
                map_tasks: 3,
                reduce_tasks: 2,
                input_bytes: 3 * 4096,
            },
        ),
        (4, Event::PhaseStarted { phase: Phase::Map }),
    ];
    for i in 0..3usize {
        let at = 5 + 200 * i as u64;
        ev.push((
            at,
            Event::TaskStarted {
                kind: TaskKind::Map,
                task: i,
                attempt: 1,
                bytes: 4096,
            },
        ));
        ev.push((
            at + 50,
            Event::TaskProgress {
                kind: TaskKind::Map,
                task: i,
                bytes: 4096,
            },
        ));
        if i == 1 {
            ev.push((
                at + 60,
                Event::TaskFailed {
                    kind: TaskKind::Map,
                    task: i,
                    attempt: 1,
                    will_retry: true,
                    message: "the mapper `python3 wordcount/mapper.py` exited with status 1."
                        .into(),
                },
            ));
            ev.push((
                at + 61,
                Event::TaskStarted {
                    kind: TaskKind::Map,
                    task: i,
                    attempt: 2,
                    bytes: 4096,
                },
            ));
        }
        ev.push((
            at + 150,
            Event::TaskFinished {
                kind: TaskKind::Map,
                task: i,
                attempt: 1 + (i == 1) as u32,
                counters: Box::new(map_c(i as u64)),
            },
        ));
    }
    ev.extend([
        (
            700,
            Event::PhaseFinished {
                phase: Phase::Map,
                elapsed: ms(696),
            },
        ),
        (
            700,
            Event::PhaseStarted {
                phase: Phase::Shuffle,
            },
        ),
        (
            701,
            Event::PhaseFinished {
                phase: Phase::Shuffle,
                elapsed: ms(1),
            },
        ),
        (
            701,
            Event::PhaseStarted {
                phase: Phase::Reduce,
            },
        ),
        (
            702,
            Event::TaskStarted {
                kind: TaskKind::Reduce,
                task: 0,
                attempt: 1,
                bytes: 1000,
            },
        ),
        (
            702,
            Event::TaskStarted {
                kind: TaskKind::Reduce,
                task: 1,
                attempt: 1,
                bytes: 1000,
            },
        ),
        (
            900,
            Event::TaskProgress {
                kind: TaskKind::Reduce,
                task: 0,
                bytes: 1000,
            },
        ),
        (
            1000,
            Event::TaskFinished {
                kind: TaskKind::Reduce,
                task: 0,
                attempt: 1,
                counters: Box::new(red_c.clone()),
            },
        ),
        (
            1100,
            Event::TaskProgress {
                kind: TaskKind::Reduce,
                task: 1,
                bytes: 500,
            },
        ),
        (
            1200,
            Event::TaskProgress {
                kind: TaskKind::Reduce,
                task: 1,
                bytes: 500,
            },
        ),
        (
            1220,
            Event::TaskFinished {
                kind: TaskKind::Reduce,
                task: 1,
                attempt: 1,
                counters: Box::new(red_c.clone()),
            },
        ),
        (
            1220,
            Event::PhaseFinished {
                phase: Phase::Reduce,
                elapsed: ms(519),
            },
        ),
        (
            1220,
            Event::PhaseStarted {
                phase: Phase::Commit,
            },
        ),
        (
            1234,
            Event::PhaseFinished {
                phase: Phase::Commit,
                elapsed: ms(14),
            },
        ),
        (
            1234,
            Event::Finished {
                counters: Box::new(total),
            },
        ),
    ]);
    ev.into_iter()
        .take(upto)
        .map(|(at_ms, event)| {
            let line = EventLine {
                job: "4242-1".into(),
                at_ms,
                event,
            };
            serde_json::to_string(&line).unwrap() + "\n"
        })
        .collect()
}

fn draw_panel(panel: &dyn datalab_tui::panel::LabPanel) -> String {
    common::panel_text(panel, 80, panel.height(), false)
}

#[test]
fn snapshot_mapreduce_panel() {
    use datalab_tui::panels::mapreduce::MapReducePanel;
    // Mid-job: in the reduce phase, one reducer done, one half way.
    let running = MapReducePanel::from_events(&mapreduce_events(25));
    insta::assert_snapshot!("mapreduce_panel_running", draw_panel(&running));
    let done = MapReducePanel::from_events(&mapreduce_events(usize::MAX));
    insta::assert_snapshot!("mapreduce_panel_done", draw_panel(&done));
    let empty = MapReducePanel::new();
    insta::assert_snapshot!("mapreduce_panel_empty", draw_panel(&empty));
    // Lines split anywhere arrive whole: the same job as fed at once.
    let text = mapreduce_events(usize::MAX);
    let mut log = datalab_mapreduce::events::EventLog::default();
    for chunk in text.as_bytes().chunks(37) {
        log.feed(std::str::from_utf8(chunk).unwrap());
    }
    assert_eq!(log.jobs, done.log().jobs);
}

/// The options of question `vs` as the screen lists them, in order.
fn listed_vs(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| l.split_once(") ").map(|(_, o)| o.trim().to_string()))
        .filter(|o| ["Volume", "Velocity", "Vanity", "Variety"].contains(&o.as_str()))
        .collect()
}

#[test]
fn quiz_options_follow_the_attempt_and_feedback_numbers_them_as_shown() {
    let course = course();
    let quiz = &course.quizzes["opening"];
    let vs = &quiz.questions[1];
    let expect = |attempt| -> Vec<String> {
        datalab_engine::quiz::option_order("opening", attempt, vs)
            .iter()
            .map(|&f| vs.options[f].clone())
            .collect()
    };
    // Attempt 2 in progress: every opening (a resume) shows the same order.
    let on_attempt_2 = |s: &ProgressStore| {
        s.update(|p| p.unit_mut("opening").attempts = 2).unwrap();
    };
    let mut h = harness_with(Some("opening"), on_attempt_2);
    h.chars("f");
    h.key(KeyCode::Enter);
    assert_eq!(listed_vs(&h.draw()), expect(2));
    let mut again = harness_with(Some("opening"), on_attempt_2);
    again.chars("f");
    again.key(KeyCode::Enter);
    assert_eq!(listed_vs(&again.draw()), expect(2));

    // The feedback names the right options by the numbers shown.
    h.chars(&pick_keys(&h, &RIGHT_VS));
    h.key(KeyCode::Enter);
    let shown = expect(2);
    let words: Vec<String> = shown
        .iter()
        .enumerate()
        .filter(|(_, o)| *o != "Vanity")
        .map(|(i, o)| format!("{}) {o}", i + 1))
        .collect();
    let screen = h.draw();
    assert!(
        screen.contains(&format!("The answer: {}", words.join("; "))),
        "{screen}"
    );

    // Finishing the attempt moves to the next one: shuffled afresh.
    h.key(KeyCode::Enter);
    h.chars("500");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    assert_eq!(h.store().load().0.units["opening"].attempts, 3);
    h.key(KeyCode::Char('r'));
    h.chars("f");
    h.key(KeyCode::Enter);
    assert_eq!(listed_vs(&h.draw()), expect(3));
    assert!(
        (0..8).any(|a| expect(a) != vs.options),
        "some attempt shows another order than the file's"
    );
}

#[test]
fn true_false_is_not_shuffled() {
    let course = course();
    let laptop = &course.quizzes["opening"].questions[0];
    for attempt in 0..5 {
        assert!(datalab_engine::quiz::option_order("opening", attempt, laptop).is_empty());
    }
    let screen = harness(Some("opening")).draw();
    let tf = screen.lines().find(|l| l.contains("True")).unwrap();
    assert!(tf.find("True") < tf.find("False"), "{screen}");
}

#[test]
fn snapshot_lesson_wide_code_clipped_then_scrolled() {
    let mut h = harness(Some("architectures"));
    let before = h.draw();
    assert!(before.contains("←→ code sideways"), "{before}");
    insta::assert_snapshot!("lesson_wide_code", before);
    h.key(KeyCode::Right);
    h.key(KeyCode::Char('l'));
    h.key(KeyCode::Right);
    let Screen::Lesson(s) = &h.app.screen else {
        panic!("Right scrolls the code, it does not leave the lesson")
    };
    assert_eq!(s.shift, 24);
    insta::assert_snapshot!("lesson_wide_code_scrolled", h.draw());
    // As far as the widest line goes, and back.
    for _ in 0..20 {
        h.key(KeyCode::Right);
    }
    let screen = h.draw();
    assert!(screen.contains("reply, billed per call"), "{screen}");
    for _ in 0..20 {
        h.key(KeyCode::Char('h'));
    }
    assert_eq!(h.draw(), before);
}

#[test]
fn left_still_goes_back_from_a_lesson_without_wide_code() {
    let mut h = harness(Some("what-is-big-data"));
    assert!(!h.draw().contains("code sideways"));
    h.key(KeyCode::Left);
    assert!(!matches!(h.app.screen, Screen::Lesson(_)));
}

#[test]
fn snapshot_lab_failed_check_in_full() {
    let mut h = harness(Some("files"));
    h.key(KeyCode::Char('n'));
    h.key(KeyCode::Char('c'));
    h.wait_idle();
    let screen = h.draw();
    assert!(!screen.contains('…'), "nothing is cut:\n{screen}");
    insta::assert_snapshot!("lab_failed_check", screen);
    h.key(KeyCode::Char('f'));
    let full = h.draw();
    assert!(full.contains("check results"), "{full}");
    insta::assert_snapshot!("lab_failed_check_full", full);
    h.key(KeyCode::Esc);
    let Screen::Lab(s) = &h.app.screen else {
        panic!("Esc closes the results, it does not leave the lab")
    };
    assert!(!s.full_results);
    drop(h.rt);
}

#[test]
fn f_without_results_says_to_check_first() {
    let mut h = harness(Some("files"));
    h.key(KeyCode::Char('f'));
    assert!(h.draw().contains("no results for this step yet"));
}

/// A course of one lab with a service panel (the MapReduce job view).
fn panel_course() -> Course {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-panel");
    Course::load(Content::disk(dir)).expect("the panel fixture loads")
}

#[test]
fn snapshot_lab_panel_hidden_gives_the_instructions_room() {
    let mut h = harness_of(panel_course(), Some("mapreduce"), |_| {});
    let with_panel = h.draw();
    assert!(with_panel.contains("v hide panel"), "{with_panel}");
    insta::assert_snapshot!("lab_with_panel", with_panel);
    h.key(KeyCode::Char('v'));
    let hidden = h.draw();
    assert!(hidden.contains("v show panel"), "{hidden}");
    assert!(!with_panel.contains("This last line"), "{with_panel}");
    assert!(hidden.contains("This last line"), "{hidden}");
    let rows = |screen: &str| screen.lines().filter(|l| l.contains("││")).count();
    assert!(
        rows(&hidden) > rows(&with_panel) + 5,
        "the instructions get the panel's rows"
    );
    insta::assert_snapshot!("lab_panel_hidden", hidden);
    // Tab brings it back, focused.
    h.key(KeyCode::Tab);
    let Screen::Lab(s) = &h.app.screen else {
        panic!("on the lab")
    };
    assert!(s.panel_shown() && s.panel_focus);
    drop(h.rt);
}

// ------------------------------------------------------------ the room live

/// What a learner's feed holds mid-workshop: phase 2 of a brainstorm with
/// 2:05 left, and a revealed poll question they answered.
fn live_view(revealed: bool) -> datalab_room::live::LiveView {
    use datalab_room::live::{ActivityView, LivePhase, LiveView, PollView, QuestionView};
    let phase = |t: &str, secs| LivePhase {
        title: t.into(),
        secs,
    };
    LiveView {
        version: 7,
        activity: Some(ActivityView {
            id: "brainstorm".into(),
            title: "Brainstorm: a data platform for a retailer".into(),
            phases: vec![phase("Think alone", 180), phase("Share in pairs", 120)],
            phase: 1,
            running: true,
            remaining_ms: 125_000,
        }),
        poll: Some(PollView {
            quiz: "opening".into(),
            title: "Opening statements".into(),
            current: 0,
            total: 3,
            question: QuestionView {
                id: "laptop".into(),
                prompt: "A terabyte on a laptop is big data.".into(),
                options: vec!["True".into(), "False".into()],
                answered: 14,
                counts: revealed.then(|| vec![3, 11]),
                revealed,
                right: revealed.then(|| vec![1]),
                explanation: revealed.then(|| "Size alone does not make data big.".into()),
                mine: Some(vec![1]),
            },
        }),
        note: None,
        show_names: false,
    }
}

#[test]
fn snapshot_room_live_timer_and_revealed_poll() {
    let mut h = harness(None);
    h.app.show_live(live_view(true), Instant::now());
    h.key(KeyCode::Char('L'));
    assert!(matches!(h.app.screen, Screen::Live(_)));
    insta::assert_snapshot!("room_live", h.draw());
}

#[test]
fn a_room_poll_is_announced_and_an_answer_without_a_room_says_so() {
    let mut h = harness(None);
    h.app.show_live(live_view(false), Instant::now());
    let home = h.draw();
    assert!(
        home.contains("room 02:05"),
        "the room's clock in the top bar:\n{home}"
    );
    h.key(KeyCode::Char('L'));
    h.chars("x");
    h.key(KeyCode::Enter);
    assert!(
        h.draw().contains("answer t (true) or f (false)"),
        "{}",
        h.draw()
    );
    h.key(KeyCode::Esc);
    h.chars("2");
    h.key(KeyCode::Enter);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.app.pump_events();
        let screen = h.draw();
        if screen.contains("answer not sent") {
            assert!(screen.contains("not in a room"), "{screen}");
            break;
        }
        assert!(Instant::now() < deadline, "no answer came back:\n{screen}");
        std::thread::sleep(Duration::from_millis(10));
    }
    h.key(KeyCode::Esc);
    assert!(matches!(h.app.screen, Screen::Home));
}

/// A check's measured time ("13 ms · c to check again" in a lab's footer)
/// reads "0 ms" at the same width, so a snapshot does not depend on how
/// busy the machine was: the extra digits become border.
fn steady_timings(screen: &str) -> String {
    const MARK: &str = " ms · ";
    let mut out = String::new();
    for line in screen.split_inclusive('\n') {
        let Some(at) = line.find(MARK) else {
            out.push_str(line);
            continue;
        };
        let head = &line[..at];
        let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let before = &head[..head.len() - digits];
        if digits == 0 || !before.ends_with(' ') {
            out.push_str(line);
            continue;
        }
        out.push_str(&before[..before.len() - 1]);
        out.push_str(&"─".repeat(digits - 1));
        out.push_str(" 0");
        out.push_str(&line[at..]);
    }
    out
}

#[test]
fn timings_in_a_screen_are_steadied_at_the_same_width() {
    let a = "╰──── 13 ms · c to check again ╯\n";
    let b = "╰───── 0 ms · c to check again ╯\n";
    assert_eq!(steady_timings(a), b);
    assert_eq!(steady_timings(b), b);
    assert_eq!(steady_timings(a).chars().count(), a.chars().count());
}

/// A Spark 4 event log as `datalab spark submit` has it written, trimmed to
/// the scheduler's events: the word count's read job done, its write job
/// half way (stage 2 running, stage 3 waiting on its shuffle).
fn spark_log() -> String {
    let lines = [
        r#"{"Event":"SparkListenerLogStart","Spark Version":"4.2.0"}"#,
        r#"{"Event":"SparkListenerApplicationStart","App Name":"wordcount","App ID":"local-1764600000000","Timestamp":1764600000000,"User":"ada"}"#,
        r#"{"Event":"SparkListenerJobStart","Job ID":0,"Stage Infos":[{"Stage ID":0,"Stage Attempt ID":0,"Stage Name":"text at NativeMethodAccessorImpl.java:0","Number of Tasks":1}],"Stage IDs":[0]}"#,
        r#"{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":0,"Stage Attempt ID":0,"Stage Name":"text at NativeMethodAccessorImpl.java:0","Number of Tasks":1}}"#,
        r#"{"Event":"SparkListenerTaskStart","Stage ID":0,"Stage Attempt ID":0,"Task Info":{"Task ID":0}}"#,
        r#"{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task End Reason":{"Reason":"Success"}}"#,
        r#"{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":0,"Stage Attempt ID":0,"Stage Name":"text at NativeMethodAccessorImpl.java:0","Number of Tasks":1}}"#,
        r#"{"Event":"SparkListenerJobEnd","Job ID":0,"Job Result":{"Result":"JobSucceeded"}}"#,
        r#"{"Event":"SparkListenerJobStart","Job ID":1,"Stage Infos":[{"Stage ID":2,"Stage Attempt ID":0,"Stage Name":"save at NativeMethodAccessorImpl.java:0","Number of Tasks":4},{"Stage ID":1,"Stage Attempt ID":0,"Stage Name":"save at NativeMethodAccessorImpl.java:0","Number of Tasks":3}],"Stage IDs":[1,2]}"#,
        r#"{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":1,"Stage Attempt ID":0,"Stage Name":"save at NativeMethodAccessorImpl.java:0","Number of Tasks":3}}"#,
        r#"{"Event":"SparkListenerTaskStart","Stage ID":1,"Stage Attempt ID":0,"Task Info":{"Task ID":1}}"#,
        r#"{"Event":"SparkListenerTaskStart","Stage ID":1,"Stage Attempt ID":0,"Task Info":{"Task ID":2}}"#,
        r#"{"Event":"SparkListenerTaskEnd","Stage ID":1,"Stage Attempt ID":0,"Task End Reason":{"Reason":"ExceptionFailure","Description":"lost"}}"#,
        r#"{"Event":"SparkListenerTaskStart","Stage ID":1,"Stage Attempt ID":0,"Task Info":{"Task ID":3}}"#,
        r#"{"Event":"SparkListenerTaskEnd","Stage ID":1,"Stage Attempt ID":0,"Task End Reason":{"Reason":"Success"}}"#,
    ];
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn snapshot_spark_panel() {
    use datalab_tui::panels::spark::SparkPanel;
    let running = SparkPanel::from_log(&spark_log());
    let screen = common::panel_text(&running, 80, 24, false);
    insta::assert_snapshot!("spark_panel_running", screen);
    let empty = SparkPanel::new();
    assert!(draw_panel(&empty).contains("c runs the step"));
}

/// The live path without Spark: the submit line the CLI writes, a log that
/// grows under Spark's `.inprogress` name, then is renamed when the
/// application ends; the panel reads on across the rename.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn spark_panel_follows_the_submitted_log_across_its_rename() {
    use datalab_services::spark::{SUBMITS_ENV, SubmitLine};
    use datalab_tui::panel::{PanelCtx, for_lab};
    use datalab_tui::panels::spark_log::Status;
    let home = tempfile::tempdir().unwrap();
    let content = Content::disk(env!("CARGO_MANIFEST_DIR"));
    let lab = datalab_content::Lab {
        id: "spark".into(),
        def: datalab_content::parse_lab(&content, "spark").expect("the Spark lab parses"),
        content,
    };
    let mut panel = for_lab(&lab).expect("the Spark lab has a panel");
    assert_eq!(panel.title(), "Spark stages");
    let services = services(home.path());
    let ns = Namespace::for_learner("ada");
    let rt = tokio::runtime::Handle::current();
    let ctx = PanelCtx {
        lab: &lab,
        services: &services,
        namespace: &ns,
        runtime: &rt,
        workspace: home.path(),
        step: 0,
        checking: true,
    };
    let env = panel.run_env();
    let submits = &env.iter().find(|(k, _)| k == SUBMITS_ENV).unwrap().1;
    let dir = home.path().join("spark-events/wordcount");
    std::fs::create_dir_all(&dir).unwrap();
    // An older run's log, a minute old: not this submit's.
    let now = std::time::SystemTime::now();
    let older = dir.join("local-1");
    std::fs::write(&older, spark_log()).unwrap();
    let f = std::fs::File::options().write(true).open(&older).unwrap();
    f.set_modified(now - Duration::from_secs(60)).unwrap();
    let at_ms = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let line = SubmitLine {
        event_log: dir.clone(),
        at_ms,
    };
    std::fs::write(submits, serde_json::to_string(&line).unwrap() + "\n").unwrap();
    panel.tick(&ctx);
    assert!(common::panel_text(&*panel, 80, 24, false).contains("spark-events/wordcount"));
    let log = spark_log();
    let (head, tail) = log.split_at(log.len() / 2);
    let live = dir.join("local-2.inprogress");
    std::fs::write(&live, head).unwrap();
    panel.tick(&ctx);
    std::fs::write(&live, format!("{head}{tail}")).unwrap();
    std::fs::rename(&live, dir.join("local-2")).unwrap();
    panel.tick(&ctx);
    let want = datalab_tui::panels::spark::SparkPanel::from_log(&log);
    assert_eq!(
        common::panel_text(&*panel, 80, 24, false),
        common::panel_text(&want, 80, 24, false)
    );
    assert_eq!(want.log().stages[1].status, Status::Running);
}
