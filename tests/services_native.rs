//! The services layer against real servers (native provider by default; the
//! same tests run with DATALAB_PROVIDER=docker or external). Each service is
//! started once per run through the shared test home and reused.

mod common;

use datalab::services::{ServiceKind, Services, ServicesConfig, UpOptions};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

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

fn topic_partitions(bootstrap: &str, topic: &str) -> Option<(usize, Vec<usize>)> {
    let a = admin(bootstrap);
    let md = a.inner().fetch_metadata(Some(topic), T).ok()?;
    let t = md.topics().iter().find(|t| t.name() == topic)?;
    if t.error().is_some() {
        return None;
    }
    Some((
        t.partitions().len(),
        t.partitions().iter().map(|p| p.replicas().len()).collect(),
    ))
}

#[tokio::test]
async fn kafka_topic_with_three_partitions_reads_back_from_the_broker() {
    let services = common::services();
    let e = services
        .ensure(ServiceKind::Kafka, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let topic = unique("native_orders");
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
    let (parts, _) = tokio::task::spawn_blocking({
        let (b, t) = (e.address.clone(), topic.clone());
        move || topic_partitions(&b, &t)
    })
    .await
    .unwrap()
    .expect("topic metadata");
    assert_eq!(parts, 3);
    a.delete_topics(&[&topic], &opts).await.expect("delete");
}

#[tokio::test]
async fn kafka_transactions_commit() {
    let services = common::services();
    let e = services
        .ensure(ServiceKind::Kafka, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let topic = unique("native_tx");
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", e.kafka_bootstrap())
        .set("transactional.id", unique("datalab-test-tx"))
        .set("message.timeout.ms", "10000")
        .create()
        .expect("producer");
    let p = producer.clone();
    tokio::task::spawn_blocking(move || {
        p.init_transactions(Duration::from_secs(30))?;
        p.begin_transaction()
    })
    .await
    .unwrap()
    .expect("transactions start");
    producer
        .send(FutureRecord::to(&topic).key("k").payload("v"), T)
        .await
        .expect("send in transaction");
    let p = producer.clone();
    tokio::task::spawn_blocking(move || p.commit_transaction(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("commit");
    let a = admin(e.kafka_bootstrap());
    let opts = AdminOptions::new().operation_timeout(Some(T));
    let _ = a.delete_topics(&[&topic], &opts).await;
}

#[tokio::test]
async fn mongodb_writes_and_reads_documents() {
    use mongodb::bson::{Document, doc};
    let services = common::services();
    let e = services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut opts = mongodb::options::ClientOptions::parse(e.mongodb_uri())
        .await
        .expect("uri");
    opts.server_selection_timeout = Some(T);
    let client = mongodb::Client::with_options(opts).unwrap();
    let db = client.database(&unique("native_shop"));
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

#[tokio::test]
async fn cassandra_keyspace_shows_in_system_schema() {
    use scylla::client::session_builder::SessionBuilder;
    let services = common::services();
    let e = services
        .ensure(ServiceKind::Cassandra, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let session = SessionBuilder::new()
        .known_nodes(e.cassandra_contact_points())
        .connection_timeout(T)
        .build()
        .await
        .expect("session");
    let ks = unique("native_iot");
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
    session
        .query_unpaged(format!("DROP KEYSPACE {ks}"), &[])
        .await
        .expect("drop keyspace");
}

#[tokio::test]
async fn a_second_ensure_reuses_the_running_service() {
    let services = common::services();
    let first = services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // A separate Services value (as a second datalab process would have)
    // finds it through the state file.
    let again = datalab::services::Services::new(services.config.clone())
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, again);
    assert!(services.running(ServiceKind::Mongodb).await.is_some());
}

/// Three brokers in one KRaft quorum, in a home of their own; one broker is
/// stopped and started again with its data.
#[tokio::test]
async fn kafka_three_brokers_survive_one_stopping() {
    if common::provider() != datalab::services::ProviderKind::Native {
        return; // stop/start of a broker is covered per provider elsewhere
    }
    let home = common::test_home().join("three-brokers");
    let services = Services::new(ServicesConfig {
        data_dir: home.join("services"),
        ..common::services().config.clone()
    });
    let e = services
        .ensure(ServiceKind::Kafka, &UpOptions { brokers: 3 })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.nodes, 3);
    let topic = unique("replicated");
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
    let (parts, replicas) = tokio::task::spawn_blocking({
        let (b, t) = (e.address.clone(), topic.clone());
        move || topic_partitions(&b, &t)
    })
    .await
    .unwrap()
    .expect("metadata");
    assert_eq!(parts, 3);
    assert!(replicas.iter().all(|&r| r == 3), "{replicas:?}");

    services.stop_kafka_broker(1).await.expect("stop broker 1");
    let brokers = |b: String| {
        tokio::task::spawn_blocking(move || {
            admin(&b)
                .inner()
                .fetch_metadata(None, T)
                .map(|m| m.brokers().len())
                .unwrap_or(0)
        })
    };
    let mut seen = 3;
    for _ in 0..100 {
        seen = brokers(e.address.clone()).await.unwrap();
        if seen == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen, 2, "broker 1 should be gone from the metadata");
    // The cluster still takes writes with one broker down.
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
    assert_eq!(brokers(e.address.clone()).await.unwrap(), 3);
    services.down(&[ServiceKind::Kafka]).await.expect("down");
    assert!(services.native_pids(ServiceKind::Kafka).is_empty());
}
