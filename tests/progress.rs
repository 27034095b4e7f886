//! Progress is written atomically: a kill in the middle of writing never
//! leaves a corrupt file; corrupt and newer files are kept aside.

use datalab_engine::progress::{FORMAT_VERSION, Progress, ProgressError, ProgressStore};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Child mode: hammer the store with updates until killed.
#[test]
fn child_writer() {
    let Ok(home) = std::env::var("DATALAB_PROGRESS_CHILD") else {
        return;
    };
    let store = ProgressStore::new(std::path::Path::new(&home));
    for i in 0u64.. {
        store
            .update(|p| {
                let u = p.unit_mut(&format!("unit-{}", i % 50));
                u.notes = Some("x".repeat((i % 4000) as usize));
                u.done = i % 2 == 0;
            })
            .unwrap();
    }
}

#[test]
fn survives_kill_during_write() {
    let home = tempfile::tempdir().unwrap();
    let me = std::env::current_exe().unwrap();
    for round in 0..15u64 {
        let mut child = Command::new(&me)
            .args(["child_writer", "--exact", "--nocapture"])
            .env("DATALAB_PROGRESS_CHILD", home.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(40 + round * 13));
        child.kill().unwrap();
        child.wait().unwrap();
        let (p, err) = ProgressStore::new(home.path()).load();
        assert!(err.is_none(), "round {round}: {err:?}");
        assert_eq!(p.version, FORMAT_VERSION);
    }
    // Nothing was set aside: no write was ever seen half-done.
    let aside: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("progress.json.")
        })
        .collect();
    assert!(aside.is_empty());
}

#[test]
fn corrupt_file_is_kept_aside_not_overwritten() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("progress.json");
    std::fs::write(&path, b"{\"version\": 1, \"units\": {").unwrap();
    let store = ProgressStore::new(home.path());
    let (p, err) = store.load();
    assert_eq!(p, Progress::new());
    let Some(ProgressError::Corrupt { kept, .. }) = err else {
        panic!("expected Corrupt, got {err:?}")
    };
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        b"{\"version\": 1, \"units\": {"
    );
    assert!(err_message_mentions(&store, &kept));
}

fn err_message_mentions(store: &ProgressStore, kept: &std::path::Path) -> bool {
    let e = ProgressError::Corrupt {
        path: store.path().to_path_buf(),
        reason: "x".into(),
        kept: kept.to_path_buf(),
    };
    e.to_string().contains(&kept.display().to_string())
}

#[test]
fn newer_format_is_kept_aside() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("progress.json");
    std::fs::write(&path, br#"{"version": 99, "whatever": true}"#).unwrap();
    let (p, err) = ProgressStore::new(home.path()).load();
    assert_eq!(p, Progress::new());
    let Some(ProgressError::Newer {
        found: 99, kept, ..
    }) = err
    else {
        panic!("expected Newer, got {err:?}")
    };
    assert!(kept.exists());
    assert!(!path.exists(), "the newer file was moved, not overwritten");
}

#[test]
fn updates_round_trip() {
    let home = tempfile::tempdir().unwrap();
    let store = ProgressStore::new(home.path());
    store
        .update(|p| {
            p.last_unit = Some("kafka".into());
            p.unit_mut("kafka").steps_done.insert("topics".into());
        })
        .unwrap();
    let (p, err) = store.load();
    assert!(err.is_none());
    assert_eq!(p.last_unit.as_deref(), Some("kafka"));
    assert!(p.unit("kafka").unwrap().steps_done.contains("topics"));
}
