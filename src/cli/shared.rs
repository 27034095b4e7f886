//! `datalab services up --shared`, `services credentials NAME` (the
//! instructor's side of a room's shared cluster) and `services login FILE`
//! (the learner's).

use super::Ctx;
use datalab_room::protocol::Secret;
use datalab_room::{Handed, HookFuture, JoinHook};
use datalab_services::shared::{self, Credentials};
use datalab_services::{Namespace, ServiceKind, Services};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

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
    match Credentials::load(file) {
        Ok(c) => apply(ctx, &c, "datalab services login"),
        Err(e) => {
            eprintln!("datalab services login: {e}");
            ExitCode::from(2)
        }
    }
}

/// After `join`: apply the login the room handed over, as `services login`
/// does; a room that could not make one says why (the join stands).
pub(super) fn login_from_room(ctx: &Ctx, handed: &Handed) -> ExitCode {
    if let Some(why) = &handed.credentials_error {
        eprintln!("datalab join: the room gave you no login on its shared cluster: {why}");
        return ExitCode::from(1);
    }
    let Some(secret) = &handed.credentials else {
        return ExitCode::SUCCESS;
    };
    match Credentials::parse(&secret.0, "the room's credentials") {
        Ok(c) => apply(ctx, &c, "datalab join"),
        Err(e) => {
            eprintln!("datalab join: {e}");
            ExitCode::from(1)
        }
    }
}

/// Write the learner's side of `c` into this home and say so.
fn apply(ctx: &Ctx, c: &Credentials, command: &str) -> ExitCode {
    if let Err(e) = shared::login(&ctx.services, c) {
        eprintln!("{command}: {e}");
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

/// `room serve --shared-services`: each learner who joins the room gets a
/// login on this home's shared cluster, as `services credentials NAME`
/// makes one, handed back over the room's authenticated answer to that
/// learner alone. One at a time (the learner list is read, then written).
pub(super) struct RoomLogins {
    services: Arc<Services>,
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl RoomLogins {
    /// Why not, when this home runs no shared cluster.
    pub(super) fn new(services: Arc<Services>) -> Result<RoomLogins, String> {
        if services.shared().is_none() {
            return Err(
                "--shared-services: this home runs no shared cluster; start it first with `datalab services up --shared`".into(),
            );
        }
        Ok(RoomLogins {
            services,
            one_at_a_time: tokio::sync::Mutex::new(()),
        })
    }

    async fn make(&self, name: &str) -> Result<Secret, String> {
        let _turn = self.one_at_a_time.lock().await;
        let ns = Namespace::for_learner(name);
        // A second joiner whose name folds to the same namespace must not
        // take over the first one's login.
        if self.services.has_learner(name) {
            return Err(format!(
                "a learner named {} already has a login on the room's shared cluster; `datalab leave`, then join with another --name",
                ns.as_str()
            ));
        }
        let c = (self.services.add_learner(name).await).map_err(|e| e.to_string())?;
        c.to_yaml().map(Secret).map_err(|e| e.to_string())
    }
}

impl JoinHook for RoomLogins {
    fn credentials<'a>(&'a self, name: &'a str) -> HookFuture<'a> {
        Box::pin(self.make(name))
    }
}
