//! A MongoDB console line (`find tweets {"lang":"en"} --limit 5`): parsed,
//! a bad one shown as the panel shows it; and the Extended JSON of `--file`
//! files, read as a query and as updates. Never a panic. Thin: the grammar
//! is the console's.
#![no_main]

use datalab_clients::console::{line, mongo};
use datalab_clients::mongo::{FindSpec, UpdateSpec, parse_ext_json};

libfuzzer_sys::fuzz_target!(|text: &str| {
    match mongo::parse_line(text) {
        Ok(args) => {
            let _ = (args.cmd.verb(), args.cmd.read_only());
        }
        Err(f) => {
            let _ = line::panel_text(&f, text, true);
        }
    }
    if let Ok(b) = parse_ext_json(text, "<fuzz>") {
        let _ = FindSpec::from_bson(&b);
        let _ = UpdateSpec::list_from_bson(&b);
    }
});
