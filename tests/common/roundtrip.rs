//! Round trips against a running service, shared by the provider tests
//! (services_native runs them on whatever DATALAB_PROVIDER says,
//! services_docker on containers it starts in a home of its own): each one
//! writes through the real protocol and reads the server's own state back.
#![allow(dead_code)]

use datalab_services::{Endpoint, Services};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;

pub const T: Duration = Duration::from_secs(10);

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

pub fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client")
}

fn admin_options() -> AdminOptions {
    AdminOptions::new()
        .operation_timeout(Some(T))
        .request_timeout(Some(T))
}

/// Create a topic of 3 partitions with `replicas` copies each and read its
/// shape back from the broker's metadata. Returns the topic's name.
pub async fn kafka_topic(e: &Endpoint, prefix: &str, replicas: i32) -> String {
    let topic = unique(prefix);
    let res = admin(e.kafka_bootstrap())
        .create_topics(
            &[NewTopic::new(&topic, 3, TopicReplication::Fixed(replicas))],
            &admin_options(),
        )
        .await
        .expect("create_topics");
    assert!(res[0].is_ok(), "{res:?}");
    let shape = topic_shape_when_known(e.kafka_bootstrap(), &topic, replicas).await;
    assert_eq!(shape.len(), 3, "partitions of {topic}");
    assert!(
        shape.iter().all(|&r| r == replicas as usize),
        "replicas per partition of {topic}: {shape:?}"
    );
    topic
}

/// Replicas per partition of `topic`, once the broker the metadata request
/// lands on knows the topic: on a fresh 3-broker cluster the controller
/// acknowledges the creation before every broker has the topic, so an
/// UNKNOWN_TOPIC_OR_PART answer is retried (for up to 30 s), not failed.
async fn topic_shape_when_known(bootstrap: &str, topic: &str, replicas: i32) -> Vec<usize> {
    let mut last = String::new();
    for _ in 0..150 {
        let (b, tp) = (bootstrap.to_string(), topic.to_string());
        let seen = tokio::task::spawn_blocking(move || {
            let md = admin(&b).inner().fetch_metadata(Some(&tp), T);
            let md = md.map_err(|e| e.to_string())?;
            let t = md.topics().iter().find(|t| t.name() == tp);
            let t = t.ok_or_else(|| "not in the metadata".to_string())?;
            if let Some(err) = t.error() {
                return Err(format!("{err:?}"));
            }
            Ok(t.partitions()
                .iter()
                .map(|p| p.replicas().len())
                .collect::<Vec<_>>())
        })
        .await
        .unwrap();
        match seen {
            Ok(shape) if shape.len() == 3 && shape.iter().all(|&r| r == replicas as usize) => {
                return shape;
            }
            Ok(shape) => last = format!("partitions with replicas {shape:?}"),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("topic {topic} never showed 3 partitions of {replicas} replicas: {last}");
}

pub async fn kafka_delete_topic(e: &Endpoint, topic: &str) {
    let _ = admin(e.kafka_bootstrap())
        .delete_topics(&[topic], &admin_options())
        .await;
}

/// How many brokers the cluster's metadata lists (0 when unreachable).
async fn brokers_seen(bootstrap: &str) -> usize {
    let b = bootstrap.to_string();
    tokio::task::spawn_blocking(move || {
        admin(&b)
            .inner()
            .fetch_metadata(None, T)
            .map(|m| m.brokers().len())
            .unwrap_or(0)
    })
    .await
    .unwrap()
}

async fn wait_for_brokers(bootstrap: &str, want: usize, what: &str) {
    let mut seen = usize::MAX;
    for _ in 0..150 {
        seen = brokers_seen(bootstrap).await;
        if seen == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what}: the metadata lists {seen} brokers, expected {want}");
}

/// On a 3-broker cluster holding `topic` (replication factor 3): stop
/// broker 1, see it leave the metadata, produce with it down, start it again
/// and see it come back.
pub async fn kafka_broker_down_and_back(services: &Services, e: &Endpoint, topic: &str) {
    services.stop_kafka_broker(1).await.expect("stop broker 1");
    wait_for_brokers(e.kafka_bootstrap(), 2, "broker 1 stopped").await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", e.kafka_bootstrap())
        .set("message.timeout.ms", "20000")
        .create()
        .unwrap();
    producer
        .send(FutureRecord::to(topic).key("k").payload("still up"), T)
        .await
        .expect("produce with a broker down");
    services
        .start_kafka_broker(1)
        .await
        .expect("start broker 1");
    wait_for_brokers(e.kafka_bootstrap(), 3, "broker 1 started again").await;
}

/// Insert two documents, find one back by a field, count, drop the database.
pub async fn mongodb_documents(e: &Endpoint, prefix: &str) {
    use mongodb::bson::{Document, doc};
    let mut opts = mongodb::options::ClientOptions::parse(e.mongodb_uri())
        .await
        .expect("uri");
    opts.server_selection_timeout = Some(T);
    opts.connect_timeout = Some(T);
    let client = mongodb::Client::with_options(opts).unwrap();
    let db = client.database(&unique(prefix));
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

/// Create a keyspace, find it in `system_schema.keyspaces`, drop it.
pub async fn cassandra_keyspace(e: &Endpoint, prefix: &str) {
    use scylla::client::session_builder::SessionBuilder;
    let session = SessionBuilder::new()
        .known_nodes(e.cassandra_contact_points())
        .connection_timeout(T)
        .build()
        .await
        .expect("session");
    let ks = unique(prefix);
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
