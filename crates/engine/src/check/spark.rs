//! Checks for the Spark lab. They judge what Spark did, not what the script
//! printed: the output files the job wrote and the application's event log
//! (see `spark_log.rs`). The expected answers are computed here from the
//! lab's trusted data, the word count with the MapReduce lab's own code.

use super::mapreduce::{Table, compare, expected, read_output};
use super::spark_log::{App, Execution, newest_app};
use super::{CheckContext, Outcome};
use crate::check::Check;
use async_trait::async_trait;
use datalab_content::checks::mapreduce::Expect;
use datalab_content::checks::spark::*;
use std::collections::BTreeMap;
use std::path::Path;

/// A failure pointing at the learner's script when there is one.
pub(super) fn fail(file: &Option<String>, msg: String) -> Outcome {
    match file {
        Some(f) => Outcome::fail(msg).in_file(f),
        None => Outcome::fail(msg),
    }
}

/// Lines of a job's output that are Spark's own noise: its
/// `yy/MM/dd HH:mm:ss LEVEL` log lines, its start-up notes, Java stack
/// frames.
fn noise(l: &str) -> bool {
    let b = l.as_bytes();
    let log =
        b.len() > 18 && b[0].is_ascii_digit() && b[2] == b'/' && b[5] == b'/' && b[11] == b':';
    // Java stack frames: the exception's own line says what went wrong.
    let frame = l.trim_start().starts_with("at ") || l.trim_start().starts_with("... ");
    log || frame
        || l.trim().is_empty()
        || l.starts_with("WARNING: Using incubator modules")
        || l.starts_with("Using Spark's default log4j profile")
}

/// The last lines of what a failed job printed. spark-submit passes the
/// Python traceback to its stdout, after whatever went to stderr.
fn job_tail(stdout: &str, stderr: &str, n: usize) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .chain(stdout.lines())
        .filter(|l| !noise(l))
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A step command that failed or timed out: say so instead of judging an
/// older event log or output.
pub(super) fn job_failed(ctx: &CheckContext, file: &Option<String>) -> Option<Outcome> {
    let out = ctx.step_output.as_ref()?;
    if out.timed_out {
        return Some(fail(
            file,
            format!("`{}` did not finish in time", out.command),
        ));
    }
    (out.status != Some(0)).then(|| {
        fail(
            file,
            format!(
                "the Spark job failed (`{}` exited with {}):\n{}",
                out.command,
                out.status.map_or("a signal".into(), |s| s.to_string()),
                job_tail(&out.stdout, &out.stderr, 12)
            ),
        )
    })
}

/// What every event-log check starts with: the step's job ran to its end
/// (else say how it failed), and the application it logged in `dir`.
fn finished_app(ctx: &CheckContext, dir: &str, file: &Option<String>) -> Result<App, Outcome> {
    match job_failed(ctx, file) {
        Some(o) => Err(o),
        None => app_of(ctx, dir, file),
    }
}

/// The newest application of the step's event log folder, ended.
fn app_of(ctx: &CheckContext, dir: &str, file: &Option<String>) -> Result<App, Outcome> {
    let app = newest_app(&ctx.ws(dir)).map_err(|e| {
        fail(
            file,
            format!("no Spark event log ({e}): run the script with `datalab spark submit --event-log {dir} …`"),
        )
    })?;
    if !app.ended {
        return Err(fail(
            file,
            format!(
                "the Spark application `{}` ({}) has not ended: it is still running or was killed before spark.stop()",
                app.name,
                app.file.display()
            ),
        ));
    }
    Ok(app)
}

/// The execution of `app` that wrote the folder `output` of the workspace.
fn writer<'a>(app: &'a App, ctx: &CheckContext, output: &str) -> Option<&'a Execution> {
    let path = ctx.ws(output);
    let mut names = vec![path.display().to_string()];
    if let Ok(real) = std::fs::canonicalize(&path) {
        names.push(real.display().to_string());
    }
    app.executions.iter().rev().find(|x| {
        x.plan_mentions("InsertIntoHadoopFsRelationCommand")
            && names.iter().any(|n| x.plan_mentions(&format!("{n},")))
    })
}

/// The writing execution, succeeded, or why not.
fn written<'a>(
    app: &'a App,
    ctx: &CheckContext,
    output: &str,
    file: &Option<String>,
) -> Result<&'a Execution, Outcome> {
    let x = writer(app, ctx, output).ok_or_else(|| {
        fail(
            file,
            format!(
                "the Spark application `{}` wrote nothing to {output}: write the result with `df.write.mode(\"overwrite\").csv(\"{output}\", sep=\"\\t\")`",
                app.name
            ),
        )
    })?;
    match &x.error {
        Some(e) => Err(fail(
            file,
            format!(
                "Spark's write of {output} failed: {}",
                e.lines().next().unwrap_or("")
            ),
        )),
        None => Ok(x),
    }
}

/// Money as cents, so sums are exact.
fn cents(text: &str) -> Option<i64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .map(|v| (v * 100.0).round() as i64)
}

fn money(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

fn csv_rows(path: &Path) -> std::io::Result<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(path)?;
    let rows = text.lines().skip(1).filter(|l| !l.trim().is_empty());
    Ok(rows
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect())
}

/// country → revenue (two decimals) over the orders of known customers.
pub fn revenue_per_country(shop: &Path) -> std::io::Result<Table> {
    let countries: BTreeMap<String, String> = csv_rows(&shop.join("customers.csv"))?
        .into_iter()
        .filter(|r| r.len() == 3)
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect();
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for r in csv_rows(&shop.join("orders.csv"))? {
        if let (Some(country), Some(c)) = (countries.get(&r[1]), r.get(2).and_then(|a| cents(a))) {
            *sums.entry(country.clone()).or_default() += c;
        }
    }
    Ok(sums.into_iter().map(|(k, c)| (k, vec![money(c)])).collect())
}

/// The learner's numbers written the way the expected ones are.
fn as_money(t: Table) -> Table {
    t.into_iter()
        .map(|(k, vs)| {
            let vs = vs
                .into_iter()
                .map(|v| cents(&v).map(money).unwrap_or(v))
                .collect();
            (k, vs)
        })
        .collect()
}

fn want(c: &SparkOutput, ctx: &CheckContext) -> std::io::Result<Table> {
    let input = ctx.lab_data.join(&c.input);
    match c.expect {
        SparkExpect::Wordcount => expected(Expect::Wordcount, &input, 0),
        SparkExpect::RevenuePerCountry => revenue_per_country(&input),
    }
}

/// Compare the `part-*` files with the answer.
fn judge(c: &SparkOutput, ctx: &CheckContext, app: &App) -> Outcome {
    let want = match want(c, ctx) {
        Ok(w) => w,
        Err(e) => return Outcome::error(format!("cannot read the lab's data: {e}")),
    };
    let got = match read_output(&ctx.ws(&c.output)) {
        Ok((t, _, _)) if c.expect == SparkExpect::RevenuePerCountry => as_money(t),
        Ok((t, _, _)) => t,
        Err(e) => return fail(&c.file, format!("cannot read {}: {e}", c.output)),
    };
    match compare(&want, &got) {
        None => Outcome::pass(format!(
            "{}: all {} keys are right, written by Spark application `{}`",
            c.output,
            want.len(),
            app.name
        )),
        Some(d) => fail(
            &c.file,
            format!(
                "{}: {}. Of {} expected keys: {} (a line is key<TAB>value: write with sep=\"\\t\", no header)",
                c.output,
                d.first,
                want.len(),
                d.counts()
            ),
        ),
    }
}

#[async_trait]
impl Check for SparkOutput {
    fn describe(&self) -> String {
        let what = match self.expect {
            SparkExpect::Wordcount => "the word counts",
            SparkExpect::RevenuePerCountry => "the revenue per country",
        };
        format!("Spark wrote {what} to {}", self.output)
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let app = match finished_app(ctx, &self.event_log, &self.file) {
            Ok(a) => a,
            Err(o) => return o,
        };
        if let Err(o) = written(&app, ctx, &self.output, &self.file) {
            return o;
        }
        if !ctx.ws(&self.output).join("_SUCCESS").exists() {
            return fail(
                &self.file,
                format!(
                    "{} has no _SUCCESS file: the write did not finish",
                    self.output
                ),
            );
        }
        judge(self, ctx, &app)
    }
}

/// `#2 count 8.04 s` for each execution, with what it did to the cache.
fn timeline(app: &App) -> String {
    let line = |x: &Execution| {
        let t = x.seconds().map_or("?".into(), |s| format!("{s:.2} s"));
        let cache = match (x.cached_blocks, x.plan_mentions("InMemoryTableScan")) {
            (0, true) => ", read from the cache".to_string(),
            (n, _) if n > 0 => format!(", stored {n} cached blocks"),
            _ => String::new(),
        };
        format!("#{} {} {t}{cache}", x.id, x.action())
    };
    let parts: Vec<String> = app.executions.iter().map(line).collect();
    parts.join("; ")
}

#[async_trait]
impl Check for SparkCache {
    fn describe(&self) -> String {
        "a second action is served from Spark's cache".into()
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let app = match finished_app(ctx, &self.event_log, &self.file) {
            Ok(a) => a,
            Err(o) => return o,
        };
        let runs = timeline(&app);
        let Some(fill) = app.executions.iter().position(|x| x.cached_blocks > 0) else {
            return fail(
                &self.file,
                format!(
                    "no action of `{}` stored a cached block, so nothing was cached: call .cache() on the DataFrame before its first action. Actions: {runs}",
                    app.name
                ),
            );
        };
        let hit = app.executions[fill + 1..]
            .iter()
            .find(|x| x.cached_blocks == 0 && x.plan_mentions("InMemoryTableScan"));
        match hit {
            Some(x) => Outcome::pass(format!(
                "action #{} was served from memory (InMemoryTableScan, no block computed again). Actions: {runs}",
                x.id
            )),
            None => fail(
                &self.file,
                format!(
                    "action #{} filled the cache but no later action read it without computing it again: run the same action on the cached DataFrame a second time. Actions: {runs}",
                    app.executions[fill].id
                ),
            ),
        }
    }
}

#[async_trait]
impl Check for SparkShuffle {
    fn describe(&self) -> String {
        format!("the plan that wrote {} shuffles (Exchange)", self.output)
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let app = match finished_app(ctx, &self.event_log, &self.file) {
            Ok(a) => a,
            Err(o) => return o,
        };
        let x = match written(&app, ctx, &self.output, &self.file) {
            Ok(x) => x,
            Err(o) => return o,
        };
        let exchange = x.plans.iter().flat_map(|p| p.lines()).find(|l| {
            l.contains("Exchange") && !l.contains("BroadcastExchange") && !l.contains("Reused")
        });
        match (exchange, x.shuffle_bytes_written) {
            (Some(_), n) if n > 0 => Outcome::pass(format!(
                "the plan that wrote {} has an Exchange ({}); its tasks wrote {n} bytes of shuffle data",
                self.output,
                x.plan_line("hashpartitioning(")
                    .unwrap_or_else(|| "a shuffle".into())
            )),
            (None, _) => fail(
                &self.file,
                format!(
                    "the plan that wrote {} has no Exchange: nothing was shuffled. Join and group with DataFrame operations (join, groupBy) so that Spark plans the shuffle",
                    self.output
                ),
            ),
            (Some(l), _) => fail(
                &self.file,
                format!(
                    "the plan has `{}` but its tasks wrote no shuffle data",
                    l.trim()
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_summed_in_cents() {
        assert_eq!(cents("17.50"), Some(1750));
        assert_eq!(cents("0.1"), Some(10));
        assert_eq!(money(123456), "1234.56");
        assert_eq!(money(5), "0.05");
        assert_eq!(cents("abc"), None);
    }

    #[test]
    fn spark_log_lines_are_left_out_of_a_failure() {
        let err = "26/12/01 14:55:01 WARN NativeCodeLoader: no\nTraceback (most recent call last):\n  File \"x.py\"\nNameError: boom\n\tat org.apache.spark.Foo(Foo.scala:1)\n\t... 12 more\n26/12/01 14:55:02 INFO ShutdownHookManager: bye\n";
        assert_eq!(
            job_tail("", err, 12),
            "Traceback (most recent call last):\n  File \"x.py\"\nNameError: boom"
        );
    }
}
