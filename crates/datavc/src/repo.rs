//! A repository: the folder holding `.dvc/`, its configuration, cache, state database,
//! ignore rules and pointer files.

use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::config::{DvcConfig, Settings};
use crate::dvcignore::{DvcIgnore, FolderRules};
use crate::error::{Error, Result};
use crate::fsutil::{self, write_atomic};
use crate::hash::HashAlgo;
use crate::link::LinkType;
use crate::lock::{LockMode, RepoLock};
use crate::pointer::{POINTER_EXT, Pointer};
use crate::stages::{self, Pipeline};
use crate::state::StateDb;

/// What `dvc init` writes into `.dvcignore`, so both tools create the same repository.
const DVCIGNORE: &str = "# Add patterns of files dvc should ignore, which could improve\n# the performance. Learn more at\n# https://dvc.org/doc/user-guide/dvcignore\n";
/// What `dvc init` writes into `.dvc/.gitignore`.
const DVC_GITIGNORE: &str = "/config.local\n/tmp\n/cache\n";

/// The files in a workspace that record outputs.
#[derive(Default)]
struct TrackingFiles {
    /// Pointer files (`.dvc`).
    pointers: Vec<PathBuf>,
    /// Pipeline files (`dvc.yaml`).
    pipelines: Vec<PathBuf>,
}

/// An open repository.
pub struct Repo {
    root: PathBuf,
    dvc_dir: PathBuf,
    settings: Settings,
    algo: HashAlgo,
    config: DvcConfig,
    cache: Cache,
    ignore: DvcIgnore,
    reflinks: std::sync::OnceLock<bool>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("root", &self.root)
            .field("algo", &self.algo)
            .finish()
    }
}

impl Repo {
    /// Creates a repository at `root` hashing new data with `algo`.
    pub fn init(root: &Path, algo: HashAlgo) -> Result<Repo> {
        let root = absolute(root)?;
        let dvc_dir = root.join(".dvc");
        if dvc_dir.exists() {
            return Err(Error::AlreadyInitialised { root });
        }
        fsutil::create_dir_all(&dvc_dir)?;
        write_atomic(&dvc_dir.join("config"), b"")?;
        write_atomic(&dvc_dir.join(".gitignore"), DVC_GITIGNORE.as_bytes())?;
        Settings::new(algo).save(&dvc_dir.join("datavc.toml"))?;
        if !root.join(".dvcignore").exists() {
            write_atomic(&root.join(".dvcignore"), DVCIGNORE.as_bytes())?;
        }
        Repo::open(&root)
    }

    /// Opens the repository containing `start` (searching upwards).
    pub fn discover(start: &Path) -> Result<Repo> {
        let start = absolute(start)?;
        let root = start
            .ancestors()
            .find(|dir| dir.join(".dvc").is_dir())
            .ok_or_else(|| Error::NotARepository {
                start: start.clone(),
            })?;
        Repo::open(root)
    }

    fn open(root: &Path) -> Result<Repo> {
        let dvc_dir = root.join(".dvc");
        let settings_path = dvc_dir.join("datavc.toml");
        let settings = Settings::load(&settings_path)?;
        let algo = settings.algo(&settings_path)?;
        let config = DvcConfig::load(&dvc_dir)?;
        let cache_dir = config.cache_dir().unwrap_or_else(|| dvc_dir.join("cache"));
        let cache = Cache::new(cache_dir, settings.durable);
        let ignore = DvcIgnore::new(root)?;
        Ok(Repo {
            root: root.to_owned(),
            dvc_dir,
            settings,
            algo,
            config,
            cache,
            ignore,
            reflinks: std::sync::OnceLock::new(),
        })
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The hash new data gets.
    pub fn algo(&self) -> HashAlgo {
        self.algo
    }

    /// datavc's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// DVC's configuration.
    pub fn config(&self) -> &DvcConfig {
        &self.config
    }

    /// DVC's configuration, to change it.
    pub fn config_mut(&mut self) -> &mut DvcConfig {
        &mut self.config
    }

    /// The cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// How outputs are linked from the cache: `cache.type`, without `reflink` when this
    /// filesystem cannot clone (probed once, so each file does not pay for a failed try).
    pub fn link_types(&self) -> Result<Vec<LinkType>> {
        let mut types = self.config.link_types()?;
        if types.len() > 1
            && types.contains(&LinkType::Reflink)
            && !*self.reflinks.get_or_init(|| self.probe_reflink())
        {
            types.retain(|t| *t != LinkType::Reflink);
        }
        Ok(types)
    }

    fn probe_reflink(&self) -> bool {
        let Ok(staged) = self.cache.staging_path() else {
            return false;
        };
        let probe = fsutil::temp_beside(&self.root.join("reflink-probe"));
        let cloned = std::fs::write(&staged, b"probe").is_ok()
            && reflink_copy::reflink(&staged, &probe).is_ok();
        let _ = std::fs::remove_file(&staged);
        let _ = std::fs::remove_file(&probe);
        cloned
    }

    /// Opens the state database, loading the hashes recorded with this repository's algorithm.
    pub fn state(&self) -> Result<StateDb> {
        let path = self.dvc_dir.join("tmp").join("datavc-state.db");
        StateDb::open(&path, self.algo())
    }

    /// Takes the repository lock.
    pub fn lock(&self, mode: LockMode) -> Result<RepoLock> {
        let lock = RepoLock::acquire(&self.dvc_dir.join("tmp").join("datavc.lock"), mode)?;
        if mode == LockMode::Write {
            self.cache.sweep_staging()?;
        }
        Ok(lock)
    }

    /// `path` relative to the root, `/`-separated; errors if it lies outside.
    pub fn relpath(&self, path: &Path) -> Result<String> {
        let absolute = absolute(path)?;
        fsutil::relative_slash(&absolute, &self.root).ok_or_else(|| Error::OutsideRepository {
            path: path.to_owned(),
            root: self.root.clone(),
        })
    }

    /// Whether a `.dvcignore` (the root's, or one in a folder above the path) excludes
    /// this root-relative path.
    pub fn is_ignored(&self, relpath: &str, is_dir: bool) -> Result<bool> {
        self.ignore.is_ignored(relpath, is_dir)
    }

    /// What `.dvcignore` files exclude among the entries of `folder` (root-relative,
    /// `/`-separated), for a walk that skips ignored folders.
    pub fn ignore_rules_in(&self, folder: &str) -> Result<FolderRules> {
        self.ignore.rules_in(folder)
    }

    /// Every pointer file in the workspace, sorted; tracked folders are not descended.
    pub fn pointers(&self) -> Result<Vec<Pointer>> {
        Pointer::load_all(&self.tracking_files()?.pointers)
    }

    /// The pointer files and pipelines (`dvc.yaml`) below `folder`, pointer files first.
    pub fn tracking_files_below(&self, folder: &Path) -> Result<Vec<PathBuf>> {
        let TrackingFiles {
            pointers,
            pipelines,
        } = self.tracking_files()?;
        let below = pointers.into_iter().chain(pipelines);
        Ok(below.filter(|file| file.starts_with(folder)).collect())
    }

    /// Every output the workspace records: its pointer files' and then its pipeline
    /// stages' ([`stages`]), which commands that only read pointers use as DVC's do.
    pub fn outputs(&self) -> Result<Vec<Pointer>> {
        let files = self.tracking_files()?;
        let mut outputs = Pointer::load_all(&files.pointers)?;
        for pipeline in self.load_pipelines(&files.pipelines)? {
            outputs.extend(pipeline.outputs);
        }
        Ok(outputs)
    }

    /// The workspace's pipelines: each `dvc.yaml` with its `dvc.lock`.
    pub fn pipelines(&self) -> Result<Vec<Pipeline>> {
        self.load_pipelines(&self.tracking_files()?.pipelines)
    }

    fn load_pipelines(&self, stages_files: &[PathBuf]) -> Result<Vec<Pipeline>> {
        (stages_files.iter())
            .map(|file| stages::load(&self.root, file))
            .collect()
    }

    fn tracking_files(&self) -> Result<TrackingFiles> {
        let mut found = TrackingFiles::default();
        self.find_tracking_files(&self.root, &mut found)?;
        found.pointers.sort();
        found.pipelines.sort();
        Ok(found)
    }

    fn find_tracking_files(&self, dir: &Path, found: &mut TrackingFiles) -> Result<()> {
        let mut subdirs = Vec::new();
        let mut outputs = Vec::new();
        let rules =
            self.ignore_rules_in(&fsutil::relative_slash(dir, &self.root).unwrap_or_default())?;
        for entry in std::fs::read_dir(dir).map_err(Error::io("list", dir))? {
            let entry = entry.map_err(Error::io("list", dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry
                .file_type()
                .map_err(Error::io("stat", &path))?
                .is_dir();
            // A temporary folder may hold a whole clone of another repository (`get`,
            // `import`), whose pointers are not this repository's.
            if matches!(name.as_str(), ".dvc" | ".git")
                || fsutil::is_temp_name(&name)
                || rules.exclude(&name, is_dir)
            {
                continue;
            }
            if is_dir {
                subdirs.push((name, path));
            } else if let Some(stem) = name.strip_suffix(&format!(".{POINTER_EXT}")) {
                outputs.push(stem.to_owned());
                found.pointers.push(path);
            } else if name == stages::STAGES_FILE {
                found.pipelines.push(path);
            }
        }
        for (name, path) in subdirs {
            if !outputs.contains(&name) {
                self.find_tracking_files(&path, found)?;
            }
        }
        Ok(())
    }

    /// The pointer file that tracks `path`, if one does: `path.dvc` beside it.
    pub fn pointer_path(path: &Path) -> PathBuf {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".{POINTER_EXT}"));
        path.with_file_name(name)
    }
}

/// Makes `path` absolute and lexically clean (no `.` or `..`), without resolving links.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    let joined = std::path::absolute(path).map_err(Error::io("resolve", path))?;
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    Ok(clean)
}

/// `relpath`, `/`-separated below `root`, as seen from the working folder: what a command
/// typed there must name.
pub fn from_here(root: &Path, relpath: &str) -> String {
    let absolute = fsutil::join_slash(root, relpath);
    let here = std::env::current_dir().ok();
    match here.and_then(|cwd| pathdiff::diff_paths(&absolute, cwd)) {
        Some(relative) => relative.to_string_lossy().replace('\\', "/"),
        None => relpath.to_owned(),
    }
}
