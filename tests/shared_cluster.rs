//! A room's shared cluster on the native provider, with logins and
//! permissions on (real Kafka with SASL/SCRAM and the standard authorizer,
//! real Cassandra with PasswordAuthenticator and CassandraAuthorizer): the
//! instructor starts it and hands out credentials; learner ada passes lab
//! steps with hers; learner bob, with his own login, is refused reading,
//! writing and deleting ada's topic, group and keyspace, with messages that
//! say why; a wrong password is named as such; no password is printed; the
//! admin resets ada's namespace. Every learner is a separate home, as on
//! separate laptops.

mod common;
#[path = "common/kafka_lab.rs"]
mod kl;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

struct Home(PathBuf);

impl Home {
    fn run(&self, args: &[&str], cwd: &Path) -> Output {
        self.run_with(args, cwd, &[])
    }

    fn run_with(&self, args: &[&str], cwd: &Path, env: &[(&str, String)]) -> Output {
        let mut cmd = Command::new(common::datalab_bin());
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.args(args)
            .current_dir(cwd)
            .env("DATALAB_HOME", &self.0)
            .env("DATALAB_CACHE", common::cache_dir())
            .env("DATALAB_BIN", common::datalab_bin())
            .env_remove("DATALAB_PROVIDER")
            .env_remove("DATALAB_NAMESPACE")
            .env_remove("DATALAB_KAFKA_BOOTSTRAP")
            .env_remove("DATALAB_CASSANDRA_CONTACT");
        // Generous for a busy 2-core machine; only a hung server reaches it.
        common::output_within(&mut cmd, Duration::from_secs(10 * 60))
    }

    fn ok(&self, args: &[&str], cwd: &Path) -> String {
        let o = self.run(args, cwd);
        assert!(
            o.status.success(),
            "datalab {args:?} failed ({}):\n{}",
            o.status,
            text(&o)
        );
        text(&o)
    }

    /// The command fails, and says `needle`.
    fn refused(&self, args: &[&str], cwd: &Path, needle: &str) -> String {
        let o = self.run(args, cwd);
        let t = text(&o);
        assert!(!o.status.success(), "datalab {args:?} should fail:\n{t}");
        assert!(
            t.contains(needle),
            "datalab {args:?}: no {needle:?} in:\n{t}"
        );
        t
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if self.0.join("services/shared.json").exists() {
            let _ = self.run(&["services", "down"], &self.0.clone());
        }
    }
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
}

fn password(file: &Path) -> String {
    let t = std::fs::read_to_string(file).unwrap();
    let line = t.lines().find(|l| l.starts_with("password:")).unwrap();
    line["password:".len()..]
        .trim()
        .trim_matches('"')
        .to_string()
}

#[test]
fn a_shared_cluster_keeps_each_learner_to_their_own_namespace() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let teacher = Home(dir.join("instructor"));
    let ada = Home(dir.join("ada"));
    let bob = Home(dir.join("bob"));

    // The instructor: a shared cluster, MongoDB refused, two learners.
    teacher.refused(
        &[
            "--provider",
            "native",
            "services",
            "up",
            "--shared",
            "mongodb",
        ],
        dir,
        "not shared",
    );
    // Three brokers: replication between them goes through the login too.
    let up = teacher.ok(
        &[
            "--provider",
            "native",
            "services",
            "up",
            "--shared",
            "--nodes",
            "3",
            "kafka",
        ],
        dir,
    );
    assert!(up.contains("logins and permissions on"), "{up}");
    let mut printed = up;
    printed += &teacher.ok(
        &[
            "--provider",
            "native",
            "services",
            "up",
            "--shared",
            "cassandra",
        ],
        dir,
    );
    // Handed out at once (as a script would): both names are recorded.
    let handed: Vec<String> = std::thread::scope(|s| {
        let teacher = &teacher;
        let jobs: Vec<_> = ["ada", "bob"]
            .map(|name| s.spawn(move || teacher.ok(&["services", "credentials", name], dir)))
            .into_iter()
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    printed += &handed.concat();
    teacher.refused(&["services", "credentials", "ada_2"], dir, "overlaps");
    teacher.refused(&["services", "credentials", "bob_x"], dir, "overlaps");
    let (ada_file, bob_file) = (
        dir.join("ada.credentials.yaml"),
        dir.join("bob.credentials.yaml"),
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&ada_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the credentials file is private");

    // The learners log in on their own laptops.
    printed += &ada.ok(&["services", "login", ada_file.to_str().unwrap()], dir);
    printed += &bob.ok(&["services", "login", bob_file.to_str().unwrap()], dir);
    // Or get their login by joining the instructor's room.
    printed += &room_join(&teacher, &Home(dir.join("carol")), dir);

    // Ada's lab steps pass against the shared cluster, with her login.
    let ws = dir.join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (lab, file) in [("kafka", "01_topics.sh"), ("cassandra", "keyspace.cql")] {
        std::fs::copy(
            repo.join("labs").join(lab).join("solution").join(file),
            ws.join(file),
        )
        .unwrap();
    }
    let ws_arg = ws.to_str().unwrap();
    printed += &ada.ok(&["check", "kafka", "topics", "--workspace", ws_arg], dir);
    printed += &ada.ok(
        &["check", "cassandra", "keyspace", "--workspace", ws_arg],
        dir,
    );
    printed += &ada.ok(
        &[
            "kafka",
            "topics",
            "create",
            "copies",
            "--replication-factor",
            "3",
        ],
        dir,
    );
    let copies = ada.ok(&["kafka", "topics", "describe", "copies"], dir);
    assert!(
        copies.contains("1,2,3") || copies.contains("2,3,1") || copies.contains("3,1,2"),
        "{copies}"
    );
    printed += &ada.ok(&["kafka", "produce", "copies", "--acks", "all", "x"], dir);
    // A transaction's id lies in her namespace too (the exactly-once step).
    let kafka_ws = dir.join("kafka-ws");
    common::copy_dir(&repo.join("labs/kafka/solution"), &kafka_ws);
    let kafka_ws = kafka_ws.to_str().unwrap();
    printed += &ada.ok(
        &[
            "grade",
            "--lab",
            "kafka",
            "--step",
            "exactly-once",
            "--workspace",
            kafka_ws,
        ],
        dir,
    );
    ada.refused(
        &[
            "grade",
            "--lab",
            "kafka",
            "--step",
            "no-such-step",
            "--workspace",
            kafka_ws,
        ],
        dir,
        "has no step",
    );
    printed += &python_route(&ada, dir, &repo.join("labs/kafka"));
    printed += &ada.ok(&["kafka", "produce", "orders", "hello"], dir);
    printed += &ada.ok(
        &[
            "kafka",
            "consume",
            "orders",
            "--from-beginning",
            "--max",
            "1",
        ],
        dir,
    );
    printed += &ada.ok(
        &[
            "kafka",
            "consume",
            "orders",
            "--from-beginning",
            "--max",
            "1",
            "--group",
            "g",
        ],
        dir,
    );
    printed += &ada.ok(
        &["cql", "-e", "CREATE TABLE IF NOT EXISTS iot.r (id int PRIMARY KEY, v text); INSERT INTO iot.r (id, v) VALUES (1, 'x');"],
        dir,
    );

    // Bob, aiming at ada's namespace with his own login, is refused.
    let as_ada = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(["--learner".into(), "ada".into()]);
        v
    };
    let bob_refused = |args: &[&str], needle: &str| {
        let v = as_ada(args);
        let v: Vec<&str> = v.iter().map(String::as_str).collect();
        bob.refused(&v, dir, needle)
    };
    printed += &bob_refused(
        &[
            "kafka",
            "consume",
            "orders",
            "--from-beginning",
            "--max",
            "1",
        ],
        "not authorised",
    );
    printed += &bob_refused(
        &["kafka", "consume", "orders", "--max", "1", "--group", "g"],
        "not authorised",
    );
    printed += &bob_refused(&["kafka", "produce", "orders", "x"], "not authorised");
    printed += &bob_refused(&["kafka", "topics", "delete", "orders"], "not authorised");
    printed += &bob_refused(&["cql", "-e", "SELECT * FROM iot.r"], "not authorised");
    printed += &bob_refused(&["cql", "-e", "DROP KEYSPACE iot"], "not authorised");
    printed += &ada.ok(&["cql", "-e", "SELECT * FROM iot.r"], dir);

    // A wrong password is said to be one.
    let bob_creds = bob.0.join("credentials.yaml");
    let t = std::fs::read_to_string(&bob_creds).unwrap();
    let good = password(&bob_creds);
    std::fs::write(&bob_creds, t.replace(&good, "not-the-password")).unwrap();
    printed += &bob.refused(
        &["kafka", "topics", "describe"],
        dir,
        "wrong password for learner bob",
    );
    printed += &bob.refused(
        &["cql", "-e", "SELECT * FROM system.local"],
        dir,
        "wrong password for learner bob",
    );

    // The instructor resets ada's namespace; ada's topic and keyspace go.
    printed += &teacher.ok(&["services", "reset", "--learner", "ada"], dir);
    let topics = ada.ok(&["kafka", "topics", "describe"], dir);
    assert!(!topics.contains("orders"), "{topics}");
    printed += &ada.refused(&["cql", "-e", "SELECT * FROM iot.r"], dir, "iot");

    // No password was ever printed.
    for secret in [password(&ada_file), good] {
        assert!(
            !printed.contains(&secret),
            "a password was printed:\n{printed}"
        );
    }
    let shared = std::fs::read_to_string(teacher.0.join("services/shared.json")).unwrap();
    let admin: serde_json::Value = serde_json::from_str(&shared).unwrap();
    let admin_pw = admin["admin"]["password"].as_str().unwrap();
    assert!(
        !printed.contains(admin_pw),
        "the admin password was printed"
    );
}

/// The Kafka lab's Python route (confluent-kafka, the venv of
/// `tests/python-venv.sh`) on the shared cluster: steps `keys` and
/// `exactly-once` (a transactional id in her namespace) pass with ada's login, which the step's environment hands to the lab's helper
/// (`python/lab.py`); with a wrong password the same step fails saying so.
/// Returns what was printed.
fn python_route(ada: &Home, dir: &Path, lab: &Path) -> String {
    let ws = dir.join("python-ws");
    common::copy_dir(&lab.join("solution"), &ws);
    common::copy_dir(&lab.join("solution-python"), &ws);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut parts = vec![kl::venv_bin()];
    parts.extend(std::env::split_paths(&path));
    let path = std::env::join_paths(parts).unwrap();
    let env = [("PATH", path.to_string_lossy().to_string())];
    let ws_arg = ws.to_str().unwrap();
    let grade = [
        "grade",
        "--lab",
        "kafka",
        "--step",
        "keys",
        "--step",
        "exactly-once",
    ];
    let grade = [&grade[..], &["--workspace", ws_arg, "--format", "json"]].concat();
    let o = ada.run_with(&grade, dir, &env);
    let mut printed = text(&o);
    assert!(o.status.success(), "the Python route failed:\n{printed}");

    let creds = ada.0.join("credentials.yaml");
    let good = std::fs::read_to_string(&creds).unwrap();
    std::fs::write(&creds, good.replace(&password(&creds), "not-the-password")).unwrap();
    let o = ada.run_with(
        &["check", "kafka", "keys", "--workspace", ws_arg],
        dir,
        &env,
    );
    std::fs::write(&creds, &good).unwrap();
    let t = text(&o);
    assert!(!o.status.success(), "a wrong password passed:\n{t}");
    assert!(t.contains("wrong password for learner ada"), "{t}");
    assert!(
        !t.contains("did not answer"),
        "a refused login is not silence:\n{t}"
    );
    printed += &t;
    printed
}

/// The instructor's room, serving with `--shared-services`: carol's `join`
/// brings back her own login (stored 0600), with which she works in her
/// namespace; "Ada", who has a login from a file, gets none by joining
/// (hers is not replaced); the room's own output never shows a password. Returns what the
/// learner saw.
fn room_join(teacher: &Home, carol: &Home, dir: &Path) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join("room-serve.log");
    let mut server = Killed(
        Command::new(common::datalab_bin())
            .args(["room", "serve", "--shared-services", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .env("DATALAB_HOME", &teacher.0)
            .env("DATALAB_CACHE", common::cache_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("datalab room serve starts"),
    );
    let mut out = String::new();
    let mut lines = std::io::BufReader::new(server.0.stdout.take().unwrap()).lines();
    let join_line = lines
        .by_ref()
        .map(|l| l.unwrap())
        .inspect(|l| out += &format!("{l}\n"))
        .find(|l| l.trim_start().starts_with("datalab join "))
        .expect("the room printed no join line");
    std::thread::spawn(move || lines.for_each(drop));
    let w: Vec<&str> = join_line.split_whitespace().collect();
    let printed = carol.ok(&["join", w[2], w[3], "--name", "carol"], dir);
    assert!(printed.contains("logged in as learner carol"), "{printed}");
    let creds = carol.0.join("credentials.yaml");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&creds).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the credentials are private");
    let secret = password(&creds);
    // A joiner named like a learner who already has a login (ada, from a
    // file) gets none: ada's stays hers (she works with it below).
    let other = Home(dir.join("ada-2"));
    let t = text(&other.run(&["join", w[2], w[3], "--name", "Ada"], dir));
    assert!(
        t.contains("already has a login") && !t.contains("logged in"),
        "{t}"
    );
    let printed = printed + &t + &carol.ok(&["kafka", "topics", "create", "notes"], dir);
    drop(server);
    let served = out + &std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!served.contains(&secret), "the room printed a password");
    assert!(!printed.contains(&secret), "join printed the password");
    printed
}

/// A child process of the test's own, killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
