//! The external provider, pointed at the services the native provider runs
//! for this test run (or whatever DATALAB_PROVIDER provides): through the
//! config file `<home>/services.yaml`, through environment variables, and
//! with per-learner namespaces on one shared cluster.

mod common;

use datalab_services::{Namespace, ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// The endpoints of the shared services, started if needed.
async fn shared() -> (String, String, String) {
    let s = common::services();
    let k = s.ensure(ServiceKind::Kafka, &UpOptions::default()).await;
    let m = s.ensure(ServiceKind::Mongodb, &UpOptions::default()).await;
    let c = s
        .ensure(ServiceKind::Cassandra, &UpOptions::default())
        .await;
    (
        k.unwrap_or_else(|e| panic!("{e}")).address,
        m.unwrap_or_else(|e| panic!("{e}")).address,
        c.unwrap_or_else(|e| panic!("{e}")).address,
    )
}

fn external_home(name: &str, kafka: &str, mongo: &str, cass: &str) -> PathBuf {
    let home = common::test_home().join(format!("external-{name}"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("services.yaml"),
        format!("provider: external\nkafka: {kafka}\nmongodb: \"{mongo}\"\ncassandra: {cass}\n"),
    )
    .unwrap();
    home
}

fn external_services(home: &std::path::Path) -> Services {
    Services::new(ServicesConfig {
        data_dir: home.join("services"),
        cache_dir: common::cache_dir(),
        // auto: services.yaml says external
        provider: ProviderKind::Auto,
        timeout: T,
    })
}

#[tokio::test]
async fn external_endpoints_from_the_config_file_are_probed_and_never_stopped() {
    let (k, m, c) = shared().await;
    let home = external_home("file", &k, &m, &c);
    let ext = external_services(&home);
    for (kind, addr) in [
        (ServiceKind::Kafka, &k),
        (ServiceKind::Mongodb, &m),
        (ServiceKind::Cassandra, &c),
    ] {
        let e = ext
            .ensure(kind, &UpOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.provider, ProviderKind::External);
        assert_eq!(&e.address, addr);
    }
    let status = ext.status().await;
    // Hadoop has no external endpoint in this file: down, the others up.
    let (hadoop, others): (Vec<_>, Vec<_>) =
        status.iter().partition(|s| s.kind == ServiceKind::Hadoop);
    assert!(others.iter().all(|s| s.health == "up"), "{status:?}");
    assert!(hadoop.iter().all(|s| s.health == "down"), "{status:?}");
    // down never stops external services: the shared ones still answer.
    ext.down(&[]).await.unwrap();
    let native = common::services();
    for kind in ServiceKind::DEFAULT_UP {
        assert!(native.running(kind).await.is_some(), "{kind} was stopped");
    }
}

#[tokio::test]
async fn external_endpoints_from_the_environment() {
    let (k, m, c) = shared().await;
    let home = common::test_home().join("external-env");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(common::datalab_bin())
        .args(["--provider", "external", "services", "status", "--json"])
        .env("DATALAB_HOME", &home)
        .env("DATALAB_KAFKA_BOOTSTRAP", &k)
        .env("DATALAB_MONGODB_URI", &m)
        .env("DATALAB_CASSANDRA_CONTACT", &c)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), ServiceKind::ALL.len());
    // Hadoop has no external endpoint here: it is down, the others up.
    let rows: Vec<_> = rows.into_iter().filter(|r| r["kind"] != "hadoop").collect();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert_eq!(r["health"], "up", "{r}");
        assert_eq!(r["provider"], "external", "{r}");
    }
    assert_eq!(rows[0]["endpoint"], k.as_str());
    assert!(rows[0]["connect"].as_str().unwrap().starts_with("kcat -b "));
}

/// Two learners share one cluster: resetting one learner's namespace drops
/// only that learner's topics, databases and keyspaces.
#[tokio::test]
async fn reset_drops_only_the_learners_namespace() {
    use mongodb::bson::doc;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let (k, m, c) = shared().await;
    let home = external_home("ns", &k, &m, &c);
    let ext = external_services(&home);
    let alice = Namespace::for_learner(&format!("alice{}", std::process::id()));
    let bob = Namespace::for_learner(&format!("bob{}", std::process::id()));

    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &k)
        .create()
        .unwrap();
    let opts = AdminOptions::new().operation_timeout(Some(T));
    let (ta, tb) = (alice.topic("orders"), bob.topic("orders"));
    admin
        .create_topics(
            &[
                NewTopic::new(&ta, 1, TopicReplication::Fixed(1)),
                NewTopic::new(&tb, 1, TopicReplication::Fixed(1)),
            ],
            &opts,
        )
        .await
        .unwrap();
    let mut mo = mongodb::options::ClientOptions::parse(&m).await.unwrap();
    mo.server_selection_timeout = Some(T);
    let client = mongodb::Client::with_options(mo).unwrap();
    for ns in [&alice, &bob] {
        client
            .database(&ns.database("shop"))
            .collection::<mongodb::bson::Document>("o")
            .insert_one(doc! {"x": 1})
            .await
            .unwrap();
    }
    let session = scylla::client::session_builder::SessionBuilder::new()
        .known_nodes(c.split(','))
        .connection_timeout(T)
        .build()
        .await
        .unwrap();
    for ns in [&alice, &bob] {
        session
            .query_unpaged(
                format!(
                    "CREATE KEYSPACE IF NOT EXISTS {} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}",
                    ns.keyspace("iot")
                ),
                &[],
            )
            .await
            .unwrap();
    }

    let report = ext
        .reset(None, &alice)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        report.dropped.contains(&format!("topic {ta}")),
        "{report:?}"
    );
    assert!(
        report
            .dropped
            .contains(&format!("database {}", alice.database("shop"))),
        "{report:?}"
    );
    assert!(
        report
            .dropped
            .contains(&format!("keyspace {}", alice.keyspace("iot"))),
        "{report:?}"
    );
    assert!(
        report.dropped.iter().all(|d| !d.contains(bob.as_str())),
        "{report:?}"
    );

    // Bob's data is still there; Alice's is gone.
    let dbs = client.list_database_names().await.unwrap();
    assert!(dbs.contains(&bob.database("shop")) && !dbs.contains(&alice.database("shop")));
    let ks: Vec<String> = session
        .query_unpaged("SELECT keyspace_name FROM system_schema.keyspaces", &[])
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows::<(String,)>()
        .unwrap()
        .map(|r| r.unwrap().0)
        .collect();
    assert!(ks.contains(&bob.keyspace("iot")) && !ks.contains(&alice.keyspace("iot")));
    let topics: Vec<String> = {
        let k = k.clone();
        tokio::task::spawn_blocking(move || {
            let a: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
                .set("bootstrap.servers", &k)
                .create()
                .unwrap();
            let md = a.inner().fetch_metadata(None, T).unwrap();
            md.topics().iter().map(|t| t.name().to_string()).collect()
        })
        .await
        .unwrap()
    };
    assert!(topics.contains(&tb), "{topics:?}");

    // Clean up Bob too.
    ext.reset(None, &bob).await.unwrap();
}
