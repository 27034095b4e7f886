//! Cassandra check kinds: real CQL through the scylla driver against the
//! learner's keyspace (`<namespace>_<keyspace>`), compared with the checker's
//! own computation over the lab's trusted data.

use super::{Check, CheckContext, Outcome};
use async_trait::async_trait;
use datalab_clients::cql::{self, CqlError, Rows, Runner};
use datalab_content::checks::cql::*;
use datalab_services::ServiceKind;
use scylla::client::session::Session;
use scylla::statement::Consistency;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

async fn session(ctx: &CheckContext) -> Result<Arc<Session>, Outcome> {
    let ep = ctx
        .endpoint(ServiceKind::Cassandra)
        .await
        .map_err(Outcome::from)?;
    cql::session(&ep.address, ctx.timeout)
        .await
        .map_err(|e| Outcome::error(e.to_string()))
}

async fn query(ctx: &CheckContext, s: &Session, q: &str) -> Result<Rows, Outcome> {
    cql::execute(s, q, Consistency::One, ctx.timeout)
        .await
        .map_err(|e| match e {
            CqlError::Server { message, .. } => {
                Outcome::fail(format!("the server refused `{q}`: {message}"))
            }
            other => Outcome::error(other.to_string()),
        })
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `fields` of a learner's table from `system_schema.columns`; a table that
/// does not exist is the learner's failure, pointed at `file`.
async fn table_columns(
    ctx: &CheckContext,
    s: &Session,
    keyspace: &str,
    table: &str,
    fields: &str,
    file: &str,
) -> Result<Rows, Outcome> {
    let rows = query(
        ctx,
        s,
        &format!(
            "SELECT {fields} FROM system_schema.columns WHERE keyspace_name = {} AND table_name = {}",
            lit(&ctx.namespace.keyspace(keyspace)),
            lit(table)
        ),
    )
    .await?;
    if rows.rows.is_empty() {
        return Err(Outcome::fail(format!("there is no table {keyspace}.{table}")).in_file(file));
    }
    Ok(rows)
}

/// Normalise a value so the dataset's text and the server's print alike.
pub(crate) fn norm(s: &str) -> String {
    let t = s.trim();
    if t.len() >= 16
        && t.contains(':')
        && let Some(ms) = cql::parse_timestamp(t)
    {
        return cql::fmt_timestamp(ms);
    }
    if t.len() == 10
        && let Some(d) = cql::parse_date(t)
    {
        return cql::fmt_date(d);
    }
    if let Ok(f) = t.parse::<f64>() {
        return cql::fmt_double(f);
    }
    t.to_string()
}

/// The lab's CSV: header and rows.
fn csv(ctx: &CheckContext, file: &str) -> Result<(Vec<String>, Vec<Vec<String>>), Outcome> {
    let text = std::fs::read_to_string(ctx.lab_data.join(file))
        .map_err(|e| Outcome::error(format!("lab data {file} is missing: {e}")))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head = cql::csv_fields(lines.next().unwrap_or(""));
    Ok((head, lines.map(cql::csv_fields).collect()))
}

// ---------------------------------------------------------------- keyspace

#[async_trait]
impl Check for CqlKeyspace {
    fn describe(&self) -> String {
        format!(
            "keyspace {} replicates {} time(s)",
            self.keyspace, self.replication_factor
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let s = match session(ctx).await {
            Ok(s) => s,
            Err(o) => return o,
        };
        let ks = ctx.namespace.keyspace(&self.keyspace);
        let rows = match query(
            ctx,
            &s,
            &format!(
                "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = {}",
                lit(&ks)
            ),
        )
        .await
        {
            Ok(r) => r,
            Err(o) => return o,
        };
        let fail = |m: String| Outcome::fail(m).in_file(&self.file);
        let Some(Some(repl)) = rows.rows.first().map(|r| r[0].clone()) else {
            return fail(format!(
                "there is no keyspace {} (system_schema.keyspaces has no row for {ks})",
                self.keyspace
            ));
        };
        // "{class: org.apache.cassandra.locator.SimpleStrategy, replication_factor: 1}"
        let map: BTreeMap<String, String> = repl
            .trim_matches(['{', '}'])
            .split(", ")
            .filter_map(|kv| kv.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let class = map.get("class").cloned().unwrap_or_default();
        let short = class.rsplit('.').next().unwrap_or("").to_string();
        let rf: u32 = match short.as_str() {
            "SimpleStrategy" => map
                .get("replication_factor")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            "NetworkTopologyStrategy" => map
                .iter()
                .filter(|(k, _)| *k != "class")
                .filter_map(|(_, v)| v.parse::<u32>().ok())
                .sum(),
            _ => 0,
        };
        if rf != self.replication_factor {
            return fail(format!(
                "keyspace {} uses {short} with {rf} replica(s) ({repl}); expected {} — this cluster has one node, so more replicas than nodes make QUORUM writes fail",
                self.keyspace, self.replication_factor
            ));
        }
        Outcome::pass(format!(
            "{} uses {short} with replication factor {rf}",
            self.keyspace
        ))
    }
}

// ---------------------------------------------------------------- table

#[async_trait]
impl Check for CqlTable {
    fn describe(&self) -> String {
        format!(
            "{}.{} has PRIMARY KEY (({}), {})",
            self.keyspace,
            self.table,
            self.partition_key.join(", "),
            self.clustering.join(", ")
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let s = match session(ctx).await {
            Ok(s) => s,
            Err(o) => return o,
        };
        let fields = "column_name, kind, position, clustering_order";
        let rows =
            match table_columns(ctx, &s, &self.keyspace, &self.table, fields, &self.file).await {
                Ok(r) => r,
                Err(o) => return o,
            };
        let fail = |m: String| Outcome::fail(m).in_file(&self.file);
        let mut pk: Vec<(i64, String)> = Vec::new();
        let mut ck: Vec<(i64, String)> = Vec::new();
        for r in &rows.rows {
            let name = r[0].clone().unwrap_or_default();
            let pos: i64 = r[2].as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
            match r[1].as_deref() {
                Some("partition_key") => pk.push((pos, name)),
                Some("clustering") => {
                    ck.push((pos, format!("{name} {}", r[3].clone().unwrap_or_default())))
                }
                _ => {}
            }
        }
        pk.sort();
        ck.sort();
        let pk: Vec<String> = pk.into_iter().map(|p| p.1).collect();
        let ck: Vec<String> = ck.into_iter().map(|p| p.1.to_lowercase()).collect();
        let want_ck: Vec<String> = self.clustering.iter().map(|c| c.to_lowercase()).collect();
        if pk != self.partition_key {
            return fail(format!(
                "{}'s partition key is ({}), expected ({}) — the partition key decides which node holds a row and what a query must name",
                self.table,
                pk.join(", "),
                self.partition_key.join(", ")
            ));
        }
        if ck != want_ck {
            return fail(format!(
                "{}'s clustering columns are [{}], expected [{}] (WITH CLUSTERING ORDER BY sets asc/desc)",
                self.table,
                ck.join(", "),
                want_ck.join(", ")
            ));
        }
        Outcome::pass(format!(
            "{} is keyed (({}), {})",
            self.table,
            pk.join(", "),
            ck.join(", ")
        ))
    }
}

// ---------------------------------------------------------------- counts

#[async_trait]
impl Check for CqlPartitionCounts {
    fn describe(&self) -> String {
        format!(
            "every ({}) partition of {} has its rows",
            self.partition_key.join(", "),
            self.table
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let (head, rows) = match csv(ctx, &self.data) {
            Ok(c) => c,
            Err(o) => return o,
        };
        let idx: Vec<usize> = self
            .partition_key
            .iter()
            .filter_map(|k| head.iter().position(|h| h == k))
            .collect();
        let mut want: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        for r in &rows {
            *want
                .entry(idx.iter().map(|&i| r[i].clone()).collect())
                .or_default() += 1;
        }
        let s = match session(ctx).await {
            Ok(s) => s,
            Err(o) => return o,
        };
        let ks = ctx.namespace.keyspace(&self.keyspace);
        let qs: Vec<String> = want
            .keys()
            .map(|k| {
                let conds: Vec<String> = self
                    .partition_key
                    .iter()
                    .zip(k)
                    .map(|(c, v)| format!("{c} = {}", lit(v)))
                    .collect();
                format!(
                    "SELECT COUNT(*) FROM {ks}.{} WHERE {}",
                    self.table,
                    conds.join(" AND ")
                )
            })
            .collect();
        let results = futures::future::join_all(qs.iter().map(|q| query(ctx, &s, q))).await;
        for ((key, n), r) in want.iter().zip(results) {
            let got: usize = match r {
                Ok(r) => r
                    .rows
                    .first()
                    .and_then(|x| x[0].as_deref()?.parse().ok())
                    .unwrap_or(0),
                Err(o) => return o.in_file(&self.file),
            };
            if got != *n {
                return Outcome::fail(format!(
                    "partition ({}) of {} has {got} rows, expected {n} (the rows of {} for it){}",
                    key.join(", "),
                    self.table,
                    self.data,
                    if got == 0 {
                        " — has the step's command loaded the data?"
                    } else {
                        ""
                    }
                ))
                .in_file(&self.file);
            }
        }
        Outcome::pass(format!(
            "{} partitions, {} rows, all as in {}",
            want.len(),
            rows.len(),
            self.data
        ))
    }
}

// ---------------------------------------------------------------- queries

fn answer(q: &Question, head: &[String], rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let col = |n: &str| head.iter().position(|h| h == n);
    let (oc, desc) = match q.order.split_once(' ') {
        Some((c, d)) => (c.to_string(), d.eq_ignore_ascii_case("desc")),
        None => (q.order.clone(), false),
    };
    let key = |r: &Vec<String>| col(&oc).map(|i| norm(&r[i])).unwrap_or_default();
    let mut sel: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| {
            q.where_
                .iter()
                .all(|(c, v)| col(c).is_some_and(|i| norm(&r[i]) == norm(v)))
        })
        .filter(|r| {
            match (
                &q.range_column,
                col(q.range_column.as_deref().unwrap_or("")),
            ) {
                (Some(_), Some(i)) => {
                    let v = norm(&r[i]);
                    q.from.as_ref().is_none_or(|f| v >= norm(f))
                        && q.to.as_ref().is_none_or(|t| v < norm(t))
                }
                _ => true,
            }
        })
        .collect();
    sel.sort_by_key(|r| key(r));
    if desc {
        sel.reverse();
    }
    if let Some(l) = q.limit {
        sel.truncate(l);
    }
    sel.iter()
        .map(|r| {
            q.columns
                .iter()
                .map(|c| col(c).map(|i| norm(&r[i])).unwrap_or_default())
                .collect()
        })
        .collect()
}

/// Does a statement say ALLOW FILTERING (outside strings)?
fn allows_filtering(stmt: &str) -> bool {
    let up = stmt.to_ascii_uppercase();
    let mut in_str = false;
    let mut cleaned = String::new();
    for c in up.chars() {
        if c == '\'' {
            in_str = !in_str;
        } else if !in_str {
            cleaned.push(c);
        }
    }
    cleaned
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w == ["ALLOW", "FILTERING"])
}

/// The statements of a learner's CQL file; Err: what to say (cannot read,
/// or `file:line: …` for an unterminated string or comment).
fn read_statements(ctx: &CheckContext, file: &str) -> Result<Vec<cql::Stmt>, String> {
    let text =
        std::fs::read_to_string(ctx.ws(file)).map_err(|e| format!("cannot read {file}: {e}"))?;
    cql::split(&text).map_err(|(l, m)| format!("{file}:{l}: {m}"))
}

#[async_trait]
impl Check for CqlQueries {
    fn describe(&self) -> String {
        format!(
            "the {} queries in {} answer their questions",
            self.questions.len(),
            self.file
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let fail = |m: String| Outcome::fail(m).in_file(&self.file);
        let stmts = match read_statements(ctx, &self.file) {
            Ok(s) => s,
            Err(m) => return fail(m),
        };
        if let Some(s) = stmts.iter().find(|s| allows_filtering(&s.text)) {
            return fail(format!(
                "{}:{}: ALLOW FILTERING makes Cassandra read whole partitions or the whole table; answer the question from the partition key and clustering columns instead",
                self.file, s.line
            ));
        }
        let selects: Vec<&cql::Stmt> = stmts
            .iter()
            .filter(|s| {
                s.text
                    .trim_start()
                    .to_ascii_uppercase()
                    .starts_with("SELECT")
            })
            .collect();
        if selects.len() != self.questions.len() {
            return fail(format!(
                "{} has {} SELECT statements, expected {} (one per question, in order)",
                self.file,
                selects.len(),
                self.questions.len()
            ));
        }
        let (head, rows) = match csv(ctx, &self.data) {
            Ok(c) => c,
            Err(o) => return o,
        };
        let s = match session(ctx).await {
            Ok(s) => s,
            Err(o) => return o,
        };
        let mut runner = Runner::new(s, ctx.namespace.clone(), &ctx.workspace, ctx.timeout);
        let run = match runner.run_stmts(&stmts, &self.file).await {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let results: Vec<&(String, usize, Rows)> = run
            .results
            .iter()
            .filter(|(c, _, _)| c.trim_start().to_ascii_uppercase().starts_with("SELECT"))
            .collect();
        for (qi, (q, (_, line, got))) in self.questions.iter().zip(results).enumerate() {
            let want = answer(q, &head, &rows);
            let idx: Vec<Option<usize>> = q.columns.iter().map(|c| got.col(c)).collect();
            if idx.iter().any(Option::is_none) {
                return fail(format!(
                    "{}:{line}: question {} returns columns [{}], expected at least [{}]",
                    self.file,
                    qi + 1,
                    got.columns.join(", "),
                    q.columns.join(", ")
                ));
            }
            let have: Vec<Vec<String>> = got
                .rows
                .iter()
                .map(|r| {
                    idx.iter()
                        .map(|i| norm(r[i.unwrap_or(0)].as_deref().unwrap_or("")))
                        .collect()
                })
                .collect();
            if have != want {
                let first_diff = have.iter().zip(&want).position(|(a, b)| a != b);
                return fail(format!(
                    "{}:{line}: question {} returns {} rows, expected {}{}",
                    self.file,
                    qi + 1,
                    have.len(),
                    want.len(),
                    match first_diff {
                        Some(i) => format!(
                            "; row {} is ({}), expected ({})",
                            i + 1,
                            have[i].join(", "),
                            want[i].join(", ")
                        ),
                        None => String::new(),
                    }
                ));
            }
        }
        Outcome::pass(format!(
            "all {} queries return what the data says",
            self.questions.len()
        ))
    }
}

// ---------------------------------------------------------------- agree

#[async_trait]
impl Check for CqlTablesAgree {
    fn describe(&self) -> String {
        format!("{} and {} hold the same rows", self.table, self.other)
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let s = match session(ctx).await {
            Ok(s) => s,
            Err(o) => return o,
        };
        let ks = ctx.namespace.keyspace(&self.keyspace);
        let cols = self.columns.join(", ");
        let mut sets = Vec::new();
        for t in [&self.table, &self.other] {
            match query(ctx, &s, &format!("SELECT {cols} FROM {ks}.{t}")).await {
                Ok(r) => sets.push(
                    r.rows
                        .iter()
                        .map(|r| {
                            r.iter()
                                .map(|v| norm(v.as_deref().unwrap_or("")))
                                .collect::<Vec<_>>()
                        })
                        .collect::<BTreeSet<_>>(),
                ),
                Err(o) => return o.in_file(&self.file),
            }
        }
        let missing = sets[0].difference(&sets[1]).count();
        let extra = sets[1].difference(&sets[0]).count();
        if missing == 0 && extra == 0 && !sets[0].is_empty() {
            return Outcome::pass(format!("both tables hold the same {} rows", sets[0].len()));
        }
        let example = sets[0]
            .difference(&sets[1])
            .next()
            .map(|r| format!(" e.g. ({})", r.join(", ")))
            .unwrap_or_default();
        Outcome::fail(format!(
            "{} has {} rows, {} has {}: {missing} rows of {} are missing from {}{example}, {extra} are extra — write every reading to both tables",
            self.table,
            sets[0].len(),
            self.other,
            sets[1].len(),
            self.table,
            self.other
        ))
        .in_file(&self.file)
    }
}

// ---------------------------------------------------------------- TTL

#[async_trait]
impl Check for CqlTtl {
    fn describe(&self) -> String {
        format!("rows of {} expire after {} s", self.table, self.ttl)
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let s = match session(ctx).await {
            Ok(s) => s,
            Err(o) => return o,
        };
        let ks = ctx.namespace.keyspace(&self.keyspace);
        let cols = match table_columns(
            ctx,
            &s,
            &self.keyspace,
            &self.table,
            "column_name, kind",
            &self.file,
        )
        .await
        {
            Ok(r) => r,
            Err(o) => return o,
        };
        let fail = |m: String| Outcome::fail(m).in_file(&self.file);
        let Some(col) = cols
            .rows
            .iter()
            .find(|r| r[1].as_deref() == Some("regular"))
            .and_then(|r| r[0].clone())
        else {
            return fail(format!(
                "{} has no regular (non-key) column, so nothing can carry a TTL",
                self.table
            ));
        };
        let rows = match query(
            ctx,
            &s,
            &format!("SELECT TTL({col}) FROM {ks}.{}", self.table),
        )
        .await
        {
            Ok(r) => r,
            Err(o) => return o,
        };
        if rows.rows.len() < self.min_rows {
            return fail(format!(
                "{} has {} rows, expected at least {}",
                self.table,
                rows.rows.len(),
                self.min_rows
            ));
        }
        for r in &rows.rows {
            let t: Option<i64> = r[0].as_deref().and_then(|v| v.parse().ok());
            match t {
                Some(t) if t <= self.ttl && t >= self.ttl - self.tolerance => {}
                Some(t) => {
                    return fail(format!(
                        "a row of {} has TTL({col}) = {t} s, expected about {} s (a day)",
                        self.table, self.ttl
                    ));
                }
                None => {
                    return fail(format!(
                        "a row of {} has no TTL on {col}: write it with USING TTL {} or give the table default_time_to_live",
                        self.table, self.ttl
                    ));
                }
            }
        }
        Outcome::pass(format!(
            "all {} rows of {} expire within a day",
            rows.rows.len(),
            self.table
        ))
    }
}

// ---------------------------------------------------------------- LWT

#[async_trait]
impl Check for CqlLwt {
    fn describe(&self) -> String {
        format!(
            "the INSERT … IF NOT EXISTS in {} applies only once",
            self.file
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let fail = |m: String| Outcome::fail(m).in_file(&self.file);
        let stmts = match read_statements(ctx, &self.file) {
            Ok(s) => s,
            Err(m) => return fail(m),
        };
        let Some(ins) = stmts.iter().find(|s| {
            let u = s.text.to_ascii_uppercase();
            u.trim_start().starts_with("INSERT")
                && u.split_whitespace()
                    .collect::<Vec<_>>()
                    .windows(3)
                    .any(|w| w == ["IF", "NOT", "EXISTS"])
        }) else {
            return fail(format!("{} has no INSERT … IF NOT EXISTS", self.file));
        };
        let s = match session(ctx).await {
            Ok(s) => s,
            Err(o) => return o,
        };
        let mut runner = Runner::new(s, ctx.namespace.clone(), &ctx.workspace, ctx.timeout);
        let mut applied = Vec::new();
        for _ in 0..2 {
            match runner.run(&ins.text).await {
                Ok((_, rows)) => applied.push(rows.applied()),
                Err(e) => return fail(format!("{}:{}: {e}", self.file, ins.line)),
            }
        }
        match applied[1] {
            Some(false) => Outcome::pass(
                "the second registration answered [applied] = false: the row was not overwritten",
            ),
            Some(true) => fail(format!(
                "{}:{}: the second run answered [applied] = true",
                self.file, ins.line
            )),
            None => fail(format!(
                "{}:{}: the INSERT returned no [applied] column: it is not a lightweight transaction",
                self.file, ins.line
            )),
        }
    }
}

// ---------------------------------------------------------------- consistency

/// Replicas a level needs out of `rf`.
fn replicas_needed(level: &str, rf: u32) -> Option<u32> {
    Some(match level {
        "ANY" | "ONE" | "LOCAL_ONE" => 1,
        "TWO" => 2,
        "THREE" => 3,
        "QUORUM" | "LOCAL_QUORUM" | "EACH_QUORUM" => rf / 2 + 1,
        "ALL" => rf,
        _ => return None,
    })
}

#[async_trait]
impl Check for CqlConsistency {
    fn describe(&self) -> String {
        format!(
            "{} and {} pick working, overlapping consistency levels",
            self.answers, self.file
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let v = match super::generic::read_parsed(
            ctx,
            &self.answers,
            datalab_content::checks::generic::Format::Yaml,
        ) {
            Ok(v) => v,
            Err(o) => return o,
        };
        let afail = |m: String| Outcome::fail(m).in_file(&self.answers);
        let get = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .map(|s| s.trim().to_ascii_uppercase())
        };
        let (Some(read), Some(write)) = (get("read"), get("write")) else {
            return afail(format!(
                "{} needs `read:` and `write:` levels",
                self.answers
            ));
        };
        if read.contains("TODO") || write.contains("TODO") {
            return afail(format!("{} is not answered yet", self.answers));
        }
        let (Some(r), Some(w)) = (replicas_needed(&read, 3), replicas_needed(&write, 3)) else {
            return afail(format!(
                "unknown level in {}: read {read}, write {write}",
                self.answers
            ));
        };
        if read == "ANY" {
            return afail("ANY is a write-only level".into());
        }
        for (what, lvl, n) in [("reads", &read, r), ("writes", &write, w)] {
            if n > 2 {
                return afail(format!(
                    "with one of 3 replicas down only 2 answer, but {lvl} needs {n}: {what} would fail"
                ));
            }
        }
        if r + w <= 3 {
            return afail(format!(
                "read {read} ({r} replica) + write {write} ({w}) = {} ≤ 3: a read may miss the latest write; pick levels whose replicas overlap (R + W > RF)",
                r + w
            ));
        }
        // Now the query file, at its level, on this one-node cluster.
        let fail = |m: String| Outcome::fail(m).in_file(&self.file);
        let stmts = match read_statements(ctx, &self.file) {
            Ok(s) => s,
            Err(m) => return fail(m),
        };
        let set = stmts
            .iter()
            .filter_map(|s| match cql::parse_command(&s.text) {
                Ok(cql::Command::Consistency(Some(l))) => Some(l),
                _ => None,
            })
            .next_back();
        let Some(set) = set else {
            return fail(format!(
                "{} does not set a level: start it with `CONSISTENCY {read};`",
                self.file
            ));
        };
        if set != read {
            return fail(format!(
                "{} runs at {set}, but {} says reads use {read}",
                self.file, self.answers
            ));
        }
        if replicas_needed(&read, 1).unwrap_or(1) > 1 {
            return Outcome::pass(format!(
                "read {read} + write {write} survive one of 3 replicas down and overlap; {read} cannot run on this one-node cluster, so the query was not run"
            ));
        }
        let s = match session(ctx).await {
            Ok(s) => s,
            Err(o) => return o,
        };
        let mut runner = Runner::new(s, ctx.namespace.clone(), &ctx.workspace, ctx.timeout);
        let run = match runner.run_stmts(&stmts, &self.file).await {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let rows: usize = run.results.iter().map(|(_, _, r)| r.rows.len()).sum();
        if rows == 0 {
            return fail(format!("{} ran at {read} but returned no rows", self.file));
        }
        Outcome::pass(format!(
            "read {read} + write {write}: {r} + {w} > 3 replicas, and both work with one down; the query ran at {read} and returned {rows} rows (on one node with RF 1, {read} needs that one replica)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_filtering_is_seen_outside_strings_only() {
        assert!(allows_filtering(
            "SELECT * FROM t WHERE a > 1 ALLOW\n filtering"
        ));
        assert!(!allows_filtering(
            "SELECT * FROM t WHERE a = 'allow filtering'"
        ));
    }

    #[test]
    fn normalised_values() {
        assert_eq!(norm("2024-03-01T06:15:00Z"), "2024-03-01 06:15:00.000Z");
        assert_eq!(norm("2024-03-01 06:15:00.000Z"), "2024-03-01 06:15:00.000Z");
        assert_eq!(norm("21.40"), "21.4");
        assert_eq!(norm("s-01"), "s-01");
    }
}
