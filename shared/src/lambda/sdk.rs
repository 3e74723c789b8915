//! The AWS SDK configuration every function builds once at start-up, shaped for a short cold
//! start: it takes what Lambda's environment gives instead of probing for what it might.
//!
//! Two choices make the difference (BENCHMARKS.md, section 5):
//! - **Trust**: the HTTPS client trusts the five Amazon Trust Services roots, which every AWS
//!   endpoint's certificate chains to, instead of loading and parsing the system's few hundred
//!   roots, which was most of a function's init. An operator who needs other roots (a TLS
//!   inspecting proxy, an emulator behind TLS) sets `SSL_CERT_FILE` or `SSL_CERT_DIR`, and the
//!   system's roots are used as the SDK would by default.
//! - **Credentials and region**: Lambda always puts the role's credentials and the region in the
//!   environment, so when `AWS_ACCESS_KEY_ID` is there the environment provider is used alone,
//!   without building the default chain (profile files, web identity with its STS client, ECS,
//!   IMDS), and when `AWS_REGION` is there it is the region, without building the region chain
//!   and its IMDS client. Without them, as under `cargo lambda watch` with a profile, the default
//!   chains decide.
//!
//! And one saving for the functions with several clients (DynamoDB and S3, SES or EventBridge):
//! the SDK validates the HTTPS client as it builds each service client, by building a connector
//! (its TLS configuration and roots) and dropping it. All of a function's clients share this one
//! HTTPS client, so it is validated once.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, Connector};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::atomic::{AtomicBool, Ordering};

/// Amazon Trust Services' roots, PEM, with where they come from.
const AMAZON_TRUST_ROOTS: &[u8] = include_bytes!("amazon-trust-roots.pem");

/// The SDK configuration from the process environment.
pub async fn sdk_config() -> SdkConfig {
    sdk_config_from(&|name| std::env::var(name).ok().filter(|value| !value.is_empty())).await
}

/// `var` reads a variable of the environment: `None` when it is unset, empty or not Unicode.
async fn sdk_config_from(var: &dyn Fn(&str) -> Option<String>) -> SdkConfig {
    let mut loader = with_https_client(
        aws_config::defaults(BehaviorVersion::latest()),
        Trust::from_env(var),
    );
    if CredentialsSource::from_env(var) == CredentialsSource::Environment {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if let Some(region) = region_from_env(var) {
        loader = loader.region(region);
    }
    loader.load().await
}

/// The region Lambda names in `AWS_REGION` (the default chain's first source too).
fn region_from_env(var: &dyn Fn(&str) -> Option<String>) -> Option<Region> {
    var("AWS_REGION").map(Region::new)
}

/// The roots the HTTPS client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trust {
    AmazonRoots,
    SystemRoots,
}

impl Trust {
    fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Self {
        if var("SSL_CERT_FILE").is_some() || var("SSL_CERT_DIR").is_some() {
            Self::SystemRoots
        } else {
            Self::AmazonRoots
        }
    }

    fn trust_store(self) -> TrustStore {
        match self {
            Self::AmazonRoots => TrustStore::empty().with_pem_certificate(AMAZON_TRUST_ROOTS),
            Self::SystemRoots => TrustStore::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CredentialsSource {
    Environment,
    DefaultChain,
}

impl CredentialsSource {
    fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Self {
        if var("AWS_ACCESS_KEY_ID").is_some() {
            Self::Environment
        } else {
            Self::DefaultChain
        }
    }
}

/// The SDK's default HTTPS client (hyper 1, rustls on aws-lc, proxies from the environment),
/// with `trust` as its roots. `build_with_connector_fn` is how aws-smithy-runtime builds that
/// default itself: unlike `build_https`, it keeps the proxy settings.
fn with_https_client(loader: ConfigLoader, trust: Trust) -> ConfigLoader {
    let context = TlsContext::builder()
        .with_trust_store(trust.trust_store())
        .build()
        .expect("a TLS context with only a trust store is always valid");
    let client = Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = Connector::builder()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    loader.http_client(ValidatedOnce::new(client))
}

/// An HTTP client whose base validation, which the SDK runs as it builds each service client,
/// runs until it first succeeds; everything else is the inner client's.
#[derive(Debug)]
struct ValidatedOnce {
    inner: SharedHttpClient,
    validated: AtomicBool,
}

impl ValidatedOnce {
    fn new(inner: SharedHttpClient) -> Self {
        ValidatedOnce {
            inner,
            validated: AtomicBool::new(false),
        }
    }
}

impl HttpClient for ValidatedOnce {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        if !self.validated.load(Ordering::Acquire) {
            self.inner
                .validate_base_client_config(runtime_components, cfg)?;
            self.validated.store(true, Ordering::Release);
        }
        Ok(())
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use sha2::{Digest, Sha256};
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    /// The SHA-256 of each root's Subject Public Key Info, as https://www.amazontrust.com/repository/
    /// publishes them.
    const PUBLISHED_SPKI_SHA256: [&str; 5] = [
        "fbe3018031f9586bcbf41727e417b7d1c45c2f47f93be372a17b96b50757d5a2",
        "7f4296fc5b6a4e3b35d3c369623e364ab1af381d8fa7121533c9d6c633ea2461",
        "36abc32656acfc645c61b71613c4bf21c787f5cabbee48348d58597803d7abc9",
        "f7ecded5c66047d28ed6466b543c40e0743abe81d109254dcf845d4c2c7853c5",
        "2b071c59a0a0ae76b0eadb2bad23bad4580b69c3601b630c2eaf0613afa83f92",
    ];

    /// A DER SEQUENCE around `contents`, which is how the published hashes take the SPKI.
    fn der_sequence(contents: &[u8]) -> Vec<u8> {
        let length = contents.len();
        let mut der = vec![0x30];
        match length {
            0..0x80 => der.push(length as u8),
            0x80..0x100 => der.extend([0x81, length as u8]),
            _ => der.extend([0x82, (length >> 8) as u8, length as u8]),
        }
        der.extend_from_slice(contents);
        der
    }

    #[test]
    fn the_bundled_roots_are_exactly_the_five_amazon_trust_services_publishes() {
        let certificates = CertificateDer::pem_slice_iter(AMAZON_TRUST_ROOTS)
            .collect::<Result<Vec<_>, _>>()
            .expect("the bundle is valid PEM");
        let hashes: Vec<String> = certificates
            .iter()
            .map(|certificate| {
                let anchor = webpki::anchor_from_trusted_cert(certificate)
                    .expect("each root is a valid trust anchor");
                hex::encode(Sha256::digest(der_sequence(
                    &anchor.subject_public_key_info,
                )))
            })
            .collect();
        assert_eq!(hashes, PUBLISHED_SPKI_SHA256);
    }

    #[test]
    fn the_amazon_roots_are_trusted_unless_the_operator_names_a_certificate_file_or_directory() {
        assert_eq!(Trust::from_env(&vars(&[])), Trust::AmazonRoots);
        assert_eq!(
            Trust::from_env(&vars(&[("SSL_CERT_FILE", "set")])),
            Trust::SystemRoots
        );
        assert_eq!(
            Trust::from_env(&vars(&[("SSL_CERT_DIR", "set")])),
            Trust::SystemRoots
        );
    }

    #[tokio::test]
    async fn a_client_on_this_configuration_reaches_dynamodb() {
        if crate::store::emulator_endpoint().is_none() {
            return;
        }
        let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
        client
            .list_tables()
            .limit(1)
            .send()
            .await
            .expect("DynamoDB Local answers through the functions' HTTPS client");
    }

    /// An HTTP client that counts its base validations and fails the first `failures` of them.
    #[derive(Debug)]
    struct CountingClient {
        validations: Arc<AtomicUsize>,
        failures: usize,
    }

    impl HttpClient for CountingClient {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            unreachable!("these tests send no request")
        }

        fn validate_base_client_config(
            &self,
            _: &RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            let done = self.validations.fetch_add(1, Ordering::SeqCst);
            if done < self.failures {
                Err("no connector".into())
            } else {
                Ok(())
            }
        }
    }

    fn counted(failures: usize) -> (ValidatedOnce, Arc<AtomicUsize>) {
        let validations = Arc::new(AtomicUsize::new(0));
        let inner = SharedHttpClient::new(CountingClient {
            validations: Arc::clone(&validations),
            failures,
        });
        (ValidatedOnce::new(inner), validations)
    }

    #[test]
    fn all_of_a_functions_service_clients_validate_the_shared_https_client_once() {
        let (client, validations) = counted(0);
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-3"))
            .http_client(client)
            .build();
        let _dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let _s3 = aws_sdk_s3::Client::new(&config);
        let _ses = aws_sdk_ses::Client::new(&config);
        assert_eq!(validations.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_validation_is_not_remembered() {
        let (client, validations) = counted(1);
        let (components, cfg) = (RuntimeComponentsBuilder::new("test"), ConfigBag::base());
        assert!(
            client
                .validate_base_client_config(&components, &cfg)
                .is_err()
        );
        assert!(
            client
                .validate_base_client_config(&components, &cfg)
                .is_ok()
        );
        assert!(
            client
                .validate_base_client_config(&components, &cfg)
                .is_ok()
        );
        assert_eq!(validations.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn the_region_is_lambdas_aws_region_when_it_is_set() {
        assert_eq!(
            region_from_env(&vars(&[("AWS_REGION", "eu-west-3")])),
            Some(Region::new("eu-west-3"))
        );
        assert_eq!(region_from_env(&vars(&[])), None);
    }

    #[tokio::test]
    async fn the_configuration_carries_the_environments_region_and_credentials() {
        let config = sdk_config_from(&vars(&[
            ("AWS_REGION", "eu-west-3"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ]))
        .await;
        assert_eq!(config.region(), Some(&Region::new("eu-west-3")));
        assert!(config.credentials_provider().is_some());
    }

    #[test]
    fn credentials_come_from_the_environment_alone_when_lambda_put_them_there() {
        assert_eq!(
            CredentialsSource::from_env(&vars(&[("AWS_ACCESS_KEY_ID", "set")])),
            CredentialsSource::Environment
        );
        assert_eq!(
            CredentialsSource::from_env(&vars(&[])),
            CredentialsSource::DefaultChain
        );
    }
}
