//! One server-sent event as the room's live stream delivers it (network
//! input to every learner's datalab): read, or ignored. Never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    if let Some(view) = datalab_room::parse_live_event(text) {
        let _ = view.version;
    }
});
