//! `quizzes/q.yaml` of a course: loaded and linted, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    datalab_fuzz::load_with("quizzes/q.yaml", data);
});
