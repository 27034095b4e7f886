pub mod cql;
pub mod mongo;
