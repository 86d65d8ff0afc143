//! `push`, `fetch`, `pull` and `status --cloud`: move objects between the cache and a
//! remote, only those missing on the other side, several at a time.
//!
//! Speed: a folder remote's objects download largest first, so that the one long hash
//! that cannot be split starts at once; its small md5 objects are read and hashed
//! together, in SIMD lanes. Where the cache and a folder remote share a filesystem that
//! can clone (XFS, Btrfs, APFS), objects move both ways as clones, not copies.
//!
//! Safety: every object is hashed as it moves and a mismatch aborts that object (a
//! multipart upload is aborted, a download's staging file deleted; small objects moved
//! together are stored all or none), except that an upload trusts a cache object whose
//! metadata has not changed since datavc wrote it verified (the state database's record,
//! see [`crate::state::ObjectKey`]); downloads land in the cache by rename; a folder's
//! manifest is uploaded only after all its files (and not at all while the cache lacks
//! some, or for a push of part of the folder), so a remote never lists a folder whose
//! files are not all there.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{GetResultPayload, ObjectStoreExt, PutPayload, WriteMultipart};
use serde::Serialize;

use crate::cache::Cache;
use crate::clone::Cloner;
use crate::config::Remote;
use crate::error::{Error, Result};
use crate::fsutil::{self, NewFile};
use crate::git::RevScope;
use crate::hash::{CHUNK, HashAlgo, Oid, batches, hash_open};
use crate::lock::LockMode;
use crate::manifest::Manifest;
use crate::ops::Unreadable;
use crate::ops::checkout::{CheckoutReport, Missing, Overwrite, checkout_locked};
use crate::ops::source::{Source, SourceCopy, source_parts};
use crate::pointer::{Output, Pointer};
use crate::progress::{Progress, Silent};
use crate::remote::RemoteStore;
use crate::repo::Repo;
use crate::state::{ObjectKey, recorded};

/// Objects up to this size are uploaded in one request; larger ones in parts.
const SINGLE_PUT_MAX: u64 = 16 << 20;

/// What a transfer did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TransferReport {
    /// The remote's name.
    pub remote: String,
    /// Objects moved.
    pub transferred: usize,
    /// Bytes moved.
    pub bytes: u64,
    /// Objects already on the other side.
    pub skipped: usize,
    /// Objects the source side lacks (`path (oid)`), which were not moved.
    pub missing: Vec<String>,
    /// Revisions left out (with `-a`, `-T` or `-A`) because their pointer or pipeline
    /// files could not be read, each with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_revisions: Vec<String>,
}

/// Where one object is, for `status --cloud`.
#[derive(Debug, Clone, Serialize)]
pub struct CloudEntry {
    /// The output or file it belongs to, relative to the root.
    pub path: String,
    /// The object id.
    pub oid: String,
    /// `new` (only in the cache), `deleted` (only on the remote), `missing` (neither).
    pub state: &'static str,
}

/// Options common to transfers.
#[derive(Debug, Clone, Default)]
pub struct TransferOptions {
    /// The remote's name (default: `core.remote`).
    pub remote: Option<String>,
    /// Concurrent transfers (default: the repository's `jobs`, else 4 × cores).
    pub jobs: Option<usize>,
    /// Revisions whose outputs move too, besides the workspace's (`pull` checks out only
    /// the workspace's).
    pub scope: RevScope,
}

/// Uploads the objects of `targets` (all outputs when empty) that the remote lacks. What
/// the cache lacks is named in the error, after the rest is uploaded.
pub fn push(
    repo: &Repo,
    targets: &[PathBuf],
    options: &TransferOptions,
    progress: &dyn Progress,
) -> Result<TransferReport> {
    let (pointers, skipped) = selected(repo, targets, options, Unreadable::Skip)?;
    let _lock = repo.lock(LockMode::Read)?;
    let reports = per_remote(pushable(pointers), options, |pointers, options| {
        push_to(repo, pointers, options, progress)
    })?;
    Ok(TransferReport::combine(reports).skipping(skipped))
}

/// [`push`] of `pointers` to the one remote `options` name.
fn push_to(
    repo: &Repo,
    pointers: &[Pointer],
    options: &TransferOptions,
    progress: &dyn Progress,
) -> Result<TransferReport> {
    let remote = open_remote(repo, options)?;
    let wanted = wanted_objects(repo, pointers)?;
    // Without the records every object is hashed, as safe and only slower.
    let verified = repo
        .state()
        .and_then(|state| state.verified_objects())
        .unwrap_or_default();
    runtime()?.block_on(async {
        remote.ensure_bucket().await?;
        let mut report = TransferReport {
            remote: remote.name.clone(),
            ..TransferReport::default()
        };
        let (cached, missing): (Vec<_>, Vec<_>) = wanted
            .files
            .into_iter()
            .partition(|(oid, _)| repo.cache().contains(oid));
        // What the cache has goes, but a folder the cache lacks files of keeps its
        // manifest back: a remote never lists a folder before it holds all of its files.
        let cached = without_incomplete_folders(repo, cached)?;
        let asked: Vec<_> = cached.iter().chain(&missing).cloned().collect();
        let present = present_on_remote(&remote, repo.algo(), &asked, jobs(repo, options)).await?;
        let (to_send, already): (Vec<_>, Vec<_>) = cached
            .into_iter()
            .partition(|(oid, _)| !present.contains(oid));
        // What the cache lacks but the remote holds is pushed already (a cache emptied by
        // `gc --not-in-remote`); only the rest is missing.
        let (dropped, missing): (Vec<_>, Vec<_>) = missing
            .into_iter()
            .partition(|(oid, _)| present.contains(oid));
        report.missing = missing
            .into_iter()
            .map(|(oid, path)| format!("{path} ({oid})"))
            .collect();
        report.skipped = already.len() + dropped.len();
        let cloner = Cloner::default();
        // Files first, then manifests: a folder is listed only once its files are there.
        let (dirs, files): (Vec<_>, Vec<_>) = to_send.into_iter().partition(|(oid, _)| oid.dir);
        for batch in [files, dirs] {
            let sent = run_all(
                alone(batch),
                jobs(repo, options),
                progress,
                "push",
                |oids| {
                    futures::future::try_join_all(oids.into_iter().map(|oid| {
                        let trusted = recorded(&verified, &oid);
                        let cloner = cloner.clone();
                        upload(repo.cache().clone(), remote.clone(), oid, trusted, cloner)
                    }))
                },
            )
            .await?;
            report.add(sent);
            remote.flush()?;
        }
        match report.missing.first() {
            Some(first) => Err(Error::MissingObjects {
                count: report.missing.len(),
                first: first.clone(),
            }),
            None => Ok(report),
        }
    })
}

/// `objects` without the manifests of folders whose files the cache does not all hold.
fn without_incomplete_folders(
    repo: &Repo,
    objects: Vec<(Oid, String)>,
) -> Result<Vec<(Oid, String)>> {
    let mut kept = Vec::with_capacity(objects.len());
    for (oid, label) in objects {
        let complete = !oid.dir
            || (repo.cache().manifest(&oid)?.entries().iter())
                .all(|entry| repo.cache().contains(&entry.oid));
        if complete {
            kept.push((oid, label));
        }
    }
    Ok(kept)
}

/// Runs `each` once per remote the outputs go to. An output with DVC's `remote:` goes to
/// that remote, and is left out when `-r` names another, as DVC leaves it; the others go
/// to the remote `-r` names, else the default.
fn per_remote<T>(
    pointers: Vec<Pointer>,
    options: &TransferOptions,
    mut each: impl FnMut(&[Pointer], &TransferOptions) -> Result<T>,
) -> Result<Vec<T>> {
    let asked = options.remote.as_deref();
    let mut groups: BTreeMap<Option<String>, Vec<Pointer>> = BTreeMap::new();
    for pointer in pointers {
        let mut split: BTreeMap<Option<String>, Vec<Output>> = BTreeMap::new();
        for out in &pointer.outs {
            let remote = match (out.remote.as_deref(), asked) {
                (Some(own), Some(asked)) if own != asked => continue,
                (Some(own), _) => Some(own.to_owned()),
                (None, asked) => asked.map(str::to_owned),
            };
            split.entry(remote).or_default().push(out.clone());
        }
        for (remote, outs) in split {
            let mut part = pointer.clone();
            part.outs = outs;
            groups.entry(remote).or_default().push(part);
        }
    }
    if groups.is_empty() {
        groups.insert(asked.map(str::to_owned), Vec::new());
    }
    (groups.into_iter())
        .map(|(remote, pointers)| {
            let options = TransferOptions {
                remote,
                ..options.clone()
            };
            each(&pointers, &options)
        })
        .collect()
}

/// The outputs a remote should hold: DVC's `push: false` keeps an output off every remote,
/// and, as in DVC, imported outputs stay in the repository they came from, which `fetch`
/// reads them from.
fn pushable(mut pointers: Vec<Pointer>) -> Vec<Pointer> {
    pointers.retain(|pointer| pointer.import_source().is_none());
    for pointer in &mut pointers {
        pointer.outs.retain(|out| out.push);
    }
    pointers
}

/// Downloads the objects of `targets` (all outputs when empty) that the cache lacks.
pub fn fetch(
    repo: &Repo,
    targets: &[PathBuf],
    options: &TransferOptions,
    progress: &dyn Progress,
) -> Result<TransferReport> {
    let (pointers, skipped) = selected(repo, targets, options, Unreadable::Skip)?;
    let _lock = repo.lock(LockMode::Write)?;
    Ok(fetch_locked(repo, &pointers, options, progress)?.skipping(skipped))
}

/// The outputs `targets` name (all when empty), then the same in the revisions
/// `options.scope` names; and the revisions skipped as unreadable.
fn selected(
    repo: &Repo,
    targets: &[PathBuf],
    options: &TransferOptions,
    unreadable: Unreadable,
) -> Result<(Vec<Pointer>, Vec<String>)> {
    let workspace = super::select_outputs(repo, targets)?;
    let targeted = !targets.is_empty();
    super::with_revisions(repo, workspace, targeted, &options.scope, unreadable)
}

/// `fetch`, then `checkout`. Where the remote lacks objects, the outputs that did arrive
/// whole are checked out, and the missing objects are the error (with
/// [`Missing::Allow`], listed in the checkout report instead).
pub fn pull(
    repo: &Repo,
    targets: &[PathBuf],
    options: &TransferOptions,
    overwrite: Overwrite,
    missing: Missing,
    progress: &dyn Progress,
) -> Result<(TransferReport, CheckoutReport)> {
    let pointers = super::select_outputs(repo, targets)?;
    let (to_fetch, skipped) = super::with_revisions(
        repo,
        pointers.clone(),
        !targets.is_empty(),
        &options.scope,
        Unreadable::Skip,
    )?;
    let _lock = repo.lock(LockMode::Write)?;
    let fetched = fetch_locked(repo, &to_fetch, options, progress)?.skipping(skipped);
    let checked_out = checkout_locked(repo, &pointers, overwrite, false, progress)?;
    match fetched.missing.first() {
        // Checkout placed what did arrive; what the remote lacks is the error.
        Some(first) if missing == Missing::Fail => Err(Error::MissingOnRemote {
            remote: fetched.remote.clone(),
            count: fetched.missing.len(),
            first: first.clone(),
        }),
        _ => Ok((fetched, checked_out.finish(repo, targets, missing)?)),
    }
}

/// Compares the cache with the remote for the objects of `targets`.
pub fn cloud_status(
    repo: &Repo,
    targets: &[PathBuf],
    options: &TransferOptions,
) -> Result<Vec<CloudEntry>> {
    // As DVC's, it fails on a revision it cannot read: it could not say what is in sync.
    let (pointers, _) = selected(repo, targets, options, Unreadable::Fail)?;
    let pointers = pushable(pointers);
    let _lock = repo.lock(LockMode::Read)?;
    let entries = per_remote(pointers, options, |pointers, options| {
        cloud_status_at(repo, pointers, options)
    })?;
    Ok(entries.into_iter().flatten().collect())
}

/// The objects of `pointers` that their remotes hold (an output's own `remote:`, else the
/// one `options` name): what `pull` can bring back, for `gc --not-in-remote`.
pub(super) fn held_by_remotes(
    repo: &Repo,
    pointers: Vec<Pointer>,
    options: &TransferOptions,
) -> Result<HashSet<Oid>> {
    let held = per_remote(pushable(pointers), options, |pointers, options| {
        on_remote(repo, pointers, options).map(|found| found.present)
    })?;
    Ok(held.into_iter().flatten().collect())
}

/// [`cloud_status`] of `pointers` against the one remote `options` name.
fn cloud_status_at(
    repo: &Repo,
    pointers: &[Pointer],
    options: &TransferOptions,
) -> Result<Vec<CloudEntry>> {
    let OnRemote { wanted, present } = on_remote(repo, pointers, options)?;
    let mut entries = Vec::new();
    for (oid, path) in wanted {
        let state = match (repo.cache().contains(&oid), present.contains(&oid)) {
            (true, true) => continue,
            (true, false) => "new",
            (false, true) => "deleted",
            (false, false) => "missing",
        };
        entries.push(CloudEntry {
            path,
            oid: oid.to_string(),
            state,
        });
    }
    Ok(entries)
}

/// The objects some outputs use, and which of them a remote holds.
struct OnRemote {
    /// Each object, with the path that names it.
    wanted: Vec<(Oid, String)>,
    present: HashSet<Oid>,
}

/// The objects `pointers` use (a folder whose manifest the cache lacks expanded from the
/// remote's), and which of them the one remote `options` name holds.
fn on_remote(repo: &Repo, pointers: &[Pointer], options: &TransferOptions) -> Result<OnRemote> {
    let remote = open_remote(repo, options)?;
    let mut wanted = wanted_objects(repo, pointers)?;
    let jobs = jobs(repo, options);
    runtime()?.block_on(async {
        remote.ensure_bucket().await?;
        expand_from_remote(&mut wanted, &remote).await?;
        let present = present_on_remote(&remote, repo.algo(), &wanted.files, jobs).await?;
        Ok(OnRemote {
            wanted: wanted.files,
            present,
        })
    })
}

fn fetch_locked(
    repo: &Repo,
    pointers: &[Pointer],
    options: &TransferOptions,
    progress: &dyn Progress,
) -> Result<TransferReport> {
    let (imports, own): (Vec<Pointer>, Vec<Pointer>) =
        (pointers.iter().cloned()).partition(|pointer| pointer.import_source().is_some());
    // Imports need no remote: they come from where they were imported from.
    let mut reports = match own.is_empty() && !imports.is_empty() {
        true => Vec::new(),
        false => per_remote(own, options, |pointers, options| {
            fetch_from(repo, pointers, options, progress)
        })?,
    };
    reports.extend(fetch_imported(repo, &imports, options.jobs, progress)?);
    Ok(TransferReport::combine(reports))
}

/// Fetches what the cache lacks of imported outputs from the repositories they were
/// imported from, at the commit recorded, as DVC does (its `push` leaves imports out, so
/// a remote seldom has them); one report per repository.
fn fetch_imported(
    repo: &Repo,
    imports: &[Pointer],
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<Vec<TransferReport>> {
    let mut by_source: BTreeMap<(String, Option<String>), Vec<Pointer>> = BTreeMap::new();
    for pointer in imports {
        if let Some(import) = pointer.import_source() {
            let rev = import.locked_rev().map(str::to_owned);
            let pointers = by_source.entry((import.url, rev)).or_default();
            pointers.push(pointer.clone());
        }
    }
    let near = repo.root().join(".dvc").join("tmp").join("import");
    let mut reports = Vec::new();
    for ((url, rev), pointers) in by_source {
        let mut report = TransferReport {
            remote: url.clone(),
            ..TransferReport::default()
        };
        let mut lacking = Vec::new();
        for pointer in &pointers {
            if !missing_of(repo, std::slice::from_ref(pointer))?.is_empty() {
                let import = pointer.import_source().map(|import| import.path);
                lacking.extend(import.zip(pointer.out_paths().next()));
            }
        }
        if !lacking.is_empty() {
            let url = super::import::clone_url(repo, &url);
            let source = Source::clone_at(&url, rev.as_deref(), &near)?;
            for (path, out) in lacking {
                let fetched = fetch_from_source(repo, &source, &url, &path, &out, jobs, progress)?;
                for fetched in fetched {
                    report.transferred += fetched.transferred;
                    report.bytes += fetched.bytes;
                }
            }
        }
        report.missing = missing_of(repo, &pointers)?;
        reports.push(report);
    }
    Ok(reports)
}

/// Fetches the data at `path` in `source`, imported at `out`, into the cache: its objects,
/// where the source records it whole and hashes as this repository does; else (another
/// hash, a part of a tracked folder, whose manifest the import made, or what only git
/// tracks) a copy, stored as the import stored it (read as the data at `out`).
fn fetch_from_source(
    repo: &Repo,
    source: &Source,
    url: &str,
    path: &str,
    out: &Path,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<Vec<TransferReport>> {
    let data = source.path(path);
    if source
        .recorded_output(&data)?
        .is_some_and(|out| out.oid.algo == repo.algo())
    {
        let fetched = source.fetch(&data, repo.cache().root(), jobs, progress)?;
        return Ok(fetched.map_or_else(Vec::new, |fetched| fetched.reports));
    }
    let copy = SourceCopy::of(source, url, &source_parts(url, path)?, jobs, progress)?;
    super::add::store(repo, &mut repo.state()?, &copy.data, out, progress)?;
    Ok(copy.fetched)
}

/// What the cache lacks of the outputs of `pointers`, as `path (oid)`.
fn missing_of(repo: &Repo, pointers: &[Pointer]) -> Result<Vec<String>> {
    let wanted = wanted_objects(repo, pointers)?;
    Ok((wanted.files.into_iter())
        .filter(|(oid, _)| !repo.cache().contains(oid))
        .map(|(oid, path)| format!("{path} ({oid})"))
        .collect())
}

/// [`fetch`] of `pointers` from the one remote `options` name.
fn fetch_from(
    repo: &Repo,
    pointers: &[Pointer],
    options: &TransferOptions,
    progress: &dyn Progress,
) -> Result<TransferReport> {
    let remote = open_remote(repo, options)?;
    let jobs = jobs(repo, options);
    runtime()?.block_on(async {
        remote.ensure_bucket().await?;
        let mut report = TransferReport {
            remote: remote.name.clone(),
            ..TransferReport::default()
        };
        // Manifests first: they say which files a folder needs.
        let mut manifests = wanted_objects(repo, pointers)?.unexpanded;
        // Several parts of one folder need its manifest once.
        manifests.sort_by(|a, b| a.0.cmp(&b.0));
        manifests.dedup_by(|a, b| a.0 == b.0);
        let fetched_first: HashSet<Oid> = manifests.iter().map(|m| m.0.clone()).collect();
        let manifests = alone(
            manifests
                .into_iter()
                .map(|(oid, label, _)| (oid, label))
                .collect(),
        );
        report.add(
            run_all(manifests, jobs, progress, "fetch", |oids| {
                download_group(repo.cache().clone(), remote.clone(), oids)
            })
            .await?,
        );
        let wanted = wanted_objects(repo, pointers)?;
        let (have, need): (Vec<_>, Vec<_>) = wanted
            .files
            .into_iter()
            .partition(|(oid, _)| repo.cache().contains(oid));
        // The manifests just fetched are in the cache now, but were not already there.
        report.skipped = have
            .iter()
            .filter(|(oid, _)| !fetched_first.contains(oid))
            .count();
        let need = need.into_iter().filter(|(oid, _)| !oid.dir).collect();
        report.add(
            run_all(
                download_groups(&remote, repo.algo(), need),
                jobs,
                progress,
                "fetch",
                |oids| download_group(repo.cache().clone(), remote.clone(), oids),
            )
            .await?,
        );
        repo.cache().flush()?;
        super::record_verified(repo, &mut repo.state()?)?;
        Ok(report)
    })
}

/// Downloads folder manifests the cache lacks from `remote` (`None`: the default), for
/// commands that only need to know what a folder holds (`diff`, `list`), as DVC does.
/// Returns the remote's name, or `None` where none is named or configured; manifests it
/// lacks stay uncached.
pub(crate) fn fetch_manifests(
    repo: &Repo,
    manifests: Vec<(Oid, String)>,
    remote: Option<String>,
) -> Result<Option<String>> {
    if remote.is_none() && repo.config().default_remote().is_none() {
        return Ok(None);
    }
    let options = TransferOptions {
        remote,
        ..TransferOptions::default()
    };
    let remote = open_remote(repo, &options)?;
    runtime()?.block_on(async {
        remote.ensure_bucket().await?;
        run_all(
            alone(manifests),
            jobs(repo, &options),
            &Silent,
            "fetch",
            |oids| download_group(repo.cache().clone(), remote.clone(), oids),
        )
        .await?;
        repo.cache().flush()?;
        super::record_verified(repo, &mut repo.state()?)?;
        Ok(Some(remote.name.clone()))
    })
}

pub(super) fn open_remote(repo: &Repo, options: &TransferOptions) -> Result<RemoteStore> {
    let name = match &options.remote {
        Some(name) => name.clone(),
        None => repo
            .config()
            .default_remote()
            .ok_or(Error::NoDefaultRemote)?
            .to_owned(),
    };
    let remote: Remote = repo.config().remote(&name)?;
    RemoteStore::open(&remote, repo.config().dir(), repo.settings().durable)
}

pub(super) fn jobs(repo: &Repo, options: &TransferOptions) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    options
        .jobs
        .or(repo.settings().jobs)
        .unwrap_or(4 * cores)
        .max(1)
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::io("start the transfer runtime", "."))
}

/// The objects outputs need, as `(oid, label)`, folders (or the part a target names)
/// expanded through cached manifests; folders whose manifest is not cached are also
/// listed in `unexpanded`, with the part wanted.
struct Wanted {
    files: Vec<(Oid, String)>,
    unexpanded: Vec<(Oid, String, Option<String>)>,
    seen: HashSet<Oid>,
}

impl Wanted {
    fn push(&mut self, oid: &Oid, label: String) {
        if self.seen.insert(oid.clone()) {
            self.files.push((oid.clone(), label));
        }
    }

    /// Adds the files of `manifest` that `part` names (all when `None`).
    fn expand(&mut self, label: &str, manifest: &Manifest, part: Option<&str>) -> Result<()> {
        for entry in super::part_entries(manifest, label, part)? {
            self.push(&entry.oid, format!("{label}/{}", entry.relpath));
        }
        Ok(())
    }
}

fn wanted_objects(repo: &Repo, pointers: &[Pointer]) -> Result<Wanted> {
    let mut wanted = Wanted {
        files: Vec::new(),
        unexpanded: Vec::new(),
        seen: HashSet::new(),
    };
    for pointer in pointers {
        for out in &pointer.outs {
            let label = super::display_path(repo, pointer, out);
            // A folder's manifest goes with the whole folder only (a remote never lists a
            // folder before it holds all of its files), or where the cache lacks it.
            if out.part.is_none() || !repo.cache().contains(&out.oid) {
                wanted.push(&out.oid, label.clone());
            }
            match (out.oid.dir, repo.cache().contains(&out.oid)) {
                (true, true) => {
                    let manifest = repo.cache().manifest(&out.oid)?;
                    wanted.expand(&label, &manifest, out.part.as_deref())?;
                }
                (true, false) => wanted
                    .unexpanded
                    .push((out.oid.clone(), label, out.part.clone())),
                (false, _) => {}
            }
        }
    }
    Ok(wanted)
}

/// Reads the manifests the cache lacks from the remote (for `status --cloud`).
async fn expand_from_remote(wanted: &mut Wanted, remote: &RemoteStore) -> Result<()> {
    for (oid, label, part) in std::mem::take(&mut wanted.unexpanded) {
        if let Some(manifest) = remote_manifest(remote, &oid).await? {
            wanted.expand(&label, &manifest, part.as_deref())?;
        }
    }
    Ok(())
}

/// Reads folder manifest `oid` from the remote, verified, without caching it; `None`
/// where the remote lacks it.
pub(super) async fn remote_manifest(remote: &RemoteStore, oid: &Oid) -> Result<Option<Manifest>> {
    let key = remote.key(oid);
    let bytes = match remote.store().get(&key).await {
        Ok(got) => got
            .bytes()
            .await
            .map_err(|e| remote.error("download", &key, e))?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(remote.error("download", &key, e)),
    };
    let origin = format!("remote `{}`", remote.name);
    Manifest::parse_verified(oid, &bytes, &origin).map(Some)
}

/// Which of `objects` the remote has: one listing where the store can list, else one
/// `HEAD` per object (plain HTTP servers).
async fn present_on_remote(
    remote: &RemoteStore,
    algo: HashAlgo,
    objects: &[(Oid, String)],
    jobs: usize,
) -> Result<HashSet<Oid>> {
    if !remote.lists() {
        return present_by_head(remote, objects, jobs).await;
    }
    let listed: HashSet<Oid> = remote_objects(remote, algo)
        .await?
        .into_iter()
        .map(|(oid, _)| oid)
        .collect();
    Ok(objects
        .iter()
        .filter(|(oid, _)| listed.contains(oid))
        .map(|(oid, _)| oid.clone())
        .collect())
}

/// The objects of `algo` a listable remote holds, with their sizes, in one listing. Keys
/// below `files/<algo>/` that name no object are left out.
pub(super) async fn remote_objects(
    remote: &RemoteStore,
    algo: HashAlgo,
) -> Result<Vec<(Oid, u64)>> {
    let prefix = remote.child(&format!("files/{algo}"));
    let listed: object_store::Result<Vec<_>> =
        remote.store().list(Some(&prefix)).try_collect().await;
    let listed = match listed {
        Ok(listed) => listed,
        // A folder remote with nothing pushed yet has no `files/` folder to list.
        Err(object_store::Error::NotFound { .. }) => Vec::new(),
        Err(e) => return Err(remote.listing_error(&prefix, e)),
    };
    Ok(listed
        .into_iter()
        .filter_map(|meta| Some((named_object(algo, &prefix, &meta.location)?, meta.size)))
        .collect())
}

/// The object a remote key below `files/<algo>/` names, if it names one: `ab/cdef…[.dir]`.
fn named_object(algo: HashAlgo, prefix: &StorePath, key: &StorePath) -> Option<Oid> {
    let parts: Vec<_> = key.prefix_match(prefix)?.collect();
    match parts.as_slice() {
        [head, tail] if head.as_ref().len() == 2 => {
            Oid::parse(algo, &format!("{}{}", head.as_ref(), tail.as_ref()))
        }
        _ => None,
    }
}

/// Which of `objects` the remote has, asked one `HEAD` at a time, `jobs` at once.
async fn present_by_head(
    remote: &RemoteStore,
    objects: &[(Oid, String)],
    jobs: usize,
) -> Result<HashSet<Oid>> {
    let checks = futures::stream::iter(objects).map(|(oid, _)| async move {
        let key = remote.key(oid);
        match remote.store().head(&key).await {
            Ok(_) => Ok(Some(oid.clone())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote.error("check", &key, e)),
        }
    });
    let found: Vec<Option<Oid>> = checks.buffer_unordered(jobs).try_collect().await?;
    Ok(found.into_iter().flatten().collect())
}

/// How many objects and bytes a batch moved, and which the source lacked.
#[derive(Debug, Default)]
struct Moved {
    objects: usize,
    bytes: u64,
    missing: Vec<String>,
}

impl TransferReport {
    fn add(&mut self, moved: Moved) {
        self.transferred += moved.objects;
        self.bytes += moved.bytes;
        self.missing.extend(moved.missing);
    }

    /// One report for transfers to several remotes, named together (`main, side`).
    fn combine(reports: Vec<TransferReport>) -> TransferReport {
        let mut names = Vec::new();
        let mut combined = TransferReport::default();
        for report in reports {
            // One registry at several commits is named once.
            if !names.contains(&report.remote) {
                names.push(report.remote);
            }
            combined.transferred += report.transferred;
            combined.bytes += report.bytes;
            combined.skipped += report.skipped;
            combined.missing.extend(report.missing);
        }
        combined.remote = names.join(", ");
        combined
    }

    fn skipping(self, skipped_revisions: Vec<String>) -> TransferReport {
        TransferReport {
            skipped_revisions,
            ..self
        }
    }
}

/// Each object in a group of its own, for [`run_all`].
fn alone(objects: Vec<(Oid, String)>) -> Vec<Vec<(Oid, String)>> {
    objects.into_iter().map(|object| vec![object]).collect()
}

/// Runs `transfer` on every group of objects, `jobs` groups at a time; it returns, for
/// each object of the group in order, the bytes moved, or `None` when the source does
/// not have the object.
async fn run_all<F, Fut>(
    groups: Vec<Vec<(Oid, String)>>,
    jobs: usize,
    progress: &dyn Progress,
    phase: &str,
    transfer: F,
) -> Result<Moved>
where
    F: Fn(Vec<Oid>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Option<u64>>>> + Send + 'static,
{
    let objects: usize = groups.iter().map(Vec::len).sum();
    progress.begin(phase, objects as u64, 0);
    let mut moved = Moved::default();
    let mut pending = groups.into_iter();
    // Tasks, not one polled stream, so hashing and file I/O spread over the runtime's
    // threads; dropping the set on an error cancels the rest.
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < jobs {
            let Some(group) = pending.next() else {
                break;
            };
            let transfer = transfer(group.iter().map(|(oid, _)| oid.clone()).collect());
            running.spawn(async move { (group, transfer.await) });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (group, result) = joined.map_err(|e| Error::Io {
            action: "transfer",
            path: phase.into(),
            source: std::io::Error::other(e),
        })?;
        for ((oid, label), sent) in group.into_iter().zip(result?) {
            match sent {
                Some(bytes) => {
                    moved.objects += 1;
                    moved.bytes += bytes;
                    progress.file_done(bytes);
                }
                None => moved.missing.push(format!("{label} ({oid})")),
            }
        }
    }
    progress.finish();
    Ok(moved)
}

/// Uploads one cached object; a corrupt object is not uploaded. It is hashed on the way
/// unless its metadata still matches `trusted`, what it had right after datavc wrote it
/// verified (see [`ObjectKey`]): md5 runs at about 0.6 GiB/s, slower than a local copy.
async fn upload(
    cache: Cache,
    remote: RemoteStore,
    oid: Oid,
    trusted: Option<ObjectKey>,
    cloner: Cloner,
) -> Result<Option<u64>> {
    if let Some(target) = remote.local_path(&oid)
        && let Some(size) = clone_to_folder(&cache, &cloner, &oid, &target, trusted)?
    {
        return Ok(Some(size));
    }
    match upload_once(&cache, &remote, &oid, trusted).await? {
        Sent::Bytes(size) => Ok(Some(size)),
        // It changed while it was sent unhashed: send it again, hashing it this time.
        Sent::ChangedWhileRead => match upload_once(&cache, &remote, &oid, None).await? {
            Sent::Bytes(size) => Ok(Some(size)),
            Sent::ChangedWhileRead => unreachable!("an upload that hashes never gives up"),
        },
    }
}

/// Uploads a cached object to a folder remote as a clone of it, where the filesystem can
/// clone between the two: a temporary file beside the object's place on the remote,
/// checked as [`upload_once`] checks what it sends, then renamed into place. `None` where
/// clones do not work, leaving the upload to the store.
fn clone_to_folder(
    cache: &Cache,
    cloner: &Cloner,
    oid: &Oid,
    target: &Path,
    trusted: Option<ObjectKey>,
) -> Result<Option<u64>> {
    if cloner.unsupported() {
        return Ok(None);
    }
    let source = cache.object_path(oid);
    fsutil::create_dir_all(target.parent().expect("object paths have a parent"))?;
    let temp = fsutil::temp_beside(target);
    let cloned = cloner.clone_file(&source, &temp).and_then(|clone| {
        let Some(clone) = clone else {
            return Ok(None);
        };
        // Unchanged since it was written verified, so the clone taken before holds those bytes.
        if !trusted.is_some_and(|key| clone.source_still_matches(key)) {
            let actual = clone.read(|file, path| hash_open(file, path, oid.algo))?;
            if actual.hex != oid.hex {
                return Err(corrupt_in_cache(oid, actual));
            }
        }
        let size = clone.size()?;
        std::fs::rename(&temp, target).map_err(Error::io("upload", target))?;
        Ok(Some(size))
    });
    if cloned.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    cloned
}

/// The error for the cached object `oid`, found to hash to `actual` as it was sent.
fn corrupt_in_cache(oid: &Oid, actual: Oid) -> Error {
    Error::Corrupt {
        origin: "the cache".into(),
        expected: oid.to_string(),
        actual: actual.hex,
    }
}

/// What one upload attempt did.
enum Sent {
    /// Sent this many bytes, verified.
    Bytes(u64),
    /// Gave up, nothing left on the remote: the object was trusted unhashed, but its
    /// metadata changed while it was read.
    ChangedWhileRead,
}

async fn upload_once(
    cache: &Cache,
    remote: &RemoteStore,
    oid: &Oid,
    trusted: Option<ObjectKey>,
) -> Result<Sent> {
    let path = cache.object_path(oid);
    let key = remote.key(oid);
    let mut file = std::fs::File::open(&path).map_err(Error::io("read", &path))?;
    let size = file.metadata().map_err(Error::io("stat", &path))?.len();
    // Asked after reading, so that a rewrite before or during the read is seen too.
    let unchanged = |file: &std::fs::File| {
        trusted.is_some_and(|key| file.metadata().is_ok_and(|now| key.still_matches(&now)))
    };
    if size <= SINGLE_PUT_MAX {
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(Error::io("read", &path))?;
        if !unchanged(&file) {
            let actual = oid.algo.hash_bytes(&bytes);
            if actual.hex != oid.hex {
                return Err(corrupt_in_cache(oid, actual));
            }
        }
        let sent = bytes.len() as u64;
        remote
            .store()
            .put(&key, PutPayload::from(bytes))
            .await
            .map_err(|e| remote.error("upload", &key, e))?;
        return Ok(Sent::Bytes(sent));
    }
    let upload = remote
        .store()
        .put_multipart(&key)
        .await
        .map_err(|e| remote.error("upload", &key, e))?;
    let mut writer = WriteMultipart::new(upload);
    // Trusted at the start: send without hashing, and check again at the end.
    let mut hasher = (!unchanged(&file)).then(|| oid.algo.hasher());
    let mut buffer = vec![0; CHUNK];
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(Error::Io {
                    action: "read",
                    path,
                    source: e,
                });
            }
        };
        if let Some(hasher) = &mut hasher {
            hasher.update(&buffer[..n]);
        }
        writer.write(&buffer[..n]);
        if let Err(e) = writer.wait_for_capacity(4).await {
            // An unfinished multipart upload lingers (and is billed) until aborted.
            let _ = writer.abort().await;
            return Err(remote.error("upload", &key, e));
        }
    }
    match hasher {
        Some(hasher) => {
            let actual = hasher.finish();
            if actual.hex != oid.hex {
                let _ = writer.abort().await;
                return Err(corrupt_in_cache(oid, actual));
            }
        }
        None if !unchanged(&file) => {
            let _ = writer.abort().await;
            return Ok(Sent::ChangedWhileRead);
        }
        None => {}
    }
    writer
        .finish()
        .await
        .map_err(|e| remote.error("upload", &key, e))?;
    Ok(Sent::Bytes(size))
}

/// Groups the objects to download, largest first where sizes are known (a folder remote's
/// files, stat'ed here), so that the longest hash starts at once instead of last. An
/// unknown size counts as the largest: such an object goes alone, and the objects of other
/// remotes keep their order. Small objects of a folder remote are grouped where the
/// algorithm gains from hashing them together (see [`batches`]).
fn download_groups(
    remote: &RemoteStore,
    algo: HashAlgo,
    objects: Vec<(Oid, String)>,
) -> Vec<Vec<(Oid, String)>> {
    let mut sized: Vec<_> = objects
        .into_iter()
        .map(|object| {
            let path = remote.local_path(&object.0);
            let size = path.and_then(|path| std::fs::metadata(path).ok());
            (object, size.map_or(u64::MAX, |meta| meta.len()))
        })
        .collect();
    sized.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    batches(algo, sized, |(_, size)| *size)
        .into_iter()
        .map(|group| group.into_iter().map(|(object, _)| object).collect())
        .collect()
}

/// Downloads a group of objects into the cache, verified: a folder remote's group is read,
/// hashed and stored together, any other object on its own.
async fn download_group(
    cache: Cache,
    remote: RemoteStore,
    oids: Vec<Oid>,
) -> Result<Vec<Option<u64>>> {
    let paths: Option<Vec<PathBuf>> = oids.iter().map(|oid| remote.local_path(oid)).collect();
    let Some(paths) = paths.filter(|_| oids.len() > 1) else {
        let each = oids
            .into_iter()
            .map(|oid| download(cache.clone(), remote.clone(), oid));
        return futures::future::try_join_all(each).await;
    };
    let origin = format!("remote `{}`", remote.name);
    let stored = tokio::task::spawn_blocking(move || {
        let paths: Vec<&std::path::Path> = paths.iter().map(PathBuf::as_path).collect();
        cache.insert_small_objects(&paths, &oids, &origin)
    });
    let sizes = stored.await.map_err(|e| Error::Io {
        action: "download",
        path: remote.name.clone().into(),
        source: std::io::Error::other(e),
    })??;
    Ok(sizes.into_iter().map(Some).collect())
}

/// Downloads one object into the cache, verifying it before it becomes visible.
async fn download(cache: Cache, remote: RemoteStore, oid: Oid) -> Result<Option<u64>> {
    let key = remote.key(&oid);
    let got = match remote.store().get(&key).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(remote.error("download", &key, e)),
    };
    let staged = cache.staging_path()?;
    let copied = match got.payload {
        // A folder remote hands over the file itself: clone it, or copy it in one blocking
        // pass with large reads, instead of object_store's 8 KiB stream chunks.
        GetResultPayload::File(_, path) => {
            let (into, to, algo) = (cache.clone(), staged.clone(), oid.algo);
            let copy = tokio::task::spawn_blocking(move || into.stage_copy(&path, &to, algo));
            copy.await.map_err(|e| Error::Io {
                action: "download",
                path: staged.clone(),
                source: std::io::Error::other(e),
            })?
        }
        GetResultPayload::Stream(stream) => {
            stream_into(stream, &staged, oid.algo, &remote, &key).await
        }
    };
    let result = copied.and_then(|actual| {
        if actual.hex != oid.hex {
            return Err(Error::Corrupt {
                origin: format!("remote `{}`", remote.name),
                expected: oid.to_string(),
                actual: actual.hex,
            });
        }
        if oid.dir {
            Manifest::parse(
                &oid,
                &std::fs::read(&staged).map_err(Error::io("read", &staged))?,
            )?;
        }
        let size = std::fs::metadata(&staged)
            .map_err(Error::io("stat", &staged))?
            .len();
        cache.commit_staged(&staged, &oid)?;
        Ok(Some(size))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&staged);
    }
    result
}

/// Writes a byte stream to `staged`, hashing it.
async fn stream_into<S, B>(
    mut stream: S,
    staged: &std::path::Path,
    algo: HashAlgo,
    remote: &RemoteStore,
    key: &StorePath,
) -> Result<Oid>
where
    S: futures::Stream<Item = object_store::Result<B>> + Unpin,
    B: AsRef<[u8]>,
{
    let mut file = fsutil::create(staged, NewFile::ReadOnly)?;
    let mut hasher = algo.hasher();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| remote.error("download", key, e))?;
        hasher.update(chunk.as_ref());
        file.write_all(chunk.as_ref())
            .map_err(Error::io("write", staged))?;
    }
    Ok(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Level;

    /// A repository in `dir/repo` whose file `f` (holding `content`) is added, with a
    /// folder remote `store` as default, and a clone of its pointers in `dir/clone`.
    fn added_and_cloned(dir: &std::path::Path, content: &[u8]) -> (Repo, Repo, Oid) {
        let (root, clone) = (dir.join("repo"), dir.join("clone"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("f"), content).unwrap();
        let mut repo = Repo::init(&root, HashAlgo::Md5).unwrap();
        let remote = dir.join("remote");
        repo.config_mut()
            .add_remote(Level::Repo, "store", remote.to_str().unwrap(), true)
            .unwrap();
        let added = crate::ops::add::add(&repo, &[root.join("f")], &Silent).unwrap();
        let oid = Oid::parse(HashAlgo::Md5, &added[0].oid).unwrap();
        std::fs::create_dir_all(clone.join(".dvc")).unwrap();
        for file in [".dvc/config", "f.dvc"] {
            std::fs::copy(root.join(file), clone.join(file)).unwrap();
        }
        (repo, Repo::discover(&clone).unwrap(), oid)
    }

    /// `push` trusts an object only if `add` or `fetch` recorded it as written verified,
    /// with the metadata it still has; `tests/cli.rs` checks that a changed one is refused.
    #[cfg(unix)]
    #[test]
    fn objects_written_verified_are_recorded_with_their_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let (repo, clone, oid) = added_and_cloned(dir.path(), b"recorded");
        let vouched_for = |repo: &Repo| {
            let metadata = std::fs::metadata(repo.cache().object_path(&oid)).unwrap();
            let verified = repo.state().unwrap().verified_objects().unwrap();
            let key = recorded(&verified, &oid);
            assert!(key.is_some(), "{:?}", verified);
            key.is_some_and(|key| key.still_matches(&metadata))
        };
        assert!(vouched_for(&repo), "add records what it stores");
        let options = TransferOptions::default();
        assert_eq!(push(&repo, &[], &options, &Silent).unwrap().transferred, 1);
        assert_eq!(
            fetch(&clone, &[], &options, &Silent).unwrap().transferred,
            1
        );
        assert!(vouched_for(&clone), "fetch records what it downloads");
    }

    #[test]
    fn each_output_goes_to_its_own_remote_unless_another_is_asked_for() {
        let out = |path: &str, remote: Option<&str>| Output {
            path: path.into(),
            oid: HashAlgo::Md5.hash_bytes(path.as_bytes()),
            size: 1,
            nfiles: None,
            push: true,
            remote: remote.map(str::to_owned),
            part: None,
        };
        let mut pointer = Pointer::new("p.dvc".into(), out("a", None));
        pointer
            .outs
            .extend([out("b", Some("side")), out("c", Some("main"))]);
        let groups = |asked: Option<&str>| {
            let options = TransferOptions {
                remote: asked.map(str::to_owned),
                ..TransferOptions::default()
            };
            per_remote(vec![pointer.clone()], &options, |pointers, options| {
                let paths = pointers
                    .iter()
                    .flat_map(|p| p.outs.iter().map(|o| o.path.clone()));
                Ok((options.remote.clone(), paths.collect::<Vec<_>>()))
            })
            .unwrap()
        };
        let named = |remote: Option<&str>, paths: &[&str]| {
            (
                remote.map(str::to_owned),
                paths.iter().map(|p| p.to_string()).collect(),
            )
        };
        let default = named(None, &["a"]);
        let (main, side) = (named(Some("main"), &["c"]), named(Some("side"), &["b"]));
        assert_eq!(groups(None), [default, main, side.clone()]);
        assert_eq!(groups(Some("side")), [named(Some("side"), &["a", "b"])]);
        assert_eq!(groups(Some("other")), [named(Some("other"), &["a"])]);
        let nothing = per_remote(Vec::new(), &TransferOptions::default(), |p, o| {
            Ok((o.remote.clone(), p.len()))
        });
        assert_eq!(nothing.unwrap(), [(None, 0)]);
    }

    #[test]
    fn folder_downloads_start_with_the_largest_and_group_small_md5_objects() {
        let dir = tempfile::tempdir().unwrap();
        let remote = Remote {
            name: "store".into(),
            url: "remote".into(),
            options: Default::default(),
        };
        let remote = RemoteStore::open(&remote, dir.path(), false).unwrap();
        let object = |size: usize| {
            let oid = HashAlgo::Md5.hash_bytes(&vec![size as u8; size]);
            let path = remote.local_path(&oid).unwrap();
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, vec![size as u8; size]).unwrap();
            (oid, format!("{size} bytes"))
        };
        let (tiny, small, big) = (object(1), object(1000), object(CHUNK + 1));
        let absent = (HashAlgo::Md5.hash_bytes(b"absent"), "absent".to_owned());
        let objects = vec![tiny, small, absent, big];
        let labels = |groups: Vec<Vec<(Oid, String)>>| -> Vec<Vec<String>> {
            let label = |(_, label): (Oid, String)| label;
            groups
                .into_iter()
                .map(|group| group.into_iter().map(label).collect())
                .collect()
        };
        // The absent object goes first and alone, so that `download` reports it.
        let grouped = download_groups(&remote, HashAlgo::Md5, objects.clone());
        let expected = [
            vec!["absent"],
            vec!["1048577 bytes"],
            vec!["1000 bytes", "1 bytes"],
        ];
        assert_eq!(labels(grouped), expected);
        let grouped = download_groups(&remote, HashAlgo::Blake3, objects);
        let expected = [["absent"], ["1048577 bytes"], ["1000 bytes"], ["1 bytes"]];
        assert_eq!(labels(grouped), expected);
    }

    #[test]
    fn pull_of_objects_the_remote_lacks_names_the_remote() {
        let dir = tempfile::tempdir().unwrap();
        let (_repo, clone, _) = added_and_cloned(dir.path(), b"never pushed");
        let options = TransferOptions::default();
        let missing = Missing::Fail;
        let error = pull(&clone, &[], &options, Overwrite::Refuse, missing, &Silent).unwrap_err();
        assert!(matches!(error, Error::MissingOnRemote { .. }), "{error:?}");
        assert!(error.to_string().contains("remote `store`"), "{error}");
    }
}
