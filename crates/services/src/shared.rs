//! A room's shared cluster: Kafka and Cassandra started natively with logins
//! and permissions on (`services up --shared`), one identity per learner
//! (`services credentials NAME`), and the learner's side that connects with
//! it (`services login FILE`).
//!
//! Files, all written atomically and readable by their owner only:
//! - `<data dir>/shared.json`: the cluster's bind/advertise addresses and
//!   the admin login (the instructor's machine);
//! - `NAME.credentials.yaml`: what a learner is handed (their login and the
//!   cluster's endpoints);
//! - `<home>/credentials.yaml`: the login a learner's datalab presents to
//!   the endpoints `services login` wrote into `<home>/services.yaml`.
//!
//! Who may do what: a learner's Kafka user has every right on the topics,
//! groups and transactional ids that start with `<learner>_` and none
//! elsewhere; their Cassandra role may create keyspaces and has every right
//! on the ones it created (creator's rights) and none on others'. MongoDB is
//! not shared: the native stand-in has no logins, so each laptop runs its
//! own (see README).

use super::native::{self, jvm};
use super::{Endpoint, Namespace, ServiceError, ServiceKind, Services, Shared};
use datalab_clients::auth::{self, Login};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The kinds a room shares; MongoDB stays on each laptop.
pub const SHARED_KINDS: [ServiceKind; 2] = [ServiceKind::Kafka, ServiceKind::Cassandra];

/// The instructor's identity on a shared cluster (no learner may take it).
pub const ADMIN_USER: &str = "datalab_admin";

/// What a learner is handed: who they are and where the cluster is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub learner: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cassandra: Option<String>,
}

impl Credentials {
    pub fn login(&self) -> Login {
        Login {
            user: self.learner.clone(),
            password: self.password.clone(),
        }
    }

    /// Read a credentials file; a malformed one says `file:line:col`.
    pub fn load(path: &Path) -> Result<Credentials, ServiceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServiceError::Other(format!("cannot read {}: {e}", path.display())))?;
        Credentials::parse(&text, &path.display().to_string())
    }

    /// Parse credentials from `origin` (a file, the room); a malformed text
    /// says `origin:line:col`.
    pub fn parse(text: &str, origin: &str) -> Result<Credentials, ServiceError> {
        serde_saphyr::from_str(text).map_err(|e| {
            ServiceError::Other(match e.location() {
                Some(l) => format!("{origin}:{}:{}: {e}", l.line(), l.column()),
                None => format!("{origin}: {e}"),
            })
        })
    }

    /// The YAML that [`Credentials::parse`] reads.
    pub fn to_yaml(&self) -> Result<String, ServiceError> {
        serde_saphyr::to_string(self)
            .map_err(|e| ServiceError::Other(format!("cannot encode credentials: {e}")))
    }

    /// Write it for its owner's eyes only.
    pub fn save(&self, path: &Path) -> Result<(), ServiceError> {
        let text = format!(
            "# datalab credentials for learner {}: keep this file to yourself.\n# Use it with: datalab services login {}\n{}",
            self.learner,
            path.file_name().unwrap_or_default().to_string_lossy(),
            self.to_yaml()?
        );
        let text = if text.ends_with('\n') {
            text
        } else {
            text + "\n"
        };
        write_private(path, &text)
    }
}

/// Atomically, 0600 (a temp file's mode), never through a shell.
fn write_private(path: &Path, text: &str) -> Result<(), ServiceError> {
    super::process::write_atomic(path, text.as_bytes())
        .map_err(|e| ServiceError::Other(format!("cannot write {}: {e}", path.display())))
}

impl Services {
    fn shared_file(&self) -> PathBuf {
        self.config.data_dir.join("shared.json")
    }

    /// `<home>/credentials.yaml`: the learner's own login.
    pub fn credentials_file(&self) -> PathBuf {
        self.config_file().with_file_name("credentials.yaml")
    }

    /// The shared cluster this home runs, if any.
    pub fn shared(&self) -> Option<Shared> {
        let text = std::fs::read_to_string(self.shared_file()).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The settings of a shared cluster to start here: the recorded ones
    /// (same admin password) or new ones.
    pub fn shared_settings(
        &self,
        bind: &str,
        advertise: Option<&str>,
    ) -> Result<Shared, ServiceError> {
        let advertise = match advertise {
            Some(a) => a.to_string(),
            None if bind == "0.0.0.0" || bind == "::" => {
                return Err(ServiceError::Other(format!(
                    "--bind {bind} listens on every interface; say which address learners reach with --advertise ADDRESS"
                )));
            }
            None => bind.to_string(),
        };
        let admin = match self.shared() {
            Some(s) => s.admin,
            None => Login {
                user: ADMIN_USER.into(),
                password: auth::new_password()
                    .map_err(|e| ServiceError::Other(format!("no randomness: {e}")))?,
            },
        };
        let shared = Shared {
            bind: bind.to_string(),
            advertise,
            admin,
        };
        let json = serde_json::to_string_pretty(&shared)
            .map_err(|e| ServiceError::Other(format!("cannot encode shared settings: {e}")))?;
        write_private(&self.shared_file(), &json)?;
        Ok(shared)
    }

    /// Present the admin login to the shared cluster this home runs.
    pub(crate) fn register_admin(&self, endpoint: &Endpoint) {
        if let Some(s) = self.shared() {
            auth::register(&endpoint.address, &s.admin);
        }
    }

    /// Register the logins this home holds, for clients that reach a
    /// server by an address from the environment (a lab step's commands):
    /// the learner's for the shared cluster's endpoints, the admin's for the
    /// shared cluster this home runs. Cheap: a few small files. Returns the
    /// learner whose credentials this home holds.
    pub fn register_logins(&self) -> Option<String> {
        let learner = Credentials::load(&self.credentials_file()).ok().map(|c| {
            for address in [&c.kafka, &c.cassandra].into_iter().flatten() {
                auth::register(address, &c.login());
            }
            c.learner
        });
        if self.shared_file().is_file() {
            for kind in SHARED_KINDS {
                // Reading the state registers the admin (`read_state`).
                let _ = self.recorded(kind);
            }
        }
        learner
    }

    /// Give `name` a login on the shared cluster this home runs (a new
    /// password each time: handing out a file again replaces the old one).
    pub async fn add_learner(&self, name: &str) -> Result<Credentials, ServiceError> {
        let ns = Namespace::for_learner(name);
        if ns.is_empty() {
            return Err(ServiceError::Other(format!(
                "{name:?} is not a learner name"
            )));
        }
        self.claim_name(ns.as_str())?;
        let shared = self.shared().ok_or_else(|| {
            ServiceError::Other(
                "this home runs no shared cluster: `datalab services up --shared` first".into(),
            )
        })?;
        let password =
            auth::new_password().map_err(|e| ServiceError::Other(format!("no randomness: {e}")))?;
        let mut creds = Credentials {
            learner: ns.as_str().to_string(),
            password,
            kafka: None,
            cassandra: None,
        };
        for kind in SHARED_KINDS {
            let Ok(e) = self.check(kind).await else {
                continue;
            };
            match kind {
                ServiceKind::Kafka => {
                    self.kafka_learner(&e.address, &shared.admin, &creds)
                        .await?;
                    creds.kafka = Some(e.address);
                }
                _ => {
                    cassandra_learner(&e.address, &creds, self.config.timeout).await?;
                    creds.cassandra = Some(e.address);
                }
            }
        }
        if creds.kafka.is_none() && creds.cassandra.is_none() {
            return Err(ServiceError::Other(
                "the shared cluster is not running: `datalab services up --shared`".into(),
            ));
        }
        Ok(creds)
    }

    /// Record `name` among the learners, unless its prefix and another's
    /// overlap: `ada_` would reach the topics of `ada_b` (`ada_b_orders`).
    fn learners_file(&self) -> PathBuf {
        self.config.data_dir.join("shared-learners.json")
    }

    /// The learner names given a login so far.
    fn learner_names(&self) -> Vec<String> {
        std::fs::read_to_string(self.learners_file())
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Has the learner `name` (as a namespace) a login already?
    pub fn has_learner(&self, name: &str) -> bool {
        let ns = Namespace::for_learner(name);
        self.learner_names().iter().any(|n| n == ns.as_str())
    }

    fn claim_name(&self, name: &str) -> Result<(), ServiceError> {
        let path = self.learners_file();
        // Two `services credentials` at once (a script handing out logins
        // in parallel) must not each write the list without the other's.
        let _lock = lock_file(&path.with_extension("lock"))?;
        let mut names = self.learner_names();
        if let Some(clash) = names.iter().find(|n| overlaps(n, name)) {
            return Err(ServiceError::Other(format!(
                "learner name {name:?} overlaps {clash:?} (one's topics and keyspaces would start with the other's prefix); choose another name"
            )));
        }
        if name == ADMIN_USER {
            return Err(ServiceError::Other(format!(
                "{name:?} is the instructor's login"
            )));
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
            let json = serde_json::to_string(&names).unwrap_or_default();
            write_private(&path, &json)?;
        }
        Ok(())
    }

    /// The learner's SCRAM login and prefixed ACLs, by
    /// `containers/kafka/LearnerAccess.java` on Kafka's own client jars.
    async fn kafka_learner(
        &self,
        address: &str,
        admin: &Login,
        c: &Credentials,
    ) -> Result<(), ServiceError> {
        let def = self.definition(ServiceKind::Kafka)?;
        let java = jvm::find_java(ServiceKind::Kafka).await?;
        let cp = jvm::maven_classpath(&def, &self.config.cache_dir, &|_| {}).await?;
        let work = tempfile::tempdir().map_err(|e| native::other(format!("no temp dir: {e}")))?;
        let props = work.path().join("admin.properties");
        write_private(&props, &admin_properties(address, admin))?;
        let source = work.path().join("LearnerAccess.java");
        write_private(&source, LEARNER_ACCESS)?;
        let mut cmd = tokio::process::Command::new(java);
        cmd.arg("-cp").arg(cp).arg(&source).arg(&props);
        let line = format!("{} {}\n", c.learner, c.password);
        let out = run_with_stdin(cmd, &line, Duration::from_secs(180)).await?;
        if !out.contains(&format!("ok {}", c.learner)) {
            return Err(native::other(format!(
                "Kafka did not take learner {}: {out}",
                c.learner
            )));
        }
        Ok(())
    }
}

const LEARNER_ACCESS: &str = include_str!("../../../containers/kafka/LearnerAccess.java");

/// An exclusive `flock` on `path`, held until the value is dropped.
fn lock_file(path: &Path) -> Result<nix::fcntl::Flock<std::fs::File>, ServiceError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| ServiceError::Other(format!("cannot open {}: {e}", path.display())))?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| ServiceError::Other(format!("cannot lock {}: {e}", path.display())))
}

/// Two different learners whose namespace prefixes nest.
fn overlaps(a: &str, b: &str) -> bool {
    a != b && (a.starts_with(&format!("{b}_")) || b.starts_with(&format!("{a}_")))
}

/// An admin client's settings (SCRAM over the shared listener).
fn admin_properties(address: &str, admin: &Login) -> String {
    format!(
        "bootstrap.servers={address}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n\
         sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{}\" password=\"{}\";\n\
         request.timeout.ms=60000\ndefault.api.timeout.ms=120000\n",
        admin.user, admin.password
    )
}

/// Run `cmd` with `input` on its stdin; its stdout, or its stderr as the
/// error.
async fn run_with_stdin(
    mut cmd: tokio::process::Command,
    input: &str,
    limit: Duration,
) -> Result<String, ServiceError> {
    use std::process::Stdio;
    use tokio::io::AsyncWriteExt;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| native::other(format!("cannot run java: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes()).await;
    }
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .map_err(|_| native::other(format!("Kafka's admin tool took more than {limit:?}")))?
        .map_err(|e| native::other(format!("java: {e}")))?;
    if !out.status.success() {
        return Err(native::other(format!(
            "Kafka's admin tool failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// The learner's role: it can log in and create keyspaces, and gets every
/// right on what it creates (Cassandra's creator's rights) and none on the
/// keyspaces of others.
async fn cassandra_learner(
    address: &str,
    c: &Credentials,
    timeout: Duration,
) -> Result<(), ServiceError> {
    use datalab_clients::cql;
    let fail = |e: cql::CqlError| {
        native::other(format!("Cassandra did not take learner {}: {e}", c.learner))
    };
    let session = cql::own_session(address, timeout).await.map_err(fail)?;
    let slow = timeout.max(Duration::from_secs(30));
    let (user, pw) = (&c.learner, &c.password);
    let run = |statement: String| {
        let session = session.clone();
        async move {
            cql::execute(
                &session,
                &statement,
                scylla::statement::Consistency::One,
                slow,
            )
            .await
        }
    };
    let create = format!("CREATE ROLE {user} WITH PASSWORD = '{pw}' AND LOGIN = true");
    match run(create).await {
        // Handed out again: a new password for the same role.
        Err(e) if e.to_string().contains("already exists") => {
            run(format!("ALTER ROLE {user} WITH PASSWORD = '{pw}'"))
                .await
                .map_err(fail)?;
        }
        other => {
            other.map_err(fail)?;
        }
    }
    run(format!("GRANT CREATE ON ALL KEYSPACES TO {user}"))
        .await
        .map_err(fail)?;
    Ok(())
}

/// Write the learner's side: the endpoints into `<home>/services.yaml`
/// (each kind named there is then reached as an external service) and the
/// login into `<home>/credentials.yaml`.
pub fn login(services: &Services, c: &Credentials) -> Result<(), ServiceError> {
    let mut lines =
        vec!["# written by `datalab services login`: the room's shared cluster".to_string()];
    for (kind, address) in [("kafka", &c.kafka), ("cassandra", &c.cassandra)] {
        if let Some(a) = address {
            lines.push(format!("{kind}: {a}"));
        }
    }
    write_private(&services.config_file(), &(lines.join("\n") + "\n"))?;
    c.save(&services.credentials_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip_privately_and_a_bad_file_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ada.credentials.yaml");
        let c = Credentials {
            learner: "ada".into(),
            password: "pw".into(),
            kafka: Some("10.0.0.1:9092".into()),
            cassandra: None,
        };
        c.save(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(Credentials::load(&path).unwrap(), c);
        std::fs::write(&path, "learner: ada\npassword: [x\n").unwrap();
        let e = Credentials::load(&path).unwrap_err().to_string();
        assert!(e.contains("ada.credentials.yaml:2:"), "{e}");
        assert!(overlaps("ada", "ada_b") && overlaps("ada_b", "ada"));
        assert!(!overlaps("ada", "ada") && !overlaps("ada", "adab"));
    }
}
