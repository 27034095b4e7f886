//! Running a whole job: plan, map (and combine), shuffle, reduce, commit.

use super::buffer::{MAX_BUDGET, Run, SortBuffer};
use super::merge::{MERGE_FACTOR, Segment, merge_passes, merge_segments};
use super::process::{collect_stderr, describe_status, for_each_line, reap, spawn, tail};
use super::split::{InputSplit, list_inputs, plan_splits, reason};
use super::{
    COUNTERS_FILE, Counters, Event, JobConfig, JobError, JobReport, Phase, TaskKind, partition_of,
};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

/// Pipe buffers are raised to this size when the kernel allows it.
const PIPE_SIZE: i32 = 1 << 20;
/// Chunk size for reading input and copying reducer output.
const CHUNK: usize = 1 << 20;
/// Malformed lines quoted in the report.
const EXAMPLES: usize = 3;
/// Lines of a failed task's stderr quoted in the error.
const TAIL_LINES: usize = 12;

type OnEvent<'a> = &'a (dyn Fn(&Event) + Sync);

/// Why one task attempt failed.
struct TaskFailure {
    message: String,
    /// Worth another attempt (a crash may be transient; a malformed line
    /// under `--strict` is not).
    retry: bool,
}

impl TaskFailure {
    fn retry(message: String) -> Self {
        TaskFailure {
            message,
            retry: true,
        }
    }
    fn io(what: &str, e: io::Error) -> Self {
        TaskFailure::retry(format!("{what}: {e}"))
    }
}

struct Shared<'a> {
    cfg: &'a JobConfig,
    spill_dir: PathBuf,
    on_event: OnEvent<'a>,
    /// Sort buffer bytes for each task running at once.
    budget: usize,
    failed_attempts: AtomicU64,
}

struct MapOutput {
    /// Per partition, the segments of this task's runs.
    parts: Vec<Vec<Segment>>,
    counters: Counters,
    malformed: Vec<String>,
}

/// Run a job to the end. Progress goes to `on_event`: first
/// [`Event::JobStarted`], last [`Event::Finished`] or [`Event::JobFailed`].
pub fn run_job(cfg: &JobConfig, on_event: OnEvent<'_>) -> Result<JobReport, JobError> {
    on_event(&Event::JobStarted {
        output: cfg.output.clone(),
        mapper: cfg.mapper.clone(),
        reducer: cfg.reducer.clone(),
        combiner: cfg.combiner.clone(),
        reducers: cfg.reducers,
    });
    let result = match run_phases(cfg, on_event) {
        // A task killed by the cancel fails its phase: say why.
        Err(_) if cfg.cancel.is_cancelled() => Err(JobError::Interrupted),
        r => r,
    };
    if let Err(e) = &result {
        on_event(&Event::JobFailed {
            message: e.to_string(),
        });
    }
    result
}

/// Stop between phases once the job is cancelled.
fn check_cancel(cfg: &JobConfig) -> Result<(), JobError> {
    if cfg.cancel.is_cancelled() {
        Err(JobError::Interrupted)
    } else {
        Ok(())
    }
}

/// Keeps the job's working folder known to its cancel token while it
/// exists.
struct WorkdirGuard<'a>(&'a JobConfig, PathBuf);

impl Drop for WorkdirGuard<'_> {
    fn drop(&mut self) {
        self.0.cancel.remove_workdir(&self.1);
    }
}

fn run_phases(cfg: &JobConfig, on_event: OnEvent<'_>) -> Result<JobReport, JobError> {
    let job_start = Instant::now();
    validate(cfg)?;
    refuse_existing_output(cfg)?;
    let mut counters = Counters::default();
    let (splits, input_bytes) = timed(on_event, Phase::Split, &mut counters.time.split_ms, || {
        plan(cfg)
    })?;
    on_event(&Event::Planned {
        map_tasks: splits.len(),
        reduce_tasks: cfg.reducers,
        input_bytes,
    });
    let work = make_workdir(cfg)?;
    cfg.cancel.add_workdir(work.path());
    let _guard = WorkdirGuard(cfg, work.path().to_path_buf());
    check_cancel(cfg)?;
    let (spill_dir, out_dir) = make_work_subdirs(work.path())?;
    let map_workers = cfg.parallelism.max(1).min(splits.len().max(1));
    let shared = Shared {
        cfg,
        spill_dir,
        on_event,
        budget: ((cfg.memory / map_workers as u64) as usize).min(MAX_BUDGET),
        failed_attempts: AtomicU64::new(0),
    };
    let reduce_workers = cfg.parallelism.max(1).min(cfg.reducers);
    let warm = warm_reducers(cfg, reduce_workers);

    let maps = timed(on_event, Phase::Map, &mut counters.time.map_ms, || {
        Ok(run_maps(&shared, &splits, map_workers))
    })??;
    check_cancel(cfg)?;
    let (partitions, malformed) = gather_maps(maps, cfg.reducers, &mut counters);
    let spilled = &mut counters.spilled_records;
    let partitions = timed(
        on_event,
        Phase::Shuffle,
        &mut counters.time.shuffle_ms,
        || shuffle(&shared, partitions, reduce_workers, spilled),
    )?;
    check_cancel(cfg)?;
    let reduces = timed(
        on_event,
        Phase::Reduce,
        &mut counters.time.reduce_ms,
        || {
            Ok(run_reduces(
                &shared,
                &partitions,
                &warm,
                &out_dir,
                reduce_workers,
            ))
        },
    )??;
    for r in reduces {
        counters.add(&r);
    }
    counters.failed_attempts = shared.failed_attempts.load(Ordering::Relaxed);
    check_cancel(cfg)?;
    commit_phase(&shared, &out_dir, work.path(), &mut counters, job_start)?;
    drop(work);
    Ok(JobReport {
        output: cfg.output.clone(),
        counters,
        malformed_examples: malformed,
    })
}

/// Run `f` as one phase between its started and finished events and store
/// its time in `slot`. A phase whose `f` fails ends the job there, with no
/// finished event (map and reduce return their tasks' errors inside `Ok`, so
/// they are finished first and fail after).
fn timed<T>(
    on_event: OnEvent<'_>,
    phase: Phase,
    slot: &mut u64,
    f: impl FnOnce() -> Result<T, JobError>,
) -> Result<T, JobError> {
    on_event(&Event::PhaseStarted { phase });
    let t = Instant::now();
    let r = f()?;
    *slot = ms(t);
    on_event(&Event::PhaseFinished {
        phase,
        elapsed: t.elapsed(),
    });
    Ok(r)
}

fn refuse_existing_output(cfg: &JobConfig) -> Result<(), JobError> {
    if cfg.output.exists() && !cfg.overwrite {
        return Err(JobError::Usage(format!(
            "the output folder {} already exists; pass --overwrite to replace it, or choose another --output",
            cfg.output.display()
        )));
    }
    Ok(())
}

/// The split phase: the inputs, cut into splits at line boundaries.
fn plan(cfg: &JobConfig) -> Result<(Vec<InputSplit>, u64), JobError> {
    let files = list_inputs(&cfg.inputs)?;
    let input_bytes: u64 = files.iter().map(|f| f.1).sum();
    let split_size = cfg
        .split_size
        .unwrap_or_else(|| super::auto_split_size(input_bytes, cfg.parallelism));
    let splits = plan_splits(&files, split_size)
        .map_err(|e| JobError::Usage(format!("cannot read the inputs: {}", reason(&e))))?;
    Ok((splits, input_bytes))
}

/// The job's working folder sits beside the output, so the final rename
/// stays on one file system.
fn make_workdir(cfg: &JobConfig) -> Result<tempfile::TempDir, JobError> {
    let parent = match cfg.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| {
        JobError::Usage(format!(
            "cannot create the folder {} for the output: {}",
            parent.display(),
            reason(&e)
        ))
    })?;
    let base = cfg
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    tempfile::Builder::new()
        .prefix(&format!(".{base}.datalab-"))
        .tempdir_in(&parent)
        .map_err(|e| {
            JobError::Usage(format!(
                "cannot create a working folder in {}: {}",
                parent.display(),
                reason(&e)
            ))
        })
}

/// `spill/` and `out/` inside the working folder.
fn make_work_subdirs(work: &Path) -> Result<(PathBuf, PathBuf), JobError> {
    let spill_dir = work.join("spill");
    let out_dir = work.join("out");
    for d in [&spill_dir, &out_dir] {
        std::fs::create_dir_all(d).map_err(|e| {
            JobError::Failed(format!("cannot create {}: {}", d.display(), reason(&e)))
        })?;
    }
    Ok((spill_dir, out_dir))
}

/// The first wave of reducers starts now and waits on its stdin, so the
/// start-up of an interpreter (Python needs tens of milliseconds) overlaps
/// with the map phase, like Hadoop's reducer slow start.
fn warm_reducers(cfg: &JobConfig, reduce_workers: usize) -> WarmReducers<'_> {
    WarmReducers(
        cfg,
        (0..cfg.reducers)
            .map(|p| {
                Mutex::new(
                    (p < reduce_workers)
                        .then(|| spawn_reducer(cfg, p, 1).ok())
                        .flatten(),
                )
            })
            .collect(),
    )
}

/// The map phase (with the combiner inside each map task).
fn run_maps(
    shared: &Shared<'_>,
    splits: &[InputSplit],
    map_workers: usize,
) -> Result<Vec<MapOutput>, JobError> {
    run_pool(splits.len(), map_workers, |task| {
        with_retries(shared, TaskKind::Map, task, splits[task].len(), |attempt| {
            map_attempt(shared, task, &splits[task], attempt)
        })
        .map_err(|m| {
            JobError::Failed(format!(
                "map task {task} on split {} failed{m}",
                splits[task].describe()
            ))
        })
    })
}

/// Every map task's counters added up, a few malformed-line examples kept,
/// and the segments grouped by partition.
fn gather_maps(
    maps: Vec<MapOutput>,
    reducers: usize,
    counters: &mut Counters,
) -> (Vec<Vec<Segment>>, Vec<String>) {
    let mut malformed = Vec::new();
    let mut partitions: Vec<Vec<Segment>> = vec![Vec::new(); reducers];
    for m in maps {
        counters.add(&m.counters);
        for ex in m.malformed {
            if malformed.len() < EXAMPLES {
                malformed.push(ex);
            }
        }
        for (p, segs) in m.parts.into_iter().enumerate() {
            partitions[p].extend(segs);
        }
    }
    (partitions, malformed)
}

/// The shuffle: extra merge passes where a partition has too many segments.
fn shuffle(
    shared: &Shared<'_>,
    partitions: Vec<Vec<Segment>>,
    reduce_workers: usize,
    spilled_records: &mut u64,
) -> Result<Vec<Vec<Segment>>, JobError> {
    let needs: Vec<usize> = (0..partitions.len())
        .filter(|&p| partitions[p].len() > MERGE_FACTOR)
        .collect();
    if needs.is_empty() {
        return Ok(partitions);
    }
    let slots: Vec<Mutex<Vec<Segment>>> = partitions.into_iter().map(Mutex::new).collect();
    let spilled = run_pool(needs.len(), reduce_workers, |i| {
        let p = needs[i];
        let segs = std::mem::take(&mut *slots[p].lock().unwrap_or_else(|e| e.into_inner()));
        let (segs, n) = merge_passes(segs, &shared.spill_dir, &format!("r{p:05}"))
            .map_err(|e| JobError::Failed(format!("merging partition {p}: {e}")))?;
        *slots[p].lock().unwrap_or_else(|e| e.into_inner()) = segs;
        Ok(n)
    })?;
    *spilled_records += spilled.iter().sum::<u64>();
    Ok(slots
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect())
}

/// Sort-merge and reduce: one task per partition, the first attempt on the
/// reducer warmed up during the map phase.
fn run_reduces(
    shared: &Shared<'_>,
    partitions: &[Vec<Segment>],
    warm: &WarmReducers<'_>,
    out_dir: &Path,
    reduce_workers: usize,
) -> Result<Vec<Counters>, JobError> {
    run_pool(partitions.len(), reduce_workers, |p| {
        let segs = &partitions[p];
        let bytes: u64 = segs.iter().map(|s| s.len).sum();
        let records: u64 = segs.iter().map(|s| s.records).sum();
        let part = out_dir.join(format!("part-{p:05}"));
        with_retries(shared, TaskKind::Reduce, p, bytes, |attempt| {
            let child = if attempt == 1 { warm.take(p) } else { None };
            reduce_attempt(shared, p, segs, attempt, &part, child)
        })
        .map_err(|m| {
            JobError::Failed(format!(
                "reduce task {p} (partition {p}: {records} records, {bytes} bytes) failed{m}"
            ))
        })
    })
}

/// Commit: the output folder appears whole, with `_COUNTERS.json` and then
/// `_SUCCESS`.
fn commit_phase(
    shared: &Shared<'_>,
    out_dir: &Path,
    work: &Path,
    counters: &mut Counters,
    job_start: Instant,
) -> Result<(), JobError> {
    let on_event = shared.on_event;
    on_event(&Event::PhaseStarted {
        phase: Phase::Commit,
    });
    let t = Instant::now();
    let _ = std::fs::remove_dir_all(&shared.spill_dir);
    // The counters file is written before `_SUCCESS` and never touched
    // after, so commit time is the time up to writing it (the renames that
    // follow take microseconds).
    counters.time.commit_ms = ms(t);
    counters.time.total_ms = ms(job_start);
    commit(out_dir, &shared.cfg.output, work, counters)?;
    on_event(&Event::PhaseFinished {
        phase: Phase::Commit,
        elapsed: t.elapsed(),
    });
    on_event(&Event::Finished {
        counters: Box::new(counters.clone()),
    });
    Ok(())
}

fn validate(cfg: &JobConfig) -> Result<(), JobError> {
    if cfg.reducers == 0 {
        return Err(JobError::Usage("--reducers must be at least 1".into()));
    }
    if cfg.reducers > 10_000 {
        return Err(JobError::Usage("--reducers must be at most 10000".into()));
    }
    if cfg.split_size == Some(0) {
        return Err(JobError::Usage("--split-size must be more than 0".into()));
    }
    if cfg.memory < 1024 {
        return Err(JobError::Usage("--memory must be at least 1K".into()));
    }
    if cfg.max_attempts == 0 {
        return Err(JobError::Usage("--max-attempts must be at least 1".into()));
    }
    for (what, cmd) in [("--mapper", &cfg.mapper), ("--reducer", &cfg.reducer)] {
        if cmd.trim().is_empty() {
            return Err(JobError::Usage(format!("{what} is empty: give a command")));
        }
    }
    if let Some(c) = &cfg.combiner
        && c.trim().is_empty()
    {
        return Err(JobError::Usage(
            "--combiner is empty: give a command".into(),
        ));
    }
    Ok(())
}

fn ms(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

/// Write `_COUNTERS.json` and `_SUCCESS`, then move the finished folder to
/// `output` (an existing one, allowed by `--overwrite`, is moved aside
/// first and removed after).
fn commit(out_dir: &Path, output: &Path, work: &Path, counters: &Counters) -> Result<(), JobError> {
    let fail = |what: &str, e: io::Error| JobError::Failed(format!("{what}: {}", reason(&e)));
    let json = serde_json::to_vec_pretty(counters)
        .map_err(|e| JobError::Failed(format!("cannot write the counters: {e}")))?;
    std::fs::write(out_dir.join(COUNTERS_FILE), json)
        .map_err(|e| fail("cannot write the counters", e))?;
    File::create(out_dir.join("_SUCCESS")).map_err(|e| fail("cannot write _SUCCESS", e))?;
    if std::fs::symlink_metadata(output).is_ok() {
        std::fs::rename(output, work.join("old")).map_err(|e| {
            fail(
                &format!("cannot move the old {} out of the way", output.display()),
                e,
            )
        })?;
    }
    std::fs::rename(out_dir, output).map_err(|e| {
        fail(
            &format!("cannot move the output to {}", output.display()),
            e,
        )
    })
}

/// Run tasks `0..n` on `workers` threads; stop starting new tasks after the
/// first error, and return it.
fn run_pool<T: Send>(
    n: usize,
    workers: usize,
    f: impl Fn(usize) -> Result<T, JobError> + Sync,
) -> Result<Vec<T>, JobError> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    let first_error: Mutex<Option<JobError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers.max(1).min(n.max(1)) {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    match f(i) {
                        Ok(v) => results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(v),
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            let mut fe = first_error.lock().unwrap_or_else(|e| e.into_inner());
                            if fe.is_none() {
                                *fe = Some(e);
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    Ok(results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every task ran"))
        .collect())
}

trait HasCounters {
    fn counters(&self) -> &Counters;
}
impl HasCounters for MapOutput {
    fn counters(&self) -> &Counters {
        &self.counters
    }
}
impl HasCounters for Counters {
    fn counters(&self) -> &Counters {
        self
    }
}

/// Run attempts of a task until one succeeds or the tries run out; the
/// error is the last attempt's message.
fn with_retries<T: HasCounters>(
    shared: &Shared,
    kind: TaskKind,
    task: usize,
    bytes: u64,
    attempt_fn: impl Fn(u32) -> Result<T, TaskFailure>,
) -> Result<T, String> {
    let max = shared.cfg.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        if shared.cfg.cancel.is_cancelled() {
            return Err(": interrupted".into());
        }
        (shared.on_event)(&Event::TaskStarted {
            kind,
            task,
            attempt,
            bytes,
        });
        match attempt_fn(attempt) {
            Ok(v) => {
                (shared.on_event)(&Event::TaskFinished {
                    kind,
                    task,
                    attempt,
                    counters: Box::new(v.counters().clone()),
                });
                return Ok(v);
            }
            Err(f) => {
                shared.failed_attempts.fetch_add(1, Ordering::Relaxed);
                let will_retry = f.retry && attempt < max && !shared.cfg.cancel.is_cancelled();
                (shared.on_event)(&Event::TaskFailed {
                    kind,
                    task,
                    attempt,
                    will_retry,
                    message: f.message.clone(),
                });
                if !will_retry {
                    let tries = if attempt == 1 {
                        String::new()
                    } else {
                        format!(" ({attempt} attempts, all failed)")
                    };
                    return Err(format!("{tries}: {}", f.message));
                }
                attempt += 1;
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn grow_pipe(fd: &impl std::os::fd::AsRawFd) {
    // SAFETY: fcntl on a pipe fd we own; failure is harmless.
    unsafe {
        libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_SIZE);
    }
}
#[cfg(not(target_os = "linux"))]
fn grow_pipe<T>(_fd: &T) {}

fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// The failure of a command: its status and the end of its stderr.
fn command_failed(role: &str, cmd: &str, status: &str, stderr: &[u8]) -> TaskFailure {
    let t = tail(stderr, TAIL_LINES);
    let t = if t.is_empty() {
        " It printed nothing on stderr.".to_string()
    } else {
        format!(" The end of its stderr:\n{t}")
    };
    TaskFailure::retry(format!("the {role} `{cmd}` {status}.{t}"))
}

/// Feed a split to a mapper's stdin. Returns (records, bytes). A mapper that
/// stops reading early is not an error (like `head` in a shell pipeline).
fn feed_split(
    split: &InputSplit,
    mut stdin: ChildStdin,
    progress: impl Fn(u64),
) -> io::Result<(u64, u64)> {
    let mut f = File::open(&split.file)?;
    f.seek(SeekFrom::Start(split.start))?;
    let mut remaining = split.len();
    let mut buf = vec![0u8; CHUNK];
    let (mut records, mut bytes) = (0u64, 0u64);
    let mut last = b'\n';
    while remaining > 0 {
        let want = remaining.min(CHUNK as u64) as usize;
        let n = f.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        match stdin.write_all(chunk) {
            Ok(()) => {}
            Err(e) if is_broken_pipe(&e) => return Ok((records, bytes)),
            Err(e) => return Err(e),
        }
        records += memchr::memchr_iter(b'\n', chunk).count() as u64;
        bytes += n as u64;
        last = chunk[n - 1];
        remaining -= n as u64;
        progress(n as u64);
    }
    if last != b'\n' {
        records += 1;
    }
    Ok((records, bytes))
}

/// Parse `key\tvalue` lines from a mapper or combiner into a sort buffer.
struct Collector<'a> {
    buf: SortBuffer,
    reducers: usize,
    strict: bool,
    records: u64,
    bytes: u64,
    malformed: u64,
    examples: Vec<String>,
    strict_error: Option<String>,
    role: &'a str,
}

impl Collector<'_> {
    fn line(&mut self, line: &[u8]) -> io::Result<()> {
        if line.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\t', line) {
            Some(i) => {
                let key = &line[..i];
                self.records += 1;
                self.bytes += line.len() as u64 + 1;
                self.buf
                    .push(partition_of(key, self.reducers), key, &line[i + 1..])
            }
            None => {
                self.malformed += 1;
                let shown = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
                if self.examples.len() < EXAMPLES {
                    self.examples.push(shown.clone());
                }
                if self.strict {
                    self.strict_error = Some(format!(
                        "the {} wrote a line without a tab: {shown:?}. Output lines must be key<TAB>value (without --strict such lines are counted and skipped)",
                        self.role
                    ));
                    return Err(io::Error::other("strict"));
                }
                Ok(())
            }
        }
    }
}

/// Run one command over piped data: `feed` writes its stdin (in a thread),
/// its stdout is parsed into a new sort buffer. Returns the collector.
fn run_collecting<'a>(
    shared: &Shared,
    role: &'a str,
    cmd: &str,
    env: &[(&str, String)],
    name: String,
    feed: impl FnOnce(ChildStdin) -> io::Result<(u64, u64)> + Send,
) -> Result<(Collector<'a>, (u64, u64)), TaskFailure> {
    let cfg = shared.cfg;
    let mut child = spawn(cmd, cfg.workdir.as_deref(), env, &cfg.cancel)
        .map_err(|e| TaskFailure::io(&format!("cannot start the {role} `{cmd}`"), e))?;
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout: ChildStdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    grow_pipe(&stdin);
    grow_pipe(&stdout);
    let mut col = Collector {
        buf: SortBuffer::new(shared.budget, cfg.reducers, &shared.spill_dir, name),
        reducers: cfg.reducers,
        strict: cfg.strict,
        records: 0,
        bytes: 0,
        malformed: 0,
        examples: Vec::new(),
        strict_error: None,
        role,
    };
    let (read_res, fed, status, err) = std::thread::scope(|s| {
        let err_h = collect_stderr(s, stderr);
        let feed_h = s.spawn(move || feed(stdin));
        let read_res = for_each_line(BufReader::with_capacity(CHUNK, stdout), |l| col.line(l));
        if read_res.is_err() {
            let _ = child.kill();
        }
        let status = reap(&mut child, &cfg.cancel);
        let fed = feed_h
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the input feeder panicked")));
        let err = err_h.join().unwrap_or_default();
        (read_res, fed, status, err)
    });
    if let Some(msg) = col.strict_error.take() {
        return Err(TaskFailure {
            message: msg,
            retry: false,
        });
    }
    read_res.map_err(|e| TaskFailure::io(&format!("reading the {role}'s output"), e))?;
    let fed = fed.map_err(|e| TaskFailure::io(&format!("feeding the {role}"), e))?;
    let status = status.map_err(|e| TaskFailure::io(&format!("waiting for the {role}"), e))?;
    if !status.success() {
        return Err(command_failed(role, cmd, &describe_status(status), &err));
    }
    Ok((col, fed))
}

fn remove_runs(runs: &[Run]) {
    for r in runs {
        if let Some(seg) = r.first() {
            let _ = std::fs::remove_file(&*seg.path);
        }
    }
}

fn map_attempt(
    shared: &Shared,
    task: usize,
    split: &InputSplit,
    attempt: u32,
) -> Result<MapOutput, TaskFailure> {
    let cfg = shared.cfg;
    let env: Vec<(&str, String)> = vec![
        ("mapreduce_map_input_file", split.file.display().to_string()),
        ("map_input_file", split.file.display().to_string()),
        ("mapreduce_map_input_start", split.start.to_string()),
        ("mapreduce_map_input_length", split.len().to_string()),
        ("mapreduce_task_id", format!("m_{task:05}_{attempt}")),
        ("DATALAB_TASK", format!("map-{task}")),
    ];
    let on_event = shared.on_event;
    let (col, (in_records, in_bytes)) = run_collecting(
        shared,
        "mapper",
        &cfg.mapper,
        &env,
        format!("m{task:05}-a{attempt}"),
        |stdin| {
            feed_split(split, stdin, |n| {
                on_event(&Event::TaskProgress {
                    kind: TaskKind::Map,
                    task,
                    bytes: n,
                })
            })
        },
    )?;
    let mut counters = Counters {
        map_tasks: 1,
        map_input_records: in_records,
        map_input_bytes: in_bytes,
        map_output_records: col.records,
        map_output_bytes: col.bytes,
        malformed_records: col.malformed,
        ..Counters::default()
    };
    let mut malformed: Vec<String> = col
        .examples
        .iter()
        .map(|e| format!("{e:?} (map task {task}, {})", split.describe()))
        .collect();
    let (mut runs, spilled) = col
        .buf
        .finish()
        .map_err(|e| TaskFailure::io("spilling map output", e))?;
    counters.spilled_records += spilled;

    if let Some(combiner) = &cfg.combiner
        && !runs.is_empty()
    {
        let spill = (&mut counters, &mut malformed);
        runs = combine(shared, combiner, (task, attempt), &env, runs, spill)?;
    }
    let parts = (0..cfg.reducers)
        .map(|p| runs.iter().map(|r| r[p].clone()).collect())
        .collect();
    Ok(MapOutput {
        parts,
        counters,
        malformed,
    })
}

/// The combiner of one map task: the task's sorted runs, merged per
/// partition, go through the combiner, whose output is sorted into new runs.
fn combine(
    shared: &Shared,
    combiner: &str,
    (task, attempt): (usize, u32),
    env: &[(&str, String)],
    runs: Vec<Run>,
    (counters, malformed): (&mut Counters, &mut Vec<String>),
) -> Result<Vec<Run>, TaskFailure> {
    let by_part: Vec<Vec<Segment>> = (0..shared.cfg.reducers)
        .map(|p| runs.iter().map(|r| r[p].clone()).collect())
        .collect();
    let buf_size = (shared.budget / (runs.len() + 1)).clamp(16 << 10, 1 << 20);
    let result = run_collecting(
        shared,
        "combiner",
        combiner,
        env,
        format!("c{task:05}-a{attempt}"),
        |stdin| feed_partitions(&by_part, buf_size, stdin),
    );
    remove_runs(&runs);
    let (ccol, (cin, _)) = result?;
    counters.combine_input_records = cin;
    counters.combine_output_records = ccol.records;
    counters.malformed_records += ccol.malformed;
    malformed.extend(
        ccol.examples
            .iter()
            .map(|e| format!("{e:?} (combiner of map task {task})")),
    );
    let (cruns, cspilled) = ccol
        .buf
        .finish()
        .map_err(|e| TaskFailure::io("spilling combiner output", e))?;
    counters.spilled_records += cspilled;
    Ok(cruns)
}

/// Write every partition's merged records to a combiner's stdin; records
/// and bytes written. A combiner that stops reading early is not an error
/// here (its exit status tells).
fn feed_partitions(
    by_part: &[Vec<Segment>],
    buf_size: usize,
    stdin: ChildStdin,
) -> io::Result<(u64, u64)> {
    let mut w = BufWriter::with_capacity(CHUNK, stdin);
    let mut n = 0u64;
    let mut b = 0u64;
    let res = (|| {
        for segs in by_part {
            merge_segments(segs, buf_size, |line, _| {
                n += 1;
                b += line.len() as u64;
                w.write_all(line)
            })?;
        }
        w.flush()
    })();
    match res {
        Err(e) if is_broken_pipe(&e) => Ok((n, b)),
        Err(e) => Err(e),
        Ok(()) => Ok((n, b)),
    }
}

fn reduce_attempt(
    shared: &Shared,
    p: usize,
    segs: &[Segment],
    attempt: u32,
    part: &Path,
    started: Option<Child>,
) -> Result<Counters, TaskFailure> {
    let cfg = shared.cfg;
    let out = File::create(part)
        .map_err(|e| TaskFailure::io(&format!("cannot create {}", part.display()), e))?;
    let mut child = match started {
        Some(c) => c,
        None => spawn_reducer(cfg, p, attempt).map_err(|e| {
            TaskFailure::io(&format!("cannot start the reducer `{}`", cfg.reducer), e)
        })?,
    };
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    grow_pipe(&stdin);
    grow_pipe(&stdout);
    let on_event = shared.on_event;
    let buf_size = (shared.budget / (segs.len() + 1)).clamp(16 << 10, 1 << 20);
    let (copied, fed, status, err) = std::thread::scope(|s| {
        let err_h = collect_stderr(s, stderr);
        let feed_h = s.spawn(move || -> io::Result<(u64, u64, u64)> {
            let mut w = BufWriter::with_capacity(CHUNK, stdin);
            let (mut records, mut bytes, mut groups) = (0u64, 0u64, 0u64);
            let mut prev: Vec<u8> = Vec::new();
            let mut first = true;
            let mut pending = 0u64;
            let res = merge_segments(segs, buf_size, |line, klen| {
                let key = &line[..klen];
                if first || key != prev.as_slice() {
                    groups += 1;
                    prev.clear();
                    prev.extend_from_slice(key);
                    first = false;
                }
                records += 1;
                bytes += line.len() as u64;
                pending += line.len() as u64;
                if pending >= CHUNK as u64 {
                    on_event(&Event::TaskProgress {
                        kind: TaskKind::Reduce,
                        task: p,
                        bytes: pending,
                    });
                    pending = 0;
                }
                w.write_all(line)
            })
            .and_then(|_| w.flush());
            if pending > 0 {
                on_event(&Event::TaskProgress {
                    kind: TaskKind::Reduce,
                    task: p,
                    bytes: pending,
                });
            }
            match res {
                Err(e) if !is_broken_pipe(&e) => Err(e),
                _ => Ok((records, bytes, groups)),
            }
        });
        let copied = copy_counting(stdout, out);
        if copied.is_err() {
            let _ = child.kill();
        }
        let status = reap(&mut child, &cfg.cancel);
        let fed = feed_h
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reducer feeder panicked")));
        let err = err_h.join().unwrap_or_default();
        (copied, fed, status, err)
    });
    let (out_records, out_bytes) =
        copied.map_err(|e| TaskFailure::io(&format!("writing {}", part.display()), e))?;
    let (records, bytes, groups) = fed.map_err(|e| TaskFailure::io("feeding the reducer", e))?;
    let status = status.map_err(|e| TaskFailure::io("waiting for the reducer", e))?;
    if !status.success() {
        return Err(command_failed(
            "reducer",
            &cfg.reducer,
            &describe_status(status),
            &err,
        ));
    }
    Ok(Counters {
        reduce_tasks: 1,
        shuffle_bytes: bytes,
        reduce_input_groups: groups,
        reduce_input_records: records,
        reduce_output_records: out_records,
        reduce_output_bytes: out_bytes,
        ..Counters::default()
    })
}

fn spawn_reducer(cfg: &JobConfig, p: usize, attempt: u32) -> io::Result<Child> {
    let env: Vec<(&str, String)> = vec![
        ("mapreduce_task_partition", p.to_string()),
        ("mapreduce_task_id", format!("r_{p:05}_{attempt}")),
        ("DATALAB_TASK", format!("reduce-{p}")),
    ];
    spawn(&cfg.reducer, cfg.workdir.as_deref(), &env, &cfg.cancel)
}

/// Reducers started ahead of the reduce phase; the ones never used (the
/// job failed first) are killed when this is dropped.
struct WarmReducers<'a>(&'a JobConfig, Vec<Mutex<Option<Child>>>);

impl WarmReducers<'_> {
    fn take(&self, p: usize) -> Option<Child> {
        self.1
            .get(p)
            .and_then(|m| m.lock().unwrap_or_else(|e| e.into_inner()).take())
    }
}

impl Drop for WarmReducers<'_> {
    fn drop(&mut self) {
        for m in &self.1 {
            if let Some(mut c) = m.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = c.kill();
                let _ = reap(&mut c, &self.0.cancel);
            }
        }
    }
}

/// Copy a reducer's stdout to its part file; count lines and bytes.
fn copy_counting(mut from: ChildStdout, mut to: File) -> io::Result<(u64, u64)> {
    let mut buf = vec![0u8; CHUNK];
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut last = b'\n';
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..n])?;
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        bytes += n as u64;
        last = buf[n - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    Ok((lines, bytes))
}
