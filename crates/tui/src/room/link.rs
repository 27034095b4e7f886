//! The instructor's link to the room server running from the room's
//! folder, for the live tab: the live stream followed in the background,
//! and a worker thread that sends the screen's commands and fetches the
//! notes learners saved, so the screen never waits on the network.

use super::{RoomScreen, Tab};
use datalab_engine::live::Instructor;
use datalab_room::live::{Command, LiveView, PickedNote};
use datalab_room::{Endpoint, LiveFeed};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often the notes are fetched while the live tab is open.
const NOTES_EVERY: Duration = Duration::from_secs(1);

enum Job {
    Send(Command),
    Notes,
}

enum Reply {
    Sent(Result<Box<LiveView>, String>),
    Notes(Result<Vec<PickedNote>, String>),
}

pub(super) struct LiveLink {
    feed: LiveFeed,
    jobs: mpsc::Sender<Job>,
    replies: mpsc::Receiver<Reply>,
    /// When the notes were last asked for, and whether the answer is due.
    notes_asked: Option<Instant>,
    notes_due: bool,
}

impl LiveLink {
    /// Follow the room server running from `room_dir`; Err says why not.
    pub(super) fn open(room_dir: &Path) -> Result<LiveLink, String> {
        let room = Instructor::open(room_dir)?;
        let (url, token) = room.url_and_token();
        let endpoint = Endpoint::parse(url).map_err(|e| e.to_string())?;
        let feed = LiveFeed::follow(endpoint, token.to_string()).map_err(|e| e.to_string())?;
        let (jobs, job_rx) = mpsc::channel();
        let (reply_tx, replies) = mpsc::channel();
        std::thread::Builder::new()
            .name("room-commands".into())
            .spawn(move || work(&room, job_rx, reply_tx))
            .map_err(|e| e.to_string())?;
        Ok(LiveLink {
            feed,
            jobs,
            replies,
            notes_asked: None,
            notes_due: false,
        })
    }

    /// Send what the screen queued; take in what the stream and the worker
    /// brought; ask for the notes while the live tab is open.
    pub(super) fn tick(&mut self, screen: &mut RoomScreen, now: Instant) {
        for cmd in screen.take_live_commands() {
            let _ = self.jobs.send(Job::Send(cmd));
        }
        if let Some(feed) = self.feed.now_changed() {
            screen.live.follow(feed);
        }
        while let Ok(reply) = self.replies.try_recv() {
            match reply {
                Reply::Sent(r) => screen.live.answered(r.map(|v| *v), now),
                Reply::Notes(r) => {
                    self.notes_due = false;
                    // A failed fetch keeps the last list; the stream's
                    // state says whether the room answers.
                    if let Ok(notes) = r {
                        screen.live.set_notes(notes);
                    }
                }
            }
        }
        let stale = self.notes_asked.is_none_or(|at| now - at >= NOTES_EVERY);
        if screen.tab == Tab::Live && !self.notes_due && stale {
            self.notes_due = self.jobs.send(Job::Notes).is_ok();
            self.notes_asked = Some(now);
        }
    }
}

fn work(room: &Instructor, jobs: mpsc::Receiver<Job>, replies: mpsc::Sender<Reply>) {
    for job in jobs {
        let reply = match job {
            Job::Send(cmd) => Reply::Sent(room.send(&cmd).map(Box::new)),
            Job::Notes => Reply::Notes(room.notes("")),
        };
        if replies.send(reply).is_err() {
            return;
        }
    }
}

/// Without a room server: say so when the screen has commands to send.
pub(super) fn no_server(screen: &mut RoomScreen) {
    if !screen.take_live_commands().is_empty() {
        screen.live.refused = Some("not sent: the room server is not running".into());
    }
}
