//! The services layer against real servers (native provider by default; the
//! same tests run with DATALAB_PROVIDER=docker or external). Each service is
//! started once per run through the shared test home and reused.

mod common;
#[path = "common/roundtrip.rs"]
mod roundtrip;

use datalab_services::{ServiceKind, Services, ServicesConfig, UpOptions};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use roundtrip::{T, unique};
use std::time::Duration;

#[tokio::test]
async fn kafka_topic_with_three_partitions_reads_back_from_the_broker() {
    let services = common::services();
    let e = services
        .ensure(ServiceKind::Kafka, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let topic = roundtrip::kafka_topic(&e, "native_orders", 1).await;
    roundtrip::kafka_delete_topic(&e, &topic).await;
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
    roundtrip::kafka_delete_topic(&e, &topic).await;
}

#[tokio::test]
async fn mongodb_writes_and_reads_documents() {
    let services = common::services();
    let e = services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    roundtrip::mongodb_documents(&e, "native_shop").await;
}

#[tokio::test]
async fn cassandra_keyspace_shows_in_system_schema() {
    let services = common::services();
    let e = services
        .ensure(ServiceKind::Cassandra, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    roundtrip::cassandra_keyspace(&e, "native_iot").await;
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
    let again = datalab_services::Services::new(services.config.clone())
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
    if common::provider() != datalab_services::ProviderKind::Native {
        return; // stop/start of a broker is covered per provider elsewhere
    }
    let home = common::test_home().join("three-brokers");
    let services = Services::new(ServicesConfig {
        data_dir: home.join("services"),
        ..common::services().config.clone()
    });
    let e = services
        .ensure(
            ServiceKind::Kafka,
            &UpOptions {
                nodes: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.nodes, 3);
    let topic = roundtrip::kafka_topic(&e, "replicated", 3).await;
    roundtrip::kafka_broker_down_and_back(&services, &e, &topic).await;
    services.down(&[ServiceKind::Kafka]).await.expect("down");
    assert!(services.native_pids(ServiceKind::Kafka).is_empty());
}
