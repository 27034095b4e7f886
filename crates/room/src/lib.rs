//! datalab's instructor room (issue #12): a room server learners report
//! their progress to, the learner-side client with its crash-safe outbox,
//! and the instructor's view model and grade book.
//!
//! - Server: [`RoomServer::start`] / [`serve`] with a [`ServeConfig`].
//! - Learner: [`join`], [`Reporter`] (report, flush, status), [`leave`],
//!   [`status`].
//! - Instructor: [`Store::open_readonly`] + [`RoomModel`] give the
//!   [`RoomView`], [`Detail`] and the grade book ([`export::render`]).
//! - Load: [`load::load`].

mod auth;
mod client;
mod fsutil;
mod hook;
mod http;
mod hub;
mod listen;
mod live_client;
mod live_http;
mod model;
mod outbox;
mod projector;
mod sanitize;
mod sender;
mod server;
mod token;
mod writer;

pub mod export;
pub mod live;
pub mod load;
pub mod protocol;
pub mod store;
pub mod tls;
pub mod view;

pub use client::{
    Flushed, Handed, Joined, Left, Reporter, RoomStatus, join, join_handed, leave, probe, status,
};
pub use export::{ExportFormat, GradeRow};
pub use hook::{HookFuture, JoinHook, JoinHookHandle};
pub use http::{ClientError, Endpoint};
pub use hub::{Hub, HubEvent};
pub use listen::{
    RoomServer, ServeConfig, ServeError, TlsMode, instructor_token_path, serve, url_path,
    view_token_path,
};
pub use live_client::{
    Feed, LiveFeed, answer_poll, notes, parse_event as parse_live_event, send_command,
};
pub use model::RoomModel;
pub use protocol::Event;
pub use sanitize::sanitize_name;
pub use store::Store;
pub use view::{Detail, RoomView, Row, Stuck, ViewOptions};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
