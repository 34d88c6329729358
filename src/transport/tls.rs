//! TLS configuration, in one place for every connection of the add-in: rustls with the ring provider, TLS 1.2
//! and 1.3, server certificates checked against the operating system's trust store (Windows store, macOS
//! keychain, /etc/ssl on Linux), so corporate CAs installed on the machine are trusted like public ones. The
//! WebSocket link uses the rustls configuration directly; the HTTP client gets the same roots through ureq.

use std::sync::Arc;

use once_cell::sync::Lazy;
use rustls::pki_types::{CertificateDer, ServerName};

/// The operating system's root certificates, loaded once.
static NATIVE_ROOTS: Lazy<Vec<CertificateDer<'static>>> =
    Lazy::new(|| rustls_native_certs::load_native_certs().certs);

static CLIENT_CONFIG: Lazy<Result<Arc<rustls::ClientConfig>, String>> = Lazy::new(|| {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(NATIVE_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
});

/// A client session for `host`, to run over a socket the caller owns.
pub fn client_connection(host: &str) -> Result<rustls::ClientConnection, String> {
    let config = CLIENT_CONFIG.as_ref().map_err(|e| e.clone())?;
    let name =
        ServerName::try_from(host.to_string()).map_err(|e| format!("TLS name {host}: {e}"))?;
    rustls::ClientConnection::new(config.clone(), name).map_err(|e| format!("TLS: {e}"))
}

/// The same trust for ureq (which builds its own rustls configuration from these roots).
pub fn ureq_config() -> ureq::tls::TlsConfig {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let roots: Vec<Certificate<'static>> = NATIVE_ROOTS
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&roots))
        // ureq's `rustls-no-provider` feature (Cargo.toml: the `rustls` feature would embed webpki-roots, which
        // the OS trust store makes useless weight) leaves the crypto provider to us: the same ring as the WebSocket.
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .build()
}
