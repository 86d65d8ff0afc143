//! The one error type of the crate; context (paths, hashes, remotes) lives in fields.

use std::path::PathBuf;

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while versioning data.
///
/// Messages describe this layer only; the cause is reachable through
/// [`std::error::Error::source`], and [`Error::hint`] suggests what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No `.dvc` folder in this directory or any parent.
    #[error("not a datavc repository (no .dvc folder in {} or any parent)", start.display())]
    NotARepository {
        /// Where the search started.
        start: PathBuf,
    },
    /// `init` found an existing repository.
    #[error("{} is already a datavc/DVC repository", root.display())]
    AlreadyInitialised {
        /// The repository root.
        root: PathBuf,
    },
    /// A file or folder could not be read or written.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done ("read", "write", "hash", …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A path given on the command line lies outside the repository.
    #[error("{} is outside the repository {}", path.display(), root.display())]
    OutsideRepository {
        /// The offending path.
        path: PathBuf,
        /// The repository root.
        root: PathBuf,
    },
    /// A path that cannot be tracked (the `.dvc` or `.git` folder, a pointer file, the root).
    #[error("{} cannot be tracked: {reason}", path.display())]
    Untrackable {
        /// The offending path.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// A path `add` was given that git tracks.
    #[error("{path} is tracked by git, which would keep its data")]
    TrackedByGit {
        /// The path, relative to the working folder.
        path: String,
    },
    /// A path `add` was given whose pointer file git would ignore.
    #[error("{pointer} would be ignored by git, so it could never be committed")]
    PointerIgnored {
        /// The pointer file, relative to the working folder.
        pointer: String,
    },
    /// An output `move` cannot move, or not there.
    #[error("cannot move {}: {reason}", path.display())]
    Unmovable {
        /// The output.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A target that no pointer file (and, where asked, no pipeline stage) tracks.
    #[error("{} is not tracked: no .dvc file beside it{}", path.display(), if *stages { ", and no pipeline stage's output" } else { "" })]
    NotTracked {
        /// The target.
        path: PathBuf,
        /// Whether pipeline stages' outputs were looked at too.
        stages: bool,
    },
    /// A path that is neither a file nor a folder, or does not exist.
    #[error("{} does not exist", path.display())]
    NoSuchPath {
        /// The missing path.
        path: PathBuf,
    },
    /// A pointer file (`.dvc`), or a pipeline's `dvc.yaml` or `dvc.lock`, that is not valid
    /// YAML or lacks what an output needs.
    #[error("{} is not a valid DVC file: {detail}", path.display())]
    BadPointer {
        /// The pointer file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A `dvc.yaml` stage (or its top-level `vars`) whose `${…}` templates datavc cannot
    /// resolve.
    #[error("{}: cannot resolve `{stage}`: {detail}", path.display())]
    StageTemplate {
        /// The `dvc.yaml`.
        path: PathBuf,
        /// The stage (or `vars`).
        stage: String,
        /// What failed.
        detail: String,
    },
    /// A directory manifest (`.dir` object) that is not the JSON list DVC writes.
    #[error("directory manifest {oid} is corrupt: {detail}")]
    BadManifest {
        /// The manifest's object id.
        oid: String,
        /// What is wrong.
        detail: String,
    },
    /// A `.dvcignore` inside a tracked folder, which DVC refuses to track.
    #[error("{} lies inside the tracked folder {}, which DVC does not allow", path.display(), output.display())]
    IgnoreFileInOutput {
        /// The `.dvcignore` file.
        path: PathBuf,
        /// The tracked folder.
        output: PathBuf,
    },
    /// A configuration file that cannot be parsed or holds a bad value.
    #[error("bad configuration in {}: {detail}", path.display())]
    BadConfig {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A config option name that `config` cannot parse.
    #[error("`{name}` is not a config option name: {reason}")]
    BadOptionName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A config option that datavc does not read, and so will not write.
    #[error("datavc does not set `{name}`; it sets {supported}")]
    UnsupportedOption {
        /// The option.
        name: String,
        /// The options it does set there.
        supported: String,
    },
    /// A config option asked for or unset that no file sets.
    #[error("`{name}` is not set")]
    OptionNotSet {
        /// The option.
        name: String,
    },
    /// A remote name that is not configured.
    #[error("no remote named `{name}`")]
    NoSuchRemote {
        /// The name asked for.
        name: String,
    },
    /// A remote that already exists (for `remote add`).
    #[error("remote `{name}` already exists")]
    RemoteExists {
        /// The name.
        name: String,
    },
    /// A remote removed or renamed in config files that do not define it.
    #[error("remote `{name}` is not in the {asked} config; it is in the {found} config")]
    RemoteElsewhere {
        /// The name.
        name: String,
        /// The files asked about (`project and local`, `global`, …).
        asked: String,
        /// The level whose definition wins.
        found: crate::config::Level,
        /// The command that would change it there.
        retry: String,
    },
    /// A user-wide or machine-wide config file asked for where its folder is unknown.
    #[error("cannot find the folder of DVC's {level} config")]
    NoConfigFolder {
        /// The level.
        level: crate::config::Level,
    },
    /// No remote given and no default configured.
    #[error("no remote given and no default remote configured")]
    NoDefaultRemote,
    /// A remote URL that cannot be used.
    #[error("cannot use remote URL `{url}`: {detail}")]
    BadRemoteUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// A remote whose bucket (or container) does not exist.
    #[error("remote `{remote}`: bucket `{bucket}` does not exist")]
    NoSuchBucket {
        /// The remote's name.
        remote: String,
        /// The bucket named by its URL.
        bucket: String,
    },
    /// The object store refused or failed an operation.
    #[error("remote `{remote}`: cannot {action} {key}")]
    Remote {
        /// The remote's name.
        remote: String,
        /// "upload", "download", "list", …
        action: &'static str,
        /// The object key.
        key: String,
        /// Why (boxed: object-store errors are large).
        #[source]
        source: Box<object_store::Error>,
    },
    /// An object whose bytes do not match its hash.
    #[error("object {expected} from {origin} is corrupt: its content hashes to {actual}")]
    Corrupt {
        /// Where it came from ("the cache", "remote `x`").
        origin: String,
        /// The id it should have.
        expected: String,
        /// The id its bytes have.
        actual: String,
    },
    /// A folder whose manifest neither side has, so `gc --cloud` cannot tell which objects
    /// it needs.
    #[error(
        "cannot tell which objects {path} needs: its manifest {oid} is in neither the cache nor remote `{remote}`; nothing was deleted"
    )]
    UnknownFolder {
        /// The folder, relative to the root.
        path: String,
        /// Its manifest's id.
        oid: String,
        /// The remote asked.
        remote: String,
    },
    /// A remote that cannot list its objects, which `gc --cloud` must see.
    #[error(
        "remote `{remote}` cannot list its objects (a plain HTTP server), which `gc --cloud` needs"
    )]
    CannotList {
        /// The remote.
        remote: String,
    },
    /// Objects that are needed but in neither the cache nor (where asked) the remote.
    #[error("{} object(s) missing from the cache, first {first}", count)]
    MissingObjects {
        /// How many.
        count: usize,
        /// The first one, as `path (oid)`.
        first: String,
    },
    /// Cached pipeline outputs that `dvc.lock` has no hash for, so nothing can restore them.
    #[error("{count} pipeline output(s) have no hash in dvc.lock, first {first} (stage `{stage}`)")]
    Unrecorded {
        /// How many.
        count: usize,
        /// The first, relative to the root.
        first: String,
        /// Its stage, as `dvc repro` takes it (`NAME`, or `sub/dvc.yaml:NAME`).
        stage: String,
    },
    /// Objects `pull` needs that the remote lacks too, so fetching cannot help.
    #[error("{count} object(s) missing from the cache and from remote `{remote}`, first {first}")]
    MissingOnRemote {
        /// The remote's name.
        remote: String,
        /// How many.
        count: usize,
        /// The first one, as `path (oid)`.
        first: String,
    },
    /// `checkout` would overwrite data that exists nowhere else.
    #[error("checkout would overwrite {} modified path(s) not saved in the cache, first {}", paths.len(), paths[0].display())]
    WouldOverwrite {
        /// The paths whose current content would be lost.
        paths: Vec<PathBuf>,
    },
    /// `remove --outs` would delete data that exists nowhere else.
    #[error("remove would delete {} path(s) whose content is not in the cache, first {}", paths.len(), paths[0].display())]
    WouldDelete {
        /// The paths whose current content would be lost.
        paths: Vec<PathBuf>,
    },
    /// Another process holds the repository lock.
    #[error("the repository is locked by {holder}")]
    Locked {
        /// Who holds it, as the lock file says (`pid N on HOST`).
        holder: String,
    },
    /// The state database failed.
    #[error("state database {}", path.display())]
    State {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// A git command needed for `diff` or `gc --all-*` failed.
    #[error("git {args} failed: {detail}")]
    Git {
        /// The arguments.
        args: String,
        /// stderr or the spawn error.
        detail: String,
    },
    /// A pointer or pipeline file, as a commit holds it, that cannot be read.
    #[error("in revision `{rev}`: {source}")]
    AtRevision {
        /// The revision as given.
        rev: String,
        /// What is wrong with the committed file.
        #[source]
        source: Box<Error>,
    },
    /// A target inside a tracked folder that the folder's recorded files do not include.
    #[error("{path} is not in tracked folder {folder}: its recorded files do not include it")]
    NotInFolder {
        /// The target, as shown.
        path: String,
        /// The tracked folder, as shown.
        folder: String,
    },
    /// A revision git cannot resolve to a commit.
    #[error("unknown git revision `{rev}`")]
    UnknownRevision {
        /// The revision as given.
        rev: String,
    },
    /// The program was interrupted ([`crate::scratch::interrupt`]).
    #[error("interrupted")]
    Interrupted,
    /// A path `get` was asked for that the source repository does not hold.
    #[error("{path} is not in {url}: neither git nor DVC tracks it there")]
    NotInSource {
        /// The path, as given.
        path: String,
        /// The repository, as given.
        url: String,
    },
    /// Objects `get` needs that neither the source's cache nor its remote holds.
    #[error(
        "{count} object(s) missing from the cache and the default remote of {url}, first {first}"
    )]
    MissingInSource {
        /// The repository, as given.
        url: String,
        /// How many.
        count: usize,
        /// The first (`path (oid)`).
        first: String,
    },
    /// A `get` destination named as DVC names its own files.
    #[error("{} is named like a DVC file (`.dvc`, `dvc.yaml`), not data", path.display())]
    DvcFileName {
        /// The destination.
        path: PathBuf,
    },
    /// An import's path that its source no longer holds at the revision followed.
    #[error("{path} is no longer in {url} at {rev}")]
    GoneFromSource {
        /// The path in the source.
        path: String,
        /// The source, as recorded.
        url: String,
        /// The commit looked at.
        rev: String,
    },
    /// `update` named a pointer that `import` did not write.
    #[error("{} does not record an import; `update` refreshes only what `import` brought", pointer.display())]
    NotImport {
        /// The pointer file.
        pointer: PathBuf,
    },
    /// A destination that already holds something.
    #[error("{} already exists", path.display())]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// `install` outside a git work tree.
    #[error("{} is not in a git work tree, so it has no git hooks", root.display())]
    NoGit {
        /// The repository root.
        root: PathBuf,
    },
    /// `install` found a hook that datavc did not write.
    #[error("{} exists and was not written by datavc", path.display())]
    ForeignHook {
        /// The hook file.
        path: PathBuf,
        /// Git's name for the hook.
        hook: &'static str,
    },
    /// A pointer file names a hash algorithm this build does not know.
    #[error("unknown hash `{name}` in {}", path.display())]
    UnknownHash {
        /// The name found.
        name: String,
        /// Where.
        path: PathBuf,
    },
}

impl Error {
    /// The exit code: 2 for bad input or usage, 1 for a failed operation on good input.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::AtRevision { source, .. } => source.exit_code(),
            Error::Io { .. }
            | Error::Remote { .. }
            | Error::NoSuchBucket { .. }
            | Error::Corrupt { .. }
            | Error::MissingObjects { .. }
            | Error::Unrecorded { .. }
            | Error::MissingOnRemote { .. }
            | Error::MissingInSource { .. }
            | Error::GoneFromSource { .. }
            | Error::UnknownFolder { .. }
            | Error::WouldOverwrite { .. }
            | Error::WouldDelete { .. }
            | Error::ForeignHook { .. }
            | Error::Locked { .. }
            | Error::State { .. }
            | Error::Git { .. }
            | Error::UnknownRevision { .. }
            | Error::OptionNotSet { .. }
            | Error::Interrupted => 1,
            _ => 2,
        }
    }

    /// What the user can do about it, where there is something to say.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::NotARepository { .. } => "run `datavc init` at the project root".into(),
            Error::NoDefaultRemote => {
                "pass `-r NAME`, or set one with `datavc remote add -d NAME URL`".into()
            }
            Error::UnsupportedOption { .. } => {
                "DVC's `dvc config` and `dvc remote modify` set DVC's other options".into()
            }
            Error::NoSuchRemote { .. } => {
                "`datavc remote list` shows the configured remotes".into()
            }
            Error::RemoteExists { name } => {
                format!(
                    "`datavc remote add --force {name} URL` replaces it; `datavc remote remove {name}` frees the name"
                )
            }
            Error::RemoteElsewhere { retry, .. } => format!("`{retry}` changes it there"),
            Error::NoConfigFolder { level } => format!(
                "set {} to the folder that should hold it",
                level.folder_variable().unwrap_or_default()
            ),
            Error::MissingObjects { .. } => "run `datavc fetch` (or `datavc pull`) first".into(),
            Error::Unrecorded { stage, .. } => format!(
                "the stage has not run here, or its dvc.lock was not committed: `dvc repro {stage}` runs it, or commit the dvc.lock where it ran"
            ),
            Error::MissingOnRemote { .. } => {
                "`datavc push` them from a repository whose cache has them, or check the remote's URL"
                    .into()
            }
            Error::IgnoreFileInOutput { .. } => {
                "move its patterns into a .dvcignore above the tracked folder; patterns are relative to the folder holding the file"
                    .into()
            }
            Error::Remote {
                action: "upload", ..
            } => "check that the remote takes writes: a bucket needs write permission, an HTTP remote a server that accepts PUT (such as WebDAV)"
                .into(),
            Error::NoSuchBucket { remote, .. } => format!(
                "create the bucket, or point the remote elsewhere with `datavc remote modify {remote} url URL`"
            ),
            Error::WouldOverwrite { .. } => {
                "`datavc add` the new content first (`dvc commit`, for a pipeline's output), or pass `--force` to discard it".into()
            }
            Error::WouldDelete { .. } => {
                "`datavc commit` saves the new content first; `--force` deletes it anyway".into()
            }
            Error::Locked { .. } => "wait for the other datavc command to finish".into(),
            Error::NoGit { .. } => "run `git init` first".into(),
            Error::ForeignHook { hook, .. } => format!(
                "`datavc install --force` keeps it as {hook}.datavc-chained and runs it first; or call `datavc git-hook {hook} \"$@\"` from it"
            ),
            Error::UnknownFolder { .. } => {
                "`datavc push` the folder from a clone whose cache has it, or keep fewer commits (drop -a, -T or -A)"
                    .into()
            }
            Error::Corrupt { .. } => {
                "run `datavc fsck` to list corrupt objects; delete them and `datavc fetch` again"
                    .into()
            }
            Error::AtRevision { rev, .. } => format!(
                "that is the file as `{rev}` holds it, not as the workspace does; the workspace's copy is left alone"
            ),
            Error::NotInFolder { .. } => {
                "`datavc ls --files` lists the files of tracked folders".into()
            }
            Error::UnknownRevision { .. } => {
                "name a branch, tag or commit; `git log --oneline` lists the commits".into()
            }
            Error::TrackedByGit { path } => format!(
                "stop git tracking it with `git rm -r --cached {}` (the files stay) and commit, then add it",
                crate::git::shell_word(path)
            ),
            Error::PointerIgnored { .. } => {
                "add the ignored folder above it as a whole, or un-ignore .dvc files there (a `!*.dvc` line in its .gitignore)".into()
            }
            Error::NotTracked { .. } => {
                "`datavc ls` lists the tracked outputs; name an output, or its .dvc file".into()
            }
            Error::StageTemplate { .. } => {
                "datavc resolves `${…}` from params.yaml, `vars` files (YAML, JSON, TOML) and mappings, and foreach or matrix items; `dvc repro --dry` shows how DVC resolves it"
                    .into()
            }
            Error::NotInSource { .. } => {
                "name the path from that repository's root; `git ls-files` and `datavc ls` there list what it holds".into()
            }
            Error::MissingInSource { .. } => {
                "push the data from a clone of that repository whose cache has it (`datavc push` or `dvc push`)".into()
            }
            Error::DvcFileName { .. } => {
                "name the data a `.dvc` file tracks, not the file; `-o PATH` names another destination".into()
            }
            Error::GoneFromSource { .. } => {
                "`update --rev REV TARGET` follows a revision that has it; `datavc remove TARGET` stops tracking it, keeping the data".into()
            }
            Error::NotImport { .. } => {
                "`datavc add` records new content of data you track yourself".into()
            }
            Error::Exists { .. } => {
                "pass `--force` to replace it, or `-o PATH` to put the data elsewhere".into()
            }
            Error::BadPointer { .. } => {
                "fix the file by hand, or restore it with `git checkout -- FILE`".into()
            }
            _ => return None,
        })
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}
