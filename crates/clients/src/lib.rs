//! Engine-level clients for the lab services (Kafka, MongoDB, CQL; Hadoop's
//! WebHDFS and JobHistory over HTTP): the operations the consoles,
//! the checks and the TUI panels share. Nothing in here prints; every call
//! has a timeout and returns an error that says what to do.

pub mod auth;
pub mod console;
pub mod cql;
pub mod hadoop;
pub mod kafka;
pub mod mongo;
mod namespace;

pub use namespace::Namespace;

/// The runtime that owns driver connections. The MongoDB and CQL drivers
/// spawn their connection tasks on the runtime that builds a client, and the
/// clients are cached for the life of the process; building them here means a
/// cached client never dies with the runtime of whoever made it first (each
/// test has a runtime of its own, and they end while others still run).
pub(crate) fn driver_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("datalab-drivers")
            .enable_all()
            .build()
            .expect("cannot start the driver runtime")
    })
}
