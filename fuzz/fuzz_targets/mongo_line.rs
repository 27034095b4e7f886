//! A MongoDB console line (`find tweets {"lang":"en"} --limit 5`) and the
//! Extended JSON of `--file` files: parsed, never a panic. Thin on purpose:
//! the console grammar is being unified.
#![no_main]

use std::path::Path;

libfuzzer_sys::fuzz_target!(|line: &str| {
    let _ = datalab_clients::console::parse_mongo_line(line, Path::new("/nonexistent/fuzz"));
    if let Ok(b) = datalab_clients::mongo::parse_ext_json(line, "<fuzz>") {
        let _ = datalab_clients::mongo::FindSpec::from_bson(&b);
        let _ = datalab_clients::mongo::UpdateSpec::list_from_bson(&b);
        let _ = datalab_clients::console::pipeline_from_bson(b);
    }
});
