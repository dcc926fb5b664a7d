//! TLS for listeners, with rustls: `tls: {cert_file, key_file, client_ca_file}` on any
//! HTTP or gRPC component, as in the OpenTelemetry Collector. With `client_ca_file`
//! a client must present a certificate that CA signed (mTLS). The files are read when
//! the component is built, so a file that is missing or holds no certificate stops
//! startup with its path; they are read again when they change (checked at most once
//! a second, as connections arrive), so a renewed certificate is served without a
//! restart. A change that does not load is logged and the certificate before it kept.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// `tls:` on a listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The server's certificate chain (PEM), leaf first.
    pub cert_file: PathBuf,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// When set, clients must present a certificate signed by one of these CAs (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ca_file: Option<PathBuf>,
}

/// Why a listener's TLS files cannot be used; names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TlsError {
    /// `cert_file`, `key_file` or `client_ca_file`.
    pub field: &'static str,
    path: PathBuf,
    message: String,
}

/// How often, at most, the files are looked at for a change.
const RECHECK: Duration = Duration::from_secs(1);

/// A listener's TLS: the server config in force, re-read when its files change.
pub struct Tls {
    config: TlsConfig,
    alpn: &'static [&'static [u8]],
    current: Mutex<Current>,
}

struct Current {
    acceptor: TlsAcceptor,
    stamps: Vec<Option<SystemTime>>,
    checked: Instant,
}

impl Tls {
    /// Loads `config`'s files now. `alpn` lists the protocols offered (`h2`,
    /// `http/1.1`).
    pub fn load(config: &TlsConfig, alpn: &'static [&'static [u8]]) -> Result<Arc<Tls>, TlsError> {
        let current = Current {
            acceptor: acceptor(config, alpn)?,
            stamps: stamps(config),
            checked: Instant::now(),
        };
        Ok(Arc::new(Tls {
            config: config.clone(),
            alpn,
            current: Mutex::new(current),
        }))
    }

    /// Whether this listener was built from `config`.
    pub fn is_from(&self, config: &TlsConfig) -> bool {
        &self.config == config
    }

    /// The acceptor for a new connection, after re-reading the files if they changed.
    pub fn acceptor(&self) -> TlsAcceptor {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.checked.elapsed() >= RECHECK {
            current.checked = Instant::now();
            let now = stamps(&self.config);
            if now != current.stamps {
                current.stamps = now;
                match acceptor(&self.config, self.alpn) {
                    Ok(fresh) => {
                        current.acceptor = fresh;
                        tracing::info!(cert_file = %self.config.cert_file.display(), "reloaded the TLS certificate");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the changed TLS files do not load; serving the previous certificate")
                    }
                }
            }
        }
        current.acceptor.clone()
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn stamps(config: &TlsConfig) -> Vec<Option<SystemTime>> {
    [
        Some(&config.cert_file),
        Some(&config.key_file),
        config.client_ca_file.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
    .collect()
}

fn acceptor(config: &TlsConfig, alpn: &[&[u8]]) -> Result<TlsAcceptor, TlsError> {
    let fail = |field, path: &Path, message: String| TlsError {
        field,
        path: path.to_path_buf(),
        message,
    };
    let certs = read_certs(&config.cert_file).map_err(|m| fail("cert_file", &config.cert_file, m))?;
    let key = PrivateKeyDer::from_pem_file(&config.key_file)
        .map_err(|e| fail("key_file", &config.key_file, format!("no PEM private key: {e}")))?;
    let provider = Arc::new(aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("cert_file", &config.cert_file, e.to_string()))?;
    let builder = match &config.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs(path).map_err(|m| fail("client_ca_file", path, m))? {
                roots
                    .add(cert)
                    .map_err(|e| fail("client_ca_file", path, e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| fail("client_ca_file", path, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut server = builder
        .with_single_cert(certs, key)
        .map_err(|e| fail("key_file", &config.key_file, format!("does not match cert_file: {e}")))?;
    server.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(server)))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".to_string());
    }
    Ok(certs)
}
