//! The instructor's view model and the grade book, from synthetic events.

use datalab_room::export::{ExportFormat, render};
use datalab_room::protocol::Event;
use datalab_room::store::{LearnerRow, StoredEvent};
use datalab_room::{RoomModel, Stuck, ViewOptions};
use std::time::Duration;

const MIN: i64 = 60_000;

struct Room {
    model: RoomModel,
    next_id: i64,
    seqs: std::collections::HashMap<u64, u64>,
}

impl Room {
    fn new(names: &[&str]) -> Room {
        let mut model = RoomModel::new();
        for (i, name) in names.iter().enumerate() {
            let row = LearnerRow {
                id: i as u64 + 1,
                name: name.to_string(),
                token_hash: [0; 32],
                joined_ms: 0,
            };
            model.add_learner(&row);
        }
        Room {
            model,
            next_id: 0,
            seqs: Default::default(),
        }
    }

    fn at(&mut self, learner: u64, at_ms: i64, event: Event) {
        self.next_id += 1;
        let seq = self.seqs.entry(learner).or_default();
        *seq += 1;
        let ev = StoredEvent {
            id: self.next_id,
            learner,
            seq: *seq,
            at_ms,
            received_ms: at_ms,
            event,
        };
        self.model.apply(&ev);
    }
}

fn check(step: &str, id: &str, passed: bool) -> Event {
    Event::CheckResult {
        lab: "kafka".into(),
        step: step.into(),
        check_id: id.into(),
        passed,
        message: format!("{id} {passed}"),
    }
}

fn hint(step: &str) -> Event {
    Event::HintRevealed {
        lab: "kafka".into(),
        step: step.into(),
        hint: "look at the topic".into(),
    }
}

#[test]
fn stuck_after_a_while_on_a_failing_step() {
    let mut room = Room::new(&["Ada", "Bob", "Cy"]);
    room.at(1, 0, check("1", "a", false));
    room.at(2, 0, check("1", "a", true));
    room.at(3, 5 * MIN, check("1", "a", false));
    let opts = ViewOptions::default();
    let view = room.model.view(11 * MIN, &opts);
    assert_eq!(view.stuck, 1);
    assert_eq!(view.rows[0].name, "Ada");
    assert_eq!(
        view.rows[0].stuck,
        Some(Stuck::Failing { for_ms: 11 * MIN })
    );
    assert_eq!(view.rows[1].name, "Bob");
    assert_eq!(view.rows[2].name, "Cy");
    assert!(view.rows[2].stuck.is_none());
    // A shorter threshold catches Cy too; the longer-stuck Ada stays first.
    let short = ViewOptions {
        stuck_after: Duration::from_secs(300),
        ..opts.clone()
    };
    let names: Vec<_> = room
        .model
        .view(11 * MIN, &short)
        .rows
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["Ada", "Cy", "Bob"]);
    // Passing the step clears it; moving to a new step resets the clock.
    room.at(1, 12 * MIN, check("1", "a", true));
    room.at(1, 13 * MIN, check("2", "b", false));
    let row = &room
        .model
        .view(14 * MIN, &opts)
        .rows
        .into_iter()
        .find(|r| r.name == "Ada")
        .unwrap();
    assert!(row.stuck.is_none());
    assert_eq!(
        (row.step.as_deref(), row.on_step_ms),
        (Some("2"), Some(MIN))
    );
}

#[test]
fn stuck_after_several_hints_while_failing() {
    let mut room = Room::new(&["Ada"]);
    room.at(1, 0, check("3", "a", true));
    room.at(1, 0, check("3", "b", false));
    room.at(1, MIN, hint("3"));
    room.at(1, MIN, hint("3"));
    let opts = ViewOptions::default();
    assert!(room.model.view(2 * MIN, &opts).rows[0].stuck.is_none());
    room.at(1, MIN, hint("3"));
    let row = room.model.view(2 * MIN, &opts).rows.remove(0);
    assert_eq!(row.stuck, Some(Stuck::Hints { hints: 3 }));
    assert_eq!((row.checks_passing, row.checks_total), (1, 2));
    room.at(1, 3 * MIN, check("3", "b", true));
    assert!(room.model.view(3 * MIN, &opts).rows[0].stuck.is_none());
}

#[test]
fn filter_detail_and_unit_counts() {
    let mut room = Room::new(&["Ada", "Bob", "Adele"]);
    for l in [1, 2] {
        room.at(
            l,
            0,
            Event::UnitDone {
                unit: "intro".into(),
            },
        );
    }
    room.at(
        1,
        0,
        Event::QuizAnswer {
            quiz: "q1".into(),
            question: "a".into(),
            answer: "x".into(),
            correct: true,
        },
    );
    room.at(
        1,
        0,
        Event::QuizAnswer {
            quiz: "q1".into(),
            question: "b".into(),
            answer: "y".into(),
            correct: false,
        },
    );
    room.at(1, 0, check("1", "a", false));
    room.at(1, 0, hint("1"));
    let opts = ViewOptions {
        filter: "AD".into(),
        ..Default::default()
    };
    let view = room.model.view(MIN, &opts);
    let names: Vec<_> = view.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Ada", "Adele"]);
    assert_eq!(view.learners, 3);
    assert_eq!(
        (view.units[0].unit.as_str(), view.units[0].finished),
        ("intro", 2)
    );
    let d = room.model.detail(1, MIN, &opts).unwrap();
    assert_eq!(d.quizzes[0].right, 1);
    assert_eq!(d.quizzes[0].answered, 2);
    assert_eq!(d.recent_checks[0].message, "a false");
    assert_eq!(d.hints.len(), 1);
    assert!(room.model.detail(99, MIN, &opts).is_none());
}

#[test]
fn gradebook_in_csv_and_json() {
    let mut room = Room::new(&["Ada", "Bob, \"the\" =builder"]);
    room.at(
        1,
        0,
        Event::UnitDone {
            unit: "intro".into(),
        },
    );
    room.at(1, 2 * MIN, check("1", "a", true));
    room.at(
        1,
        60 * MIN,
        Event::UnitDone {
            unit: "kafka".into(),
        },
    ); // a long gap counts 5 min
    room.at(
        1,
        60 * MIN,
        Event::QuizAnswer {
            quiz: "q1".into(),
            question: "a".into(),
            answer: "x".into(),
            correct: true,
        },
    );
    let rows = room.model.gradebook();
    assert_eq!(rows[0].time_spent_secs, 7 * 60);
    assert_eq!(rows[0].steps_passed, ["kafka/1"]);
    let csv = render(&rows, ExportFormat::Csv);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "learner,name,units_done,units,quiz_scores,steps_passed,steps,time_spent_min,events"
    );
    assert_eq!(lines[1], "1,Ada,2,intro;kafka,q1 1/1,1,kafka/1,7.0,4");
    assert_eq!(lines[2], "2,\"Bob, \"\"the\"\" =builder\",0,,,0,,0.0,0");
    let json: serde_json::Value = serde_json::from_str(&render(&rows, ExportFormat::Json)).unwrap();
    assert_eq!(json[0]["units_done"], serde_json::json!(["intro", "kafka"]));
    assert_eq!(json[1]["name"], "Bob, \"the\" =builder");
}

#[test]
fn a_future_clock_is_clamped_to_arrival() {
    let mut model = RoomModel::new();
    let ev = StoredEvent {
        id: 1,
        learner: 7,
        seq: 1,
        at_ms: 10 * MIN,
        received_ms: MIN,
        event: Event::UnitOpened { unit: "u".into() },
    };
    model.apply(&ev);
    let row = model.view(2 * MIN, &ViewOptions::default()).rows.remove(0);
    assert_eq!(row.last_activity_ms, Some(MIN));
}
