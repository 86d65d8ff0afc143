//! Another repository read as a source of data: the data registry `get` and `import` copy
//! from, and that `fetch` and `pull` read imported outputs from (DVC pushes no imports).
//! The repository is cloned at a revision into a temporary folder, and the objects of the
//! outputs asked for are fetched into a chosen cache: from the source's own cache when it
//! is a local folder, then from the default remote its configuration names, as DVC reads a
//! source. A [`SourceCopy`] goes one step further: the path checked out in the clone,
//! without DVC's own files, ready to be renamed into place whole.

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::checkout::{self, CheckoutOptions};
use super::transfer::{self, TransferOptions, TransferReport};
use crate::config::{DvcConfig, Level, OptionName, is_url};
use crate::dvcignore;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::git;
use crate::hash::Oid;
use crate::manifest::Manifest;
use crate::pointer::{Output, POINTER_EXT};
use crate::progress::Progress;
use crate::repo::Repo;
use crate::scratch::{self, TempFolder};
use crate::stages::STAGES_FILE;

/// The name the clone gives the source repository's cache, read as a folder remote (a
/// DVC 3 cache and a folder remote share one layout).
const SOURCE_CACHE: &str = "source-cache";

/// A clone of a source repository, removed with its temporary folder when dropped.
pub(crate) struct Source {
    url: String,
    temp: TempFolder,
    clone: PathBuf,
    rev: String,
}

/// A DVC project in the clone of a source.
pub(crate) struct Project {
    /// The project, its cache where the caller asked.
    pub repo: Repo,
    /// The remotes to read, in order (`None`: the default): the source's own cache
    /// first, where the source is a local folder.
    pub places: Vec<Option<String>>,
}

impl Project {
    /// The manifests of `folders` (output ids with the path to name them by), from the
    /// cache, fetched first from the places that have them, in `folders`' order; those
    /// none has are left out.
    pub(crate) fn manifests(&self, folders: &[(Oid, String)]) -> Result<Vec<(Oid, Manifest)>> {
        let cache = self.repo.cache();
        for remote in &self.places {
            let lacking: Vec<(Oid, String)> = (folders.iter())
                .filter(|(oid, _)| !cache.contains(oid))
                .cloned()
                .collect();
            if lacking.is_empty() {
                break;
            }
            transfer::fetch_manifests(&self.repo, lacking, remote.clone())?;
        }
        (folders.iter())
            .filter(|(oid, _)| cache.contains(oid))
            .map(|(oid, _)| Ok((oid.clone(), cache.manifest(oid)?)))
            .collect()
    }
}

/// What [`Source::fetch`] fetched.
pub(crate) struct Fetched {
    /// The clone, as a repository whose cache is the one fetched into.
    pub repo: Repo,
    /// The outputs fetched, as paths in the clone.
    pub targets: Vec<PathBuf>,
    /// The downloads, one per place objects were looked for.
    pub reports: Vec<TransferReport>,
}

impl Source {
    /// Clones `url` (a git URL, or a folder relative to the working folder) and checks out
    /// `rev` (default: the default branch), in a temporary folder beside `near`.
    pub(crate) fn clone_at(url: &str, rev: Option<&str>, near: &Path) -> Result<Source> {
        let temp = TempFolder::beside(near)?;
        let clone = temp.path.join("repo");
        git::clone(url, &clone)?;
        let rev = git::checkout_detached(&clone, rev.unwrap_or("HEAD"))?;
        Ok(Source {
            url: url.to_owned(),
            temp,
            clone,
            rev,
        })
    }

    /// The repository, as given.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The commit checked out.
    pub(crate) fn rev(&self) -> &str {
        &self.rev
    }

    /// The path of `relpath` (`/`-separated, from the source's root) in the clone.
    pub(crate) fn path(&self, relpath: &str) -> PathBuf {
        fsutil::join_slash(&self.clone, relpath)
    }

    /// A path in the temporary folder, beside the clone, that goes with it.
    pub(crate) fn scratch(&self, name: &str) -> PathBuf {
        self.temp.path.join(name)
    }

    /// Fetches into the cache folder `cache` the objects of the outputs at, inside or
    /// above `path` (in the clone), of the DVC project holding it. `None` where no
    /// project holds it, or none of its outputs are there.
    pub(crate) fn fetch(
        &self,
        path: &Path,
        cache: &Path,
        jobs: Option<usize>,
        progress: &dyn Progress,
    ) -> Result<Option<Fetched>> {
        let Some(Project { repo, places }) = self.project(path, cache)? else {
            return Ok(None);
        };
        let targets = outputs_for(&repo, path)?;
        if targets.is_empty() {
            return Ok(None);
        }
        let mut reports = Vec::new();
        for remote in places {
            let options = TransferOptions {
                remote,
                jobs,
                ..TransferOptions::default()
            };
            let report = transfer::fetch(&repo, &targets, &options, progress)?;
            let complete = report.missing.is_empty();
            reports.push(report);
            if complete {
                break;
            }
        }
        Ok(Some(Fetched {
            repo,
            targets,
            reports,
        }))
    }

    /// The DVC project holding `path` (in the clone), if one does, with its cache at
    /// `cache`.
    pub(crate) fn project(&self, path: &Path, cache: &Path) -> Result<Option<Project>> {
        let Some(project) = self.project_of(path) else {
            return Ok(None);
        };
        let places = self.configure(project, cache)?;
        let repo = Repo::discover(project)?;
        Ok(Some(Project { repo, places }))
    }

    /// The output a DVC project records at `path` (in the clone), where it records that
    /// path as a whole (not a part of one, nor a file only git tracks).
    pub(crate) fn recorded_output(&self, path: &Path) -> Result<Option<Output>> {
        let Some(project) = self.project_of(path) else {
            return Ok(None);
        };
        let repo = Repo::discover(project)?;
        let outputs = repo.outputs()?;
        let recorded = outputs
            .iter()
            .find_map(|pointer| (pointer.outs.iter()).find(|out| pointer.out_path(out) == path));
        Ok(recorded.cloned())
    }

    /// The nearest folder above `path` (in the clone) with a `.dvc`: a repository may hold
    /// several projects (`dvc init --subdir`).
    fn project_of<'a>(&self, path: &'a Path) -> Option<&'a Path> {
        path.ancestors()
            .take_while(|folder| folder.starts_with(&self.clone))
            .find(|folder| folder.join(".dvc").is_dir())
    }

    /// Points the cache of the project at `project` (in the clone) at `cache`; where the
    /// source is a local folder, reads the project's cache there first and then the remote
    /// its own configuration names (relative URLs resolved there, its credentials kept),
    /// as DVC does. Returns the remotes to try, in order (`None`: the default).
    fn configure(&self, project: &Path, cache: &Path) -> Result<Vec<Option<String>>> {
        let mut config = DvcConfig::load(&project.join(".dvc"))?;
        let cache = cache.to_string_lossy();
        config.set_option(Level::Local, &OptionName::parse("cache.dir")?, Some(&cache))?;
        // Links into a cache that may be deleted next would leave nothing behind.
        let types = OptionName::parse("cache.type")?;
        config.set_option(Level::Local, &types, Some("reflink,copy"))?;
        let mut places = Vec::new();
        let within = project.strip_prefix(&self.clone).unwrap_or(Path::new(""));
        let local = Path::new(&self.url).join(within);
        if local.join(".dvc").is_dir() {
            let source = Repo::discover(&local)?;
            let source_cache = source.cache().root().to_string_lossy();
            config.replace_remote(Level::Local, SOURCE_CACHE, &source_cache, false)?;
            places.push(Some(SOURCE_CACHE.to_owned()));
            if let Some(name) = source.config().default_remote() {
                let remote = source.config().remote(name)?;
                let url = match is_url(&remote.url) {
                    true => remote.url.clone(),
                    false => (source.config().dir().join(&remote.url))
                        .to_string_lossy()
                        .into_owned(),
                };
                config.replace_remote(Level::Local, name, &url, true)?;
                for (key, value) in &remote.options {
                    config.modify_remote(Level::Local, name, key, Some(value))?;
                }
            }
        }
        if config.default_remote().is_some() {
            places.push(None);
        }
        Ok(places)
    }
}

/// A path of a source repository, copied out of it with its data into a temporary folder
/// (beside where it goes), ready to be renamed into place whole.
pub(crate) struct SourceCopy<'a> {
    /// The clone, whose temporary folder holds the copy.
    source: &'a Source,
    /// The copy.
    pub data: PathBuf,
    /// The downloads, one per place objects were looked for (none for a path only git
    /// tracks).
    pub fetched: Vec<TransferReport>,
}

impl<'a> SourceCopy<'a> {
    /// Copies the path `parts` out of `source`, the clone of the repository at `url`;
    /// DVC's own files are left out of a folder.
    pub(crate) fn of(
        source: &'a Source,
        url: &str,
        parts: &[String],
        jobs: Option<usize>,
        progress: &dyn Progress,
    ) -> Result<SourceCopy<'a>> {
        let not_in_source = || Error::NotInSource {
            path: parts.join("/"),
            url: url.to_owned(),
        };
        let data = source.path(&parts.join("/"));
        refuse_links(&source.path(""), &data, &not_in_source)?;
        let cache = source.scratch("cache");
        let fetched = match source.fetch(&data, &cache, jobs, progress)? {
            Some(fetched) => check_out(url, fetched, progress)?,
            None => Vec::new(),
        };
        if !fsutil::exists(&data) {
            return Err(not_in_source());
        }
        // Checked out as copies (see `configure`), the data no longer needs the objects:
        // the disk need not hold them beside the copy and what is made of it next.
        if fsutil::exists(&cache) {
            fs::remove_dir_all(&cache).map_err(Error::io("remove", &cache))?;
        }
        remove_dvc_files(&data)?;
        Ok(SourceCopy {
            source,
            data,
            fetched,
        })
    }

    /// Renames the copy to `out`, replacing what is there; what `out` held goes back if
    /// the rename fails.
    pub(crate) fn place(&self, out: &Path) -> Result<()> {
        place(&self.data, out, &self.source.scratch("replaced"))
    }
}

/// The parts of `path`, a path in the repository at `url` from its root; `.` parts
/// dropped, and refused when it names no file or folder below the root.
pub(crate) fn source_parts(url: &str, path: &str) -> Result<Vec<String>> {
    let not_in_source = || Error::NotInSource {
        path: path.to_owned(),
        url: url.to_owned(),
    };
    // `/data` names `data` from the root too, as in DVC.
    let parts: Vec<String> = (Path::new(path).components())
        .filter(|part| !matches!(part, Component::CurDir | Component::RootDir))
        .map(|part| match part {
            Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Option<_>>()
        .ok_or_else(not_in_source)?;
    match parts.is_empty() {
        true => Err(not_in_source()),
        false => Ok(parts),
    }
}

/// Renames `source` to `out`; what `out` held goes to `replaced` first, and back if the
/// rename fails.
pub(crate) fn place(source: &Path, out: &Path, replaced: &Path) -> Result<()> {
    scratch::moving(|| {
        let replacing = fsutil::exists(out);
        if replacing {
            fs::rename(out, replaced).map_err(Error::io("move", out))?;
        }
        fs::rename(source, out)
            .map_err(Error::io("move", source))
            .inspect_err(|_| {
                if replacing {
                    let _ = fs::rename(replaced, out);
                }
            })
    })
}

/// Whether a file of this name is a pointer or a pipeline.
pub(crate) fn names_dvc_file(name: &str) -> bool {
    name.ends_with(&format!(".{POINTER_EXT}")) || name == STAGES_FILE
}

/// Refuses a path whose folders, below `root`, include a symbolic link: git checks links
/// out as they were committed, and one could point anywhere on this machine.
fn refuse_links(root: &Path, data: &Path, not_in_source: &dyn Fn() -> Error) -> Result<()> {
    let folders = data
        .ancestors()
        .skip(1)
        .take_while(|folder| *folder != root);
    for folder in folders {
        if fs::symlink_metadata(folder).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Err(not_in_source());
        }
    }
    Ok(())
}

/// Deletes, in the clone, what inside the folder `source` DVC reads as its own (pointers,
/// pipelines, ignore rules, a project's `.dvc` folder): its `get` leaves them out, and so
/// does this one.
fn remove_dvc_files(source: &Path) -> Result<()> {
    if !fs::symlink_metadata(source).is_ok_and(|meta| meta.is_dir()) {
        return Ok(());
    }
    let mut walk = walkdir::WalkDir::new(source).min_depth(1).into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| Error::io("list", source)(e.into()))?;
        if entry.file_type().is_dir() && entry.file_name() == ".dvc" {
            walk.skip_current_dir();
            fs::remove_dir_all(entry.path()).map_err(Error::io("remove", entry.path()))?;
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && (names_dvc_file(&name) || name == dvcignore::FILE_NAME) {
            fsutil::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Checks out what was fetched, in the clone; returns the fetch reports.
fn check_out(url: &str, fetched: Fetched, progress: &dyn Progress) -> Result<Vec<TransferReport>> {
    let Fetched {
        repo,
        targets,
        reports,
    } = fetched;
    checkout::checkout(&repo, &targets, CheckoutOptions::default(), progress).map_err(|error| {
        match error {
            Error::MissingObjects { count, first } => Error::MissingInSource {
                url: url.to_owned(),
                count,
                first,
            },
            error => error,
        }
    })?;
    Ok(reports)
}

/// The outputs to fetch for `path`: the output it names (or lies in), or else every
/// output inside it (a folder holding `.dvc` files); none for what only git tracks.
fn outputs_for(repo: &Repo, path: &Path) -> Result<Vec<PathBuf>> {
    match super::select_outputs(repo, &[path.to_owned()]) {
        Ok(_) => Ok(vec![path.to_owned()]),
        Err(Error::NotTracked { .. }) => Ok((repo.outputs()?.iter())
            .flat_map(|pointer| pointer.out_paths().collect::<Vec<_>>())
            .filter(|output| output.starts_with(path))
            .collect()),
        Err(error) => Err(error),
    }
}
