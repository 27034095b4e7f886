//! Startup figures for the course UI, printed (never asserted):
//! - content load + validation (`Course::load`),
//! - progress load,
//! - time to the first rendered frame: into a `TestBackend`, and through the
//!   real crossterm backend writing escape sequences into memory (the same
//!   path a terminal gets, minus the tty),
//! - the slowest frame of any screen of the course,
//! - peak RSS (VmHWM).
//!
//! Uses the shipped (embedded) content when it loads, else the TUI fixture.
//! Run: `cargo bench --bench startup` (release profile). Targets: first
//! frame ≤ 30 ms, RSS ≤ 30 MB.

use datalab_content::{Content, Course};
use datalab_engine::progress::ProgressStore;
use datalab_services::{Namespace, ProviderKind, Services, ServicesConfig};
use datalab_tui::{App, TuiOptions};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// A writer that only counts what a terminal would receive.
#[derive(Default, Clone)]
struct Sink(std::rc::Rc<std::cell::Cell<usize>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The shipped content if it loads, else the fixture (and why). Returns
/// the loaded course and when its (successful) load began.
fn load_course() -> (Course, Content, String, Instant) {
    let t = Instant::now();
    match Course::load(Content::embedded()) {
        Ok(c) => (
            c,
            Content::embedded(),
            "shipped (embedded) content".into(),
            t,
        ),
        Err(e) => {
            let first = e.to_string().lines().next().unwrap_or("").to_string();
            let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui-course");
            let content = Content::disk(fixture);
            let t = Instant::now();
            let c = Course::load(content.clone()).expect("the fixture loads");
            (
                c,
                content,
                format!("the TUI fixture (the shipped content does not load yet: {first})"),
                t,
            )
        }
    }
}

fn app(course: Course, home: &Path, rt: &tokio::runtime::Runtime) -> App {
    App::new(TuiOptions {
        course,
        store: ProgressStore::new(home),
        services: Arc::new(Services::new(ServicesConfig {
            data_dir: home.join("services"),
            cache_dir: home.join("cache"),
            provider: ProviderKind::External,
            timeout: Duration::from_secs(1),
        })),
        home: home.to_path_buf(),
        namespace: Namespace::none(),
        start_unit: None,
        runtime: rt.handle().clone(),
    })
    .expect("the app starts")
}

fn main() {
    let start = Instant::now();
    let (course, source, label, t0) = load_course();
    let load = t0.elapsed();
    println!("datalab startup benchmark: {label}");
    let home = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // The first, cold pass: what a learner waits for.
    let t1 = Instant::now();
    let (_p, _) = ProgressStore::new(home.path()).load();
    let progress = t1.elapsed();
    let t2 = Instant::now();
    let mut a = app(course.clone(), home.path(), &rt);
    let app_new = t2.elapsed();
    let t3 = Instant::now();
    let sink = Sink::default();
    let backend = CrosstermBackend::new(sink.clone());
    let mut term = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .expect("terminal");
    term.draw(|f| a.render(f)).expect("draw");
    let first_frame = t3.elapsed();
    let bytes = sink.0.get();
    let cold_total = t0.elapsed();
    let main_to_frame = start.elapsed();

    println!(
        "  units: {}, lessons: {}, quizzes: {} ({} questions), labs: {}",
        course.units.len(),
        course.lessons.len(),
        course.quizzes.len(),
        course
            .quizzes
            .values()
            .map(|q| q.questions.len())
            .sum::<usize>(),
        course.labs.len()
    );
    println!("cold (first run in this process):");
    println!("  content load + validation   {}", ms(load));
    println!("  progress load               {}", ms(progress));
    println!("  app state                   {}", ms(app_new));
    println!(
        "  first frame (crossterm, 80×24, {bytes} bytes of output)  {}",
        ms(first_frame)
    );
    println!(
        "  => load to first frame      {}   (target ≤ 30 ms)",
        ms(cold_total)
    );
    println!("  => main() to first frame    {}", ms(main_to_frame));

    // Warm figures: medians over repeated runs.
    let n = 30;
    let mut loads = Vec::new();
    let mut test_frames = Vec::new();
    let mut ct_frames = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let c = Course::load(source.clone()).expect("content loads");
        loads.push(t.elapsed());
        let a = app(c, home.path(), &rt);
        let t = Instant::now();
        let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
        term.draw(|f| a.render(f)).expect("draw");
        test_frames.push(t.elapsed());
        let t = Instant::now();
        let mut term = Terminal::with_options(
            CrosstermBackend::new(Sink::default()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
            },
        )
        .expect("terminal");
        term.draw(|f| a.render(f)).expect("draw");
        ct_frames.push(t.elapsed());
    }
    println!("warm (median of {n}):");
    println!("  content load + validation   {}", ms(median(loads)));
    println!("  first frame, TestBackend    {}", ms(median(test_frames)));
    println!("  first frame, crossterm      {}", ms(median(ct_frames)));

    // Every unit's screen, at 80×24 and 200×60: the slowest frame.
    let mut slowest = (Duration::ZERO, String::new());
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        for i in 0..course.units.len() {
            a.open(i);
            let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
            let t = Instant::now();
            term.draw(|f| a.render(f)).expect("draw");
            let d = t.elapsed();
            if d > slowest.0 {
                slowest = (d, format!("{} at {w}×{h}", course.units[i].id));
            }
        }
    }
    a.shutdown();
    println!(
        "  slowest screen frame        {} ({})",
        ms(slowest.0),
        slowest.1
    );
    match peak_rss_kb() {
        Some(kb) => println!(
            "peak RSS (VmHWM)              {:.1} MB   (target ≤ 30 MB)",
            kb as f64 / 1024.0
        ),
        None => println!("peak RSS: /proc/self/status not available"),
    }
}
