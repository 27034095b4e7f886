//! `datalab mapreduce run --engine hadoop`: the same job on real Hadoop (the
//! native `hadoop` service, started when needed) through Hadoop Streaming.
//! The local `--input` is uploaded to HDFS, the mapper, reducer and combiner
//! commands run as they do with datalab's engine (each as a small `sh`
//! script shipped with `-files`, along with the local files the command
//! names), and the output is copied back to the local `--output` when the
//! job ends, so the same command line works with either engine; an
//! `hdfs://` input or output is used where it is (and the output stays in
//! HDFS, for `datalab hdfs` and the lab's checks to read). Hadoop's
//! progress lines and counters are shown as the client prints them.

use super::Ctx;
use super::mapreduce::RunArgs;
use datalab_services::HadoopClient;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Lines of a failed Hadoop command shown with its error.
const TAIL: usize = 25;

pub(super) fn run(a: &RunArgs, ctx: &Ctx) -> ExitCode {
    match run_job(a, ctx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datalab mapreduce (hadoop): {e}");
            ExitCode::from(1)
        }
    }
}

fn run_job(a: &RunArgs, ctx: &Ctx) -> Result<(), String> {
    check_args(a)?;
    let t0 = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("datalab-hadoop-job")
        .tempdir()
        .map_err(|e| format!("cannot create a working folder: {e}"))?;
    let job = Job {
        client: client(ctx, a.quiet)?,
        dir: format!(
            "/{}/jobs/job-{}-{}",
            // The learner's namespace prefix, so `services reset` finds it.
            ctx.namespace.database("datalab"),
            datalab_services::process::now_secs(),
            std::process::id()
        ),
        quiet: a.quiet,
    };
    let result = job.run(a, work.path());
    if let Err(e) = job.fs(&["-rm", "-r", "-f", "-skipTrash", &job.dir]) {
        eprintln!("warning: could not remove {} from HDFS: {e}", job.dir);
    }
    result?;
    if !a.quiet {
        println!(
            "Job succeeded in {:.2}s on Hadoop ({}); output in {}{}",
            t0.elapsed().as_secs_f64(),
            job.client.endpoint.address,
            a.output.display(),
            match is_hdfs(&a.output) {
                true => " (read it with `datalab hdfs dfs -cat`)",
                false => "",
            }
        );
    }
    Ok(())
}

/// `hdfs://…`: a path in the cluster's HDFS rather than a local one.
pub(super) fn is_hdfs(p: &Path) -> bool {
    p.to_string_lossy().starts_with("hdfs://")
}

/// What cannot work before anything starts.
fn check_args(a: &RunArgs) -> Result<(), String> {
    if a.json {
        return Err("--json reports datalab's engine's counters; with --engine hadoop the counters are Hadoop's, printed at the end".into());
    }
    if !is_hdfs(&a.output) && a.output.exists() && !a.overwrite {
        return Err(format!(
            "the output folder {} already exists; pass --overwrite to replace it, or choose another --output",
            a.output.display()
        ));
    }
    match a.input.iter().find(|p| !is_hdfs(p) && !p.exists()) {
        Some(p) => Err(format!("the input {} does not exist", p.display())),
        None => Ok(()),
    }
}

/// Start (or reuse) the native Hadoop service.
pub(super) fn client(ctx: &Ctx, quiet: bool) -> Result<HadoopClient, String> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let progress = move |m: &str| {
        if !quiet {
            eprintln!("hadoop: {m}");
        }
    };
    rt.block_on(ctx.services.hadoop_client(&progress))
        .map_err(|e| e.to_string())
}

/// `java -cp <conf>:<jars> <main> args…`: one of Hadoop's own tools.
pub(super) fn java(client: &HadoopClient, main: &str, args: &[&str]) -> Command {
    let mut c = Command::new(&client.java);
    c.arg("-Xmx512m")
        .args(client.jvm_args())
        .arg("-cp")
        .arg(client.client_classpath())
        .arg(main)
        .args(args)
        .stdin(Stdio::null());
    c
}

struct Job {
    client: HadoopClient,
    /// The job's folder in HDFS (`input/`, `output/`).
    dir: String,
    quiet: bool,
}

impl Job {
    fn run(&self, a: &RunArgs, work: &Path) -> Result<(), String> {
        let input = self.upload(&a.input)?;
        if is_hdfs(&a.output) {
            let output = a.output.display().to_string();
            if a.overwrite {
                self.fs(&["-rm", "-r", "-f", "-skipTrash", &output])?;
            }
            return self.streaming(&streaming_args(a, work, &input, &output)?);
        }
        let output = format!("{}/output", self.dir);
        self.streaming(&streaming_args(a, work, &input, &output)?)?;
        self.fetch(&output, &a.output, a.overwrite)
    }

    /// The job's `-input`: the `hdfs://` inputs as they are, the local ones
    /// uploaded to the job's HDFS folder first.
    fn upload(&self, inputs: &[PathBuf]) -> Result<String, String> {
        let (remote, local): (Vec<&PathBuf>, Vec<&PathBuf>) =
            inputs.iter().partition(|p| is_hdfs(p));
        let mut all: Vec<String> = remote.iter().map(|p| p.display().to_string()).collect();
        if !local.is_empty() {
            let input = format!("{}/input", self.dir);
            self.fs(&["-mkdir", "-p", &input])?;
            let mut put: Vec<String> = vec!["-put".into()];
            put.extend(local.iter().map(|p| p.display().to_string()));
            put.push(input.clone());
            self.say(&format!("uploading the input to HDFS {input}"));
            self.fs(&put.iter().map(String::as_str).collect::<Vec<_>>())?;
            all.push(input);
        }
        Ok(all.join(","))
    }

    fn say(&self, line: &str) {
        if !self.quiet {
            eprintln!("hadoop: {line}");
        }
    }

    fn java(&self, main: &str, args: &[&str]) -> Command {
        java(&self.client, main, args)
    }

    /// One FsShell command; its last lines when it fails.
    fn fs(&self, args: &[&str]) -> Result<(), String> {
        let out = self
            .java("org.apache.hadoop.fs.FsShell", args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.client.java.display()))?;
        if out.status.success() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = text.lines().rev().take(TAIL).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "`hadoop fs {}` failed:\n{}",
            args.join(" "),
            tail.join("\n")
        ))
    }

    /// Run Hadoop Streaming, showing the client's job lines (progress,
    /// counters) as they come.
    fn streaming(&self, args: &[String]) -> Result<(), String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = self
            .java("org.apache.hadoop.streaming.HadoopStreaming", &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.client.java.display()))?;
        // The client logs on stdout; stderr holds what the JVM says.
        let stderr = child.stderr.take();
        let errors = std::thread::spawn(move || {
            let lines = stderr.map(|e| BufReader::new(e).lines().map_while(Result::ok).collect());
            lines.unwrap_or_else(Vec::new)
        });
        let mut tail = VecDeque::new();
        if let Some(out) = child.stdout.take() {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if !self.quiet && shown(&line) {
                    let _ = writeln!(std::io::stderr(), "{}", short(&line));
                }
                tail.push_back(line);
                if tail.len() > TAIL {
                    tail.pop_front();
                }
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        let errors: Vec<String> = errors.join().unwrap_or_default();
        if status.success() {
            return Ok(());
        }
        tail.extend(errors.into_iter().rev().take(TAIL).rev());
        Err(format!(
            "the Hadoop Streaming job failed ({status}):\n{}",
            Vec::from(tail).join("\n")
        ))
    }

    /// Copy the job's output folder to `local` (built beside it, then moved
    /// into place, like datalab's engine).
    fn fetch(&self, output: &str, local: &Path, overwrite: bool) -> Result<(), String> {
        let name = local.file_name().unwrap_or_default().to_string_lossy();
        let building = local.with_file_name(format!(".{name}.hadoop-part"));
        let _ = std::fs::remove_dir_all(&building);
        if let Some(parent) = building.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        self.say(&format!("copying {output} to {}", local.display()));
        self.fs(&["-get", output, &building.display().to_string()])?;
        if overwrite && local.exists() {
            std::fs::remove_dir_all(local)
                .map_err(|e| format!("cannot replace {}: {e}", local.display()))?;
        }
        std::fs::rename(&building, local)
            .map_err(|e| format!("cannot move the output to {}: {e}", local.display()))
    }
}

/// The client's lines worth showing: the job's progress and counters, and
/// errors (log lines are `date time LEVEL [thread] logger (source) - text`).
pub(super) fn shown(line: &str) -> bool {
    let is_log = line
        .get(..4)
        .is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit()));
    !is_log || line.contains(" mapreduce.Job ") || line.contains(" ERROR ")
}

/// A log line without its date, level, thread and logger.
fn short(line: &str) -> &str {
    match line.split_once(") - ") {
        Some((_, text)) => text,
        None => line,
    }
}

/// The arguments of Hadoop Streaming for this job: generic options (`-D`,
/// `-files`) first, then the streaming ones.
fn streaming_args(
    a: &RunArgs,
    work: &Path,
    input: &str,
    output: &str,
) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    let mut commands = vec![("mapper", ship("mapper", &a.mapper, work, &mut files)?)];
    if let Some(c) = &a.combiner {
        commands.push(("combiner", ship("combiner", c, work, &mut files)?));
    }
    commands.push(("reducer", ship("reducer", &a.reducer, work, &mut files)?));
    let mut props = vec![
        format!("mapreduce.job.reduces={}", a.reducers),
        "mapreduce.input.fileinputformat.input.dir.recursive=true".to_string(),
        format!("mapreduce.map.maxattempts={}", a.max_attempts),
        format!("mapreduce.reduce.maxattempts={}", a.max_attempts),
        "mapreduce.job.name=datalab streaming".to_string(),
        // One attempt per task unless one fails: a speculative copy would
        // run a learner's task twice and count it twice.
        "mapreduce.map.speculative=false".to_string(),
        "mapreduce.reduce.speculative=false".to_string(),
    ];
    if let Some(s) = a.split_size {
        props.push(format!("mapreduce.input.fileinputformat.split.maxsize={s}"));
    }
    let mut args = Vec::new();
    for p in props {
        args.extend(["-D".to_string(), p]);
    }
    let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(["-files".to_string(), files.join(",")]);
    for (role, cmd) in commands {
        args.extend([format!("-{role}"), cmd]);
    }
    args.extend([
        "-input".into(),
        input.into(),
        "-output".into(),
        output.into(),
    ]);
    Ok(args)
}

/// A command as a task runs it: a `sh` script of the command, with every
/// word naming a local file replaced by the file's name (the file is shipped
/// beside the script, into the task's working folder).
fn ship(
    role: &str,
    command: &str,
    work: &Path,
    files: &mut Vec<PathBuf>,
) -> Result<String, String> {
    let mut text = command.to_string();
    for (i, word) in command.split_whitespace().enumerate() {
        let word = word.trim_matches(|c| c == '"' || c == '\'');
        let path = Path::new(word);
        if (i > 0 || word.contains('/')) && path.is_file() {
            let abs = std::fs::canonicalize(path).map_err(|e| format!("{word}: {e}"))?;
            let name = abs
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            text = text.replace(word, &name);
            if !files.contains(&abs) {
                files.push(abs);
            }
        }
    }
    let script = work.join(format!("datalab-{role}.sh"));
    std::fs::write(&script, format!("#!/bin/sh\n# datalab's {role}\n{text}\n"))
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    files.push(script);
    Ok(format!("sh datalab-{role}.sh"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_files_a_command_names_are_shipped_by_name() {
        let work = tempfile::tempdir().unwrap();
        let script = work.path().join("m.py");
        std::fs::write(&script, "").unwrap();
        let mut files = Vec::new();
        let cmd = format!("python3 {} | sort", script.display());
        let run = ship("mapper", &cmd, work.path(), &mut files).unwrap();
        assert_eq!(run, "sh datalab-mapper.sh");
        let text = std::fs::read_to_string(work.path().join("datalab-mapper.sh")).unwrap();
        assert!(text.ends_with("python3 m.py | sort\n"), "{text}");
        assert_eq!(files.len(), 2);
    }

    #[test]
    fn the_job_lines_are_shown_without_their_logger() {
        let progress = "2026-12-01 11:34:58,123 INFO  [main] mapreduce.Job (Job.java:monitorAndPrintJob(1745)) -  map 50% reduce 0%";
        assert!(shown(progress));
        assert_eq!(short(progress), " map 50% reduce 0%");
        let chatter = "2026-12-01 11:33:58,356 WARN  [main] util.NativeCodeLoader (NativeCodeLoader.java:<clinit>(60)) - Unable to load";
        assert!(!shown(chatter));
        assert!(shown("\tFile System Counters"));
    }
}
