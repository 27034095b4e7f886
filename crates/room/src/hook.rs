//! What a room may do for a learner at `join` beyond admitting them: the
//! binary plugs in the instructor's shared services here (the room crate
//! knows nothing of services), so a learner's `join` brings back their own
//! login on the room's shared cluster.

use crate::protocol::Secret;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A future a hook returns.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<Secret, String>> + Send + 'a>>;

/// Called once a learner's join is accepted (their name is theirs alone in
/// the room), before the answer goes back over the room's authenticated
/// channel to that learner only.
pub trait JoinHook: Send + Sync {
    /// Credentials for the learner who joined as `name`, or why there are
    /// none, in words the learner can act on. The room never logs them.
    fn credentials<'a>(&'a self, name: &'a str) -> HookFuture<'a>;
}

/// A hook as the server config holds it (`Debug` names no contents).
#[derive(Clone)]
pub struct JoinHookHandle(pub Arc<dyn JoinHook>);

impl std::fmt::Debug for JoinHookHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JoinHook")
    }
}
