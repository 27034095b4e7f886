//! The docker provider for real: Kafka, MongoDB and Cassandra containers
//! started through testcontainers against the machine's Docker daemon (in CI:
//! Debian's dockerd started by containers/docker/setup.sh, images built by
//! `datalab services build-images`). Runs only with DATALAB_PROVIDER=docker.
//!
//! One test, in steps, in a home of its own: the services are heavy for a
//! 2-core machine, so they start one after the other, and the last step tears
//! everything down and checks that no datalab container of this home remains.

mod common;
#[path = "common/roundtrip.rs"]
mod roundtrip;

use datalab_services::{Endpoint, ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use std::process::Command;
use std::time::Instant;

fn enabled() -> bool {
    if common::provider() == ProviderKind::Docker {
        return true;
    }
    eprintln!("services_docker: skipped: the provider is not docker (set DATALAB_PROVIDER=docker)");
    false
}

/// Container ids (all states) labelled datalab=1 and belonging to `home`.
fn containers_of(data_dir: &std::path::Path, kind: Option<ServiceKind>) -> Vec<String> {
    let mut cmd = Command::new("docker");
    cmd.args(["ps", "-aq", "--no-trunc", "--filter", "label=datalab=1"])
        .arg("--filter")
        .arg(format!("label=datalab.home={}", data_dir.display()));
    if let Some(k) = kind {
        cmd.arg("--filter").arg(format!("label=datalab.kind={k}"));
    }
    let out = cmd.output().expect("docker ps");
    assert!(out.status.success(), "docker ps failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The host addresses a container's ports are published on.
fn published_ips(id: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{range $p, $b := .NetworkSettings.Ports}}{{range $b}}{{.HostIp}} {{end}}{{end}}",
            id,
        ])
        .output()
        .expect("docker inspect");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn services_in(home: &std::path::Path) -> Services {
    Services::new(ServicesConfig {
        data_dir: home.join("services"),
        ..common::services().config.clone()
    })
}

/// Start `kind` (with `brokers` Kafka brokers) and say how long it took.
async fn ensure_timed(services: &Services, kind: ServiceKind, brokers: u32) -> Endpoint {
    let t = Instant::now();
    let e = services
        .ensure(
            kind,
            &UpOptions {
                nodes: brokers,
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "{kind} ({brokers}) ready in {:.1} s at {}",
        t.elapsed().as_secs_f64(),
        e.address
    );
    assert_eq!(e.provider, ProviderKind::Docker);
    e
}

async fn kafka_three_partitions(services: &Services) {
    let e = ensure_timed(services, ServiceKind::Kafka, 1).await;
    roundtrip::kafka_topic(&e, "docker_orders", 1).await;
    let ids = containers_of(&services.config.data_dir, Some(ServiceKind::Kafka));
    assert_eq!(ids.len(), 1, "one broker container: {ids:?}");
    let ips = published_ips(&ids[0]);
    assert!(
        !ips.is_empty() && ips.iter().all(|ip| ip == "127.0.0.1"),
        "ports must be published on 127.0.0.1 only: {ips:?}"
    );
}

/// A second `ensure`, from a separate Services value (as a second datalab
/// process would have), gets the same container.
async fn second_ensure_reuses_the_container(services: &Services) {
    let before = containers_of(&services.config.data_dir, Some(ServiceKind::Mongodb));
    let first = services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let again = Services::new(services.config.clone())
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("warm ensure: {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    assert_eq!(first, again);
    let after = containers_of(&services.config.data_dir, Some(ServiceKind::Mongodb));
    assert_eq!(before, after, "the same container is reused");
    assert_eq!(after.len(), 1);
}

/// Three brokers in one KRaft quorum across three containers; one is
/// stopped and started again.
async fn kafka_three_brokers(services: &Services) {
    let e = ensure_timed(services, ServiceKind::Kafka, 3).await;
    assert_eq!(e.nodes, 3);
    assert_eq!(
        containers_of(&services.config.data_dir, Some(ServiceKind::Kafka)).len(),
        3
    );
    let topic = roundtrip::kafka_topic(&e, "docker_replicated", 3).await;
    roundtrip::kafka_broker_down_and_back(services, &e, &topic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_provider_runs_real_services_and_cleans_up() {
    if !enabled() {
        return;
    }
    let home = common::test_home().join("docker");
    let _ = std::fs::remove_dir_all(&home);
    let services = services_in(&home);
    kafka_three_partitions(&services).await;
    let e = ensure_timed(&services, ServiceKind::Mongodb, 1).await;
    roundtrip::mongodb_documents(&e, "docker_shop").await;
    second_ensure_reuses_the_container(&services).await;
    let e = ensure_timed(&services, ServiceKind::Cassandra, 1).await;
    roundtrip::cassandra_keyspace(&e, "docker_iot").await;
    // The replication lab's cluster replaces the single broker.
    kafka_three_brokers(&services).await;
    services.down(&[]).await.expect("services down");
    let left = containers_of(&services.config.data_dir, None);
    assert!(left.is_empty(), "containers left after down: {left:?}");
}

/// A datalab killed mid-run leaves containers; the next start in the same
/// home finds them by label and removes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftovers_of_a_crashed_run_are_removed_on_the_next_start() {
    if !enabled() {
        return;
    }
    let home = common::test_home().join("docker-leftovers");
    let _ = std::fs::remove_dir_all(&home);
    let services = services_in(&home);
    services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = containers_of(&services.config.data_dir, Some(ServiceKind::Mongodb));
    assert_eq!(first.len(), 1);
    // The crash: the state file is gone, the container still runs.
    std::fs::remove_file(services.config.data_dir.join("mongodb/state.json")).expect("state file");
    services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = containers_of(&services.config.data_dir, Some(ServiceKind::Mongodb));
    assert_eq!(second.len(), 1, "exactly one container: {second:?}");
    assert_ne!(first, second, "the leftover was replaced");
    services.down(&[]).await.expect("down");
    assert!(containers_of(&services.config.data_dir, None).is_empty());
}

/// An image that is neither here nor pullable (no registry) gets a message
/// naming `datalab services build-images`; nothing is left running.
#[test]
fn a_missing_image_names_build_images() {
    if !enabled() {
        return;
    }
    let home = common::test_home().join("docker-missing-image");
    let _ = std::fs::remove_dir_all(&home);
    let out = Command::new(common::datalab_bin())
        .args(["--provider", "docker", "services", "up", "mongodb"])
        .env("DATALAB_HOME", &home)
        .env("DATALAB_IMAGE_MONGODB", "datalab/no-such-image:0")
        .output()
        .expect("run datalab");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("datalab/no-such-image:0")
            && stderr.contains("datalab services build-images mongodb"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(containers_of(&home.join("services"), None).is_empty());
}
