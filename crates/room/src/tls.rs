//! HTTPS for a room served on the LAN: a self-signed certificate made once
//! (rcgen, kept as `cert.pem`/`key.pem` in the room dir, key 0600), and on
//! the learner's side a verifier that accepts exactly the certificate whose
//! SHA-256 fingerprint came with the join line. No CA, no manual step.
//! Everything uses rustls' `ring` provider.

use crate::fsutil;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate files in {dir}: {source}")]
    Io { dir: String, source: std::io::Error },
    #[error("making the room certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("reading the room certificate: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
}

/// The server's certificate and key, and the certificate's fingerprint.
pub struct Identity {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
    pub fingerprint: String,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Lowercase hex SHA-256 of a DER certificate.
pub fn fingerprint(cert_der: &[u8]) -> String {
    Sha256::digest(cert_der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Load `cert.pem`/`key.pem` from `dir`, or make them (valid for `names`)
/// on first start. The same certificate is served on every restart, so the
/// fingerprint learners pinned stays valid.
pub fn load_or_create(dir: &Path, names: Vec<String>) -> Result<Identity, TlsError> {
    let io = |source| TlsError::Io {
        dir: dir.display().to_string(),
        source,
    };
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !cert_path.exists() || !key_path.exists() {
        let made = rcgen::generate_simple_self_signed(names)?;
        fsutil::write_private_atomic(&key_path, made.signing_key.serialize_pem().as_bytes())
            .map_err(io)?;
        fsutil::write_private_atomic(&cert_path, made.cert.pem().as_bytes()).map_err(io)?;
    }
    let cert = CertificateDer::from_pem_file(&cert_path)?;
    let key = PrivateKeyDer::from_pem_file(&key_path)?;
    let fingerprint = fingerprint(&cert);
    Ok(Identity {
        cert,
        key,
        fingerprint,
    })
}

/// The rustls server configuration for an identity (HTTP/1.1).
pub fn server_config(id: &Identity) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![id.cert.clone()], id.key.clone_key())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration that trusts only the certificate with this
/// SHA-256 fingerprint (hex, any case, colons allowed).
pub fn pinned_client_config(fingerprint: &str) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let provider = provider();
    let verifier = PinnedVerifier {
        pin: normalize_fingerprint(fingerprint),
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Lowercase hex without separators.
pub fn normalize_fingerprint(fp: &str) -> String {
    fp.chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Accepts the pinned certificate only; still checks the handshake
/// signatures, so presenting the certificate without its key fails.
#[derive(Debug)]
struct PinnedVerifier {
    pin: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = fingerprint(end_entity);
        if subtle::ConstantTimeEq::ct_eq(seen.as_bytes(), self.pin.as_bytes()).into() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
