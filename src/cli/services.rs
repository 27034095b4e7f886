//! `datalab services …`

use super::Ctx;
use crate::services::ServiceKind;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ServicesCommand {
    /// Start services (all three when none is named)
    Up {
        kinds: Vec<ServiceKind>,
        /// Kafka brokers (3 for the replication lab)
        #[arg(long, default_value_t = 1)]
        brokers: u32,
    },
}

pub async fn run(cmd: ServicesCommand, ctx: &Ctx) -> ExitCode {
    let _ = (cmd, ctx, ServiceKind::ALL);
    eprintln!("datalab services: not implemented yet");
    ExitCode::from(2)
}
