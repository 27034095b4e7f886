//! The docker provider for real: Kafka, MongoDB and Cassandra containers
//! started through testcontainers against the machine's Docker daemon (in CI:
//! Debian's dockerd started by containers/docker/setup.sh, images built by
//! `datalab services build-images`). Runs only with DATALAB_PROVIDER=docker.
//!
//! One test, in steps, in a home of its own: the services are heavy for a
//! 2-core machine, so they start one after the other, and the last step tears
//! everything down and checks that no datalab container of this home remains.

mod common;

use datalab::services::{ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::process::Command;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn enabled() -> bool {
    if common::provider() == ProviderKind::Docker {
        return true;
    }
    eprintln!("services_docker: skipped: the provider is not docker (set DATALAB_PROVIDER=docker)");
    false
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client")
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

async fn kafka_three_partitions(services: &Services) {
    let t = Instant::now();
    let e = services
        .ensure(ServiceKind::Kafka, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "kafka ready in {:.1} s at {}",
        t.elapsed().as_secs_f64(),
        e.address
    );
    assert_eq!(e.provider, ProviderKind::Docker);
    let topic = unique("docker_orders");
    let a = admin(e.kafka_bootstrap());
    let opts = AdminOptions::new()
        .operation_timeout(Some(T))
        .request_timeout(Some(T));
    let res = a
        .create_topics(
            &[NewTopic::new(&topic, 3, TopicReplication::Fixed(1))],
            &opts,
        )
        .await
        .expect("create_topics");
    assert!(res[0].is_ok(), "{res:?}");
    let (b, tp) = (e.address.clone(), topic.clone());
    let parts = tokio::task::spawn_blocking(move || {
        let md = admin(&b)
            .inner()
            .fetch_metadata(Some(&tp), T)
            .expect("metadata");
        let t = md
            .topics()
            .iter()
            .find(|t| t.name() == tp)
            .expect("the topic");
        assert!(t.error().is_none(), "{:?}", t.error());
        t.partitions().len()
    })
    .await
    .unwrap();
    assert_eq!(parts, 3);
    let ids = containers_of(&services.config.data_dir, Some(ServiceKind::Kafka));
    assert_eq!(ids.len(), 1, "one broker container: {ids:?}");
    let ips = published_ips(&ids[0]);
    assert!(
        !ips.is_empty() && ips.iter().all(|ip| ip == "127.0.0.1"),
        "ports must be published on 127.0.0.1 only: {ips:?}"
    );
}

async fn mongodb_documents(services: &Services) {
    use mongodb::bson::{Document, doc};
    let t = Instant::now();
    let e = services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "mongodb ready in {:.1} s at {}",
        t.elapsed().as_secs_f64(),
        e.address
    );
    let mut opts = mongodb::options::ClientOptions::parse(e.mongodb_uri())
        .await
        .expect("uri");
    opts.server_selection_timeout = Some(T);
    opts.connect_timeout = Some(T);
    let client = mongodb::Client::with_options(opts).unwrap();
    let db = client.database(&unique("docker_shop"));
    let coll = db.collection::<Document>("orders");
    coll.insert_many(vec![
        doc! {"sku": "a", "qty": 2},
        doc! {"sku": "b", "qty": 5},
    ])
    .await
    .expect("insert_many");
    let found = coll
        .find_one(doc! {"sku": "b"})
        .await
        .expect("find_one")
        .expect("a document");
    assert_eq!(found.get_i32("qty").unwrap(), 5);
    assert_eq!(coll.count_documents(doc! {}).await.unwrap(), 2);
    db.drop().await.expect("drop");
}

async fn cassandra_keyspace(services: &Services) {
    use scylla::client::session_builder::SessionBuilder;
    let t = Instant::now();
    let e = services
        .ensure(ServiceKind::Cassandra, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "cassandra ready in {:.1} s at {}",
        t.elapsed().as_secs_f64(),
        e.address
    );
    let session = SessionBuilder::new()
        .known_nodes(e.cassandra_contact_points())
        .connection_timeout(T)
        .build()
        .await
        .expect("session");
    let ks = unique("docker_iot");
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
            ),
            &[],
        )
        .await
        .expect("create keyspace");
    let rows = session
        .query_unpaged(
            "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?",
            (ks.clone(),),
        )
        .await
        .expect("select")
        .into_rows_result()
        .expect("rows");
    let names: Vec<String> = rows
        .rows::<(String,)>()
        .unwrap()
        .map(|r| r.unwrap().0)
        .collect();
    assert_eq!(names, vec![ks.clone()]);
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
    let t = Instant::now();
    let e = services
        .ensure(ServiceKind::Kafka, &UpOptions { brokers: 3 })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "kafka x3 ready in {:.1} s at {}",
        t.elapsed().as_secs_f64(),
        e.address
    );
    assert_eq!(e.nodes, 3);
    assert_eq!(
        containers_of(&services.config.data_dir, Some(ServiceKind::Kafka)).len(),
        3
    );
    let topic = unique("docker_replicated");
    let a = admin(e.kafka_bootstrap());
    let opts = AdminOptions::new()
        .operation_timeout(Some(T))
        .request_timeout(Some(T));
    let res = a
        .create_topics(
            &[NewTopic::new(&topic, 3, TopicReplication::Fixed(3))],
            &opts,
        )
        .await
        .expect("create_topics");
    assert!(res[0].is_ok(), "{res:?}");
    let brokers = |b: String| {
        tokio::task::spawn_blocking(move || {
            admin(&b)
                .inner()
                .fetch_metadata(None, T)
                .map(|m| m.brokers().len())
                .unwrap_or(0)
        })
    };
    services.stop_kafka_broker(1).await.expect("stop broker 1");
    let mut seen = 3;
    for _ in 0..150 {
        seen = brokers(e.address.clone()).await.unwrap();
        if seen == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen, 2, "broker 1 should be gone from the metadata");
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", e.kafka_bootstrap())
        .set("message.timeout.ms", "20000")
        .create()
        .unwrap();
    producer
        .send(FutureRecord::to(&topic).key("k").payload("still up"), T)
        .await
        .expect("produce with a broker down");
    services
        .start_kafka_broker(1)
        .await
        .expect("start broker 1");
    let mut seen = 0;
    for _ in 0..150 {
        seen = brokers(e.address.clone()).await.unwrap();
        if seen == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen, 3, "broker 1 is back");
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
    mongodb_documents(&services).await;
    second_ensure_reuses_the_container(&services).await;
    cassandra_keyspace(&services).await;
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
