//! The AWS SDK configuration every client of a function shares (DynamoDB, S3).
//!
//! Why not `aws_config::load_from_env()` alone: its default HTTPS client reads the system
//! certificate store when the first client is built (the bundle file, and every file under
//! `SSL_CERT_DIR` when that is set), 2-4 ms of each cold start (BENCHMARKS.md). Here the
//! trust anchors are Mozilla's root program compiled into the binary (`webpki-root-certs`,
//! the list Amazon Linux's `ca-certificates` is built from too), so a cold start reads no
//! files. `MLAAS_TLS_ROOTS=native` uses the system store instead, for a private CA or a
//! TLS-inspecting proxy.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use base64::Engine;

/// Which certificates HTTPS connections to AWS trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsRoots {
    /// Mozilla's roots, compiled in.
    #[default]
    Bundled,
    /// The operating system's store, read at the first connection.
    Native,
}

impl TlsRoots {
    /// Parses `MLAAS_TLS_ROOTS` (`bundled` or `native`).
    pub fn parse(value: &str) -> Option<TlsRoots> {
        match value.trim().to_ascii_lowercase().as_str() {
            "bundled" => Some(TlsRoots::Bundled),
            "native" => Some(TlsRoots::Native),
            _ => None,
        }
    }
}

/// The compiled-in roots as one PEM bundle: the SDK's trust store takes PEM.
pub fn bundled_roots_pem() -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pem = String::with_capacity(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() * 2048);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let body = b64.encode(cert.as_ref());
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            // Base64 output is ASCII, so every chunk is valid UTF-8.
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem
}

/// Loads the SDK configuration from the environment (region, credentials, endpoints), with
/// the HTTPS client `roots` asks for.
pub async fn sdk_config(roots: TlsRoots) -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest());
    let loader = match roots {
        TlsRoots::Native => loader,
        TlsRoots::Bundled => {
            let trust = TrustStore::empty()
                .with_native_roots(false)
                .with_pem_certificate(bundled_roots_pem());
            match TlsContext::builder().with_trust_store(trust).build() {
                Ok(context) => loader.http_client(
                    aws_smithy_http_client::Builder::new()
                        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                        .tls_context(context)
                        .build_https(),
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "bundled TLS roots unusable; using the system store");
                    loader
                }
            }
        }
    };
    loader.load().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::{Credentials, Region};

    #[test]
    fn bundle_holds_every_mozilla_root_as_pem() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let pem = bundled_roots_pem();
        let ders: Vec<Vec<u8>> = pem
            .split("-----END CERTIFICATE-----\n")
            .filter_map(|block| block.strip_prefix("-----BEGIN CERTIFICATE-----\n"))
            .map(|body| b64.decode(body.replace('\n', "")).expect("base64"))
            .collect();
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(roots.len() > 100);
        assert_eq!(ders.len(), roots.len());
        assert!(ders.iter().zip(roots).all(|(a, b)| a == b.as_ref()));
        assert!(pem.lines().all(|l| l.len() <= 64));
    }

    #[test]
    fn parses_the_setting() {
        assert_eq!(TlsRoots::parse("bundled"), Some(TlsRoots::Bundled));
        assert_eq!(TlsRoots::parse(" Native "), Some(TlsRoots::Native));
        assert_eq!(TlsRoots::parse("system"), None);
    }

    /// The SDK parses the trust store when it builds a connector, and panics on a certificate
    /// it cannot parse: a call to a closed HTTPS port gets that far and must fail cleanly.
    #[tokio::test]
    async fn the_sdk_accepts_the_bundled_roots() {
        let sdk = sdk_config(TlsRoots::Bundled).await;
        let conf = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("id", "secret", None, None, "test"))
            .endpoint_url("https://127.0.0.1:9")
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        let err = aws_sdk_dynamodb::Client::from_conf(conf)
            .list_tables()
            .send()
            .await
            .expect_err("nothing listens on port 9");
        assert!(
            matches!(err, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)),
            "{err:?}"
        );
    }
}
