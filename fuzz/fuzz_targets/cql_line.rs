//! CQL text (`datalab cql --file`, the lab's CQL prompt): split into
//! statements, each parsed as a statement or a cqlsh command, dates and
//! timestamps as COPY reads them. Never a panic. Thin on purpose: the
//! console grammar is being unified.
#![no_main]

use datalab_clients::cql;

libfuzzer_sys::fuzz_target!(|text: &str| {
    if let Ok(stmts) = cql::split(text) {
        for s in stmts {
            let _ = cql::parse_command(&s.text);
        }
    }
    let _ = cql::parse_command(text);
    let _ = cql::parse_date(text);
    let _ = cql::parse_timestamp(text);
});
