//! The `gate` binary: parses arguments, calls one library function, prints, and maps the
//! outcome to an exit code (0 pass, 1 a rule failed, 2 could not judge).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use gate::config::ReportSpec;
use gate::hook::HookOutcome;
use gate::render::{TerminalStyle, Verbosity};
use gate::{CheckOptions, Config, Error};
use spokes_cli::ColorChoice;

/// A quality gate: coverage thresholds, security findings and an offline RustSec audit.
#[derive(Parser)]
#[command(name = "gate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Say only whether the gate passed and which rules failed.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// List every finding; show error details.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Colour the terminal report.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Subcommand)]
enum Command {
    /// Judge the reports and lockfiles against gate.toml.
    Check(JudgeArgs),
    /// Run the producers of `[run] commands`, then judge.
    Run(JudgeArgs),
    /// Record the current coverage as the ratchet's baseline (.gate-baseline.toml).
    Baseline {
        #[command(flatten)]
        judge: JudgeArgs,
        /// Allow recording a lower coverage than the baseline holds.
        #[arg(long, requires = "reason")]
        lower: bool,
        /// Why coverage is allowed to drop; kept in the baseline file.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Install or remove the pre-push hook that runs `gate run`.
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
    /// Write a starter gate.toml and .github/workflows/gate.yml.
    Init {
        /// Directory of the project (default: the current one).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum HookAction {
    /// Install `.git/hooks/pre-push`.
    Install {
        /// Move an existing hook that gate did not write to `pre-push.gate-backup`.
        #[arg(long)]
        force: bool,
        /// The configuration the hook passes to `gate run`.
        #[arg(long, default_value = "gate.toml")]
        config: String,
        /// Run this command line instead of `gate run --config CONFIG` (e.g. `cargo xtask ci`).
        #[arg(long, value_name = "COMMAND")]
        command: Option<String>,
    },
    /// Remove the hook (and restore a backed-up one).
    Uninstall,
}

#[derive(Args)]
struct JudgeArgs {
    /// The configuration; without it, `./gate.toml` if present.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A report to read, in addition to `[reports] files`; `:FORMAT` overrides detection.
    #[arg(long = "report", value_name = "PATH[:FORMAT]")]
    reports: Vec<String>,
    /// A Cargo.lock to audit, in addition to `[audit] lockfiles`.
    #[arg(long = "lockfile", value_name = "PATH")]
    lockfiles: Vec<PathBuf>,
    /// The RustSec advisory-db directory, overriding `[audit] advisory_db`.
    #[arg(long, value_name = "DIR")]
    advisory_db: Option<PathBuf>,
    /// Print the verdict as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Also write the findings as SARIF 2.1.0 to this file.
    #[arg(long, value_name = "FILE")]
    sarif: Option<PathBuf>,
    /// Git base for patch coverage (`origin/main`), overriding `[coverage.patch] base`.
    #[arg(long, value_name = "REV")]
    base: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbosity = match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    let color = cli.color.for_stdout();
    let outcome = match cli.command {
        Command::Check(args) => judge(args, false, TerminalStyle { color, verbosity }),
        Command::Run(args) => judge(args, true, TerminalStyle { color, verbosity }),
        Command::Baseline {
            judge,
            lower,
            reason,
        } => baseline(judge, lower.then_some(reason).flatten()),
        Command::Hook { action } => hook(action),
        Command::Init { dir } => init(&dir),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            spokes_cli::report_error(
                &error,
                error.hint().as_deref(),
                cli.color.for_stderr(),
                cli.verbose,
            );
            ExitCode::from(2)
        }
    }
}

fn options(args: &JudgeArgs) -> gate::Result<CheckOptions> {
    let (config, root) = match &args.config {
        Some(path) => (Config::read(path)?, directory_of(path)),
        None if Path::new("gate.toml").is_file() => {
            (Config::read(Path::new("gate.toml"))?, PathBuf::from("."))
        }
        None => (Config::default(), PathBuf::from(".")),
    };
    let mut options = CheckOptions::new(config, root);
    options.reports = args
        .reports
        .iter()
        .map(|argument| ReportSpec::from_argument(argument))
        .collect::<gate::Result<_>>()?;
    // Paths given on the command line are relative to the current directory, not the config's.
    let cwd = std::env::current_dir().unwrap_or_default();
    for spec in &mut options.reports {
        spec.path = cwd.join(&spec.path);
    }
    options.lockfiles = args.lockfiles.iter().map(|path| cwd.join(path)).collect();
    options.advisory_db = args.advisory_db.as_ref().map(|path| cwd.join(path));
    options.base = args.base.clone();
    Ok(options)
}

fn baseline(args: JudgeArgs, lower_because: Option<String>) -> gate::Result<u8> {
    let mut options = options(&args)?;
    let file = options
        .config
        .coverage
        .ratchet
        .as_ref()
        .and_then(|ratchet| ratchet.file.clone());
    let file = options
        .root
        .join(file.unwrap_or_else(|| PathBuf::from(gate::baseline::DEFAULT_FILE)));
    // The baseline is about coverage only: no patch, ratchet or audit is needed to record it.
    options.config.coverage.patch = None;
    options.config.coverage.ratchet = None;
    options.config.audit.lockfiles.clear();
    options.lockfiles.clear();
    let coverage = gate::gather(&options)?
        .coverage
        .ok_or_else(|| Error::NoData {
            rule: "baseline".into(),
            reason: "no coverage report was given".into(),
        })?;
    let update = gate::baseline::record(&file, &coverage, lower_because.as_deref())?;
    match update.previous {
        Some(previous) => eprintln!(
            "{}: line coverage {previous:.2}% -> {:.2}%",
            file.display(),
            update.current
        ),
        None => eprintln!("{}: line coverage {:.2}%", file.display(), update.current),
    }
    Ok(0)
}

fn judge(args: JudgeArgs, run_producers: bool, style: TerminalStyle) -> gate::Result<u8> {
    let options = options(&args)?;
    let verdict = if run_producers {
        gate::run_and_check(&options)?
    } else {
        gate::check(&options)?
    };

    if let Some(path) = &args.sarif {
        std::fs::write(path, gate::render::sarif(&verdict)).map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?;
    }
    let in_github = std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true");
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let _ = writeln!(stdout, "{}", gate::render::json(&verdict));
    } else {
        let _ = write!(stdout, "{}", gate::render::terminal(&verdict, style));
        if in_github {
            let _ = write!(stdout, "{}", gate::render::github_annotations(&verdict));
        }
    }
    let summary =
        std::env::var_os("GITHUB_STEP_SUMMARY").filter(|path| in_github && !path.is_empty());
    if let Some(path) = summary {
        gate::append_step_summary(Path::new(&path), &verdict)?;
    }
    Ok(verdict.exit_code())
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn hook(action: HookAction) -> gate::Result<u8> {
    let hooks_dir = gate::hook::hooks_dir(Path::new("."))?;
    let outcome = match action {
        HookAction::Install {
            force,
            config,
            command,
        } => {
            let command = command.unwrap_or_else(|| gate::hook::default_command(&config));
            gate::hook::install(&hooks_dir, &command, force)?
        }
        HookAction::Uninstall => gate::hook::uninstall(&hooks_dir)?,
    };
    let message = match outcome {
        HookOutcome::Installed { path, backup: None } => format!("installed {}", path.display()),
        HookOutcome::Installed {
            path,
            backup: Some(backup),
        } => {
            format!(
                "installed {}; the previous hook is at {}",
                path.display(),
                backup.display()
            )
        }
        HookOutcome::AlreadyInstalled { path } => {
            format!("{} is already installed", path.display())
        }
        HookOutcome::Removed {
            path,
            restored: None,
        } => format!("removed {}", path.display()),
        HookOutcome::Removed {
            path,
            restored: Some(_),
        } => {
            format!(
                "removed gate's hook; the previous hook is back at {}",
                path.display()
            )
        }
        HookOutcome::NotInstalled { path } => {
            format!("no hook at {}; nothing to remove", path.display())
        }
    };
    eprintln!("{message}");
    Ok(0)
}

fn init(dir: &Path) -> gate::Result<u8> {
    let kind = gate::init::ProjectKind::detect(dir);
    for path in gate::init::init(dir, kind)? {
        eprintln!("wrote {}", path.display());
    }
    eprintln!(
        "next: edit gate.toml, then `gate run`; `gate hook install` runs it before every push"
    );
    Ok(0)
}
