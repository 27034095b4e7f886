//! Lab panels (see [`super::panel`]).

pub mod cql;
mod events_file;
pub mod kafka;
pub mod kafka_pipeline;
pub mod mapreduce;
pub mod mongo;
pub mod prompt;
pub mod spark;
pub mod spark_log;
