//! Remotes as object stores: a local folder, S3 (and S3-compatible endpoints), GCS, Azure
//! and HTTP, built from a DVC remote section. Credentials come from the usual environment
//! variables, overridden by options in `.dvc/config.local`.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ClientOptions, ObjectStore, RetryConfig};

use crate::config::Remote;
use crate::error::{Error, Result};
use crate::hash::Oid;

/// An opened remote.
#[derive(Debug, Clone)]
pub struct RemoteStore {
    /// The remote's name.
    pub name: String,
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
    /// The folder of a local remote, flushed after each batch of uploads.
    folder: Option<std::path::PathBuf>,
    /// What kind of store it is, which decides how presence is checked.
    kind: Kind,
}

/// The kinds of store, by what they can answer.
#[derive(Debug, Clone)]
enum Kind {
    /// A local folder: listable, created on first use, and each object a file it can name.
    Folder(Arc<LocalFileSystem>),
    /// A bucket or container (S3, GCS, Azure): listable, and it must exist.
    Bucket(String),
    /// A plain HTTP server: no listing (a static server answers PROPFIND with 501, which
    /// object_store would retry), only `HEAD` and `GET` per object.
    Http,
}

impl RemoteStore {
    /// Opens `remote`; relative local URLs are relative to `config_dir` (`.dvc/`). With
    /// `durable`, uploads to a folder remote are flushed to disk (see [`RemoteStore::flush`]).
    pub fn open(
        remote: &Remote,
        config_dir: &std::path::Path,
        durable: bool,
    ) -> Result<RemoteStore> {
        let bad = |detail: String| Error::BadRemoteUrl {
            url: remote.url.clone(),
            detail,
        };
        let (store, prefix, folder, kind): (Arc<dyn ObjectStore>, String, _, _) =
            match url::Url::parse(&remote.url) {
                Ok(url) if url.scheme().len() > 1 => {
                    let (store, prefix) = open_url(remote, &url).map_err(|e| bad(e.to_string()))?;
                    let kind = match url.scheme() {
                        "http" | "https" => Kind::Http,
                        _ => Kind::Bucket(url.host_str().unwrap_or_default().to_owned()),
                    };
                    (store, prefix, None, kind)
                }
                _ => {
                    let folder = config_dir.join(&remote.url);
                    crate::fsutil::create_dir_all(&folder)?;
                    let local = LocalFileSystem::new_with_prefix(&folder)
                        .map_err(|e| bad(e.to_string()))?
                        .with_fsync(durable && crate::fsutil::FLUSH_EACH_FILE);
                    let local = Arc::new(local);
                    let folder = durable.then_some(folder);
                    (local.clone(), String::new(), folder, Kind::Folder(local))
                }
            };
        Ok(RemoteStore {
            name: remote.name.clone(),
            store,
            prefix: StorePath::from(prefix),
            folder,
            kind,
        })
    }

    /// Whether the store can list its keys; a plain HTTP server cannot.
    pub fn lists(&self) -> bool {
        !matches!(self.kind, Kind::Http)
    }

    /// Fails with [`Error::NoSuchBucket`] when the remote's bucket does not exist. Object
    /// stores answer a missing bucket's objects with the same 404 as missing objects, so
    /// without this check a missing bucket would read as an empty remote.
    pub async fn ensure_bucket(&self) -> Result<()> {
        if !matches!(self.kind, Kind::Bucket(_)) {
            return Ok(());
        }
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        match self.store.list_with_delimiter(prefix).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.listing_error(&self.prefix, e)),
        }
    }

    /// Wraps a failed listing: a bucket that does not exist gets its own error.
    pub fn listing_error(&self, key: &StorePath, source: object_store::Error) -> Error {
        match &self.kind {
            Kind::Bucket(bucket) if names_missing_bucket(&source) => Error::NoSuchBucket {
                remote: self.name.clone(),
                bucket: bucket.clone(),
            },
            _ => self.error("list", key, source),
        }
    }

    /// Makes uploads so far durable: a folder remote's filesystem is flushed once (object
    /// stores acknowledge a write only once it is stored).
    pub fn flush(&self) -> Result<()> {
        match &self.folder {
            Some(folder) if !crate::fsutil::FLUSH_EACH_FILE => {
                crate::fsutil::flush_filesystem(folder)
            }
            _ => Ok(()),
        }
    }

    /// The file holding object `oid` where the remote is a local folder, whether or not
    /// the object is there; `None` for other remotes.
    pub fn local_path(&self, oid: &Oid) -> Option<std::path::PathBuf> {
        match &self.kind {
            Kind::Folder(local) => local.path_to_filesystem(&self.key(oid)).ok(),
            _ => None,
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The key of an object on this remote.
    pub fn key(&self, oid: &Oid) -> StorePath {
        self.child(&oid.key())
    }

    /// The key of a `/`-separated path below the remote's prefix.
    pub fn child(&self, relpath: &str) -> StorePath {
        relpath
            .split('/')
            .fold(self.prefix.clone(), |key, part| key.clone().join(part))
    }

    /// Wraps an object-store failure with the remote's name.
    pub fn error(
        &self,
        action: &'static str,
        key: &StorePath,
        source: object_store::Error,
    ) -> Error {
        Error::Remote {
            remote: self.name.clone(),
            action,
            key: key.to_string(),
            source: Box::new(source),
        }
    }
}

/// Whether a failed listing says the bucket (or Azure container) is missing. A listing of
/// a prefix in an existing bucket never answers 404, and object_store keeps the status
/// code private, so the error's text is what there is to read.
fn names_missing_bucket(error: &object_store::Error) -> bool {
    let mut text = String::new();
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = cause {
        text.push_str(&current.to_string());
        cause = current.source();
    }
    ["NoSuchBucket", "ContainerNotFound", "status code: 404"]
        .iter()
        .any(|marker| text.contains(marker))
}

fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 5,
        retry_timeout: Duration::from_secs(120),
        ..RetryConfig::default()
    }
}

/// An Azure container from DVC's settings: `connection_string`, `account_name`,
/// `account_key`, `sas_token`, a service principal (`tenant_id`, `client_id`,
/// `client_secret`) and `allow_anonymous_login`. The variables DVC reads for them come
/// first and the remote's options override them; object_store's own `AZURE_*` names are
/// read under both.
fn azure(remote: &Remote, url: &url::Url) -> object_store::Result<MicrosoftAzureBuilder> {
    let mut builder = MicrosoftAzureBuilder::from_env()
        .with_url(url.as_str())
        .with_retry(retry());
    builder = with_azure_settings(builder, |_, variable| std::env::var(variable).ok())?;
    builder = with_azure_settings(builder, |option, _| remote.options.get(option).cloned())?;
    if remote
        .options
        .get("allow_anonymous_login")
        .is_some_and(|value| value == "true")
    {
        builder = builder.with_skip_signature(true);
    }
    Ok(builder)
}

/// Applies the Azure settings `setting(option, variable)` finds, the connection string
/// first, so that a setting of its own overrides that part of it.
fn with_azure_settings(
    mut builder: MicrosoftAzureBuilder,
    setting: impl Fn(&str, &str) -> Option<String>,
) -> object_store::Result<MicrosoftAzureBuilder> {
    use AzureConfigKey::{AccessKey, AccountName, AuthorityId, ClientId, ClientSecret, SasKey};
    if let Some(text) = setting("connection_string", "AZURE_STORAGE_CONNECTION_STRING") {
        builder = with_connection_string(builder, &text)?;
    }
    for (option, variable, key) in [
        ("account_name", "AZURE_STORAGE_ACCOUNT", AccountName),
        ("account_key", "AZURE_STORAGE_KEY", AccessKey),
        ("sas_token", "AZURE_STORAGE_SAS_TOKEN", SasKey),
        ("tenant_id", "AZURE_TENANT_ID", AuthorityId),
        ("client_id", "AZURE_CLIENT_ID", ClientId),
        ("client_secret", "AZURE_CLIENT_SECRET", ClientSecret),
    ] {
        if let Some(value) = setting(option, variable) {
            builder = builder.with_config(key, value);
        }
    }
    Ok(builder)
}

/// Applies an Azure connection string, `Key=Value;…` as the portal and Azurite give it.
fn with_connection_string(
    mut builder: MicrosoftAzureBuilder,
    text: &str,
) -> object_store::Result<MicrosoftAzureBuilder> {
    let mut fields = std::collections::HashMap::new();
    for part in text
        .split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| object_store::Error::Generic {
                store: "MicrosoftAzure",
                source: format!("the connection string's part `{part}` is not Key=Value").into(),
            })?;
        fields.insert(key.to_ascii_lowercase(), value.to_owned());
    }
    let field = |key: &str| fields.get(key).cloned();
    if field("usedevelopmentstorage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        builder = builder.with_use_emulator(true);
    }
    if let Some(account) = field("accountname") {
        builder = builder.with_account(account);
    }
    if let Some(key) = field("accountkey") {
        builder = builder.with_access_key(key);
    }
    if let Some(sas) = field("sharedaccesssignature") {
        builder = builder.with_config(AzureConfigKey::SasKey, sas);
    }
    let endpoint = field("blobendpoint").or_else(|| {
        let protocol = field("defaultendpointsprotocol").unwrap_or_else(|| "https".into());
        let suffix = field("endpointsuffix")?;
        Some(format!(
            "{protocol}://{}.blob.{suffix}",
            field("accountname")?
        ))
    });
    if let Some(endpoint) = endpoint {
        builder = builder
            .with_allow_http(endpoint.starts_with("http://"))
            .with_endpoint(endpoint);
    }
    Ok(builder)
}

/// The options datavc reads for a remote at `url`, besides `url` itself: DVC's names for
/// them, which `open_url` and `azure` read.
pub fn options_read(url: &str) -> &'static [&'static str] {
    match url.split_once("://").map(|(scheme, _)| scheme) {
        Some("s3") => &[
            "endpointurl",
            "region",
            "access_key_id",
            "secret_access_key",
            "session_token",
        ],
        Some("gs") => &["credentialpath"],
        Some("azure") => &[
            "connection_string",
            "account_name",
            "account_key",
            "sas_token",
            "tenant_id",
            "client_id",
            "client_secret",
            "allow_anonymous_login",
        ],
        _ => &[],
    }
}

fn open_url(
    remote: &Remote,
    url: &url::Url,
) -> object_store::Result<(Arc<dyn ObjectStore>, String)> {
    let option = |key: &str| remote.options.get(key).cloned();
    let prefix = url.path().trim_matches('/').to_owned();
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" => {
            let mut builder = AmazonS3Builder::from_env()
                .with_url(url.as_str())
                .with_retry(retry());
            if let Some(endpoint) = option("endpointurl") {
                builder = builder
                    .with_allow_http(endpoint.starts_with("http://"))
                    .with_endpoint(endpoint);
            }
            // DVC's option names for what object_store reads from AWS_* variables.
            for (name, key) in [
                ("region", AmazonS3ConfigKey::Region),
                ("access_key_id", AmazonS3ConfigKey::AccessKeyId),
                ("secret_access_key", AmazonS3ConfigKey::SecretAccessKey),
                ("session_token", AmazonS3ConfigKey::Token),
            ] {
                if let Some(value) = option(name) {
                    builder = builder.with_config(key, value);
                }
            }
            Arc::new(builder.build()?)
        }
        "gs" => {
            let mut builder = GoogleCloudStorageBuilder::from_env()
                .with_url(url.as_str())
                .with_retry(retry());
            if let Some(path) = option("credentialpath") {
                builder = builder.with_service_account_path(path);
            }
            Arc::new(builder.build()?)
        }
        "azure" => Arc::new(azure(remote, url)?.build()?),
        "http" | "https" => {
            // object_store refuses plain http unless told; the user's URL says it.
            let client = ClientOptions::new().with_allow_http(url.scheme() == "http");
            let base = HttpBuilder::new()
                .with_url(url.as_str())
                .with_client_options(client)
                .with_retry(retry())
                .build()?;
            return Ok((Arc::new(base), String::new()));
        }
        other => {
            return Err(object_store::Error::NotSupported {
                source: format!(
                    "the `{other}` scheme (use a folder, s3://, gs://, azure:// or http(s)://)"
                )
                .into(),
            });
        }
    };
    Ok((store, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_settings(builder: &MicrosoftAzureBuilder, expected: &[(AzureConfigKey, &str)]) {
        for (key, value) in expected {
            assert_eq!(
                builder.get_config_value(key).as_deref(),
                Some(*value),
                "{key:?}"
            );
        }
    }

    #[test]
    fn a_connection_string_names_the_account_its_key_and_its_endpoint() {
        use AzureConfigKey::{AccessKey, AccountName, Endpoint, SasKey, UseEmulator};
        let cases: [(&str, &[(AzureConfigKey, &str)]); 3] = [
            (
                "DefaultEndpointsProtocol=https;AccountName=team;AccountKey=a2V5==;\
                 EndpointSuffix=core.windows.net",
                &[
                    (AccountName, "team"),
                    (AccessKey, "a2V5=="),
                    (Endpoint, "https://team.blob.core.windows.net"),
                ],
            ),
            (
                "BlobEndpoint=https://x.example/acct;SharedAccessSignature=sv=1&sig=2",
                &[(Endpoint, "https://x.example/acct"), (SasKey, "sv=1&sig=2")],
            ),
            ("UseDevelopmentStorage=true", &[(UseEmulator, "true")]),
        ];
        for (text, expected) in cases {
            let builder = with_connection_string(MicrosoftAzureBuilder::new(), text).unwrap();
            assert_settings(&builder, expected);
        }
        let broken = with_connection_string(MicrosoftAzureBuilder::new(), "AccountName;x=y");
        assert!(broken.unwrap_err().to_string().contains("`AccountName`"));
    }

    #[test]
    fn a_later_layer_of_settings_overrides_an_earlier_one_part_by_part() {
        let environment = |_: &str, variable: &str| {
            (variable == "AZURE_STORAGE_CONNECTION_STRING")
                .then(|| "AccountName=shared;AccountKey=ZW52".to_owned())
        };
        let options = |option: &str, _: &str| (option == "account_key").then(|| "b3B0".to_owned());
        let builder = with_azure_settings(MicrosoftAzureBuilder::new(), environment).unwrap();
        let builder = with_azure_settings(builder, options).unwrap();
        assert_settings(
            &builder,
            &[
                (AzureConfigKey::AccountName, "shared"),
                (AzureConfigKey::AccessKey, "b3B0"),
            ],
        );
    }
}
