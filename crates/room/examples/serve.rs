//! A room server as a process: `serve DIR [BIND]` (BIND default
//! 127.0.0.1:0). Prints one JSON line (url, join_url, code, instructor
//! token, pid) and serves until SIGINT/SIGTERM. Used by the kill -9 test
//! and the load example; `datalab room serve` does the same with a CLI.

use datalab_room::{RoomServer, ServeConfig};
use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: serve DIR [BIND]");
        std::process::exit(2);
    };
    let mut config = ServeConfig::new(dir);
    config.bind = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()
        .expect("BIND is ADDR:PORT");
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async move {
        let server = RoomServer::start(config).await.unwrap_or_else(|e| {
            eprintln!("serve: {e}");
            std::process::exit(1);
        });
        let line = serde_json::json!({
            "url": server.url(),
            "join_url": server.join_url(),
            "code": server.join_code(),
            "instructor": server.instructor_token(),
            "pid": std::process::id(),
        });
        println!("{line}");
        let _ = std::io::stdout().flush();
        let _ = tokio::signal::ctrl_c().await;
        server.shutdown().await;
    });
}
