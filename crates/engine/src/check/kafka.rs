//! Kafka check kinds: they read the broker's real state (metadata, topic
//! configs, records, group offsets) through [`datalab_clients::kafka`].
//!
//! Names in `lab.yaml` are the learner's short names (`orders`); the checks
//! apply the run's namespace. Messages use the short names, say what was seen
//! and what was expected, and point at the learner's file (`file:`) when it
//! is the cause. A broker that does not answer is `Status::Error`.

use super::{Check, CheckContext, Outcome};
use async_trait::async_trait;
use datalab_clients::kafka::{GroupInfo, Kafka, KafkaError, Record, TopicInfo};
use datalab_content::checks::generic::Format;
use datalab_content::checks::kafka::*;
use datalab_services::ServiceKind;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// The broker of this run.
pub(super) async fn client(ctx: &CheckContext) -> Result<Kafka, Outcome> {
    let ep = ctx
        .endpoint(ServiceKind::Kafka)
        .await
        .map_err(Outcome::from)?;
    Ok(Kafka::new(ep.kafka_bootstrap(), ctx.timeout))
}

/// Attach the learner's file to a failure.
pub(super) fn blame(o: Outcome, file: &Option<String>) -> Outcome {
    match file {
        Some(f) if o.status == super::Status::Fail => o.in_file(f),
        _ => o,
    }
}

/// A client error as an outcome: a missing topic is the learner's (fail),
/// anything else is the service's (error).
pub(super) fn kafka_err(ctx: &CheckContext, e: KafkaError, short: &str) -> Outcome {
    match e {
        KafkaError::NoTopic(_) => Outcome::fail(format!("topic {short} does not exist")),
        other => {
            let text = other.to_string();
            let ns = ctx.namespace.as_str();
            Outcome::error(if ns.is_empty() {
                text
            } else {
                text.replace(&format!("{ns}_"), "")
            })
        }
    }
}

pub(super) async fn topic_info(
    ctx: &CheckContext,
    k: &Kafka,
    short: &str,
) -> Result<TopicInfo, Outcome> {
    match k.describe_topic(&ctx.namespace.topic(short), true).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(Outcome::fail(format!("topic {short} does not exist"))),
        Err(e) => Err(kafka_err(ctx, e, short)),
    }
}

pub(super) async fn records(
    ctx: &CheckContext,
    k: &Kafka,
    short: &str,
    read_committed: bool,
) -> Result<Vec<Record>, Outcome> {
    k.read_all(&ctx.namespace.topic(short), read_committed)
        .await
        .map_err(|e| kafka_err(ctx, e, short))
}

/// Lines of a trusted lab data file.
fn data_lines(ctx: &CheckContext, rel: &str) -> Result<Vec<String>, Outcome> {
    let p = ctx.lab_data.join(rel);
    let text = std::fs::read_to_string(&p).map_err(|e| {
        Outcome::error(format!(
            "the lab's data file {} cannot be read: {e}",
            p.display()
        ))
    })?;
    Ok(text
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.trim().is_empty())
        .collect())
}

fn json_lines(ctx: &CheckContext, rel: &str) -> Result<Vec<serde_json::Value>, Outcome> {
    data_lines(ctx, rel)?
        .iter()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                Outcome::error(format!("lab data {rel}:{}:{}: {e}", i + 1, e.column()))
            })
        })
        .collect()
}

fn field_str(v: &serde_json::Value, field: &str) -> Option<String> {
    match v.get(field)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

pub(super) fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

// ------------------------------------------------------------------ topic

#[async_trait]
impl Check for TopicCheck {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.partitions {
            parts.push(plural(p, "partition"));
        }
        if let Some(r) = self.replication_factor {
            parts.push(format!("replication factor {r}"));
        }
        for (k, v) in &self.configs {
            parts.push(format!("{k}={v}"));
        }
        if parts.is_empty() {
            format!("topic {} exists", self.topic)
        } else {
            format!("topic {} has {}", self.topic, parts.join(", "))
        }
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let k = client(ctx).await?;
            let t = topic_info(ctx, &k, &self.topic).await?;
            let n = t.partitions.len();
            if let Some(want) = self.partitions
                && n != want
            {
                return Err(Outcome::fail(format!(
                    "{} has {}, expected {want}",
                    self.topic,
                    plural(n, "partition")
                )));
            }
            let rf = t.replication_factor();
            if let Some(want) = self.replication_factor
                && rf != want
            {
                return Err(Outcome::fail(format!(
                    "{} has replication factor {rf}, expected {want}",
                    self.topic
                )));
            }
            for (key, want) in &self.configs {
                let got = t.configs.get(key).map(String::as_str).unwrap_or("(unset)");
                if got != want {
                    let default = if t.overrides.contains(key) {
                        ""
                    } else {
                        " (the broker's default: not set on the topic)"
                    };
                    return Err(Outcome::fail(format!(
                        "{} has {key}={got}{default}, expected {key}={want}",
                        self.topic
                    )));
                }
            }
            Ok(Outcome::pass(format!(
                "{}: {}, replication factor {rf}{}",
                self.topic,
                plural(n, "partition"),
                self.configs
                    .keys()
                    .map(|k| format!(", {k}={}", t.configs.get(k).cloned().unwrap_or_default()))
                    .collect::<String>()
            )))
        }
        .await;
        blame(out.unwrap_or_else(|o| o), &self.file)
    }
}

// ---------------------------------------------------------- keyed records

#[async_trait]
impl Check for KeyedRecords {
    fn describe(&self) -> String {
        format!(
            "{} holds every record of {} keyed by {}, in order per key",
            self.topic, self.data, self.key_field
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let want = json_lines(ctx, &self.data)?;
            let k = client(ctx).await?;
            let got = records(ctx, &k, &self.topic, false).await?;
            if got.len() != want.len() {
                let more = if got.len() > want.len() {
                    " (running the producer again adds the file again: start from an empty topic)"
                } else {
                    ""
                };
                return Err(Outcome::fail(format!(
                    "{} has {}, expected {} (one per line of {}){more}",
                    self.topic,
                    plural(got.len(), "record"),
                    want.len(),
                    self.data
                )));
            }
            let mut parsed = Vec::with_capacity(got.len());
            for r in &got {
                let v: serde_json::Value = serde_json::from_str(&r.value).map_err(|_| {
                    Outcome::fail(format!(
                        "{} partition {} offset {} is not a JSON line of {}: {:?}",
                        self.topic, r.partition, r.offset, self.data, r.value
                    ))
                })?;
                parsed.push(v);
            }
            let canon = |v: &serde_json::Value| v.to_string();
            let mut a: Vec<String> = want.iter().map(canon).collect();
            let mut b: Vec<String> = parsed.iter().map(canon).collect();
            a.sort();
            b.sort();
            if let Some(missing) = a.iter().find(|x| b.binary_search(x).is_err()) {
                return Err(Outcome::fail(format!(
                    "{} is missing records of {}, e.g. {missing}",
                    self.topic, self.data
                )));
            }
            // Keys.
            let mut parts_of: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
            for (r, v) in got.iter().zip(&parsed) {
                let expect = field_str(v, &self.key_field);
                if r.key != expect {
                    return Err(Outcome::fail(format!(
                        "{} partition {} offset {} has key {}, expected {} (its {})",
                        self.topic,
                        r.partition,
                        r.offset,
                        r.key
                            .as_deref()
                            .map(|k| format!("{k:?}"))
                            .unwrap_or_else(|| "none".into()),
                        expect
                            .as_deref()
                            .map(|k| format!("{k:?}"))
                            .unwrap_or_else(|| "none".into()),
                        self.key_field
                    )));
                }
                if let Some(key) = &r.key {
                    parts_of.entry(key.clone()).or_default().insert(r.partition);
                }
            }
            if let Some((key, ps)) = parts_of.iter().find(|(_, ps)| ps.len() > 1) {
                return Err(Outcome::fail(format!(
                    "the records of {} {key} are spread over partitions {:?}, expected one partition",
                    self.key_field, ps
                )));
            }
            // Per-key order within a partition.
            if let Some(seq) = &self.seq_field {
                let mut order: Vec<(&Record, &serde_json::Value)> = got.iter().zip(&parsed).collect();
                order.sort_by_key(|(r, _)| (r.partition, r.offset));
                let mut last: BTreeMap<String, (f64, i64)> = BTreeMap::new();
                for (r, v) in order {
                    let Some(key) = &r.key else { continue };
                    let s = v.get(seq).and_then(|x| x.as_f64()).unwrap_or(f64::NAN);
                    if let Some((prev, prev_off)) = last.get(key)
                        && s.partial_cmp(prev) != Some(std::cmp::Ordering::Greater)
                    {
                        return Err(Outcome::fail(format!(
                            "{} {key}: {seq} {s} at partition {} offset {} comes after {seq} {prev} at offset {prev_off}, expected increasing {seq} (produce the file in order)",
                            self.key_field, r.partition, r.offset
                        )));
                    }
                    last.insert(key.clone(), (s, r.offset));
                }
            }
            let counts: BTreeMap<i32, usize> = got.iter().fold(BTreeMap::new(), |mut m, r| {
                *m.entry(r.partition).or_insert(0) += 1;
                m
            });
            Ok(Outcome::pass(format!(
                "{} records, {} keys, per partition {:?}",
                got.len(),
                parts_of.len(),
                counts
            )))
        }
        .await;
        blame(out.unwrap_or_else(|o| o), &self.file)
    }
}

// ----------------------------------------------------------------- totals

#[async_trait]
impl Check for Totals {
    fn describe(&self) -> String {
        format!(
            "{} has the {} per {} of {}",
            self.path, self.sum_field, self.key_field, self.topic
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let k = client(ctx).await?;
            // As `datalab kafka consume` reads by default (the same records
            // on a topic without transactions), with the kept reader the
            // other checks of the lab use.
            let got = records(ctx, &k, &self.topic, false).await?;
            let mut truth: BTreeMap<String, f64> = BTreeMap::new();
            for r in &got {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.value) else {
                    continue;
                };
                if let Some(key) = field_str(&v, &self.key_field) {
                    *truth.entry(key).or_insert(0.0) += v
                        .get(&self.sum_field)
                        .and_then(|x| x.as_f64())
                        .unwrap_or(0.0);
                }
            }
            if truth.is_empty() {
                return Err(Outcome::fail(format!(
                    "{} has no records with a {}: nothing to total",
                    self.topic, self.key_field
                )));
            }
            let v = super::generic::read_parsed(ctx, &self.path, Format::Json)?;
            let obj = v.as_object().ok_or_else(|| {
                Outcome::fail(format!(
                    "{} is not a JSON object of {} → total",
                    self.path, self.key_field
                ))
                .in_file(&self.path)
            })?;
            for (key, want) in &truth {
                let Some(g) = obj.get(key) else {
                    return Err(Outcome::fail(format!(
                        "{} has no total for {} {key}, expected {want:.2}",
                        self.path, self.key_field
                    ))
                    .in_file(&self.path));
                };
                let g = g
                    .as_f64()
                    .or_else(|| g.as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or(f64::NAN);
                if (g - want).abs().partial_cmp(&0.01) != Some(std::cmp::Ordering::Less) {
                    return Err(Outcome::fail(format!(
                        "{} says {} {key} totals {g}, the records of {} add up to {want:.2}",
                        self.path, self.key_field, self.topic
                    ))
                    .in_file(&self.path));
                }
            }
            if let Some(extra) = obj.keys().find(|k| !truth.contains_key(*k)) {
                return Err(Outcome::fail(format!(
                    "{} has a total for {extra:?}, which has no record in {}",
                    self.path, self.topic
                ))
                .in_file(&self.path));
            }
            Ok(Outcome::pass(format!(
                "{} totals match {} records",
                truth.len(),
                got.len()
            )))
        }
        .await;
        out.unwrap_or_else(|o| o)
    }
}

// -------------------------------------------------------------- group lag

fn lag_table(g: &GroupInfo) -> String {
    g.offsets
        .iter()
        .map(|o| {
            format!(
                "p{}: committed {} end {} lag {}",
                o.partition,
                o.committed
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into()),
                o.end,
                o.lag
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

async fn group_on(ctx: &CheckContext, group: &str, topic: &str) -> Result<GroupInfo, Outcome> {
    let k = client(ctx).await?;
    // The topic must exist for its offsets to mean anything.
    topic_info(ctx, &k, topic).await?;
    k.describe_group(&ctx.namespace.group(group), &[ctx.namespace.topic(topic)])
        .await
        .map_err(|e| kafka_err(ctx, e, topic))
}

#[async_trait]
impl Check for GroupLag {
    fn describe(&self) -> String {
        match (self.lag, self.consumed) {
            (_, Some(c)) => format!(
                "group {} committed {c} records of {} and its lag is the rest",
                self.group, self.topic
            ),
            (Some(l), None) => format!(
                "group {} has lag {l} on every partition of {}",
                self.group, self.topic
            ),
            _ => format!("group {} has committed on {}", self.group, self.topic),
        }
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let g = group_on(ctx, &self.group, &self.topic).await?;
            if g.offsets.iter().all(|o| o.committed.is_none()) {
                return Err(Outcome::fail(format!(
                    "group {} has no committed offsets on {}: consume with --group {} and commit",
                    self.group, self.topic, self.group
                )));
            }
            if let Some(want) = self.lag {
                for o in &g.offsets {
                    if o.lag != want || (o.committed.is_none() && o.end > 0) {
                        return Err(Outcome::fail(format!(
                            "group {} has lag {} on {} partition {} (committed {}, end {}), expected {want}",
                            self.group,
                            o.lag,
                            self.topic,
                            o.partition,
                            o.committed.map(|c| c.to_string()).unwrap_or_else(|| "nothing".into()),
                            o.end
                        )));
                    }
                }
            }
            if let Some(want) = self.consumed {
                let done = g.committed_total();
                let end: i64 = g.offsets.iter().map(|o| o.end).sum();
                if done != want {
                    return Err(Outcome::fail(format!(
                        "group {} committed {done} records of {}, expected {want} (lag {} of {end}; {})",
                        self.group,
                        self.topic,
                        g.total_lag(),
                        lag_table(&g)
                    )));
                }
                if g.total_lag() != end - want {
                    return Err(Outcome::fail(format!(
                        "group {} has total lag {} on {}, expected {} ({})",
                        self.group,
                        g.total_lag(),
                        self.topic,
                        end - want,
                        lag_table(&g)
                    )));
                }
            }
            Ok(Outcome::pass(format!(
                "group {}: total lag {} ({})",
                self.group,
                g.total_lag(),
                lag_table(&g)
            )))
        }
        .await;
        blame(out.unwrap_or_else(|o| o), &self.file)
    }
}

// ------------------------------------------------------------ group split

/// What a split looks like, or why it is not one.
fn judge_split(
    g: &GroupInfo,
    topic: &str,
    partitions: usize,
    want: usize,
) -> Result<String, String> {
    let mut seen: BTreeMap<i32, usize> = BTreeMap::new();
    let mut per_member = Vec::new();
    for (i, m) in g.members.iter().enumerate() {
        let ps: Vec<i32> = m
            .assignment
            .iter()
            .filter(|a| a.topic == topic)
            .flat_map(|a| a.partitions.clone())
            .collect();
        for p in &ps {
            *seen.entry(*p).or_insert(0) += 1;
        }
        per_member.push(format!("member {} has {:?}", i + 1, ps));
    }
    let desc = if per_member.is_empty() {
        "no members".to_string()
    } else {
        per_member.join(", ")
    };
    if g.members.len() != want {
        return Err(format!(
            "{} ({}; state {}), expected {want} members",
            plural(g.members.len(), "member"),
            desc,
            g.state
        ));
    }
    if let Some((p, n)) = seen.iter().find(|(_, n)| **n > 1) {
        return Err(format!("partition {p} is assigned to {n} members ({desc})"));
    }
    if seen.len() != partitions {
        return Err(format!(
            "{} of {partitions} partitions are assigned ({desc})",
            seen.len()
        ));
    }
    if g.members
        .iter()
        .any(|m| m.assignment.iter().all(|a| a.partitions.is_empty()))
    {
        return Err(format!("a member has no partition ({desc})"));
    }
    Ok(desc)
}

#[async_trait]
impl Check for GroupSplit {
    fn describe(&self) -> String {
        format!(
            "group {} splits the partitions of {} between {} running members",
            self.group, self.topic, self.members
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let k = client(ctx).await?;
            let t = topic_info(ctx, &k, &self.topic).await?;
            let deadline = Instant::now() + Duration::from_secs(self.within);
            let group = ctx.namespace.group(&self.group);
            let topic = ctx.namespace.topic(&self.topic);
            loop {
                let g = k
                    .group_members_of(&group)
                    .await
                    .map_err(|e| kafka_err(ctx, e, &self.topic))?;
                match judge_split(&g, &topic, t.partitions.len(), self.members) {
                    Ok(desc) => {
                        return Ok(Outcome::pass(format!("group {}: {desc}", self.group)));
                    }
                    Err(why) if Instant::now() >= deadline => {
                        return Err(Outcome::fail(format!(
                            "group {} has {why} (watched for {} s after the step's command ended: start the consumers in the background, e.g. `… --stay 30 > out/w1.log 2>&1 &`, so they are still members)",
                            self.group, self.within
                        )));
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
        .await;
        blame(out.unwrap_or_else(|o| o), &self.file)
    }
}

// ---------------------------------------------------------------- ordered

#[async_trait]
impl Check for Ordered {
    fn describe(&self) -> String {
        format!(
            "{} returns the lines of {} in the order written",
            self.topic, self.data
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let want = data_lines(ctx, &self.data)?;
            let k = client(ctx).await?;
            let t = topic_info(ctx, &k, &self.topic).await?;
            if t.partitions.len() != 1 {
                return Err(Outcome::fail(format!(
                    "{} has {}, expected 1: Kafka orders records only within a partition",
                    self.topic,
                    plural(t.partitions.len(), "partition")
                )));
            }
            let got: Vec<String> = records(ctx, &k, &self.topic, false)
                .await?
                .into_iter()
                .map(|r| r.value)
                .collect();
            if got.len() != want.len() {
                return Err(Outcome::fail(format!(
                    "{} has {}, expected {} (the lines of {})",
                    self.topic,
                    plural(got.len(), "record"),
                    want.len(),
                    self.data
                )));
            }
            if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
                return Err(Outcome::fail(format!(
                    "record {} of {} is {:?}, expected {:?} (line {} of {})",
                    i + 1,
                    self.topic,
                    got[i],
                    want[i],
                    i + 1,
                    self.data
                )));
            }
            Ok(Outcome::pass(format!(
                "{} records read back in the order written",
                got.len()
            )))
        }
        .await;
        blame(out.unwrap_or_else(|o| o), &self.file)
    }
}

// ------------------------------------------------------- latest per key

#[async_trait]
impl Check for LatestPerKey {
    fn describe(&self) -> String {
        format!(
            "a compacted read of {} gives the latest {} per {}",
            self.topic, self.data, self.key_field
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let mut want: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            for v in json_lines(ctx, &self.data)? {
                if let Some(k) = field_str(&v, &self.key_field) {
                    want.insert(k, v);
                }
            }
            let k = client(ctx).await?;
            let mut got = records(ctx, &k, &self.topic, false).await?;
            if got.is_empty() {
                return Err(Outcome::fail(format!(
                    "{} has no records, expected the {} profiles of {} (a compacted topic refuses records without a key)",
                    self.topic,
                    want.len(),
                    self.data
                )));
            }
            got.sort_by_key(|r| (r.partition, r.offset));
            let mut latest: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            for r in &got {
                let Some(key) = &r.key else {
                    return Err(Outcome::fail(format!(
                        "{} partition {} offset {} has no key: compaction keeps the latest record per key, so key each profile by its {}",
                        self.topic, r.partition, r.offset, self.key_field
                    )));
                };
                let v = serde_json::from_str(&r.value)
                    .unwrap_or(serde_json::Value::String(r.value.clone()));
                latest.insert(key.clone(), v);
            }
            for (key, w) in &want {
                match latest.get(key) {
                    None => {
                        return Err(Outcome::fail(format!(
                            "{} has no record with key {key:?}",
                            self.topic
                        )));
                    }
                    Some(g) if g != w => {
                        return Err(Outcome::fail(format!(
                            "the latest record of key {key:?} in {} is {g}, expected {w} (its last version in {}; produce the versions in file order)",
                            self.topic, self.data
                        )));
                    }
                    _ => {}
                }
            }
            if let Some(extra) = latest.keys().find(|k| !want.contains_key(*k)) {
                return Err(Outcome::fail(format!(
                    "{} has key {extra:?}, which is no {} in {}",
                    self.topic, self.key_field, self.data
                )));
            }
            Ok(Outcome::pass(format!(
                "{} keys, latest value each ({} records before compaction)",
                latest.len(),
                got.len()
            )))
        }
        .await;
        blame(out.unwrap_or_else(|o| o), &self.file)
    }
}

// -------------------------------------------------------------- isolation

#[async_trait]
impl Check for Isolation {
    fn describe(&self) -> String {
        format!(
            "read_committed sees {} records of {}, read_uncommitted {}",
            self.committed, self.topic, self.total
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let k = client(ctx).await?;
            // The script's last commit or abort may still be being written.
            let full = ctx.namespace.topic(&self.topic);
            k.settle_transactions(&full, std::time::Duration::from_secs(15))
                .await
                .map_err(|e| kafka_err(ctx, e, &self.topic))?;
            let (rc, ru) = tokio::join!(
                records(ctx, &k, &self.topic, true),
                records(ctx, &k, &self.topic, false)
            );
            let (rc, ru) = (rc?.len(), ru?.len());
            if rc != self.committed {
                return Err(Outcome::fail(format!(
                    "a read_committed consumer sees {} of {}, expected {} (the committed transaction)",
                    plural(rc, "record"),
                    self.topic,
                    self.committed
                )));
            }
            if ru != self.total {
                return Err(Outcome::fail(format!(
                    "a read_uncommitted consumer sees {} of {}, expected {} (committed and aborted)",
                    plural(ru, "record"),
                    self.topic,
                    self.total
                )));
            }
            Ok(Outcome::pass(format!(
                "read_committed: {rc}, read_uncommitted: {ru}"
            )))
        }
        .await;
        blame(out.unwrap_or_else(|o| o), &self.file)
    }
}

// --------------------------------------------------------------- failover

fn leaders(t: &TopicInfo) -> String {
    t.partitions
        .iter()
        .map(|p| format!("p{}→{} isr {:?}", p.partition, p.leader, p.isr))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn wait_for(
    f: &Failover,
    ctx: &CheckContext,
    k: &Kafka,
    what: &str,
    ok: impl Fn(&TopicInfo) -> bool,
) -> Result<TopicInfo, Outcome> {
    let deadline = Instant::now() + Duration::from_secs(f.within);
    loop {
        let t = k
            .describe_topic(&ctx.namespace.topic(&f.topic), false)
            .await;
        match t {
            Ok(Some(t)) if ok(&t) => return Ok(t),
            Ok(Some(t)) if Instant::now() >= deadline => {
                return Err(Outcome::error(format!(
                    "{what} did not happen within {} s: {}: {}",
                    f.within,
                    f.topic,
                    leaders(&t)
                )));
            }
            Ok(None) => {
                return Err(Outcome::fail(format!("topic {} does not exist", f.topic)));
            }
            Err(e) if Instant::now() >= deadline => return Err(kafka_err(ctx, e, &f.topic)),
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

async fn during_failure(
    f: &Failover,
    ctx: &CheckContext,
    k: &Kafka,
    bootstrap: &str,
    stopped: i32,
    before: &TopicInfo,
) -> Result<String, Outcome> {
    let moved = wait_for(
        f,
        ctx,
        k,
        &format!("leaders moving off broker {stopped}"),
        |t| {
            t.partitions
                .iter()
                .all(|p| p.leader >= 0 && p.leader != stopped)
        },
    )
    .await?;
    let count = |k: Kafka, topic: String| async move {
        k.watermarks(&topic)
            .await
            .map(|w| w.iter().map(|(_, lo, hi)| hi - lo).sum::<i64>())
    };
    let topic = ctx.namespace.topic(&f.topic);
    // Right after a leader change a client may still ask the stopped
    // broker and time out: retry a few times before calling it an error.
    let count_retrying = |k: Kafka, topic: String| async move {
        let mut n = count(k.clone(), topic.clone()).await;
        for _ in 0..3 {
            if n.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            n = count(k.clone(), topic.clone()).await;
        }
        n
    };
    let n0 = count_retrying(k.clone(), topic.clone())
        .await
        .map_err(|e| kafka_err(ctx, e, &f.topic))?;
    let mut env = crate::lab::step_env(&ctx.namespace, &ctx.lab_data, &ctx.workspace);
    env.extend(crate::lab::kafka_env(bootstrap));
    let out = crate::lab::run_command(
        &f.producer,
        &ctx.workspace,
        &env,
        Duration::from_secs(f.within),
    )
    .await;
    if out.timed_out || out.status != Some(0) {
        let tail = super::generic::tail_lines(&format!("{}{}", out.stdout, out.stderr), 5);
        return Err(Outcome::fail(format!(
            "with broker {stopped} stopped, `{}` {}, expected it to succeed (acks=all needs min.insync.replicas in-sync copies: {} has {}){}",
            f.producer,
            if out.timed_out {
                "did not finish".to_string()
            } else {
                format!(
                    "exited with {}",
                    out.status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "a signal".into())
                )
            },
            f.topic,
            leaders(&moved),
            if tail.is_empty() {
                String::new()
            } else {
                format!("\n{tail}")
            }
        )));
    }
    let n1 = count_retrying(k.clone(), topic)
        .await
        .map_err(|e| kafka_err(ctx, e, &f.topic))?;
    if n1 <= n0 {
        return Err(Outcome::fail(format!(
            "`{}` succeeded but {} still has {n0} records: it produced nothing",
            f.producer, f.topic
        )));
    }
    Ok(format!(
        "stopped broker {stopped} (leaders before: {}; after: {}), the producer wrote {} record(s)",
        leaders(before),
        leaders(&moved),
        n1 - n0
    ))
}
#[async_trait]
impl Check for Failover {
    fn describe(&self) -> String {
        format!(
            "{} survives a broker failure: `{}` still succeeds, leaders move, the ISR recovers",
            self.topic, self.producer
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let ep = ctx.endpoint(ServiceKind::Kafka).await.map_err(Outcome::from)?;
            let k = Kafka::new(ep.kafka_bootstrap(), ctx.timeout);
            let before = topic_info(ctx, &k, &self.topic).await?;
            let rf = before.replication_factor();
            if rf < 3 {
                return Err(Outcome::fail(format!(
                    "{} has replication factor {rf}, expected 3: one broker down would lose partitions",
                    self.topic
                )));
            }
            // With min.insync.replicas >= the replication factor, an acks=all
            // producer fails as soon as one replica is gone: say so without
            // stopping a broker to prove it.
            let misr: usize = before
                .configs
                .get("min.insync.replicas")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            if misr >= rf {
                return Err(Outcome::fail(format!(
                    "{} has min.insync.replicas={misr} with replication factor {rf}: with one broker down only {} copies are in sync, so an acks=all producer would fail; expected min.insync.replicas below {rf} (2)",
                    self.topic,
                    rf - 1
                )));
            }
            let (brokers, _) = k.cluster().await.map_err(|e| kafka_err(ctx, e, &self.topic))?;
            if brokers.len() < 3 {
                return Err(Outcome::error(format!(
                    "the cluster has {} broker(s), this step needs 3: `datalab services up kafka --brokers 3`",
                    brokers.len()
                )));
            }
            if let Some(p) = before.partitions.iter().find(|p| p.isr.len() < rf) {
                return Err(Outcome::error(format!(
                    "{} partition {} has ISR {:?} before the test: the cluster is not healthy",
                    self.topic, p.partition, p.isr
                )));
            }
            // Broker ids are index + 1 (the services layer numbers them so).
            let stopped = before.partitions[0].leader;
            let index = (stopped - 1).max(0) as u32;
            ctx.services
                .stop_kafka_broker(index)
                .await
                .map_err(|e| Outcome::error(format!("cannot stop broker {stopped}: {e}")))?;
            let during = during_failure(self, ctx, &k, ep.kafka_bootstrap(), stopped, &before)
                .await;
            // Always bring the broker back, whatever happened.
            let restarted = ctx.services.start_kafka_broker(index).await;
            if let Err(e) = restarted {
                return Err(Outcome::error(format!("cannot restart broker {stopped}: {e}")));
            }
            let msg = during?;
            let after = wait_for(self, ctx, &k, &format!("broker {stopped} rejoining the ISR"), |t| {
                    t.partitions.iter().all(|p| p.isr.len() >= 3)
                })
                .await?;
            Ok(Outcome::pass(format!(
                "{msg}; broker {stopped} is back and every ISR is complete ({})",
                leaders(&after)
            )))
        }
        .await;
        blame(out.unwrap_or_else(|o| o), &self.file)
    }
}

// ------------------------------------------------------------- lag answer

#[async_trait]
impl Check for LagAnswer {
    fn describe(&self) -> String {
        format!(
            "{} gives the live lag of group {} on {}",
            self.path, self.group, self.topic
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = async {
            let fmt = if self.path.ends_with(".json") {
                Format::Json
            } else {
                Format::Yaml
            };
            let v = super::generic::read_parsed(ctx, &self.path, fmt)?;
            let fail = |m: String| Outcome::fail(m).in_file(&self.path);
            let got = match v.get(&self.key) {
                Some(serde_json::Value::Number(n)) => n.as_f64(),
                Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .ok_or_else(|| {
                fail(format!(
                    "{} has no number under `{}:` (the total lag of group {})",
                    self.path, self.key, self.group
                ))
            })?;
            if let Some(ek) = &self.explain_key {
                let text = v.get(ek).and_then(|x| x.as_str()).unwrap_or("");
                let words = text.split_whitespace().count();
                if words < 8 {
                    return Err(fail(format!(
                        "`{ek}:` in {} has {words} word(s): explain in a sentence or two what the lag means",
                        self.path
                    )));
                }
            }
            let g = group_on(ctx, &self.group, &self.topic).await?;
            if g.offsets.iter().all(|o| o.committed.is_none()) {
                return Err(Outcome::fail(format!(
                    "group {} has no committed offsets on {}: run its step again first (a restart of Kafka with 3 brokers starts from empty topics)",
                    self.group, self.topic
                )));
            }
            let live = g.total_lag();
            if (got - live as f64).abs() > 0.5 {
                return Err(fail(format!(
                    "{} says the lag of {} is {got}, the broker says {live} ({})",
                    self.path,
                    self.group,
                    lag_table(&g)
                )));
            }
            Ok(Outcome::pass(format!("lag {live} matches the broker")))
        }
        .await;
        out.unwrap_or_else(|o| o)
    }
}
