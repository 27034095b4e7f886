//! Engine-level clients for the lab services: the operations the consoles,
//! the checks and the TUI panels share. Nothing in here prints; every call
//! has a timeout and returns an error that says what to do.

pub mod cql;
pub mod kafka;
pub mod mongo;
