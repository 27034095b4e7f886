//! The one thread that writes the room database. Requests hand it jobs over
//! a bounded channel and await the reply; it takes every job waiting at that
//! moment and commits their events in one transaction (group commit), so
//! under load one fsync serves many learners and no async worker ever
//! blocks on SQLite.

use crate::hub::{Hub, HubEvent};
use crate::protocol::Envelope;
use crate::store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Most jobs committed together.
const GROUP: usize = 512;

pub enum Job {
    Events {
        learner: u64,
        events: Vec<Envelope>,
        reply: oneshot::Sender<Result<usize, String>>,
    },
    /// Save the room's live state.
    Live {
        state: std::sync::Arc<crate::live::LiveState>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    Join {
        name: String,
        token_hash: [u8; 32],
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
}

/// Start the writer on its own thread; it ends when every sender is gone.
pub fn spawn(store: Store, hub: Hub) -> (mpsc::Sender<Job>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(4096);
    let handle = std::thread::Builder::new()
        .name("room-writer".into())
        .spawn(move || run(store, hub, rx))
        .expect("spawn the room writer thread");
    (tx, handle)
}

fn run(mut store: Store, hub: Hub, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut event_jobs = Vec::new();
        for job in jobs {
            match job {
                Job::Join {
                    name,
                    token_hash,
                    reply,
                } => {
                    let r = store.add_learner(&name, &token_hash, crate::now_ms());
                    if let Ok(id) = r {
                        hub.publish(HubEvent::Joined { learner: id });
                    }
                    let _ = reply.send(r);
                }
                Job::Events {
                    learner,
                    events,
                    reply,
                } => event_jobs.push((learner, events, reply)),
                Job::Live { state, reply } => {
                    let _ = reply.send(store.save_live(&state).map_err(|e| e.to_string()));
                }
            }
        }
        commit_events(&mut store, &hub, event_jobs);
    }
}

type EventJob = (u64, Vec<Envelope>, oneshot::Sender<Result<usize, String>>);

fn commit_events(store: &mut Store, hub: &Hub, jobs: Vec<EventJob>) {
    if jobs.is_empty() {
        return;
    }
    let batches: Vec<(u64, &[Envelope])> =
        jobs.iter().map(|(l, e, _)| (*l, e.as_slice())).collect();
    match store.insert_batches(&batches, crate::now_ms()) {
        Ok(counts) => {
            for ((learner, _, reply), new) in jobs.into_iter().zip(counts) {
                if new > 0 {
                    hub.publish(HubEvent::Stored { learner, new });
                }
                let _ = reply.send(Ok(new));
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for (_, _, reply) in jobs {
                let _ = reply.send(Err(msg.clone()));
            }
        }
    }
}
