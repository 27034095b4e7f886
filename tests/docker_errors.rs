//! With no Docker daemon answering, the docker provider says so plainly and
//! names the command that fixes it (never a bare "Socket not found").
//! Runs always: it points DOCKER_HOST at a socket and a port nobody serves.

mod common;

use datalab_services::{ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use std::time::{Duration, Instant};

fn dead_hosts() -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    vec![
        format!("unix://{}/no-docker.sock", dir.display()),
        format!("tcp://127.0.0.1:{port}"),
    ]
}

fn assert_clear(msg: &str, host: &str) {
    assert!(msg.contains("no Docker daemon answers"), "{host}: {msg}");
    assert!(
        msg.contains("containers/docker/setup.sh"),
        "{host}: no fix in: {msg}"
    );
    assert!(
        !msg.contains("SocketNotFound"),
        "{host}: Debug output: {msg}"
    );
    assert!(
        !msg.contains("Socket not found"),
        "{host}: bare socket error: {msg}"
    );
}

#[tokio::test]
async fn a_dead_docker_host_gets_a_clear_message_with_the_fix() {
    let home = tempfile::tempdir().expect("tempdir");
    for host in dead_hosts() {
        // SAFETY: the only test in this binary; nothing else reads the env concurrently.
        unsafe { std::env::set_var("DOCKER_HOST", &host) };
        let services = Services::new(ServicesConfig {
            data_dir: home.path().join("services"),
            cache_dir: common::cache_dir(),
            provider: ProviderKind::Docker,
            timeout: Duration::from_secs(5),
        });
        let t = Instant::now();
        let err = services
            .ensure(ServiceKind::Mongodb, &UpOptions::default())
            .await
            .expect_err("no daemon, no service");
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "answered in {:?}",
            t.elapsed()
        );
        assert_clear(&err.to_string(), &host);

        // The image builder says the same through the CLI.
        let out = std::process::Command::new(common::datalab_bin())
            .args(["services", "build-images", "mongodb"])
            .env("DOCKER_HOST", &host)
            .env("DATALAB_HOME", home.path())
            .output()
            .expect("run datalab");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_clear(&stderr, &host);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
