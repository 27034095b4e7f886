//! The learner side's HTTP client: hyper over a kept-alive connection,
//! plain on loopback or TLS pinned to the room certificate's fingerprint.

use crate::protocol::ErrorBody;
use crate::tls;
use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Largest response body read.
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("bad room URL {url:?}: {why}")]
    BadUrl { url: String, why: String },
    #[error("not in a room (run `datalab join URL CODE --name NAME`)")]
    NotJoined,
    #[error("already in the room at {url} as {name:?}; run `datalab leave` first")]
    AlreadyJoined { url: String, name: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is unreadable ({reason}); `datalab leave` removes it")]
    Corrupt { path: String, reason: String },
    #[error("cannot reach the room: {0}")]
    Network(String),
    #[error("the room did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the room answered {status}: {message}")]
    Http { status: u16, message: String },
    /// The room refused a live change and said why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("event not sent: {0}")]
    BadEvent(#[from] crate::protocol::BadRequest),
}

/// Where a room is: parsed from `http(s)://host:port[#sha256=HEX]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub https: bool,
    pub host: String,
    pub port: u16,
    pub fingerprint: Option<String>,
}

impl Endpoint {
    /// Parse a join URL. HTTPS needs the fingerprint (there is no CA).
    pub fn parse(url: &str) -> Result<Endpoint, ClientError> {
        let bad = |why: &str| ClientError::BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let (rest, fragment) = url
            .trim()
            .split_once('#')
            .map_or((url.trim(), None), |(a, b)| (a, Some(b)));
        let (https, rest) = match rest.split_once("://") {
            Some(("https", r)) => (true, r),
            Some(("http", r)) => (false, r),
            _ => return Err(bad("expected http:// or https://")),
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = split_host_port(authority, if https { 443 } else { 80 })
            .ok_or_else(|| bad("expected host:port"))?;
        let fingerprint = match fragment {
            None | Some("") => None,
            Some(f) => {
                Some(parse_fingerprint(f).ok_or_else(|| bad("expected #sha256=<64 hex digits>"))?)
            }
        };
        if https && fingerprint.is_none() {
            return Err(bad("an https room URL carries #sha256=<fingerprint>"));
        }
        Ok(Endpoint {
            https,
            host,
            port,
            fingerprint,
        })
    }

    /// `host:port` as in a Host header (IPv6 in brackets).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL again, fingerprint included: what is stored and shown.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        match &self.fingerprint {
            Some(fp) => format!("{scheme}://{}#sha256={fp}", self.authority()),
            None => format!("{scheme}://{}", self.authority()),
        }
    }
}

fn split_host_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

fn parse_fingerprint(fragment: &str) -> Option<String> {
    let hex = tls::normalize_fingerprint(fragment.strip_prefix("sha256=")?);
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

/// One kept-alive connection to a room, reopened when it drops.
pub struct HttpClient {
    endpoint: Endpoint,
    tls: Option<TlsConnector>,
    conn: Option<SendRequest<Full<Bytes>>>,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(endpoint: Endpoint, timeout: Duration) -> Result<HttpClient, ClientError> {
        let tls = match (&endpoint.fingerprint, endpoint.https) {
            (Some(fp), true) => Some(TlsConnector::from(tls::pinned_client_config(fp)?)),
            _ => None,
        };
        Ok(HttpClient {
            endpoint,
            tls,
            conn: None,
            timeout,
        })
    }

    /// Send a request and read the whole answer; non-2xx answers are
    /// `ClientError::Http` with the server's message.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, ClientError> {
        let limit = self.timeout;
        let r = tokio::time::timeout(limit, self.exchange(method, path, token, body)).await;
        let r = r.unwrap_or(Err(ClientError::Timeout(limit)));
        if matches!(r, Err(ClientError::Network(_) | ClientError::Timeout(_))) {
            self.conn = None;
        }
        let (status, bytes) = r?;
        if status.is_success() {
            return Ok(bytes);
        }
        let message = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|e| e.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).chars().take(200).collect());
        Err(ClientError::Http {
            status: status.as_u16(),
            message,
        })
    }

    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let net = |e: &dyn std::fmt::Display| ClientError::Network(e.to_string());
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.endpoint.authority());
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| net(&e))?;
        let sender = self.connection().await?;
        let resp = sender.send_request(req).await.map_err(|e| net(&e))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_RESPONSE);
        let bytes = body.collect().await.map_err(|e| net(&e))?.to_bytes();
        Ok((status, bytes))
    }

    /// Open a fresh connection, send a GET and return the answer's body
    /// as it streams in (the live feed); non-2xx answers are errors.
    pub async fn open_stream(
        &self,
        path: &str,
        token: &str,
    ) -> Result<hyper::body::Incoming, ClientError> {
        let net = |e: &dyn std::fmt::Display| ClientError::Network(e.to_string());
        let req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::HOST, self.endpoint.authority())
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::ACCEPT, "text/event-stream")
            .body(Full::new(Bytes::new()))
            .map_err(|e| net(&e))?;
        let limit = self.timeout;
        let opened = async {
            let mut sender = self.connect().await?;
            sender.send_request(req).await.map_err(|e| net(&e))
        };
        let resp = tokio::time::timeout(limit, opened)
            .await
            .unwrap_or(Err(ClientError::Timeout(limit)))?;
        if !resp.status().is_success() {
            return Err(ClientError::Http {
                status: resp.status().as_u16(),
                message: "the live stream was refused".into(),
            });
        }
        Ok(resp.into_body())
    }

    /// The open connection, or a new one.
    async fn connection(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, ClientError> {
        let reusable = match self.conn.as_mut() {
            Some(c) if !c.is_closed() => c.ready().await.is_ok(),
            _ => false,
        };
        if !reusable {
            self.conn = Some(self.connect().await?);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| ClientError::Network("no connection".into()))
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let net = |e: &dyn std::fmt::Display| ClientError::Network(e.to_string());
        let ep = &self.endpoint;
        let tcp = TcpStream::connect((ep.host.as_str(), ep.port))
            .await
            .map_err(|e| net(&e))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => handshake(TokioIo::new(tcp)).await,
            Some(connector) => {
                let name = ServerName::try_from(ep.host.clone()).map_err(|e| net(&e))?;
                let stream = connector.connect(name, tcp).await.map_err(|e| net(&e))?;
                handshake(TokioIo::new(stream)).await
            }
        }
    }
}

async fn handshake<I>(io: I) -> Result<SendRequest<Full<Bytes>>, ClientError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(io)
        .await
        .map_err(|e| ClientError::Network(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Run a future to completion on a private single-thread runtime in its own
/// thread, so blocking callers work inside or outside any runtime.
pub(crate) fn block_on<F>(fut: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let worker = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a single-thread tokio runtime");
        rt.block_on(fut)
    });
    worker
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let e = Endpoint::parse("http://127.0.0.1:7878").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.https),
            ("127.0.0.1", 7878, false)
        );
        let fp = "AB".repeat(32);
        let e = Endpoint::parse(&format!("https://[::1]:9/#sha256={fp}")).unwrap();
        assert_eq!(e.host, "::1");
        assert_eq!(e.fingerprint.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(
            e.url(),
            format!("https://[::1]:9#sha256={}", "ab".repeat(32))
        );
        assert!(Endpoint::parse("https://10.0.0.1:9").is_err());
        assert!(Endpoint::parse("ftp://x:1").is_err());
        assert!(Endpoint::parse("http://x:notaport").is_err());
    }
}
