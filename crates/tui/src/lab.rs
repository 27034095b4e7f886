//! The lab screen: the steps with their status, the current step's
//! instructions, hints revealed one at a time, checks run in the background
//! (`c`) with their results, the workspace path and a service status line.
//!
//! Generic on purpose: nothing here knows Kafka, MongoDB or Cassandra.
//! Service-specific panels plug in through [`super::panel`].

use super::app::{App, AppEvent, Ctx, Nav, Screen, ScrollView};
use super::markdown::{self, wrap_spans};
use super::panel::{self, LabPanel, PanelCtx};
use super::ui::{boxed, page, truncate};
use datalab_content::Lab;
use datalab_engine::lab::{RunOptions, StepResult, materialize_data, prepare_workspace, run_step};
use datalab_services::{Endpoint, ServiceKind, Services, UpOptions};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Each client call of a check may take this long.
pub(crate) const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the service line is refreshed while the lab is open.
const PROBE_EVERY: Duration = Duration::from_secs(10);
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub struct LabState {
    pub(crate) unit: usize,
    pub(crate) id: String,
    /// The step shown (0-based).
    pub(crate) step: usize,
    pub(crate) scroll: ScrollView,
    /// This session's results per step.
    pub(crate) results: Vec<Option<StepResult>>,
    /// The step being checked and since when.
    pub(crate) running: Option<(usize, Instant)>,
    pub(crate) now: Instant,
    pub(crate) workspace: PathBuf,
    /// One line per service the lab needs.
    pub(crate) services: Vec<String>,
    last_probe: Instant,
    pub(crate) panel: Option<Box<dyn LabPanel>>,
    pub panel_focus: bool,
    /// The panel is put away (`v`) so the instructions get its rows.
    pub(crate) panel_hidden: bool,
    /// The current step's check results fill the right side (`f`).
    pub full_results: bool,
    pub(crate) results_scroll: ScrollView,
}

impl LabState {
    /// Open a lab: start at the first step not yet passed, prepare the
    /// workspace and probe the services in the background.
    pub(crate) fn open(unit: usize, id: &str, ctx: &mut Ctx) -> Option<LabState> {
        let lab = ctx.course.labs.get(id)?.clone();
        let done = ctx.unit_progress(id).map(|u| u.steps_done.clone());
        let step = lab
            .def
            .steps
            .iter()
            .position(|s| !done.as_ref().is_some_and(|d| d.contains(&s.id)))
            .unwrap_or(0);
        let workspace = ctx.workspace(id);
        let now = Instant::now();
        let state = LabState {
            unit,
            id: id.to_string(),
            step,
            scroll: ScrollView::default(),
            results: vec![None; lab.def.steps.len()],
            running: None,
            now,
            workspace: workspace.clone(),
            services: lab
                .def
                .services
                .iter()
                .map(|k| format!("{k}: checking…"))
                .collect(),
            last_probe: now,
            panel: panel::for_lab(&lab),
            panel_focus: false,
            panel_hidden: false,
            full_results: false,
            results_scroll: ScrollView::default(),
        };
        let tx = ctx.tx.clone();
        let lab_id = id.to_string();
        let lab2 = lab.clone();
        ctx.runtime.spawn_blocking(move || {
            let result = prepare_workspace(&lab2, &workspace)
                .map_err(|e| format!("cannot prepare the workspace {}: {e}", workspace.display()));
            let _ = tx.send(AppEvent::WorkspaceReady {
                lab: lab_id,
                result,
            });
        });
        probe(ctx, &lab);
        Some(state)
    }
}

/// Ask for the service line in the background.
fn probe(ctx: &Ctx, lab: &Lab) {
    if lab.def.services.is_empty() {
        return;
    }
    let tx = ctx.tx.clone();
    let services = ctx.services.clone();
    let kinds = lab.def.services.clone();
    let id = lab.id.clone();
    let brokers = lab.max_brokers();
    ctx.runtime.spawn(async move {
        let lines = service_lines(services.clone(), kinds.clone()).await;
        let _ = tx.send(AppEvent::Services {
            lab: id.clone(),
            lines: lines.clone(),
        });
        // Start what the lab needs and is not running yet, showing each
        // cold-start step on the status line as it happens.
        if !lines.iter().any(|l| l.ends_with("not running")) {
            return;
        }
        let shown = std::sync::Arc::new(std::sync::Mutex::new(lines));
        for (i, kind) in kinds.iter().copied().enumerate() {
            if services.running(kind).await.is_some() {
                continue;
            }
            // Kafka starts as many brokers as its largest step needs;
            // Cassandra starts one node and grows only for the node-failure
            // step (three JVMs for the whole lab would cost ~1.5 GB).
            let want = UpOptions {
                nodes: if kind == ServiceKind::Kafka {
                    brokers
                } else {
                    1
                },
                ..Default::default()
            };
            let report = {
                let (tx, id, shown) = (tx.clone(), id.clone(), shown.clone());
                move |msg: &str| {
                    if let Ok(mut l) = shown.lock() {
                        l[i] = format!("{kind}: starting: {msg}");
                        let _ = tx.send(AppEvent::Services {
                            lab: id.clone(),
                            lines: l.clone(),
                        });
                    }
                }
            };
            report("cold start, this can take a while");
            let line = match services.ensure_with_progress(kind, &want, &report).await {
                Ok(ep) => service_line(kind, Some(&ep)),
                Err(e) => format!(
                    "{kind}: cannot start: {}",
                    e.to_string().lines().next().unwrap_or("")
                ),
            };
            if let Ok(mut l) = shown.lock() {
                l[i] = line;
                let _ = tx.send(AppEvent::Services {
                    lab: id.clone(),
                    lines: l.clone(),
                });
            }
        }
    });
}

/// The status of the services a lab needs, one line each. This is the one
/// place that asks the services layer; when `Services::status()` lands,
/// switch to it here.
pub(crate) async fn service_lines(services: Arc<Services>, kinds: Vec<ServiceKind>) -> Vec<String> {
    let mut out = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let ep = tokio::time::timeout(Duration::from_secs(2), services.running(kind)).await;
        out.push(match ep {
            Ok(ep) => service_line(kind, ep.as_ref()),
            Err(_) => format!("{kind}: no answer"),
        });
    }
    out
}

/// `kafka: native 127.0.0.1:9092 up` or `kafka: not running`.
pub(crate) fn service_line(kind: ServiceKind, ep: Option<&Endpoint>) -> String {
    match ep {
        Some(e) => format!("{kind}: {} {} up", e.provider, e.address),
        None => format!("{kind}: not running"),
    }
}

fn hints_shown(ctx: &Ctx, lab_id: &str, step_id: &str) -> usize {
    ctx.unit_progress(lab_id)
        .and_then(|u| u.hints.get(step_id))
        .copied()
        .unwrap_or(0) as usize
}

impl LabState {
    /// The panel takes its rows on screen (there is one and it is not put away).
    pub fn panel_shown(&self) -> bool {
        self.panel.is_some() && !self.panel_hidden
    }

    fn has_result(&self) -> bool {
        self.results.get(self.step).is_some_and(Option::is_some)
    }

    fn go_to_step(&mut self, step: usize) {
        self.step = step;
        self.scroll = ScrollView::default();
        self.full_results = false;
    }
}

/// Keys of the full-results view: scroll, and `f`, `Esc` or `q` to close.
fn results_key(s: &mut LabState, key: &KeyEvent) -> bool {
    if !s.full_results {
        return false;
    }
    if s.results_scroll.handle_key(key) {
        return true;
    }
    if matches!(
        key.code,
        KeyCode::Char('f') | KeyCode::Esc | KeyCode::Char('q')
    ) {
        s.full_results = false;
        return true;
    }
    false
}

pub(crate) fn handle_key(s: &mut LabState, ctx: &mut Ctx, key: &KeyEvent) -> Nav {
    let Some(lab) = ctx.course.labs.get(&s.id).cloned() else {
        return Nav::Back;
    };
    if results_key(s, key) {
        return Nav::Stay;
    }
    if s.panel_focus {
        if matches!(key.code, KeyCode::Tab | KeyCode::Esc) {
            s.panel_focus = false;
            return Nav::Stay;
        }
        if let Some(p) = &mut s.panel
            && p.handle_key(key, &panel_ctx(&s.workspace, s.step, s.running, &lab, ctx))
        {
            return Nav::Stay;
        }
    }
    if s.scroll.handle_key(key) {
        return Nav::Stay;
    }
    let steps = lab.def.steps.len();
    match key.code {
        KeyCode::Char('c') => start_check(s, ctx, &lab),
        KeyCode::Char('h') => {
            let step = &lab.def.steps[s.step];
            let shown = hints_shown(ctx, &s.id, &step.id);
            if shown < step.hints.len() {
                ctx.room.hint_revealed(&s.id, &step.id, &step.hints[shown]);
                let sid = step.id.clone();
                ctx.save_unit(&s.id, |u| {
                    u.hints.insert(sid, shown as u32 + 1);
                });
            } else if step.hints.is_empty() {
                ctx.info("this step has no hints");
            } else {
                ctx.info("no more hints for this step");
            }
        }
        KeyCode::Char('n') | KeyCode::Right if s.step + 1 < steps => s.go_to_step(s.step + 1),
        KeyCode::Char('p') | KeyCode::Left if s.step > 0 => s.go_to_step(s.step - 1),
        KeyCode::Char('f') if s.has_result() => {
            s.full_results = true;
            s.results_scroll = ScrollView::default();
        }
        KeyCode::Char('f') => ctx.info("no results for this step yet: c to check"),
        KeyCode::Char('v') if s.panel.is_some() => {
            s.panel_hidden = !s.panel_hidden;
            s.panel_focus = false;
        }
        KeyCode::Tab if s.panel.is_some() => {
            s.panel_hidden = false;
            s.panel_focus = true;
        }
        KeyCode::Char('q') | KeyCode::Esc => return Nav::Back,
        _ => {}
    }
    Nav::Stay
}

/// Run the current step's checks on the runtime; the result comes back as
/// [`AppEvent::StepChecked`].
fn start_check(s: &mut LabState, ctx: &mut Ctx, lab: &Lab) {
    if s.running.is_some() {
        ctx.info("the checks are still running");
        return;
    }
    let step = s.step;
    let tx = ctx.tx.clone();
    let lab = lab.clone();
    let data_dir = ctx.lab_data(&lab.id);
    let workspace = s.workspace.clone();
    let services = ctx.services.clone();
    let namespace = ctx.namespace.clone();
    let env = s.panel.as_ref().map(|p| p.run_env()).unwrap_or_default();
    ctx.runtime.spawn(async move {
        let lab2 = lab.clone();
        let ws = workspace.clone();
        let data = tokio::task::spawn_blocking(move || {
            if !ws.is_dir() {
                prepare_workspace(&lab2, &ws)?;
            }
            materialize_data(&lab2, &data_dir)
        })
        .await;
        let result = match data {
            Ok(Ok(lab_data)) => {
                let opts = RunOptions {
                    workspace,
                    lab_data,
                    namespace,
                    services,
                    check_timeout: CHECK_TIMEOUT,
                    env,
                };
                Ok(run_step(&lab, step, &opts).await)
            }
            Ok(Err(e)) => Err(format!("cannot copy the lab's data: {e}")),
            Err(e) => Err(format!("the check task failed: {e}")),
        };
        let _ = tx.send(AppEvent::StepChecked {
            lab: lab.id.clone(),
            step,
            result,
        });
    });
    s.running = Some((step, Instant::now()));
}

/// Apply a background result: record a passed step in progress (even when
/// the learner has moved on to another screen) and show it.
pub(crate) fn apply_event(screen: &mut Screen, ctx: &mut Ctx, ev: AppEvent) {
    match ev {
        AppEvent::PollAnswered(_) => {}
        AppEvent::StepChecked { lab, step, result } => {
            let lab_def = ctx.course.labs.get(&lab).cloned();
            if let Ok(r) = &result {
                ctx.room.step_checked(&lab, r);
            }
            if let (Ok(r), Some(l)) = (&result, &lab_def)
                && r.passed()
            {
                let sid = l.def.steps[step].id.clone();
                let all: Vec<String> = l.def.steps.iter().map(|s| s.id.clone()).collect();
                ctx.save_unit(&lab, |u| {
                    u.steps_done.insert(sid);
                    if all.iter().all(|s| u.steps_done.contains(s)) {
                        u.done = true;
                    }
                });
            }
            let Screen::Lab(s) = screen else { return };
            if s.id != lab {
                return;
            }
            s.running = None;
            match result {
                Ok(r) => {
                    let passed = r.passed();
                    s.results[step] = Some(r);
                    if passed {
                        let more = step + 1 < s.results.len();
                        ctx.info(if more {
                            "step passed: n for the next step"
                        } else {
                            "step passed: that was the last step"
                        });
                    }
                    if let Some(l) = &lab_def {
                        probe(ctx, l);
                    }
                }
                Err(e) => ctx.error(e),
            }
        }
        AppEvent::WorkspaceReady { lab, result } => {
            if let Err(e) = result
                && matches!(screen, Screen::Lab(s) if s.id == lab)
            {
                ctx.error(e);
            }
        }
        AppEvent::Services { lab, lines } => {
            if let Screen::Lab(s) = screen
                && s.id == lab
            {
                s.services = lines;
            }
        }
    }
}

/// What the panel sees of the lab screen (taken field by field, since the
/// panel itself is borrowed mutably from the same state).
fn panel_ctx<'a>(
    workspace: &'a std::path::Path,
    step: usize,
    running: Option<(usize, Instant)>,
    lab: &'a Lab,
    ctx: &'a Ctx,
) -> PanelCtx<'a> {
    PanelCtx {
        lab,
        services: &ctx.services,
        namespace: &ctx.namespace,
        runtime: &ctx.runtime,
        workspace,
        step,
        checking: running.is_some_and(|(i, _)| i == step),
    }
}

pub(crate) fn tick(s: &mut LabState, ctx: &mut Ctx, now: Instant) {
    s.now = now;
    if let Some(p) = &mut s.panel
        && let Some(lab) = ctx.course.labs.get(&s.id)
    {
        p.tick(&panel_ctx(&s.workspace, s.step, s.running, lab, ctx));
    }
    if now.saturating_duration_since(s.last_probe) >= PROBE_EVERY {
        s.last_probe = now;
        if let Some(lab) = ctx.course.labs.get(&s.id) {
            probe(ctx, lab);
        }
    }
}

fn step_mark(app: &App, s: &LabState, lab: &Lab, i: usize) -> Span<'static> {
    let t = app.theme();
    if let Some((step, since)) = s.running
        && step == i
    {
        return Span::styled(spinner(s.now, since), t.accent());
    }
    if let Some(r) = &s.results[i] {
        return if r.passed() {
            Span::styled("✓", t.ok())
        } else if r.errored() {
            Span::styled("!", t.warn())
        } else {
            Span::styled("✗", t.bad())
        };
    }
    let done = app
        .ctx
        .unit_progress(&s.id)
        .is_some_and(|u| u.steps_done.contains(&lab.def.steps[i].id));
    if done {
        Span::styled("✓", t.ok())
    } else {
        Span::styled("·", t.dim())
    }
}

fn spinner(now: Instant, since: Instant) -> &'static str {
    let i = now.saturating_duration_since(since).as_millis() / 100;
    SPINNER[i as usize % SPINNER.len()]
}

pub(crate) fn render(app: &App, s: &LabState, frame: &mut Frame, area: Rect) {
    let t = app.theme();
    let Some(lab) = app.ctx.course.labs.get(&s.id) else {
        return;
    };
    if s.step >= lab.def.steps.len() {
        return;
    }
    let panel_h = match &s.panel {
        Some(p) if s.panel_shown() => p.height(),
        _ => 0,
    };
    let info_h = 1 + s.services.len().max(1) as u16;
    let [main, panel_area, info] = Layout::vertical([
        Constraint::Min(8),
        Constraint::Length(panel_h),
        Constraint::Length(info_h),
    ])
    .areas(area);
    let [steps_area, right] =
        Layout::horizontal([Constraint::Length(26), Constraint::Min(30)]).areas(main);

    render_steps(app, s, lab, frame, steps_area);

    if s.full_results
        && let Some(r) = &s.results[s.step]
    {
        render_full_results(app, s, r, frame, right);
    } else {
        render_step(app, s, lab, frame, right);
    }

    // A service panel, when the lab has one and it is not put away.
    if let Some(p) = &s.panel
        && panel_area.height > 0
    {
        p.render(frame, panel_area, t, s.panel_focus);
    }
    render_info(app, s, frame, info, area.width);
}

/// The steps, each with its mark, the current one highlighted.
fn render_steps(app: &App, s: &LabState, lab: &Lab, frame: &mut Frame, steps_area: Rect) {
    let t = app.theme();
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .title(Line::styled(" Steps ", t.title()))
        .title(
            Line::styled(
                format!(
                    " {}/{} passed ",
                    lab.def
                        .steps
                        .iter()
                        .filter(|st| app
                            .ctx
                            .unit_progress(&s.id)
                            .is_some_and(|u| u.steps_done.contains(&st.id)))
                        .count(),
                    lab.def.steps.len()
                ),
                t.dim(),
            )
            .right_aligned(),
        );
    let inner = block.inner(steps_area);
    frame.render_widget(block, steps_area);
    let iw = inner.width as usize;
    let rows: Vec<Line> = lab
        .def
        .steps
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let label = truncate(&format!("{}. {}", i + 1, st.title), iw.saturating_sub(3));
            let mut line = Line::from(vec![
                Span::raw(" "),
                step_mark(app, s, lab, i),
                Span::raw(" "),
                Span::raw(label),
            ]);
            if i == s.step {
                line = line.style(t.selected());
                let pad = iw.saturating_sub(line.width());
                line.spans.push(Span::raw(" ".repeat(pad)));
            }
            line
        })
        .collect();
    let skip = (s.step + 1).saturating_sub(inner.height as usize);
    frame.render_widget(
        Paragraph::new(rows.into_iter().skip(skip).collect::<Vec<_>>()),
        inner,
    );
}

/// The step's instructions (after the lab's intro on the first step), its
/// files and the hints revealed so far, laid out `width` columns wide.
fn instruction_lines(app: &App, s: &LabState, lab: &Lab, width: u16) -> Vec<Line<'static>> {
    let t = app.theme();
    let step = &lab.def.steps[s.step];
    let w = width as usize;
    let mut lines: Vec<Line> = Vec::new();
    if s.step == 0
        && let Some(intro) = &lab.def.intro
    {
        lines.extend(markdown::render(intro, width, t));
        lines.push(Line::default());
    }
    lines.extend(markdown::render(&step.instructions, width, t));
    if !step.files.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled("Your files: ", t.strong()),
            Span::styled(step.files.join(", "), t.code()),
        ]));
    }
    let shown = hints_shown(&app.ctx, &s.id, &step.id).min(step.hints.len());
    if !step.hints.is_empty() {
        lines.push(Line::default());
        for (i, h) in step.hints.iter().take(shown).enumerate() {
            lines.extend(wrap_spans(
                &[Span::raw(h.trim().to_string())],
                w,
                vec![Span::styled(
                    format!("Hint {}/{}: ", i + 1, step.hints.len()),
                    t.warn(),
                )],
                vec![Span::raw("  ")],
            ));
        }
        let left = step.hints.len() - shown;
        if left > 0 {
            lines.push(Line::styled(format!("h for a hint ({left} left)"), t.dim()));
        }
    }
    lines
}

/// The step's instructions and hints, scrolled, over its Checks box.
fn render_step(app: &App, s: &LabState, lab: &Lab, frame: &mut Frame, right: Rect) {
    let t = app.theme();
    let step = &lab.def.steps[s.step];
    let running_here = s.running.is_some_and(|(i, _)| i == s.step);
    let result = s.results[s.step].as_ref().filter(|_| !running_here);
    let cw = right.width.saturating_sub(2) as usize;
    let check_rows = super::lab_checks::rows(t, step, result, cw);
    // The Checks box: every row when it fits in half the pane (or in the
    // one row per check plus borders it had anyway); `f` shows the rest.
    let fits = (step.checks.len() as u16 + 2).min(8).max(right.height / 2);
    let checks_h = (check_rows.len() as u16 + 2).min(fits);
    let cut = check_rows.len() as u16 + 2 > checks_h;
    let [instr_area, checks_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(checks_h)]).areas(right);

    // Instructions and hints.
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .title(Line::styled(
            format!(
                " Step {}/{}: {} ",
                s.step + 1,
                lab.def.steps.len(),
                step.title
            ),
            t.title(),
        ));
    let inner = boxed(frame, block, instr_area);
    let lines = instruction_lines(app, s, lab, inner.width);
    let offset = s.scroll.layout(lines.len(), inner.height as usize);
    frame.render_widget(page(lines, offset, inner.height), inner);

    // Checks.
    let bottom = if running_here {
        format!(
            " {} checking… ",
            spinner(s.now, s.running.map(|r| r.1).unwrap_or(s.now))
        )
    } else if let Some(r) = result {
        let more = if cut { "f for all of it · " } else { "" };
        format!(" {} ms · {more}c to check again ", r.duration_ms)
    } else {
        " c to check ".to_string()
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .title(Line::styled(" Checks ", t.title()))
        .title_bottom(Line::styled(bottom, t.dim()).right_aligned());
    let inner = block.inner(checks_area);
    frame.render_widget(block, checks_area);
    frame.render_widget(Paragraph::new(check_rows), inner);
}

/// The step's check results in full, scrolled, in place of the
/// instructions and the Checks box (`f`).
fn render_full_results(app: &App, s: &LabState, r: &StepResult, frame: &mut Frame, area: Rect) {
    let t = app.theme();
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .title(Line::styled(
            format!(" Step {}: check results ", s.step + 1),
            t.title(),
        ))
        .title_bottom(Line::styled(" ↑↓ scroll · f or Esc to close ", t.dim()).right_aligned());
    let inner = boxed(frame, block, area);
    let lines = super::lab_checks::full(t, r, inner.width as usize);
    let offset = s.results_scroll.layout(lines.len(), inner.height as usize);
    frame.render_widget(page(lines, offset, inner.height), inner);
}

/// The workspace and the services' status under everything.
fn render_info(app: &App, s: &LabState, frame: &mut Frame, info: Rect, width: u16) {
    let t = app.theme();
    let mut info_lines = vec![Line::from(vec![
        Span::styled(" workspace: ", t.dim()),
        Span::styled(
            truncate(
                &s.workspace.display().to_string(),
                (width as usize).saturating_sub(13),
            ),
            t.code(),
        ),
    ])];
    if s.services.is_empty() {
        info_lines.push(Line::styled(" services: none needed", t.dim()));
    } else {
        for l in &s.services {
            let style = if l.ends_with(" up") { t.ok() } else { t.warn() };
            info_lines.push(Line::from(vec![
                Span::styled(" ● ", style),
                Span::raw(l.clone()),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(info_lines), info);
}
