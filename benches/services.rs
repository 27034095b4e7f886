//! Figures for the services layer, printed (never asserted): cold start to
//! ready per native service, warm `ensure` and warm `datalab services up`,
//! `services reset`, and the RSS of each native server.
//!
//! `cargo bench --bench services` (runs in its own home under
//! `target/bench-home`, stops everything it started at the end).

use datalab_services::{Namespace, ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn cache_dir() -> PathBuf {
    std::env::var_os("DATALAB_CACHE")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.cache_dir().join("datalab")))
        .expect("a cache dir")
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[tokio::main]
async fn main() {
    let home = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-home");
    let services = Services::new(ServicesConfig {
        data_dir: home.join("services"),
        cache_dir: cache_dir(),
        provider: ProviderKind::Native,
        timeout: Duration::from_secs(5),
    });
    // Start from nothing (jars and binaries stay cached: `services install`).
    services.down(&[]).await.expect("down");
    let t = Instant::now();
    services
        .install(&[], &|m| eprintln!("install: {m}"))
        .await
        .expect("install");
    println!(
        "install (cached)                 {:>8.2} s",
        t.elapsed().as_secs_f64()
    );

    println!("\n== native cold start to ready ==");
    for kind in ServiceKind::ALL {
        let t = Instant::now();
        let e = services
            .ensure(kind, &UpOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        println!(
            "{:<32} {:>8.2} s   {}",
            format!("{kind} cold start"),
            t.elapsed().as_secs_f64(),
            e.flavor.unwrap_or_default()
        );
    }

    println!("\n== warm (already running) ==");
    for kind in ServiceKind::ALL {
        let n = 20;
        let t = Instant::now();
        for _ in 0..n {
            services.ensure(kind, &UpOptions::default()).await.unwrap();
        }
        println!(
            "{:<32} {:>8.2} ms (mean of {n})",
            format!("{kind} warm ensure"),
            t.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
    }
    let bin = env!("CARGO_BIN_EXE_datalab");
    let n = 5;
    let t = Instant::now();
    for _ in 0..n {
        let o = std::process::Command::new(bin)
            .args(["services", "up"])
            .env("DATALAB_HOME", &home)
            .env("DATALAB_PROVIDER", "native")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    println!(
        "{:<32} {:>8.2} ms (mean of {n}, whole process, all three)",
        "`datalab services up` warm",
        t.elapsed().as_secs_f64() * 1000.0 / n as f64
    );
    let t = Instant::now();
    let st = services.status().await;
    println!(
        "{:<32} {:>8.2} ms ({} services, protocol pings)",
        "status",
        t.elapsed().as_secs_f64() * 1000.0,
        st.len()
    );

    println!("\n== RSS of the native servers (idle, just started) ==");
    for kind in ServiceKind::ALL {
        for pid in services.native_pids(kind) {
            let rss = datalab_services::process::rss_bytes(pid).unwrap_or(0);
            println!(
                "{:<32} {:>8.1} MiB (pid {pid})",
                format!("{kind} RSS"),
                mib(rss)
            );
        }
    }

    println!("\n== reset (10 topics, 10 databases, 5 keyspaces) ==");
    let k = services.running(ServiceKind::Kafka).await.unwrap();
    let m = services.running(ServiceKind::Mongodb).await.unwrap();
    let c = services.running(ServiceKind::Cassandra).await.unwrap();
    {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        let admin: AdminClient<rdkafka::client::DefaultClientContext> =
            rdkafka::ClientConfig::new()
                .set("bootstrap.servers", &k.address)
                .create()
                .unwrap();
        let names: Vec<String> = (0..10).map(|i| format!("bench_{i}")).collect();
        let topics: Vec<NewTopic> = names
            .iter()
            .map(|n| NewTopic::new(n, 3, TopicReplication::Fixed(1)))
            .collect();
        admin
            .create_topics(
                &topics,
                &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
            )
            .await
            .unwrap();
        let client = mongodb::Client::with_uri_str(&m.address).await.unwrap();
        for i in 0..10 {
            client
                .database(&format!("bench_{i}"))
                .collection::<mongodb::bson::Document>("c")
                .insert_one(mongodb::bson::doc! {"i": i})
                .await
                .unwrap();
        }
        let session = scylla::client::session_builder::SessionBuilder::new()
            .known_node(&c.address)
            .build()
            .await
            .unwrap();
        for i in 0..5 {
            session
                .query_unpaged(
                    format!("CREATE KEYSPACE bench_{i} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"),
                    &[],
                )
                .await
                .unwrap();
        }
    }
    for kind in ServiceKind::ALL {
        let t = Instant::now();
        let r = services
            .reset(Some(kind), &Namespace::none())
            .await
            .unwrap();
        println!(
            "{:<32} {:>8.2} s   ({} dropped)",
            format!("{kind} reset"),
            t.elapsed().as_secs_f64(),
            r.dropped.len()
        );
    }

    println!("\n== Kafka with 3 brokers ==");
    let t = Instant::now();
    services
        .ensure(
            ServiceKind::Kafka,
            &UpOptions {
                nodes: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    println!(
        "{:<32} {:>8.2} s",
        "kafka x3 cold start",
        t.elapsed().as_secs_f64()
    );
    let rss: u64 = services
        .native_pids(ServiceKind::Kafka)
        .iter()
        .filter_map(|p| datalab_services::process::rss_bytes(*p))
        .sum();
    println!("{:<32} {:>8.1} MiB", "kafka x3 RSS (total)", mib(rss));
    let t = Instant::now();
    services.stop_kafka_broker(2).await.unwrap();
    println!(
        "{:<32} {:>8.2} s",
        "stop one broker",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    services.start_kafka_broker(2).await.unwrap();
    println!(
        "{:<32} {:>8.2} s",
        "start it again (rejoined)",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    services.down(&[]).await.unwrap();
    println!(
        "\n{:<32} {:>8.2} s",
        "services down (all)",
        t.elapsed().as_secs_f64()
    );
}
