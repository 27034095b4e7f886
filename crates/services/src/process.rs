//! Detached server processes: spawn, find again, stop.
//!
//! A native server runs in its own session (`setsid`), so it outlives the
//! datalab process that started it and gets no terminal signals; its pid is
//! written to a pid file under the data dir before anything waits on it, so
//! `services down` finds it even when datalab was killed mid-start. A pid is
//! only trusted when the process's command line still mentions the service's
//! own directory (pids get reused).

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound then released).
///
/// The listener is released before the server binds the port, so the kernel
/// may offer the same port to the next call (a broker once got one port for
/// both of its listeners): a port already handed out by this process is
/// never handed out again.
pub(crate) fn free_port() -> std::io::Result<u16> {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    for _ in 0..64 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if !given.contains(&port) {
            given.push(port);
            return Ok(port);
        }
    }
    Err(std::io::Error::other(
        "the kernel kept offering ports already in use",
    ))
}

/// Can a TCP connection be opened to `addr` (`host:port`) within `timeout`?
pub(crate) fn tcp_open(addr: &str, timeout: Duration) -> bool {
    use std::net::ToSocketAddrs;
    let Ok(addrs) = addr.to_socket_addrs() else {
        return false;
    };
    let addrs: Vec<SocketAddr> = addrs.collect();
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, timeout).is_ok())
}

/// Start `cmd` detached: new session, stdin from /dev/null, stdout and stderr
/// appended to `out`. The pid is written to `pid_file` at once. A thread
/// reaps the child when it exits while this process lives (no zombies that
/// would look alive).
pub(crate) fn spawn_detached(
    mut cmd: Command,
    out: &Path,
    pid_file: &Path,
) -> std::io::Result<u32> {
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir)?;
    }
    if let Some(dir) = pid_file.parent() {
        fs::create_dir_all(dir)?;
    }
    let log = fs::OpenOptions::new().create(true).append(true).open(out)?;
    let log2 = log.try_clone()?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2));
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let pid = child.id();
    write_atomic(pid_file, format!("{pid}\n").as_bytes())?;
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(pid)
}

/// Write a file atomically (temp file in the same dir, then rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub(crate) fn read_pid(pid_file: &Path) -> Option<u32> {
    fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

/// Is `pid` a live (not zombie) process whose command line contains
/// `marker` (the service's directory)?
pub(crate) fn alive(pid: u32, marker: &str) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // state is the field after the `(comm)`.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("?");
    if state == "Z" || state == "X" {
        return false;
    }
    match fs::read(proc_dir.join("cmdline")) {
        Ok(cmdline) => String::from_utf8_lossy(&cmdline).contains(marker),
        Err(_) => false,
    }
}

/// Resident set size of `pid` in bytes, from /proc.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Does process group `pgid` still have a member (zombies included)?
pub fn group_alive(pgid: u32) -> bool {
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid as i32), None).is_ok()
}

/// The one way datalab ends a process group (a native server, a lab step's
/// command and what it left in the background): SIGTERM to the group, wait up
/// to `grace` while `running()` says it still runs, then SIGKILL and wait up to
/// `settle` for `running()` to turn false. Returns at once when SIGTERM finds
/// no group and `running()` is already false. Blocks this thread (a `Drop`
/// can call it); [`end_group`] is the async form.
pub fn end_group_blocking(
    pgid: u32,
    grace: Duration,
    settle: Duration,
    running: impl Fn() -> bool,
) {
    let pg = nix::unistd::Pid::from_raw(pgid as i32);
    terminate(
        |sig| nix::sys::signal::killpg(pg, sig).is_ok(),
        grace,
        settle,
        running,
    );
}

/// SIGTERM through `send`, wait up to `grace` while `running()`, then
/// SIGKILL and wait up to `settle`. Returns at once when the SIGTERM reached
/// nothing (`send` false) and nothing runs.
fn terminate(
    send: impl Fn(nix::sys::signal::Signal) -> bool,
    grace: Duration,
    settle: Duration,
    running: impl Fn() -> bool,
) {
    use nix::sys::signal::Signal;
    if !send(Signal::SIGTERM) && !running() {
        return;
    }
    let wait_while_running = |limit: Duration| {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if !running() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        !running()
    };
    if wait_while_running(grace) {
        return;
    }
    send(Signal::SIGKILL);
    wait_while_running(settle);
}

/// [`end_group_blocking`] on a blocking thread.
pub async fn end_group(
    pgid: u32,
    grace: Duration,
    settle: Duration,
    running: impl Fn() -> bool + Send + 'static,
) {
    let _ =
        tokio::task::spawn_blocking(move || end_group_blocking(pgid, grace, settle, running)).await;
}

/// Stop a server we started: it leads its own process group (see
/// [`spawn_detached`]), so the whole group ends (children such as JVM helpers
/// go too); `marker` makes sure the pid is still ours. Returns once it is
/// gone (or was not ours / not running).
pub(crate) async fn stop(pid: u32, marker: &str, grace: Duration) {
    if !alive(pid, marker) {
        return;
    }
    let marker = marker.to_string();
    end_group(pid, grace, Duration::from_secs(5), move || {
        alive(pid, &marker)
    })
    .await;
}

/// End every process whose command line names `marker` (a service's
/// directory) but that is outside its server's process group: YARN's
/// NodeManager starts each task and ApplicationMaster JVM in a session of
/// its own, so one that outlives the NodeManager (a slow shutdown cut short
/// by SIGKILL) survives the group's stop. SIGTERM, then SIGKILL after
/// `grace`, then up to 5 s for them to go. An empty marker names nothing.
pub(crate) async fn stop_marked(marker: &str, grace: Duration) {
    if marker.is_empty() {
        return;
    }
    let marker = marker.to_string();
    let _ = tokio::task::spawn_blocking(move || stop_marked_blocking(&marker, grace)).await;
}

fn stop_marked_blocking(marker: &str, grace: Duration) {
    let marked = || -> Vec<u32> {
        let me = std::process::id();
        fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| pid != me && alive(pid, marker))
            .collect()
    };
    let send = |sig| {
        let pids = marked();
        for &pid in &pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig);
        }
        !pids.is_empty()
    };
    terminate(send, grace, Duration::from_secs(5), || !marked().is_empty());
}

/// All `*.pid` files under `dir` (one level of subdirectories deep:
/// `<data_dir>/<kind>/run/*.pid`).
pub(crate) fn pid_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(kinds) = fs::read_dir(dir) else {
        return out;
    };
    for k in kinds.flatten() {
        let run = k.path().join("run");
        if let Ok(files) = fs::read_dir(&run) {
            for f in files.flatten() {
                let p = f.path();
                if p.extension().is_some_and(|e| e == "pid") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// The last `n` lines of a text file ("" when it does not exist).
pub(crate) fn tail_file(path: &Path, n: usize) -> String {
    let Ok(bytes) = fs::read(path) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}

/// Find an executable on PATH.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

pub(crate) fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// 16 random bytes from the kernel, URL-safe base64 without padding: a
/// cluster id the nodes of one start share (the form Kafka wants).
pub(crate) fn random_cluster_id() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    use std::io::Read;
    fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(ALPHABET[((buf >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (6 - bits)) & 63) as usize] as char);
    }
    // One id in 64 began with '-', which kafka-storage's argument parser
    // takes for an option ("--cluster-id: expected one argument"); Kafka's
    // own Uuid draws again in that case, and so does this.
    if out.starts_with('-') {
        return random_cluster_id();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process whose command line names the marker (as YARN's task JVMs
    /// name the service's directory) is ended; one that does not is left
    /// alone, and an empty marker ends nothing.
    #[tokio::test]
    async fn stop_marked_ends_what_names_the_service_directory_only() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("services/hadoop").display().to_string();
        // `$0` is the name: a shell that loops on short sleeps (its
        // command line keeps the name; nothing long outlives it).
        let start = |name: &str| {
            std::process::Command::new("sh")
                .args(["-c", "while :; do sleep 1; done", name])
                .spawn()
                .unwrap()
        };
        let mut ours = start(&format!("{marker}/data/node-0/container"));
        let mut other = start("unrelated");
        stop_marked("", Duration::from_secs(1)).await;
        assert!(
            ours.try_wait().unwrap().is_none(),
            "an empty marker ended a process"
        );
        stop_marked(&marker, Duration::from_secs(10)).await;
        assert!(ours.wait().unwrap().code().is_none(), "ended by a signal");
        assert!(
            other.try_wait().unwrap().is_none(),
            "an unrelated process was ended"
        );
        let _ = other.kill();
        let _ = other.wait();
    }

    #[test]
    fn a_cluster_id_never_looks_like_an_option() {
        for _ in 0..2000 {
            let id = random_cluster_id().unwrap();
            assert_eq!(id.len(), 22);
            assert!(!id.starts_with('-'), "{id}");
        }
    }

    #[test]
    fn cluster_id_is_22_url_safe_chars() {
        let id = random_cluster_id().unwrap();
        assert_eq!(id.len(), 22);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn our_own_process_is_alive_only_with_its_marker() {
        let me = std::process::id();
        assert!(alive(me, ""));
        assert!(!alive(me, "no-such-marker-in-a-test-cmdline-xyz"));
        assert!(!alive(u32::MAX - 1, ""));
    }
}
