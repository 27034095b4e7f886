//! Running a step: ensure services, run the step's command, run its checks.

use crate::check::{CheckContext, CommandOutput, Outcome, Status};
use datalab_content::{Lab, Step};
use datalab_services::{Endpoint, Namespace, ServiceKind, Services, UpOptions, process};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where and as whom a lab runs.
#[derive(Clone)]
pub struct RunOptions {
    pub workspace: PathBuf,
    /// The lab's data materialised on disk (see [`materialize_data`]).
    pub lab_data: PathBuf,
    pub namespace: Namespace,
    pub services: Arc<Services>,
    /// Timeout for each client call of a check.
    pub check_timeout: Duration,
    /// Extra environment for the step's `run` command (after the
    /// `DATALAB_*` variables, so it may override them), e.g. where a lab
    /// panel wants a MapReduce job's events.
    pub env: Vec<(String, String)>,
}

/// One check's result.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub kind: String,
    pub description: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub duration_ms: u64,
}

/// One step's result.
#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    pub step: String,
    pub title: String,
    pub checks: Vec<CheckResult>,
    #[serde(skip)]
    pub command: Option<CommandOutput>,
    pub duration_ms: u64,
}

impl StepResult {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.outcome.passed())
    }
    pub fn errored(&self) -> bool {
        self.checks
            .iter()
            .any(|c| c.outcome.status == Status::Error)
    }
}

/// A whole lab's results.
#[derive(Clone, Debug, Serialize)]
pub struct LabRun {
    pub(crate) lab: String,
    pub steps: Vec<StepResult>,
}

/// Copy the lab's `data/` (from the trusted content) to `dest`, replacing
/// what is there, and return `dest`.
pub fn materialize_data(lab: &Lab, dest: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dest)?;
    let rel = format!("{}/data", lab.dir());
    if lab.content.is_dir(&rel) {
        lab.content.extract_dir(&rel, dest, true)?;
    }
    Ok(dest.to_path_buf())
}

/// Create a learner's workspace from `starter/` (and a copy of `data/`).
/// Files already there are never overwritten. Returns how many files were
/// written.
pub fn prepare_workspace(lab: &Lab, workspace: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(workspace)?;
    let mut n = lab
        .content
        .extract_dir(&format!("{}/starter", lab.dir()), workspace, false)?;
    let data = format!("{}/data", lab.dir());
    if lab.content.is_dir(&data) {
        n += lab
            .content
            .extract_dir(&data, &workspace.join("data"), false)?;
    }
    Ok(n)
}

/// Run a shell command from `cwd` with extra environment, a time limit, and
/// the datalab binary on PATH. On timeout the whole process group is killed;
/// processes it left running in the background are ended when it returns
/// (see [`run_command_in_group`] to keep them for a while).
pub async fn run_command(
    command: &str,
    cwd: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> CommandOutput {
    let (out, group) = run_command_in_group(command, cwd, env, timeout).await;
    if let Some(g) = group {
        g.end(Duration::from_secs(3)).await;
    }
    out
}

/// A step command's process group, which its background processes
/// (`consumer … &`) stay in. End it with [`ProcessGroup::end`] when they
/// should stop; if it is dropped instead (the run was abandoned: the TUI
/// quit, Ctrl-C on `datalab check`), it is ended there, so nothing a step
/// started outlives datalab.
#[derive(Debug)]
pub struct ProcessGroup {
    pgid: u32,
    ended: bool,
}

impl ProcessGroup {
    /// SIGTERM, then SIGKILL for whatever still runs after `grace`.
    pub(crate) async fn end(mut self, grace: Duration) {
        end_group(self.pgid, grace).await;
        self.ended = true;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if !self.ended {
            end_group_blocking(self.pgid, Duration::from_secs(1));
        }
    }
}

/// [`run_command`], also returning the command's process group (see
/// [`ProcessGroup`]).
pub async fn run_command_in_group(
    command: &str,
    cwd: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> (CommandOutput, Option<ProcessGroup>) {
    let mut cmd = shell(command, cwd, env);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut out = CommandOutput {
        command: command.to_string(),
        ..Default::default()
    };
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            out.stderr = format!("could not start `sh -c {command}`: {e}");
            return (out, None);
        }
    };
    let pid = child.id();
    // Armed from here: dropping this future (an abandoned run) ends the group.
    let group = pid.map(|pgid| ProcessGroup { pgid, ended: false });
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(o)) => {
            out.status = o.status.code();
            out.stdout = String::from_utf8_lossy(&o.stdout).into_owned();
            out.stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        }
        Ok(Err(e)) => out.stderr = format!("`{command}` failed: {e}"),
        Err(_) => {
            out.timed_out = true;
            // SIGTERM first: a `datalab mapreduce run` then kills its
            // tasks (in their own process groups) and removes its working
            // folder; whatever is left is killed after.
            if let Some(pid) = pid {
                end_group(pid, Duration::from_millis(500)).await;
            }
        }
    }
    (out, group)
}

/// `sh -c command` from `cwd` with `env`, the datalab binary first on PATH,
/// stdin closed, in a process group of its own (its pid is the group's id).
fn shell(command: &str, cwd: &Path, env: &[(String, String)]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .kill_on_drop(true);
    cmd.stdin(std::process::Stdio::null());
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut parts = vec![dir];
        parts.extend(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(parts) {
            cmd.env("PATH", joined);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    cmd.process_group(0);
    cmd
}

/// Start `command` like a step's command but without waiting for it: its
/// stdout and stderr go to `log`. The caller owns the child and its process
/// group (the child's pid), e.g. to kill it mid-run.
pub(crate) fn spawn_in_group(
    command: &str,
    cwd: &Path,
    env: &[(String, String)],
    log: &Path,
) -> std::io::Result<tokio::process::Child> {
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    let mut cmd = shell(command, cwd, env);
    cmd.stdout(out).stderr(err);
    cmd.spawn()
}

/// End what is left of a step command's process group: SIGTERM first (a
/// `datalab kafka consume --stay` or a Python consumer then leaves its group
/// properly), SIGKILL for whatever still runs after `grace`. Returns at once
/// when the group is already empty. The services layer's group stop, the
/// same one that stops native servers.
pub async fn end_group(pgid: u32, grace: Duration) {
    process::end_group(pgid, grace, Duration::ZERO, move || {
        process::group_alive(pgid)
    })
    .await;
}

/// [`end_group`], waiting on this thread (what a `Drop` uses).
fn end_group_blocking(pgid: u32, grace: Duration) {
    process::end_group_blocking(pgid, grace, Duration::ZERO, || process::group_alive(pgid));
}

/// The `DATALAB_*` environment every command a step runs sees (its `run`
/// command, and commands a check runs itself, such as the failover check's
/// producer): the namespace, the lab's data and the workspace. Callers add
/// the endpoints (`DATALAB_KAFKA_BOOTSTRAP`, …) and, when known, the lab
/// and step ids.
pub fn step_env(namespace: &Namespace, lab_data: &Path, workspace: &Path) -> Vec<(String, String)> {
    vec![
        ("DATALAB_NAMESPACE".into(), namespace.as_str().to_string()),
        ("DATALAB_LAB_DATA".into(), lab_data.display().to_string()),
        ("DATALAB_WORKSPACE".into(), workspace.display().to_string()),
    ]
}

/// The variables that name `ep` to a step's scripts: its address and, for a
/// Kafka this process has a login for (a room's shared cluster), the login
/// (`DATALAB_KAFKA_SASL_*`, see [`kafka_env`]).
fn endpoint_env(ep: &Endpoint) -> Vec<(String, String)> {
    match ep.kind {
        ServiceKind::Kafka => kafka_env(&ep.address),
        _ => {
            let (k, v) = ep.env_var();
            vec![(k.to_string(), v)]
        }
    }
}

/// `DATALAB_KAFKA_BOOTSTRAP` and, when a login is registered for it, the
/// variables a learner's own Kafka client presents it with. The password
/// goes only into the child's environment, never into output.
pub fn kafka_env(bootstrap: &str) -> Vec<(String, String)> {
    let mut env = vec![("DATALAB_KAFKA_BOOTSTRAP".into(), bootstrap.to_string())];
    env.extend(datalab_clients::kafka::login_env(bootstrap));
    env
}

/// Connect and log in the clients the checks will use while the step's
/// command runs (Kafka's; see `Kafka::warm_up`), in the background.
fn warm_up(ep: &Endpoint, timeout: Duration) {
    if ep.kind == ServiceKind::Kafka {
        let k = datalab_clients::kafka::Kafka::new(ep.kafka_bootstrap(), timeout);
        tokio::spawn(async move { k.warm_up().await });
    }
}

/// Run one step: bring up the services the lab needs, run the step's command
/// from the workspace, then every check. Never panics and never hangs past
/// the step's timeout plus each check's timeout.
pub async fn run_step(lab: &Lab, index: usize, opts: &RunOptions) -> StepResult {
    let started = Instant::now();
    let step: &Step = &lab.def.steps[index];
    let mut env = step_env(&opts.namespace, &opts.lab_data, &opts.workspace);
    env.push(("DATALAB_LAB".into(), lab.id.clone()));
    env.push(("DATALAB_STEP".into(), step.id.clone()));
    for kind in &lab.def.services {
        let want = UpOptions {
            nodes: step.nodes_of(*kind),
            ..Default::default()
        };
        match opts.services.ensure(*kind, &want).await {
            Ok(ep) => {
                warm_up(&ep, opts.check_timeout);
                env.extend(endpoint_env(&ep));
            }
            Err(e) => {
                let outcome = Outcome::from(e);
                return StepResult {
                    step: step.id.clone(),
                    title: step.title.clone(),
                    checks: step
                        .checks
                        .iter()
                        .map(|c| CheckResult {
                            kind: c.kind(),
                            description: crate::check::check_of(c).describe(),
                            outcome: outcome.clone(),
                            duration_ms: 0,
                        })
                        .collect(),
                    command: None,
                    duration_ms: started.elapsed().as_millis() as u64,
                };
            }
        }
    }
    env.extend(opts.env.iter().cloned());
    let (command, group) = match &step.run {
        Some(cmd) => {
            let timeout = Duration::from_secs(step.timeout.unwrap_or(60));
            let (out, group) = run_command_in_group(cmd, &opts.workspace, &env, timeout).await;
            (Some(out), group)
        }
        None => (None, None),
    };
    let ctx = CheckContext {
        workspace: opts.workspace.clone(),
        lab_data: opts.lab_data.clone(),
        namespace: opts.namespace.clone(),
        services: opts.services.clone(),
        step_output: command.clone(),
        timeout: opts.check_timeout,
        brokers: step.brokers.unwrap_or(1),
        nodes: step.nodes.unwrap_or(1),
        env: opts.env.clone(),
    };
    let mut checks = Vec::with_capacity(step.checks.len());
    for spec in &step.checks {
        let check = crate::check::check_of(spec);
        let t = Instant::now();
        // A check has its own client timeouts; this outer bound only stops a
        // check that forgot one from hanging the whole run.
        let outer = opts.check_timeout * 10 + Duration::from_secs(step.timeout.unwrap_or(60));
        let outcome = match tokio::time::timeout(outer, check.run(&ctx)).await {
            Ok(o) => o,
            Err(_) => Outcome::error(format!(
                "{} did not answer within {}s",
                check.describe(),
                outer.as_secs()
            )),
        };
        checks.push(CheckResult {
            kind: spec.kind(),
            description: check.describe(),
            outcome,
            duration_ms: t.elapsed().as_millis() as u64,
        });
    }
    // Background processes of the step's command (step 5's consumers) end
    // with its checks instead of outliving the step.
    if let Some(g) = group {
        g.end(Duration::from_secs(3)).await;
    }
    StepResult {
        step: step.id.clone(),
        title: step.title.clone(),
        checks,
        command,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}
