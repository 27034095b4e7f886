//! Every way a service can be missing gets a clear message with the fix:
//! a malformed endpoint, a dead port, a server killed mid-use, no JDK, no
//! Maven. Run through the datalab binary where the message is what a learner
//! sees, so no stack trace or panic may show up either.

mod common;

use datalab_services::{
    ProviderKind, ServiceError, ServiceKind, Services, ServicesConfig, UpOptions,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn home(name: &str) -> PathBuf {
    let h = common::test_home().join(format!("errors-{name}"));
    let _ = std::fs::remove_dir_all(&h);
    std::fs::create_dir_all(&h).unwrap();
    h
}

fn datalab(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(common::datalab_bin());
    c.args(args).env("DATALAB_HOME", home);
    for k in [
        "DATALAB_PROVIDER",
        "DATALAB_KAFKA_BOOTSTRAP",
        "DATALAB_MONGODB_URI",
        "DATALAB_CASSANDRA_CONTACT",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run datalab")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn assert_clean_failure(o: &Output) {
    assert!(!o.status.success(), "should fail: {}", stderr(o));
    let err = stderr(o);
    assert!(!err.contains("panicked"), "a panic leaked out:\n{err}");
    assert!(
        !err.contains("RUST_BACKTRACE"),
        "a backtrace hint leaked out:\n{err}"
    );
}

fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn malformed_external_endpoints_are_named_with_the_fix() {
    let h = home("malformed");
    let o = datalab(
        &h,
        &["--provider", "external", "services", "up", "mongodb"],
        &[("DATALAB_MONGODB_URI", "localhost:27017")],
    );
    assert_clean_failure(&o);
    let err = stderr(&o);
    assert!(err.contains("is not a MongoDB URI"), "{err}");
    assert!(
        err.contains("export DATALAB_MONGODB_URI=mongodb://"),
        "{err}"
    );

    let o = datalab(
        &h,
        &["--provider", "external", "services", "up", "kafka"],
        &[("DATALAB_KAFKA_BOOTSTRAP", "broker-without-port")],
    );
    assert_clean_failure(&o);
    assert!(
        stderr(&o).contains("`broker-without-port` is not host:port"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_external_endpoint_says_which_variable_to_set() {
    let h = home("unset");
    let o = datalab(
        &h,
        &["--provider", "external", "services", "up", "cassandra"],
        &[],
    );
    assert_clean_failure(&o);
    let err = stderr(&o);
    assert!(err.contains("no cassandra endpoint"), "{err}");
    assert!(err.contains("export DATALAB_CASSANDRA_CONTACT="), "{err}");
}

#[test]
fn a_dead_port_says_nothing_listens_there() {
    let h = home("dead");
    for (kind, var, value) in [
        (
            "kafka",
            "DATALAB_KAFKA_BOOTSTRAP",
            format!("127.0.0.1:{}", dead_port()),
        ),
        (
            "mongodb",
            "DATALAB_MONGODB_URI",
            format!("mongodb://127.0.0.1:{}", dead_port()),
        ),
        (
            "cassandra",
            "DATALAB_CASSANDRA_CONTACT",
            format!("127.0.0.1:{}", dead_port()),
        ),
    ] {
        let o = datalab(
            &h,
            &["--provider", "external", "services", "up", kind],
            &[(var, &value)],
        );
        assert_clean_failure(&o);
        let err = stderr(&o);
        assert!(err.contains(&format!("{kind} did not answer at")), "{err}");
        assert!(err.contains("nothing accepts connections"), "{err}");
    }
}

#[test]
fn no_jdk_names_the_package_to_install() {
    let h = home("nojdk");
    let empty = h.join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    for kind in ["kafka", "cassandra"] {
        let mut c = Command::new(common::datalab_bin());
        c.args(["--provider", "native", "services", "up", kind])
            .env("DATALAB_HOME", &h)
            .env("PATH", &empty)
            .env_remove("JAVA_HOME")
            .env_remove("DATALAB_PROVIDER");
        let o = c.output().unwrap();
        assert_clean_failure(&o);
        let err = stderr(&o);
        assert!(err.contains("Java 17 is needed for native"), "{err}");
        assert!(
            err.contains("apt-get install -y openjdk-17-jre-headless"),
            "{err}"
        );
    }
}

#[test]
fn no_maven_on_a_cold_cache_names_the_package_to_install() {
    let h = home("nomvn");
    // A PATH with java but without mvn, and an empty download cache.
    let bin = h.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let java = std::env::var_os("JAVA_HOME")
        .map(|j| PathBuf::from(j).join("bin/java"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/java"));
    if !java.exists() {
        eprintln!("no java here: the no-JDK test covers this machine");
        return;
    }
    std::os::unix::fs::symlink(&java, bin.join("java")).unwrap();
    let o = Command::new(common::datalab_bin())
        .args(["--provider", "native", "services", "up", "kafka"])
        .env("DATALAB_HOME", &h)
        .env("DATALAB_CACHE", h.join("cold-cache"))
        .env("PATH", &bin)
        .env_remove("DATALAB_PROVIDER")
        .output()
        .unwrap();
    assert_clean_failure(&o);
    let err = stderr(&o);
    assert!(err.contains("Maven is needed once"), "{err}");
    assert!(err.contains("apt-get install -y maven"), "{err}");
}

/// A server killed under a running lab: the next check says so plainly, and
/// the next `ensure` brings a fresh one up.
#[tokio::test]
async fn a_server_killed_mid_use_is_reported_then_replaced() {
    if common::provider() != ProviderKind::Native {
        return;
    }
    let h = home("killed");
    let services = Services::new(ServicesConfig {
        data_dir: h.join("services"),
        ..common::services().config.clone()
    });
    let e = services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pids = services.native_pids(ServiceKind::Mongodb);
    assert_eq!(pids.len(), 1);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pids[0] as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // Wait until the process is really gone.
    for _ in 0..100 {
        if services.running(ServiceKind::Mongodb).await.is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let err = services.check(ServiceKind::Mongodb).await.unwrap_err();
    assert!(matches!(err, ServiceError::Unreachable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("is no longer running"), "{msg}");
    assert!(msg.contains("datalab services up mongodb"), "{msg}");
    // status says so too
    let st = services.status().await;
    let m = st.iter().find(|s| s.kind == ServiceKind::Mongodb).unwrap();
    assert!(m.health.starts_with("down: "), "{}", m.health);
    // and ensure replaces it
    let again = services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(again.address, e.address);
    services.down(&[]).await.unwrap();
    assert!(services.native_pids(ServiceKind::Mongodb).is_empty());
}
