//! datalab: a terminal course and hands-on lab environment for the workshop
//! *Big Data Technologies and Architectures*.
//!
//! Dependencies point one way: `tui` and `cli` (UI) → `course`, `quiz`,
//! `progress`, `lab`, `check`, `grade`, `mapreduce` (engine) → `services`.

pub mod check;
pub mod cli;
pub mod clients;
pub mod course;
pub mod grade;
pub mod lab;
pub mod progress;
pub mod quiz;
pub mod services;
