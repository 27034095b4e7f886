//! Load a room: `load [--learners N] [--rate EVENTS_PER_S] [--duration S]
//! [--url URL --code CODE]`. Without --url it starts the `serve` example
//! (next to this binary) as a child process on a fresh room dir, so the
//! server's peak RSS is its own. Build both first:
//! `cargo build --release --examples`.

use datalab_room::load::{LoadOptions, load};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |name: &str, default: f64| {
        arg(&args, name).map_or(default, |v| v.parse().expect("a number"))
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut child = None;
    let (url, code, pid) = match (arg(&args, "--url"), arg(&args, "--code")) {
        (Some(url), Some(code)) => (url, code, None),
        _ => {
            let serve = std::env::current_exe().unwrap().with_file_name("serve");
            let mut c = Command::new(&serve)
                .arg(tmp.path().join("room"))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: {e} (cargo build --release --examples)",
                        serve.display()
                    )
                });
            let mut line = String::new();
            BufReader::new(c.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let info: Value = serde_json::from_str(&line).expect("serve prints a JSON line");
            let pid = c.id();
            child = Some(c);
            (
                info["join_url"].as_str().unwrap().to_string(),
                info["code"].as_str().unwrap().to_string(),
                Some(pid),
            )
        }
    };
    let opts = LoadOptions {
        url,
        code,
        learners: num("--learners", 200.0) as usize,
        rate: num("--rate", 1.0),
        duration: Duration::from_secs_f64(num("--duration", 60.0)),
        server_pid: pid,
        room_dir: pid.map(|_| tmp.path().join("room")),
    };
    println!(
        "{} learners x {} events/s x {:?}",
        opts.learners, opts.rate, opts.duration
    );
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let report = rt.block_on(load(opts));
    if let Some(mut c) = child {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(c.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let _ = c.wait();
    }
    match report {
        Ok(r) => print!("{r}"),
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(1);
        }
    }
}
