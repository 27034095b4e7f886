//! Kafka operations over rdkafka: topics (create, describe, alter, delete),
//! produce (keys, idempotent, `acks=all`, transactions), consume (with or
//! without a group, isolation level, commit) and consumer-group description
//! (members, assignment, committed and end offsets, lag).
//!
//! Used by `datalab kafka …`, the Kafka lab's checks and the TUI. Nothing
//! here prints. Every call is bounded by the client's timeout; a broker that
//! does not answer gives [`KafkaError::Unreachable`], whose message says what
//! to run.
//!
//! rdkafka's metadata, watermark and group calls block, so each operation
//! runs on a blocking thread. Admin calls and reads that join no group use
//! clients kept for the process (`admin`, [`readers`]); a group member or
//! a producer is made for its operation.

use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, ConfigSource, NewPartitions, NewTopic,
    ResourceSpecifier, TopicReplication,
};
use rdkafka::client::{Client, ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use std::collections::HashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

mod offsets;
mod readers;
use readers::Reader;

/// Destroy a client that holds no group membership on another thread: its
/// teardown waits for librdkafka's threads and need not delay the answer.
fn dispose<T: Send + 'static>(client: T) {
    let _ = std::thread::Builder::new()
        .name("kafka-dispose".into())
        .spawn(move || drop(client));
}

/// What went wrong talking to Kafka.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KafkaError {
    /// The broker did not answer in time (down, wrong address).
    #[error(
        "Kafka at {bootstrap} did not answer within {secs} s: is it running? `datalab services up kafka`"
    )]
    Unreachable { bootstrap: String, secs: u64 },
    /// The topic does not exist.
    #[error("topic {topic} does not exist{hint}", topic = .0, hint = hidden_hint())]
    NoTopic(String),
    /// The broker answered and refused, or the request was invalid.
    #[error("{}", authz_words(.0))]
    Failed(String),
}

/// A group's coordinator is moving or still loading: asking again helps.
fn coordinator_moving(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::NotCoordinator
            | RDKafkaErrorCode::CoordinatorLoadInProgress
            | RDKafkaErrorCode::CoordinatorNotAvailable
    )
}

/// A request that got no answer in time (the broker may only be busy).
fn timed_out(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::OperationTimedOut | RDKafkaErrorCode::RequestTimedOut
    )
}

/// With a login (a shared cluster), the broker leaves out of its metadata
/// the topics the learner may not see.
fn hidden_hint() -> &'static str {
    if crate::auth::any() {
        " (or you are not authorised to see it: on a shared cluster each learner sees only the topics of their own namespace, and this one may belong to another learner)"
    } else {
        ""
    }
}

/// A broker's "authorization failed" said so a learner knows why: on a
/// shared cluster, what is not theirs belongs to another learner.
fn authz_words(message: &str) -> String {
    if message.to_lowercase().contains("authorization failed") {
        format!(
            "{message}: not authorised (on a shared cluster a learner's login reaches only the topics, groups and transactional ids of their own namespace; this one belongs to another learner or to no one)"
        )
    } else {
        message.to_string()
    }
}

/// The librdkafka settings that present the login registered for
/// `bootstrap` (a room's shared cluster: SASL/SCRAM-SHA-512 over plain
/// TCP); none when nobody registered one.
fn login_config(bootstrap: &str) -> Vec<(&'static str, String)> {
    let Some(login) = crate::auth::login_for(bootstrap) else {
        return Vec::new();
    };
    vec![
        ("security.protocol", "SASL_PLAINTEXT".into()),
        ("sasl.mechanism", "SCRAM-SHA-512".into()),
        ("sasl.username", login.user),
        ("sasl.password", login.password),
    ]
}

/// Each login setting and the environment variable that carries it to a
/// learner's own clients (the Kafka lab's Python helper reads them).
const LOGIN_VARS: [(&str, &str); 4] = [
    ("security.protocol", "DATALAB_KAFKA_SECURITY_PROTOCOL"),
    ("sasl.mechanism", "DATALAB_KAFKA_SASL_MECHANISM"),
    ("sasl.username", "DATALAB_KAFKA_SASL_USERNAME"),
    ("sasl.password", "DATALAB_KAFKA_SASL_PASSWORD"),
];

/// The login registered for `bootstrap` as environment variables
/// ([`LOGIN_VARS`]); empty without one.
pub fn login_env(bootstrap: &str) -> Vec<(String, String)> {
    login_config(bootstrap)
        .into_iter()
        .filter_map(|(key, value)| {
            let (_, var) = LOGIN_VARS.iter().find(|(k, _)| *k == key)?;
            Some((var.to_string(), value))
        })
        .collect()
}

pub(crate) type Result<T> = std::result::Result<T, KafkaError>;

/// One partition of a topic, from the cluster metadata.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PartitionInfo {
    pub partition: i32,
    /// Broker id of the leader (-1: no leader right now).
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

impl PartitionInfo {
    /// The leader's broker id, or `none`, for tables.
    pub fn leader_text(&self) -> String {
        if self.leader < 0 {
            "none".to_string()
        } else {
            self.leader.to_string()
        }
    }

    /// Replica broker ids as `1,2,3`, for tables.
    pub fn replicas_text(&self) -> String {
        join_ids(&self.replicas)
    }

    /// In-sync replica broker ids as `1,2,3`, for tables.
    pub fn isr_text(&self) -> String {
        join_ids(&self.isr)
    }
}

fn join_ids(ids: &[i32]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A topic: its partitions and configuration.
#[derive(Clone, Debug, Serialize)]
pub struct TopicInfo {
    pub(crate) name: String,
    pub partitions: Vec<PartitionInfo>,
    /// Effective configuration values (defaults included).
    pub configs: BTreeMap<String, String>,
    /// The names of the configs set on this topic (not broker defaults).
    pub overrides: Vec<String>,
}

impl TopicInfo {
    /// Replicas per partition (the smallest, if they differ).
    pub fn replication_factor(&self) -> usize {
        self.partitions
            .iter()
            .map(|p| p.replicas.len())
            .min()
            .unwrap_or(0)
    }
}

/// A broker of the cluster.
#[derive(Clone, Debug, Serialize)]
pub struct BrokerInfo {
    pub id: i32,
    pub(crate) address: String,
}

/// A record to produce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewRecord {
    pub key: Option<String>,
    pub value: String,
}

impl NewRecord {
    /// One input line: `key<TAB>value`, or the whole line as the value with
    /// `default_key`.
    pub(crate) fn from_line(line: &str, default_key: Option<&str>) -> NewRecord {
        match line.split_once('\t') {
            Some((k, v)) => NewRecord {
                key: Some(k.to_string()),
                value: v.to_string(),
            },
            None => NewRecord {
                key: default_key.map(str::to_string),
                value: line.to_string(),
            },
        }
    }
}

/// How to produce.
#[derive(Clone, Debug)]
pub(crate) struct ProduceOptions {
    /// `all` (default, with the idempotent producer), `1` or `0`.
    pub(crate) acks: String,
    /// Send everything in one transaction with this transactional id.
    pub(crate) transactional_id: Option<String>,
    /// With a transaction: abort it instead of committing.
    pub(crate) abort: bool,
}

impl Default for ProduceOptions {
    fn default() -> Self {
        ProduceOptions {
            acks: "all".into(),
            transactional_id: None,
            abort: false,
        }
    }
}

/// What a produce call did.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ProduceReport {
    pub topic: String,
    pub(crate) records: usize,
    /// Records per partition.
    pub partitions: BTreeMap<i32, usize>,
    /// `committed` / `aborted` for a transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) transaction: Option<String>,
}

/// How to consume.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConsumeOptions {
    /// Join this consumer group (subscribe); without, read every partition
    /// directly and commit nothing.
    pub(crate) group: Option<String>,
    /// Start at the earliest offset (a group with committed offsets resumes
    /// from them).
    pub(crate) from_beginning: bool,
    /// Stop after this many records.
    pub(crate) max: Option<usize>,
    /// `isolation.level=read_committed`.
    pub(crate) read_committed: bool,
    /// Commit the group's offsets at the end.
    pub(crate) commit: bool,
    /// Stay this long (a member of the group), even once at the end.
    pub(crate) stay: Option<Duration>,
    /// Set from elsewhere (a signal handler) to stop early: the consumer
    /// then commits as asked and leaves its group properly.
    pub(crate) stop: Option<Arc<AtomicBool>>,
    /// Set once, to the partitions a group member first gets (`--detach`).
    pub(crate) joined: Option<Arc<OnceLock<Vec<i32>>>>,
}

/// A consumed record.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: String,
    /// The record's timestamp (ms since the epoch), when it has one; the
    /// event time of a stream processor's windows. Not printed.
    #[serde(skip)]
    pub timestamp_ms: Option<i64>,
}

/// The partitions a group member owns.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Assignment {
    pub topic: String,
    pub partitions: Vec<i32>,
}

/// A member of a consumer group.
#[derive(Clone, Debug, Serialize)]
pub struct GroupMember {
    pub id: String,
    pub(crate) client_id: String,
    pub(crate) host: String,
    pub assignment: Vec<Assignment>,
}

/// A group's position on one partition.
#[derive(Clone, Debug, Serialize)]
pub struct GroupOffset {
    pub topic: String,
    pub partition: i32,
    /// The committed offset (`None`: nothing committed on this partition).
    pub committed: Option<i64>,
    /// The partition's end offset (high watermark).
    pub end: i64,
    /// `end - committed` (the whole partition when nothing is committed).
    pub lag: i64,
}

/// A consumer group.
#[derive(Clone, Debug, Serialize)]
pub struct GroupInfo {
    pub(crate) group: String,
    /// Stable, PreparingRebalance, CompletingRebalance, Empty, Dead.
    pub state: String,
    /// The assignor (range, roundrobin, …) when the group has members.
    pub(crate) protocol: String,
    pub members: Vec<GroupMember>,
    pub offsets: Vec<GroupOffset>,
}

impl GroupInfo {
    pub fn total_lag(&self) -> i64 {
        self.offsets.iter().map(|o| o.lag).sum()
    }
    /// Records consumed and committed: the sum of committed offsets.
    pub fn committed_total(&self) -> i64 {
        self.offsets.iter().filter_map(|o| o.committed).sum()
    }
}

/// A Kafka cluster, reached through its bootstrap servers.
#[derive(Clone, Debug)]
pub struct Kafka {
    bootstrap: String,
    timeout: Duration,
}

type Admin = AdminClient<LoginWatch>;

/// An admin client's context that notes when a broker refused the login
/// (SASL), which librdkafka otherwise reports only as requests that time
/// out.
struct LoginWatch {
    bootstrap: String,
}

fn refused_logins() -> &'static Mutex<BTreeSet<String>> {
    static SET: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    SET.get_or_init(Default::default)
}

impl rdkafka::client::ClientContext for LoginWatch {
    // librdkafka's broker threads log a refused login at once (its error
    // event would wait for a poll nobody makes on an admin client).
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        if message.contains("SASL authentication error") {
            self.refused();
        }
        DefaultClientContext.log(level, fac, message);
    }

    fn error(&self, error: RdError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::Authentication) {
            self.refused();
        }
        DefaultClientContext.error(error, reason);
    }
}

impl LoginWatch {
    fn refused(&self) {
        if let Ok(mut set) = refused_logins().lock() {
            set.insert(self.bootstrap.clone());
        }
    }
}

impl rdkafka::consumer::ConsumerContext for LoginWatch {}

impl Kafka {
    /// `timeout` bounds each request (metadata, admin, offsets).
    pub fn new(bootstrap: impl Into<String>, timeout: Duration) -> Kafka {
        Kafka {
            bootstrap: bootstrap.into(),
            timeout,
        }
    }

    pub(crate) fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    fn unreachable(&self) -> KafkaError {
        if self.login_refused() {
            return self.refused_login();
        }
        KafkaError::Unreachable {
            bootstrap: self.bootstrap.clone(),
            secs: self.timeout.as_secs().max(1),
        }
    }

    fn config(&self) -> ClientConfig {
        // Before librdkafka first touches OpenSSL: initialise it without its
        // atexit cleanup. Admin clients live for the process (see `admin`)
        // and disposed ones finish on their own threads, so at exit a
        // librdkafka thread may still be hashing a SCRAM login or reading
        // random bytes while OpenSSL frees its state: the process then died
        // after its work was done (seen once in CI: `services up --shared`
        // printed success and exited non-zero).
        openssl_sys::init();
        let mut c = ClientConfig::new();
        let ms = self.timeout.as_millis().to_string();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "datalab")
            .set("socket.timeout.ms", &ms)
            .set("socket.connection.setup.timeout.ms", &ms)
            // Reconnect quickly when a broker of a cluster comes back.
            .set("reconnect.backoff.max.ms", "1000")
            .set("topic.metadata.refresh.interval.ms", "1000")
            // Connect to the bootstrap brokers at once. With sparse
            // connections (the default) a fresh client's first request
            // waited ~50 ms for its connection, most of a warm check's time
            // (a read of a topic went from ~58 ms to ~8 ms).
            .set("enable.sparse.connections", "false");
        for (key, value) in login_config(&self.bootstrap) {
            c.set(key, value);
        }
        c
    }

    /// Run `f` on a blocking thread, bounded by `limit`.
    async fn blocking<T, F>(&self, limit: Duration, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Kafka) -> Result<T> + Send + 'static,
    {
        let me = self.clone();
        match tokio::time::timeout(limit, tokio::task::spawn_blocking(move || f(me))).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(KafkaError::Failed(format!("Kafka client crashed: {e}"))),
            Err(_) => Err(self.unreachable()),
        }
    }

    /// Log in ahead of the first check: the kept admin client and a kept
    /// reader of each isolation level (read_uncommitted, what most checks
    /// read; read_committed, the exactly-once step's other view) each fetch
    /// the cluster's metadata, so all three are connected and logged in.
    /// A fresh client logs in twice (bootstrap address, then the broker it
    /// names), 0.2–1.5 s on a busy shared cluster; the lab runner calls
    /// this while a step's command runs, so the checks after it find warm
    /// clients. Once per process, address and timeout; errors are left to
    /// the checks.
    pub async fn warm_up(&self) {
        static WARMED: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
        let key = format!("{}|{}", self.bootstrap, self.timeout.as_millis());
        let first = WARMED
            .get_or_init(Default::default)
            .lock()
            .is_ok_and(|mut w| w.insert(key));
        if !first {
            return;
        }
        let _ = self
            .blocking(self.timeout * 3, |k| {
                let admin = k.admin()?;
                k.metadata_of(admin.inner())?;
                for read_committed in [false, true] {
                    let r = Reader::take(&k, read_committed, "datalab.warm-up")?;
                    k.metadata_of(r.consumer().client())?;
                    r.give_back();
                }
                Ok(())
            })
            .await;
    }

    /// One admin client per broker address and timeout, kept for the
    /// process: creating and (above all) destroying an rdkafka client costs
    /// tens of milliseconds, more than a warm check should take.
    fn admin(&self) -> Result<Arc<Admin>> {
        static CACHE: OnceLock<Mutex<HashMap<String, Arc<Admin>>>> = OnceLock::new();
        let user = crate::auth::login_for(&self.bootstrap).map(|l| l.user);
        let key = format!("{}|{}|{user:?}", self.bootstrap, self.timeout.as_millis());
        let cache = CACHE.get_or_init(Default::default);
        if let Some(a) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(a);
        }
        let watch = LoginWatch {
            bootstrap: self.bootstrap.clone(),
        };
        let admin: Admin = self
            .config()
            .create_with_context(watch)
            .map_err(|e| KafkaError::Failed(format!("cannot create a Kafka client: {e}")))?;
        let admin = Arc::new(admin);
        if let Ok(mut m) = cache.lock() {
            m.insert(key, admin.clone());
        }
        Ok(admin)
    }

    fn consumer(&self, extra: &[(&str, &str)]) -> Result<BaseConsumer> {
        let mut c = self.config();
        c.set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true");

        for (k, v) in extra {
            c.set(*k, *v);
        }
        c.create()
            .map_err(|e| KafkaError::Failed(format!("cannot create a Kafka consumer: {e}")))
    }

    fn admin_opts(&self) -> AdminOptions {
        AdminOptions::new()
            .request_timeout(Some(self.timeout))
            .operation_timeout(Some(self.timeout))
    }

    /// Cluster metadata through any client; a failure means unreachable.
    fn metadata_of<C: rdkafka::client::ClientContext>(
        &self,
        client: &rdkafka::client::Client<C>,
    ) -> Result<rdkafka::metadata::Metadata> {
        client
            .fetch_metadata(None, self.timeout)
            .map_err(|e| match e {
                RdError::MetadataFetch(RDKafkaErrorCode::Authentication) => self.refused_login(),
                _ => self.unreachable(),
            })
    }

    /// With a registered login, did the broker refuse it? Asked of a
    /// short-lived consumer, whose poll delivers librdkafka's error events
    /// (an admin client's are never polled).
    fn login_refused(&self) -> bool {
        let known = || {
            refused_logins()
                .lock()
                .is_ok_and(|s| s.contains(&self.bootstrap))
        };
        if known() || crate::auth::login_for(&self.bootstrap).is_none() {
            return known();
        }
        let watch = LoginWatch {
            bootstrap: self.bootstrap.clone(),
        };
        let probe: std::result::Result<BaseConsumer<LoginWatch>, _> = self
            .config()
            .set("group.id", "datalab-login-probe")
            .create_with_context(watch);
        if let Ok(c) = probe {
            let _ = c.fetch_metadata(None, Duration::from_millis(1500));
            for _ in 0..5 {
                let _ = c.poll(Duration::from_millis(100));
            }
        }
        known()
    }

    /// The broker refused the registered login (SASL).
    fn refused_login(&self) -> KafkaError {
        let user = crate::auth::login_for(&self.bootstrap).map(|l| l.user);
        KafkaError::Failed(format!(
            "Kafka at {} refused the login: wrong password for learner {} (ask the instructor for your credentials file: `datalab services login FILE`)",
            self.bootstrap,
            user.as_deref()
                .unwrap_or("(none: this cluster wants a login)")
        ))
    }

    fn map_admin_err(&self, e: RdError) -> KafkaError {
        match e {
            RdError::AdminOp(RDKafkaErrorCode::OperationTimedOut)
            | RdError::AdminOp(RDKafkaErrorCode::AllBrokersDown)
            | RdError::AdminOp(RDKafkaErrorCode::BrokerTransportFailure) => self.unreachable(),
            other => KafkaError::Failed(other.to_string()),
        }
    }

    // ----------------------------------------------------------------- topics

    /// The brokers and topic names of the cluster.
    pub async fn cluster(&self) -> Result<(Vec<BrokerInfo>, Vec<String>)> {
        self.blocking(self.timeout * 2, |k| {
            let admin = k.admin()?;
            let md = k.metadata_of(admin.inner())?;
            let brokers = md
                .brokers()
                .iter()
                .map(|b| BrokerInfo {
                    id: b.id(),
                    address: format!("{}:{}", b.host(), b.port()),
                })
                .collect();
            let mut topics: Vec<String> =
                md.topics().iter().map(|t| t.name().to_string()).collect();
            topics.sort();
            Ok((brokers, topics))
        })
        .await
    }

    /// A topic's partitions (leader, replicas, ISR) and, with `configs`, its
    /// configuration. `Ok(None)` when the topic does not exist.
    pub async fn describe_topic(&self, name: &str, configs: bool) -> Result<Option<TopicInfo>> {
        let name = name.to_string();
        self.blocking(self.timeout * 3, move |k| {
            k.describe_topic_blocking(&name, configs)
        })
        .await
    }

    fn describe_topic_blocking(&self, name: &str, with_configs: bool) -> Result<Option<TopicInfo>> {
        let admin = self.admin()?;
        let md = self.metadata_of(admin.inner())?;
        let Some(t) = md.topics().iter().find(|t| t.name() == name) else {
            return Ok(None);
        };
        if t.partitions().is_empty() {
            return Ok(None);
        }
        let mut partitions: Vec<PartitionInfo> = t
            .partitions()
            .iter()
            .map(|p| PartitionInfo {
                partition: p.id(),
                leader: p.leader(),
                replicas: p.replicas().to_vec(),
                isr: p.isr().to_vec(),
            })
            .collect();
        partitions.sort_by_key(|p| p.partition);
        let mut configs = BTreeMap::new();
        let mut overrides = Vec::new();
        if with_configs {
            let res = futures::executor::block_on(
                admin.describe_configs(&[ResourceSpecifier::Topic(name)], &self.admin_opts()),
            )
            .map_err(|e| self.map_admin_err(e))?;
            for r in res {
                let r = r.map_err(|e| {
                    KafkaError::Failed(format!("cannot read the configs of {name}: {e}"))
                })?;
                for e in r.entries {
                    if let Some(v) = e.value {
                        if matches!(e.source, ConfigSource::DynamicTopic) {
                            overrides.push(e.name.clone());
                        }
                        configs.insert(e.name, v);
                    }
                }
            }
        }
        Ok(Some(TopicInfo {
            name: name.to_string(),
            partitions,
            configs,
            overrides,
        }))
    }

    /// Create a topic. `replication_factor` None: the broker's default.
    pub async fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: Option<i32>,
        configs: &[(String, String)],
    ) -> Result<()> {
        let name = name.to_string();
        let wanted = name.clone();
        let configs = configs.to_vec();
        self.blocking(self.timeout * 3, move |k| {
            let admin = k.admin()?;
            k.metadata_of(admin.inner())?;
            let rf = match replication_factor {
                Some(n) => TopicReplication::Fixed(n),
                None => TopicReplication::Fixed(-1),
            };
            let mut t = NewTopic::new(&name, partitions, rf);
            for (key, v) in &configs {
                t = t.set(key, v);
            }
            let res = futures::executor::block_on(admin.create_topics(&[t], &k.admin_opts()))
                .map_err(|e| k.map_admin_err(e))?;
            for r in res {
                if let Err((_, code)) = r {
                    return Err(KafkaError::Failed(match code {
                        RDKafkaErrorCode::TopicAlreadyExists => {
                            format!("topic {name} already exists")
                        }
                        RDKafkaErrorCode::InvalidReplicationFactor => format!(
                            "cannot create {name}: replication factor {} is more than the brokers the cluster has",
                            replication_factor.unwrap_or(-1)
                        ),
                        other => format!("cannot create {name}: {other}"),
                    }));
                }
            }
            Ok(())
        })
        .await?;
        self.wait_topic_ready(&wanted).await
    }

    /// Wait (bounded by the timeout) until a new topic is in the metadata
    /// with a leader for every partition: the controller accepts a topic
    /// before every broker knows it, and the next command must find it.
    pub(crate) async fn wait_topic_ready(&self, name: &str) -> Result<()> {
        let deadline = Instant::now() + self.timeout * 2;
        loop {
            let ready = matches!(
                self.describe_topic(name, false).await,
                Ok(Some(t)) if !t.partitions.is_empty() && t.partitions.iter().all(|p| p.leader >= 0)
            );
            if ready || Instant::now() > deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Grow a topic's partitions and/or set configs on it (other configs set
    /// on the topic are kept).
    pub(crate) async fn alter_topic(
        &self,
        name: &str,
        partitions: Option<i32>,
        configs: &[(String, String)],
    ) -> Result<()> {
        let name = name.to_string();
        let configs = configs.to_vec();
        self.blocking(self.timeout * 4, move |k| {
            let Some(current) = k.describe_topic_blocking(&name, true)? else {
                return Err(KafkaError::NoTopic(name));
            };
            let admin = k.admin()?;
            if let Some(n) = partitions
                && n as usize != current.partitions.len()
            {
                let res =
                    futures::executor::block_on(admin.create_partitions(
                        &[NewPartitions::new(&name, n as usize)],
                        &k.admin_opts(),
                    ))
                    .map_err(|e| k.map_admin_err(e))?;
                for r in res {
                    if let Err((_, code)) = r {
                        return Err(KafkaError::Failed(format!(
                            "cannot change {name} from {} to {n} partitions: {code}",
                            current.partitions.len()
                        )));
                    }
                }
            }
            if !configs.is_empty() {
                // AlterConfigs replaces the topic's whole set: keep the others.
                let mut all: BTreeMap<String, String> = current
                    .overrides
                    .iter()
                    .filter_map(|n| current.configs.get(n).map(|v| (n.clone(), v.clone())))
                    .collect();
                for (key, v) in &configs {
                    all.insert(key.clone(), v.clone());
                }
                let mut alter = AlterConfig::new(ResourceSpecifier::Topic(&name));
                for (key, v) in &all {
                    alter = alter.set(key, v);
                }
                let res =
                    futures::executor::block_on(admin.alter_configs(&[alter], &k.admin_opts()))
                        .map_err(|e| k.map_admin_err(e))?;
                for r in res {
                    if let Err((_, code)) = r {
                        return Err(KafkaError::Failed(format!(
                            "cannot set {} on {name}: {code}",
                            configs
                                .iter()
                                .map(|(a, b)| format!("{a}={b}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                }
            }
            Ok(())
        })
        .await
    }

    /// Delete a topic. Deleting one that does not exist is an error.
    pub(crate) async fn delete_topic(&self, name: &str) -> Result<()> {
        let name = name.to_string();
        self.blocking(self.timeout * 3, move |k| {
            let admin = k.admin()?;
            k.metadata_of(admin.inner())?;
            let res = futures::executor::block_on(admin.delete_topics(&[&name], &k.admin_opts()))
                .map_err(|e| k.map_admin_err(e))?;
            for r in res {
                if let Err((_, code)) = r {
                    return Err(match code {
                        RDKafkaErrorCode::UnknownTopicOrPartition => KafkaError::NoTopic(name),
                        other => KafkaError::Failed(format!("cannot delete {name}: {other}")),
                    });
                }
            }
            Ok(())
        })
        .await
    }

    /// Wait (bounded by the timeout) until a deleted topic is gone from the
    /// metadata, so it can be created again right away.
    pub(crate) async fn wait_topic_gone(&self, name: &str) -> Result<()> {
        let deadline = Instant::now() + self.timeout * 2;
        loop {
            let (_, topics) = self.cluster().await?;
            if !topics.iter().any(|t| t == name) || Instant::now() > deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Delete a consumer group (its committed offsets). It must have no
    /// members. `Ok(false)` when there was no such group.
    pub(crate) async fn delete_group(&self, group: &str) -> Result<bool> {
        let group = group.to_string();
        self.blocking(self.timeout * 4, move |k| {
            let admin = k.admin()?;
            k.metadata_of(admin.inner())?;
            // Right after a broker restart the group coordinator may still be
            // loading or moving, and on a fresh cluster the first group
            // operations wait for the offsets topic to be made and loaded
            // (30 learners reaching the groups step at once timed out):
            // those answers are retried until the deadline.
            let deadline = std::time::Instant::now() + k.timeout * 2;
            let res = loop {
                let res =
                    futures::executor::block_on(admin.delete_groups(&[&group], &k.admin_opts()))
                        .map_err(|e| k.map_admin_err(e))?;
                let transient = res
                    .iter()
                    .any(|r| matches!(r, Err((_, code)) if coordinator_moving(*code) || timed_out(*code)));
                if !transient || std::time::Instant::now() >= deadline {
                    break res;
                }
                std::thread::sleep(Duration::from_millis(300));
            };
            for r in res {
                if let Err((_, code)) = r {
                    return match code {
                        RDKafkaErrorCode::GroupIdNotFound => Ok(false),
                        RDKafkaErrorCode::NonEmptyGroup => Err(KafkaError::Failed(format!(
                            "group {group} still has members: stop its consumers first"
                        ))),
                        other => Err(KafkaError::Failed(format!(
                            "cannot delete group {group}: {other}"
                        ))),
                    };
                }
            }
            Ok(true)
        })
        .await
    }

    /// Delete these topics in one request; returns the ones deleted. A topic
    /// that refuses fails the whole call with its name and reason.
    pub async fn delete_topics(&self, names: &[String]) -> Result<Vec<String>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let names = names.to_vec();
        self.blocking(self.timeout * 3, move |k| {
            let admin = k.admin()?;
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let res = futures::executor::block_on(admin.delete_topics(&refs, &k.admin_opts()))
                .map_err(|e| k.map_admin_err(e))?;
            res.into_iter()
                .map(|r| {
                    r.map_err(|(t, code)| {
                        KafkaError::Failed(format!("could not delete topic {t}: {code}"))
                    })
                })
                .collect()
        })
        .await
    }

    /// The names of every consumer group the cluster knows.
    pub async fn groups(&self) -> Result<Vec<String>> {
        self.blocking(self.timeout * 2, |k| {
            let admin = k.admin()?;
            let list = admin
                .inner()
                .fetch_group_list(None, k.timeout)
                .map_err(|_| k.unreachable())?;
            Ok(list.groups().iter().map(|g| g.name().to_string()).collect())
        })
        .await
    }

    /// Delete these consumer groups, best effort: returns the ones deleted
    /// (a group with members, or one that is gone, is left out).
    pub async fn delete_groups(&self, names: &[String]) -> Vec<String> {
        if names.is_empty() {
            return Vec::new();
        }
        let names = names.to_vec();
        let deleted = self.blocking(self.timeout * 3, move |k| {
            let admin = k.admin()?;
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let res = futures::executor::block_on(admin.delete_groups(&refs, &k.admin_opts()))
                .map_err(|e| k.map_admin_err(e))?;
            Ok(res.into_iter().flatten().collect())
        });
        deleted.await.unwrap_or_default()
    }

    /// Low and high watermarks of every partition of a topic; the high one
    /// is the last stable offset (read_committed: the end of what a
    /// read_committed consumer may read).
    pub async fn watermarks(&self, topic: &str) -> Result<Vec<(i32, i64, i64)>> {
        let topic = topic.to_string();
        self.blocking(self.timeout * 3, move |k| {
            let r = Reader::take(&k, true, &reader_group(&topic))?;
            let marks = k.watermarks_blocking(r.consumer().client(), &topic)?;
            r.give_back();
            Ok(marks)
        })
        .await
    }

    /// Wait (up to `limit`) until no partition of `topic` has a transaction
    /// whose end is still being written: a producer's commit or abort
    /// returns before the brokers write its markers, and until they do a
    /// read_committed reader stops short of the committed records. True when
    /// settled (every last stable offset equals its high watermark).
    pub async fn settle_transactions(&self, topic: &str, limit: Duration) -> Result<bool> {
        let topic = topic.to_string();
        self.blocking(limit + self.timeout * 3, move |k| {
            let group = reader_group(&topic);
            // Taken together, so that new ones log in at the same time.
            let uncommitted = Reader::take(&k, false, &group)?;
            let committed = Reader::take(&k, true, &group)?;
            let deadline = Instant::now() + limit;
            let settled = loop {
                let hw = k.watermarks_blocking(uncommitted.consumer().client(), &topic)?;
                let lso = k.watermarks_blocking(committed.consumer().client(), &topic)?;
                if hw == lso {
                    break true;
                }
                if Instant::now() > deadline {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            uncommitted.give_back();
            committed.give_back();
            Ok(settled)
        })
        .await
    }

    fn partitions_of<C: ClientContext>(&self, c: &Client<C>, topic: &str) -> Result<Vec<i32>> {
        let md = self.metadata_of(c)?;
        let t = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .filter(|t| !t.partitions().is_empty())
            .ok_or_else(|| KafkaError::NoTopic(topic.to_string()))?;
        let mut ps: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
        ps.sort();
        Ok(ps)
    }

    fn watermarks_blocking<C: ClientContext>(
        &self,
        c: &Client<C>,
        topic: &str,
    ) -> Result<Vec<(i32, i64, i64)>> {
        let mut out = Vec::new();
        for p in self.partitions_of(c, topic)? {
            let (lo, hi) = c.fetch_watermarks(topic, p, self.timeout).map_err(|e| match e {
                RdError::MetadataFetch(_) => self.unreachable(),
                other => KafkaError::Failed(format!(
                    "cannot read the offsets of {topic} partition {p}: {other} (is its leader down?)"
                )),
            })?;
            out.push((p, lo, hi));
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- produce

    /// Produce records and wait until every one is acknowledged (or the
    /// transaction is committed/aborted).
    pub(crate) async fn produce(
        &self,
        topic: &str,
        records: Vec<NewRecord>,
        opts: &ProduceOptions,
    ) -> Result<ProduceReport> {
        let topic = topic.to_string();
        let opts = opts.clone();
        let delivery = self.delivery_timeout();
        self.blocking(delivery * 2 + self.timeout * 4, move |k| {
            k.produce_blocking(&topic, records, &opts)
        })
        .await
    }

    fn delivery_timeout(&self) -> Duration {
        (self.timeout * 3).max(Duration::from_secs(15))
    }

    fn produce_blocking(
        &self,
        topic: &str,
        records: Vec<NewRecord>,
        opts: &ProduceOptions,
    ) -> Result<ProduceReport> {
        let producer = self.producer_for(topic, opts)?;
        let tx = opts.transactional_id.is_some();
        if tx {
            producer
                .init_transactions(self.timeout * 2)
                .map_err(|e| self.tx_err("start a transaction", e))?;
            producer
                .begin_transaction()
                .map_err(|e| self.tx_err("begin a transaction", e))?;
        }
        let futs = records
            .iter()
            .map(|r| send_waiting(&producer, topic, r))
            .collect::<Result<Vec<_>>>()?;
        let transaction = if tx {
            Some(self.end_transaction(&producer, opts.abort)?)
        } else {
            None
        };
        let mut partitions = BTreeMap::new();
        let results = futures::executor::block_on(futures::future::join_all(futs));
        for (res, r) in results.into_iter().zip(&records) {
            match res {
                Ok(Ok(d)) => *partitions.entry(d.partition).or_insert(0usize) += 1,
                // An aborted transaction fails its undelivered records; the
                // delivered ones are in the log, marked aborted.
                Ok(Err(_)) if opts.abort => {}
                Ok(Err((e, _))) => return Err(self.delivery_err(topic, r, opts, e)),
                Err(_) => return Err(KafkaError::Failed("the producer went away".into())),
            }
        }
        Ok(ProduceReport {
            topic: topic.to_string(),
            records: records.len(),
            partitions,
            transaction,
        })
    }

    /// A producer for `opts` (acks, idempotence with acks=all, a
    /// transactional id), once `topic` is known to exist.
    fn producer_for(&self, topic: &str, opts: &ProduceOptions) -> Result<FutureProducer> {
        let mut c = self.config();
        let all = opts.acks == "all" || opts.acks == "-1";
        c.set("acks", &opts.acks)
            .set("enable.idempotence", if all { "true" } else { "false" })
            .set(
                "message.timeout.ms",
                self.delivery_timeout().as_millis().to_string(),
            )
            .set("linger.ms", "5");
        if let Some(id) = &opts.transactional_id {
            c.set("transactional.id", id)
                .set("transaction.timeout.ms", "60000");
        }
        let producer: FutureProducer = c
            .create()
            .map_err(|e| KafkaError::Failed(format!("cannot create a Kafka producer: {e}")))?;
        let md = self.metadata_of(producer.client())?;
        let known = md
            .topics()
            .iter()
            .any(|t| t.name() == topic && !t.partitions().is_empty());
        if !known {
            return Err(KafkaError::NoTopic(topic.to_string()));
        }
        Ok(producer)
    }

    /// Flush, then commit or abort; returns the word the report shows.
    fn end_transaction(&self, producer: &FutureProducer, abort: bool) -> Result<String> {
        producer
            .flush(self.delivery_timeout())
            .map_err(|e| self.tx_err("flush the transaction", e))?;
        if abort {
            producer
                .abort_transaction(self.timeout * 2)
                .map_err(|e| self.tx_err("abort the transaction", e))?;
            return Ok("aborted".into());
        }
        producer
            .commit_transaction(self.timeout * 2)
            .map_err(|e| self.tx_err("commit the transaction", e))?;
        Ok("committed".into())
    }

    /// A record the broker did not take, in words a learner can act on.
    fn delivery_err(
        &self,
        topic: &str,
        r: &NewRecord,
        opts: &ProduceOptions,
        e: RdError,
    ) -> KafkaError {
        use RDKafkaErrorCode as C;
        KafkaError::Failed(match e {
            RdError::MessageProduction(C::MessageTimedOut) => format!(
                "record {:?} was not acknowledged within {} s (acks={}): are enough replicas of {topic} in sync?",
                r.value,
                self.delivery_timeout().as_secs(),
                opts.acks
            ),
            RdError::MessageProduction(C::NotEnoughReplicas | C::NotEnoughReplicasAfterAppend) => {
                format!(
                    "{topic} has fewer in-sync replicas than its min.insync.replicas: acks={} refused",
                    opts.acks
                )
            }
            RdError::MessageProduction(C::InvalidRecord) => format!(
                "the broker refused record {:?} of {topic}: a compacted topic (cleanup.policy=compact) needs a key on every record",
                r.value
            ),
            other => format!("cannot produce to {topic}: {other}"),
        })
    }

    fn tx_err(&self, what: &str, e: RdError) -> KafkaError {
        match e {
            RdError::Transaction(ref t)
                if matches!(
                    t.code(),
                    RDKafkaErrorCode::OperationTimedOut | RDKafkaErrorCode::RequestTimedOut
                ) =>
            {
                self.unreachable()
            }
            other => KafkaError::Failed(format!("cannot {what}: {other}")),
        }
    }

    // ---------------------------------------------------------------- consume

    /// Consume records. Without a group, every partition is read from the
    /// beginning (or the end) to its current end. With a group, the consumer
    /// subscribes, reads until it reaches the end of every partition it was
    /// assigned (or `max`, or `stay`), and commits when asked.
    pub(crate) async fn consume(&self, topic: &str, opts: &ConsumeOptions) -> Result<Vec<Record>> {
        let topic = topic.to_string();
        let opts = opts.clone();
        let limit = self.consume_limit(&opts) + self.timeout * 2;
        self.blocking(limit, move |k| k.consume_blocking(&topic, &opts))
            .await
    }

    fn consume_limit(&self, opts: &ConsumeOptions) -> Duration {
        opts.stay.unwrap_or_default() + self.timeout * 6
    }

    fn consume_blocking(&self, topic: &str, opts: &ConsumeOptions) -> Result<Vec<Record>> {
        if opts.group.is_none() && opts.stay.is_none() {
            return self.read_once(topic, opts);
        }
        let c = self.reader(topic, opts)?;
        let partitions = self.partitions_of(c.client(), topic)?;
        start_reading(&c, topic, &partitions, opts)?;
        let out = self.read_until_done(&c, topic, &partitions, opts)?;
        if opts.group.is_some() && opts.commit && !out.is_empty() {
            c.commit_consumer_state(CommitMode::Sync).map_err(|e| {
                KafkaError::Failed(format!(
                    "read {} record(s) but could not commit the offsets: {e}",
                    out.len()
                ))
            })?;
        }
        if opts.group.is_some() {
            // Leave the group now (drop closes the consumer).
            c.unsubscribe();
            drop(c);
        } else {
            dispose(c);
        }
        Ok(out)
    }

    /// Every partition of `topic` read directly to its current end, with a
    /// kept consumer ([`readers`]).
    fn read_once(&self, topic: &str, opts: &ConsumeOptions) -> Result<Vec<Record>> {
        let r = Reader::take(self, opts.read_committed, &reader_group(topic))?;
        let c = r.consumer();
        let partitions = self.partitions_of(c.client(), topic)?;
        start_reading(c, topic, &partitions, opts)?;
        let out = self.read_until_done(c, topic, &partitions, opts)?;
        r.give_back();
        Ok(out)
    }

    /// A group member, or a consumer that stays, configured for `opts`:
    /// isolation, where to start, how often it heartbeats and how long an
    /// empty fetch is held.
    fn reader(&self, topic: &str, opts: &ConsumeOptions) -> Result<BaseConsumer> {
        let isolation = if opts.read_committed {
            "read_committed"
        } else {
            "read_uncommitted"
        };
        let reset = if opts.from_beginning {
            "earliest"
        } else {
            "latest"
        };
        let reader_group = reader_group(topic);
        let extra: Vec<(&str, &str)> = vec![
            ("isolation.level", isolation),
            ("auto.offset.reset", reset),
            ("session.timeout.ms", "6000"),
            // A member hears that the group rebalances (another member
            // joined) in its next heartbeat's answer, and the group waits
            // for it to join again: at 1 s the second of two consumers
            // started together was assigned ~0.5 s later on average.
            ("heartbeat.interval.ms", "200"),
            // How long the broker holds a fetch that has no new data: a
            // member that stays fetches this often while idle.
            ("fetch.wait.max.ms", "10"),
            // librdkafka wants a group id even for assign(); without a
            // group nothing is joined or committed under it.
            ("group.id", opts.group.as_deref().unwrap_or(&reader_group)),
        ];
        self.consumer(&extra)
    }

    /// Poll until `max` records, the stop flag, the stay time, or every
    /// assigned partition's end; past the deadline, say why.
    fn read_until_done(
        &self,
        c: &BaseConsumer,
        topic: &str,
        partitions: &[i32],
        opts: &ConsumeOptions,
    ) -> Result<Vec<Record>> {
        let started = Instant::now();
        let deadline = started + self.consume_limit(opts);
        let (mut out, mut at_end) = (Vec::new(), BTreeSet::new());
        let max = opts.max.unwrap_or(usize::MAX);
        let mut assigned_once = false;
        loop {
            let stopped = opts
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed));
            if out.len() >= max || stopped {
                break;
            }
            tell_joined(c, partitions, opts);
            let now = Instant::now();
            if let Some(stay) = opts.stay {
                if now >= started + stay || now >= deadline {
                    break;
                }
            } else {
                let assigned = assigned_partitions(c, partitions, opts);
                assigned_once |= !assigned.is_empty();
                if !assigned.is_empty() && assigned.is_subset(&at_end) {
                    break;
                }
                if now >= deadline {
                    return Err(self.late(topic, opts, assigned_once));
                }
            }
            match c.poll(Duration::from_millis(100)) {
                None => {}
                Some(Ok(m)) => {
                    at_end.remove(&m.partition());
                    out.push(record_of(&m));
                }
                Some(Err(RdError::PartitionEOF(p))) => {
                    at_end.insert(p);
                }
                // A connection that dropped (a kept reader's broker was
                // stopped and started again): librdkafka connects again by
                // itself, and the deadline still bounds the read.
                Some(Err(RdError::MessageConsumption(
                    RDKafkaErrorCode::BrokerTransportFailure,
                ))) => {}
                Some(Err(e)) => {
                    return Err(KafkaError::Failed(format!("reading {topic} failed: {e}")));
                }
            }
        }
        Ok(out)
    }

    /// Why a read ran past its deadline.
    fn late(&self, topic: &str, opts: &ConsumeOptions, assigned_once: bool) -> KafkaError {
        let secs = self.consume_limit(opts).as_secs();
        KafkaError::Failed(match &opts.group {
            Some(g) if !assigned_once => {
                format!("the group {g} got no partitions of {topic} within {secs} s")
            }
            _ => format!(
                "reading {topic} did not reach the end within {secs} s (is a partition leader down?)"
            ),
        })
    }

    /// Every record of a topic, read directly (no group), to its current end.
    pub async fn read_all(&self, topic: &str, read_committed: bool) -> Result<Vec<Record>> {
        self.consume(
            topic,
            &ConsumeOptions {
                from_beginning: true,
                read_committed,
                ..Default::default()
            },
        )
        .await
    }

    // ----------------------------------------------------------------- groups

    /// A consumer group: state, members with their assignment, and per
    /// partition the committed offset, end offset and lag. `topics` names the
    /// topics to report offsets for; empty means the assigned topics plus
    /// every other (non-internal) topic on which the group committed.
    pub async fn describe_group(&self, group: &str, topics: &[String]) -> Result<GroupInfo> {
        let group = group.to_string();
        let topics = topics.to_vec();
        self.blocking(self.timeout * 6, move |k| {
            k.describe_group_blocking(&group, &topics)
        })
        .await
    }

    /// A consumer group's state and members with their assignment, without
    /// offsets (`offsets` is empty): one request on the kept admin client,
    /// cheap enough to ask again and again while a group rebalances.
    pub async fn group_members_of(&self, group: &str) -> Result<GroupInfo> {
        let group = group.to_string();
        self.blocking(self.timeout * 4, move |k| {
            let admin = k.admin()?;
            let (state, protocol, members) = k.group_members(admin.inner(), &group)?;
            Ok(GroupInfo {
                group,
                state,
                protocol,
                members,
                offsets: Vec::new(),
            })
        })
        .await
    }

    fn describe_group_blocking(&self, group: &str, topics: &[String]) -> Result<GroupInfo> {
        let admin = self.admin()?;
        let c = admin.inner();
        let md = self.metadata_of(c)?;
        let (state, protocol, members) = self.group_members(c, group)?;
        let explicit = !topics.is_empty();
        let assigned: BTreeSet<String> = members
            .iter()
            .flat_map(|m| m.assignment.iter().map(|a| a.topic.clone()))
            .collect();
        let mut wanted: BTreeSet<String> = topics.iter().cloned().collect();
        if !explicit {
            wanted.extend(assigned.iter().cloned());
            let names = md.topics().iter().map(|t| t.name().to_string());
            wanted.extend(names.filter(|n| !n.starts_with("__")));
        }
        let mut partitions = Vec::new();
        for t in md.topics().iter().filter(|t| wanted.contains(t.name())) {
            for p in t.partitions() {
                partitions.push((t.name().to_string(), p.id()));
            }
        }
        let mut offsets = Vec::new();
        for (topic, parts) in self.committed_by_topic(c, group, &partitions)? {
            let keep =
                explicit || assigned.contains(&topic) || parts.iter().any(|(_, o)| o.is_some());
            if keep {
                offsets.extend(self.lags(c, &topic, parts)?);
            }
        }
        offsets.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(GroupInfo {
            group: group.to_string(),
            state,
            protocol,
            members,
            offsets,
        })
    }

    /// The group's state, protocol and members ("Dead" and none when the
    /// broker does not know it).
    fn group_members<C: rdkafka::client::ClientContext>(
        &self,
        c: &rdkafka::client::Client<C>,
        group: &str,
    ) -> Result<(String, String, Vec<GroupMember>)> {
        // As for committed offsets: a fresh or busy broker's coordinator may
        // still be loading or moving; ask again for a while.
        let deadline = Instant::now() + self.timeout * 2;
        let list = loop {
            match c.fetch_group_list(Some(group), self.timeout) {
                Err(RdError::GroupListFetch(code))
                    if coordinator_moving(code) && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(200));
                }
                other => break other,
            }
        }
        .map_err(|e| match e {
            RdError::GroupListFetch(
                RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::AllBrokersDown,
            ) => self.unreachable(),
            other => KafkaError::Failed(format!("cannot describe group {group}: {other}")),
        })?;
        let Some(g) = list.groups().iter().find(|g| g.name() == group) else {
            return Ok(("Dead".to_string(), String::new(), Vec::new()));
        };
        let members = g
            .members()
            .iter()
            .map(|m| GroupMember {
                id: m.id().to_string(),
                client_id: m.client_id().to_string(),
                host: m.client_host().to_string(),
                assignment: m.assignment().map(parse_assignment).unwrap_or_default(),
            })
            .collect();
        Ok((g.state().to_string(), g.protocol().to_string(), members))
    }

    /// The group's committed offsets of the partitions in `tpl`, by topic.
    fn committed_by_topic<C: ClientContext>(
        &self,
        c: &Client<C>,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<Committed> {
        let mut by_topic = Committed::new();
        if partitions.is_empty() {
            return Ok(by_topic);
        }
        // A group's coordinator moves or is still loading the offsets
        // topic on a fresh or busy broker: ask again for a while.
        let deadline = Instant::now() + self.timeout * 3;
        let committed = loop {
            match offsets::committed(c, group, partitions, self.timeout) {
                Err(code) if coordinator_moving(code) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                other => break other,
            }
        }
        .map_err(|code| match code {
            RDKafkaErrorCode::OperationTimedOut | RDKafkaErrorCode::RequestTimedOut => {
                self.unreachable()
            }
            other => KafkaError::Failed(format!(
                "cannot read the committed offsets of group {group}: {other}"
            )),
        })?;
        for (topic, partition, offset) in committed {
            by_topic.entry(topic).or_default().push((partition, offset));
        }
        Ok(by_topic)
    }

    /// Committed offset, end and lag per partition of one topic.
    fn lags<C: ClientContext>(
        &self,
        c: &Client<C>,
        topic: &str,
        parts: Vec<(i32, Option<i64>)>,
    ) -> Result<Vec<GroupOffset>> {
        let marks = self.watermarks_blocking(c, topic)?;
        Ok(parts
            .into_iter()
            .map(|(p, off)| {
                let (lo, end) = marks
                    .iter()
                    .find(|m| m.0 == p)
                    .map_or((0, 0), |m| (m.1, m.2));
                GroupOffset {
                    topic: topic.to_string(),
                    partition: p,
                    committed: off,
                    end,
                    lag: (end - off.unwrap_or(lo)).max(0),
                }
            })
            .collect())
    }
}

/// The group id a consumer that joins no group carries (librdkafka wants
/// one even for assign()): named after the topic, so it lies in the
/// topic's namespace (a shared cluster lets a learner use only their own
/// groups). A kept reader carries the one of the first topic it read, in
/// the same namespace as every topic its login may read.
fn reader_group(topic: &str) -> String {
    format!("{topic}.datalab-reader")
}

/// Per topic, (partition, committed offset if any).
type Committed = BTreeMap<String, Vec<(i32, Option<i64>)>>;

/// Decode a member's assignment (Kafka's consumer protocol: version i16,
/// then [topic: string, partitions: [i32]], then user data). Unreadable
/// bytes give an empty assignment.
pub(crate) fn parse_assignment(bytes: &[u8]) -> Vec<Assignment> {
    fn read_assignment(b: &[u8]) -> Option<Vec<Assignment>> {
        let mut pos = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let s = b.get(pos..pos + n)?;
            pos += n;
            Some(s)
        };
        let _version = i16::from_be_bytes(take(2)?.try_into().ok()?);
        let topics = i32::from_be_bytes(take(4)?.try_into().ok()?);
        let mut out = Vec::new();
        for _ in 0..topics.max(0) {
            let len = i16::from_be_bytes(take(2)?.try_into().ok()?);
            let topic = String::from_utf8_lossy(take(len.max(0) as usize)?).into_owned();
            let n = i32::from_be_bytes(take(4)?.try_into().ok()?);
            let mut partitions = Vec::new();
            for _ in 0..n.max(0) {
                partitions.push(i32::from_be_bytes(take(4)?.try_into().ok()?));
            }
            partitions.sort();
            out.push(Assignment { topic, partitions });
        }
        Some(out)
    }
    read_assignment(bytes).unwrap_or_default()
}

/// Queue one record, waiting while the producer's queue is full.
fn send_waiting(
    producer: &FutureProducer,
    topic: &str,
    r: &NewRecord,
) -> Result<rdkafka::producer::DeliveryFuture> {
    let mut rec = FutureRecord::to(topic).payload(&r.value);
    if let Some(k) = &r.key {
        rec = rec.key(k);
    }
    loop {
        match producer.send_result(rec) {
            Ok(f) => return Ok(f),
            Err((RdError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                rec = back;
                producer.poll(Duration::from_millis(50));
            }
            Err((e, _)) => return Err(KafkaError::Failed(format!("cannot send to {topic}: {e}"))),
        }
    }
}

/// Join the group (subscribe) or read every partition directly (assign),
/// from the beginning or the end.
fn start_reading(
    c: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
    opts: &ConsumeOptions,
) -> Result<()> {
    if opts.group.is_some() {
        return c
            .subscribe(&[topic])
            .map_err(|e| KafkaError::Failed(format!("cannot subscribe to {topic}: {e}")));
    }
    let start = if opts.from_beginning {
        Offset::Beginning
    } else {
        Offset::End
    };
    let mut tpl = TopicPartitionList::new();
    for p in partitions {
        tpl.add_partition_offset(topic, *p, start)
            .map_err(|e| KafkaError::Failed(e.to_string()))?;
    }
    c.assign(&tpl)
        .map_err(|e| KafkaError::Failed(format!("cannot read {topic}: {e}")))
}

/// The first partitions a group member is assigned, told once to whoever
/// waits for them (a `consume --detach`).
fn tell_joined(c: &BaseConsumer, partitions: &[i32], opts: &ConsumeOptions) {
    let Some(joined) = opts.joined.as_ref().filter(|j| j.get().is_none()) else {
        return;
    };
    let mine = assigned_partitions(c, partitions, opts);
    if !mine.is_empty() {
        let _ = joined.set(mine.into_iter().collect());
    }
}

/// The partitions this consumer reads now (a group's current assignment).
fn assigned_partitions(
    c: &BaseConsumer,
    partitions: &[i32],
    opts: &ConsumeOptions,
) -> BTreeSet<i32> {
    if opts.group.is_none() {
        return partitions.iter().copied().collect();
    }
    c.assignment()
        .map(|t| t.elements().iter().map(|e| e.partition()).collect())
        .unwrap_or_default()
}

fn record_of(m: &rdkafka::message::BorrowedMessage<'_>) -> Record {
    Record {
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        value: m
            .payload()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default(),
        timestamp_ms: m.timestamp().to_millis(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_login_reaches_a_scripts_environment() {
        assert!(login_env("10.9.8.7:9092").is_empty());
        let login = crate::auth::Login {
            user: "ada".into(),
            password: "s3cret".into(),
        };
        crate::auth::register("10.9.8.7:9092", &login);
        let env: HashMap<String, String> = login_env("10.9.8.7:9092").into_iter().collect();
        assert_eq!(env.len(), 4);
        assert_eq!(env["DATALAB_KAFKA_SECURITY_PROTOCOL"], "SASL_PLAINTEXT");
        assert_eq!(env["DATALAB_KAFKA_SASL_MECHANISM"], "SCRAM-SHA-512");
        assert_eq!(env["DATALAB_KAFKA_SASL_USERNAME"], "ada");
        assert_eq!(env["DATALAB_KAFKA_SASL_PASSWORD"], "s3cret");
    }

    #[test]
    fn assignment_bytes_decode() {
        let mut b = vec![0, 1, 0, 0, 0, 1, 0, 6];
        b.extend_from_slice(b"orders");
        b.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            parse_assignment(&b),
            vec![Assignment {
                topic: "orders".into(),
                partitions: vec![0, 2]
            }]
        );
        assert!(parse_assignment(&[0, 1, 0]).is_empty());
    }

    #[test]
    fn lines_split_on_tab() {
        assert_eq!(
            NewRecord::from_line("c1\t{\"a\":1}", None),
            NewRecord {
                key: Some("c1".into()),
                value: "{\"a\":1}".into()
            }
        );
        assert_eq!(
            NewRecord::from_line("x", Some("k")).key.as_deref(),
            Some("k")
        );
    }
}
