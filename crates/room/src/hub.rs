//! The room's broadcast hub: the writer announces what it stored, and any
//! live consumer (today none; the live activities, polls and projector page
//! of #13 will be) subscribes. Publishing with no subscriber costs nothing.

use tokio::sync::broadcast;

/// Something that changed in the room.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HubEvent {
    Joined { learner: u64 },
    Stored { learner: u64, new: usize },
}

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<HubEvent>,
}

impl Hub {
    pub fn new() -> Hub {
        let (tx, _) = broadcast::channel(1024);
        Hub { tx }
    }

    pub fn publish(&self, event: HubEvent) {
        let _ = self.tx.send(event);
    }

    /// A live feed of room changes (lagging receivers skip ahead).
    pub fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.tx.subscribe()
    }
}

impl Default for Hub {
    fn default() -> Hub {
        Hub::new()
    }
}
