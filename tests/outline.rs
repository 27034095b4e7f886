//! `datalab outline --json`: two days, sessions, units, each with id, kind
//! and title; and the plain-terminal fallback of `datalab`.

mod common;

use std::process::Command;

#[test]
fn outline_json_has_days_sessions_and_units() {
    let out = Command::new(common::datalab_bin())
        .args(["outline", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let days = v["days"].as_array().expect("days");
    assert_eq!(days.len(), 2);
    let mut units = 0;
    for d in days {
        for key in ["id", "kind", "title"] {
            assert!(d[key].is_string(), "day has {key}");
        }
        for s in d["sessions"].as_array().unwrap() {
            for key in ["id", "kind", "title"] {
                assert!(s[key].is_string(), "session has {key}");
            }
            for u in s["units"].as_array().unwrap() {
                for key in ["id", "kind", "title"] {
                    assert!(u[key].is_string(), "unit has {key}: {u}");
                }
                assert!(
                    ["lesson", "quiz", "comparison", "activity", "lab"]
                        .contains(&u["kind"].as_str().unwrap())
                );
                units += 1;
            }
        }
    }
    assert!(units >= 20, "the course has its units: {units}");
}

#[test]
fn without_a_terminal_datalab_says_what_to_run() {
    let out = Command::new(common::datalab_bin()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("this is not a terminal"), "{text}");
    assert!(text.contains("datalab quiz ID --plain"), "{text}");
}

/// `datalab outline | head -1`: the reader goes away early; datalab ends
/// quietly (no panic message), as a command killed by SIGPIPE would.
#[test]
fn a_closed_pipe_ends_the_outline_quietly() {
    use std::process::Stdio;
    let mut child = Command::new(common::datalab_bin())
        .args(["outline", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The read end goes at once: datalab is still loading the course.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(out.status.code(), Some(0) | Some(141)),
        "{:?} {stderr}",
        out.status
    );
}
