//! The built-in RustSec audit: `Cargo.lock` against an advisory-db directory, offline.
//!
//! It follows `cargo audit` (rustsec 0.33) so that both report the same advisories:
//! only packages from crates.io (`registry+https://github.com/rust-lang/crates.io-index`)
//! are matched; withdrawn advisories are skipped; a version is affected unless it falls
//! in one of the intervals its `patched` or `unaffected` requirements describe (compared
//! by semver precedence, pre-releases included, as rustsec's OSV ranges do); informational
//! advisories (`unmaintained`, `unsound`, `notice`) are reported separately, as warnings.
//! `[affected] os/arch` is not used to filter, as `cargo audit` without `--target-*` does
//! not. Yanked-crate checks need the registry index and are not done.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::{Comparator, Op, Prerelease, Version, VersionReq};
use serde::Deserialize;

use crate::cvss;
use crate::error::{Error, Result};
use crate::model::{Finding, FindingKind, Package, Severity};

/// The crates.io source id as `Cargo.lock` records it; rustsec matches only this one.
pub const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// One `[[package]]` of a lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// Crate name.
    pub name: String,
    /// Locked version.
    pub version: Version,
    /// `source`, absent for path dependencies and workspace members.
    pub source: Option<String>,
    /// 1-based line of its `name = ...` in the lockfile, for annotations.
    pub line: u32,
}

/// A parsed `Cargo.lock`.
#[derive(Debug, Clone)]
pub struct Lockfile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its packages, in file order.
    pub packages: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct RawLockfile {
    #[serde(default)]
    package: Vec<RawPackage>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    source: Option<String>,
}

impl Lockfile {
    /// Reads and parses a lockfile.
    pub fn read(path: &Path) -> Result<Lockfile> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadLockfile {
            path: path.to_path_buf(),
            source,
        })?;
        Lockfile::parse(&text).map_err(|detail| Error::ParseLockfile {
            path: path.to_path_buf(),
            detail,
        })
    }

    /// Parses lockfile text; the error says what is wrong.
    pub fn parse(text: &str) -> std::result::Result<Lockfile, String> {
        if text.trim().is_empty() {
            return Err("the file is empty".into());
        }
        let raw: RawLockfile =
            toml::from_str(text).map_err(|error| error.to_string().trim().to_owned())?;
        if raw.package.is_empty() {
            return Err("no [[package]] entries: this is not a Cargo.lock".into());
        }
        // Line numbers: the n-th `name = ` line after a `[[package]]` header.
        let mut name_lines = Vec::new();
        let mut in_package = false;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('[') {
                in_package = line == "[[package]]";
            } else if in_package && line.starts_with("name") && line.contains('=') {
                name_lines.push(u32::try_from(index + 1).unwrap_or(u32::MAX));
                in_package = false;
            }
        }
        let mut packages = Vec::with_capacity(raw.package.len());
        for (index, package) in raw.package.into_iter().enumerate() {
            let version = Version::parse(&package.version).map_err(|error| {
                format!(
                    "package `{}` has version `{}`, which is not semver: {error}",
                    package.name, package.version
                )
            })?;
            packages.push(LockedPackage {
                name: package.name,
                version,
                source: package.source,
                line: name_lines.get(index).copied().unwrap_or(1),
            });
        }
        Ok(Lockfile {
            path: PathBuf::new(),
            packages,
        })
    }
}

/// One bound of an interval of versions.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bound {
    Unbounded,
    Inclusive(Version),
    Exclusive(Version),
}

/// Versions an advisory's requirement says are safe, as an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SafeRange {
    start: Bound,
    end: Bound,
}

impl SafeRange {
    fn contains(&self, version: &Version) -> bool {
        let above_start = match &self.start {
            Bound::Unbounded => true,
            Bound::Inclusive(start) => version >= start,
            Bound::Exclusive(start) => version > start,
        };
        let below_end = match &self.end {
            Bound::Unbounded => true,
            Bound::Inclusive(end) => version <= end,
            Bound::Exclusive(end) => version < end,
        };
        above_start && below_end
    }

    /// The interval of a requirement, as rustsec builds it (`osv/unaffected_range.rs`).
    fn from_requirement(requirement: &VersionReq) -> std::result::Result<SafeRange, String> {
        if requirement.comparators.len() > 2 {
            return Err(format!("too many comparators in `{requirement}`"));
        }
        let alone = |what: &str| {
            if requirement.comparators.len() == 1 {
                Ok(())
            } else {
                Err(format!("{what} must be alone in `{requirement}`"))
            }
        };
        let mut start = Bound::Unbounded;
        let mut end = Bound::Unbounded;
        for comparator in &requirement.comparators {
            let version = version_of(comparator);
            match comparator.op {
                Op::Greater | Op::GreaterEq if start != Bound::Unbounded => {
                    return Err(format!("two lower bounds in `{requirement}`"));
                }
                Op::Less | Op::LessEq if end != Bound::Unbounded => {
                    return Err(format!("two upper bounds in `{requirement}`"));
                }
                Op::Greater => start = Bound::Exclusive(version),
                Op::GreaterEq => start = Bound::Inclusive(version),
                Op::Less => end = Bound::Exclusive(version),
                Op::LessEq => end = Bound::Inclusive(version),
                Op::Exact => {
                    alone("an exact version")?;
                    start = Bound::Inclusive(version.clone());
                    end = Bound::Inclusive(version);
                }
                Op::Caret => {
                    alone("a caret requirement")?;
                    let mut upper = if comparator.major == 0 {
                        match (comparator.minor, comparator.patch) {
                            (Some(0), Some(patch)) => Version::new(0, 0, patch + 1),
                            (Some(minor), _) => Version::new(0, minor + 1, 0),
                            (None, _) => Version::new(1, 0, 0),
                        }
                    } else {
                        Version::new(comparator.major + 1, 0, 0)
                    };
                    upper.pre = lowest_prerelease();
                    start = Bound::Inclusive(version);
                    end = Bound::Exclusive(upper);
                }
                Op::Tilde => {
                    alone("a tilde requirement")?;
                    let mut upper = match comparator.minor {
                        Some(minor) => Version::new(comparator.major, minor + 1, 0),
                        None => Version::new(comparator.major + 1, 0, 0),
                    };
                    upper.pre = lowest_prerelease();
                    start = Bound::Inclusive(version);
                    end = Bound::Exclusive(upper);
                }
                _ => return Err(format!("unsupported operator in `{requirement}`")),
            }
        }
        Ok(SafeRange { start, end })
    }
}

fn lowest_prerelease() -> Prerelease {
    Prerelease::new("0").unwrap_or(Prerelease::EMPTY)
}

fn version_of(comparator: &Comparator) -> Version {
    Version {
        major: comparator.major,
        minor: comparator.minor.unwrap_or(0),
        patch: comparator.patch.unwrap_or(0),
        pre: comparator.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    }
}

/// One advisory of the database.
#[derive(Debug, Clone)]
pub struct Advisory {
    /// `RUSTSEC-YYYY-NNNN`.
    pub id: String,
    /// The crate it is about.
    pub package: String,
    /// CVE and GHSA ids.
    pub aliases: Vec<String>,
    /// The Markdown title (first `# ` heading).
    pub title: String,
    /// Severity from the CVSS vector (`Unknown` without one, or for CVSS 4.0).
    pub severity: Severity,
    /// `unmaintained`, `unsound`, `notice` (or another word) for informational advisories.
    pub informational: Option<String>,
    /// Whether the advisory was withdrawn.
    pub withdrawn: bool,
    /// `source` if the advisory is about a registry other than crates.io.
    pub source: Option<String>,
    safe: Vec<SafeRange>,
}

impl Advisory {
    /// Whether `version` is affected: it lies in none of the patched or unaffected ranges.
    pub fn affects(&self, version: &Version) -> bool {
        !self.safe.iter().any(|range| range.contains(version))
    }

    /// Parses an advisory file (TOML front matter in a ```toml block, then Markdown).
    pub fn parse(text: &str) -> std::result::Result<Advisory, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let body = text
            .trim_start()
            .strip_prefix("```toml")
            .ok_or("no ```toml front matter at the top")?;
        let (front, markdown) = body
            .split_once("\n```")
            .ok_or("the ```toml front matter is never closed")?;
        let raw: RawAdvisory =
            toml::from_str(front).map_err(|error| error.to_string().trim().to_owned())?;
        let mut safe = Vec::new();
        for requirement in raw.versions.patched.iter().chain(&raw.versions.unaffected) {
            let parsed = VersionReq::parse(requirement)
                .map_err(|error| format!("version requirement `{requirement}`: {error}"))?;
            safe.push(SafeRange::from_requirement(&parsed)?);
        }
        let title = markdown
            .lines()
            .find_map(|line| line.strip_prefix("# "))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let informational = raw
            .advisory
            .informational
            .filter(|word| !word.trim().is_empty());
        let severity = match (&raw.advisory.cvss, &informational) {
            (_, Some(_)) => Severity::Info,
            (Some(vector), None) => cvss::severity(vector),
            (None, None) => Severity::Unknown,
        };
        Ok(Advisory {
            id: raw.advisory.id,
            package: raw.advisory.package,
            aliases: raw.advisory.aliases,
            title,
            severity,
            informational,
            withdrawn: raw.advisory.withdrawn.is_some(),
            source: raw.advisory.source,
            safe,
        })
    }
}

#[derive(Deserialize)]
struct RawAdvisory {
    advisory: RawMetadata,
    #[serde(default)]
    versions: RawVersions,
}

#[derive(Deserialize)]
struct RawMetadata {
    id: String,
    package: String,
    #[serde(default)]
    aliases: Vec<String>,
    cvss: Option<String>,
    informational: Option<String>,
    withdrawn: Option<toml::Value>,
    source: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawVersions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// A RustSec advisory-db directory (`crates/<name>/RUSTSEC-*.md`), read lazily: only the
/// folders of crates that a lockfile names are parsed.
#[derive(Debug, Clone)]
pub struct AdvisoryDb {
    root: PathBuf,
}

impl AdvisoryDb {
    /// Opens a database directory, checking that it looks like one.
    pub fn open(root: &Path) -> Result<AdvisoryDb> {
        let not_db = |reason: String| Error::NotAdvisoryDb {
            path: root.to_path_buf(),
            reason,
        };
        if !root.is_dir() {
            return Err(not_db(if root.exists() {
                "it is not a directory".into()
            } else {
                "it does not exist".into()
            }));
        }
        let crates = root.join("crates");
        let entries = std::fs::read_dir(&crates)
            .map_err(|_| not_db("it has no `crates/` folder of advisories".into()))?;
        let has_advisory = entries.flatten().any(|entry| {
            std::fs::read_dir(entry.path())
                .map(|files| {
                    files
                        .flatten()
                        .any(|file| is_advisory_name(&file.file_name().to_string_lossy()))
                })
                .unwrap_or(false)
        });
        if !has_advisory {
            return Err(not_db(
                "`crates/` holds no `<crate>/RUSTSEC-*.md` advisory".into(),
            ));
        }
        Ok(AdvisoryDb {
            root: root.to_path_buf(),
        })
    }

    /// The advisories about `package`, withdrawn ones included.
    pub fn advisories_for(&self, package: &str) -> Result<Vec<Advisory>> {
        // A crate name never holds a path separator; refuse one rather than escape the folder.
        if package.contains(['/', '\\']) || package.starts_with('.') {
            return Ok(Vec::new());
        }
        let folder = self.root.join("crates").join(package);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return Ok(Vec::new());
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .is_some_and(|name| is_advisory_name(&name.to_string_lossy()))
            })
            .collect();
        paths.sort();
        let mut advisories = Vec::with_capacity(paths.len());
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|error| Error::ParseAdvisory {
                path: path.clone(),
                detail: error.to_string(),
            })?;
            let advisory = Advisory::parse(&text).map_err(|detail| Error::ParseAdvisory {
                path: path.clone(),
                detail,
            })?;
            if advisory.package != package {
                return Err(Error::ParseAdvisory {
                    path,
                    detail: format!(
                        "it is about `{}`, but lies in the folder of `{package}`",
                        advisory.package
                    ),
                });
            }
            advisories.push(advisory);
        }
        Ok(advisories)
    }
}

fn is_advisory_name(name: &str) -> bool {
    name.starts_with("RUSTSEC-") && name.ends_with(".md")
}

/// Audits a lockfile: one finding per (advisory, package version) that applies.
/// `lockfile_label` is the repo-relative path findings point at.
pub fn audit(lockfile: &Lockfile, db: &AdvisoryDb, lockfile_label: &str) -> Result<Vec<Finding>> {
    let mut cache: BTreeMap<String, Vec<Advisory>> = BTreeMap::new();
    let mut findings = Vec::new();
    for package in &lockfile.packages {
        if package.source.as_deref() != Some(CRATES_IO) {
            continue;
        }
        if !cache.contains_key(&package.name) {
            cache.insert(package.name.clone(), db.advisories_for(&package.name)?);
        }
        for advisory in &cache[&package.name] {
            if advisory.withdrawn
                || advisory
                    .source
                    .as_deref()
                    .is_some_and(|source| source != CRATES_IO)
            {
                continue;
            }
            if !advisory.affects(&package.version) {
                continue;
            }
            let informational = advisory.informational.clone();
            let kind = match informational.as_deref() {
                None => FindingKind::Vulnerability,
                // rustsec reports only these three kinds of informational advisories.
                Some("unmaintained" | "unsound" | "notice") => FindingKind::Informational,
                Some(_) => continue,
            };
            findings.push(Finding {
                tool: "rustsec".into(),
                id: advisory.id.clone(),
                aliases: advisory.aliases.clone(),
                kind,
                severity: advisory.severity,
                informational,
                message: format!("{} {}: {}", package.name, package.version, advisory.title),
                path: Some(lockfile_label.to_owned()),
                line: Some(package.line),
                package: Some(Package {
                    name: package.name.clone(),
                    version: package.version.to_string(),
                }),
            });
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(patched: &[&str], unaffected: &[&str]) -> Advisory {
        let quote = |items: &[&str]| {
            items
                .iter()
                .map(|i| format!("{i:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let text = format!(
            "```toml\n[advisory]\nid = \"RUSTSEC-2000-0001\"\npackage = \"x\"\ndate = \"2000-01-01\"\n\n[versions]\npatched = [{}]\nunaffected = [{}]\n```\n\n# Title\n",
            quote(patched),
            quote(unaffected)
        );
        Advisory::parse(&text).unwrap()
    }

    fn check(patched: &[&str], unaffected: &[&str], version: &str, affected: bool) {
        let advisory = advisory(patched, unaffected);
        assert_eq!(
            advisory.affects(&Version::parse(version).unwrap()),
            affected,
            "{patched:?} {unaffected:?} {version}"
        );
    }

    #[test]
    fn version_matching_follows_rustsec() {
        check(
            &[">= 0.6.3", "^0.3.4", "^0.4.5", "^0.5.1"],
            &["< 0.3.2"],
            "0.6.2",
            true,
        );
        check(
            &[">= 0.6.3", "^0.3.4", "^0.4.5", "^0.5.1"],
            &["< 0.3.2"],
            "0.6.3",
            false,
        );
        check(
            &[">= 0.6.3", "^0.3.4", "^0.4.5", "^0.5.1"],
            &["< 0.3.2"],
            "0.4.4",
            true,
        );
        check(
            &[">= 0.6.3", "^0.3.4", "^0.4.5", "^0.5.1"],
            &["< 0.3.2"],
            "0.4.9",
            false,
        );
        check(
            &[">= 0.6.3", "^0.3.4", "^0.4.5", "^0.5.1"],
            &["< 0.3.2"],
            "0.3.1",
            false,
        );
        check(&[], &[], "9.9.9", true);
        // A pre-release above a patched bound is patched by precedence, unlike VersionReq::matches.
        check(&[">= 1.0.0"], &[], "2.0.0-alpha.1", false);
        check(&["~1.2.3"], &[], "1.3.0-rc.1", true);
        check(&["=1.2.3"], &[], "1.2.3", false);
    }

    #[test]
    fn lockfile_lines_and_errors() {
        let lockfile = Lockfile::parse("version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"b\"\nversion = \"0.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n").unwrap();
        assert_eq!(lockfile.packages[1].line, 8);
        assert!(Lockfile::parse("").is_err());
        assert!(Lockfile::parse("[[package]]\nname = \"a\"\nversion = \"one\"\n").is_err());
        assert!(Lockfile::parse("[workspace]\n").is_err());
    }
}
