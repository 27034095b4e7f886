//! `datalab spark …`: Apache Spark from PyPI (PySpark carries Spark and runs
//! on Java 17) in datalab's Python venv, and `spark-submit` with what the
//! lab needs: the event log as plain JSON lines (the checks read it), the
//! Kafka connector's jars when asked, Spark bound to 127.0.0.1.

use super::Ctx;
use clap::{Args, Subcommand};
use datalab_services::spark::{PYSPARK_VERSION, SUBMITS_ENV, SubmitLine};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(Subcommand, Debug)]
pub enum SparkCommand {
    /// Install PySpark into datalab's Python venv (~/.cache/datalab/venv, or
    /// $DATALAB_VENV) and fetch the Spark Kafka connector's jars with Maven
    Install(InstallArgs),
    /// Run a PySpark script with spark-submit (local[*] unless --master says
    /// otherwise), writing Spark's event log to --event-log
    Submit(SubmitArgs),
}

#[derive(Args, Debug)]
pub struct InstallArgs {
    /// Do not fetch the Kafka connector (Structured Streaming from Kafka needs it)
    #[arg(long)]
    pub no_kafka: bool,
}

#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// Where the job runs: local[*], local[2], spark://host:7077, yarn, k8s://https://…
    #[arg(long, default_value = "local[*]", value_name = "URL")]
    pub master: String,
    /// Folder for Spark's event log (plain JSON lines, one file per application)
    #[arg(long, default_value = "spark-events", value_name = "DIR")]
    pub event_log: PathBuf,
    /// Put the Kafka connector's jars on the job's classpath (readStream/writeStream format "kafka")
    #[arg(long)]
    pub kafka: bool,
    /// More Spark settings, KEY=VALUE (repeatable)
    #[arg(long, value_name = "KEY=VALUE")]
    pub conf: Vec<String>,
    /// The PySpark script
    pub script: PathBuf,
    /// Arguments for the script
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn run(cmd: SparkCommand, ctx: &Ctx, rt: &tokio::runtime::Runtime) -> ExitCode {
    let result = match cmd {
        SparkCommand::Install(a) => install(&a, ctx, rt),
        SparkCommand::Submit(a) => submit(&a, ctx, rt),
    };
    result.unwrap_or_else(|e| {
        eprintln!("datalab spark: {e}");
        ExitCode::from(1)
    })
}

/// datalab's Python venv: `$DATALAB_VENV`, else `<cache>/venv`.
fn venv(ctx: &Ctx) -> PathBuf {
    std::env::var_os("DATALAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| ctx.services.config.cache_dir.join("venv"))
}

/// The PySpark version installed in the venv, if any.
fn installed(venv: &Path) -> Option<String> {
    let out = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('pyspark'))",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn status_of(what: &str, r: std::io::Result<std::process::ExitStatus>) -> Result<(), String> {
    match r {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{what} failed ({s})")),
        Err(e) => Err(format!("cannot run {what}: {e}")),
    }
}

fn install(a: &InstallArgs, ctx: &Ctx, rt: &tokio::runtime::Runtime) -> Result<ExitCode, String> {
    let venv = venv(ctx);
    if !venv.join("bin/python").is_file() {
        eprintln!("spark: creating the Python venv {}", venv.display());
        let r = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        status_of(
            "python3 -m venv (Debian: apt-get install -y python3-venv)",
            r,
        )?;
    }
    match installed(&venv) {
        Some(v) if v == PYSPARK_VERSION => eprintln!("spark: PySpark {v} is installed"),
        _ => pip_install(ctx, &venv)?,
    }
    if !a.no_kafka {
        let jars = kafka_jars(ctx, rt)?;
        eprintln!("spark: Kafka connector: {} jars in the cache", jars.len());
    }
    println!(
        "PySpark {PYSPARK_VERSION} is ready in {}: run jobs with `datalab spark submit SCRIPT`",
        venv.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `pip install pyspark==…`, pip's cache under datalab's (the wheel pip
/// builds from the 450 MB source archive is kept there).
fn pip_install(ctx: &Ctx, venv: &Path) -> Result<(), String> {
    let cache = ctx.services.config.cache_dir.join("pip");
    eprintln!(
        "spark: pip install pyspark=={PYSPARK_VERSION} into {} (about 450 MB, a few minutes the first time)",
        venv.display()
    );
    let r = Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "--disable-pip-version-check"])
        .arg(format!("pyspark=={PYSPARK_VERSION}"))
        .env("PIP_CACHE_DIR", cache)
        .status();
    status_of("pip install pyspark", r)
}

fn kafka_jars(ctx: &Ctx, rt: &tokio::runtime::Runtime) -> Result<Vec<PathBuf>, String> {
    let progress = |m: &str| eprintln!("spark: {m}");
    rt.block_on(ctx.services.spark_kafka_jars(&progress))
        .map_err(|e| e.to_string())
}

/// The settings every lab job gets: an uncompressed, unrolled event log
/// with block updates (what the checks read), no console progress bars.
fn lab_confs(event_log: &Path) -> Vec<String> {
    [
        "spark.eventLog.enabled=true".to_string(),
        format!("spark.eventLog.dir=file://{}", event_log.display()),
        "spark.eventLog.compress=false".into(),
        "spark.eventLog.rolling.enabled=false".into(),
        "spark.eventLog.logBlockUpdates.enabled=true".into(),
        "spark.ui.showConsoleProgress=false".into(),
    ]
    .into()
}

fn absolute(p: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?;
    std::fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn submit(a: &SubmitArgs, ctx: &Ctx, rt: &tokio::runtime::Runtime) -> Result<ExitCode, String> {
    let venv = venv(ctx);
    let spark_submit = venv.join("bin/spark-submit");
    if !spark_submit.is_file() {
        return Err(format!(
            "PySpark is not installed in {}: run `datalab spark install` once",
            venv.display()
        ));
    }
    if !a.script.is_file() {
        return Err(format!("the script {} does not exist", a.script.display()));
    }
    let mut cmd = Command::new(&spark_submit);
    cmd.args(["--master", &a.master]);
    let event_log = absolute(&a.event_log)?;
    let mut confs = lab_confs(&event_log);
    confs.extend(a.conf.iter().cloned());
    for c in confs {
        cmd.args(["--conf", &c]);
    }
    if a.kafka {
        let jars: Vec<String> = kafka_jars(ctx, rt)?
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        cmd.args(["--jars", &jars.join(",")]);
    }
    cmd.arg(&a.script).args(&a.args);
    announce(&event_log);
    let status = cmd.envs(spark_env(&venv)).status();
    match status {
        Ok(s) => Ok(ExitCode::from(s.code().unwrap_or(1).clamp(0, 255) as u8)),
        Err(e) => Err(format!("cannot run {}: {e}", spark_submit.display())),
    }
}

/// Tell a TUI panel following this run (see [`SUBMITS_ENV`]) where Spark's
/// event log goes; without the variable, or if the file cannot be written,
/// the job runs all the same.
fn announce(event_log: &Path) {
    let Some(file) = std::env::var_os(SUBMITS_ENV) else {
        return;
    };
    let at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let line = SubmitLine {
        event_log: event_log.to_path_buf(),
        at_ms,
    };
    let Ok(json) = serde_json::to_string(&line) else {
        return;
    };
    use std::io::Write;
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .and_then(|mut f| writeln!(f, "{json}"));
    if let Err(e) = appended {
        eprintln!("spark: cannot tell the lab panel about this run: {e}");
    }
}

/// spark-submit needs the venv's `bin/` on PATH ("PySpark was not found"
/// otherwise); without SPARK_LOCAL_IP Spark binds to the external interface.
fn spark_env(venv: &Path) -> Vec<(String, String)> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut parts = vec![venv.join("bin")];
    parts.extend(std::env::split_paths(&path));
    let path = std::env::join_paths(parts).unwrap_or(path);
    let mut env = vec![
        ("PATH".into(), path.to_string_lossy().into_owned()),
        (
            "PYSPARK_PYTHON".into(),
            venv.join("bin/python").display().to_string(),
        ),
    ];
    if std::env::var_os("SPARK_LOCAL_IP").is_none() {
        env.push(("SPARK_LOCAL_IP".into(), "127.0.0.1".into()));
    }
    env
}
