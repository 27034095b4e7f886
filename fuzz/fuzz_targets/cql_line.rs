//! CQL text (the lab's CQL prompt, `datalab cql --file`): split into
//! statements as a typed line and as a file, a bad one shown as the panel
//! shows it, each statement parsed as CQL or a cqlsh command, dates and
//! timestamps as COPY reads them. Never a panic. Thin: the grammar is the
//! console's.
#![no_main]

use datalab_clients::console::{cql as console, line};
use datalab_clients::cql;

libfuzzer_sys::fuzz_target!(|text: &str| {
    match console::parse(text, console::Source::Line) {
        Ok(stmts) => {
            for s in stmts {
                let _ = cql::parse_command(&s.text);
            }
        }
        Err(f) => {
            let _ = line::panel_text(&f, text, false);
        }
    }
    let _ = console::parse(text, console::Source::File("fuzz.cql"));
    let _ = cql::parse_date(text);
    let _ = cql::parse_timestamp(text);
});
