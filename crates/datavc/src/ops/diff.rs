//! `diff`: which tracked data differ between two commits, or between a commit and the
//! workspace (as it is on disk, not as its pointers say), reported as `dvc diff` reports
//! it: tracked folders (`data/`) and the files in them, added, deleted, modified or
//! renamed, and, against the workspace, what the cache lacks.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git;
use crate::hash::Oid;
use crate::lock::LockMode;
use crate::ops::transfer::fetch_manifests;
use crate::pointer::Pointer;
use crate::repo::Repo;
use crate::workspace::{Content, scan};

/// A path added, deleted or missing from the cache (a folder's ends in `/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// The path, relative to the root.
    pub path: String,
    /// Its id.
    pub hash: String,
}

/// A path whose content changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Modified {
    /// The path, relative to the root, as it was before.
    pub path: String,
    /// Its ids before and after.
    pub hash: Pair,
}

/// A path whose content moved to another path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renamed {
    /// The paths before and after.
    pub path: Pair,
    /// The content's id.
    pub hash: String,
}

/// Before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    /// Before.
    pub old: String,
    /// After.
    pub new: String,
}

/// The differences, by kind, each sorted by path; serialised with `dvc diff --json`'s keys.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffReport {
    /// Paths only in the second side.
    pub added: Vec<Changed>,
    /// Paths only in the first side.
    pub deleted: Vec<Changed>,
    /// Paths in both with different content.
    pub modified: Vec<Modified>,
    /// Content that left one path for another: a deletion and an addition of one id,
    /// paired in path order as DVC pairs them.
    pub renamed: Vec<Renamed>,
    /// Against the workspace only: the first side's paths whose object the cache lacks,
    /// changed or not.
    #[serde(rename = "not in cache", skip_serializing_if = "Option::is_none")]
    pub not_in_cache: Option<Vec<Changed>>,
    /// Changed folders whose files could not be listed, because their manifest is in
    /// neither the cache nor the default remote; their files are not compared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unexpanded: Vec<Unexpanded>,
}

impl DiffReport {
    /// Whether nothing differs (and the cache lacks nothing).
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.deleted.is_empty()
            && self.modified.is_empty()
            && self.renamed.is_empty()
            && self.not_in_cache.as_ref().is_none_or(Vec::is_empty)
    }
}

/// A folder compared by its manifest's id alone.
#[derive(Debug, Clone, Serialize)]
pub struct Unexpanded {
    /// The folder, relative to the root, ending in `/`.
    pub path: String,
    /// Its manifest's id.
    pub oid: String,
    /// Why the manifest could not be had.
    pub reason: String,
}

/// Compares commit `a` (default `HEAD`) with commit `b`, or with the workspace, over the
/// paths in and under `targets` (all tracked data when empty). Manifests of committed
/// folders that the cache lacks are fetched from the default remote first. A repository
/// without commits has nothing to compare, as in DVC.
pub fn diff(
    repo: &Repo,
    a: Option<&str>,
    b: Option<&str>,
    targets: &[PathBuf],
) -> Result<DiffReport> {
    let _lock = repo.lock(LockMode::Read)?;
    if !git::has_commits(repo.root())? {
        return Ok(DiffReport::default());
    }
    let committed_at = |rev: &str| {
        git::commit(repo.root(), rev)?;
        git::outputs_at(repo.root(), rev)
    };
    let before_pointers = committed_at(a.unwrap_or("HEAD"))?;
    let after_pointers = b.map(committed_at).transpose()?;
    let all = before_pointers
        .iter()
        .chain(after_pointers.iter().flatten());
    let uncached = uncached_manifests(repo, all);
    let uncached_ids: BTreeSet<Oid> = uncached.iter().map(|(oid, _)| oid.clone()).collect();
    // Staging and renaming into the cache is safe under the read lock: every writer that
    // could sweep the staging folder takes the write lock, which excludes us.
    let remote = match uncached.is_empty() {
        true => None,
        false => fetch_manifests(repo, uncached, None)?,
    };
    let mut before = committed(repo, &before_pointers)?;
    let mut after = match &after_pointers {
        Some(pointers) => committed(repo, pointers)?,
        None => workspace(repo)?,
    };
    let targets = relative_targets(repo, targets, &before, &after)?;
    before.keep(&targets);
    after.keep(&targets);
    let mut report = compare(&before, &after);
    if after_pointers.is_none() {
        // Checked as the cache was before manifests were fetched for this report.
        let cached = |oid: &Oid| !uncached_ids.contains(oid) && repo.cache().contains(oid);
        report.not_in_cache = Some(not_in_cache(&before, cached));
    }
    report.unexpanded = explain(&report, &before, &after, remote.as_deref());
    Ok(report)
}

/// One side of the comparison: every tracked output, and the files in tracked folders.
#[derive(Debug, Default)]
struct Side {
    /// Root-relative paths, without a trailing `/`; a folder's id is its manifest's.
    entries: BTreeMap<String, Oid>,
    /// Tracked folders whose files are unknown, their manifest being nowhere to be had.
    unknown: BTreeMap<String, Oid>,
}

impl Side {
    fn insert_output(&mut self, path: String, oid: Oid, files: Option<Vec<(String, Oid)>>) {
        match files {
            Some(files) => self.entries.extend(
                files
                    .into_iter()
                    .map(|(relpath, oid)| (format!("{path}/{relpath}"), oid)),
            ),
            None if oid.dir => {
                self.unknown.insert(path.clone(), oid.clone());
            }
            None => {}
        }
        self.entries.insert(path, oid);
    }

    /// Whether `path` lies in a folder whose files are unknown: DVC compares no file
    /// there, on either side, rather than call them all added or deleted.
    fn hides(&self, path: &str) -> bool {
        self.unknown.keys().any(|folder| within(path, folder))
    }

    fn keep(&mut self, targets: &[String]) {
        if targets.is_empty() {
            return;
        }
        let wanted = |path: &String| targets.iter().any(|target| within_or_at(path, target));
        self.entries.retain(|path, _| wanted(path));
        self.unknown.retain(|path, _| wanted(path));
    }
}

fn within(path: &str, folder: &str) -> bool {
    path.strip_prefix(folder)
        .is_some_and(|rest| rest.starts_with('/'))
}

fn within_or_at(path: &str, target: &str) -> bool {
    target.is_empty() || path == target || within(path, target)
}

/// How a report shows a path: a folder's ends in `/`, as in DVC.
fn shown(path: &str, oid: &Oid) -> String {
    match oid.dir {
        true => format!("{path}/"),
        false => path.to_owned(),
    }
}

/// The targets as root-relative paths; each must name (or lie in) data on either side.
fn relative_targets(
    repo: &Repo,
    targets: &[PathBuf],
    before: &Side,
    after: &Side,
) -> Result<Vec<String>> {
    let mut relative = Vec::new();
    for target in targets {
        let path = repo.relpath(target)?;
        let known = [before, after].iter().any(|side| {
            side.entries.keys().any(|entry| within_or_at(entry, &path))
                || side.unknown.keys().any(|folder| within(&path, folder))
        });
        if !known {
            return Err(Error::NotTracked {
                path: target.clone(),
                stages: true,
            });
        }
        relative.push(path);
    }
    Ok(relative)
}

/// The changes from `before` to `after`, with deletions and additions of one id paired
/// into renames.
fn compare(before: &Side, after: &Side) -> DiffReport {
    let compared = |path: &str| !before.hides(path) && !after.hides(path);
    let mut report = DiffReport::default();
    let mut deleted = Vec::new();
    for (path, old) in before.entries.iter().filter(|(path, _)| compared(path)) {
        match after.entries.get(path) {
            None => deleted.push((path, old)),
            Some(new) if new != old => report.modified.push(Modified {
                path: shown(path, old),
                hash: Pair {
                    old: old.to_string(),
                    new: new.to_string(),
                },
            }),
            Some(_) => {}
        }
    }
    let added: Vec<(&String, &Oid)> = (after.entries.iter())
        .filter(|(path, _)| compared(path) && !before.entries.contains_key(*path))
        .collect();
    pair_renames(&mut report, deleted, added);
    report.renamed.sort_by(|a, b| a.path.old.cmp(&b.path.old));
    for list in [&mut report.added, &mut report.deleted] {
        list.sort_by(|a, b| a.path.cmp(&b.path));
    }
    report.modified.sort_by(|a, b| a.path.cmp(&b.path));
    report
}

/// DVC's pairing: additions in path order (by components) each take the first deletion,
/// in the same order, of their id that is still unpaired.
fn pair_renames(
    report: &mut DiffReport,
    mut deleted: Vec<(&String, &Oid)>,
    mut added: Vec<(&String, &Oid)>,
) {
    let by_components =
        |a: &(&String, &Oid), b: &(&String, &Oid)| a.0.split('/').cmp(b.0.split('/'));
    deleted.sort_by(by_components);
    added.sort_by(by_components);
    let mut unpaired: HashMap<&Oid, VecDeque<&String>> = HashMap::new();
    for (path, oid) in &deleted {
        unpaired.entry(*oid).or_default().push_back(*path);
    }
    for (path, oid) in added {
        match unpaired.get_mut(oid).and_then(VecDeque::pop_front) {
            Some(old_path) => report.renamed.push(Renamed {
                path: Pair {
                    old: shown(old_path, oid),
                    new: shown(path, oid),
                },
                hash: oid.to_string(),
            }),
            None => report.added.push(changed(path, oid)),
        }
    }
    for (oid, paths) in unpaired {
        report
            .deleted
            .extend(paths.into_iter().map(|path| changed(path, oid)));
    }
}

fn changed(path: &str, oid: &Oid) -> Changed {
    Changed {
        path: shown(path, oid),
        hash: oid.to_string(),
    }
}

/// Every path of `before` whose object `cached` says the cache lacks.
fn not_in_cache(before: &Side, cached: impl Fn(&Oid) -> bool) -> Vec<Changed> {
    let mut missing: Vec<Changed> = (before.entries.iter())
        .filter(|(_, oid)| !cached(oid))
        .map(|(path, oid)| changed(path, oid))
        .collect();
    missing.sort_by(|a, b| a.path.cmp(&b.path));
    missing
}

/// The folder outputs whose manifest the cache lacks, once each.
fn uncached_manifests<'a>(
    repo: &Repo,
    pointers: impl Iterator<Item = &'a Pointer>,
) -> Vec<(Oid, String)> {
    let mut seen = std::collections::HashSet::new();
    let mut uncached = Vec::new();
    for pointer in pointers {
        for out in pointer.outs.iter().filter(|out| out.oid.dir) {
            if !repo.cache().contains(&out.oid) && seen.insert(out.oid.clone()) {
                uncached.push((out.oid.clone(), super::display_path(repo, pointer, out)));
            }
        }
    }
    uncached
}

/// Says why each folder the report names but could not look into is reported whole.
fn explain(
    report: &DiffReport,
    before: &Side,
    after: &Side,
    remote: Option<&str>,
) -> Vec<Unexpanded> {
    let reason = match remote {
        None => {
            "its manifest is not in the cache, and no default remote is configured to fetch it from"
                .to_owned()
        }
        Some(name) => format!("its manifest is in neither the cache nor remote `{name}`"),
    };
    let reported: BTreeSet<&str> = (report.added.iter().chain(&report.deleted))
        .map(|c| c.path.as_str())
        .chain(report.modified.iter().map(|m| m.path.as_str()))
        .chain(
            report
                .renamed
                .iter()
                .flat_map(|r| [&r.path.old, &r.path.new])
                .map(String::as_str),
        )
        .collect();
    let mut explained: Vec<Unexpanded> = (before.unknown.iter().chain(&after.unknown))
        .map(|(path, oid)| (shown(path, oid), oid))
        .filter(|(path, _)| reported.contains(path.as_str()))
        .map(|(path, oid)| Unexpanded {
            path,
            oid: oid.to_string(),
            reason: reason.clone(),
        })
        .collect();
    explained.sort_by(|a, b| (&a.path, &a.oid).cmp(&(&b.path, &b.oid)));
    explained.dedup_by(|a, b| a.path == b.path && a.oid == b.oid);
    explained
}

/// What the pointers name, folders expanded through cached manifests.
fn committed(repo: &Repo, pointers: &[Pointer]) -> Result<Side> {
    let mut side = Side::default();
    for pointer in pointers {
        for out in &pointer.outs {
            let files = match out.oid.dir && repo.cache().contains(&out.oid) {
                true => Some(
                    (repo.cache().manifest(&out.oid)?.entries().iter())
                        .map(|entry| (entry.relpath.clone(), entry.oid.clone()))
                        .collect(),
                ),
                false => None,
            };
            side.insert_output(
                super::display_path(repo, pointer, out),
                out.oid.clone(),
                files,
            );
        }
    }
    Ok(side)
}

/// What the workspace holds at the tracked outputs' paths.
fn workspace(repo: &Repo) -> Result<Side> {
    let mut state = repo.state()?;
    let mut side = Side::default();
    for pointer in repo.outputs()? {
        for out in &pointer.outs {
            let path = super::display_path(repo, &pointer, out);
            match scan(repo, &mut state, &pointer.out_path(out))? {
                Content::Missing => {}
                Content::File(file) => side.insert_output(path, file.oid, None),
                Content::Dir { files, manifest } => {
                    let inside = files.into_iter().map(|f| (f.relpath, f.oid)).collect();
                    side.insert_output(path, manifest.oid(), Some(inside));
                }
            }
        }
    }
    Ok(side)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::HashAlgo;

    fn oid(hex_digit: char, dir: bool) -> Oid {
        let hex: String = std::iter::repeat_n(hex_digit, 32).collect();
        Oid::parse(HashAlgo::Md5, &hex)
            .map(|oid| Oid { dir, ..oid })
            .unwrap()
    }

    fn side(entries: &[(&str, Oid)]) -> Side {
        Side {
            entries: entries
                .iter()
                .map(|(path, oid)| (path.to_string(), oid.clone()))
                .collect(),
            unknown: BTreeMap::new(),
        }
    }

    fn paths(list: &[Changed]) -> Vec<&str> {
        list.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn deletions_and_additions_of_one_id_pair_in_path_order() {
        let before = side(&[
            ("b", oid('1', false)),
            ("a", oid('1', false)),
            ("c", oid('2', false)),
        ]);
        let after = side(&[("z/y", oid('1', false)), ("x", oid('3', false))]);
        let report = compare(&before, &after);
        // `x` and `z/y` are added in that order; `z/y` takes the first deletion, `a`.
        let renamed: Vec<(&str, &str)> = (report.renamed.iter())
            .map(|r| (r.path.old.as_str(), r.path.new.as_str()))
            .collect();
        assert_eq!(renamed, [("a", "z/y")]);
        assert_eq!(paths(&report.added), ["x"]);
        assert_eq!(paths(&report.deleted), ["b", "c"]);
    }

    #[test]
    fn folders_are_entries_and_a_file_becoming_a_folder_is_modified() {
        let before = side(&[
            ("t", oid('1', false)),
            ("d", oid('2', true)),
            ("d/f", oid('3', false)),
        ]);
        let after = side(&[
            ("t", oid('4', true)),
            ("t/f", oid('3', false)),
            ("e", oid('5', true)),
        ]);
        let report = compare(&before, &after);
        let modified: Vec<&str> = report.modified.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(modified, ["t"]);
        assert_eq!(paths(&report.added), ["e/"]);
        assert_eq!(paths(&report.deleted), ["d/"]);
        assert_eq!(
            report.renamed[0].path,
            Pair {
                old: "d/f".into(),
                new: "t/f".into()
            }
        );
    }

    #[test]
    fn files_of_a_folder_unknown_on_either_side_are_not_compared() {
        let mut before = side(&[("d", oid('1', true))]);
        before.unknown.insert("d".into(), oid('1', true));
        let after = side(&[
            ("d", oid('2', true)),
            ("d/f", oid('3', false)),
            ("df", oid('4', false)),
        ]);
        let report = compare(&before, &after);
        assert_eq!(report.modified[0].path, "d/");
        assert_eq!(paths(&report.added), ["df"]);
    }

    #[test]
    fn targets_keep_what_is_at_or_under_them() {
        let mut both = side(&[
            ("d", oid('1', true)),
            ("d/f", oid('2', false)),
            ("dd", oid('3', false)),
        ]);
        both.keep(&["d/f".into()]);
        assert_eq!(both.entries.keys().collect::<Vec<_>>(), ["d/f"]);
    }
}
