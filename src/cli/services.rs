//! `datalab services …`

use super::Ctx;
use clap::Subcommand;
use datalab_services::{ProviderKind, ServiceKind, ServiceStatus, Services, UpOptions};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
pub enum ServicesCommand {
    /// Start services (Kafka, MongoDB and Cassandra when none is named; Hadoop only by name); reuses running ones
    Up {
        kinds: Vec<ServiceKind>,
        /// Nodes of a clustered service: Kafka brokers (3 for the
        /// replication step), Cassandra nodes (3 for the node-failure step)
        #[arg(long, visible_alias = "brokers", default_value_t = 1)]
        nodes: u32,
        /// A room's shared cluster: Kafka and Cassandra (when no kind is
        /// named) with logins and per-learner permissions on; hand out
        /// logins with `services credentials NAME`
        #[arg(long)]
        shared: bool,
        /// With --shared: the address the servers listen on
        #[arg(long, default_value = "127.0.0.1", requires = "shared")]
        bind: String,
        /// With --shared: the address learners reach (default: --bind)
        #[arg(long, requires = "shared")]
        advertise: Option<String>,
    },
    /// Instructor, shared cluster: give a learner a login (a new password each time) and write their credentials file
    Credentials {
        /// The learner's name (their namespace: topics and keyspaces start with it)
        name: String,
        /// Where to write the file (default: ./NAME.credentials.yaml)
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Learner: use the room's shared cluster with the credentials file the instructor handed out
    Login { file: std::path::PathBuf },
    /// Provider, endpoint, version, health, uptime and a connection string per service
    Status {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Stop the services datalab started (never external ones)
    Down { kinds: Vec<ServiceKind> },
    /// Drop lab topics, databases and keyspaces (this learner's, or all) without a restart
    Reset { kind: Option<ServiceKind> },
    /// Download everything the services need, so the course then works offline
    Install { kinds: Vec<ServiceKind> },
    /// Build the Kafka, Cassandra, MongoDB-stand-in and Hadoop images from containers/docker/ (no registry needed)
    BuildImages { kinds: Vec<ServiceKind> },
    /// Show a service's recent log lines
    Logs {
        kind: ServiceKind,
        /// Lines per log file
        #[arg(long, short = 'n', default_value_t = 50)]
        lines: usize,
    },
}

fn all_if_empty(kinds: Vec<ServiceKind>) -> Vec<ServiceKind> {
    if kinds.is_empty() {
        ServiceKind::ALL.to_vec()
    } else {
        kinds
    }
}

/// Progress for cold starts: a spinner on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(label: &str) -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_prefix(label.to_string());
            bar.set_message("checking");
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress { bar: Some(bar) }
        } else {
            Progress { bar: None }
        }
    }

    fn callback(&self, label: &str) -> impl Fn(&str) + Send + Sync + 'static {
        let bar = self.bar.clone();
        let label = label.to_string();
        move |msg: &str| match &bar {
            Some(b) => b.set_message(msg.to_string()),
            None => eprintln!("{label}: {msg}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn uptime(started_at: Option<u64>) -> String {
    let Some(t) = started_at else {
        return "-".into();
    };
    let now = datalab_services::process::now_secs();
    let s = now.saturating_sub(t);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

pub(super) async fn up(
    services: &Arc<Services>,
    kinds: Vec<ServiceKind>,
    nodes: u32,
    shared: Option<datalab_services::Shared>,
) -> ExitCode {
    if !(1..=9).contains(&nodes) {
        eprintln!("datalab services up: --nodes must be between 1 and 9 (got {nodes})");
        return ExitCode::from(2);
    }
    let mut failed = false;
    let kinds = match (kinds.is_empty(), &shared) {
        (true, Some(_)) => datalab_services::shared::SHARED_KINDS.to_vec(),
        (true, None) => ServiceKind::DEFAULT_UP.to_vec(),
        (false, _) => kinds,
    };
    for kind in kinds {
        let opts = UpOptions {
            nodes,
            shared: shared.clone(),
        };
        let t = Instant::now();
        let progress = Progress::new(kind.name());
        let cb = progress.callback(kind.name());
        let res = services.ensure_with_progress(kind, &opts, &cb).await;
        progress.finish();
        match res {
            Ok(e) => println!(
                "{kind}: up ({}) at {}{} [{:.1}s]",
                e.provider,
                e.address,
                e.flavor.map(|f| format!(" — {f}")).unwrap_or_default(),
                t.elapsed().as_secs_f64()
            ),
            Err(e) => {
                eprintln!("datalab services up {kind}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(serde::Serialize)]
struct StatusJson<'a> {
    kind: ServiceKind,
    provider: Option<ProviderKind>,
    endpoint: Option<&'a str>,
    nodes: Option<u32>,
    version: Option<&'a str>,
    flavor: Option<&'a str>,
    health: &'a str,
    uptime_secs: Option<u64>,
    connect: Option<&'a str>,
}

fn print_status(statuses: &[ServiceStatus], json: bool) {
    if json {
        let now = datalab_services::process::now_secs();
        let rows: Vec<StatusJson> = statuses
            .iter()
            .map(|s| {
                let e = s.endpoint.as_ref();
                StatusJson {
                    kind: s.kind,
                    provider: e.map(|e| e.provider),
                    endpoint: e.map(|e| e.address.as_str()),
                    nodes: e.map(|e| e.nodes),
                    version: e.and_then(|e| e.version.as_deref()),
                    flavor: e.and_then(|e| e.flavor.as_deref()),
                    health: &s.health,
                    uptime_secs: e.and_then(|e| e.started_at).map(|t| now.saturating_sub(t)),
                    connect: s.connect_hint.as_deref(),
                }
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into())
        );
        return;
    }
    for s in statuses {
        match &s.endpoint {
            Some(e) => {
                println!("{:<10} {}", s.kind.name(), s.health);
                println!("  provider  {}", e.provider);
                println!("  endpoint  {}", e.address);
                if let Some(v) = &e.version {
                    println!("  version   {v}");
                }
                if let Some(f) = &e.flavor {
                    println!("  server    {f}");
                }
                if e.kind == ServiceKind::Kafka {
                    println!("  brokers   {}", e.nodes);
                } else if e.nodes > 1 {
                    println!("  nodes     {}", e.nodes);
                }
                println!("  uptime    {}", uptime(e.started_at));
                if let Some(h) = &s.connect_hint {
                    println!("  connect   {h}");
                }
            }
            None => println!("{:<10} {}", s.kind.name(), s.health),
        }
    }
}

pub async fn run(cmd: ServicesCommand, ctx: &Ctx) -> ExitCode {
    let services = &ctx.services;
    match cmd {
        ServicesCommand::Up {
            kinds,
            nodes,
            shared,
            bind,
            advertise,
        } => super::shared::up(ctx, kinds, nodes, shared.then_some((bind, advertise))).await,
        ServicesCommand::Credentials { name, out } => {
            super::shared::credentials(ctx, &name, out).await
        }
        ServicesCommand::Login { file } => super::shared::login(ctx, &file),
        ServicesCommand::BuildImages { kinds } => super::images::build_images(kinds, ctx).await,
        ServicesCommand::Status { json } => {
            let statuses = services.status().await;
            print_status(&statuses, json);
            ExitCode::SUCCESS
        }
        ServicesCommand::Down { kinds } => match services.down(&kinds).await {
            Ok(stopped) if stopped.is_empty() => {
                println!("nothing to stop");
                ExitCode::SUCCESS
            }
            Ok(stopped) => {
                for s in stopped {
                    println!("stopped {s}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("datalab services down: {e}");
                ExitCode::from(1)
            }
        },
        ServicesCommand::Reset { kind } => {
            let t = Instant::now();
            match services.reset(kind, &ctx.namespace).await {
                Ok(report) => {
                    for d in &report.dropped {
                        println!("dropped {d}");
                    }
                    for k in &report.not_running {
                        if kind.is_some() {
                            println!("{k} is not running: nothing to reset");
                        }
                    }
                    let scope = if ctx.namespace.is_empty() {
                        "all lab data".to_string()
                    } else {
                        format!("learner namespace `{}`", ctx.namespace.as_str())
                    };
                    println!(
                        "reset {scope}: {} dropped in {:.1}s",
                        report.dropped.len(),
                        t.elapsed().as_secs_f64()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("datalab services reset: {e}");
                    ExitCode::from(1)
                }
            }
        }
        ServicesCommand::Install { kinds } => {
            let kinds = all_if_empty(kinds);
            let progress = Progress::new("install");
            let cb = progress.callback("install");
            let res = services.install(&kinds, &cb).await;
            progress.finish();
            match res {
                Ok(()) => {
                    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                    println!("installed: {}", names.join(", "));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("datalab services install: {e}");
                    ExitCode::from(1)
                }
            }
        }
        ServicesCommand::Logs { kind, lines } => match services.logs(kind, lines).await {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("datalab services logs {kind}: {e}");
                ExitCode::from(1)
            }
        },
    }
}
