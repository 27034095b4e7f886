//! A Kafka console line (the lab panel, `datalab kafka …` words): parsed,
//! never a panic. Thin on purpose: the console grammar is being unified.
#![no_main]

libfuzzer_sys::fuzz_target!(|line: &str| {
    if let Ok(args) = datalab_clients::kafka_console::parse_line(line) {
        let _ = args.command.reads_stdin();
    }
});
