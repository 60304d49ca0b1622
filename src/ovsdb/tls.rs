//! TLS for `ssl:` remotes, as the OVS tools do it: the client shows its
//! own certificate (`--private-key`, `--certificate`) and accepts a server
//! whose certificate chains to `--ca-cert`. Like OVS's stream-ssl, the
//! server's name is not checked: certificates made by `ovs-pki` name a
//! switch or controller ID, not a host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, DigitallySignedStruct, SignatureScheme};

/// The three files of `--private-key`, `--certificate` and `--ca-cert`,
/// read and checked once, before anything connects.
#[derive(Clone)]
pub struct Tls {
    config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

/// Where the TLS files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub private_key: PathBuf,
    pub certificate: PathBuf,
    pub ca_cert: PathBuf,
}

impl Tls {
    /// Read the files; an error names the file and what is wrong with it.
    pub fn load(files: &TlsFiles) -> Result<Tls, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for ca in certs(&files.ca_cert, "--ca-cert")? {
            roots.add(ca).map_err(|e| format!("--ca-cert {}: {e}", files.ca_cert.display()))?;
        }
        let chain = certs(&files.certificate, "--certificate")?;
        let key = PrivateKeyDer::from_pem_file(&files.private_key)
            .map_err(|e| format!("--private-key {}: no private key: {e}", files.private_key.display()))?;
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("--ca-cert {}: {e}", files.ca_cert.display()))?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(SignedByCa(inner)))
            .with_client_auth_cert(chain, key)
            .map_err(|e| {
                format!(
                    "--private-key {} does not go with --certificate {}: {e}",
                    files.private_key.display(),
                    files.certificate.display()
                )
            })?;
        Ok(Tls { config: Arc::new(config) })
    }

    /// Run the TLS handshake over `stream`, connected to `host`.
    pub async fn connect(
        &self,
        stream: tokio::net::TcpStream,
        host: &str,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        // Only for SNI and the verifier's name check, which SignedByCa skips.
        let name = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(host.to_string()).map_err(|e| std::io::Error::other(e.to_string()))?,
        };
        tokio_rustls::TlsConnector::from(self.config.clone()).connect(name, stream).await
    }
}

/// Whether `e` (from a TLS stream) says a certificate was refused: the
/// server's by us, or ours by the server (its alert).
pub fn is_refusal(e: &std::io::Error) -> bool {
    use AlertDescription::*;
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(_)) => true,
        Some(rustls::Error::AlertReceived(alert)) => matches!(
            alert,
            BadCertificate
                | UnsupportedCertificate
                | CertificateRevoked
                | CertificateExpired
                | CertificateUnknown
                | UnknownCA
                | CertificateRequired
                | AccessDenied
        ),
        _ => false,
    }
}

fn certs(path: &Path, option: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{option} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{option} {}: no certificate in the file", path.display()));
    }
    Ok(certs)
}

/// WebPKI's checks of the chain, signatures and validity dates, without the
/// name check (see the module's comment).
#[derive(Debug)]
struct SignedByCa(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for SignedByCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The chain is checked before the name: a name error means the
        // chain was good.
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
