//! `gc`: delete objects no pointer needs, from the cache and (with `--cloud`) from a
//! remote. It is a dry run unless forced, and it keeps everything the workspace's
//! pointers and pipeline stages reference, plus (on request) what other commits reference
//! (branches, tags, all commits, a commit and its ancestors, those since a day) and what
//! other projects sharing the cache reference. With `--not-in-remote` it keeps in the
//! cache only what the remote lacks: the rest `pull` brings back.
//!
//! On a remote, an object datavc cannot name (a key outside `files/<algo>/`, or of the
//! other algorithm) is never deleted, and a folder's manifest goes before its files, so
//! that no remote ever lists a folder whose files are gone.

use std::collections::HashSet;
use std::path::PathBuf;

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::RevScope;
use crate::hash::{HashAlgo, Oid};
use crate::lock::LockMode;
use crate::manifest::Manifest;
use crate::pointer::Pointer;
use crate::progress::Progress;
use crate::remote::RemoteStore;
use crate::repo::Repo;

use super::Unreadable;
use super::transfer::{self, TransferOptions};

/// What `gc` keeps, and where it collects.
#[derive(Debug, Clone, Default)]
pub struct GcOptions {
    /// Revisions whose pointers are kept too.
    pub scope: RevScope,
    /// Delete (otherwise only list).
    pub delete: bool,
    /// Also collect on this remote.
    pub cloud: Option<TransferOptions>,
    /// Also delete from the cache the referenced objects this remote (or an output's own
    /// `remote:`) holds. Where the workspace links to the cache (`cache.type` symlink),
    /// those links break until `pull`.
    pub not_in_remote: Option<TransferOptions>,
    /// Other projects that share this cache (DVC's `-p`): what they reference, in the same
    /// revisions, is kept too.
    pub projects: Vec<PathBuf>,
    /// Skip, naming them, the revisions whose pointer or pipeline files cannot be read
    /// (DVC's `--skip-failed`): what only they reference is not kept. Otherwise they fail
    /// the gc before it deletes anything.
    pub skip_failed: bool,
}

/// What `gc` found, and (when forced) removed.
#[derive(Debug, Clone, Serialize)]
pub struct GcReport {
    /// Cache objects no kept pointer references.
    pub unused: Vec<String>,
    /// Their total size.
    pub bytes: u64,
    /// Objects kept.
    pub kept: usize,
    /// Whether the unused objects were deleted.
    pub deleted: bool,
    /// What the remote holds that no kept pointer references (with `--cloud`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudGarbage>,
    /// The revisions skipped as unreadable ([`GcOptions::skip_failed`]), each with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_revisions: Vec<String>,
}

/// The unused objects on a remote.
#[derive(Debug, Clone, Serialize)]
pub struct CloudGarbage {
    /// The remote's name.
    pub remote: String,
    /// Objects no kept pointer references.
    pub unused: Vec<String>,
    /// Their total size.
    pub bytes: u64,
}

/// Finds (and with `options.delete`, removes) unused objects.
pub fn gc(repo: &Repo, options: &GcOptions, progress: &dyn Progress) -> Result<GcReport> {
    let _lock = repo.lock(LockMode::Write)?;
    let others = other_projects(repo, &options.projects)?;
    // Locked as DVC locks them: an `add` there must not store what this gc deletes.
    let _locks: Vec<_> = (others.iter())
        .map(|other| other.lock(LockMode::Write))
        .collect::<Result<_>>()?;
    let (pointers, mut skipped) = kept_outputs(repo, options)?;
    let cloud = options
        .cloud
        .as_ref()
        .map(|transfer| Cloud::open(repo, transfer))
        .transpose()?;
    let mut used = referenced(repo, &pointers, cloud.as_ref())?;
    for other in &others {
        let (pointers, unread) = kept_outputs(other, options)?;
        used.extend(referenced(other, &pointers, None)?);
        skipped.extend(unread);
    }
    let pushed = match &options.not_in_remote {
        Some(remote) => transfer::held_by_remotes(repo, pointers, remote)?,
        None => HashSet::new(),
    };
    let kept = |oid: &Oid| used.contains(oid) && !pushed.contains(oid);
    let mut unused: Vec<Oid> = repo
        .cache()
        .objects()?
        .into_iter()
        .filter(|oid| !kept(oid))
        .collect();
    unused.sort();
    let bytes = unused
        .iter()
        .map(|oid| std::fs::metadata(repo.cache().object_path(oid)).map_or(0, |m| m.len()))
        .sum();
    let remote_unused = cloud
        .as_ref()
        .map(|cloud| cloud.unused(repo.algo(), &used))
        .transpose()?;
    if options.delete {
        for oid in &unused {
            repo.cache().remove(oid)?;
        }
        repo.state()?.forget_verified(&unused)?;
        if let (Some(cloud), Some(remote_unused)) = (&cloud, &remote_unused) {
            cloud.delete(remote_unused, progress)?;
        }
    }
    Ok(GcReport {
        kept: used.iter().filter(|oid| kept(oid)).count(),
        unused: unused.iter().map(Oid::to_string).collect(),
        bytes,
        deleted: options.delete,
        cloud: cloud
            .zip(remote_unused)
            .map(|(cloud, objects)| CloudGarbage {
                remote: cloud.remote.name.clone(),
                bytes: objects.iter().map(|(_, size)| size).sum(),
                unused: objects.iter().map(|(oid, _)| oid.to_string()).collect(),
            }),
        skipped_revisions: skipped,
    })
}

/// The outputs `project` records in its workspace and in the revisions `options` keep,
/// and the revisions skipped as unreadable.
fn kept_outputs(project: &Repo, options: &GcOptions) -> Result<(Vec<Pointer>, Vec<String>)> {
    let unreadable = match options.skip_failed {
        true => Unreadable::Skip,
        false => Unreadable::Fail,
    };
    let outputs = project.outputs()?;
    super::with_revisions(project, outputs, false, &options.scope, unreadable)
}

/// The repositories at `paths`, this one left out (its lock is held already).
fn other_projects(repo: &Repo, paths: &[PathBuf]) -> Result<Vec<Repo>> {
    let mut others: Vec<Repo> = Vec::new();
    for path in paths {
        let other = Repo::discover(path)?;
        let root = other.root();
        if root != repo.root() && others.iter().all(|known| known.root() != root) {
            others.push(other);
        }
    }
    Ok(others)
}

/// Every object the pointers reference, folders expanded through their manifests: the
/// cached one, else the remote's. Without a remote, a folder whose manifest is not cached
/// keeps only its manifest; with one, a folder whose manifest neither has is an error,
/// since its files on the remote could not be told from garbage.
fn referenced(repo: &Repo, pointers: &[Pointer], cloud: Option<&Cloud>) -> Result<HashSet<Oid>> {
    let mut used = HashSet::new();
    for pointer in pointers {
        for out in &pointer.outs {
            if !used.insert(out.oid.clone()) || !out.oid.dir {
                continue;
            }
            let manifest = match (repo.cache().contains(&out.oid), cloud) {
                (true, _) => repo.cache().manifest(&out.oid)?,
                (false, None) => continue,
                (false, Some(cloud)) => {
                    cloud
                        .manifest(&out.oid)?
                        .ok_or_else(|| Error::UnknownFolder {
                            path: super::display_path(repo, pointer, out),
                            oid: out.oid.to_string(),
                            remote: cloud.remote.name.clone(),
                        })?
                }
            };
            used.extend(manifest.entries().iter().map(|e| e.oid.clone()));
        }
    }
    Ok(used)
}

/// A remote being collected, with the runtime its requests run on.
struct Cloud {
    remote: RemoteStore,
    runtime: tokio::runtime::Runtime,
    jobs: usize,
}

impl Cloud {
    fn open(repo: &Repo, options: &TransferOptions) -> Result<Cloud> {
        let remote = transfer::open_remote(repo, options)?;
        if !remote.lists() {
            return Err(Error::CannotList {
                remote: remote.name,
            });
        }
        let cloud = Cloud {
            remote,
            runtime: transfer::runtime()?,
            jobs: transfer::jobs(repo, options),
        };
        cloud.runtime.block_on(cloud.remote.ensure_bucket())?;
        Ok(cloud)
    }

    fn manifest(&self, oid: &Oid) -> Result<Option<Manifest>> {
        self.runtime
            .block_on(transfer::remote_manifest(&self.remote, oid))
    }

    /// The remote's objects of `algo` that `used` lacks, with their sizes, sorted.
    fn unused(&self, algo: HashAlgo, used: &HashSet<Oid>) -> Result<Vec<(Oid, u64)>> {
        let listed = self
            .runtime
            .block_on(transfer::remote_objects(&self.remote, algo))?;
        let mut unused: Vec<(Oid, u64)> = listed
            .into_iter()
            .filter(|(oid, _)| !used.contains(oid))
            .collect();
        unused.sort();
        Ok(unused)
    }

    /// Deletes `objects`, manifests first, `jobs` at a time.
    fn delete(&self, objects: &[(Oid, u64)], progress: &dyn Progress) -> Result<()> {
        let (manifests, files): (Vec<_>, Vec<_>) = objects.iter().partition(|(oid, _)| oid.dir);
        progress.begin("gc", objects.len() as u64, 0);
        for batch in [manifests, files] {
            let deletions = futures::stream::iter(batch).map(|(oid, size)| async move {
                let key = self.remote.key(oid);
                match self.remote.store().delete(&key).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {
                        progress.file_done(*size);
                        Ok(())
                    }
                    Err(e) => Err(self.remote.error("delete", &key, e)),
                }
            });
            self.runtime
                .block_on(deletions.buffer_unordered(self.jobs).try_collect::<()>())?;
        }
        progress.finish();
        self.remote.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Level;
    use crate::ops::add::add;
    use crate::ops::transfer::push;
    use crate::progress::Silent;

    /// A repository with a folder remote `store` as default, holding file `f` and folder
    /// `d/`, both pushed.
    fn pushed_repo(dir: &std::path::Path) -> Repo {
        let root = dir.join("repo");
        std::fs::create_dir_all(root.join("d")).unwrap();
        std::fs::write(root.join("f"), b"first").unwrap();
        std::fs::write(root.join("d").join("a"), b"in the folder").unwrap();
        let mut repo = Repo::init(&root, HashAlgo::Md5).unwrap();
        let remote = dir.join("remote");
        repo.config_mut()
            .add_remote(Level::Repo, "store", remote.to_str().unwrap(), true)
            .unwrap();
        add(&repo, &[root.join("f"), root.join("d")], &Silent).unwrap();
        push(&repo, &[], &TransferOptions::default(), &Silent).unwrap();
        repo
    }

    fn cloud_options(delete: bool) -> GcOptions {
        GcOptions {
            delete,
            cloud: Some(TransferOptions::default()),
            ..GcOptions::default()
        }
    }

    fn remote_object(dir: &std::path::Path, oid: &Oid) -> std::path::PathBuf {
        crate::fsutil::join_slash(&dir.join("remote"), &oid.key())
    }

    #[test]
    fn cloud_gc_keeps_folders_read_from_the_remote_and_keys_it_cannot_name() {
        let dir = tempfile::tempdir().unwrap();
        let repo = pushed_repo(dir.path());
        let old = HashAlgo::Md5.hash_bytes(b"first");
        let f = repo.root().join("f");
        std::fs::remove_file(&f).unwrap();
        std::fs::write(&f, b"second").unwrap();
        add(&repo, std::slice::from_ref(&f), &Silent).unwrap();
        push(&repo, &[], &TransferOptions::default(), &Silent).unwrap();
        // The folder's manifest only on the remote: its files are kept by reading it there.
        let folder = Pointer::load(&repo.root().join("d.dvc")).unwrap().outs[0]
            .oid
            .clone();
        repo.cache().remove(&folder).unwrap();
        let stray = dir.path().join("remote/files/md5/notes.txt");
        std::fs::write(&stray, b"not an object").unwrap();

        let listed = gc(&repo, &cloud_options(false), &Silent).unwrap();
        let cloud = listed.cloud.unwrap();
        assert_eq!(cloud.remote, "store");
        assert_eq!(cloud.unused, [old.to_string()]);
        assert_eq!(cloud.bytes, 5);
        assert!(
            remote_object(dir.path(), &old).exists(),
            "a dry run deletes nothing"
        );

        let deleted = gc(&repo, &cloud_options(true), &Silent).unwrap();
        assert!(deleted.deleted);
        assert_eq!(
            deleted.unused,
            [old.to_string()],
            "the cache's copy goes too"
        );
        assert!(!repo.cache().contains(&old));
        assert!(!remote_object(dir.path(), &old).exists());
        let kept = [
            folder.clone(),
            HashAlgo::Md5.hash_bytes(b"in the folder"),
            HashAlgo::Md5.hash_bytes(b"second"),
        ];
        for oid in &kept {
            assert!(remote_object(dir.path(), oid).exists(), "{oid} was deleted");
        }
        assert!(stray.exists());
    }

    #[test]
    fn a_folder_whose_manifest_neither_side_has_stops_cloud_gc_before_any_deletion() {
        let dir = tempfile::tempdir().unwrap();
        let repo = pushed_repo(dir.path());
        let folder = Pointer::load(&repo.root().join("d.dvc")).unwrap().outs[0]
            .oid
            .clone();
        repo.cache().remove(&folder).unwrap();
        std::fs::remove_file(remote_object(dir.path(), &folder)).unwrap();
        let unneeded = HashAlgo::Md5.hash_bytes(b"unreferenced");
        repo.cache()
            .insert_bytes(&unneeded, b"unreferenced")
            .unwrap();

        let error = gc(&repo, &cloud_options(true), &Silent).unwrap_err();
        assert!(matches!(error, Error::UnknownFolder { .. }), "{error:?}");
        assert!(error.to_string().contains("d needs"), "{error}");
        assert!(repo.cache().contains(&unneeded), "nothing was deleted");
        let file = HashAlgo::Md5.hash_bytes(b"in the folder");
        assert!(remote_object(dir.path(), &file).exists());
    }

    #[test]
    fn deleted_objects_leave_the_state_database_too() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::init(dir.path(), HashAlgo::Blake3).unwrap();
        let file = dir.path().join("weights.bin");
        let mut added = Vec::new();
        for content in ["epoch 1", "epoch 2"] {
            std::fs::write(&file, content).unwrap();
            let tracked =
                crate::ops::add::add(&repo, std::slice::from_ref(&file), &Silent).unwrap();
            added.push(Oid::parse(HashAlgo::Blake3, &tracked[0].oid).unwrap());
        }
        let options = GcOptions {
            delete: true,
            ..GcOptions::default()
        };
        let report = gc(&repo, &options, &Silent).unwrap();
        assert_eq!(report.unused, [added[0].to_string()]);
        let verified = repo.state().unwrap().verified_objects().unwrap();
        let recorded = |oid: &Oid| verified.contains_key(&(oid.algo, oid.hex.clone()));
        assert!(!recorded(&added[0]), "the deleted object is forgotten");
        assert!(
            cfg!(not(unix)) || recorded(&added[1]),
            "the kept one is not"
        );
    }
}
