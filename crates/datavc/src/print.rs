//! Printing reports: one method per command, JSON on `--json`, nothing on `-q`, and data on
//! stdout with notes on stderr.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use datavc::Repo;
use datavc::config::{Remote, masked};
use datavc::ops::add::Tracked;
use datavc::ops::checkout::CheckoutReport;
use datavc::ops::diff::DiffReport;
use datavc::ops::fsck::FsckReport;
use datavc::ops::gc::GcReport;
use datavc::ops::ls::Listed;
use datavc::ops::remove::Removed;
use datavc::ops::status::{Change, OutputStatus};
use datavc::ops::transfer::{CloudEntry, TransferReport};
use indicatif::HumanBytes;
use serde::Serialize;

/// Where and how reports go.
pub struct Printer {
    json: bool,
    quiet: bool,
}

impl Printer {
    /// A printer for the global flags.
    pub fn new(json: bool, quiet: bool) -> Printer {
        Printer { json, quiet }
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
                let ignores = tracked.iter().map(|t| t.gitignore.as_str());
                text.push_str(&git_add_hint(pointers.chain(ignores)));
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
            let mut text: String = report.unused.iter().map(|oid| format!("{oid}\n")).collect();
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

    pub fn diff(&self, report: &DiffReport) -> ExitCode {
        self.emit(report, || {
            let mut text = String::new();
            for (kind, list) in [
                ("added", &report.added),
                ("deleted", &report.deleted),
                ("modified", &report.modified),
            ] {
                for changed in list {
                    text.push_str(&format!("{kind:>9}: {}\n", changed.path));
                }
            }
            if text.is_empty() {
                text.push_str("no differences\n");
            }
            for whole in &report.unexpanded {
                text.push_str(&format!(
                    "note: {} is reported as a whole: {}\n",
                    whole.path, whole.reason
                ));
            }
            text
        })
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
            text.push_str(&git_add_hint(pointers.chain(ignores)));
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
    }
}

fn checkout_text(report: &CheckoutReport) -> String {
    format!(
        "checked out {} file(s), removed {}, {} already up to date\n",
        report.written.len(),
        report.removed.len(),
        report.unchanged
    )
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
    text
}

/// Exit 1 where the report says something is wrong, 0 otherwise.
fn quiet_failure(failed: bool) -> ExitCode {
    match failed {
        true => ExitCode::from(1),
        false => ExitCode::SUCCESS,
    }
}

/// The `git add` line that records what a command changed, each path once, in order.
fn git_add_hint<'a>(paths: impl Iterator<Item = &'a str>) -> String {
    let mut seen = std::collections::HashSet::new();
    let paths: Vec<&str> = paths.filter(|path| seen.insert(*path)).collect();
    format!("\nto record it in git: git add {}\n", paths.join(" "))
}
