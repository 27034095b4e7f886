//! No server process of ours may outlive `services down`: neither after a
//! normal `up`, nor when the datalab process that was starting them was
//! killed mid-start (its servers are detached, but their pid files lead
//! `down` to them). Processes are found in the process table by the home
//! directory their command lines mention.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn home(name: &str) -> PathBuf {
    let h = common::test_home().join(format!("orphans-{name}"));
    let _ = std::fs::remove_dir_all(&h);
    std::fs::create_dir_all(&h).unwrap();
    h
}

/// Live (non-zombie) processes whose command line mentions `dir`.
fn processes_under(dir: &Path) -> Vec<(u32, String)> {
    let needle = dir.display().to_string();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
        if !zombie && cmd.contains(&needle) && pid != std::process::id() {
            out.push((pid, cmd.chars().take(160).collect()));
        }
    }
    out
}

fn datalab(home: &Path) -> Command {
    let mut c = Command::new(common::datalab_bin());
    c.env("DATALAB_HOME", home)
        .env("DATALAB_PROVIDER", "native")
        .stdin(Stdio::null());
    c
}

fn pid_files(home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(kinds) = std::fs::read_dir(home.join("services")) {
        for k in kinds.flatten() {
            if let Ok(files) = std::fs::read_dir(k.path().join("run")) {
                out.extend(
                    files
                        .flatten()
                        .map(|f| f.path())
                        .filter(|p| p.extension().is_some_and(|e| e == "pid")),
                );
            }
        }
    }
    out
}

#[test]
fn down_leaves_no_server_behind() {
    if common::provider() != datalab_services::ProviderKind::Native {
        return;
    }
    let h = home("down");
    let o = datalab(&h)
        .args(["services", "up", "mongodb", "kafka"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !processes_under(&h).is_empty(),
        "the servers should be running"
    );
    let o = datalab(&h).args(["services", "down"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let left = processes_under(&h);
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(pid_files(&h).is_empty());
}

/// Start Kafka in `h` and kill datalab hard once the broker is spawned (its
/// pid file is written at spawn, before readiness). The broker's processes,
/// or why there are none.
fn kill_mid_start(h: &Path) -> Result<Vec<(u32, String)>, String> {
    let said = h.join("datalab.stderr");
    let mut child = datalab(h)
        .args(["services", "up", "kafka"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&said).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while pid_files(h).is_empty() && Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let exited_first = child.try_wait().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let orphans = processes_under(h);
    if !orphans.is_empty() {
        return Ok(orphans);
    }
    let broker_out = h.join("services/kafka/logs/node-0.out");
    Err(format!(
        "no broker outlived datalab (pid files {:?}; datalab had exited by itself: {exited_first:?}; it said: {}; the broker's output: {})",
        pid_files(h),
        std::fs::read_to_string(&said).unwrap_or_default(),
        std::fs::read_to_string(&broker_out).unwrap_or_default()
    ))
}

#[test]
fn killing_datalab_mid_start_leaves_nothing_after_down() {
    if common::provider() != datalab_services::ProviderKind::Native {
        return;
    }
    // The detached broker survives its parent: it is the orphan to catch.
    // Once in CI (load 11) none was there to catch; a broker that died by
    // itself on a busy machine is not what this test is about, so it gets
    // one more try, and the reason is printed either way.
    let h = home("killed");
    let orphans = kill_mid_start(&h).or_else(|why| {
        eprintln!("first try: {why}");
        let _ = datalab(&h).args(["services", "down"]).output();
        kill_mid_start(&home("killed"))
    });
    let orphans = orphans.unwrap_or_else(|why| panic!("{why}"));
    assert!(!orphans.is_empty());

    let o = datalab(&h).args(["services", "down"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let left = processes_under(&h);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_new_start_after_a_killed_one_replaces_the_leftover() {
    if common::provider() != datalab_services::ProviderKind::Native {
        return;
    }
    let h = home("restart");
    let mut child = datalab(&h)
        .args(["services", "up", "mongodb"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    while pid_files(&h).is_empty() && Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let o = datalab(&h)
        .args(["services", "up", "mongodb"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Exactly one server runs: the leftover (if the kill beat the state
    // file) was stopped, not duplicated.
    let servers: Vec<_> = processes_under(&h)
        .into_iter()
        .filter(|(_, c)| c.contains("-listen-addr") || c.contains("mongod"))
        .collect();
    assert_eq!(servers.len(), 1, "{servers:?}");
    let o = datalab(&h).args(["services", "down"]).output().unwrap();
    assert!(o.status.success());
    assert!(processes_under(&h).is_empty());
}
