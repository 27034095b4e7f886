//! Shared by the integration tests: one services layer per test run, reused
//! by every test binary through a shared home (state file), so each service
//! starts once per run.
//!
//! Environment:
//! - `DATALAB_TEST_HOME`: where services keep state, data and logs
//!   (default: `target/test-home`, shared by all test binaries).
//! - `DATALAB_PROVIDER`: `native` (default in tests), `docker`, `external`.
#![allow(dead_code)]

use datalab_content::Content;
use datalab_services::{ProviderKind, Services, ServicesConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The datalab binary built for this test run.
pub fn datalab_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_datalab"))
}

/// The home shared by every test binary of this run.
pub fn test_home() -> PathBuf {
    std::env::var_os("DATALAB_TEST_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-home"))
}

pub fn provider() -> ProviderKind {
    match std::env::var("DATALAB_PROVIDER").as_deref() {
        Ok("docker") => ProviderKind::Docker,
        Ok("external") => ProviderKind::External,
        Ok("auto") => ProviderKind::Auto,
        _ => ProviderKind::Native,
    }
}

pub fn cache_dir() -> PathBuf {
    std::env::var_os("DATALAB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            directories::BaseDirs::new()
                .map(|b| b.cache_dir().join("datalab"))
                .expect("a home directory")
        })
}

/// The services layer every test of this run shares.
pub fn services() -> Arc<Services> {
    // Step commands run `datalab …`: make sure they find this build.
    // SAFETY: set once, before any thread of the test reads the environment.
    unsafe { std::env::set_var("DATALAB_BIN", datalab_bin()) };
    Arc::new(Services::new(ServicesConfig {
        data_dir: test_home().join("services"),
        cache_dir: cache_dir(),
        provider: provider(),
        timeout: Duration::from_secs(5),
    }))
}

/// The shipped content, read from the source tree (what the binary embeds).
pub fn content() -> Content {
    Content::disk(env!("CARGO_MANIFEST_DIR"))
}

/// A `TestBackend` buffer as text: one line a row, trailing blanks trimmed.
pub fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A lab panel drawn alone at `w`×`h` (monochrome), as text.
pub fn panel_text(p: &dyn datalab_tui::panel::LabPanel, w: u16, h: u16, focused: bool) -> String {
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("test terminal");
    let theme = datalab_tui::theme::Theme::monochrome();
    term.draw(|f| p.render(f, f.area(), &theme, focused))
        .expect("draw");
    buffer_text(term.backend().buffer())
}

/// Run `cmd` to its end like `Command::output`, but give up after `limit`:
/// the command's whole process group (a `datalab` and the Java or Python it
/// started) is killed and the test fails saying what it waited for, instead
/// of a hung service holding the whole suite until CI's own limit.
pub fn output_within(cmd: &mut std::process::Command, limit: Duration) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let what = format!("{cmd:?}");
    let child = cmd
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if rx.recv_timeout(limit).is_err() {
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        }
    });
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    let _ = tx.send(());
    if started.elapsed() >= limit {
        panic!(
            "{what} did not finish within {limit:?}; killed. It printed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Copy a folder and everything in it.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Step commands call `datalab`: put this build first on PATH.
pub fn put_datalab_on_path() {
    let bin_dir = datalab_bin().parent().unwrap().to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut parts = vec![bin_dir];
    parts.extend(std::env::split_paths(&path));
    // SAFETY: set before step commands start; every test sets the same value.
    unsafe { std::env::set_var("PATH", std::env::join_paths(parts).unwrap()) };
}

/// `docker <what> ls -q` of what is labelled with `data_dir` as its home.
pub fn docker_labelled(what: &str, data_dir: &std::path::Path) -> Vec<String> {
    let mut cmd = std::process::Command::new("docker");
    cmd.arg(what).args(["ls", "-q"]);
    if what == "container" {
        cmd.arg("--all");
    }
    let out = cmd
        .arg("--filter")
        .arg(format!("label=datalab.home={}", data_dir.display()))
        .output()
        .expect("docker ls");
    assert!(out.status.success(), "docker {what} ls failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}
