//! The Cassandra lab's node-failure step through the DOCKER provider: three
//! containers on a network of their own, node 1 the seed, the driver on the
//! containers' addresses. The check stops and starts containers; the nodes
//! keep their addresses; `down` leaves no container and no network of the
//! home. Runs only with DATALAB_PROVIDER=docker (tests/run-all.sh step 4).

mod common;
#[path = "nosql/mod.rs"]
mod nosql;

use datalab_services::{Endpoint, ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use nosql::*;
use std::sync::Arc;
use std::time::Instant;

fn enabled() -> bool {
    if common::provider() == ProviderKind::Docker {
        return true;
    }
    eprintln!(
        "cassandra_docker: skipped: the provider is not docker (set DATALAB_PROVIDER=docker)"
    );
    false
}

/// The container address every node has on its network, in node order.
fn node_ips(e: &Endpoint) -> Vec<String> {
    let points = e.cassandra_contact_points();
    points
        .iter()
        .map(|p| p.rsplit_once(':').expect("host:port").0.to_string())
        .collect()
}

async fn three_nodes(services: &Services) -> Endpoint {
    let t = Instant::now();
    let opts = UpOptions {
        nodes: 3,
        ..Default::default()
    };
    let e =
        (services.ensure(ServiceKind::Cassandra, &opts).await).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "3 Cassandra containers ready in {:.1} s at {}",
        t.elapsed().as_secs_f64(),
        e.address
    );
    assert_eq!(e.provider, ProviderKind::Docker);
    let ips = node_ips(&e);
    assert_eq!(ips.len(), 3, "{e:?}");
    assert!(
        ips.iter().all(|ip| !ip.starts_with("127.")),
        "clients dial the containers' network addresses: {ips:?}"
    );
    let data_dir = &services.config.data_dir;
    assert_eq!(common::docker_labelled("container", data_dir).len(), 3);
    assert_eq!(common::docker_labelled("network", data_dir).len(), 1);
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_failure_step_on_three_containers_then_nothing_left() {
    if !enabled() {
        return;
    }
    let home = common::test_home().join("docker-cassandra");
    let _ = std::fs::remove_dir_all(&home);
    let services = Arc::new(Services::new(ServicesConfig {
        data_dir: home.join("services"),
        ..common::services().config.clone()
    }));
    let e = three_nodes(&services).await;
    let lab = lab("cassandra");
    let (step, _) = lab.step("node-failure").expect("the node-failure step");
    let ws = workspace(&lab, "solution");
    let mut g = Grader::new(&lab, ws.path(), fresh_namespace("cnfd"));
    g.opts.services = services.clone();

    // The solution passes: the check stopped two containers and started
    // them again itself, and they came back on the same addresses.
    let t = Instant::now();
    let r = g.step(step).await;
    eprintln!("node-failure step (solution) took {:?}", t.elapsed());
    assert!(r.passed(), "{}", explain(&r));
    let msg = &r.checks[0].outcome.message;
    assert!(
        msg.contains("one node down: ONE ok, QUORUM ok, ALL fails")
            && msg.contains("two nodes down: ONE ok, QUORUM fails, ALL fails")
            && msg.contains("ALL works again"),
        "{msg}"
    );
    let after = three_nodes(&services).await;
    assert_eq!(node_ips(&after), node_ips(&e), "the same addresses");

    // A wrong prediction fails, pointing at the answer file.
    wrong_quorum_prediction_fails(&g, ws.path(), step).await;

    services.down(&[]).await.expect("services down");
    let data_dir = &services.config.data_dir;
    let (containers, networks) = (
        common::docker_labelled("container", data_dir),
        common::docker_labelled("network", data_dir),
    );
    assert!(
        containers.is_empty() && networks.is_empty(),
        "left after down: containers {containers:?}, networks {networks:?}"
    );
}
