//! `datalab services up --shared`, `services credentials NAME` (the
//! instructor's side of a room's shared cluster) and `services login FILE`
//! (the learner's).

use super::Ctx;
use datalab_services::ServiceKind;
use datalab_services::shared::{self, Credentials};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `services up`, shared when `shared` holds `(bind, advertise)`.
pub(super) async fn up(
    ctx: &Ctx,
    kinds: Vec<ServiceKind>,
    nodes: u32,
    shared: Option<(String, Option<String>)>,
) -> ExitCode {
    let Some((bind, advertise)) = shared else {
        return super::services::up(&ctx.services, kinds, nodes, None).await;
    };
    if let Some(k) = kinds.iter().find(|k| !shared::SHARED_KINDS.contains(k)) {
        eprintln!(
            "datalab services up --shared: {k} is not shared (MongoDB's native server has no logins, so each laptop runs its own); share kafka and cassandra"
        );
        return ExitCode::from(2);
    }
    let settings = match ctx.services.shared_settings(&bind, advertise.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("datalab services up --shared: {e}");
            return ExitCode::from(2);
        }
    };
    let code = super::services::up(&ctx.services, kinds, nodes, Some(settings)).await;
    if code == ExitCode::SUCCESS {
        println!(
            "shared cluster up: logins and permissions on. Give each learner a login: datalab services credentials NAME"
        );
    }
    code
}

/// Make `name` a login and write their credentials file.
pub(super) async fn credentials(ctx: &Ctx, name: &str, out: Option<PathBuf>) -> ExitCode {
    match ctx.services.add_learner(name).await {
        Ok(c) => {
            let path =
                out.unwrap_or_else(|| PathBuf::from(format!("{}.credentials.yaml", c.learner)));
            if let Err(e) = c.save(&path) {
                eprintln!("datalab services credentials: {e}");
                return ExitCode::from(1);
            }
            println!(
                "learner {}: login made; credentials in {} (readable by you only: hand it to the learner, who runs `datalab services login {}`)",
                c.learner,
                path.display(),
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("datalab services credentials {name}: {e}");
            ExitCode::from(1)
        }
    }
}

/// Point this home at the shared cluster with the learner's login.
pub(super) fn login(ctx: &Ctx, file: &Path) -> ExitCode {
    let c = match Credentials::load(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("datalab services login: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = shared::login(&ctx.services, &c) {
        eprintln!("datalab services login: {e}");
        return ExitCode::from(1);
    }
    let kinds: Vec<&str> = [("kafka", &c.kafka), ("cassandra", &c.cassandra)]
        .iter()
        .filter(|(_, a)| a.is_some())
        .map(|(k, _)| *k)
        .collect();
    println!(
        "logged in as learner {}: {} on the room's shared cluster; your topics and keyspaces start with {}_",
        c.learner,
        kinds.join(" and "),
        c.learner
    );
    ExitCode::SUCCESS
}
