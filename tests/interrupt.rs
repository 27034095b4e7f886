//! Ctrl-C on `datalab check` while a step's command runs: the step's process
//! group (and what it started in the background) is ended, and datalab exits
//! 130. The terminal's SIGINT never reaches that group by itself: it runs
//! apart so that a timeout can kill all of it.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

/// Processes whose command line is exactly `sleep <marker>`.
fn sleepers(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmd.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
        if args.len() == 2 && args[0].ends_with(b"sleep") && args[1] == marker.as_bytes() {
            found.push(pid);
        }
    }
    found
}

#[test]
fn ctrl_c_during_a_check_ends_the_steps_background_processes() {
    // The mini course with one more step whose command lingers, in the
    // foreground and in the background.
    let content = tempfile::tempdir().unwrap();
    datalab_content::Content::disk("tests/fixtures/mini")
        .extract_dir("", content.path(), true)
        .unwrap();
    let marker = format!("27{}.5", std::process::id() % 10_000);
    let lab_yaml = content.path().join("labs/files/lab.yaml");
    let mut text = std::fs::read_to_string(&lab_yaml).unwrap();
    text.push_str(&format!(
        "  - id: linger\n    title: Background work\n    instructions: Nothing to do.\n    run: \"sleep {marker} & sleep {marker}\"\n    timeout: 600\n    checks:\n      - command_output: {{ exit_code: 0 }}\n"
    ));
    std::fs::write(&lab_yaml, text).unwrap();
    let home = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let child = Command::new(common::datalab_bin())
        .arg("--content")
        .arg(content.path())
        .arg("--home")
        .arg(home.path())
        .args(["check", "files", "linger", "--workspace"])
        .arg(ws.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while sleepers(&marker).len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the step's command never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let start = Instant::now();
    while !sleepers(&marker).is_empty() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = sleepers(&marker);
    for pid in &left {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(left.is_empty(), "processes left running: {left:?}");
}
