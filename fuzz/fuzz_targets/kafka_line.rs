//! A Kafka console line (the lab panel; the words of `datalab kafka …`):
//! parsed, and a bad one shown as the panel shows it. Never a panic. Thin:
//! the grammar is the console's.
#![no_main]

use datalab_clients::console::{kafka, line};

libfuzzer_sys::fuzz_target!(|text: &str| {
    match kafka::parse_line(text) {
        Ok(args) => {
            let _ = args.command.reads_stdin();
        }
        Err(f) => {
            let _ = line::panel_text(&f, text, false);
        }
    }
});
