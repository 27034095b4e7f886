//! datalab's engine: quizzes, progress, the lab runner, checks and grading.
//! It sits on the content model, the service providers and their clients;
//! the TUI and the CLI sit on it.

pub mod check;
pub mod grade;
pub mod lab;
pub mod live;
pub mod progress;
pub mod quiz;
pub mod room;
