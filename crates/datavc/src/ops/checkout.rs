//! `checkout`: make the workspace match the pointers, from the cache. It plans first and
//! changes nothing if any file it would overwrite holds content saved nowhere else
//! (unless forced). As in DVC, an output whose objects the cache lacks is left as it is,
//! and named in the error once the others are checked out.

use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::hash::Oid;
use crate::link::{self, Verify};
use crate::lock::LockMode;
use crate::pointer::Output;
use crate::progress::Progress;
use crate::repo::Repo;
use crate::state::{FileKey, StateDb, recorded};
use crate::workspace::{Content, HashedFile, scan, sweep_temp_files};

/// What a checkout did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckoutReport {
    /// Files written from the cache.
    pub written: Vec<String>,
    /// Files removed from tracked folders because the pointer does not list them.
    pub removed: Vec<String>,
    /// Files already right.
    pub unchanged: usize,
    /// What could not be restored and was left as it is, with [`Missing::Allow`]: files
    /// whose objects the cache lacks, and stage outputs `dvc.lock` has no hash for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

impl CheckoutReport {
    /// Fails naming the objects the cache lacked, if any; with [`Missing::Allow`], lists
    /// them and the unrecorded stage outputs of `targets` instead.
    pub(crate) fn finish(
        mut self,
        repo: &Repo,
        targets: &[PathBuf],
        missing: Missing,
    ) -> Result<CheckoutReport> {
        if missing == Missing::Allow {
            let unrecorded = (super::unrecorded(repo, targets)?.into_iter()).filter(|u| u.cache);
            let labels = unrecorded.map(|u| {
                let path = super::relative_or_full(repo, &u.path);
                format!("{path} (no hash in dvc.lock)")
            });
            self.missing.extend(labels);
            return Ok(self);
        }
        if let Some(first) = self.missing.first() {
            return Err(Error::MissingObjects {
                count: self.missing.len(),
                first: first.clone(),
            });
        }
        super::require_recorded(repo, targets)?;
        Ok(self)
    }
}

/// What to do about outputs the cache, or `dvc.lock`, cannot restore.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Missing {
    /// Check out the rest, then fail naming them.
    #[default]
    Fail,
    /// Check out the rest and list them in the report (DVC's `--allow-missing`).
    Allow,
}

/// Whether to overwrite content that exists nowhere else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse, changing nothing.
    #[default]
    Refuse,
    /// Discard it.
    Force,
}

/// How to check out; the default is `datavc checkout` without flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckoutOptions {
    /// Whether to overwrite content that exists nowhere else.
    pub overwrite: Overwrite,
    /// What to do about what the cache or `dvc.lock` cannot restore.
    pub missing: Missing,
    /// Place again, as the `cache.type` now configured makes them, the files that already
    /// hold the right content: DVC's `--relink`, after the link type changed.
    pub relink: bool,
}

struct Plan {
    /// Whether files already right are placed again ([`CheckoutOptions::relink`]).
    relink: bool,
    place: Vec<(PathBuf, Oid)>,
    /// Empty tracked folders to create: no file placed brings them back.
    folders: Vec<PathBuf>,
    remove: Vec<PathBuf>,
    unchanged: usize,
    conflicts: Vec<PathBuf>,
    missing: Vec<String>,
}

/// Checks out the outputs of `targets` (all when empty).
pub fn checkout(
    repo: &Repo,
    targets: &[PathBuf],
    options: CheckoutOptions,
    progress: &dyn Progress,
) -> Result<CheckoutReport> {
    let pointers = super::select_outputs(repo, targets)?;
    let _lock = repo.lock(LockMode::Write)?;
    let CheckoutOptions {
        overwrite,
        missing,
        relink,
    } = options;
    let report = checkout_locked(repo, &pointers, overwrite, relink, progress)?;
    report.finish(repo, targets, missing)
}

/// [`checkout`] for callers that already hold the write lock (`pull`); what the cache
/// lacks is left in the report's `missing`, not failed on.
pub(crate) fn checkout_locked(
    repo: &Repo,
    pointers: &[crate::pointer::Pointer],
    overwrite: Overwrite,
    relink: bool,
    progress: &dyn Progress,
) -> Result<CheckoutReport> {
    let outputs: Vec<(PathBuf, &Output)> = pointers
        .iter()
        .flat_map(|pointer| pointer.outs.iter().map(|out| (pointer.out_path(out), out)))
        .collect();
    let paths: Vec<PathBuf> = outputs.iter().map(|(path, _)| path.clone()).collect();
    sweep_temp_files(&paths)?;
    let mut state = repo.state()?;
    let mut plan = Plan {
        relink,
        place: Vec::new(),
        folders: Vec::new(),
        remove: Vec::new(),
        unchanged: 0,
        conflicts: Vec::new(),
        missing: Vec::new(),
    };
    for (path, out) in outputs {
        let (mark, missing) = (plan.mark(), plan.missing.len());
        plan_output(repo, &mut state, path, out, &mut plan)?;
        if plan.missing.len() > missing {
            plan.rewind(mark);
        }
    }
    if !plan.conflicts.is_empty() && overwrite == Overwrite::Refuse {
        return Err(Error::WouldOverwrite {
            paths: plan.conflicts,
        });
    }
    let missing = std::mem::take(&mut plan.missing);
    let mut report = apply(repo, &mut state, plan, progress)?;
    report.missing = missing;
    Ok(report)
}

impl Plan {
    /// How far the plan has got (all but `missing`), to undo one output's part of it.
    fn mark(&self) -> [usize; 4] {
        [
            self.place.len(),
            self.remove.len(),
            self.conflicts.len(),
            self.unchanged,
        ]
    }

    fn rewind(&mut self, [place, remove, conflicts, unchanged]: [usize; 4]) {
        self.place.truncate(place);
        self.remove.truncate(remove);
        self.conflicts.truncate(conflicts);
        self.unchanged = unchanged;
    }
}

/// Plans output `out` at `path`: a file, a folder, or the part of a folder a target names.
fn plan_output(
    repo: &Repo,
    state: &mut StateDb,
    path: PathBuf,
    out: &Output,
    plan: &mut Plan,
) -> Result<()> {
    let oid = &out.oid;
    if !oid.dir {
        let content = scan(repo, state, &path)?;
        return plan_file(repo, path, oid, current_file(&content), plan);
    }
    let part = out.part.as_deref();
    if !repo.cache().contains(oid) {
        match scan(repo, state, &path)? {
            // Already there, its manifest gone from the cache (`gc --not-in-remote`).
            Content::Dir { files, manifest } if part.is_none() && manifest.oid() == *oid => {
                plan.unchanged += files.len();
            }
            _ => plan
                .missing
                .push(format!("{} ({oid})", super::relative_or_full(repo, &path))),
        }
        return Ok(());
    }
    let manifest = repo.cache().manifest(oid)?;
    let root = part.map_or_else(|| path.clone(), |part| fsutil::join_slash(&path, part));
    let scanned = scan(repo, state, &root)?;
    if matches!(scanned, Content::Missing) && part.is_none() && manifest.entries().is_empty() {
        plan.folders.push(root.clone());
    }
    // Keyed by path below `root`; a file at `root` itself is keyed "".
    let mut present: HashMap<String, HashedFile> = match scanned {
        Content::Dir { files, .. } => files.into_iter().map(|f| (f.relpath.clone(), f)).collect(),
        Content::File(file) => HashMap::from([(String::new(), file)]),
        Content::Missing => HashMap::new(),
    };
    let folder = fsutil::relative_slash(&path, repo.root()).unwrap_or_default();
    for entry in super::part_entries(&manifest, &folder, part)? {
        let below_root = match part {
            Some(part) => entry.relpath[part.len()..].trim_start_matches('/'),
            None => &entry.relpath,
        };
        let target = fsutil::join_slash(&path, &entry.relpath);
        let current = present.remove(below_root).map(|f| f.oid);
        plan_file(repo, target, &entry.oid, current, plan)?;
    }
    for (_, extra) in present {
        note_removal(repo, extra, plan);
    }
    Ok(())
}

fn current_file(content: &Content) -> Option<Oid> {
    match content {
        Content::File(file) => Some(file.oid.clone()),
        _ => None,
    }
}

fn plan_file(
    repo: &Repo,
    path: PathBuf,
    oid: &Oid,
    current: Option<Oid>,
    plan: &mut Plan,
) -> Result<()> {
    // With --relink a file already right is placed again, where the cache can.
    if current.as_ref() == Some(oid) && !(plan.relink && repo.cache().contains(oid)) {
        plan.unchanged += 1;
        return Ok(());
    }
    if !repo.cache().contains(oid) {
        plan.missing
            .push(format!("{} ({oid})", super::relative_or_full(repo, &path)));
        return Ok(());
    }
    if current.is_some_and(|now| !repo.cache().contains(&now)) {
        plan.conflicts.push(path.clone());
    }
    plan.place.push((path, oid.clone()));
    Ok(())
}

fn note_removal(repo: &Repo, file: HashedFile, plan: &mut Plan) {
    if !repo.cache().contains(&file.oid) {
        plan.conflicts.push(file.path.clone());
    }
    plan.remove.push(file.path);
}

fn apply(
    repo: &Repo,
    state: &mut StateDb,
    plan: Plan,
    progress: &dyn Progress,
) -> Result<CheckoutReport> {
    let relative = |path: &PathBuf| fsutil::relative_slash(path, repo.root()).unwrap_or_default();
    for path in &plan.remove {
        fsutil::remove_file(path)?;
    }
    for folder in &plan.folders {
        fsutil::create_dir_all(folder)?;
    }
    let types = repo.link_types()?;
    // Objects `add` or `fetch` wrote verified, untouched since, are not hashed again.
    let records = match repo.settings().verify_checkout {
        true => Some(state.verified_objects()?),
        false => None,
    };
    let bytes = plan
        .place
        .iter()
        .map(|(_, oid)| std::fs::metadata(repo.cache().object_path(oid)).map_or(0, |m| m.len()))
        .sum();
    progress.begin("checkout", plan.place.len() as u64, bytes);
    let placed: Vec<(String, FileKey, Oid)> = plan
        .place
        .par_iter()
        .map(|(path, oid)| {
            if let Some(parent) = path.parent() {
                fsutil::create_dir_all(parent)?;
            }
            // A folder where the file goes: the plan removed its files, or refused.
            if path.is_dir() {
                fsutil::remove_empty_folders(path)?;
            }
            let object = repo.cache().object_path(oid);
            let key = records.as_ref().and_then(|records| recorded(records, oid));
            let vouched = || {
                key.is_some_and(|key| {
                    std::fs::metadata(&object).is_ok_and(|now| key.still_matches(&now))
                })
            };
            let verify = match records.is_some() {
                true => Verify::UnlessVouched(&vouched),
                false => Verify::Skip,
            };
            link::place(&object, oid, path, &types, verify)?;
            let metadata = std::fs::metadata(path).map_err(Error::io("stat", path))?;
            progress.file_done(metadata.len());
            Ok((relative(path), FileKey::of(&metadata), oid.clone()))
        })
        .collect::<Result<_>>()?;
    progress.finish();
    if repo.settings().durable {
        crate::fsutil::flush_filesystem(repo.root())?;
    }
    state.record(&placed)?;
    Ok(CheckoutReport {
        written: placed.into_iter().map(|(path, _, _)| path).collect(),
        removed: plan.remove.iter().map(relative).collect(),
        unchanged: plan.unchanged,
        missing: Vec::new(),
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::fsutil::set_readonly;
    use crate::hash::HashAlgo;
    use crate::progress::Silent;
    use crate::state::ObjectKey;

    /// What spares the hash is the record: an object damaged in place is refused, and the
    /// same object is placed unhashed once a record vouches for it as it now is (as a
    /// wrong record would; `tests/cli.rs` shows that real damage changes the key).
    #[test]
    fn checkout_hashes_only_what_no_record_vouches_for() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("model.bin");
        std::fs::write(&file, b"good weights").unwrap();
        let repo = Repo::init(dir.path(), HashAlgo::Md5).unwrap();
        let added = crate::ops::add::add(&repo, std::slice::from_ref(&file), &Silent).unwrap();
        let oid = Oid::parse(HashAlgo::Md5, &added[0].oid).unwrap();
        let object = repo.cache().object_path(&oid);
        set_readonly(&object, false).unwrap();
        std::fs::write(&object, b"rott weights").unwrap();
        set_readonly(&object, true).unwrap();
        std::fs::remove_file(&file).unwrap();

        let refused = checkout(&repo, &[], CheckoutOptions::default(), &Silent);
        assert!(matches!(refused, Err(Error::Corrupt { .. })), "{refused:?}");
        assert!(!file.exists());

        let now = ObjectKey::of(&std::fs::metadata(&object).unwrap()).unwrap();
        let mut state = repo.state().unwrap();
        state.record_verified(&[(oid, now)]).unwrap();
        checkout(&repo, &[], CheckoutOptions::default(), &Silent).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"rott weights");
    }
}
