//! Gathering evidence (reports, lockfiles) and judging it against the configuration.
//!
//! [`gather`] does all the reading and fails with an [`Error`] on anything it cannot
//! read; [`judge`] is pure and fails only when a configured rule has no data to judge.
//! A rule that is judged and fails is part of the [`Verdict`], not an error.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audit::{AdvisoryDb, Lockfile};
use crate::config::{Config, Date, Informational, ReportSpec, today};
use crate::error::{Error, Result};
use crate::model::{Coverage, Finding, FindingKind, Report, Severity, Totals};
use crate::paths::PathNormaliser;
use crate::report::{self, Format};

/// What to judge: the configuration plus what the command line adds.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The configuration (`Config::default()` when there is no file).
    pub config: Config,
    /// The project root: relative paths are resolved against it and report paths made
    /// relative to it. Normally the directory of `gate.toml`.
    pub root: PathBuf,
    /// Reports given on the command line, read in addition to `[reports] files`.
    pub reports: Vec<ReportSpec>,
    /// Lockfiles given on the command line, audited in addition to `[audit] lockfiles`.
    pub lockfiles: Vec<PathBuf>,
    /// Advisory database overriding `[audit] advisory_db`.
    pub advisory_db: Option<PathBuf>,
    /// The git base for patch coverage, overriding `[coverage.patch] base`.
    pub base: Option<String>,
    /// The date allow-list expiry is judged against.
    pub today: Date,
}

impl CheckOptions {
    /// Options for `config` with the project at `root`, judged today.
    pub fn new(config: Config, root: PathBuf) -> Self {
        Self {
            config,
            root,
            reports: Vec::new(),
            lockfiles: Vec::new(),
            advisory_db: None,
            base: None,
            today: today(),
        }
    }
}

/// Everything read from disk, ready to judge.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Merged coverage of all coverage reports, if any was given.
    pub coverage: Option<Coverage>,
    /// Findings of all scanner reports and of the built-in audit.
    pub findings: Vec<Finding>,
    /// Whether any findings source (scanner report or lockfile audit) was read, so that
    /// "no findings" can be told from "nothing scanned".
    pub scanned: bool,
    /// What was read, for the verdict's record: `path (format)`.
    pub sources: Vec<String>,
    /// Exit status of each producer `gate run` ran, by command line.
    pub producers: Vec<(String, Option<i32>)>,
    /// Lines changed since the patch-coverage base, when `[coverage.patch]` is set.
    pub changed_lines: Option<crate::patch::ChangedLines>,
    /// The recorded baseline, when `[coverage.ratchet]` is set.
    pub baseline: Option<crate::baseline::Baseline>,
}

fn resolve(root: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    }
}

/// Reads one report file.
pub fn read_report(path: &Path, format: Option<Format>) -> Result<(Format, Report)> {
    let bytes = std::fs::read(path).map_err(|source| Error::ReadReport {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::EmptyReport {
            path: path.to_path_buf(),
        });
    }
    let format = match format {
        Some(format) => format,
        None => report::detect(&bytes).ok_or_else(|| Error::UndetectedFormat {
            path: path.to_path_buf(),
        })?,
    };
    let report = report::read(&bytes, Some(format)).map_err(|source| Error::ParseReport {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((format, report))
}

/// Reads every report and lockfile the options name.
pub fn gather(options: &CheckOptions) -> Result<Evidence> {
    let config = &options.config;
    let normaliser = PathNormaliser::new(&options.root, &config.reports.strip_prefixes);
    let mut evidence = Evidence::default();
    for spec in config.reports.files.iter().chain(&options.reports) {
        let path = resolve(&options.root, &spec.path);
        let (format, report) = read_report(&path, spec.format)?;
        evidence
            .sources
            .push(format!("{} ({format})", spec.path.display()));
        match report {
            Report::Coverage(coverage) => {
                let coverage = normaliser.coverage(coverage);
                evidence
                    .coverage
                    .get_or_insert_with(Coverage::default)
                    .merge(coverage);
            }
            Report::Findings(findings) => {
                evidence.scanned = true;
                evidence.findings.extend(normaliser.findings(findings));
            }
        }
    }
    if let Some(patch) = &config.coverage.patch {
        let base = options
            .base
            .as_ref()
            .or(patch.base.as_ref())
            .ok_or_else(|| Error::NoData {
                rule: "coverage.patch".into(),
                reason: "no git base: set `[coverage.patch] base` or pass --base".into(),
            })?;
        evidence.changed_lines = Some(crate::patch::changed_lines(&options.root, base)?);
    }
    if let Some(ratchet) = &config.coverage.ratchet {
        let file = ratchet
            .file
            .clone()
            .unwrap_or_else(|| PathBuf::from(crate::baseline::DEFAULT_FILE));
        evidence.baseline = Some(crate::baseline::Baseline::read(&resolve(
            &options.root,
            &file,
        ))?);
    }
    let lockfiles: Vec<&PathBuf> = config
        .audit
        .lockfiles
        .iter()
        .chain(&options.lockfiles)
        .collect();
    if !lockfiles.is_empty() {
        let db_path = options.advisory_db.as_ref().or(config.audit.advisory_db.as_ref()).ok_or_else(|| Error::NoData {
            rule: "audit".into(),
            reason: "lockfiles are listed but no advisory database: set `[audit] advisory_db` or pass --advisory-db".into(),
        })?;
        let db = AdvisoryDb::open(&resolve(&options.root, db_path))?;
        for lockfile_path in lockfiles {
            let full_path = resolve(&options.root, lockfile_path);
            let mut lockfile = Lockfile::read(&full_path)?;
            lockfile.path = full_path.clone();
            let label = normaliser.normalise(&full_path.to_string_lossy());
            evidence
                .findings
                .extend(crate::audit::audit(&lockfile, &db, &label)?);
            evidence.sources.push(format!(
                "{} (Cargo.lock, {} packages)",
                lockfile_path.display(),
                lockfile.packages.len()
            ));
            evidence.scanned = true;
        }
    }
    Ok(evidence)
}

/// Reads and judges in one step.
pub fn check(options: &CheckOptions) -> Result<Verdict> {
    let evidence = gather(options)?;
    judge(&options.config, &evidence, options.today)
}

/// How a finding was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingStatus {
    /// It fails the gate.
    Fails,
    /// Reported as a warning (informational advisory under `warn`).
    Warning,
    /// Below `fail_on`: listed, not failing.
    BelowThreshold,
    /// Matched by an unexpired allow-list entry.
    Allowed,
}

/// A finding and its judgement.
#[derive(Debug, Clone, Serialize)]
pub struct JudgedFinding {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// How it was judged.
    pub status: FindingStatus,
    /// The allow-list reason, for allowed findings.
    pub allowed_because: Option<String>,
}

/// One rule of the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    /// Rule name (`coverage.lines`, `coverage.paths[crates/gate/**]`, `security.findings`...).
    pub rule: String,
    /// Whether it holds.
    pub passed: bool,
    /// The measured value as shown (`58.3%`, `2`).
    pub value: String,
    /// The threshold as shown (`>= 60%`, `0 at or above medium`).
    pub threshold: String,
    /// The measured value as a number, where there is one.
    pub measured: Option<f64>,
    /// The threshold as a number, where there is one.
    pub limit: Option<f64>,
}

/// A file's line coverage, for the list of least covered files.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// Repo-relative path.
    pub path: String,
    /// Lines executed.
    pub covered: u64,
    /// Lines instrumented.
    pub total: u64,
    /// Percentage.
    pub percent: f64,
    /// The first few lines never executed.
    pub uncovered_lines: Vec<u32>,
}

/// The gate's judgement.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// True when every rule holds.
    pub passed: bool,
    /// Every rule judged, failing ones included.
    pub rules: Vec<RuleResult>,
    /// Coverage totals, recomputed from per-line data.
    pub totals: Option<Totals>,
    /// The least covered files.
    pub worst_files: Vec<FileSummary>,
    /// Every finding with its judgement, failing ones first.
    pub findings: Vec<JudgedFinding>,
    /// Things worth saying that do not fail the gate (unused allow-list entries...).
    pub notes: Vec<String>,
    /// What was read.
    pub sources: Vec<String>,
}

impl Verdict {
    /// The process exit code for this verdict: 0 pass, 1 a rule failed.
    pub fn exit_code(&self) -> u8 {
        if self.passed { 0 } else { 1 }
    }
}

fn percent_rule(rule: &str, counter: crate::model::Counter, minimum: f64) -> Result<RuleResult> {
    let percent = counter.percent().ok_or_else(|| Error::NoData {
        rule: rule.to_owned(),
        reason: "the coverage reports hold no such data (0 instrumented)".into(),
    })?;
    Ok(RuleResult {
        rule: rule.to_owned(),
        passed: percent + 1e-9 >= minimum,
        value: format!("{percent:.1}% ({}/{})", counter.covered, counter.total),
        threshold: format!(">= {minimum}%"),
        measured: Some(percent),
        limit: Some(minimum),
    })
}

/// Judges evidence against a configuration.
pub fn judge(config: &Config, evidence: &Evidence, today: Date) -> Result<Verdict> {
    let mut rules = Vec::new();
    let mut notes = Vec::new();
    for (command, status) in &evidence.producers {
        rules.push(RuleResult {
            rule: format!("run `{command}`"),
            passed: *status == Some(0),
            value: status.map_or_else(
                || "killed by a signal".to_owned(),
                |code| format!("exit {code}"),
            ),
            threshold: "exit 0".into(),
            measured: status.map(f64::from),
            limit: Some(0.0),
        });
    }

    // Coverage.
    let coverage_config = &config.coverage;
    let wants_coverage = coverage_config.min_lines.is_some()
        || coverage_config.min_branches.is_some()
        || coverage_config.min_functions.is_some()
        || !coverage_config.paths.is_empty()
        || coverage_config.patch.is_some()
        || coverage_config.ratchet.is_some();
    if wants_coverage && evidence.coverage.is_none() {
        return Err(Error::NoData {
            rule: "coverage".into(),
            reason: "coverage thresholds are set but no coverage report was given".into(),
        });
    }
    let totals = evidence.coverage.as_ref().map(Coverage::totals);
    let mut worst_files = Vec::new();
    if let (Some(coverage), Some(totals)) = (&evidence.coverage, totals) {
        if let Some(minimum) = coverage_config.min_lines {
            rules.push(percent_rule("coverage.lines", totals.lines, minimum)?);
        }
        if let Some(minimum) = coverage_config.min_branches {
            rules.push(percent_rule("coverage.branches", totals.branches, minimum)?);
        }
        if let Some(minimum) = coverage_config.min_functions {
            rules.push(percent_rule(
                "coverage.functions",
                totals.functions,
                minimum,
            )?);
        }
        for path_rule in &coverage_config.paths {
            let matcher = globset::Glob::new(&path_rule.glob)
                .map_err(|error| Error::InvalidConfig {
                    path: PathBuf::from("gate.toml"),
                    key: "coverage.paths.glob".into(),
                    reason: error.to_string(),
                })?
                .compile_matcher();
            let mut counter = crate::model::Counter::default();
            let mut matched = 0usize;
            for (path, file) in &coverage.files {
                if matcher.is_match(path) {
                    matched += 1;
                    counter.add(file.totals().lines);
                }
            }
            let name = format!("coverage.paths[{}]", path_rule.glob);
            if matched == 0 {
                return Err(Error::NoData {
                    rule: name,
                    reason: "no file in the coverage reports matches the glob".into(),
                });
            }
            rules.push(percent_rule(&name, counter, path_rule.min_lines)?);
        }
        if let (Some(patch), Some(changed)) = (&coverage_config.patch, &evidence.changed_lines) {
            let mut counter = crate::model::Counter::default();
            for (path, lines) in changed {
                if let Some(file) = coverage.files.get(path) {
                    for line in lines {
                        if let Some(hits) = file.lines.get(line) {
                            counter.total += 1;
                            counter.covered += u64::from(*hits > 0);
                        }
                    }
                }
            }
            let minimum_changed = patch.min_changed_lines.unwrap_or(1);
            if counter.total < minimum_changed.max(1) {
                notes.push(format!(
                    "patch coverage not judged: {} changed instrumented lines, fewer than min_changed_lines = {minimum_changed}",
                    counter.total
                ));
            } else {
                rules.push(percent_rule("coverage.patch", counter, patch.min_lines)?);
            }
        }
        if let (Some(ratchet), Some(baseline)) = (&coverage_config.ratchet, &evidence.baseline) {
            let tolerance = ratchet.tolerance.unwrap_or(0.0);
            let current = totals.lines.percent().unwrap_or(0.0);
            let floor = baseline.lines - tolerance;
            rules.push(RuleResult {
                rule: "coverage.ratchet".into(),
                passed: current + 1e-9 >= floor,
                value: format!("{current:.2}%"),
                threshold: format!(
                    ">= {floor:.2}% (baseline {:.2}% - {tolerance})",
                    baseline.lines
                ),
                measured: Some(current),
                limit: Some(floor),
            });
            if current > baseline.lines + 0.005 {
                notes.push(format!("line coverage rose to {current:.2}% from the baseline {:.2}%; `gate baseline` records it", baseline.lines));
            }
            for (path, recorded) in &baseline.files {
                let now = coverage
                    .files
                    .get(path)
                    .and_then(|file| file.totals().lines.percent());
                if let Some(now) = now.filter(|now| *now + tolerance + 0.005 < *recorded) {
                    notes.push(format!(
                        "coverage of {path} dropped from {recorded:.2}% to {now:.2}%"
                    ));
                }
            }
        }
        let mut files: Vec<FileSummary> = coverage
            .files
            .iter()
            .filter_map(|(path, file)| {
                let lines = file.totals().lines;
                Some(FileSummary {
                    path: path.clone(),
                    covered: lines.covered,
                    total: lines.total,
                    percent: lines.percent()?,
                    uncovered_lines: file.uncovered_lines().take(10).collect(),
                })
            })
            .filter(|file| file.covered < file.total)
            .collect();
        files.sort_by(|a, b| {
            a.percent
                .total_cmp(&b.percent)
                .then((b.total - b.covered).cmp(&(a.total - a.covered)))
                .then(a.path.cmp(&b.path))
        });
        files.truncate(coverage_config.worst_files.unwrap_or(10));
        worst_files = files;
    }

    // Findings and the allow-list.
    let fail_on = config
        .security
        .fail_on
        .map_or(Severity::Low, |level| level.severity());
    let informational = config.audit.informational.unwrap_or_default();
    let mut used_entries = vec![false; config.security.allow.len()];
    let mut findings = Vec::with_capacity(evidence.findings.len());
    for finding in &evidence.findings {
        if finding.kind == FindingKind::Informational && informational == Informational::Ignore {
            continue;
        }
        // An expired entry allows nothing: the finding fails again, and the entry fails too.
        let allow = config.security.allow.iter().enumerate().find(|(_, entry)| {
            finding.is_known_as(&entry.id) && entry.expiry().is_some_and(|expiry| expiry >= today)
        });
        let (status, allowed_because) = match allow {
            Some((index, entry)) => {
                used_entries[index] = true;
                (FindingStatus::Allowed, Some(entry.reason.clone()))
            }
            None if finding.kind == FindingKind::Informational => match informational {
                Informational::Deny => (FindingStatus::Fails, None),
                _ => (FindingStatus::Warning, None),
            },
            None if finding.severity >= fail_on => (FindingStatus::Fails, None),
            None => (FindingStatus::BelowThreshold, None),
        };
        findings.push(JudgedFinding {
            finding: finding.clone(),
            status,
            allowed_because,
        });
    }
    findings.sort_by_key(|judged| {
        let rank = match judged.status {
            FindingStatus::Fails => 0,
            FindingStatus::Warning => 1,
            FindingStatus::BelowThreshold => 2,
            FindingStatus::Allowed => 3,
        };
        (rank, std::cmp::Reverse(judged.finding.severity))
    });
    if evidence.scanned || config.security.fail_on.is_some() {
        if !evidence.scanned {
            return Err(Error::NoData {
                rule: "security.findings".into(),
                reason: "`[security] fail_on` is set but no scanner report or lockfile was given"
                    .into(),
            });
        }
        let failing = findings
            .iter()
            .filter(|j| {
                j.status == FindingStatus::Fails && j.finding.kind != FindingKind::Informational
            })
            .count();
        rules.push(RuleResult {
            rule: "security.findings".into(),
            passed: failing == 0,
            value: failing.to_string(),
            threshold: format!("0 at or above {}", fail_on.name()),
            measured: Some(failing as f64),
            limit: Some(0.0),
        });
        if informational == Informational::Deny {
            let failing = findings
                .iter()
                .filter(|j| {
                    j.status == FindingStatus::Fails && j.finding.kind == FindingKind::Informational
                })
                .count();
            rules.push(RuleResult {
                rule: "audit.informational".into(),
                passed: failing == 0,
                value: failing.to_string(),
                threshold: "0 (informational = deny)".into(),
                measured: Some(failing as f64),
                limit: Some(0.0),
            });
        }
    }
    for (index, entry) in config.security.allow.iter().enumerate() {
        let expiry = entry.expiry();
        if expiry.is_none_or(|expiry| expiry < today) {
            rules.push(RuleResult {
                rule: format!("security.allow[{}]", entry.id),
                passed: false,
                value: format!(
                    "expired {}",
                    expiry.map_or_else(|| "?".to_owned(), |d| d.to_string())
                ),
                threshold: format!("not expired on {today}"),
                measured: None,
                limit: None,
            });
        } else if !used_entries[index] && evidence.scanned {
            notes.push(format!(
                "allow-list entry `{}` matched no finding; it can be removed",
                entry.id
            ));
        }
    }

    if rules.is_empty() {
        return Err(Error::NoData {
            rule: "gate".into(),
            reason:
                "nothing to judge: no threshold is configured and no report or lockfile was given"
                    .into(),
        });
    }
    Ok(Verdict {
        passed: rules.iter().all(|rule| rule.passed),
        rules,
        totals,
        worst_files,
        findings,
        notes,
        sources: evidence.sources.clone(),
    })
}
