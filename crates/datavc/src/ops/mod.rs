//! The commands, one module each; every one takes a [`Repo`] and returns a report value.

pub mod add;
pub mod checkout;
pub mod diff;
pub mod fsck;
pub mod gc;
pub mod get;
pub mod import;
pub mod install;
pub mod list;
pub mod ls;
pub mod mv;
pub mod remove;
mod source;
pub mod status;
pub mod transfer;
pub mod unprotect;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::{self, RevScope};
use crate::hash::Oid;
use crate::manifest::{Entry, Manifest};
use crate::pointer::{Output, POINTER_EXT, Pointer};
use crate::repo::{Repo, absolute};
use crate::stages::{STAGES_FILE, StageOutput};
use crate::state::StateDb;
use crate::{fsutil, gitignore};

/// Records in the state database the objects this command wrote into the cache, which were
/// verified as they were written; call after the cache is flushed, so that in durable mode
/// a record never names an object not yet on disk. (Without durable mode a power cut can
/// lose an object's bytes, but then its size or times on disk differ from the record too,
/// on the filesystems that allocate blocks at writeback, ext4 and XFS among them.)
fn record_verified(repo: &Repo, state: &mut StateDb) -> Result<()> {
    state.record_verified(&repo.cache().take_verified())
}

/// Whether git versions the repository: it lies in a git work tree, and DVC's
/// `core.no_scm` is not set.
fn uses_git(repo: &Repo) -> Result<bool> {
    Ok(!repo.config().no_scm() && git::in_work_tree(repo.root())?)
}

/// Who stages in git the pointer and `.gitignore` files commands change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitUse {
    /// Nobody: the repository is not to be versioned by git (`core.no_scm`).
    None,
    /// The user, with the `git add` line the commands suggest (also before `git init`).
    Manual,
    /// The commands, as DVC's do with `core.autostage`.
    Autostage,
}

/// Who stages in git what the repository's commands change.
pub fn git_use(repo: &Repo) -> Result<GitUse> {
    if repo.config().no_scm() {
        return Ok(GitUse::None);
    }
    Ok(match repo.config().autostage() && uses_git(repo)? {
        true => GitUse::Autostage,
        false => GitUse::Manual,
    })
}

/// Adds `/name` for the absolute `path` to the `.gitignore` beside it, unless the
/// repository is not versioned by git (`core.no_scm`); returns that file, relative to the
/// root.
fn ignore(repo: &Repo, path: &Path) -> Result<Option<String>> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(None);
    };
    if repo.config().no_scm() {
        return Ok(None);
    }
    let file = gitignore::ignore(dir, &name.to_string_lossy())?;
    repo.relpath(&file).map(Some)
}

/// Removes the line [`ignore`] adds; returns the `.gitignore` file, relative to the root,
/// if it changed.
fn unignore(repo: &Repo, path: &Path) -> Result<Option<String>> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(None);
    };
    match gitignore::unignore(dir, &name.to_string_lossy())? {
        Some(file) => repo.relpath(&file).map(Some),
        None => Ok(None),
    }
}

/// Stages `paths` (pointer and `.gitignore` files a command changed, relative to the
/// root) in git, where [`GitUse::Autostage`].
fn autostage<'a>(repo: &Repo, paths: impl IntoIterator<Item = &'a str>) -> Result<()> {
    if git_use(repo)? != GitUse::Autostage {
        return Ok(());
    }
    let mut paths: Vec<&str> = paths.into_iter().collect();
    paths.sort_unstable();
    paths.dedup();
    git::stage(repo.root(), &paths)
}

/// The pointers named by `targets` (pointer files or tracked paths), or all of them.
pub fn select_pointers(repo: &Repo, targets: &[PathBuf]) -> Result<Vec<Pointer>> {
    if targets.is_empty() {
        return repo.pointers();
    }
    targets
        .iter()
        .map(|target| pointer_of(repo, target, false))
        .collect()
}

/// The outputs named by `targets`, or all of them: for commands that never rewrite a
/// pointer. A target is a pointer file, a path that a pointer or a pipeline stage
/// tracks, a path inside a tracked folder (the output comes with that part of it in
/// [`Output::part`]), or stages as DVC names them: `dvc.yaml`, `dvc.yaml:NAME`, or `NAME`
/// for a stage of the `dvc.yaml` in that folder (`NAME` covers every item of a `foreach`
/// or `matrix`).
pub fn select_outputs(repo: &Repo, targets: &[PathBuf]) -> Result<Vec<Pointer>> {
    if targets.is_empty() {
        return repo.outputs();
    }
    // Every output, since a pointer file's name need not be its output's (`git mv
    // data.dvc dataset.dvc`), and a target may lie in a tracked folder.
    let tracked = repo.outputs()?;
    let pointerless = pointerless(repo)?;
    let mut selected = Vec::new();
    for target in targets {
        let error = match select_target(repo, &tracked, target) {
            Err(error @ Error::NotTracked { .. }) => error,
            found => {
                found?.into_iter().for_each(|p| add_once(&mut selected, p));
                continue;
            }
        };
        let path = absolute(target)?;
        if let Some(part) = folder_part(repo, &tracked, &path) {
            add_once(&mut selected, part);
        } else if !pointerless.iter().any(|o| names_stage_output(&path, o)) {
            return Err(error);
        }
        // Otherwise left to the caller: `status` reports it; `checkout` and `pull` fail
        // where it is not recorded and skip it where it is not cached.
    }
    Ok(selected)
}

/// `targets`, each folder among them that holds pointer files or (with `stages`)
/// pipelines (`dvc.yaml`) with outputs replaced by those, as DVC's `-R` reads a folder;
/// other targets stay as they are (a tracked folder is its own output). `commit` takes
/// pointer files only: pipelines are DVC's to record.
pub fn recursive_targets(repo: &Repo, targets: &[PathBuf], stages: bool) -> Result<Vec<PathBuf>> {
    let mut expanded = Vec::new();
    for target in targets {
        let path = absolute(target)?;
        let found = match path.is_dir() {
            true => repo.tracking_files_below(&path)?,
            false => Vec::new(),
        };
        let mut inside = Vec::new();
        for file in found {
            let pipeline = file.file_name().is_some_and(|name| name == STAGES_FILE);
            if pipeline && !(stages && has_outputs(repo, &file)?) {
                continue;
            }
            inside.push(file);
        }
        match inside.is_empty() {
            true => expanded.push(target.clone()),
            false => expanded.extend(inside),
        }
    }
    Ok(expanded)
}

/// Whether the pipeline `file` names any output a target can (none: only deps, or no
/// stages yet).
fn has_outputs(repo: &Repo, file: &Path) -> Result<bool> {
    match select_outputs(repo, &[file.to_owned()]) {
        Ok(_) => Ok(true),
        Err(Error::NotTracked { .. }) => Ok(false),
        Err(error) => Err(error),
    }
}

/// What [`with_revisions`] does with a revision whose pointer or pipeline files it cannot
/// read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// Fail: `gc` must know everything a kept revision references.
    Fail,
    /// Skip it, naming it, as DVC's transfers do.
    Skip,
}

/// `selected`, followed by the outputs committed in each revision `scope` names: all of
/// them, or with `targets`, those at the paths of the outputs `selected` holds (narrowed
/// to the same parts). An output already listed, with the same object and part, is left
/// out, so that a folder unchanged over many commits is expanded once. Returns the
/// outputs, and the errors of the revisions skipped as [`Unreadable::Skip`] allows.
pub(crate) fn with_revisions(
    repo: &Repo,
    mut selected: Vec<Pointer>,
    targets: bool,
    scope: &RevScope,
    unreadable: Unreadable,
) -> Result<(Vec<Pointer>, Vec<String>)> {
    // Without git there is no history, as in DVC: the workspace is all there is.
    if !scope.any() || !uses_git(repo)? {
        return Ok((selected, Vec::new()));
    }
    let revisions = git::revisions(repo.root(), scope)?;
    let mut skipped = Vec::new();
    let mut parts: HashMap<PathBuf, Vec<Option<String>>> = HashMap::new();
    for pointer in &selected {
        for out in &pointer.outs {
            let path = pointer.out_path(out);
            parts.entry(path).or_default().push(out.part.clone());
        }
    }
    let mut listed: HashSet<(Oid, Option<String>)> = (selected.iter())
        .flat_map(|p| p.outs.iter().map(|out| (out.oid.clone(), out.part.clone())))
        .collect();
    for rev in revisions {
        let outputs = match git::outputs_at(repo.root(), &rev) {
            Err(error @ Error::AtRevision { .. }) if unreadable == Unreadable::Skip => {
                skipped.push(error.to_string());
                continue;
            }
            outputs => outputs?,
        };
        for mut pointer in outputs {
            let mut outs = Vec::new();
            for out in std::mem::take(&mut pointer.outs) {
                let wanted = match targets {
                    true => parts
                        .get(&pointer.out_path(&out))
                        .cloned()
                        .unwrap_or_default(),
                    false => vec![None],
                };
                for part in wanted {
                    if listed.insert((out.oid.clone(), part.clone())) {
                        outs.push(Output {
                            part,
                            ..out.clone()
                        });
                    }
                }
            }
            if !outs.is_empty() {
                pointer.outs = outs;
                selected.push(pointer);
            }
        }
    }
    Ok((selected, skipped))
}

/// Adds `pointer` unless an earlier target selected the same outputs.
fn add_once(selected: &mut Vec<Pointer>, pointer: Pointer) {
    if !selected
        .iter()
        .any(|s| s.file == pointer.file && s.outs == pointer.outs)
    {
        selected.push(pointer);
    }
}

/// The tracked folder `path` lies in, as a pointer holding only that output, narrowed to
/// `path`'s part of it: DVC's granular targets (`dvc pull data/images/cat.png`).
fn folder_part(repo: &Repo, tracked: &[Pointer], path: &Path) -> Option<Pointer> {
    let folders = (path.ancestors().skip(1))
        .take_while(|dir| dir.starts_with(repo.root()) && *dir != repo.root());
    for folder in folders {
        for pointer in tracked {
            let found =
                (pointer.outs.iter()).find(|out| out.oid.dir && pointer.out_path(out) == folder);
            if let Some(out) = found {
                let mut narrowed = pointer.clone();
                let part = fsutil::relative_slash(path, folder);
                narrowed.outs = vec![Output {
                    part,
                    ..out.clone()
                }];
                return Some(narrowed);
            }
        }
    }
    None
}

/// The entries of `manifest` that `part` names (all when `None`); a part naming none is
/// [`Error::NotInFolder`]. `folder` is the folder as reports show it.
fn part_entries<'a>(
    manifest: &'a Manifest,
    folder: &str,
    part: Option<&'a str>,
) -> Result<Vec<&'a Entry>> {
    let entries: Vec<&Entry> = manifest.entries_within(part).collect();
    match (entries.is_empty(), part) {
        (true, Some(part)) => Err(Error::NotInFolder {
            path: format!("{folder}/{part}"),
            folder: folder.to_owned(),
        }),
        _ => Ok(entries),
    }
}

/// Fails naming the cached stage outputs of `targets` (paths; all when empty) that
/// `dvc.lock` has no hash for, as DVC's checkout and pull do: nothing can restore them.
pub(crate) fn require_recorded(repo: &Repo, targets: &[PathBuf]) -> Result<()> {
    let unrecorded: Vec<StageOutput> = (unrecorded(repo, targets)?.into_iter())
        .filter(|u| u.cache)
        .collect();
    match unrecorded.first() {
        None => Ok(()),
        Some(first) => {
            // As `dvc repro` takes it: a bare name for the root's `dvc.yaml` only.
            let stage = match first.stages_file == repo.root().join(STAGES_FILE) {
                true => first.stage.clone(),
                false => format!(
                    "{}:{}",
                    relative_or_full(repo, &first.stages_file),
                    first.stage
                ),
            };
            Err(Error::Unrecorded {
                count: unrecorded.len(),
                first: relative_or_full(repo, &first.path),
                stage,
            })
        }
    }
}

/// The stage outputs of `targets` (all when empty) that `dvc.lock` has no hash for: those
/// a target names, lies in, or names the stage of.
pub(crate) fn unrecorded(repo: &Repo, targets: &[PathBuf]) -> Result<Vec<StageOutput>> {
    let named = named_by(targets)?;
    Ok((repo.pipelines()?.into_iter())
        .flat_map(|pipeline| pipeline.unrecorded)
        .filter(|output| named(output))
        .collect())
}

/// The stage outputs declared `cache: false` that `targets` (all when empty) name, lie
/// in, or name the stage of, as pointers to what `dvc.lock` records.
pub(crate) fn uncached(repo: &Repo, targets: &[PathBuf]) -> Result<Vec<Pointer>> {
    let named = named_by(targets)?;
    Ok((repo.pipelines()?.into_iter())
        .flat_map(|pipeline| pipeline.uncached)
        .filter(|pointer| named(&StageOutput::uncached(pointer)))
        .collect())
}

/// Whether a stage output is one `targets` (all when empty) name, lie in, or name the
/// stage of.
fn named_by(targets: &[PathBuf]) -> Result<impl Fn(&StageOutput) -> bool> {
    let targets: Vec<PathBuf> = targets.iter().map(|t| absolute(t)).collect::<Result<_>>()?;
    Ok(move |output: &StageOutput| {
        targets.is_empty() || targets.iter().any(|t| names_stage_output(t, output))
    })
}

/// The stage outputs that [`Repo::outputs`] has no pointer for: those `dvc.lock` does not
/// record, and those declared `cache: false`.
fn pointerless(repo: &Repo) -> Result<Vec<StageOutput>> {
    let mut found = Vec::new();
    for pipeline in repo.pipelines()? {
        found.extend(pipeline.unrecorded);
        found.extend(pipeline.uncached.iter().map(StageOutput::uncached));
    }
    Ok(found)
}

/// Whether the absolute path `target` names `output`, lies in it, or names its stage.
fn names_stage_output(target: &Path, output: &StageOutput) -> bool {
    target.starts_with(&output.path)
        || StageTarget::of(target).names(&output.stages_file, &output.stage)
}

/// What one target of [`select_outputs`] names.
fn select_target(repo: &Repo, tracked: &[Pointer], target: &Path) -> Result<Vec<Pointer>> {
    let path = absolute(target)?;
    let of_tracked = |keep: &dyn Fn(&Pointer) -> bool| -> Vec<Pointer> {
        tracked.iter().filter(|p| keep(p)).cloned().collect()
    };
    let by_path = of_tracked(&|p| p.out_paths().any(|out| out == path));
    if !by_path.is_empty() {
        return Ok(by_path);
    }
    let wanted = StageTarget::of(&path);
    // A bare `NAME` is a stage only where no pointer tracks that path.
    if wanted.bare {
        match pointer_of(repo, target, true) {
            Err(Error::NotTracked { .. }) => {}
            other => return other.map(|pointer| vec![pointer]),
        }
    }
    let named = |p: &Pointer| {
        let stages_file = p.file.with_file_name(STAGES_FILE);
        p.stage()
            .is_some_and(|name| wanted.names(&stages_file, name))
    };
    let selected = of_tracked(&named);
    if selected.is_empty() {
        return Err(Error::NotTracked { path, stages: true });
    }
    Ok(selected)
}

/// The stages an absolute path would name, as DVC names them: `dvc.yaml` (all of its
/// stages), `dvc.yaml:NAME`, or a bare `NAME` for a stage of the `dvc.yaml` in that folder.
struct StageTarget {
    stages_file: PathBuf,
    /// `None` for every stage of the file.
    stage: Option<String>,
    /// Whether it is a bare `NAME`, which a tracked path of that name takes first.
    bare: bool,
}

impl StageTarget {
    fn of(target: &Path) -> StageTarget {
        let text = target.to_string_lossy();
        let (stages_file, stage, bare) = match text.rsplit_once(':') {
            Some((file, stage)) if file.ends_with(STAGES_FILE) => {
                (PathBuf::from(file), Some(stage.to_owned()), false)
            }
            _ if target.ends_with(STAGES_FILE) => (target.to_owned(), None, false),
            _ => {
                let name = target.file_name().and_then(|n| n.to_str());
                (
                    target.with_file_name(STAGES_FILE),
                    name.map(str::to_owned),
                    true,
                )
            }
        };
        StageTarget {
            stages_file,
            stage,
            bare,
        }
    }

    /// Whether stage `name` (as `dvc.lock` names it) of `stages_file` is named: the stage
    /// itself, or an item of the `foreach` or `matrix` stage named (`NAME@item`).
    fn names(&self, stages_file: &Path, name: &str) -> bool {
        self.stages_file == stages_file
            && self.stage.as_deref().is_none_or(|wanted| {
                name == wanted
                    || (name.strip_prefix(wanted)).is_some_and(|item| item.starts_with('@'))
            })
    }
}

/// The pointer file `target` names, or the one beside the tracked path `target`;
/// `stages` says whether the caller looked for a pipeline stage's output first.
fn pointer_of(repo: &Repo, target: &Path, stages: bool) -> Result<Pointer> {
    let target = absolute(target)?;
    repo.relpath(&target)?;
    let is_pointer = target.extension().is_some_and(|ext| ext == POINTER_EXT) && target.is_file();
    let file = if is_pointer {
        target.clone()
    } else {
        Repo::pointer_path(&target)
    };
    if !file.is_file() {
        return Err(Error::NotTracked {
            path: target,
            stages,
        });
    }
    Pointer::load(&file)
}

/// Calls `act` on every file at or below `path` (a file, or a folder's files); returns
/// how many.
fn each_file_below(path: &Path, mut act: impl FnMut(&Path) -> Result<()>) -> Result<usize> {
    let mut count = 0;
    for entry in walkdir::WalkDir::new(path) {
        let entry = entry.map_err(|e| Error::Io {
            action: "list",
            path: path.to_owned(),
            source: e.into(),
        })?;
        if !entry.file_type().is_dir() {
            act(entry.path())?;
            count += 1;
        }
    }
    Ok(count)
}

/// An output's path relative to the repository root, for reports.
pub fn display_path(repo: &Repo, pointer: &Pointer, out: &Output) -> String {
    let path = pointer.out_path(out);
    fsutil::relative_slash(&path, repo.root()).unwrap_or_else(|| path.display().to_string())
}

/// A pointer file's path relative to the repository root, for reports.
pub fn display_pointer(repo: &Repo, pointer: &Pointer) -> String {
    relative_or_full(repo, &pointer.file)
}

fn relative_or_full(repo: &Repo, path: &Path) -> String {
    fsutil::relative_slash(path, repo.root()).unwrap_or_else(|| path.display().to_string())
}
