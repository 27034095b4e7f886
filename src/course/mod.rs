//! The course: its content model, loading and linting.

mod source;

pub use source::Content;
