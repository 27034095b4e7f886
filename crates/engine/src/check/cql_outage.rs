//! `cql_node_failure`: consistency levels against a real node failure.
//!
//! On a three-node Cassandra cluster the check stops node 3, then node 2,
//! and during each outage writes and reads one row at ONE, QUORUM and ALL,
//! always through node 1 (the seed, never stopped) as coordinator, so the
//! answers come from Cassandra's own replica count and not from the driver
//! trying another node. Then it starts both nodes again, whatever happened,
//! waits until ALL works, and reads back at ALL the rows written while they
//! were down. Finally it compares what happened with the learner's answers.
//!
//! As it goes it appends [`Event`]s, one JSON object a line, to the file
//! named by [`EVENTS_ENV`] in the run's environment, so the lab screen's CQL
//! panel can show nodes going down and each level's result live.

use super::{Check, CheckContext, Outcome};
use async_trait::async_trait;
use datalab_clients::cql;
use datalab_content::checks::cql::CqlNodeFailure;
use datalab_content::checks::generic::Format;
use datalab_services::ServiceKind;
use scylla::client::execution_profile::{ExecutionProfile, ExecutionProfileHandle};
use scylla::client::session::Session;
use scylla::errors::{DbError, ExecutionError, RequestAttemptError};
use scylla::policies::load_balancing::{NodeIdentifier, SingleTargetLoadBalancingPolicy};
use scylla::statement::Consistency;
use scylla::statement::unprepared::Statement;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The environment variable naming the live events file.
pub const EVENTS_ENV: &str = "DATALAB_CQL_OUTAGE_EVENTS";

/// One thing the check did or saw.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Node `node` (1-based) was stopped (`up: false`) or answers again.
    Node { node: u32, up: bool },
    /// A write then a read at `level` with `down` nodes down.
    Level {
        down: u32,
        level: String,
        ok: bool,
        why: String,
    },
}

/// Where events go (nowhere when the run names no file).
struct Sink(Option<std::path::PathBuf>);

impl Sink {
    fn from_env(env: &[(String, String)]) -> Sink {
        Sink(
            (env.iter().rev())
                .find(|(k, _)| k == EVENTS_ENV)
                .map(|(_, v)| v.into()),
        )
    }

    fn send(&self, e: &Event) {
        use std::io::Write;
        let Some(p) = &self.0 else { return };
        let Ok(line) = serde_json::to_string(e) else {
            return;
        };
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(p)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// The levels the step asks about, in order.
const LEVELS: [&str; 3] = ["ONE", "QUORUM", "ALL"];

/// The two outages: the answer file's key, how many nodes are down, in words.
const OUTAGES: [(&str, u32, &str); 2] = [
    ("one_node_down", 1, "one node down"),
    ("two_nodes_down", 2, "two nodes down"),
];

/// How long the check waits for the coordinator to notice a stopped node,
/// or for a restarted one to serve again (a busy 2-core laptop is slow).
const SETTLE: Duration = Duration::from_secs(120);

fn level(name: &str) -> Consistency {
    match name {
        "ONE" => Consistency::One,
        "QUORUM" => Consistency::Quorum,
        _ => Consistency::All,
    }
}

/// Replicas a level needs out of 3.
fn needed(name: &str) -> u32 {
    match name {
        "ONE" => 1,
        "QUORUM" => 2,
        _ => 3,
    }
}

/// What one request did.
#[derive(Clone, Debug, PartialEq)]
enum Answer {
    /// It ran; a read's first column, when it found a row.
    Ok(Option<String>),
    /// Cassandra refused it before trying: too few replicas alive.
    Unavailable(String),
    /// Too few replicas answered in time (the coordinator had not yet
    /// noticed a node was gone).
    Timeout(String),
    /// Anything else (connection lost, schema error…).
    Other(String),
}

impl Answer {
    fn ok(&self) -> bool {
        matches!(self, Answer::Ok(_))
    }
    fn why(&self) -> String {
        match self {
            Answer::Ok(_) => "succeeded".into(),
            Answer::Unavailable(m) => format!("Unavailable: {m}"),
            Answer::Timeout(m) => format!("timed out: {m}"),
            Answer::Other(m) => m.clone(),
        }
    }
}

/// The learner's answers: outage key → level → succeeds?
type Answers = BTreeMap<&'static str, BTreeMap<&'static str, bool>>;

/// Read `one_node_down:` / `two_nodes_down:` → `ONE|QUORUM|ALL: succeeds|fails`.
fn parse_answers(v: &serde_json::Value, file: &str) -> Result<Answers, String> {
    let mut out = Answers::new();
    for (key, _, words) in OUTAGES {
        let Some(map) = v.get(key).and_then(|m| m.as_object()) else {
            return Err(format!(
                "{file} needs `{key}:` with ONE, QUORUM and ALL, each `succeeds` or `fails` (what happens with {words})"
            ));
        };
        let mut levels = BTreeMap::new();
        for lvl in LEVELS {
            let found = map.iter().find(|(k, _)| k.trim().eq_ignore_ascii_case(lvl));
            let Some((_, val)) = found else {
                return Err(format!("{file}: `{key}:` has no answer for {lvl}"));
            };
            let text = match val {
                serde_json::Value::Bool(b) => (if *b { "succeeds" } else { "fails" }).to_string(),
                serde_json::Value::String(s) => s.trim().to_ascii_lowercase(),
                other => other.to_string(),
            };
            let ok = match text.as_str() {
                "succeeds" | "succeed" | "success" | "works" | "ok" => true,
                "fails" | "fail" | "failure" | "unavailable" => false,
                t if t.contains("todo") => {
                    return Err(format!("{file} is not answered yet ({key}: {lvl} is TODO)"));
                }
                t => {
                    return Err(format!(
                        "{file}: `{key}: {lvl}: {t}` — answer `succeeds` or `fails`"
                    ));
                }
            };
            levels.insert(lvl, ok);
        }
        out.insert(key, levels);
    }
    Ok(out)
}

/// Replication factor of a keyspace's `replication` map as the server
/// prints it (`{class: …SimpleStrategy, replication_factor: 3}` or, for
/// NetworkTopologyStrategy, one count per data centre).
fn replication_factor(map: &str) -> Option<u32> {
    let inner = map.trim().trim_start_matches('{').trim_end_matches('}');
    let mut total = 0;
    let mut any = false;
    for pair in inner.split(',') {
        let Some((k, v)) = pair.split_once(':') else {
            continue;
        };
        let k = k.trim();
        if k == "class" {
            continue;
        }
        if let Ok(n) = v.trim().parse::<u32>() {
            // SimpleStrategy: replication_factor; NTS: one entry per DC.
            total += n;
            any = true;
        }
    }
    any.then_some(total)
}

/// A session whose every request is coordinated by `node` (never retried
/// elsewhere), with generous timeouts.
struct Coordinator {
    session: std::sync::Arc<Session>,
    profile: ExecutionProfileHandle,
    timeout: Duration,
}

impl Coordinator {
    async fn new(address: &str, node: SocketAddr, timeout: Duration) -> Result<Self, Outcome> {
        let session = cql::own_session(address, timeout)
            .await
            .map_err(|e| Outcome::error(e.to_string()))?;
        let timeout = timeout.max(Duration::from_secs(10));
        let profile = ExecutionProfile::builder()
            .load_balancing_policy(SingleTargetLoadBalancingPolicy::new(
                NodeIdentifier::NodeAddress(node),
                None,
            ))
            .request_timeout(Some(timeout))
            .build()
            .into_handle();
        Ok(Coordinator {
            session,
            profile,
            timeout,
        })
    }

    async fn run(&self, q: &str, c: Consistency) -> Answer {
        let mut st = Statement::new(q);
        st.set_consistency(c);
        st.set_execution_profile_handle(Some(self.profile.clone()));
        let res = tokio::time::timeout(
            self.timeout + Duration::from_secs(2),
            self.session.query_unpaged(st, &[]),
        )
        .await;
        let res = match res {
            Err(_) => return Answer::Timeout(format!("no answer within {:?}", self.timeout)),
            Ok(Err(e)) => return classify(e),
            Ok(Ok(r)) => r,
        };
        if !res.is_rows() {
            return Answer::Ok(None);
        }
        let first = res
            .into_rows_result()
            .ok()
            .and_then(|rows| {
                rows.rows::<(Option<String>,)>()
                    .ok()
                    .and_then(|mut it| it.next())
            })
            .and_then(|r| r.ok())
            .and_then(|(v,)| v);
        Answer::Ok(first)
    }
}

fn classify(e: ExecutionError) -> Answer {
    let text = e.to_string();
    match &e {
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(d, m)) => match d {
            DbError::Unavailable { .. } => Answer::Unavailable(m.clone()),
            DbError::ReadTimeout { .. } | DbError::WriteTimeout { .. } => {
                Answer::Timeout(m.clone())
            }
            _ => Answer::Other(m.clone()),
        },
        ExecutionError::RequestTimeout(_) => Answer::Timeout(text),
        _ => Answer::Other(text),
    }
}

/// What one level did during one outage: the write, then the read.
fn outcome_of(write: &Answer, read: &Answer) -> Answer {
    if !write.ok() {
        return write.clone();
    }
    read.clone()
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The check's own rows in the learner's table.
fn row_id(outage: &str, lvl: &str) -> String {
    format!("datalab-check-{outage}-{}", lvl.to_ascii_lowercase())
}

struct Trial<'a> {
    c: &'a Coordinator,
    table: String,
}

impl Trial<'_> {
    fn write(&self, id: &str, lvl: &str, note: &str) -> String {
        format!(
            "INSERT INTO {} (id, message) VALUES ({}, {})",
            self.table,
            lit(id),
            lit(&format!("written at {lvl} with {note}"))
        )
    }

    fn read(&self, id: &str) -> String {
        format!("SELECT message FROM {} WHERE id = {}", self.table, lit(id))
    }

    /// Write and read one row at `lvl`.
    async fn level(&self, outage: &str, lvl: &str, note: &str) -> Answer {
        let id = row_id(outage, lvl);
        let w = self.c.run(&self.write(&id, lvl, note), level(lvl)).await;
        let r = if w.ok() {
            self.c.run(&self.read(&id), level(lvl)).await
        } else {
            w.clone()
        };
        outcome_of(&w, &r)
    }

    /// Wait until the coordinator knows a level cannot be had: `lvl` answers
    /// Unavailable (a stopped node is gossiped down within seconds; until
    /// then writes time out instead).
    async fn until_unavailable(&self, lvl: &str) -> Result<(), String> {
        let deadline = Instant::now() + SETTLE;
        let probe = self.write("datalab-check-probe", lvl, "a probe");
        loop {
            match self.c.run(&probe, level(lvl)).await {
                Answer::Unavailable(_) => return Ok(()),
                a if Instant::now() > deadline => {
                    return Err(format!(
                        "node 1 did not see the stopped node(s) as down within {SETTLE:?}: a write at {lvl} {}",
                        a.why()
                    ));
                }
                _ => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }

    /// Wait until a level works again (every node back).
    async fn until_ok(&self, lvl: &str) -> Result<(), String> {
        let deadline = Instant::now() + SETTLE;
        let probe = self.write("datalab-check-probe", lvl, "every node up");
        loop {
            match self.c.run(&probe, level(lvl)).await {
                Answer::Ok(_) => return Ok(()),
                a if Instant::now() > deadline => {
                    return Err(format!(
                        "a write at {lvl} still fails after {SETTLE:?}: {}",
                        a.why()
                    ));
                }
                _ => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }
}

/// What happened: outage key → level → answer.
type Results = BTreeMap<&'static str, BTreeMap<&'static str, Answer>>;

/// The learner's answers against what happened; one sentence per wrong one.
fn compare(answers: &Answers, results: &Results) -> Vec<String> {
    let mut wrong = Vec::new();
    for (key, _, words) in OUTAGES {
        for lvl in LEVELS {
            let (Some(said), Some(got)) = (
                answers.get(key).and_then(|m| m.get(lvl)),
                results.get(key).and_then(|m| m.get(lvl)),
            ) else {
                continue;
            };
            if *said != got.ok() {
                wrong.push(if *said {
                    format!(
                        "you said {lvl} succeeds with {words}, but it failed ({})",
                        got.why()
                    )
                } else {
                    format!("you said {lvl} fails with {words}, but it succeeded")
                });
            }
        }
    }
    wrong
}

/// Did the cluster behave as three replicas must? (Not the learner's
/// doing when it did not: the check then reports an error.)
fn surprises(results: &Results) -> Vec<String> {
    let mut odd = Vec::new();
    for (key, down, words) in OUTAGES {
        for lvl in LEVELS {
            let Some(got) = results.get(key).and_then(|m| m.get(lvl)) else {
                continue;
            };
            let should = 3 - down >= needed(lvl);
            if should != got.ok() {
                odd.push(format!("{lvl} with {words}: {}", got.why()));
            }
        }
    }
    odd
}

fn summary(results: &Results) -> String {
    OUTAGES
        .iter()
        .map(|(key, _, words)| {
            let levels: Vec<String> = LEVELS
                .iter()
                .map(|l| {
                    let ok = (results.get(key).and_then(|m| m.get(l))).is_some_and(Answer::ok);
                    format!("{l} {}", if ok { "ok" } else { "fails" })
                })
                .collect();
            format!("{words}: {}", levels.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The learner's file, keyspace and table, before anything is stopped.
async fn preflight(
    spec: &CqlNodeFailure,
    ctx: &CheckContext,
    c: &Coordinator,
) -> Result<(), Outcome> {
    let this = spec;
    let fail = |m: String| Outcome::fail(m).in_file(&this.file);
    let text = std::fs::read_to_string(ctx.ws(&this.file))
        .map_err(|e| fail(format!("cannot read {}: {e}", this.file)))?;
    let stmts = cql::split(&text).map_err(|(l, m)| fail(format!("{}:{l}: {m}", this.file)))?;
    // The level in force at the first write must be QUORUM.
    let mut current = "ONE".to_string();
    let mut at_write = None;
    for s in &stmts {
        match cql::parse_command(&s.text) {
            Ok(cql::Command::Consistency(Some(l))) => current = l,
            _ if s
                .text
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("INSERT") =>
            {
                at_write.get_or_insert(current.clone());
            }
            _ => {}
        }
    }
    match at_write.as_deref() {
        None => {
            return Err(fail(format!(
                "{} writes nothing: add INSERTs into {}.{} after `CONSISTENCY QUORUM;`",
                this.file, this.keyspace, this.table
            )));
        }
        Some("QUORUM") => {}
        Some(l) => {
            return Err(fail(format!(
                "{} writes at {l}; set `CONSISTENCY QUORUM;` before the INSERTs",
                this.file
            )));
        }
    }
    let ks = ctx.namespace.keyspace(&this.keyspace);
    let q = format!(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = {}",
        lit(&ks)
    );
    let rows = cql::execute(&c.session, &q, Consistency::One, c.timeout)
        .await
        .map_err(|e| Outcome::error(e.to_string()))?;
    let Some(map) = rows.rows.first().and_then(|r| r.first().cloned().flatten()) else {
        return Err(fail(format!("there is no keyspace {}", this.keyspace)));
    };
    match replication_factor(&map) {
        Some(3) => {}
        rf => {
            return Err(fail(format!(
                "keyspace {} keeps {} copies ({map}); this step needs 3, one on each node",
                this.keyspace,
                rf.map(|n| n.to_string()).unwrap_or_else(|| "?".into())
            )));
        }
    }
    let table = format!("{ks}.{}", this.table);
    let count = c
        .run(
            &format!("SELECT id FROM {table} LIMIT 1000"),
            Consistency::One,
        )
        .await;
    match count {
        Answer::Ok(Some(_)) => Ok(()),
        Answer::Ok(None) => Err(fail(format!(
            "{}.{} is empty: insert a few events at QUORUM",
            this.keyspace, this.table
        ))),
        Answer::Other(m) => Err(fail(format!(
            "cannot read {}.{} (id text PRIMARY KEY, message text): {m}",
            this.keyspace, this.table
        ))),
        a => Err(Outcome::error(format!(
            "cannot read {}.{}: {}",
            this.keyspace,
            this.table,
            a.why()
        ))),
    }
}

/// Stop node 3, then node 2, trying every level during each outage.
async fn outages(ctx: &CheckContext, t: &Trial<'_>, sink: &Sink) -> Result<Results, Outcome> {
    {
        let mut results = Results::new();
        for (key, down, words) in OUTAGES {
            // Node indexes 2, then 1: node 0 coordinates and stays up.
            let index = 3 - down;
            ctx.services
                .stop_node(ServiceKind::Cassandra, index)
                .await
                .map_err(|e| Outcome::error(format!("cannot stop node {}: {e}", index + 1)))?;
            sink.send(&Event::Node {
                node: index + 1,
                up: false,
            });
            // With one node down ALL cannot be had; with two, QUORUM.
            let probe = if down == 1 { "ALL" } else { "QUORUM" };
            t.until_unavailable(probe).await.map_err(Outcome::error)?;
            let mut levels = BTreeMap::new();
            for lvl in LEVELS {
                let a = t.level(key, lvl, words).await;
                sink.send(&Event::Level {
                    down,
                    level: lvl.to_string(),
                    ok: a.ok(),
                    why: a.why(),
                });
                levels.insert(lvl, a);
            }
            results.insert(key, levels);
        }
        Ok(results)
    }
}

#[async_trait]
impl Check for CqlNodeFailure {
    fn describe(&self) -> String {
        format!(
            "with nodes down, ONE, QUORUM and ALL do what {} says; the nodes catch up after restart",
            self.answers
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let afail = |m: String| Outcome::fail(m).in_file(&self.answers);
        let v = match super::generic::read_parsed(ctx, &self.answers, Format::Yaml) {
            Ok(v) => v,
            Err(o) => return o,
        };
        let answers = match parse_answers(&v, &self.answers) {
            Ok(a) => a,
            Err(m) => return afail(m),
        };
        let ep = match ctx.endpoint(ServiceKind::Cassandra).await {
            Ok(ep) => ep,
            Err(e) => return e.into(),
        };
        let points = ep.cassandra_contact_points();
        if points.len() < 3 {
            return Outcome::error(format!(
                "Cassandra runs {} node(s), this step needs 3: `datalab services up cassandra --nodes 3`",
                points.len()
            ));
        }
        let Ok(node0) = points[0].parse::<SocketAddr>() else {
            return Outcome::error(format!("cannot read node 1's address {}", points[0]));
        };
        // A run cut short (a killed process) may have left nodes down.
        for index in [1, 2] {
            if let Err(e) = ctx.services.start_node(ServiceKind::Cassandra, index).await {
                return Outcome::error(format!("node {} is down and cannot start: {e}", index + 1));
            }
        }
        let c = match Coordinator::new(&ep.address, node0, ctx.timeout).await {
            Ok(c) => c,
            Err(o) => return o,
        };
        // Three processes are not yet three nodes of one ring.
        let peers = cql::execute(
            &c.session,
            "SELECT data_center FROM system.peers",
            Consistency::One,
            c.timeout,
        )
        .await;
        match peers {
            Ok(rows) if rows.rows.len() >= 2 => {}
            Ok(rows) => {
                return Outcome::error(format!(
                    "node 1 knows {} other node(s), not 2: the nodes did not form one cluster (see `datalab services logs cassandra`)",
                    rows.rows.len()
                ));
            }
            Err(e) => return Outcome::error(e.to_string()),
        }
        if let Err(o) = preflight(self, ctx, &c).await {
            return o;
        }
        let sink = Sink::from_env(&ctx.env);
        let ks = ctx.namespace.keyspace(&self.keyspace);
        let t = Trial {
            c: &c,
            table: format!("{ks}.{}", self.table),
        };
        // Every node serves before the first one is stopped.
        if let Err(e) = t.until_ok("ALL").await {
            return Outcome::error(format!("the cluster is not healthy before the test: {e}"));
        }
        let during = outages(ctx, &t, &sink).await;
        // Bring every node back, whatever happened.
        let mut restart_err = None;
        for index in [1, 2] {
            match ctx.services.start_node(ServiceKind::Cassandra, index).await {
                Ok(()) => sink.send(&Event::Node {
                    node: index + 1,
                    up: true,
                }),
                Err(e) => {
                    restart_err.get_or_insert(format!("cannot restart node {}: {e}", index + 1));
                }
            }
        }
        if let Some(e) = restart_err {
            return Outcome::error(e);
        }
        let results = match during {
            Ok(r) => r,
            Err(o) => return o,
        };
        if let Err(e) = t.until_ok("ALL").await {
            return Outcome::error(format!("after restarting nodes 2 and 3: {e}"));
        }
        // What was written at QUORUM while node 3 was down, now read from
        // all three replicas (node 3 got it from hints or read repair).
        let id = row_id("one_node_down", "quorum");
        let caught_up = match c.run(&t.read(&id), Consistency::All).await {
            Answer::Ok(Some(m)) => m,
            a => {
                return Outcome::error(format!(
                    "after the restart, the row written at QUORUM with one node down is not readable at ALL: {}",
                    match a {
                        Answer::Ok(None) => "it is missing".to_string(),
                        a => a.why(),
                    }
                ));
            }
        };
        let odd = surprises(&results);
        if !odd.is_empty() {
            return Outcome::error(format!(
                "the cluster did not behave as three replicas should ({}); see `datalab services logs cassandra`",
                odd.join("; ")
            ));
        }
        let wrong = compare(&answers, &results);
        if !wrong.is_empty() {
            return afail(format!(
                "{}. What happened: {}",
                wrong.join("; "),
                summary(&results)
            ));
        }
        Outcome::pass(format!(
            "{}; after restarting nodes 2 and 3, ALL works again and reads \"{caught_up}\" (written while node 3 was down)",
            summary(&results)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(one: [bool; 3], two: [bool; 3]) -> Results {
        let mut r = Results::new();
        for ((key, _, _), oks) in OUTAGES.iter().zip([one, two]) {
            let m = LEVELS
                .iter()
                .zip(oks)
                .map(|(l, ok)| {
                    let a = if ok {
                        Answer::Ok(None)
                    } else {
                        Answer::Unavailable("Cannot achieve consistency level".into())
                    };
                    (*l, a)
                })
                .collect();
            r.insert(*key, m);
        }
        r
    }

    #[test]
    fn answers_parse_and_compare() {
        let v: serde_json::Value = serde_json::json!({
            "one_node_down": {"ONE": "succeeds", "QUORUM": "fails", "ALL": "fails"},
            "two_nodes_down": {"one": true, "quorum": "fails", "all": "fails"},
        });
        let a = parse_answers(&v, "outage.yaml").unwrap();
        let r = results([true, true, false], [true, false, false]);
        assert!(surprises(&r).is_empty());
        let wrong = compare(&a, &r);
        assert_eq!(
            wrong,
            vec!["you said QUORUM fails with one node down, but it succeeded"]
        );
        let todo = serde_json::json!({"one_node_down": {"ONE": "TODO"}});
        assert!(
            parse_answers(&todo, "outage.yaml")
                .unwrap_err()
                .contains("not answered")
        );
        let odd = results([true, true, true], [true, false, false]);
        assert_eq!(surprises(&odd).len(), 1);
    }

    #[test]
    fn replication_factors() {
        assert_eq!(
            replication_factor(
                "{class: org.apache.cassandra.locator.SimpleStrategy, replication_factor: 3}"
            ),
            Some(3)
        );
        assert_eq!(
            replication_factor(
                "{class: org.apache.cassandra.locator.NetworkTopologyStrategy, datacenter1: 3}"
            ),
            Some(3)
        );
        assert_eq!(replication_factor("{class: x}"), None);
    }
}
