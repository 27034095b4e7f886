//! `kafka_exactly_once_pipeline`: the learner's consume-transform-produce
//! program is started, killed (SIGKILL to its process group) at a random
//! point while it writes, started again, and must finish the input; then the
//! topics themselves, read with read_committed, must show every order scored
//! exactly once. The failover check's sibling: it breaks the learner's
//! process instead of a broker.

pub mod events;
mod model;

use super::kafka::{blame, client, kafka_err, plural, records, topic_info};
use super::{Check, CheckContext, Outcome};
use async_trait::async_trait;
use datalab_clients::kafka::Kafka;
use datalab_content::checks::kafka::ExactlyOncePipeline;
use datalab_services::ServiceKind;
use events::{Event, Sink};
use model::{Model, judge, some};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often the output's log is looked at while waiting for the kill point.
const POLL: Duration = Duration::from_millis(40);
/// How often the group's committed offsets are read.
const GROUP_EVERY: Duration = Duration::from_millis(400);
/// How long the restarted program may take to exit after finishing.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// The learner's program in its own process group, killed with it when
/// dropped (a check that fails half-way leaves nothing running).
struct Program {
    child: tokio::process::Child,
    pgid: i32,
    log: PathBuf,
}

impl Program {
    fn kill(&self) {
        #[cfg(unix)]
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.pgid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }

    /// `Some(exit code)` (`-1` for a signal) once the program has ended.
    fn exited(&mut self) -> Option<i32> {
        match self.child.try_wait() {
            Ok(Some(s)) => Some(s.code().unwrap_or(-1)),
            _ => None,
        }
    }

    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let t = super::generic::tail_lines(&text, 5);
        if t.is_empty() { t } else { format!("\n{t}") }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One check run: the client, the full names, what to expect.
struct Run<'a> {
    spec: &'a ExactlyOncePipeline,
    ctx: &'a CheckContext,
    k: Kafka,
    env: Vec<(String, String)>,
    input: String,
    output: String,
    group: String,
    orders: i64,
    sink: Sink,
}

impl Run<'_> {
    fn err(&self, e: datalab_clients::kafka::KafkaError) -> Outcome {
        kafka_err(self.ctx, e, &self.spec.output)
    }

    /// Records in the output's log, open and aborted transactions included.
    async fn in_log(&self) -> Result<i64, Outcome> {
        let w = self
            .k
            .watermarks(&self.output)
            .await
            .map_err(|e| self.err(e))?;
        Ok(w.iter().map(|(_, lo, hi)| hi - lo).sum())
    }

    /// Orders the group has committed on the input, and whether that is all.
    async fn scored(&self) -> Result<(i64, bool), Outcome> {
        let g = self
            .k
            .describe_group(&self.group, std::slice::from_ref(&self.input))
            .await
            .map_err(|e| self.err(e))?;
        let done = !g.offsets.is_empty() && g.offsets.iter().all(|o| o.committed == Some(o.end));
        Ok((g.committed_total(), done))
    }

    fn start(&self, run: u32, expected: usize) -> Result<Program, Outcome> {
        let out = self.ctx.ws("out");
        let _ = std::fs::create_dir_all(&out);
        let log = out.join(format!("pipeline-run{run}.log"));
        let child =
            crate::lab::spawn_in_group(&self.spec.program, &self.ctx.workspace, &self.env, &log)
                .map_err(|e| {
                    Outcome::error(format!("cannot start `{}`: {e}", self.spec.program))
                })?;
        let pgid = child.id().unwrap_or(0) as i32;
        self.sink.send(&Event::Started {
            run,
            orders: self.orders,
            expected_alerts: expected,
        });
        Ok(Program { child, pgid, log })
    }

    /// Why a program that ended by itself is a failure.
    fn ended(&self, p: &Program, code: i32, when: &str) -> Outcome {
        let how = if code == 0 {
            "ended".to_string()
        } else {
            format!("exited with {code}")
        };
        Outcome::fail(format!(
            "`{}` {how} {when} (its output: {}){}",
            self.spec.program,
            p.log.display(),
            p.tail()
        ))
    }

    /// The first run, killed once the output holds `target` records.
    /// Returns the orders committed and the records in the log at the kill.
    async fn until_kill(&self, expected: usize) -> Result<(i64, i64), Outcome> {
        // Early enough (a fifth to two fifths of the alerts) that a busy machine
        // still sees it before a correct program, paced by the model's latency,
        // is done.
        let target = fastrand::i64((expected as i64 / 5).max(1)..=(expected as i64 * 2 / 5).max(1));
        let mut p = self.start(1, expected)?;
        let deadline = Instant::now() + Duration::from_secs(self.spec.within);
        let mut group_at = Instant::now();
        loop {
            if let Some(code) = p.exited() {
                let when = format!(
                    "before the check could kill it (it was to be killed once {} held {target} records; a correct program keeps to batches of at most 10 orders and sleeps the model's latency_ms per batch, so it is still running then)",
                    self.spec.output
                );
                return Err(self.ended(&p, code, &when));
            }
            let alerts = self.in_log().await?;
            // The group's offsets only feed the live view here: not too often.
            if group_at.elapsed() >= GROUP_EVERY * 3 {
                group_at = Instant::now();
                let (scored, _) = self.scored().await?;
                self.sink.send(&Event::Progress {
                    run: 1,
                    scored,
                    alerts,
                });
            }
            if alerts >= target {
                break;
            }
            if Instant::now() >= deadline {
                return Err(Outcome::fail(format!(
                    "`{}` wrote {} to {} within {} s, expected at least {target} before the kill{}",
                    self.spec.program,
                    plural(alerts as usize, "record"),
                    self.spec.output,
                    self.spec.within,
                    p.tail()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        // A random moment inside the batch being written.
        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..80))).await;
        p.kill();
        let _ = p.child.wait().await;
        let alerts = self.in_log().await?;
        let (scored, _) = self.scored().await?;
        self.sink.send(&Event::Killed { scored, alerts });
        Ok((scored, alerts))
    }

    /// The restart: it must take the group to the end of the input.
    async fn to_the_end(&self, expected: usize) -> Result<(), Outcome> {
        let mut p = self.start(2, expected)?;
        let deadline = Instant::now() + Duration::from_secs(self.spec.within);
        loop {
            let (scored, done) = self.scored().await?;
            let alerts = self.in_log().await?;
            self.sink.send(&Event::Progress {
                run: 2,
                scored,
                alerts,
            });
            if done {
                break;
            }
            if let Some(code) = p.exited() {
                let when = format!(
                    "after the restart with group {} at {scored} of {} orders of {}",
                    self.spec.group, self.orders, self.spec.input
                );
                return Err(self.ended(&p, code, &when));
            }
            if Instant::now() >= deadline {
                return Err(Outcome::fail(format!(
                    "after the restart, group {} committed {scored} of {} orders of {} within {} s (a killed producer's open transaction is aborted only when a producer with the same transactional.id starts){}",
                    self.spec.group,
                    self.orders,
                    self.spec.input,
                    self.spec.within,
                    p.tail()
                )));
            }
            tokio::time::sleep(GROUP_EVERY).await;
        }
        // Done: let it exit by itself, or end it as the runner ends a step.
        let exit_by = Instant::now() + EXIT_GRACE;
        while p.exited().is_none() && Instant::now() < exit_by {
            tokio::time::sleep(POLL * 5).await;
        }
        if p.exited().is_none() {
            crate::lab::end_group(p.pgid as u32, Duration::from_secs(3)).await;
        }
        Ok(())
    }
}

/// The lab's model, from its trusted data.
fn load_model(ctx: &CheckContext, rel: &str) -> Result<Model, Outcome> {
    let p = ctx.lab_data.join(rel);
    let text = std::fs::read_to_string(&p).map_err(|e| {
        Outcome::error(format!(
            "the lab's model {} cannot be read: {e}",
            p.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| Outcome::error(format!("lab data {rel}:{}:{}: {e}", e.line(), e.column())))
}

/// The state before the first run must be clean, or the verdict means nothing.
async fn clean_start(run: &Run<'_>) -> Result<(), Outcome> {
    topic_info(run.ctx, &run.k, &run.spec.output).await?;
    let n = run.in_log().await?;
    if n > 0 {
        return Err(Outcome::fail(format!(
            "{} already holds {} before the program runs: the step's command must delete and re-create it",
            run.spec.output,
            plural(n as usize, "record")
        )));
    }
    let (scored, _) = run.scored().await?;
    if scored > 0 {
        return Err(Outcome::fail(format!(
            "group {} has already committed {scored} orders of {} before the program runs: the step's command must delete the group",
            run.spec.group, run.spec.input
        )));
    }
    Ok(())
}

/// The verdict from the output, read with read_committed.
async fn verify(
    run: &Run<'_>,
    expected: &BTreeMap<String, f64>,
    (scored, in_log): (i64, i64),
) -> Result<String, Outcome> {
    let k = &run.k;
    let ctx = run.ctx;
    let committed = records(ctx, k, &run.spec.output, true).await?;
    let all = records(ctx, k, &run.spec.output, false).await?;
    let v = judge(expected, &committed);
    let out = &run.spec.output;
    if !v.ok() {
        let mut why = Vec::new();
        if !v.duplicated.is_empty() {
            why.push(format!(
                "scored twice: {} (their alerts were committed but the orders' offsets were not: send the offsets with send_offsets_to_transaction so both commit together)",
                some(&v.duplicated)
            ));
        }
        if !v.missing.is_empty() {
            why.push(format!(
                "missing: {} (offsets committed without their alerts: commit them in the alerts' transaction, not before)",
                some(&v.missing)
            ));
        }
        if !v.wrong_score.is_empty() {
            why.push(format!(
                "wrong score (order, written, expected): {}",
                some(&v.wrong_score)
            ));
        }
        if !v.extra.is_empty() {
            why.push(format!(
                "alerts for orders under the threshold or unknown: {}",
                some(&v.extra)
            ));
        }
        if !v.unreadable.is_empty() {
            why.push(format!(
                "not a JSON alert with order_id and score: {}",
                some(&v.unreadable)
            ));
        }
        return Err(Outcome::fail(format!(
            "after a kill (with {scored} orders committed, {in_log} records in {out}'s log) and a restart, {out} read with read_committed has {}, expected {}: {}",
            plural(v.alerts, "alert"),
            expected.len(),
            why.join("; ")
        )));
    }
    Ok(format!(
        "killed with {scored} orders committed and {in_log} records in {out}'s log, restarted: all {} orders of {} scored once, {} alerts, none duplicated or missing; group {} committed the end of {}; {} of the killed run aborted",
        run.orders,
        run.spec.input,
        v.alerts,
        run.spec.group,
        run.spec.input,
        plural(all.len().saturating_sub(committed.len()), "record")
    ))
}

async fn check(spec: &ExactlyOncePipeline, ctx: &CheckContext) -> Result<String, Outcome> {
    let model = load_model(ctx, &spec.model)?;
    let ep = ctx
        .endpoint(ServiceKind::Kafka)
        .await
        .map_err(Outcome::from)?;
    let k = client(ctx).await?;
    let input = records(ctx, &k, &spec.input, true).await?;
    if input.is_empty() {
        return Err(Outcome::fail(format!(
            "{} has no records: produce the orders first (step 2: `datalab check kafka 2`)",
            spec.input
        )));
    }
    let expected = model::expected_alerts(&model, &input).map_err(|e| {
        Outcome::fail(format!(
            "{} {e}: produce the current data/orders.jsonl again (step 2)",
            spec.input
        ))
    })?;
    let mut env = crate::lab::step_env(&ctx.namespace, &ctx.lab_data, &ctx.workspace);
    env.extend(crate::lab::kafka_env(ep.kafka_bootstrap()));
    env.extend(ctx.env.iter().cloned());
    let run = Run {
        spec,
        ctx,
        k,
        env,
        input: ctx.namespace.topic(&spec.input),
        output: ctx.namespace.topic(&spec.output),
        group: ctx.namespace.group(&spec.group),
        orders: input.len() as i64,
        sink: Sink::from_env(&ctx.env),
    };
    clean_start(&run).await?;
    let at_kill = run.until_kill(expected.len()).await?;
    run.to_the_end(expected.len()).await?;
    verify(&run, &expected, at_kill).await
}

#[async_trait]
impl Check for ExactlyOncePipeline {
    fn describe(&self) -> String {
        format!(
            "`{}` survives a kill: every record of {} scored once into {}, group {} at the end",
            self.program, self.input, self.output, self.group
        )
    }

    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let out = check(self, ctx).await;
        let sink = Sink::from_env(&ctx.env);
        let o = match out {
            Ok(m) => Outcome::pass(m),
            Err(o) => o,
        };
        sink.send(&Event::Done {
            passed: o.passed(),
            message: o.message.clone(),
        });
        blame(o, &self.file)
    }
}
