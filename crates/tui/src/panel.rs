//! The extension point for service-specific panels on the lab screen (a
//! Kafka console, a MongoDB query box, a CQL prompt). The lab screen knows
//! nothing about any service: it asks [`for_lab`] for a panel, gives it a
//! strip of the screen, and forwards keys to it while it has focus (Tab).
//!
//! To add one:
//! 1. write `src/tui/panels/<name>.rs` with a type implementing [`LabPanel`]
//!    (run client calls on `ctx.runtime` with a timeout, send results back
//!    over your own `std::sync::mpsc` channel, and drain it in `tick`);
//! 2. add one arm to [`for_lab`] choosing it, e.g. by
//!    `lab.def.services.contains(&ServiceKind::Kafka)`.
//!
//! Nothing else changes: key routing, focus, layout and help are generic.

use super::theme::Theme;
use datalab_content::Lab;
use datalab_services::{Namespace, Services};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use std::path::Path;
use std::sync::Arc;

/// What a panel may use when it handles a key.
pub struct PanelCtx<'a> {
    pub lab: &'a Lab,
    pub services: &'a Arc<Services>,
    pub namespace: &'a Namespace,
    pub runtime: &'a tokio::runtime::Handle,
    pub workspace: &'a Path,
    /// The step shown on the lab screen (0-based) and whether its checks
    /// (and its `run` command) are running right now.
    pub step: usize,
    pub checking: bool,
}

/// A service-specific panel shown under a lab's steps.
pub trait LabPanel {
    /// The title on the panel's border ("Kafka console").
    fn title(&self) -> String;
    /// Rows the panel wants (borders included); the lab screen may give fewer.
    fn height(&self) -> u16 {
        8
    }
    /// Draw from the panel's state alone (the screen may be a TestBackend).
    fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool);
    /// A key while the panel has focus. Return false to let the lab screen
    /// handle it (Tab and Esc always leave the panel).
    fn handle_key(&mut self, key: &KeyEvent, ctx: &PanelCtx) -> bool;
    /// Called on every tick (about 10 times a second), focused or not:
    /// collect results of background work here, or start a refresh that
    /// depends on the shown step (`ctx.step`, `ctx.checking`).
    fn tick(&mut self, ctx: &PanelCtx) {
        let _ = ctx;
    }
    /// Extra environment for a step's `run` command, asked for when the
    /// learner starts a check (e.g. where to write a job's events so the
    /// panel can follow it live).
    fn run_env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// The panel for a lab, if one fits: service panels plug in here.
pub fn for_lab(lab: &Lab) -> Option<Box<dyn LabPanel>> {
    use datalab_services::ServiceKind;
    if super::panels::mapreduce::fits(lab) {
        return Some(Box::new(super::panels::mapreduce::MapReducePanel::new()));
    }
    // Before Kafka: the Spark lab streams from Kafka but its panel is Spark's.
    if super::panels::spark::fits(lab) {
        return Some(Box::new(super::panels::spark::SparkPanel::new()));
    }
    if lab.def.services.contains(&ServiceKind::Kafka) {
        return Some(Box::new(super::panels::kafka::KafkaPanel::new()));
    }
    if lab.def.services.contains(&ServiceKind::Mongodb) {
        return Some(Box::new(super::panels::mongo::MongoPanel::new()));
    }
    if lab.def.services.contains(&ServiceKind::Cassandra) {
        return Some(Box::new(super::panels::cql::CqlPanel::new()));
    }
    None
}
