//! The Kafka client's kept readers and transaction settling against a real
//! broker: a reader kept for the process reads a deleted and re-created
//! topic afresh, two reads at once each get the whole topic, and waiting
//! for transactions to settle waits while one is still open, and a warm-up
//! leaves clients that read (and hides no dead broker).

mod common;

use datalab_clients::kafka::Kafka;
use datalab_services::{ServiceKind, UpOptions};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use std::time::{Duration, Instant};

/// The broker's client and its address.
async fn kafka() -> (Kafka, String) {
    let ep = common::services()
        .ensure(ServiceKind::Kafka, &UpOptions::default())
        .await
        .expect("Kafka");
    (Kafka::new(&ep.address, Duration::from_secs(10)), ep.address)
}

fn topic(what: &str) -> String {
    format!("readers{}_{what}", std::process::id())
}

fn producer(bootstrap: &str, transactional_id: Option<&str>) -> FutureProducer {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    if let Some(id) = transactional_id {
        c.set("transactional.id", id);
    }
    c.create().expect("a producer")
}

async fn send(p: &FutureProducer, topic: &str, values: &[&str]) {
    for v in values {
        p.send(
            FutureRecord::<(), str>::to(topic).payload(v),
            Duration::from_secs(30),
        )
        .await
        .expect("delivered");
    }
}

/// Create `name` with one partition, retrying while a deletion of the same
/// name is still going on (generous: the machine may be busy).
async fn create(k: &Kafka, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match k.create_topic(name, 1, Some(1), &[]).await {
            Ok(()) => return,
            Err(e) if Instant::now() < deadline => {
                eprintln!("create {name}: {e}; again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("cannot create {name}: {e}"),
        }
    }
}

async fn values(k: &Kafka, topic: &str, read_committed: bool) -> Vec<String> {
    let records = k.read_all(topic, read_committed).await.expect("read");
    records.into_iter().map(|r| r.value).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_reader_reads_a_recreated_topic_afresh() {
    let (k, b) = kafka().await;
    let t = topic("recreated");
    create(&k, &t).await;
    let p = producer(&b, None);
    send(&p, &t, &["a1", "a2", "a3"]).await;
    assert_eq!(values(&k, &t, false).await, ["a1", "a2", "a3"]);
    assert_eq!(values(&k, &t, true).await, ["a1", "a2", "a3"]);

    k.delete_topics(std::slice::from_ref(&t)).await.unwrap();
    create(&k, &t).await;
    send(&p, &t, &["b1", "b2"]).await;
    assert_eq!(values(&k, &t, false).await, ["b1", "b2"]);
    assert_eq!(values(&k, &t, true).await, ["b1", "b2"]);
    k.delete_topics(&[t]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reads_at_once_each_read_the_whole_topic() {
    let (k, b) = kafka().await;
    let t = topic("twice");
    create(&k, &t).await;
    send(&producer(&b, None), &t, &["x", "y"]).await;
    for _ in 0..3 {
        let (a, b) = tokio::join!(values(&k, &t, false), values(&k, &t, false));
        assert_eq!(
            (a, b),
            (
                vec!["x".to_string(), "y".into()],
                vec!["x".to_string(), "y".into()]
            )
        );
    }
    k.delete_topics(&[t]).await.unwrap();
}

/// An open transaction keeps the last stable offset behind the high
/// watermark: settling must wait (and say it did not settle), and a
/// read_committed read sees none of it until it commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settling_waits_for_an_open_transaction() {
    let (k, b) = kafka().await;
    let t = topic("open-tx");
    create(&k, &t).await;
    let p = producer(&b, Some(&format!("{t}-tx")));
    p.init_transactions(Duration::from_secs(30)).unwrap();
    p.begin_transaction().unwrap();
    send(&p, &t, &["t1", "t2"]).await;
    p.flush(Duration::from_secs(30)).unwrap();

    let settled = k.settle_transactions(&t, Duration::from_secs(2)).await;
    assert!(!settled.unwrap(), "settled with a transaction still open");
    assert_eq!(values(&k, &t, false).await, ["t1", "t2"]);
    assert!(values(&k, &t, true).await.is_empty());

    p.commit_transaction(Duration::from_secs(30)).unwrap();
    let settled = k.settle_transactions(&t, Duration::from_secs(60)).await;
    assert!(settled.unwrap(), "not settled after the commit");
    assert_eq!(values(&k, &t, true).await, ["t1", "t2"]);
    k.delete_topics(&[t]).await.unwrap();
}

/// Warming up (what the lab runner does while a step's command runs)
/// leaves clients that read correctly afterwards, both isolation levels;
/// against an address where nothing answers it returns (bounded by the
/// client's timeout) and a read there still says the broker did not answer.
#[tokio::test]
async fn a_warm_up_leaves_clients_that_read_and_never_hides_a_dead_broker() {
    let (k, bootstrap) = kafka().await;
    k.warm_up().await;
    k.warm_up().await; // once per process: the second returns at once
    let t = topic("warm");
    create(&k, &t).await;
    send(&producer(&bootstrap, None), &t, &["a", "b"]).await;
    for read_committed in [false, true] {
        let got: Vec<String> = k
            .read_all(&t, read_committed)
            .await
            .expect("read after the warm-up")
            .into_iter()
            .map(|r| r.value)
            .collect();
        assert_eq!(got, ["a", "b"], "read_committed {read_committed}");
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = Kafka::new(format!("127.0.0.1:{port}"), Duration::from_secs(2));
    dead.warm_up().await;
    let e = dead
        .read_all("x", false)
        .await
        .expect_err("nothing answers");
    assert!(e.to_string().contains("did not answer within"), "{e}");
}
