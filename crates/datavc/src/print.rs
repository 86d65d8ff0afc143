//! Printing reports: one method per command, JSON on `--json`, nothing on `-q`, and data on
//! stdout with notes on stderr.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use datavc::Repo;
use datavc::config::{Remote, masked};
use datavc::git::shell_word;
use datavc::ops::GitUse;
use datavc::ops::add::Tracked;
use datavc::ops::checkout::CheckoutReport;
use datavc::ops::diff::{Changed, DiffReport, Pair, Unexpanded};
use datavc::ops::fsck::FsckReport;
use datavc::ops::gc::GcReport;
use datavc::ops::get::Got;
use datavc::ops::import::Imported;
use datavc::ops::install::InstalledHook;
use datavc::ops::list::ListEntry;
use datavc::ops::ls::Listed;
use datavc::ops::mv::Moved;
use datavc::ops::remove::Removed;
use datavc::ops::status::{Change, OutputStatus};
use datavc::ops::transfer::{CloudEntry, TransferReport};
use datavc::repo::from_here;
use indicatif::HumanBytes;
use serde::Serialize;

/// How `diff` shows its report.
#[derive(Debug, Clone, Copy)]
pub struct DiffStyle {
    /// Show each entry's hash (abbreviated in text).
    pub show_hash: bool,
    /// A Markdown table instead of lists.
    pub markdown: bool,
}

/// Where and how reports go.
pub struct Printer {
    json: bool,
    quiet: bool,
    /// Who stages in git the pointer files commands change.
    git: GitUse,
    /// The repository's root, once known.
    root: Option<PathBuf>,
}

impl Printer {
    /// A printer for the global flags.
    pub fn new(json: bool, quiet: bool) -> Printer {
        Printer {
            json,
            quiet,
            git: GitUse::Manual,
            root: None,
        }
    }

    /// The printer for the repository at `root`, where `git` stages what commands change.
    pub fn for_repo(self, root: &Path, git: GitUse) -> Printer {
        Printer {
            root: Some(root.to_owned()),
            git,
            ..self
        }
    }

    /// The `git add` line that records the pointer and `.gitignore` files a command
    /// changed, each path once, in order, quoted for a shell; or, where commands stage
    /// them (`core.autostage`), that they are staged; nothing where git is not used.
    fn git_hint<'a>(&self, paths: impl Iterator<Item = &'a str>) -> String {
        let mut seen = std::collections::HashSet::new();
        let paths: Vec<String> = (paths.filter(|path| seen.insert(*path)))
            .map(|path| match &self.root {
                Some(root) => shell_word(&from_here(root, path)),
                None => shell_word(path),
            })
            .collect();
        match self.git {
            GitUse::None => String::new(),
            GitUse::Manual => format!("\nto record it in git: git add {}\n", paths.join(" ")),
            GitUse::Autostage => format!("\nstaged in git: {}\n", paths.join(" ")),
        }
    }

    /// Prints `value` as JSON, or `text()` unless quiet; returns success.
    fn emit(&self, value: &impl Serialize, text: impl FnOnce() -> String) -> ExitCode {
        let mut stdout = std::io::stdout().lock();
        let written = match (self.json, self.quiet) {
            (true, _) => writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(value).expect("reports serialise")
            ),
            (false, false) => write!(stdout, "{}", text()),
            (false, true) => Ok(()),
        };
        // A closed pipe (`datavc ls | head`) is not a failure of the command.
        let _ = written;
        ExitCode::SUCCESS
    }

    pub fn init(&self, repo: &Repo) -> ExitCode {
        let value = serde_json::json!({ "root": repo.root(), "hash": repo.algo().name() });
        self.emit(&value, || {
            format!(
                "initialised a datavc repository in {} (hash: {})\n",
                repo.root().display(),
                repo.algo()
            )
        })
    }

    pub fn tracked(&self, tracked: &[Tracked]) -> ExitCode {
        self.emit(&tracked, || {
            let mut text = String::new();
            for t in tracked {
                let what = match t.nfiles {
                    Some(n) => format!("{n} files, {}", HumanBytes(t.size)),
                    None => format!("{}", HumanBytes(t.size)),
                };
                let verb = if t.changed { "tracked" } else { "unchanged" };
                text.push_str(&format!("{verb} {} ({what}) -> {}\n", t.path, t.pointer));
            }
            if tracked.iter().any(|t| t.changed) {
                let pointers = tracked.iter().map(|t| t.pointer.as_str());
                let ignores = tracked.iter().filter_map(|t| t.gitignore.as_deref());
                text.push_str(&self.git_hint(pointers.chain(ignores)));
            }
            text
        })
    }

    pub fn status(&self, report: &[OutputStatus]) -> ExitCode {
        let dirty = report.iter().any(|s| s.change != Change::Clean);
        self.emit(&report, || {
            if !dirty {
                return "data is up to date\n".into();
            }
            let mut text = String::new();
            for s in report.iter().filter(|s| s.change != Change::Clean) {
                text.push_str(&format!("{:>13}: {}\n", change_name(s.change), s.path));
                for (file, change) in &s.files {
                    text.push_str(&format!(
                        "{:>17}: {}/{file}\n",
                        change_name(*change),
                        s.path
                    ));
                }
            }
            text
        });
        quiet_failure(self.quiet && dirty)
    }

    pub fn cloud_status(&self, entries: &[CloudEntry]) -> ExitCode {
        self.emit(&entries, || {
            if entries.is_empty() {
                return "cache and remote are in sync\n".into();
            }
            entries
                .iter()
                .map(|e| format!("{:>8}: {}\n", e.state, e.path))
                .collect()
        });
        quiet_failure(self.quiet && !entries.is_empty())
    }

    pub fn checkout(&self, report: &CheckoutReport) -> ExitCode {
        self.emit(report, || checkout_text(report))
    }

    pub fn transfer(&self, verb: &str, report: &TransferReport) -> ExitCode {
        self.emit(report, || transfer_text(verb, report));
        quiet_failure(!report.missing.is_empty())
    }

    pub fn pull(&self, fetched: &TransferReport, checked_out: &CheckoutReport) -> ExitCode {
        let value = serde_json::json!({ "fetch": fetched, "checkout": checked_out });
        self.emit(&value, || {
            transfer_text("fetched", fetched) + &checkout_text(checked_out)
        })
    }

    pub fn gc(&self, report: &GcReport) -> ExitCode {
        self.emit(report, || {
            let verb = match report.deleted {
                true => "deleted",
                false => "would delete",
            };
            let mut text: String = (report.skipped_revisions.iter())
                .map(|skipped| format!("skipped, unreadable: {skipped}\n"))
                .collect();
            text.extend(report.unused.iter().map(|oid| format!("{oid}\n")));
            text.push_str(&format!(
                "{verb} {} object(s), {}, from the cache; kept {}\n",
                report.unused.len(),
                HumanBytes(report.bytes),
                report.kept
            ));
            if let Some(cloud) = &report.cloud {
                text.extend(cloud.unused.iter().map(|oid| format!("{oid}\n")));
                text.push_str(&format!(
                    "{verb} {} object(s), {}, from remote `{}`\n",
                    cloud.unused.len(),
                    HumanBytes(cloud.bytes),
                    cloud.remote
                ));
            }
            let remote_unused = report.cloud.as_ref().map_or(0, |c| c.unused.len());
            if !report.deleted && report.unused.len() + remote_unused > 0 {
                text.push_str("run the same `datavc gc` with --force to delete them\n");
            }
            text
        })
    }

    /// Prints a diff as `dvc diff` does: `{}` in JSON when nothing differs, hashes only
    /// with `--show-hash`; notes on folders compared whole go to stderr.
    pub fn diff(&self, report: &DiffReport, style: DiffStyle) -> ExitCode {
        let text = || match style.markdown {
            true => diff_table(&diff_rows(report, style.show_hash), style.show_hash),
            false => diff_text(&diff_rows(report, style.show_hash)),
        };
        match (report.is_empty(), style.show_hash) {
            (true, _) => self.emit(&serde_json::json!({}), text),
            (false, true) => self.emit(report, text),
            (false, false) => self.emit(&PathsOnly::of(report), text),
        };
        if !self.json && !self.quiet {
            for whole in &report.unexpanded {
                eprintln!(
                    "note: {} is reported as a whole: {}",
                    whole.path, whole.reason
                );
            }
        }
        ExitCode::SUCCESS
    }

    pub fn ls(&self, listed: &[Listed]) -> ExitCode {
        self.emit(&listed, || {
            listed
                .iter()
                .map(|l| {
                    let mark = if l.cached { ' ' } else { '!' };
                    format!(
                        "{mark} {:>10}  {}  {}\n",
                        HumanBytes(l.size).to_string(),
                        &l.oid[..12.min(l.oid.len())],
                        l.path
                    )
                })
                .collect()
        })
    }

    pub fn got(&self, got: &Got) -> ExitCode {
        self.emit(got, || {
            let mut text = fetch_lines(&got.fetched);
            let rev = &got.rev[..12.min(got.rev.len())];
            let (path, url, out) = (&got.path, &got.url, got.out.display());
            text.push_str(&format!("got {path} from {url} at {rev} into {out}\n"));
            text
        })
    }

    pub fn listed(&self, listed: &[ListEntry], size: bool, show_hash: bool) -> ExitCode {
        let hash = |entry: &ListEntry| entry.md5.clone().or(entry.blake3.clone());
        let width = listed.iter().filter_map(hash).map(|h| h.len()).max();
        self.emit(&listed, || {
            let mut text = String::new();
            for entry in listed {
                if size {
                    let bytes = entry.size.map_or("-".into(), |n| HumanBytes(n).to_string());
                    text.push_str(&format!("{bytes:>10}  "));
                }
                if show_hash {
                    let hash = hash(entry).unwrap_or("-".into());
                    text.push_str(&format!("{hash:<0$}  ", width.unwrap_or(1)));
                }
                text.push_str(&entry.path);
                text.push('\n');
            }
            text
        })
    }

    pub fn imported(&self, imported: &Imported) -> ExitCode {
        self.emit(imported, || {
            self.import_text("imported", std::slice::from_ref(imported))
        })
    }

    pub fn updated(&self, updated: &[Imported]) -> ExitCode {
        self.emit(&updated, || self.import_text("updated", updated))
    }

    /// `verb`: what happened to an output that changed.
    fn import_text(&self, verb: &str, imported: &[Imported]) -> String {
        let mut text = String::new();
        for i in imported {
            text.push_str(&fetch_lines(&i.fetched));
            let (t, rev) = (&i.tracked, &i.rev[..12.min(i.rev.len())]);
            let verb = if t.changed { verb } else { "unchanged" };
            let (url, path) = (&i.url, &i.source_path);
            text.push_str(&format!(
                "{verb} {} from {url} ({path}) at {rev} -> {}\n",
                t.path, t.pointer
            ));
        }
        if imported.iter().any(|i| i.tracked.changed) {
            let tracked = (imported.iter().map(|i| &i.tracked)).filter(|t| t.changed);
            let pointers = tracked.clone().map(|t| t.pointer.as_str());
            let ignores = tracked.filter_map(|t| t.gitignore.as_deref());
            text.push_str(&self.git_hint(pointers.chain(ignores)));
        }
        text
    }

    pub fn fsck(&self, report: &FsckReport) -> ExitCode {
        self.emit(report, || {
            let mut text: String = report
                .corrupt
                .iter()
                .map(|c| format!("corrupt: {} ({})\n", c.path, c.problem))
                .collect();
            text.push_str(&format!(
                "checked {} object(s), {} corrupt\n",
                report.checked,
                report.corrupt.len()
            ));
            text
        });
        quiet_failure(!report.corrupt.is_empty())
    }

    pub fn removed(&self, removed: &[Removed]) -> ExitCode {
        self.emit(&removed, || {
            let mut text = String::new();
            for r in removed {
                let outputs = r.outputs.join(", ");
                let data = match r.deleted {
                    true => format!("{outputs} deleted (the cache keeps it until gc)"),
                    false => format!("{outputs} stays as plain files"),
                };
                text.push_str(&format!("removed {}; {data}\n", r.pointer));
            }
            let pointers = removed.iter().map(|r| r.pointer.as_str());
            let ignores = removed
                .iter()
                .flat_map(|r| r.gitignores.iter().map(String::as_str));
            text.push_str(&self.git_hint(pointers.chain(ignores)));
            text
        })
    }

    pub fn moved(&self, moved: &Moved) -> ExitCode {
        self.emit(moved, || {
            let data = match moved.data {
                true => "",
                false => " (not in the workspace: only its .dvc file changed)",
            };
            format!(
                "moved {} to {}{data}\n{}",
                moved.from,
                moved.to,
                self.git_hint(moved.git_files())
            )
        })
    }

    pub fn installed(&self, hooks: &[InstalledHook]) -> ExitCode {
        self.emit(&hooks, || {
            let mut text = String::new();
            for hook in hooks {
                let verb = if hook.written {
                    "installed"
                } else {
                    "unchanged"
                };
                text.push_str(&format!("{verb} {}\n", hook.path.display()));
                if let Some(chained) = &hook.chained {
                    let kept = chained.display();
                    text.push_str(&format!(
                        "  the hook that was there runs first, as {kept}\n"
                    ));
                }
            }
            text
        })
    }

    pub fn count(&self, verb: &str, count: usize) -> ExitCode {
        self.emit(&serde_json::json!({ verb: count }), || {
            format!("{verb} {count} file(s)\n")
        })
    }

    pub fn default_remote(&self, name: Option<&str>) -> ExitCode {
        self.emit(&serde_json::json!({ "default": name }), || match name {
            Some(name) => format!("{name}\n"),
            None => "no default remote\n".into(),
        })
    }

    pub fn option(&self, name: &str, value: &str) -> ExitCode {
        self.emit(&serde_json::json!({ "name": name, "value": value }), || {
            format!("{value}\n")
        })
    }

    /// Config options as `name=value` lines, as `dvc config --list` prints them, but with
    /// credentials masked: a listing is what gets pasted into bug reports.
    pub fn options(&self, options: &BTreeMap<String, String>) -> ExitCode {
        let masked: BTreeMap<&str, &str> = options
            .iter()
            .map(|(name, value)| {
                let option = name.rsplit('.').next().unwrap_or(name);
                (name.as_str(), masked(option, value))
            })
            .collect();
        self.emit(&masked, || {
            masked
                .iter()
                .map(|(name, value)| format!("{name}={value}\n"))
                .collect()
        })
    }

    pub fn remotes(&self, remotes: &[Remote], default: Option<&str>) -> ExitCode {
        self.emit(&remotes, || {
            remotes
                .iter()
                .map(|r| {
                    let mark = if Some(r.name.as_str()) == default {
                        " (default)"
                    } else {
                        ""
                    };
                    format!("{}\t{}{mark}\n", r.name, r.url)
                })
                .collect()
        })
    }
}

fn change_name(change: Change) -> &'static str {
    match change {
        Change::Clean => "clean",
        Change::Modified => "modified",
        Change::Deleted => "deleted",
        Change::NotInCache => "not in cache",
        Change::Added => "added",
        Change::Unrecorded => "not recorded",
    }
}

fn checkout_text(report: &CheckoutReport) -> String {
    let mut text = format!(
        "checked out {} file(s), removed {}, {} already up to date\n",
        report.written.len(),
        report.removed.len(),
        report.unchanged
    );
    for missing in &report.missing {
        text.push_str(&format!("missing, left as it is: {missing}\n"));
    }
    text
}

fn transfer_text(verb: &str, report: &TransferReport) -> String {
    let mut text = format!(
        "{verb} {} object(s) ({}) via `{}`, {} already there\n",
        report.transferred,
        HumanBytes(report.bytes),
        report.remote,
        report.skipped
    );
    for missing in &report.missing {
        text.push_str(&format!("missing on the source side: {missing}\n"));
    }
    for skipped in &report.skipped_revisions {
        text.push_str(&format!("skipped, unreadable: {skipped}\n"));
    }
    text
}

/// Exit 1 where the report says something is wrong, 0 otherwise.
fn quiet_failure(failed: bool) -> ExitCode {
    match failed {
        true => ExitCode::from(1),
        false => ExitCode::SUCCESS,
    }
}

/// A diff as `dvc diff --json` shows it without `--show-hash`: each entry its path alone.
#[derive(Serialize)]
struct PathsOnly<'a> {
    added: Vec<PathOnly<&'a str>>,
    deleted: Vec<PathOnly<&'a str>>,
    modified: Vec<PathOnly<&'a str>>,
    renamed: Vec<PathOnly<&'a Pair>>,
    #[serde(rename = "not in cache", skip_serializing_if = "Option::is_none")]
    not_in_cache: Option<Vec<PathOnly<&'a str>>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    unexpanded: &'a [Unexpanded],
}

#[derive(Serialize)]
struct PathOnly<T> {
    path: T,
}

impl<'a> PathsOnly<'a> {
    fn of(report: &'a DiffReport) -> PathsOnly<'a> {
        let paths = |list: &'a [Changed]| -> Vec<PathOnly<&'a str>> {
            list.iter()
                .map(|c| PathOnly {
                    path: c.path.as_str(),
                })
                .collect()
        };
        PathsOnly {
            added: paths(&report.added),
            deleted: paths(&report.deleted),
            modified: (report.modified.iter())
                .map(|m| PathOnly {
                    path: m.path.as_str(),
                })
                .collect(),
            renamed: (report.renamed.iter())
                .map(|r| PathOnly { path: &r.path })
                .collect(),
            not_in_cache: report.not_in_cache.as_deref().map(paths),
            unexpanded: &report.unexpanded,
        }
    }
}

/// One line of a diff: its kind, hash digest (empty unless asked for) and path.
struct DiffRow {
    kind: &'static str,
    digest: String,
    path: String,
}

/// The report's entries in `dvc diff`'s order of kinds.
fn diff_rows(report: &DiffReport, show_hash: bool) -> Vec<DiffRow> {
    let digest = |hash: &str| match show_hash {
        true => hash.chars().take(8).collect(),
        false => String::new(),
    };
    let row = |kind, digest, path| DiffRow { kind, digest, path };
    let plain = |kind: &'static str, list: &[Changed]| -> Vec<DiffRow> {
        list.iter()
            .map(|c| row(kind, digest(&c.hash), c.path.clone()))
            .collect()
    };
    let mut rows = plain("added", &report.added);
    rows.extend(plain("deleted", &report.deleted));
    rows.extend(report.renamed.iter().map(|r| {
        let path = format!("{} -> {}", r.path.old, r.path.new);
        row("renamed", digest(&r.hash), path)
    }));
    rows.extend(report.modified.iter().map(|m| {
        let both = match show_hash {
            true => format!("{}..{}", digest(&m.hash.old), digest(&m.hash.new)),
            false => String::new(),
        };
        row("modified", both, m.path.clone())
    }));
    rows.extend(plain(
        "not in cache",
        report.not_in_cache.as_deref().unwrap_or_default(),
    ));
    rows
}

/// Groups under `Added:`-style headings, then a count of files (not folders) per kind.
fn diff_text(rows: &[DiffRow]) -> String {
    let mut text = String::new();
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        if index == 0 || rows[index - 1].kind != row.kind {
            let mut heading = row.kind.to_owned();
            heading[..1].make_ascii_uppercase();
            text.push_str(&format!("{heading}:\n"));
            counts.push((row.kind, 0));
        }
        let digest = match row.digest.is_empty() {
            true => String::new(),
            false => format!("{}  ", row.digest),
        };
        text.push_str(&format!("    {digest}{}\n", row.path));
        if !row.path.ends_with('/')
            && let Some((_, count)) = counts.last_mut()
        {
            *count += 1;
        }
        if rows.get(index + 1).is_none_or(|next| next.kind != row.kind) {
            text.push('\n');
        }
    }
    let summary: Vec<String> = (counts.iter())
        .filter(|(_, count)| *count > 0)
        .map(|(kind, count)| format!("{count} {kind}"))
        .collect();
    if !summary.is_empty() {
        text.push_str(&format!("files summary: {}\n", summary.join(", ")));
    }
    text
}

/// A GitHub Markdown table, padded as DVC's (tabulate's) is.
fn diff_table(rows: &[DiffRow], show_hash: bool) -> String {
    let mut table: Vec<Vec<&str>> = vec![match show_hash {
        true => vec!["Status", "Hash", "Path"],
        false => vec!["Status", "Path"],
    }];
    for row in rows {
        table.push(match show_hash {
            true => vec![row.kind, &row.digest, &row.path],
            false => vec![row.kind, &row.path],
        });
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|column| {
            let cells = table[1..].iter().map(|row| row[column].chars().count());
            cells.fold(table[0][column].len() + 2, usize::max)
        })
        .collect();
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let padded = |row: &Vec<&str>| {
        let cells = row.iter().zip(&widths);
        line(
            cells
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect(),
        )
    };
    let mut text = padded(&table[0]);
    text.push_str(&format!(
        "|{}|\n",
        (widths.iter().map(|width| "-".repeat(width + 2)))
            .collect::<Vec<_>>()
            .join("|")
    ));
    for row in &table[1..] {
        text.push_str(&padded(row));
    }
    text.push('\n');
    text
}

/// One line per place objects were fetched from.
fn fetch_lines(reports: &[TransferReport]) -> String {
    (reports.iter())
        .map(|report| {
            format!(
                "fetched {} object(s) ({}) via `{}`\n",
                report.transferred,
                HumanBytes(report.bytes),
                report.remote
            )
        })
        .collect()
}
