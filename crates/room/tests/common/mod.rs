//! Test helpers: an in-process room server on loopback, and a raw HTTP/1.1
//! client that can send anything (bad tokens, malformed and oversized bodies).

#![allow(dead_code)]

use datalab_room::{RoomServer, ServeConfig, Store, TlsMode};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct TestRoom {
    pub rt: tokio::runtime::Runtime,
    pub server: Option<RoomServer>,
    pub dir: tempfile::TempDir,
    pub tls: TlsMode,
    pub addr: SocketAddr,
}

impl TestRoom {
    pub fn start(tls: TlsMode) -> TestRoom {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut room = TestRoom {
            rt,
            server: None,
            dir,
            tls,
            addr: "127.0.0.1:0".parse().unwrap(),
        };
        room.restart();
        room
    }

    /// Start (again) on the same port and room dir.
    pub fn restart(&mut self) {
        let mut config = ServeConfig::new(self.room_dir());
        config.bind = self.addr;
        config.tls = self.tls;
        let server = self.rt.block_on(RoomServer::start(config)).unwrap();
        self.addr = server.local_addr();
        self.server = Some(server);
    }

    pub fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }

    pub fn room_dir(&self) -> PathBuf {
        self.dir.path().join("room")
    }

    pub fn server(&self) -> &RoomServer {
        self.server.as_ref().expect("server running")
    }

    pub fn join_url(&self) -> String {
        self.server().join_url()
    }

    pub fn code(&self) -> String {
        self.server().join_code().to_string()
    }

    pub fn instructor(&self) -> String {
        self.server().instructor_token().to_string()
    }

    /// Every stored (learner, seq), read straight from the database.
    pub fn stored(&self) -> Vec<(u64, u64)> {
        Store::open_readonly(&self.room_dir())
            .unwrap()
            .all_keys()
            .unwrap()
    }

    pub fn raw(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
        raw(self.addr, method, path, token, body)
    }
}

impl Drop for TestRoom {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One request on its own connection; returns (status, body).
pub fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    try_raw(addr, method, path, token, body).expect("connect to the room")
}

/// `raw`, or None when the room cannot be reached.
pub fn try_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    s.write_all(head.as_bytes()).ok()?;
    // The server may answer (413) before reading a big body: write what it takes.
    let mut w = s.try_clone().ok()?;
    let body = body.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(&body);
    });
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let _ = writer.join();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// A fresh learner data dir.
pub fn learner_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn unit_opened(unit: &str) -> datalab_room::Event {
    datalab_room::Event::UnitOpened { unit: unit.into() }
}

pub fn check(lab: &str, step: &str, id: &str, passed: bool, msg: &str) -> datalab_room::Event {
    datalab_room::Event::CheckResult {
        lab: lab.into(),
        step: step.into(),
        check_id: id.into(),
        passed,
        message: msg.into(),
    }
}

pub fn file_mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The instructor's command starting a two-phase brainstorm titled `title`.
pub fn brainstorm(title: &str) -> datalab_room::live::Command {
    let phase = |title: &str, secs| datalab_room::live::LivePhase {
        title: title.into(),
        secs,
    };
    datalab_room::live::Command::StartActivity {
        id: "brainstorm".into(),
        title: title.into(),
        phases: vec![phase("Think alone", 180), phase("Share in pairs", 120)],
    }
}
