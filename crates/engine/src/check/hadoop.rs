//! Checks on real Hadoop: what a job wrote to HDFS (read back over
//! WebHDFS), a finished job's counters (the JobHistory server's REST API)
//! and a file's blocks and replication (the NameNode). They start the
//! `hadoop` service like any check's service, and judge what Hadoop itself
//! reports, never what a command printed.

use super::generic::{parse_text, tail_lines};
use super::mapreduce::{example, expected, judge, parse_parts};
use super::{Check, CheckContext, Outcome};
use async_trait::async_trait;
use datalab_clients::hadoop::{self, HistoryJob, WebHdfs, hdfs_path};
use datalab_content::checks::generic::Format;
use datalab_content::checks::hadoop::*;
use datalab_services::ServiceKind;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The job property naming its output folder.
const OUTPUT_DIR: &str = "mapreduce.output.fileoutputformat.outputdir";
/// How long a just-finished job may take to show in JobHistory.
const HISTORY_WAIT: Duration = Duration::from_secs(20);

/// A learner-readable "Hadoop is not there" error.
fn not_running(e: impl std::fmt::Display) -> Outcome {
    Outcome::error(format!(
        "hadoop is not running: start it with `datalab services up hadoop` ({e})"
    ))
}

/// WebHDFS of the lab's Hadoop (started if it is not running).
async fn webhdfs(ctx: &CheckContext) -> Result<WebHdfs, Outcome> {
    let ep = ctx
        .endpoint(ServiceKind::Hadoop)
        .await
        .map_err(not_running)?;
    // Listing a job's output or a big file takes longer than a ping.
    let timeout = ctx.timeout.max(Duration::from_secs(10));
    WebHdfs::of_address(&ep.address, timeout)
        .ok_or_else(|| Outcome::error(format!("{} is not an hdfs://host:port", ep.address)))
}

/// The HDFS path of a lab.yaml parameter (a typo is not the learner's fault).
fn path_of(uri: &str) -> Result<String, Outcome> {
    hdfs_path(uri).ok_or_else(|| {
        Outcome::error(format!(
            "lab.yaml: `{uri}` is not an hdfs:// path (hdfs:///folder/file)"
        ))
    })
}

/// A WebHDFS or JobHistory call that failed: the cluster is gone, or it
/// answered something unexpected.
fn call_failed(e: String) -> Outcome {
    if e.contains("Connection refused") || e.contains("did not answer") {
        not_running(e)
    } else {
        Outcome::error(format!("hadoop: {e}"))
    }
}

/// The learner's answers (`key: number` in a YAML file of the workspace)
/// compared with what Hadoop reports (`facts`); `source` says where to look.
fn check_answers(
    ctx: &CheckContext,
    a: &Answers,
    facts: &BTreeMap<String, u64>,
    source: &str,
) -> Result<Vec<String>, Outcome> {
    let fail = |m: String| Outcome::fail(m).in_file(&a.path);
    let text = std::fs::read_to_string(ctx.ws(&a.path))
        .map_err(|_| fail(format!("{} is missing: write your answers there", a.path)))?;
    let v = parse_text(&text, Format::Yaml).map_err(|e| fail(format!("{}:{e}", a.path)))?;
    let mut seen = Vec::new();
    for (key, fact) in &a.keys {
        // Lint checks the names; a counter the job never touched is 0.
        let want = facts.get(fact).copied().unwrap_or(0);
        let got = &v[key.as_str()];
        let Some(n) = got.as_u64() else {
            return Err(fail(format!(
                "{}: `{key}` should be a whole number, got {got}",
                a.path
            )));
        };
        if n != want {
            return Err(fail(format!(
                "{}: `{key}: {n}` is not what Hadoop reports ({fact}); look at {source}",
                a.path
            )));
        }
        seen.push(format!("{key} = {n}"));
    }
    Ok(seen)
}

/// A failed or timed-out step command: its output says why, not HDFS.
fn step_failed(ctx: &CheckContext, what: &str) -> Option<Outcome> {
    let out = ctx.step_output.as_ref()?;
    if out.timed_out {
        return Some(Outcome::fail(format!(
            "`{}` did not finish in time",
            out.command
        )));
    }
    (out.status != Some(0)).then(|| {
        let tail = tail_lines(&format!("{}\n{}", out.stdout, out.stderr), 15);
        Outcome::fail(format!(
            "`{}` failed, so {what} was not written:\n{tail}",
            out.command
        ))
    })
}

/// A failure pointing at the learner's file, when there is one.
fn fail_at(file: Option<&String>, m: String) -> Outcome {
    match file {
        Some(f) => Outcome::fail(m).in_file(f),
        None => Outcome::fail(m),
    }
}

/// " (look at mapper.py and reducer.py)", for an output's failures.
fn blame(c: &HdfsOutput) -> String {
    match c.files.is_empty() {
        true => String::new(),
        false => format!(" (look at {})", c.files.join(" and ")),
    }
}

/// The job's part files (name, text), read from HDFS.
async fn read_parts(
    c: &HdfsOutput,
    web: &WebHdfs,
    dir: &str,
) -> Result<Vec<(String, String)>, Outcome> {
    let fail = |m: String| fail_at(c.files.first(), m);
    let entries = match web.status(dir).await.map_err(call_failed)? {
        Some(s) if s.is_dir => web.list(dir).await.map_err(call_failed)?,
        _ => {
            return Err(fail(format!(
                "{} is not in HDFS: run the step's command, with `--output {}`",
                c.path, c.path
            )));
        }
    };
    if !entries.iter().any(|e| e.name == "_SUCCESS") {
        return Err(fail(format!(
            "{} has no _SUCCESS file: the job has not run to the end",
            c.path
        )));
    }
    let mut parts = Vec::new();
    for e in entries.iter().filter(|e| e.name.starts_with("part-")) {
        let text = (web.read(&format!("{dir}/{}", e.name)).await).map_err(call_failed)?;
        parts.push((e.name.clone(), text));
    }
    Ok(parts)
}

#[async_trait]
impl Check for HdfsOutput {
    fn describe(&self) -> String {
        format!("{} in HDFS holds the expected output", self.path)
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        if let Some(o) = step_failed(ctx, &self.path) {
            return o;
        }
        let (dir, web) = match (path_of(&self.path), webhdfs(ctx).await) {
            (Ok(d), Ok(w)) => (d, w),
            (Err(o), _) | (_, Err(o)) => return o,
        };
        let input = ctx.lab_data.join(&self.input);
        let want = match expected(self.expect, &input, self.n.unwrap_or(3)) {
            Ok(w) => w,
            Err(e) => return Outcome::error(format!("cannot read the lab's data: {e}")),
        };
        let parts = match read_parts(self, &web, &dir).await {
            Ok(p) => p,
            Err(o) => return o,
        };
        let (got, lines, origin) = parse_parts(&parts);
        if lines == 0 {
            return fail_at(
                self.files.first(),
                format!(
                    "{} is empty: the job ran but wrote no records; expected {} keys{}{}",
                    self.path,
                    want.len(),
                    example(&want),
                    blame(self)
                ),
            );
        }
        match judge(&self.path, &want, (&got, &origin), &blame(self)) {
            Ok(m) => Outcome::pass(format!("{m} (read from HDFS)")),
            Err(m) => fail_at(self.files.first(), m),
        }
    }
}

/// The newest finished job whose output folder is `dir`, waiting a little
/// for a job that has just ended to reach the JobHistory server.
async fn job_writing(
    history: &str,
    dir: &str,
    timeout: Duration,
) -> Result<Option<HistoryJob>, String> {
    let started = Instant::now();
    loop {
        for job in hadoop::history_jobs(history, timeout).await? {
            let out = hadoop::job_property(history, &job.id, OUTPUT_DIR, timeout).await?;
            if out.and_then(|o| hdfs_path(&o)).as_deref() == Some(dir) {
                return Ok(Some(job));
            }
        }
        if started.elapsed() > HISTORY_WAIT {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// A counters failure, with the lab's advice.
fn counters_fail(k: &HadoopCounters, m: String) -> Outcome {
    let m = match &k.advice {
        Some(a) => format!("{m}. {a}"),
        None => m,
    };
    fail_at(k.file.as_ref(), m)
}

/// `at_least` and `less_than` on the job's counters.
fn judge_counters(k: &HadoopCounters, c: &BTreeMap<String, u64>) -> Result<Vec<String>, Outcome> {
    // A counter the job never touched is not reported: 0 (lint checks the
    // names).
    let get = |name: &String| Ok::<u64, Outcome>(c.get(name).copied().unwrap_or(0));
    let mut seen = Vec::new();
    for (name, min) in &k.at_least {
        let v = get(name)?;
        if v < *min {
            return Err(counters_fail(
                k,
                format!("{name} is {v}, expected at least {min}"),
            ));
        }
        seen.push(format!("{name} = {v}"));
    }
    for (a, b) in &k.less_than {
        let (va, vb) = (get(a)?, get(b)?);
        if va >= vb {
            return Err(counters_fail(
                k,
                format!("{a} is {va}, which is not less than {b} ({vb})"),
            ));
        }
        seen.push(format!("{a} = {va} < {b} = {vb}"));
    }
    Ok(seen)
}

#[async_trait]
impl Check for HadoopCounters {
    fn describe(&self) -> String {
        let mut parts: Vec<String> = (self.at_least.iter())
            .map(|(k, v)| format!("{k} ≥ {v}"))
            .collect();
        parts.extend(self.less_than.iter().map(|(a, b)| format!("{a} < {b}")));
        if let Some(a) = &self.answers {
            parts.push(format!("your answers in {}", a.path));
        }
        format!(
            "the counters of the job that wrote {}: {}",
            self.output,
            parts.join(", ")
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let (dir, web) = match (path_of(&self.output), webhdfs(ctx).await) {
            (Ok(d), Ok(w)) => (d, w),
            (Err(o), _) | (_, Err(o)) => return o,
        };
        let history = web.history();
        let job = match job_writing(&history, &dir, web.timeout).await {
            Ok(Some(j)) => j,
            Ok(None) => {
                return Outcome::fail(format!(
                    "no finished job in Hadoop's JobHistory wrote {}: run the step that writes it (with `--engine hadoop --output {}`)",
                    self.output, self.output
                ));
            }
            Err(e) => return call_failed(e),
        };
        if job.state != "SUCCEEDED" {
            return counters_fail(
                self,
                format!(
                    "the job {} that wrote {} {}",
                    job.id, self.output, job.state
                ),
            );
        }
        let counters = match hadoop::job_counters(&history, &job.id, web.timeout).await {
            Ok(c) => c,
            Err(e) => return call_failed(e),
        };
        let mut seen = match judge_counters(self, &counters) {
            Ok(s) => s,
            Err(o) => return o,
        };
        if let Some(a) = &self.answers {
            let source = format!(
                "the counters `datalab mapreduce run` printed, or http://{history}/ws/v1/history/mapreduce/jobs/{}/counters",
                job.id
            );
            match check_answers(ctx, a, &counters, &source) {
                Ok(s) => seen.extend(s),
                Err(o) => return o,
            }
        }
        Outcome::pass(format!("job {}: {}", job.id, seen.join(", ")))
    }
}

/// What the NameNode says of the file: blocks, replication, block size and
/// length.
async fn block_facts(
    c: &HdfsBlocks,
    web: &WebHdfs,
    path: &str,
) -> Result<BTreeMap<String, u64>, Outcome> {
    let fail = |m: String| fail_at(c.file.as_ref(), m);
    let status = match web.status(path).await.map_err(call_failed)? {
        Some(s) if !s.is_dir => s,
        Some(_) => return Err(fail(format!("{} is a folder, not a file", c.path))),
        None => {
            return Err(fail(format!(
                "{} is not in HDFS: upload it (run the step's command)",
                c.path
            )));
        }
    };
    let blocks = match web.blocks(path).await {
        Ok(b) => b.len() as u64,
        // A WebHDFS without GETFILEBLOCKLOCATIONS: a file written once is
        // full blocks and the rest.
        Err(e) if e.contains(" answered ") => status.length.div_ceil(status.block_size.max(1)),
        Err(e) => return Err(call_failed(e)),
    };
    Ok(BTreeMap::from([
        ("blocks".to_string(), blocks),
        ("replication".to_string(), status.replication),
        ("block_size".to_string(), status.block_size),
        ("length".to_string(), status.length),
    ]))
}

#[async_trait]
impl Check for HdfsBlocks {
    fn describe(&self) -> String {
        match (self.min_blocks, &self.answers) {
            (Some(n), _) => format!("{} is stored in at least {n} HDFS blocks", self.path),
            (None, Some(a)) => format!("{} says how {} is stored in HDFS", a.path, self.path),
            (None, None) => format!("{} is in HDFS", self.path),
        }
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        if let Some(o) = step_failed(ctx, &self.path) {
            return o;
        }
        let (path, web) = match (path_of(&self.path), webhdfs(ctx).await) {
            (Ok(d), Ok(w)) => (d, w),
            (Err(o), _) | (_, Err(o)) => return o,
        };
        let facts = match block_facts(self, &web, &path).await {
            Ok(f) => f,
            Err(o) => return o,
        };
        let (n, size) = (facts["blocks"], facts["block_size"]);
        if let Some(min) = self.min_blocks.filter(|m| n < *m) {
            return fail_at(
                self.file.as_ref(),
                format!(
                    "{} is {} bytes in {n} block(s) of {size} bytes; it should take at least {min}: upload it with a smaller block size (`-D dfs.blocksize=1m`)",
                    self.path, facts["length"]
                ),
            );
        }
        let mut seen = vec![format!(
            "{} blocks of {size} bytes, replication {}",
            n, facts["replication"]
        )];
        if let Some(a) = &self.answers {
            let source = format!("`datalab hdfs fsck {path} -files -blocks`");
            match check_answers(ctx, a, &facts, &source) {
                Ok(s) => seen.extend(s),
                Err(o) => return o,
            }
        }
        Outcome::pass(format!("{}: {}", self.path, seen.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;

    #[test]
    fn a_cluster_that_is_gone_says_how_to_start_it() {
        let o = call_failed("127.0.0.1:9871: Connection refused (os error 111)".into());
        assert_eq!(o.status, Status::Error);
        assert!(
            o.message
                .starts_with("hadoop is not running: start it with `datalab services up hadoop`"),
            "{}",
            o.message
        );
        let other = call_failed("http://h/x answered 500".into());
        assert!(other.message.starts_with("hadoop: "), "{}", other.message);
    }

    #[test]
    fn lab_paths_must_be_hdfs_uris() {
        assert_eq!(path_of("hdfs:///lab/wc").unwrap(), "/lab/wc");
        let o = path_of("out/wc").unwrap_err();
        assert_eq!(o.status, Status::Error);
        assert!(o.message.contains("lab.yaml"), "{}", o.message);
    }
}
