//! Lab panels (see [`super::panel`]).

pub mod cql;
pub mod mapreduce;
pub mod mongo;
pub mod prompt;
