//! Artifact files, copied into an `mlruns`-like tree through `object_store` so that a
//! remote bucket can later replace the local folder without touching callers.
//!
//! Layout: `<artifact root>/<experiment id>/<run id>/artifacts/<file name>`.

use std::io::Read;
use std::path::{Path, PathBuf};

use futures::executor::block_on;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::error::{Error, Result};

/// Bytes read from the source and written per part; a large file is never held in
/// memory as a whole.
const CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// The folder of a run's artifacts.
pub(crate) fn run_artifact_dir(artifact_root: &Path, experiment_id: &str, run_id: &str) -> PathBuf {
    artifact_root
        .join(experiment_id)
        .join(run_id)
        .join("artifacts")
}

/// Copies `source` into the run's artifact folder and returns its path relative to
/// that folder, with its size in bytes.
pub(crate) fn copy_into_run(
    artifact_root: &Path,
    experiment_id: &str,
    run_id: &str,
    source: &Path,
) -> Result<(String, u64)> {
    let source_error = |error| Error::ArtifactSource {
        path: source.to_path_buf(),
        source: error,
    };
    let store_error = |error| Error::ArtifactStore {
        path: source.to_path_buf(),
        source: error,
    };
    let mut file = std::fs::File::open(source).map_err(source_error)?;
    if file.metadata().map_err(source_error)?.is_dir() {
        return Err(source_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a directory; log its files one by one",
        )));
    }
    let file_name = source
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| {
            source_error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the file name is not valid UTF-8",
            ))
        })?;
    let relative = ObjectPath::parse(format!("{experiment_id}/{run_id}/artifacts/{file_name}"))
        .map_err(|error| store_error(error.into()))?;
    std::fs::create_dir_all(artifact_root).map_err(|error| Error::CreateDir {
        path: artifact_root.to_path_buf(),
        source: error,
    })?;
    let store = LocalFileSystem::new_with_prefix(artifact_root).map_err(store_error)?;

    // LocalFileSystem runs its I/O on the calling thread when no tokio runtime is
    // present, so a plain executor drives it. Parts are written in order, one at a time.
    let size = block_on(async {
        let mut upload = store.put_multipart(&relative).await.map_err(store_error)?;
        let mut size = 0u64;
        loop {
            let mut chunk = Vec::with_capacity(CHUNK_SIZE);
            let read = (&mut file).take(CHUNK_SIZE as u64).read_to_end(&mut chunk);
            match read {
                Ok(0) => break,
                Ok(read) => {
                    size += read as u64;
                    if let Err(error) = upload.put_part(PutPayload::from(chunk)).await {
                        let _ = upload.abort().await;
                        return Err(store_error(error));
                    }
                }
                Err(error) => {
                    let _ = upload.abort().await;
                    return Err(source_error(error));
                }
            }
        }
        upload.complete().await.map_err(store_error)?;
        Ok(size)
    })?;
    Ok((file_name.to_owned(), size))
}
