//! The command line (clap). Each command group lives in its own file and
//! exposes a clap `Subcommand`/`Args` type plus `run(…, &Ctx) -> ExitCode`.

pub mod images;
pub mod services;

use crate::course::Content;
use crate::services::{Namespace, ProviderKind, Services, ServicesConfig};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "datalab",
    version,
    about = "Big Data Technologies and Architectures: a terminal course with real labs"
)]
pub struct Cli {
    /// Where progress, workspaces and service data live [default: the XDG data dir]
    #[arg(long, global = true, env = "DATALAB_HOME")]
    pub home: Option<PathBuf>,
    /// Load course content from this folder instead of the built-in copy
    #[arg(long, global = true, env = "DATALAB_CONTENT")]
    pub content: Option<PathBuf>,
    /// How services are provided
    #[arg(long, global = true, env = "DATALAB_PROVIDER", value_enum)]
    pub provider: Option<ProviderKind>,
    /// Learner name: prefixes topics, groups, databases and keyspaces on a shared cluster
    #[arg(long, global = true, env = "DATALAB_LEARNER")]
    pub learner: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start, stop and inspect the Kafka, MongoDB and Cassandra servers the labs use
    #[command(subcommand)]
    Services(services::ServicesCommand),
}

/// What every command needs: where things live, the content, the services.
pub struct Ctx {
    pub home: PathBuf,
    pub content: Content,
    pub services: Arc<Services>,
    pub namespace: Namespace,
}

impl Ctx {
    pub fn from_cli(cli: &Cli) -> Ctx {
        let home = cli.home.clone().unwrap_or_else(default_home);
        let content = match &cli.content {
            Some(dir) => Content::disk(dir),
            None => Content::embedded(),
        };
        let cache_dir = std::env::var_os("DATALAB_CACHE")
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|b| b.cache_dir().join("datalab")))
            .unwrap_or_else(|| home.join("cache"));
        let services = Services::new(ServicesConfig {
            data_dir: home.join("services"),
            cache_dir,
            provider: cli.provider.unwrap_or_default(),
            timeout: Duration::from_secs(5),
        })
        .with_content(content.clone());
        let namespace = match (&cli.learner, std::env::var("DATALAB_NAMESPACE")) {
            (Some(l), _) => Namespace::for_learner(l),
            (None, Ok(ns)) => Namespace::for_learner(&ns),
            (None, Err(_)) => Namespace::none(),
        };
        Ctx {
            home,
            content,
            services: Arc::new(services),
            namespace,
        }
    }
}

/// `$XDG_DATA_HOME/datalab` (usually `~/.local/share/datalab`).
pub fn default_home() -> PathBuf {
    directories::ProjectDirs::from("", "", "datalab")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".datalab"))
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Ctx::from_cli(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("datalab: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Services(cmd)) => rt.block_on(services::run(cmd, &ctx)),
        None => {
            eprintln!("datalab: the course UI is not built yet");
            ExitCode::from(2)
        }
    }
}
