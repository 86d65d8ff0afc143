//! Turning a [`Verdict`] into text: the terminal table, JSON, GitHub Actions workflow
//! commands, a Markdown step summary and SARIF 2.1.0. Every function returns a `String`;
//! the binary decides where it goes.

use std::fmt::Write as _;

use serde_json::json;

use crate::model::Severity;
use crate::verdict::{FindingStatus, JudgedFinding, Verdict};

/// How much the terminal output says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Only the outcome and failing rules.
    Quiet,
    /// Rules, worst files, failing findings and a count of the rest.
    #[default]
    Normal,
    /// Everything, every finding included.
    Verbose,
}

/// Options of the terminal renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalStyle {
    /// Whether to use ANSI colours.
    pub color: bool,
    /// How much to say.
    pub verbosity: Verbosity,
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

fn location(finding: &JudgedFinding) -> String {
    let finding = &finding.finding;
    match (&finding.path, finding.line, &finding.package) {
        (Some(path), Some(line), _) => format!("{path}:{line}"),
        (Some(path), None, _) => path.clone(),
        (None, _, Some(package)) => format!("{} {}", package.name, package.version),
        (None, _, None) => "-".into(),
    }
}

/// Pads columns to the widest cell, two spaces apart.
fn table(rows: &[Vec<String>], widths_from: &[Vec<String>]) -> Vec<String> {
    let columns = widths_from.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            widths_from
                .iter()
                .filter_map(|row| row.get(column))
                .map(|cell| visible_len(cell))
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::from("  ");
            for (column, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if column + 1 < row.len() {
                    line.push_str(
                        &" ".repeat(widths[column].saturating_sub(visible_len(cell)) + 2),
                    );
                }
            }
            line
        })
        .collect()
}

/// Length without ANSI escapes.
fn visible_len(text: &str) -> usize {
    let mut length = 0;
    let mut in_escape = false;
    for character in text.chars() {
        match (in_escape, character) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => length += 1,
        }
    }
    length
}

/// The verdict as a terminal report.
pub fn terminal(verdict: &Verdict, style: TerminalStyle) -> String {
    let color = style.color;
    let mut out = String::new();
    let failed = verdict.rules.iter().filter(|rule| !rule.passed).count();
    let headline = if verdict.passed {
        paint(
            &match verdict.rules.len() {
                1 => "gate: PASSED (1 rule holds)".to_owned(),
                count => format!("gate: PASSED (all {count} rules hold)"),
            },
            &format!("{BOLD}{GREEN}"),
            color,
        )
    } else {
        paint(
            &format!(
                "gate: FAILED ({failed} of {} rules failed)",
                verdict.rules.len()
            ),
            &format!("{BOLD}{RED}"),
            color,
        )
    };
    let _ = writeln!(out, "{headline}");
    let shown: Vec<_> = verdict
        .rules
        .iter()
        .filter(|rule| style.verbosity != Verbosity::Quiet || !rule.passed)
        .collect();
    if !shown.is_empty() {
        let header = vec![
            "rule".to_owned(),
            "value".to_owned(),
            "threshold".to_owned(),
            "result".to_owned(),
        ];
        let plain: Vec<Vec<String>> = std::iter::once(header.clone())
            .chain(shown.iter().map(|rule| {
                vec![
                    rule.rule.clone(),
                    rule.value.clone(),
                    rule.threshold.clone(),
                    if rule.passed { "pass" } else { "FAIL" }.into(),
                ]
            }))
            .collect();
        let mut rows = vec![
            header
                .iter()
                .map(|h| paint(h, BOLD, color))
                .collect::<Vec<_>>(),
        ];
        for (rule, cells) in shown.iter().zip(plain.iter().skip(1)) {
            let mut cells = cells.clone();
            cells[3] = if rule.passed {
                paint("pass", GREEN, color)
            } else {
                paint("FAIL", RED, color)
            };
            rows.push(cells);
        }
        out.push('\n');
        for line in table(&rows, &plain) {
            let _ = writeln!(out, "{line}");
        }
    }
    if style.verbosity == Verbosity::Quiet {
        return out;
    }
    if let Some(totals) = verdict.totals {
        let describe = |name: &str, counter: crate::model::Counter| {
            counter
                .percent()
                .map(|p| format!("{name} {p:.1}% ({}/{})", counter.covered, counter.total))
        };
        let parts: Vec<String> = [
            describe("lines", totals.lines),
            describe("branches", totals.branches),
            describe("functions", totals.functions),
        ]
        .into_iter()
        .flatten()
        .collect();
        let _ = writeln!(out, "\ncoverage: {}", parts.join(", "));
    }
    if !verdict.worst_files.is_empty() {
        let _ = writeln!(out, "\nleast covered files:");
        let rows: Vec<Vec<String>> = verdict
            .worst_files
            .iter()
            .map(|file| {
                let lines: Vec<String> = file
                    .uncovered_lines
                    .iter()
                    .take(6)
                    .map(u32::to_string)
                    .collect();
                vec![
                    format!("{:.1}%", file.percent),
                    format!("({}/{})", file.covered, file.total),
                    file.path.clone(),
                    format!("uncovered: {}", lines.join(", ")),
                ]
            })
            .collect();
        for line in table(&rows, &rows) {
            let _ = writeln!(out, "{line}");
        }
    }
    if !verdict.findings.is_empty() {
        let count = |status: FindingStatus| {
            verdict
                .findings
                .iter()
                .filter(|f| f.status == status)
                .count()
        };
        let _ = writeln!(
            out,
            "\nfindings: {} failing, {} warnings, {} below threshold, {} allowed",
            count(FindingStatus::Fails),
            count(FindingStatus::Warning),
            count(FindingStatus::BelowThreshold),
            count(FindingStatus::Allowed)
        );
        let limit = if style.verbosity == Verbosity::Verbose {
            usize::MAX
        } else {
            20
        };
        let listed: Vec<&JudgedFinding> = verdict
            .findings
            .iter()
            .filter(|f| {
                style.verbosity == Verbosity::Verbose
                    || matches!(f.status, FindingStatus::Fails | FindingStatus::Warning)
            })
            .take(limit)
            .collect();
        let rows: Vec<Vec<String>> = listed
            .iter()
            .map(|judged| {
                let status = match judged.status {
                    FindingStatus::Fails => "FAIL",
                    FindingStatus::Warning => "warn",
                    FindingStatus::BelowThreshold => "low",
                    FindingStatus::Allowed => "allowed",
                };
                vec![
                    status.to_owned(),
                    judged.finding.severity.name().to_owned(),
                    judged.finding.id.clone(),
                    location(judged),
                    format!("{} [{}]", judged.finding.message, judged.finding.tool),
                ]
            })
            .collect();
        let painted: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                let mut row = row.clone();
                row[0] = match row[0].as_str() {
                    "FAIL" => paint("FAIL", RED, color),
                    "warn" => paint("warn", YELLOW, color),
                    other => other.to_owned(),
                };
                row
            })
            .collect();
        for line in table(&painted, &rows) {
            let _ = writeln!(out, "{line}");
        }
        let hidden = verdict.findings.len() - listed.len();
        if hidden > 0 {
            let _ = writeln!(out, "  … {hidden} more (use -v or --json to see all)");
        }
    }
    for note in &verdict.notes {
        let _ = writeln!(out, "\nnote: {note}");
    }
    out
}

/// The verdict as pretty JSON.
pub fn json(verdict: &Verdict) -> String {
    serde_json::to_string_pretty(verdict)
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}

/// Escapes a workflow command's message, as GitHub's toolkit does.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (`file`, `title`...).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub shows at most this many error and this many warning annotations per step.
pub const ANNOTATION_LIMIT: usize = 10;

struct Annotation {
    level: &'static str,
    file: Option<String>,
    line: Option<u32>,
    title: String,
    message: String,
}

impl Annotation {
    fn command(&self) -> String {
        let mut properties = Vec::new();
        if let Some(file) = &self.file {
            properties.push(format!("file={}", escape_property(file)));
        }
        if let Some(line) = self.line {
            properties.push(format!("line={line}"));
        }
        properties.push(format!("title={}", escape_property(&self.title)));
        format!(
            "::{} {}::{}",
            self.level,
            properties.join(","),
            escape_data(&self.message)
        )
    }
}

/// GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`), at most
/// [`ANNOTATION_LIMIT`] errors and as many warnings, then a notice counting the rest.
pub fn github_annotations(verdict: &Verdict) -> String {
    let mut annotations = Vec::new();
    for rule in verdict.rules.iter().filter(|rule| !rule.passed) {
        annotations.push(Annotation {
            level: "error",
            file: None,
            line: None,
            title: format!("gate: {}", rule.rule),
            message: format!("{} is {}, needs {}", rule.rule, rule.value, rule.threshold),
        });
    }
    let line_rule_failed = verdict
        .rules
        .iter()
        .any(|rule| !rule.passed && rule.rule.starts_with("coverage."));
    if line_rule_failed {
        for file in &verdict.worst_files {
            annotations.push(Annotation {
                level: "warning",
                file: Some(file.path.clone()),
                line: file.uncovered_lines.first().copied(),
                title: "gate: low coverage".into(),
                message: format!(
                    "{:.1}% of lines covered ({}/{})",
                    file.percent, file.covered, file.total
                ),
            });
        }
    }
    for judged in &verdict.findings {
        let level = match judged.status {
            FindingStatus::Fails => "error",
            FindingStatus::Warning => "warning",
            FindingStatus::BelowThreshold | FindingStatus::Allowed => continue,
        };
        let finding = &judged.finding;
        annotations.push(Annotation {
            level,
            file: finding.path.clone(),
            line: finding.line,
            title: format!(
                "{} {} ({})",
                finding.tool,
                finding.id,
                finding.severity.name()
            ),
            message: finding.message.clone(),
        });
    }
    let mut out = String::new();
    let (mut errors, mut warnings) = (0usize, 0usize);
    let (mut hidden_errors, mut hidden_warnings) = (0usize, 0usize);
    for annotation in &annotations {
        let (shown, hidden) = if annotation.level == "error" {
            (&mut errors, &mut hidden_errors)
        } else {
            (&mut warnings, &mut hidden_warnings)
        };
        if *shown < ANNOTATION_LIMIT {
            *shown += 1;
            out.push_str(&annotation.command());
            out.push('\n');
        } else {
            *hidden += 1;
        }
    }
    if hidden_errors + hidden_warnings > 0 {
        let message = format!(
            "{hidden_errors} more errors and {hidden_warnings} more warnings were not annotated (GitHub shows {ANNOTATION_LIMIT} of each per step); the step summary and `gate check --json` list them all"
        );
        let _ = writeln!(out, "::notice title=gate::{}", escape_data(&message));
    }
    out
}

fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A Markdown summary for `$GITHUB_STEP_SUMMARY`.
pub fn markdown_summary(verdict: &Verdict) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## gate: {}\n",
        if verdict.passed {
            "passed ✅"
        } else {
            "failed ❌"
        }
    );
    let _ = writeln!(
        out,
        "| rule | value | threshold | result |\n| --- | --- | --- | --- |"
    );
    for rule in &verdict.rules {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            markdown_cell(&rule.rule),
            markdown_cell(&rule.value),
            markdown_cell(&rule.threshold),
            if rule.passed { "pass" } else { "**FAIL**" }
        );
    }
    if !verdict.worst_files.is_empty() {
        let _ = writeln!(
            out,
            "\n### Least covered files\n\n| file | lines | covered |\n| --- | --- | --- |"
        );
        for file in &verdict.worst_files {
            let _ = writeln!(
                out,
                "| `{}` | {}/{} | {:.1}% |",
                markdown_cell(&file.path),
                file.covered,
                file.total,
                file.percent
            );
        }
    }
    let listed: Vec<&JudgedFinding> = verdict
        .findings
        .iter()
        .filter(|f| f.status != FindingStatus::BelowThreshold)
        .collect();
    if !listed.is_empty() {
        let _ = writeln!(
            out,
            "\n### Findings\n\n| status | severity | id | where | message |\n| --- | --- | --- | --- | --- |"
        );
        for judged in listed.iter().take(200) {
            let status = match judged.status {
                FindingStatus::Fails => "**fails**",
                FindingStatus::Warning => "warning",
                FindingStatus::Allowed => "allowed",
                FindingStatus::BelowThreshold => "below threshold",
            };
            let _ = writeln!(
                out,
                "| {status} | {} | `{}` | `{}` | {} |",
                judged.finding.severity.name(),
                markdown_cell(&judged.finding.id),
                markdown_cell(&location(judged)),
                markdown_cell(&judged.finding.message)
            );
        }
        if listed.len() > 200 {
            let _ = writeln!(
                out,
                "\n{} more findings are in `gate check --json`.",
                listed.len() - 200
            );
        }
    }
    out
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "0.0",
        Severity::Low => "2.0",
        Severity::Medium => "5.5",
        Severity::High | Severity::Unknown => "8.0",
        Severity::Critical => "9.5",
    }
}

/// Findings as a SARIF 2.1.0 log for code scanning. Allowed findings are included as
/// suppressed results, so the upload records the decision.
pub fn sarif(verdict: &Verdict) -> String {
    let mut rules: Vec<serde_json::Value> = Vec::new();
    let mut rule_ids: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for judged in &verdict.findings {
        let finding = &judged.finding;
        let rule_id = format!("{}/{}", finding.tool, finding.id);
        let rule_index = match rule_ids.iter().position(|id| *id == rule_id) {
            Some(index) => index,
            None => {
                rule_ids.push(rule_id.clone());
                rules.push(json!({
                    "id": rule_id,
                    "shortDescription": { "text": format!("{} {}", finding.tool, finding.id) },
                    "properties": { "security-severity": security_severity(finding.severity), "tags": ["security"] }
                }));
                rule_ids.len() - 1
            }
        };
        let level = match judged.status {
            FindingStatus::Fails => "error",
            FindingStatus::Warning => "warning",
            FindingStatus::BelowThreshold | FindingStatus::Allowed => "note",
        };
        let mut result = json!({
            "ruleId": rule_id,
            "ruleIndex": rule_index,
            "level": level,
            "message": { "text": if finding.message.is_empty() { finding.id.clone() } else { finding.message.clone() } },
        });
        if let Some(path) = &finding.path {
            let mut physical = json!({ "artifactLocation": { "uri": path.replace(' ', "%20") } });
            if let Some(line) = finding.line {
                physical["region"] = json!({ "startLine": line });
            }
            result["locations"] = json!([{ "physicalLocation": physical }]);
        }
        if judged.status == FindingStatus::Allowed {
            result["suppressions"] =
                json!([{ "kind": "external", "justification": judged.allowed_because }]);
        }
        results.push(result);
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "gate",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/spokes-ml/spokes",
                "rules": rules
            } },
            "results": results
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_actions_toolkit() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("C:\\a,b:c%"), "C%3A\\a%2Cb%3Ac%25");
    }
}
