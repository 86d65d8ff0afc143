//! Remotes as object stores: a local folder, S3 (and S3-compatible endpoints), GCS, Azure
//! and HTTP, built from a DVC remote section. Credentials come from the usual environment
//! variables, overridden by options in `.dvc/config.local`.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, RetryConfig};

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
        let (store, prefix, folder): (Arc<dyn ObjectStore>, String, _) =
            match url::Url::parse(&remote.url) {
                Ok(url) if url.scheme().len() > 1 => {
                    let (store, prefix) = open_url(remote, &url).map_err(|e| bad(e.to_string()))?;
                    (store, prefix, None)
                }
                _ => {
                    let folder = config_dir.join(&remote.url);
                    crate::fsutil::create_dir_all(&folder)?;
                    let local = LocalFileSystem::new_with_prefix(&folder)
                        .map_err(|e| bad(e.to_string()))?
                        .with_fsync(durable && crate::fsutil::FLUSH_EACH_FILE);
                    (Arc::new(local), String::new(), durable.then_some(folder))
                }
            };
        Ok(RemoteStore {
            name: remote.name.clone(),
            store,
            prefix: StorePath::from(prefix),
            folder,
        })
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

fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 5,
        retry_timeout: Duration::from_secs(120),
        ..RetryConfig::default()
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
        "azure" => {
            let mut builder = MicrosoftAzureBuilder::from_env()
                .with_url(url.as_str())
                .with_retry(retry());
            if let Some(account) = option("account_name") {
                builder = builder.with_account(account);
            }
            if let Some(key) = option("account_key") {
                builder = builder.with_access_key(key);
            }
            Arc::new(builder.build()?)
        }
        "http" | "https" => {
            let base = HttpBuilder::new()
                .with_url(url.as_str())
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
