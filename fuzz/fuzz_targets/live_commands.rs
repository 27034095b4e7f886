//! What reaches the room server's live routes: each line is an
//! instructor's command or a learner's poll answer (JSON, as posted),
//! applied in turn to one live state. Refused ones leave the state as it
//! was; every view of every audience can be drawn afterwards. Never a panic.
#![no_main]

use datalab_room::live::{Audience, Command, LiveState, PollAnswer};

libfuzzer_sys::fuzz_target!(|text: &str| {
    let mut state = LiveState::default();
    for (i, line) in text.lines().enumerate().take(64) {
        let now = i as i64 * 1000;
        if let Ok(cmd) = serde_json::from_str::<Command>(line) {
            let before = state.clone();
            if state.apply(cmd, now).is_err() {
                assert_eq!(state, before, "a refused command changed the state");
            }
        } else if let Ok(a) = serde_json::from_str::<PollAnswer>(line) {
            let _ = state.answer(i as u64 % 4, a);
        }
        for who in [Audience::Instructor, Audience::Projector, Audience::Learner(1)] {
            let _ = state.view(who, now);
        }
    }
});
