//! Binding, TLS and graceful shutdown.
//!
//! Without TLS only loopback addresses may be bound: plain HTTP must not
//! leave the machine (a TLS-terminating proxy in front is the way to serve
//! plain HTTP from Jaga).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{Config, TlsConfig};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot resolve listen address {0}")]
    Resolve(String),
    #[error(
        "refusing to serve plain HTTP on non-loopback address {0}; configure tls.cert_path and tls.key_path, \
         or listen on a loopback address behind a TLS-terminating proxy"
    )]
    PlainHttpNotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Bound sockets, before serving.
#[derive(Debug)]
pub struct Listeners {
    pub main: Vec<std::net::TcpListener>,
    pub admin: Vec<std::net::TcpListener>,
}

impl Listeners {
    pub fn main_addrs(&self) -> Vec<SocketAddr> {
        self.main.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    pub fn admin_addrs(&self) -> Vec<SocketAddr> {
        self.admin.iter().filter_map(|l| l.local_addr().ok()).collect()
    }
}

/// Resolves and binds every configured address.
pub async fn bind(config: &Config) -> Result<Listeners, ServeError> {
    let tls = config.tls.is_some();
    let main = bind_all(&config.server.listen, tls).await?;
    let admin = match &config.server.admin_listen {
        Some(a) => bind_all(std::slice::from_ref(a), tls).await?,
        None => Vec::new(),
    };
    Ok(Listeners { main, admin })
}

async fn bind_all(specs: &[String], tls: bool) -> Result<Vec<std::net::TcpListener>, ServeError> {
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for spec in specs {
        let mut resolved: Vec<SocketAddr> = tokio::net::lookup_host(spec.as_str())
            .await
            .map_err(|_| ServeError::Resolve(spec.clone()))?
            .collect();
        // Browsers treat "localhost" as both loopback addresses, whatever
        // the resolver says; serve both so either works.
        if let Some(port) = spec.strip_prefix("localhost:").and_then(|p| p.parse::<u16>().ok()) {
            resolved.push(SocketAddr::from(([127, 0, 0, 1], port)));
            resolved.push(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)));
        }
        for addr in resolved {
            if !tls && !addr.ip().is_loopback() {
                return Err(ServeError::PlainHttpNotLoopback(addr));
            }
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    let mut listeners = Vec::new();
    let mut last_error = None;
    for addr in &addrs {
        match std::net::TcpListener::bind(addr).and_then(|l| l.set_nonblocking(true).map(|()| l)) {
            Ok(l) => listeners.push(l),
            // A host without IPv6 still serves "localhost" on 127.0.0.1.
            Err(e) if addr.is_ipv6() && e.kind() == std::io::ErrorKind::AddrNotAvailable && addrs.len() > 1 => {
                tracing::warn!(server.addr = %addr, "IPv6 address not available; skipped");
            }
            Err(e) => last_error = Some((addr.to_string(), e.to_string())),
        }
    }
    if let Some((addr, reason)) = last_error {
        return Err(ServeError::Bind { addr, reason });
    }
    if listeners.is_empty() {
        return Err(ServeError::Resolve(specs.join(", ")));
    }
    Ok(listeners)
}

/// rustls with the ring provider, TLS 1.3 and 1.2, AEAD suites only.
pub fn tls_config(tls: &TlsConfig) -> Result<RustlsConfig, ServeError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServeError::Tls(format!("{}: {e}", tls.cert_path.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!("{}: no certificate", tls.cert_path.display())));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key_path)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", tls.key_path.display())))?;
    let mut provider = rustls::crypto::ring::default_provider();
    // Every suite of the ring provider is an AEAD; keep the filter explicit
    // so a future provider change cannot add a CBC suite silently.
    provider.cipher_suites.retain(|s| {
        use rustls::CipherSuite::*;
        matches!(
            s.suite(),
            TLS13_AES_256_GCM_SHA384
                | TLS13_AES_128_GCM_SHA256
                | TLS13_CHACHA20_POLY1305_SHA256
                | TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                | TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                | TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
                | TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
                | TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        )
    });
    let provider = Arc::new(provider);
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let builder = match &tls.client_ca_path {
        None => builder.with_no_client_auth(),
        Some(path) => builder.with_client_cert_verifier(client_verifier(path, provider)?),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Modules' client certificates (RFC 8705 tls_client_auth): asked for, not
/// required (browsers and modules using private_key_jwt bring none), and a
/// certificate that does not chain to the bundle ends the handshake. The
/// CA names are sent in the request, so a browser offers only certificates
/// from these CAs.
fn client_verifier(
    path: &std::path::Path,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, ServeError> {
    let cas: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServeError::Tls(format!("{}: {e}", path.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(cas);
    if added == 0 {
        return Err(ServeError::Tls(format!("{}: no CA certificate", path.display())));
    }
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .allow_unauthenticated()
        .build()
        .map_err(|e| ServeError::Tls(format!("{}: {e}", path.display())))
}

/// Serves until `handle` is told to shut down; returns when every server
/// has finished its in-flight requests.
pub async fn serve(
    listeners: Listeners,
    tls: Option<RustlsConfig>,
    main: Router,
    admin: Router,
    handle: Handle<SocketAddr>,
) -> Result<(), ServeError> {
    let mut tasks = tokio::task::JoinSet::new();
    let groups = [(listeners.main, main), (listeners.admin, admin)];
    for (sockets, router) in groups {
        for socket in sockets {
            let addr = socket.local_addr()?;
            let app = router.clone().into_make_service_with_connect_info::<SocketAddr>();
            let handle = handle.clone();
            let scheme = if tls.is_some() { "https" } else { "http" };
            tracing::info!(server.addr = %addr, server.scheme = scheme, "listening");
            match &tls {
                Some(cfg) => {
                    let mut server = axum_server::from_tcp_rustls(socket, cfg.clone())?
                        .map(|tls| super::wire::ShapedErrors::new(tls, true))
                        .handle(handle);
                    server
                        .http_builder()
                        .http1()
                        .header_read_timeout(Duration::from_secs(10));
                    tasks.spawn(async move { server.serve(app).await });
                }
                None => {
                    let mut server = axum_server::from_tcp(socket)?
                        .map(|plain| super::wire::ShapedErrors::new(plain, false))
                        .handle(handle);
                    server
                        .http_builder()
                        .http1()
                        .header_read_timeout(Duration::from_secs(10));
                    tasks.spawn(async move { server.serve(app).await });
                }
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                handle.shutdown();
                return Err(ServeError::Io(e));
            }
            Err(e) => {
                handle.shutdown();
                return Err(ServeError::Io(std::io::Error::other(e.to_string())));
            }
        }
    }
    Ok(())
}
