//! The records a learner's mapper writes, through the real engine: the
//! input is passed on by `cat` as the mapper and `cat` as the reducer, so
//! every line reaches the record parser (key up to the first tab,
//! malformed lines counted), the partitioner, the sort buffer with spills
//! (a tiny memory budget) and the merge. Sizes as `--split-size` and
//! `--memory` read them too. Never a panic; slow (processes per run).
#![no_main]

use datalab_mapreduce::{JobConfig, parse_size, run_job};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_size(s);
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let input = dir.path().join("input.txt");
    std::fs::write(&input, data).expect("the input");
    let mut cfg = JobConfig::new(vec![input], "cat", "cat", dir.path().join("out"));
    cfg.reducers = 2;
    cfg.split_size = Some(256);
    cfg.memory = 1024;
    cfg.parallelism = 1;
    cfg.max_attempts = 1;
    let _ = run_job(&cfg, &|_| {});
});
