//! Starting and stopping a room server: the room dir (database, tokens,
//! certificate), the listener (HTTP on loopback, HTTPS with the room's
//! self-signed certificate otherwise), the accept loop and a graceful
//! shutdown handle.

use crate::auth::Auth;
use crate::hub::Hub;
use crate::model::RoomModel;
use crate::server::{AppState, router};
use crate::store::{Store, StoreError};
use crate::tls::{self, TlsError};
use crate::{fsutil, token, writer};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// Whether to serve HTTPS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// HTTPS unless the bind address is loopback.
    #[default]
    Auto,
    Off,
    On,
}

#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Default 127.0.0.1:7878; `0.0.0.0:PORT` serves the LAN (HTTPS).
    pub bind: SocketAddr,
    /// The room dir: `room.db`, `instructor.token`, `view.token`, `cert.pem`, `key.pem`.
    pub dir: PathBuf,
    pub tls: TlsMode,
    /// Host put in the join URL; default the bind address, or this
    /// machine's LAN address when binding 0.0.0.0.
    pub advertise_host: Option<String>,
    /// Run for each accepted join: the learner's login on the instructor's
    /// shared services (`room serve --shared-services`).
    pub join_hook: Option<crate::JoinHookHandle>,
}

impl ServeConfig {
    pub fn new(dir: impl Into<PathBuf>) -> ServeConfig {
        ServeConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 7878)),
            dir: dir.into(),
            tls: TlsMode::Auto,
            advertise_host: None,
            join_hook: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("room dir {dir}: {source}")]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running room server.
pub struct RoomServer {
    local_addr: SocketAddr,
    url: String,
    fingerprint: Option<String>,
    join_code: String,
    instructor_token: String,
    view_token: String,
    dir: PathBuf,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    writer: std::thread::JoinHandle<()>,
}

/// `<dir>/instructor.token` (mode 0600).
pub fn instructor_token_path(dir: &Path) -> PathBuf {
    dir.join("instructor.token")
}

/// `<dir>/view.token` (mode 0600).
pub fn view_token_path(dir: &Path) -> PathBuf {
    dir.join("view.token")
}

/// `<dir>/url`: where the running room serves (its join URL), for the
/// instructor's own commands on this machine.
pub fn url_path(dir: &Path) -> PathBuf {
    dir.join("url")
}

/// Read a token file, making it (0600) on first use.
fn token_file(path: &Path) -> std::io::Result<String> {
    let bytes = fsutil::create_private_once(path, token::new_token().as_bytes())?;
    Ok(String::from_utf8_lossy(&bytes).trim().to_string())
}

impl RoomServer {
    /// Open the room dir and start serving. Returns once the socket listens.
    pub async fn start(config: ServeConfig) -> Result<RoomServer, ServeError> {
        let dir = config.dir.clone();
        let dir_err = |source| ServeError::Dir {
            dir: dir.clone(),
            source,
        };
        fsutil::create_private_dir(&dir).map_err(dir_err)?;
        let store = Store::open(&dir)?;
        let reader = Store::open(&dir)?;
        let join_code = store.meta_or_init("join_code", token::new_join_code)?;
        let instructor_token = token_file(&instructor_token_path(&dir)).map_err(dir_err)?;
        let view_token = token_file(&view_token_path(&dir)).map_err(dir_err)?;
        let auth = Auth::new(&instructor_token, &view_token, &join_code);
        for l in store.learners()? {
            auth.add_learner(l.token_hash, l.id);
        }
        let hub = Hub::new();
        let live_tx = crate::live_http::channel(store.live()?);
        let (stop, stop_rx) = watch::channel(false);
        let (writer_tx, writer) = writer::spawn(store, hub.clone());
        let state = Arc::new(AppState {
            writer: writer_tx,
            auth,
            reader: Mutex::new((reader, RoomModel::new())),
            hub,
            live_tx,
            live_lock: tokio::sync::Mutex::new(()),
            stopping: stop_rx.clone(),
            join_hook: config.join_hook.clone(),
        });
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.bind,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(dir_err)?;
        let host = advertised_host(&config, local_addr);
        let (acceptor, fingerprint) = tls_setup(&config, &dir, &host)?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", host_port(&host, local_addr.port()));
        let join_url = match &fingerprint {
            Some(fp) => format!("{url}#sha256={fp}"),
            None => url.clone(),
        };
        fsutil::write_private_atomic(&url_path(&dir), join_url.as_bytes()).map_err(dir_err)?;
        let task = tokio::spawn(accept_loop(listener, acceptor, router(state), stop_rx));
        Ok(RoomServer {
            local_addr,
            url,
            fingerprint,
            join_code,
            instructor_token,
            view_token,
            dir,
            stop,
            task,
            writer,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL, `http(s)://host:port`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// SHA-256 of the served certificate (lowercase hex), when HTTPS.
    pub fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// What learners pass to `datalab join`: the URL, with
    /// `#sha256=<fingerprint>` when HTTPS.
    pub fn join_url(&self) -> String {
        match &self.fingerprint {
            Some(fp) => format!("{}#sha256={fp}", self.url),
            None => self.url.clone(),
        }
    }

    pub fn join_code(&self) -> &str {
        &self.join_code
    }

    /// The line to show learners: `datalab join URL CODE --name NAME`.
    pub fn join_line(&self) -> String {
        format!(
            "datalab join {} {} --name NAME",
            self.join_url(),
            self.join_code
        )
    }

    pub fn instructor_token(&self) -> &str {
        &self.instructor_token
    }

    pub fn view_token(&self) -> &str {
        &self.view_token
    }

    /// The projector page's address, view token in its fragment (which a
    /// browser does not send to the server).
    pub fn projector_url(&self) -> String {
        format!("{}/projector#token={}", self.url, self.view_token)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stop accepting, let requests in flight finish (up to 5 s), then stop
    /// the writer once every acknowledged event is committed.
    pub async fn shutdown(self) {
        // Nothing serves at the address any more (a kill -9 leaves the file;
        // the instructor's view then says the room does not answer).
        let _ = std::fs::remove_file(url_path(&self.dir));
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let writer = self.writer;
        let join = tokio::task::spawn_blocking(move || writer.join());
        let _ = tokio::time::timeout(Duration::from_secs(5), join).await;
    }
}

/// Run a room until Ctrl-C (or SIGTERM), printing the join line first.
pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    let server = RoomServer::start(config).await?;
    // Written, not println!: a closed stdout (`| head`) must not end the room.
    let mut out = format!("room listening on {}\n", server.url());
    if let Some(fp) = server.fingerprint() {
        out += &format!("certificate sha256 {fp}\n");
    }
    out += &format!("learners join with:\n  {}\n", server.join_line());
    out += &format!(
        "instructor token in {}\n",
        instructor_token_path(server.dir()).display()
    );
    out += &format!(
        "projector page (view token included):\n  {}\n",
        server.projector_url()
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    wait_for_signal().await;
    server.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn tls_setup(
    config: &ServeConfig,
    dir: &Path,
    host: &str,
) -> Result<(Option<TlsAcceptor>, Option<String>), ServeError> {
    let on = match config.tls {
        TlsMode::On => true,
        TlsMode::Off => false,
        TlsMode::Auto => !config.bind.ip().is_loopback(),
    };
    if !on {
        return Ok((None, None));
    }
    let names = vec![host.to_string(), "localhost".into(), "127.0.0.1".into()];
    let id = tls::load_or_create(dir, names)?;
    let acceptor = TlsAcceptor::from(tls::server_config(&id)?);
    Ok((Some(acceptor), Some(id.fingerprint)))
}

fn host_port(host: &str, port: u16) -> String {
    match host.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, port).to_string(),
        Err(_) => format!("{host}:{port}"),
    }
}

fn advertised_host(config: &ServeConfig, local: SocketAddr) -> String {
    if let Some(h) = &config.advertise_host {
        return h.clone();
    }
    if !local.ip().is_unspecified() {
        return local.ip().to_string();
    }
    lan_ip().map_or_else(|| "127.0.0.1".to_string(), |ip| ip.to_string())
}

/// This machine's address on the default route: connecting a UDP socket
/// sends nothing, it only picks the outgoing interface.
fn lan_ip() -> Option<IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    s.local_addr()
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
}

/// Most connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 4096;

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            r = listener.accept() => r,
        };
        let Ok((tcp, _)) = accepted else {
            // Out of descriptors or an aborted handshake: breathe, go on.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let (tls, app, watcher) = (tls.clone(), app.clone(), graceful.watcher());
        tokio::spawn(async move {
            serve_connection(tcp, tls, app, watcher).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

async fn serve_connection(tcp: TcpStream, tls: Option<TlsAcceptor>, app: Router, watcher: Watcher) {
    let _ = tcp.set_nodelay(true);
    let svc = TowerToHyperService::new(app);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    match tls {
        None => {
            let _ = watcher
                .watch(builder.serve_connection(TokioIo::new(tcp), svc))
                .await;
        }
        Some(acceptor) => {
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
            if let Ok(Ok(stream)) = handshake.await {
                let _ = watcher
                    .watch(builder.serve_connection(TokioIo::new(stream), svc))
                    .await;
            }
        }
    }
}
