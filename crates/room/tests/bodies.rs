//! Property tests on every request body the server parses: nothing panics,
//! valid bodies round-trip, invalid ones get a message.

use datalab_room::protocol::{Envelope, Event, EventBatch, JoinRequest, parse_batch, parse_join};
use proptest::prelude::*;

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("(?s).{{0,{max}}}")).unwrap()
}

fn id() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,20}"
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        id().prop_map(|unit| Event::UnitOpened { unit }),
        id().prop_map(|unit| Event::UnitDone { unit }),
        (id(), id(), text(50), any::<bool>()).prop_map(|(quiz, question, answer, correct)| {
            Event::QuizAnswer {
                quiz,
                question,
                answer,
                correct,
            }
        }),
        (id(), id(), id(), any::<bool>(), text(80)).prop_map(
            |(lab, step, check_id, passed, message)| {
                Event::CheckResult {
                    lab,
                    step,
                    check_id,
                    passed,
                    message,
                }
            }
        ),
        (id(), id(), text(80)).prop_map(|(lab, step, hint)| Event::HintRevealed {
            lab,
            step,
            hint
        }),
        (id(), id(), text(80)).prop_map(|(activity, phase, text)| Event::NoteSaved {
            activity,
            phase,
            text
        }),
    ]
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (0u64..1000, 1u64..1_000_000, any::<i64>(), event()).prop_map(|(learner, seq, at_ms, event)| {
        Envelope {
            learner,
            seq,
            at_ms,
            event,
        }
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_join(&bytes);
        let _ = parse_batch(&bytes);
    }

    #[test]
    fn json_shaped_noise_never_panics(s in r#"\{("(events|code|name|type|seq|learner|event|at_ms)"|[:,\[\]{}0-9"a-z -]){0,80}\}"#) {
        let _ = parse_join(s.as_bytes());
        let _ = parse_batch(s.as_bytes());
    }

    #[test]
    fn valid_batches_round_trip(events in proptest::collection::vec(envelope(), 1..20)) {
        let body = serde_json::to_vec(&EventBatch { events: events.clone() }).unwrap();
        prop_assert_eq!(parse_batch(&body).unwrap().events, events);
    }

    #[test]
    fn mutated_batches_never_panic(events in proptest::collection::vec(envelope(), 1..5), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut body = serde_json::to_vec(&EventBatch { events }).unwrap();
        let i = cut.index(body.len());
        body[i] = byte;
        let _ = parse_batch(&body);
        body.truncate(i);
        prop_assert!(parse_batch(&body).is_err());
    }

    #[test]
    fn joins_validate_names(name in text(100), code in "[A-Z0-9]{0,10}") {
        let body = serde_json::to_vec(&JoinRequest { code: code.clone(), name: name.clone() }).unwrap();
        match parse_join(&body) {
            Ok(req) => {
                prop_assert_eq!(req.name.as_str(), name.trim());
                prop_assert!(!code.is_empty());
            }
            Err(e) => prop_assert!(!e.0.is_empty()),
        }
    }
}
