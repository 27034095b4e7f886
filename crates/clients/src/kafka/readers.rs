//! Consumers kept for the process for reads that join no group (a topic
//! read to its end, watermarks, last stable offsets).
//!
//! A fresh client first connects and logs in twice (the bootstrap address,
//! then the broker it names); on a shared cluster with SCRAM logins and 30
//! learners grading at once that took 0.2–0.6 s, most of a check's time.
//! A kept consumer is warm: a check that reads a topic twice (the
//! exactly-once step reads it read_committed and read_uncommitted, after
//! waiting for its transactions to settle) pays for the logins once per
//! process instead of four times.
//!
//! A consumer is taken out of the pool for one read and given back after
//! it, unassigned and with its queue drained, so a read never sees another
//! read's records; two reads at once each get their own consumer.

use super::{Kafka, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Idle consumers kept per key: one read at a time is the usual case.
const KEPT: usize = 2;

/// A consumer for direct reads, out of the pool for as long as it is held.
pub(super) struct Reader {
    key: String,
    consumer: Option<BaseConsumer>,
}

fn pool() -> &'static Mutex<HashMap<String, Vec<BaseConsumer>>> {
    static POOL: OnceLock<Mutex<HashMap<String, Vec<BaseConsumer>>>> = OnceLock::new();
    POOL.get_or_init(Default::default)
}

impl Reader {
    /// A kept consumer with this isolation level (read_committed sees
    /// committed records only, and its watermarks end at the last stable
    /// offset), or a new one. `group` names it (see [`Kafka::reader_group`]):
    /// nothing is ever joined or committed under it.
    pub(super) fn take(k: &Kafka, read_committed: bool, group: &str) -> Result<Reader> {
        let user = crate::auth::login_for(k.bootstrap()).map(|l| l.user);
        let key = format!(
            "{}|{}|{user:?}|{read_committed}",
            k.bootstrap(),
            k.timeout.as_millis()
        );
        let kept = pool()
            .lock()
            .ok()
            .and_then(|mut p| p.get_mut(&key).and_then(Vec::pop));
        let consumer = match kept {
            Some(c) => {
                // What it heard while idle: a broker that went away and
                // came back (the failover step) left an error event.
                drain(&c);
                c
            }
            None => {
                let settings = reader_settings(read_committed, group);
                let pairs: Vec<(&str, &str)> =
                    settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
                k.consumer(&pairs)?
            }
        };
        Ok(Reader {
            key,
            consumer: Some(consumer),
        })
    }

    pub(super) fn consumer(&self) -> &BaseConsumer {
        self.consumer.as_ref().expect("a reader holds its consumer")
    }

    /// Back into the pool for the next read: unassigned, its queue empty.
    pub(super) fn give_back(mut self) {
        let Some(c) = self.consumer.take() else {
            return;
        };
        if c.unassign().is_err() {
            return super::dispose(c);
        }
        // Whatever was fetched or reported for the old assignment.
        drain(&c);
        let Ok(mut p) = pool().lock() else {
            return super::dispose(c);
        };
        let kept = p.entry(self.key.clone()).or_default();
        if kept.len() < KEPT {
            kept.push(c);
        } else {
            drop(p);
            super::dispose(c);
        }
    }
}

impl Drop for Reader {
    /// Not given back (the read failed half-way): its state is unknown, so
    /// it goes.
    fn drop(&mut self) {
        if let Some(c) = self.consumer.take() {
            super::dispose(c);
        }
    }
}

/// Drop the records and events waiting in a consumer's queue.
fn drain(c: &BaseConsumer) {
    for _ in 0..10_000 {
        if c.poll(Duration::ZERO).is_none() {
            break;
        }
    }
}

/// A reader's settings: isolation, from the beginning, and a broker that
/// answers an empty fetch at once (a read ends at the partition EOF the
/// empty fetch after the last record reports).
fn reader_settings(read_committed: bool, group: &str) -> Vec<(&'static str, String)> {
    let isolation = if read_committed {
        "read_committed"
    } else {
        "read_uncommitted"
    };
    vec![
        ("isolation.level", isolation.into()),
        ("auto.offset.reset", "earliest".into()),
        ("fetch.wait.max.ms", "1".into()),
        // librdkafka wants a group id even for assign(); nothing is joined
        // or committed under it.
        ("group.id", group.into()),
    ]
}
