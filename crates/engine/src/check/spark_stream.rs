//! The Spark lab's streaming check: a windowed count from one Kafka topic
//! to another. The checker counts the input topic's records per window
//! itself (from their Kafka timestamps), reads what Spark wrote to the
//! output topic, and reads the query's checkpoint, Spark's own record of
//! the Kafka offsets each micro-batch read.

use super::kafka::{client, kafka_err, records};
use super::spark::{fail, job_failed};
use super::{Check, CheckContext, Outcome};
use async_trait::async_trait;
use datalab_clients::kafka::Record;
use datalab_content::checks::spark::SparkStreamWindows;
use std::collections::BTreeMap;
use std::path::Path;

/// Window start (epoch seconds) → count.
type Windows = BTreeMap<i64, i64>;

/// Partition → offset, as Spark's offset log writes a Kafka source's.
type Offsets = BTreeMap<i32, i64>;

/// The checker's count per window of the input's Kafka timestamps.
fn expected(input: &[Record], window: i64) -> Windows {
    let mut w = Windows::new();
    for r in input {
        if let Some(ms) = r.timestamp_ms {
            *w.entry(ms.div_euclid(window * 1000) * window).or_default() += 1;
        }
    }
    w
}

/// The latest count of each window in the output, in log order.
fn latest(output: &[Record]) -> Result<Windows, String> {
    let mut sorted: Vec<&Record> = output.iter().collect();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    let mut w = Windows::new();
    for r in sorted {
        let v: serde_json::Value = serde_json::from_str(&r.value).unwrap_or_default();
        match (v["start"].as_i64(), v["count"].as_i64()) {
            (Some(s), Some(c)) => w.insert(s, c),
            _ => {
                return Err(format!(
                    "record {}@{} is {:?}, not {{\"start\": <epoch seconds>, \"count\": n}}",
                    r.partition, r.offset, r.value
                ));
            }
        };
    }
    Ok(w)
}

/// The first window whose count is wrong, said as lost or counted twice.
fn compare(want: &Windows, got: &Windows) -> Option<String> {
    for (start, n) in want {
        match got.get(start) {
            None => return Some(format!("window {start} ({n} records) is missing: lost")),
            Some(g) if g > n => {
                return Some(format!(
                    "window {start} has count {g} but the topic has {n} records in it: counted twice"
                ));
            }
            Some(g) if g < n => {
                return Some(format!(
                    "window {start} has count {g} but the topic has {n} records in it: {} lost",
                    n - g
                ));
            }
            _ => {}
        }
    }
    let extra = got.keys().find(|k| !want.contains_key(k))?;
    Some(format!(
        "window {extra} is in the output but no input record falls in it"
    ))
}

/// Each batch's end offsets of `topic`, by batch id, from the checkpoint's
/// offset log (`offsets/<batch>`: a version line, the batch's metadata,
/// then one JSON line per source).
fn offset_log(checkpoint: &Path, topic: &str) -> Result<BTreeMap<u64, Offsets>, String> {
    let dir = checkpoint.join("offsets");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut log = BTreeMap::new();
    for e in entries.flatten() {
        let Ok(batch) = e.file_name().to_string_lossy().parse::<u64>() else {
            continue;
        };
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        let of_topic = text.lines().skip(2).find_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            serde_json::from_value::<BTreeMap<String, i64>>(v.get(topic)?.clone()).ok()
        });
        let offsets = of_topic
            .into_iter()
            .flatten()
            .filter_map(|(p, o)| Some((p.parse().ok()?, o)))
            .collect();
        log.insert(batch, offsets);
    }
    Ok(log)
}

/// Batches that moved the offsets on (no-data batches leave them).
fn data_batches(log: &BTreeMap<u64, Offsets>) -> usize {
    let mut prev: Option<&Offsets> = None;
    let mut n = 0;
    for o in log.values() {
        if prev != Some(o) && !o.is_empty() {
            n += 1;
        }
        prev = Some(o);
    }
    n
}

/// The checkpoint's part of the verdict.
fn judge_checkpoint(
    c: &SparkStreamWindows,
    ctx: &CheckContext,
    ends: &Offsets,
) -> Result<String, Outcome> {
    let topic = ctx.namespace.topic(&c.input);
    let log = offset_log(&ctx.ws(&c.checkpoint), &topic).map_err(|e| {
        fail(
            &c.file,
            format!(
                "the query's checkpoint has no offset log ({e}): is checkpointLocation {}?",
                c.checkpoint
            ),
        )
    })?;
    let Some((last, read)) = log.iter().next_back() else {
        return Err(fail(
            &c.file,
            format!("{}/offsets is empty: no batch ran", c.checkpoint),
        ));
    };
    if read != ends {
        return Err(fail(
            &c.file,
            format!(
                "Spark's checkpoint says batch {last} read {} up to {read:?}, but it ends at {ends:?}: not everything was read",
                c.input
            ),
        ));
    }
    let runs = data_batches(&log);
    let want = c.runs.unwrap_or(1);
    if runs < want {
        return Err(fail(
            &c.file,
            format!(
                "the checkpoint has {runs} batch(es) that read new records, expected at least {want}: the query did not resume from the checkpoint of the earlier run (same checkpointLocation, and do not delete it)"
            ),
        ));
    }
    Ok(format!(
        "the checkpoint's last batch ({last}) read {} to its end in {runs} batch(es) with new records",
        c.input
    ))
}

#[async_trait]
impl Check for SparkStreamWindows {
    fn describe(&self) -> String {
        format!(
            "{} holds the count of {} per {} s window, from Spark's checkpointed query",
            self.output, self.input, self.window_seconds
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        if let Some(o) = job_failed(ctx, &self.file) {
            return o;
        }
        let k = match client(ctx).await {
            Ok(k) => k,
            Err(o) => return o,
        };
        let (input, output) = match (
            records(ctx, &k, &self.input, false).await,
            records(ctx, &k, &self.output, false).await,
        ) {
            (Ok(i), Ok(o)) => (i, o),
            (Err(o), _) | (_, Err(o)) => return super::kafka::blame(o, &self.file),
        };
        if input.is_empty() {
            return fail(&self.file, format!("topic {} is empty", self.input));
        }
        let ends: Offsets = match k.watermarks(&ctx.namespace.topic(&self.input)).await {
            Ok(w) => w.into_iter().map(|(p, _, high)| (p, high)).collect(),
            Err(e) => return kafka_err(ctx, e, &self.input),
        };
        let want = expected(&input, self.window_seconds as i64);
        let got = match latest(&output) {
            Ok(g) => g,
            Err(e) => return fail(&self.file, format!("{}: {e}", self.output)),
        };
        if let Some(diff) = compare(&want, &got) {
            return fail(
                &self.file,
                format!("{}: {diff} ({} windows expected)", self.output, want.len()),
            );
        }
        match judge_checkpoint(self, ctx, &ends) {
            Ok(cp) => Outcome::pass(format!(
                "{}: all {} windows right ({} records of {}); {cp}",
                self.output,
                want.len(),
                input.len(),
                self.input
            )),
            Err(o) => o,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_double_count_and_a_loss_are_named() {
        let want = Windows::from([(10, 3), (20, 2)]);
        let twice = Windows::from([(10, 6), (20, 2)]);
        assert!(compare(&want, &twice).unwrap().contains("counted twice"));
        let lost = Windows::from([(10, 3)]);
        assert!(compare(&want, &lost).unwrap().contains("lost"));
        assert_eq!(compare(&want, &want), None);
    }
}
