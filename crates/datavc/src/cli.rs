//! The command line: flags are declared here and each command calls one library function.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use datavc::config::{DvcConfig, Level, OptionName};
use datavc::git::RevScope;
use datavc::ops::checkout::{CheckoutOptions, Missing, Overwrite};
use datavc::ops::gc::GcOptions;
use datavc::ops::get::CopyOptions;
use datavc::ops::import::UpdateOptions;
use datavc::ops::install::{Hook, HookAction};
use datavc::ops::list::ListOptions;
use datavc::ops::transfer::TransferOptions;
use datavc::progress::{Progress, Silent};
use datavc::{HashAlgo, Repo, ops};
use spokes_cli::ColorChoice;

use crate::print::{DiffStyle, Printer};
use crate::progress_bar::Bar;

/// Version data and model weights outside git, DVC-compatible.
#[derive(Parser)]
#[command(name = "datavc", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print the report as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Print nothing; for `status`, exit 1 when anything changed.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Show error details.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Colour in error messages.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

impl Cli {
    /// Parses the arguments, with the checks clap cannot declare; exits on bad ones.
    pub fn parse_checked() -> Cli {
        let cli = Cli::parse();
        if let Command::Status {
            cloud: false,
            remote: None,
            revs,
            ..
        } = &cli.command
            && revs.scope().any()
        {
            let message = "--all-branches, --all-tags and --all-commits need --cloud or --remote";
            Cli::command()
                .error(clap::error::ErrorKind::MissingRequiredArgument, message)
                .exit();
        }
        cli
    }
}

#[derive(Subcommand)]
enum Command {
    /// Make this folder a datavc repository (DVC-compatible layout).
    Init {
        /// `blake3` (fast; datavc only) or `md5` (DVC can read the repository too).
        #[arg(long, value_enum, default_value_t = Hash::Blake3)]
        hash: Hash,
    },
    /// Track files or folders: store them in the cache, write PATH.dvc, git-ignore PATH.
    Add {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Show how the workspace (or, with --cloud, the remote) differs from the pointers.
    Status {
        /// Pointer files, tracked paths or stages (`dvc.yaml:NAME`) (default: all).
        targets: Vec<PathBuf>,
        /// Targets that are folders stand for the pointer files and `dvc.yaml` below them.
        #[arg(short = 'R', long)]
        recursive: bool,
        /// Compare the cache with the remote instead.
        #[arg(short, long)]
        cloud: bool,
        /// Compare the cache with this remote (implies --cloud; default: core.remote).
        #[arg(short, long)]
        remote: Option<String>,
        /// With --cloud, also the objects of these revisions.
        #[command(flatten)]
        revs: RevArgs,
    },
    /// Record the current content of tracked outputs.
    Commit {
        /// Pointer files or tracked paths (default: all).
        targets: Vec<PathBuf>,
        /// Targets that are folders stand for the pointer files below them.
        #[arg(short = 'R', long)]
        recursive: bool,
        /// Taken for DVC's scripts (`dvc commit -f`): datavc records changed outputs
        /// without asking anyway.
        #[arg(short, long)]
        force: bool,
    },
    /// Make the workspace match the pointers, from the cache.
    Checkout {
        /// Pointer files, tracked paths or stages (`dvc.yaml:NAME`) (default: all).
        targets: Vec<PathBuf>,
        /// Targets that are folders stand for the pointer files and `dvc.yaml` below them.
        #[arg(short = 'R', long)]
        recursive: bool,
        /// Overwrite modified data that is saved nowhere else.
        #[arg(short, long)]
        force: bool,
        /// Leave what the cache lacks as it is, listed, and succeed.
        #[arg(long)]
        allow_missing: bool,
        /// Place again the files already right, as `cache.type` now says (after changing
        /// it: say, to hardlinks, to stop holding two copies).
        #[arg(long)]
        relink: bool,
    },
    /// Configure remotes (in .dvc/config, or the file --local, --global or --system picks).
    Remote {
        #[command(subcommand)]
        command: RemoteCommand,
    },
    /// Show, set or unset an option of DVC's config (.dvc/config unless a flag picks another).
    Config {
        /// `core.remote`, `core.autostage`, `cache.type`, `cache.dir` or `remote.NAME.OPTION`.
        #[arg(required_unless_present = "list")]
        name: Option<String>,
        /// The value to set; without it, the current value is shown.
        value: Option<String>,
        /// Remove the option.
        #[arg(short, long, conflicts_with = "value")]
        unset: bool,
        /// List every option set, credentials masked.
        #[arg(short, long, conflicts_with_all = ["name", "unset"])]
        list: bool,
        #[command(flatten)]
        level: LevelArgs,
    },
    /// Upload the objects the remote lacks.
    Push(Transfer),
    /// Download the objects the cache lacks.
    Fetch(Transfer),
    /// Fetch, then check out.
    Pull {
        #[command(flatten)]
        transfer: Transfer,
        /// Overwrite modified data that is saved nowhere else.
        #[arg(short, long)]
        force: bool,
        /// Leave what the remote lacks as it is, listed, and succeed.
        #[arg(long)]
        allow_missing: bool,
    },
    /// List unused objects in the cache (and with --cloud, on a remote); delete them with --force.
    Gc(GcArgs),
    /// Show which tracked data differ between two commits, or a commit and the workspace.
    Diff {
        /// The first commit (default: HEAD).
        a: Option<String>,
        /// The second commit (default: the workspace).
        b: Option<String>,
        /// Compare only these tracked paths (or paths inside tracked folders).
        #[arg(long, num_args = 1.., value_name = "PATH")]
        targets: Vec<PathBuf>,
        /// Show each entry's hash.
        #[arg(long)]
        show_hash: bool,
        /// Print a Markdown table.
        #[arg(long = "md")]
        markdown: bool,
        /// Leave out what the cache lacks (only reported against the workspace).
        #[arg(long)]
        hide_missing: bool,
    },
    /// List tracked outputs.
    Ls {
        /// Also list the files inside tracked folders.
        #[arg(long)]
        files: bool,
    },
    /// Copy data that another repository tracks (a data registry) here, as `dvc get`.
    Get(CopyArgs),
    /// List what another repository holds at a path, git's files and DVC's outputs, as
    /// `dvc list`.
    List {
        /// The repository: a folder or a git URL.
        url: String,
        /// The path in it, from its root (default: the root).
        path: Option<String>,
        /// List every file below the path.
        #[arg(short = 'R', long)]
        recursive: bool,
        /// List only what DVC tracks.
        #[arg(long)]
        dvc_only: bool,
        /// The branch, tag or commit (default: the default branch).
        #[arg(long)]
        rev: Option<String>,
        /// Show sizes.
        #[arg(long)]
        size: bool,
        /// Show the hash of each output.
        #[arg(long)]
        show_hash: bool,
    },
    /// Copy data that another repository tracks here and track it, recording where it
    /// came from, as `dvc import`; `pull` then fetches it from there.
    Import(CopyArgs),
    /// Bring imported data up to the newest commit of the revision it follows, as
    /// `dvc update`.
    Update {
        /// Pointer files or imported paths (default: every import).
        targets: Vec<PathBuf>,
        /// Follow this branch or tag (or pin this commit) from now on; only for the
        /// imports named.
        #[arg(long, requires = "targets")]
        rev: Option<String>,
        /// Replace data changed here that is saved nowhere else.
        #[arg(short, long)]
        force: bool,
        /// Concurrent downloads (default: 4 × cores).
        #[arg(short, long)]
        jobs: Option<usize>,
    },
    /// Re-hash every cache object and report corrupt ones.
    Fsck,
    /// Stop tracking outputs: delete their .dvc files and .gitignore lines, keep the data.
    Remove {
        /// Pointer files or tracked paths.
        #[arg(required = true)]
        targets: Vec<PathBuf>,
        /// Delete the outputs from the workspace too (the cache keeps them until gc).
        #[arg(long)]
        outs: bool,
        /// With --outs, delete content the cache does not hold.
        #[arg(short, long, requires = "outs")]
        force: bool,
    },
    /// Rename a tracked output, with its .dvc file when named after it (as `dvc move`).
    #[command(alias = "mv")]
    Move {
        /// The tracked output.
        from: PathBuf,
        /// Its new path, or a folder to move it into.
        to: PathBuf,
    },
    /// Replace linked or read-only files by writable copies before editing them.
    Unprotect {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Install git hooks: `checkout` after `git checkout`, `status` before `git commit`,
    /// `push` before `git push` (as `dvc install`).
    Install {
        /// Keep the hooks datavc did not write: each is renamed NAME.datavc-chained and
        /// runs before datavc's.
        #[arg(short, long)]
        force: bool,
    },
    /// What the hooks `install` writes run; git calls them.
    #[command(hide = true)]
    GitHook {
        /// post-checkout, pre-commit or pre-push.
        #[arg(value_parser = hook_named)]
        hook: Hook,
        /// What git passed the hook.
        #[arg(allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn hook_named(name: &str) -> Result<Hook, String> {
    Hook::from_name(name).ok_or_else(|| format!("datavc has no `{name}` hook"))
}

/// A path of another repository and where to copy it, for `get` and `import`.
#[derive(clap::Args)]
struct CopyArgs {
    /// The repository: a folder or a git URL.
    url: String,
    /// The path in it, from its root.
    path: String,
    /// Where to put it (default: the path's last part, in this folder).
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// The branch, tag or commit (default: the default branch); `import` records it for
    /// `update` to follow.
    #[arg(long)]
    rev: Option<String>,
    /// Replace what the destination holds.
    #[arg(short, long)]
    force: bool,
    /// Concurrent downloads (default: 4 × cores).
    #[arg(short, long)]
    jobs: Option<usize>,
}

impl CopyArgs {
    fn options(&self) -> CopyOptions {
        CopyOptions {
            rev: self.rev.clone(),
            out: self.out.clone(),
            force: self.force,
            jobs: self.jobs,
        }
    }
}

#[derive(clap::Args)]
struct Transfer {
    /// Pointer files, tracked paths or stages (`dvc.yaml:NAME`) (default: all).
    targets: Vec<PathBuf>,
    /// Targets that are folders stand for the pointer files and `dvc.yaml` below them.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// The remote (default: core.remote).
    #[arg(short, long)]
    remote: Option<String>,
    /// Concurrent transfers (default: 4 × cores).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Also the objects of these revisions (`pull` checks out only the workspace's).
    #[command(flatten)]
    revs: RevArgs,
}

impl Transfer {
    fn targets(&self, repo: &Repo) -> datavc::Result<Vec<PathBuf>> {
        targets(repo, &self.targets, self.recursive)
    }

    fn options(&self) -> TransferOptions {
        TransferOptions {
            remote: self.remote.clone(),
            jobs: self.jobs,
            scope: self.revs.scope(),
        }
    }
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("uses_remote").args(["cloud", "not_in_remote"])))]
#[command(group(clap::ArgGroup::new("counted").args(["rev", "all_branches"]).multiple(true)))]
struct GcArgs {
    /// Also keep what these revisions reference.
    #[command(flatten)]
    revs: RevArgs,
    /// Keep what the workspace references: always done; accepted for DVC's `gc -w`.
    #[arg(short, long)]
    workspace: bool,
    /// Also keep what this commit references.
    #[arg(long, value_name = "COMMIT")]
    rev: Option<String>,
    /// With --rev or --all-branches: the last N commits of each, along first parents.
    #[arg(short, long, value_name = "N", requires = "counted",
          value_parser = clap::value_parser!(u32).range(1..))]
    num: Option<u32>,
    /// Also keep what the commits made on or after this day (local time) reference.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = start_of_day)]
    date: Option<jiff::Timestamp>,
    /// Delete (default: only list).
    #[arg(short, long)]
    force: bool,
    /// Only list what would be deleted: the default, accepted for DVC's `gc --dry`.
    #[arg(long, conflicts_with = "force")]
    dry: bool,
    /// Also collect on the remote: what other clones pushed that the kept commits do not
    /// reference goes too.
    #[arg(short, long)]
    cloud: bool,
    /// Delete from the cache also what is referenced but on the remote (each output's own
    /// `remote:`, else the default): `pull` brings it back.
    #[arg(long, conflicts_with = "cloud")]
    not_in_remote: bool,
    /// Also keep what these projects reference: those sharing this cache.
    #[arg(short, long, value_name = "PROJECT", num_args = 1..)]
    projects: Vec<PathBuf>,
    /// Skip, naming them, the revisions whose .dvc or dvc.yaml files cannot be read (what
    /// only they reference may go).
    #[arg(long)]
    skip_failed: bool,
    /// The remote for --cloud or --not-in-remote (default: core.remote).
    #[arg(short, long, requires = "uses_remote")]
    remote: Option<String>,
    /// Concurrent requests to the remote (default: 4 × cores).
    #[arg(short, long, requires = "uses_remote")]
    jobs: Option<usize>,
}

impl GcArgs {
    fn options(&self) -> GcOptions {
        let remote = TransferOptions {
            remote: self.remote.clone(),
            jobs: self.jobs,
            ..TransferOptions::default()
        };
        GcOptions {
            scope: RevScope {
                rev: self.rev.clone(),
                num: self.num.map(|num| num as usize),
                since: self.date,
                ..self.revs.scope()
            },
            delete: self.force,
            cloud: self.cloud.then(|| remote.clone()),
            not_in_remote: self.not_in_remote.then_some(remote),
            projects: self.projects.clone(),
            skip_failed: self.skip_failed,
        }
    }
}

/// The first moment of the day `text` names (`YYYY-MM-DD`) in this machine's time zone,
/// as DVC reads `gc --date`.
fn start_of_day(text: &str) -> Result<jiff::Timestamp, String> {
    let day: jiff::civil::Date = text
        .parse()
        .map_err(|e| format!("{e} (expected YYYY-MM-DD)"))?;
    let start = day.to_zoned_datetime(jiff::tz::TimeZone::system());
    start
        .map(|zoned| zoned.timestamp())
        .map_err(|e| e.to_string())
}

#[derive(Subcommand)]
enum RemoteCommand {
    /// Add a remote: a folder, s3://bucket/prefix, gs://…, azure://…, http(s)://…
    Add {
        name: String,
        url: String,
        /// Make it the default remote.
        #[arg(short, long)]
        default: bool,
        /// Replace a remote of that name (its options too).
        #[arg(short, long)]
        force: bool,
        #[command(flatten)]
        level: LevelArgs,
    },
    /// Set or unset an option (endpointurl, region, access_key_id, …).
    Modify {
        name: String,
        option: String,
        #[arg(required_unless_present = "unset")]
        value: Option<String>,
        /// Remove the option.
        #[arg(short, long)]
        unset: bool,
        #[command(flatten)]
        level: LevelArgs,
    },
    /// Show, set or unset the default remote.
    Default {
        name: Option<String>,
        /// Clear the default.
        #[arg(short, long)]
        unset: bool,
        #[command(flatten)]
        level: LevelArgs,
    },
    /// List remotes.
    List,
    /// Remove a remote (from .dvc/config and .dvc/config.local unless a flag picks a file).
    Remove {
        name: String,
        #[command(flatten)]
        level: LevelArgs,
    },
    /// Rename a remote, and as default (in .dvc/config and .dvc/config.local unless a flag
    /// picks a file).
    Rename {
        name: String,
        new: String,
        #[command(flatten)]
        level: LevelArgs,
    },
}

/// Revisions besides the workspace, by DVC's flags.
#[derive(clap::Args, Debug, Clone, Copy)]
struct RevArgs {
    /// Every branch tip.
    #[arg(short = 'a', long)]
    all_branches: bool,
    /// Every tag.
    #[arg(short = 'T', long)]
    all_tags: bool,
    /// Every commit.
    #[arg(short = 'A', long)]
    all_commits: bool,
}

impl RevArgs {
    fn scope(self) -> RevScope {
        RevScope {
            all_branches: self.all_branches,
            all_tags: self.all_tags,
            all_commits: self.all_commits,
            ..RevScope::default()
        }
    }
}

/// Which of DVC's config files to read or write, by DVC's flags.
#[derive(clap::Args, Debug, Clone, Copy)]
#[group(multiple = false)]
struct LevelArgs {
    /// The machine's config, for every user (DVC_SYSTEM_CONFIG_DIR, else /etc/xdg/dvc on Linux).
    #[arg(long)]
    system: bool,
    /// Your config, for every repository (DVC_GLOBAL_CONFIG_DIR, else ~/.config/dvc on Linux).
    #[arg(long)]
    global: bool,
    /// .dvc/config, committed to git (where writes go by default).
    #[arg(long)]
    project: bool,
    /// .dvc/config.local, git-ignored: credentials and personal overrides.
    #[arg(long)]
    local: bool,
}

impl LevelArgs {
    /// The file asked for, if any.
    fn chosen(self) -> Option<Level> {
        let flags = [self.system, self.global, self.project, self.local];
        Level::ALL
            .into_iter()
            .zip(flags)
            .find_map(|(level, on)| on.then_some(level))
    }

    /// The file to write: the one asked for, else the project's.
    fn to_write(self) -> Level {
        self.chosen().unwrap_or(Level::Repo)
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Hash {
    Md5,
    Blake3,
}

/// Runs the parsed command.
pub fn run(cli: &Cli) -> datavc::Result<ExitCode> {
    let out = Printer::new(cli.json, cli.quiet);
    let bar = Bar::for_terminal(cli.quiet || cli.json);
    let progress: &dyn Progress = match &bar {
        Some(bar) => bar,
        None => &Silent,
    };
    let cwd = PathBuf::from(".");
    // The commands that need no repository here.
    match &cli.command {
        Command::Init { hash } => {
            let algo = match hash {
                Hash::Md5 => HashAlgo::Md5,
                Hash::Blake3 => HashAlgo::Blake3,
            };
            let repo = Repo::init(&cwd, algo)?;
            return Ok(out.init(&repo));
        }
        Command::Get(copy) => {
            let got = ops::get::get(&copy.url, &copy.path, &copy.options(), progress)?;
            return Ok(out.got(&got));
        }
        Command::List {
            url,
            path,
            recursive,
            dvc_only,
            rev,
            size,
            show_hash,
        } => {
            let options = ListOptions {
                rev: rev.clone(),
                recursive: *recursive,
                dvc_only: *dvc_only,
            };
            let listed = ops::list::list(url, path.as_deref(), &options)?;
            return Ok(out.listed(&listed, *size, *show_hash));
        }
        Command::GitHook { hook, args } => return git_hook(*hook, args, out, progress),
        _ => {}
    }
    let mut repo = Repo::discover(&cwd)?;
    let out = out.for_repo(repo.root(), ops::git_use(&repo)?);
    let code = match &cli.command {
        Command::Init { .. } | Command::Get(_) | Command::List { .. } | Command::GitHook { .. } => {
            unreachable!("handled above")
        }
        Command::Add { paths } => out.tracked(&ops::add::add(&repo, paths, progress)?),
        Command::Commit {
            targets: paths,
            recursive,
            ..
        } => {
            let paths = match recursive {
                true => ops::recursive_targets(&repo, paths, false)?,
                false => paths.clone(),
            };
            out.tracked(&ops::add::commit(&repo, &paths, progress)?)
        }
        Command::Status {
            targets: paths,
            recursive,
            cloud: false,
            remote: None,
            ..
        } => out.status(&ops::status::status(
            &repo,
            &targets(&repo, paths, *recursive)?,
        )?),
        Command::Status {
            targets: paths,
            recursive,
            remote,
            revs,
            ..
        } => {
            let options = TransferOptions {
                remote: remote.clone(),
                scope: revs.scope(),
                ..TransferOptions::default()
            };
            let paths = targets(&repo, paths, *recursive)?;
            out.cloud_status(&ops::transfer::cloud_status(&repo, &paths, &options)?)
        }
        Command::Checkout {
            targets: paths,
            recursive,
            force,
            allow_missing,
            relink,
        } => {
            let options = CheckoutOptions {
                overwrite: overwrite(*force),
                missing: missing(*allow_missing),
                relink: *relink,
            };
            let paths = targets(&repo, paths, *recursive)?;
            out.checkout(&ops::checkout::checkout(&repo, &paths, options, progress)?)
        }
        Command::Push(transfer) => out.transfer(
            "pushed",
            &ops::transfer::push(
                &repo,
                &transfer.targets(&repo)?,
                &transfer.options(),
                progress,
            )?,
        ),
        Command::Fetch(transfer) => out.transfer(
            "fetched",
            &ops::transfer::fetch(
                &repo,
                &transfer.targets(&repo)?,
                &transfer.options(),
                progress,
            )?,
        ),
        Command::Pull {
            transfer,
            force,
            allow_missing,
        } => {
            let (fetched, checked_out) = ops::transfer::pull(
                &repo,
                &transfer.targets(&repo)?,
                &transfer.options(),
                overwrite(*force),
                missing(*allow_missing),
                progress,
            )?;
            out.pull(&fetched, &checked_out)
        }
        Command::Gc(args) => out.gc(&ops::gc::gc(&repo, &args.options(), progress)?),
        Command::Diff {
            a,
            b,
            targets,
            show_hash,
            markdown,
            hide_missing,
        } => {
            let mut report = ops::diff::diff(&repo, a.as_deref(), b.as_deref(), targets)?;
            if *hide_missing {
                report.not_in_cache = None;
            }
            let style = DiffStyle {
                show_hash: *show_hash,
                markdown: *markdown,
            };
            out.diff(&report, style)
        }
        Command::Ls { files } => out.ls(&ops::ls::ls(&repo, *files)?),
        Command::Import(copy) => {
            let options = copy.options();
            out.imported(&ops::import::import(
                &repo, &copy.url, &copy.path, &options, progress,
            )?)
        }
        Command::Update {
            targets,
            rev,
            force,
            jobs,
        } => {
            let options = UpdateOptions {
                rev: rev.clone(),
                force: *force,
                jobs: *jobs,
            };
            out.updated(&ops::import::update(&repo, targets, &options, progress)?)
        }
        Command::Fsck => out.fsck(&ops::fsck::fsck(&repo)?),
        Command::Remove {
            targets,
            outs,
            force,
        } => {
            let delete = outs.then(|| overwrite(*force));
            out.removed(&ops::remove::remove(&repo, targets, delete)?)
        }
        Command::Move { from, to } => out.moved(&ops::mv::mv(&repo, from, to)?),
        Command::Unprotect { paths } => {
            out.count("unprotected", ops::unprotect::unprotect(&repo, paths)?)
        }
        Command::Install { force } => out.installed(&ops::install::install(&repo, *force)?),
        Command::Remote { command } => remote(&mut repo, command, &out)?,
        Command::Config {
            name,
            value,
            unset,
            level,
            ..
        } => config(
            &mut repo,
            name.as_deref(),
            value.as_deref(),
            *unset,
            *level,
            &out,
        )?,
    };
    Ok(code)
}

/// The targets a command takes: as given, or with `recursive` (`-R`) folders read as DVC
/// reads them.
fn targets(repo: &Repo, targets: &[PathBuf], recursive: bool) -> datavc::Result<Vec<PathBuf>> {
    match recursive {
        true => ops::recursive_targets(repo, targets, true),
        false => Ok(targets.to_vec()),
    }
}

fn overwrite(force: bool) -> Overwrite {
    match force {
        true => Overwrite::Force,
        false => Overwrite::Refuse,
    }
}

fn missing(allow: bool) -> Missing {
    match allow {
        true => Missing::Allow,
        false => Missing::Fail,
    }
}

/// Runs what `hook` does here; outside a datavc repository nothing, as DVC's hooks.
fn git_hook(
    hook: Hook,
    args: &[String],
    out: Printer,
    progress: &dyn Progress,
) -> datavc::Result<ExitCode> {
    let repo = match Repo::discover(std::path::Path::new(".")) {
        Err(datavc::Error::NotARepository { .. }) => return Ok(ExitCode::SUCCESS),
        found => found?,
    };
    let out = out.for_repo(repo.root(), ops::git_use(&repo)?);
    Ok(match ops::install::hook_action(repo.root(), hook, args)? {
        HookAction::Nothing => ExitCode::SUCCESS,
        HookAction::Status => out.status(&ops::status::status(&repo, &[])?),
        HookAction::Checkout => {
            let checked_out =
                ops::checkout::checkout(&repo, &[], CheckoutOptions::default(), progress)?;
            out.checkout(&checked_out)
        }
        HookAction::Push => {
            let options = TransferOptions::default();
            out.transfer(
                "pushed",
                &ops::transfer::push(&repo, &[], &options, progress)?,
            )
        }
    })
}

fn remote(repo: &mut Repo, command: &RemoteCommand, out: &Printer) -> datavc::Result<ExitCode> {
    let config = repo.config_mut();
    match command {
        RemoteCommand::Add {
            name,
            url,
            default,
            force,
            level,
        } => {
            let level = level.to_write();
            let url = config_path(url, config, level)?;
            match force {
                true => config.replace_remote(level, name, &url, *default)?,
                false => config.add_remote(level, name, &url, *default)?,
            }
        }
        RemoteCommand::Modify {
            name,
            option,
            value,
            unset,
            level,
        } => {
            let level = level.to_write();
            let value = match (value, option.as_str()) {
                (_, _) if *unset => None,
                (Some(url), "url") => Some(config_path(url, config, level)?),
                (value, _) => value.clone(),
            };
            config.modify_remote(level, name, option, value.as_deref())?;
        }
        RemoteCommand::Default {
            name: None,
            unset: false,
            ..
        } => return Ok(out.default_remote(config.default_remote())),
        RemoteCommand::Default { name, unset, level } => {
            let name = if *unset { None } else { name.as_deref() };
            config.set_default_remote(level.to_write(), name)?;
        }
        RemoteCommand::List => return Ok(out.remotes(&config.remotes(), config.default_remote())),
        RemoteCommand::Remove { name, level } => config.remove_remote(name, level.chosen())?,
        RemoteCommand::Rename { name, new, level } => {
            config.rename_remote(name, new, level.chosen())?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `config`: lists without a name, shows without a value, else sets (or unsets).
fn config(
    repo: &mut Repo,
    name: Option<&str>,
    value: Option<&str>,
    unset: bool,
    level: LevelArgs,
    out: &Printer,
) -> datavc::Result<ExitCode> {
    let config = repo.config_mut();
    let only = level.chosen();
    let Some(name) = name else {
        return Ok(out.options(&config.options(only)));
    };
    let name = OptionName::parse(name)?;
    if value.is_none() && !unset {
        let value = config
            .option(&name, only)
            .ok_or(datavc::Error::OptionNotSet {
                name: name.to_string(),
            })?;
        return Ok(out.option(&name.to_string(), value));
    }
    let level = level.to_write();
    let value = match value {
        Some(path) if name.is_path() => Some(config_path(path, config, level)?),
        value => value.map(str::to_owned),
    };
    config.set_option(level, &name, value.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// A relative folder given on the command line (a remote's URL, `cache.dir`) is stored
/// relative to the folder of the config file written at `level`, as DVC does.
fn config_path(value: &str, config: &DvcConfig, level: Level) -> datavc::Result<String> {
    let path = std::path::Path::new(value);
    if datavc::config::is_url(value) || path.is_absolute() {
        return Ok(value.to_owned());
    }
    let base = config
        .base_dir(level)
        .ok_or(datavc::Error::NoConfigFolder { level })?;
    let absolute = datavc::repo::absolute(path)?;
    let relative = pathdiff::diff_paths(&absolute, base).unwrap_or(absolute);
    Ok(relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}
