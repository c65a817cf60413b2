//! The TLS client settings every network edge shares (PostgreSQL, FTPS): certificates are always verified,
//! against the system's CA store or, when one is configured, only against that CA bundle (a private CA, or a
//! cloud provider's such as Amazon RDS's). There is no way to turn verification off.

use crate::error::{Error, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use std::path::Path;
use std::sync::Arc;

/// A rustls client configuration trusting `ca_file`'s certificates (PEM), or the system's when `None`.
pub fn client_config(ca_file: Option<&Path>) -> Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let bad = |e: &dyn std::fmt::Display| Error::Other(format!("CA bundle {}: {e}", path.display()));
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(&e))?
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad(&e))?;
            if certs.is_empty() {
                return Err(bad(&"no certificate in it"));
            }
            for c in certs {
                roots.add(c).map_err(|e| bad(&e))?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
            if roots.is_empty() {
                return Err(Error::Other("no system CA certificates found; configure a CA bundle".into()));
            }
        }
    }
    client_config_trusting(roots)
}

/// A rustls client configuration trusting exactly `roots`.
pub fn client_config_trusting(roots: RootCertStore) -> Result<ClientConfig> {
    // One provider named explicitly: the AWS SDK links another, and rustls will not pick between them.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Other(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
