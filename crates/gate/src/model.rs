//! What readers produce: per-line coverage and security findings, independent of the
//! format they came from. Totals are always computed here from the per-line data.

use std::collections::BTreeMap;

use serde::Serialize;

/// One branch outcome: a line, a position on it (block, column or index, whatever the
/// format gives) and which way the branch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BranchId {
    /// The line the branch is on.
    pub line: u32,
    /// A position on the line that tells branches apart (LCOV block, llvm column).
    pub block: u32,
    /// Which outcome of the branch.
    pub outcome: u32,
}

/// A function and how often it was entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FunctionHits {
    /// The line it starts on (0 when the format does not say).
    pub line: u32,
    /// How often it was called.
    pub hits: u64,
}

/// Coverage of one source file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileCoverage {
    /// Hit count of every instrumented line.
    pub lines: BTreeMap<u32, u64>,
    /// Hit count of every branch outcome.
    pub branches: BTreeMap<BranchId, u64>,
    /// Functions by name.
    pub functions: BTreeMap<String, FunctionHits>,
}

impl FileCoverage {
    /// Adds another record of the same file: hit counts are summed, as `lcov -a` does.
    pub fn merge(&mut self, other: &FileCoverage) {
        for (line, hits) in &other.lines {
            let entry = self.lines.entry(*line).or_insert(0);
            *entry = entry.saturating_add(*hits);
        }
        for (branch, hits) in &other.branches {
            let entry = self.branches.entry(*branch).or_insert(0);
            *entry = entry.saturating_add(*hits);
        }
        for (name, function) in &other.functions {
            self.functions
                .entry(name.clone())
                .and_modify(|existing| {
                    existing.hits = existing.hits.saturating_add(function.hits);
                    if existing.line == 0 {
                        existing.line = function.line;
                    }
                })
                .or_insert(*function);
        }
    }

    /// Covered and total lines, branch outcomes and functions of this file.
    pub fn totals(&self) -> Totals {
        Totals {
            lines: Counter::count(self.lines.values().copied()),
            branches: Counter::count(self.branches.values().copied()),
            functions: Counter::count(self.functions.values().map(|f| f.hits)),
        }
    }

    /// Instrumented lines that were never executed, in order.
    pub fn uncovered_lines(&self) -> impl Iterator<Item = u32> + '_ {
        self.lines
            .iter()
            .filter(|(_, hits)| **hits == 0)
            .map(|(line, _)| *line)
    }
}

/// Covered out of total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counter {
    /// Items executed at least once.
    pub covered: u64,
    /// Items instrumented.
    pub total: u64,
}

impl Counter {
    fn count(hits: impl Iterator<Item = u64>) -> Self {
        let mut counter = Counter::default();
        for hit in hits {
            counter.total += 1;
            counter.covered += u64::from(hit > 0);
        }
        counter
    }

    /// Percentage covered, or `None` when nothing is instrumented.
    pub fn percent(&self) -> Option<f64> {
        (self.total > 0).then(|| self.covered as f64 * 100.0 / self.total as f64)
    }

    /// Adds another counter.
    pub fn add(&mut self, other: Counter) {
        self.covered += other.covered;
        self.total += other.total;
    }
}

/// Line, branch and function counters together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Lines.
    pub lines: Counter,
    /// Branch outcomes.
    pub branches: Counter,
    /// Functions.
    pub functions: Counter,
}

impl Totals {
    /// Adds another set of counters.
    pub fn add(&mut self, other: Totals) {
        self.lines.add(other.lines);
        self.branches.add(other.branches);
        self.functions.add(other.functions);
    }
}

/// Coverage of many files, keyed by path (repo-relative with `/` once normalised).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Files by path.
    pub files: BTreeMap<String, FileCoverage>,
}

impl Coverage {
    /// Adds a record for `path`, merging with an earlier record of the same path.
    pub fn add_file(&mut self, path: String, file: FileCoverage) {
        match self.files.get_mut(&path) {
            Some(existing) => existing.merge(&file),
            None => {
                self.files.insert(path, file);
            }
        }
    }

    /// Merges every file of `other` into this coverage.
    pub fn merge(&mut self, other: Coverage) {
        for (path, file) in other.files {
            self.add_file(path, file);
        }
    }

    /// Totals over all files, recomputed from the per-line data.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for file in self.files.values() {
            totals.add(file.totals());
        }
        totals
    }
}

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical < Unknown`.
///
/// `Unknown` (a vulnerability whose report states no severity, or a CVSS 4.0 vector,
/// whose score this crate does not compute) sorts above `Critical` so that the gate fails
/// closed: an unrated vulnerability fails at every `fail_on` level.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational only.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
    /// Not stated by the source.
    Unknown,
}

impl Severity {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
            Severity::Unknown => "unknown",
        }
    }

    /// Parses a severity word as tools write it (`LOW`, `Medium`, `moderate`, `error`...).
    pub fn from_word(word: &str) -> Option<Severity> {
        Some(match word.trim().to_ascii_lowercase().as_str() {
            "info" | "informational" | "none" | "note" | "undefined" => Severity::Info,
            "low" => Severity::Low,
            "medium" | "moderate" | "warning" => Severity::Medium,
            "high" | "error" => Severity::High,
            "critical" => Severity::Critical,
            "unknown" => Severity::Unknown,
            _ => return None,
        })
    }

    /// The severity band of a CVSS base score, as NVD defines it.
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Info
        }
    }
}

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// A weakness in the project's own code (bandit, SARIF).
    Code,
    /// A dependency with a known vulnerability.
    Vulnerability,
    /// An informational advisory (unmaintained, unsound, notice): a warning by default.
    Informational,
}

/// A package and version a dependency finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// Installed or locked version.
    pub version: String,
}

/// One security finding, from a scanner report or the built-in audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The tool that reported it (`bandit`, `pip-audit`, `rustsec`, a SARIF driver...).
    pub tool: String,
    /// The rule or advisory id (`B602`, `PYSEC-2023-1`, `RUSTSEC-2020-0071`).
    pub id: String,
    /// Other ids of the same advisory (CVE, GHSA); allow-list entries match these too.
    pub aliases: Vec<String>,
    /// Kind of finding.
    pub kind: FindingKind,
    /// How bad it is.
    pub severity: Severity,
    /// For informational advisories, the kind (`unmaintained`, `unsound`, `notice`).
    pub informational: Option<String>,
    /// One-line description.
    pub message: String,
    /// Source file, repo-relative with `/`, if the finding has a place.
    pub path: Option<String>,
    /// Line in `path`, 1-based.
    pub line: Option<u32>,
    /// The affected package for dependency findings.
    pub package: Option<Package>,
}

impl Finding {
    /// Whether this finding is known by `id`, directly or as an alias.
    pub fn is_known_as(&self, id: &str) -> bool {
        self.id == id || self.aliases.iter().any(|alias| alias == id)
    }
}

/// What one report contained.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Coverage data.
    Coverage(Coverage),
    /// Security findings.
    Findings(Vec<Finding>),
}
