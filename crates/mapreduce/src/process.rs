//! Running a task's command with its stdin, stdout and stderr as pipes.

use super::CancelToken;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::thread::ScopedJoinHandle;

/// How much of a task's stderr is kept for error messages.
const STDERR_KEEP: usize = 16 * 1024;

/// Start `sh -c cmd` with piped stdio, as the leader of its own process
/// group (registered with `cancel` until [`reap`]), so a cancel kills it
/// and everything it started.
pub(crate) fn spawn(
    cmd: &str,
    cwd: Option<&Path>,
    env: &[(&str, String)],
    cancel: &CancelToken,
) -> io::Result<Child> {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = cwd {
        c.current_dir(dir);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        c.process_group(0);
    }
    let child = c.spawn()?;
    cancel.register(child.id());
    Ok(child)
}

/// Wait for a task process and forget its group.
pub(crate) fn reap(child: &mut Child, cancel: &CancelToken) -> io::Result<ExitStatus> {
    let status = child.wait();
    cancel.unregister(child.id());
    status
}

/// Read a stderr pipe to the end in a scoped thread and keep its tail.
pub(crate) fn collect_stderr<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    stderr: ChildStderr,
) -> ScopedJoinHandle<'s, Vec<u8>> {
    scope.spawn(move || {
        let mut stderr = stderr;
        let mut keep: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match stderr.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    keep.extend_from_slice(&buf[..n]);
                    if keep.len() > 2 * STDERR_KEEP {
                        keep.drain(..keep.len() - STDERR_KEEP);
                    }
                }
            }
        }
        keep
    })
}

/// The last `n` non-empty lines of a command's stderr, indented.
pub(crate) fn tail(stderr: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `exited with status 1` / `was killed by signal 9`.
pub(crate) fn describe_status(status: ExitStatus) -> String {
    if let Some(c) = status.code() {
        return format!("exited with status {c}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(s) = status.signal() {
            return format!("was killed by signal {s}");
        }
    }
    "ended abnormally".into()
}

/// Call `f` with every line of `r` (without its `\n`; a last line without a
/// newline is passed too). Lines are borrowed from the reader's buffer when
/// they fit in it, so there is no allocation per line.
pub(crate) fn for_each_line<R: BufRead>(
    mut r: R,
    mut f: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<u64> {
    let mut carry: Vec<u8> = Vec::new();
    let mut bytes = 0u64;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        bytes += n as u64;
        let mut start = 0;
        for i in memchr::memchr_iter(b'\n', buf) {
            if carry.is_empty() {
                f(&buf[start..i])?;
            } else {
                carry.extend_from_slice(&buf[start..i]);
                f(&carry)?;
                carry.clear();
            }
            start = i + 1;
        }
        carry.extend_from_slice(&buf[start..]);
        r.consume(n);
    }
    if !carry.is_empty() {
        f(&carry)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_across_buffer_boundaries() {
        let text = b"a\tb\nlonger line here\n\nlast";
        for cap in 1..8 {
            let mut got = Vec::new();
            let r = std::io::BufReader::with_capacity(cap, &text[..]);
            for_each_line(r, |l| {
                got.push(l.to_vec());
                Ok(())
            })
            .unwrap();
            assert_eq!(
                got,
                vec![
                    b"a\tb".to_vec(),
                    b"longer line here".to_vec(),
                    b"".to_vec(),
                    b"last".to_vec()
                ]
            );
        }
    }
}
