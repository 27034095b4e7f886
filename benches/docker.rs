//! Docker provider figures (prints them; asserts nothing):
//! cold start to ready per service (a fresh container from a present image),
//! warm `ensure` of a running one, Kafka with 3 brokers, and `services down`.
//!
//!     DATALAB_PROVIDER=docker cargo bench --bench docker
//!
//! Needs a Docker daemon (bash containers/docker/setup.sh) and the images
//! (datalab services build-images, or the official ones).

use datalab_services::{ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use std::time::{Duration, Instant};

fn cache_dir() -> std::path::PathBuf {
    std::env::var_os("DATALAB_CACHE")
        .map(Into::into)
        .or_else(|| directories::BaseDirs::new().map(|b| b.cache_dir().join("datalab")))
        .expect("a cache dir")
}

async fn run() {
    if !datalab_services::docker_answers().await {
        println!(
            "docker bench: skipped: no Docker daemon answers (bash containers/docker/setup.sh)"
        );
        return;
    }
    let home = tempfile::tempdir().expect("tempdir");
    let services = Services::new(ServicesConfig {
        data_dir: home.path().join("services"),
        cache_dir: cache_dir(),
        provider: ProviderKind::Docker,
        timeout: Duration::from_secs(5),
    });
    println!("{:<22} {:>12}", "docker provider", "seconds");
    let cases = [
        (ServiceKind::Mongodb, 1),
        (ServiceKind::Kafka, 1),
        (ServiceKind::Cassandra, 1),
        (ServiceKind::Kafka, 3),
    ];
    for (kind, brokers) in cases {
        let opts = UpOptions {
            nodes: brokers,
            ..Default::default()
        };
        let label = if brokers > 1 {
            format!("{kind} x{brokers}")
        } else {
            kind.to_string()
        };
        let t = Instant::now();
        match services.ensure(kind, &opts).await {
            Ok(_) => println!(
                "{:<22} {:>12.2}",
                format!("{label} cold start"),
                t.elapsed().as_secs_f64()
            ),
            Err(e) => {
                println!("{label}: {e}");
                continue;
            }
        }
        let n = 20;
        let t = Instant::now();
        for _ in 0..n {
            services.ensure(kind, &opts).await.expect("warm ensure");
        }
        println!(
            "{:<22} {:>12.4}",
            format!("{label} warm ensure"),
            t.elapsed().as_secs_f64() / n as f64
        );
        let t = Instant::now();
        services.down(&[kind]).await.expect("down");
        println!(
            "{:<22} {:>12.2}",
            format!("{label} down"),
            t.elapsed().as_secs_f64()
        );
    }
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run());
}
