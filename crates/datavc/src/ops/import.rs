//! `import` and `update`: `get` that stays tracked, as `dvc import` and `dvc update`. An
//! output the source records whole, hashed as this repository hashes, has its objects
//! fetched straight into this repository's cache and checked out from there, as `pull`
//! would; anything else (a part of a tracked folder, what only git tracks, another hash)
//! is copied out of the source (see [`super::get`]) and stored like `add` stores data.
//! Either way a pointer names the source and the commit it came from (DVC's
//! `deps: [{path, repo: {url, rev, rev_lock}}]`), so `pull` can fetch it from there and
//! `update` can move it to a newer commit.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::add::{self, Tracked};
use super::checkout::{self, Overwrite};
use super::get::{self, CopyOptions};
use super::source::{self, Source, SourceCopy, source_parts};
use super::transfer::TransferReport;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::hash::Oid;
use crate::lock::LockMode;
use crate::pointer::{ImportSource, Output, Pointer};
use crate::progress::Progress;
use crate::repo::{Repo, absolute};
use crate::state::{ObjectKey, StateDb};
use crate::workspace::scan;

/// How to update.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// Follow this branch or tag from now on (default: the one recorded, else the
    /// default branch).
    pub rev: Option<String>,
    /// Replace data changed here that is saved nowhere else.
    pub force: bool,
    /// Concurrent downloads.
    pub jobs: Option<usize>,
}

/// What `import` or `update` did to one output.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    /// The output and its pointer, as `add` reports them; `changed` is false where
    /// `update` found nothing new.
    #[serde(flatten)]
    pub tracked: Tracked,
    /// The source repository, as recorded.
    pub url: String,
    /// The path in it.
    pub source_path: String,
    /// The commit the data now comes from.
    pub rev: String,
    /// The downloads, one per place objects were looked for.
    pub fetched: Vec<TransferReport>,
}

/// Copies `path` of the repository at `url` (a folder or a git URL) to `options.out` in
/// this repository, tracks it and records where it came from.
pub fn import(
    repo: &Repo,
    url: &str,
    path: &str,
    options: &CopyOptions,
    progress: &dyn Progress,
) -> Result<Imported> {
    let parts = source_parts(url, path)?;
    let out = get::destination(&parts, options.out.as_deref())?;
    let stage_outputs: Vec<PathBuf> = (repo.pipelines()?.into_iter())
        .flat_map(|pipeline| pipeline.declared)
        .collect();
    let out = add::check_trackable(repo, &stage_outputs, &out)?;
    add::check_git(repo, std::slice::from_ref(&out))?;
    // A pointer there without its data is replaced, as DVC replaces it.
    get::refuse_existing(&out, options.force)?;
    let pointer_file = Repo::pointer_path(&out);
    let _lock = repo.lock(LockMode::Write)?;
    fsutil::create_dir_all(out.parent().unwrap_or(&out))?;
    let source = Source::clone_at(url, options.rev.as_deref(), &out)?;
    let recorded = ImportSource {
        url: recorded_url(repo, url)?,
        rev: options.rev.clone(),
        rev_lock: Some(source.rev().to_owned()),
        path: parts.join("/"),
    };
    let mut importer = Importer::new(repo, options.jobs, progress)?;
    let save = |output| {
        let pointer = Pointer::new_import(pointer_file, &recorded, output);
        pointer.save().map(|()| pointer)
    };
    let Brought {
        saved: pointer,
        gitignore,
        fetched,
    } = importer.bring(source, &parts, &out, save)?;
    let imported = report(repo, &pointer, recorded, fetched, gitignore, true)?;
    let tracked = &imported.tracked;
    let staged = std::iter::once(tracked.pointer.as_str()).chain(tracked.gitignore.as_deref());
    super::autostage(repo, staged)?;
    Ok(imported)
}

/// What [`Importer::bring`] did: what its `save` returned (the pointer), the `.gitignore`
/// that ignores the output, and the downloads.
struct Brought<P> {
    saved: P,
    gitignore: Option<String>,
    fetched: Vec<TransferReport>,
}

/// This repository as imports write into it: its state database, and how they download.
struct Importer<'a> {
    repo: &'a Repo,
    state: StateDb,
    jobs: Option<usize>,
    progress: &'a dyn Progress,
}

impl<'a> Importer<'a> {
    fn new(repo: &'a Repo, jobs: Option<usize>, progress: &'a dyn Progress) -> Result<Self> {
        Ok(Importer {
            repo,
            state: repo.state()?,
            jobs,
            progress,
        })
    }

    /// Puts the data of the path `parts` of `source` at `out`, replacing what is there,
    /// and in this repository's cache, and hands the output to record to `save` (which
    /// writes its pointer) once the cache holds it all. New data is renamed into place
    /// whole once its pointer is saved: a killed import leaves the data and its pointer,
    /// or no data (where `checkout`, `pull` or the import run again puts it).
    fn bring<P>(
        &mut self,
        source: Source,
        parts: &[String],
        out: &Path,
        save: impl FnOnce(Output) -> Result<P>,
    ) -> Result<Brought<P>> {
        let Importer {
            repo,
            jobs,
            progress,
            ..
        } = *self;
        // Ignored right before the pointer is saved (and new data renamed into place), as
        // DVC orders it: a kill must not leave a pointer beside data `git add` would
        // commit. A failure before then leaves `.gitignore` alone.
        let save = |output| {
            let gitignore = super::ignore(repo, out)?;
            save(output).map(|saved| (saved, gitignore))
        };
        let data = source.path(&parts.join("/"));
        match source.recorded_output(&data)? {
            Some(recorded) if recorded.oid.algo == repo.algo() => {
                let output = Output {
                    path: add::output_name(out),
                    push: true,
                    remote: None,
                    part: None,
                    ..recorded
                };
                // The source hashes as this repository does: its objects are this cache's
                // too, and need no copy in the clone.
                let fetched = source.fetch(&data, repo.cache().root(), jobs, progress)?;
                if let Some(fetched) = &fetched {
                    adopt_verified(&mut self.state, &fetched.repo)?;
                }
                let (saved, gitignore) = self.check_out(&source, out, output, save)?;
                Ok(Brought {
                    saved,
                    gitignore,
                    fetched: fetched.map_or_else(Vec::new, |fetched| fetched.reports),
                })
            }
            _ => {
                // Stored and saved before it is renamed into place, as `check_out` orders it.
                let copy = SourceCopy::of(&source, source.url(), parts, jobs, progress)?;
                let stored = add::store(repo, &mut self.state, &copy.data, out, progress)?;
                let (saved, gitignore) = save(stored)?;
                copy.place(out)?;
                Ok(Brought {
                    saved,
                    gitignore,
                    fetched: copy.fetched,
                })
            }
        }
    }

    /// Checks `output` out at `out` from the cache, replacing what is there (the caller
    /// has made sure that nothing is lost), and `save`s it. Data that is there is updated
    /// in place, where the checkout rewrites only the files that changed, each whole. New
    /// data is checked out in the temporary folder of `source`.
    fn check_out<P>(
        &mut self,
        source: &Source,
        out: &Path,
        output: Output,
        save: impl FnOnce(Output) -> Result<P>,
    ) -> Result<P> {
        let repo = self.repo;
        let staged = match fsutil::exists(out) {
            true => out.to_owned(),
            false => source.scratch("data"),
        };
        let checked_out = Output {
            path: add::output_name(&staged),
            ..output.clone()
        };
        let pointer = Pointer::new(Repo::pointer_path(&staged), checked_out);
        let progress = self.progress;
        let report =
            checkout::checkout_locked(repo, &[pointer], Overwrite::Force, false, progress)?;
        if let Some(first) = report.missing.first() {
            return Err(Error::MissingInSource {
                url: source.url().to_owned(),
                count: report.missing.len(),
                first: first.clone(),
            });
        }
        let saved = save(output)?;
        if staged != out {
            source::place(&staged, out, &source.scratch("replaced"))?;
            self.state
                .moved(&repo.relpath(&staged)?, &repo.relpath(out)?)?;
        }
        Ok(saved)
    }
}

/// Records in `state` the objects that the fetch in `clone` wrote verified into this
/// repository's cache, as a fetch here would, so that the checkout does not hash them
/// again.
fn adopt_verified(state: &mut StateDb, clone: &Repo) -> Result<()> {
    let verified = clone.state()?.verified_objects()?;
    let objects: Vec<(Oid, ObjectKey)> = (verified.into_iter())
        .map(|((algo, hex), key)| {
            (
                Oid {
                    algo,
                    hex,
                    dir: false,
                },
                key,
            )
        })
        .collect();
    state.record_verified(&objects)
}

/// Moves imported outputs (those of `targets`, or all) to the newest commit of the
/// revision they follow, or to `options.rev`.
pub fn update(
    repo: &Repo,
    targets: &[PathBuf],
    options: &UpdateOptions,
    progress: &dyn Progress,
) -> Result<Vec<Imported>> {
    let pointers = super::select_pointers(repo, targets)?;
    let mut imports = Vec::new();
    for pointer in pointers {
        match pointer.import_source() {
            Some(recorded) => imports.push((pointer, recorded)),
            None if targets.is_empty() => {}
            None => {
                return Err(Error::NotImport {
                    pointer: pointer.file,
                });
            }
        }
    }
    let _lock = repo.lock(LockMode::Write)?;
    let mut importer = Importer::new(repo, options.jobs, progress)?;
    (imports.into_iter())
        .map(|(pointer, recorded)| update_one(&mut importer, pointer, recorded, options))
        .collect()
}

fn update_one(
    importer: &mut Importer,
    mut pointer: Pointer,
    old: ImportSource,
    options: &UpdateOptions,
) -> Result<Imported> {
    let repo = importer.repo;
    let mut recorded = old.clone();
    recorded.rev = options.rev.clone().or(old.rev.clone());
    let (current, name) = import_output(&pointer)?;
    let out = fsutil::join_slash(pointer.dir(), &name);
    let url = clone_url(repo, &recorded.url);
    let source = Source::clone_at(&url, recorded.rev.as_deref(), &out)?;
    recorded.rev_lock = Some(source.rev().to_owned());
    let in_place = match &current {
        Some(output) => scan(repo, &mut importer.state, &out)?.oid().as_ref() == Some(&output.oid),
        None => false,
    };
    if recorded == old && in_place {
        return report(repo, &pointer, recorded, Vec::new(), None, false);
    }
    if !in_place && !options.force {
        let unsaved = super::remove::unsaved(repo, &mut importer.state, &out)?;
        if !unsaved.is_empty() {
            return Err(Error::WouldOverwrite { paths: unsaved });
        }
    }
    let parts = source_parts(&url, &recorded.path)?;
    let rev = source.rev().to_owned();
    let save = |stored: Output| {
        let stored = Output {
            path: name,
            ..stored
        };
        match current {
            Some(old_out) => pointer.set_out(
                0,
                Output {
                    // `push: false` and `remote:` are the user's choices, kept across new
                    // content.
                    push: old_out.push,
                    remote: old_out.remote,
                    ..stored
                },
            ),
            None => pointer.record(stored),
        }
        pointer.set_import_source(&recorded);
        pointer.save().map(|()| pointer)
    };
    let brought = importer.bring(source, &parts, &out, save);
    let Brought {
        saved: pointer,
        gitignore,
        fetched,
    } = brought.map_err(|error| match error {
        Error::NotInSource { .. } => Error::GoneFromSource {
            path: recorded.path.clone(),
            url: recorded.url.clone(),
            rev,
        },
        error => error,
    })?;
    report(repo, &pointer, recorded, fetched, gitignore, true)
}

/// The output an import records, and its name; the output is `None` where DVC wrote the
/// import with `--no-download` or `--no-exec`, with no hash yet.
fn import_output(pointer: &Pointer) -> Result<(Option<Output>, String)> {
    match (pointer.outs.first(), pointer.unrecorded.first()) {
        (Some(output), _) => Ok((Some(output.clone()), output.path.clone())),
        (None, Some(path)) => Ok((None, path.clone())),
        (None, None) => Err(Error::BadPointer {
            path: pointer.file.clone(),
            detail: "an import with no output".into(),
        }),
    }
}

/// What happened to the import `pointer` records, whose output `gitignore` ignores where
/// it `changed`. (`import` stages what it wrote where `core.autostage` asks for it, and
/// `update` leaves git alone, as DVC's do.)
fn report(
    repo: &Repo,
    pointer: &Pointer,
    recorded: ImportSource,
    fetched: Vec<TransferReport>,
    gitignore: Option<String>,
    changed: bool,
) -> Result<Imported> {
    let output = &pointer.outs[0];
    let out = pointer.out_path(output);
    let tracked = Tracked {
        path: repo.relpath(&out)?,
        pointer: repo.relpath(&pointer.file)?,
        gitignore,
        oid: output.oid.to_string(),
        size: output.size,
        nfiles: output.nfiles,
        changed,
    };
    Ok(Imported {
        tracked,
        url: recorded.url,
        source_path: recorded.path,
        rev: recorded.rev_lock.unwrap_or_default(),
        fetched,
    })
}

/// The URL to record for a source given as `url` here: a folder relative to the
/// repository root (`pull` reads it from there, wherever it runs), anything else as given.
fn recorded_url(repo: &Repo, url: &str) -> Result<String> {
    let folder = Path::new(url);
    if folder.is_absolute() || !folder.is_dir() {
        return Ok(url.to_owned());
    }
    let relative = pathdiff::diff_paths(absolute(folder)?, repo.root());
    Ok(relative.map_or_else(|| url.to_owned(), |relative| slash(&relative)))
}

/// The URL to clone a recorded source from: a relative folder is relative to the root.
pub(crate) fn clone_url(repo: &Repo, url: &str) -> String {
    match repo.root().join(url) {
        folder if !Path::new(url).is_absolute() && folder.is_dir() => {
            folder.to_string_lossy().into_owned()
        }
        _ => url.to_owned(),
    }
}

/// `path` with `/` between its parts, as DVC files write paths on every system.
fn slash(path: &Path) -> String {
    let parts: Vec<_> = path.iter().map(|part| part.to_string_lossy()).collect();
    parts.join("/")
}
