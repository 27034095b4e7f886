//! Service-specific lab panels (see [`super::panel`]).

pub mod cql;
pub mod mongo;
pub mod prompt;
