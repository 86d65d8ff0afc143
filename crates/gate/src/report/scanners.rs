//! Security scanner reports: bandit, safety, pip-audit, cargo-audit and SARIF 2.1.0.
//! Each becomes a list of [`Finding`]s; a severity the tool does not state is
//! [`Severity::Unknown`], which fails at every `fail_on` level.

use serde_json::Value;

use crate::cvss;
use crate::error::ParseError;
use crate::model::{Finding, FindingKind, Package, Severity};
use crate::report::Format;
use crate::report::json::{array, field, kind, optional_string, string};

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn line_of(value: Option<&Value>) -> Option<u32> {
    value
        .and_then(Value::as_u64)
        .and_then(|line| u32::try_from(line).ok())
        .filter(|line| *line > 0)
}

/// Reads `bandit -f json`. Files bandit could not scan (`errors`) become findings of
/// unknown severity: a scan that skipped a file cannot pass the gate.
pub(super) fn bandit(value: &Value) -> Result<Vec<Finding>, ParseError> {
    let error = |detail: String| ParseError::new(Format::Bandit, detail);
    let results = array(field(value, "results").map_err(error)?).map_err(error)?;
    let mut findings = Vec::with_capacity(results.len());
    for (index, result) in results.iter().enumerate() {
        let at = |detail: String| error(format!("results[{index}]: {detail}"));
        let id = string(field(result, "test_id").map_err(at)?).map_err(at)?;
        let severity_word = string(field(result, "issue_severity").map_err(at)?).map_err(at)?;
        let severity = Severity::from_word(severity_word).ok_or_else(|| {
            at(format!(
                "unknown issue_severity `{}`",
                super::lcov::clip(severity_word)
            ))
        })?;
        let text = string(field(result, "issue_text").map_err(at)?).map_err(at)?;
        let filename = string(field(result, "filename").map_err(at)?).map_err(at)?;
        let name = optional_string(result, "test_name").unwrap_or_default();
        let cwe = result
            .get("issue_cwe")
            .and_then(|cwe| cwe.get("id"))
            .and_then(Value::as_u64);
        findings.push(Finding {
            tool: "bandit".into(),
            id: id.to_owned(),
            aliases: cwe
                .map(|cwe| vec![format!("CWE-{cwe}")])
                .unwrap_or_default(),
            kind: FindingKind::Code,
            severity,
            informational: None,
            message: if name.is_empty() {
                text.to_owned()
            } else {
                format!("{text} ({name})")
            },
            path: Some(filename.to_owned()),
            line: line_of(result.get("line_number")),
            package: None,
        });
    }
    if let Some(errors) = value.get("errors") {
        for scan_error in array(errors).map_err(error)? {
            let filename = optional_string(scan_error, "filename").unwrap_or("?");
            let reason = optional_string(scan_error, "reason").unwrap_or("no reason given");
            findings.push(Finding {
                tool: "bandit".into(),
                id: "bandit-scan-error".into(),
                aliases: Vec::new(),
                kind: FindingKind::Code,
                severity: Severity::Unknown,
                informational: None,
                message: format!("bandit could not scan this file: {reason}"),
                path: Some(filename.to_owned()),
                line: None,
                package: None,
            });
        }
    }
    Ok(findings)
}

fn dependency(tool: &str, id: &str, name: &str, version: &str) -> Finding {
    Finding {
        tool: tool.into(),
        id: id.to_owned(),
        aliases: Vec::new(),
        kind: FindingKind::Vulnerability,
        severity: Severity::Unknown,
        informational: None,
        message: String::new(),
        path: None,
        line: None,
        package: Some(Package {
            name: name.to_owned(),
            version: version.to_owned(),
        }),
    }
}

/// Reads `safety check --json`: the object form with `vulnerabilities` (safety 2 and 3)
/// and the legacy list of `[name, spec, version, advisory, id, ...]`. Entries safety's own
/// policy marks `ignored` are left out, as safety's exit code leaves them out.
pub(super) fn safety(value: &Value) -> Result<Vec<Finding>, ParseError> {
    let error = |detail: String| ParseError::new(Format::Safety, detail);
    let mut findings = Vec::new();
    if let Value::Array(rows) = value {
        for (index, row) in rows.iter().enumerate() {
            let fields = row
                .as_array()
                .filter(|fields| fields.len() >= 5)
                .ok_or_else(|| {
                    error(format!(
                        "[{index}]: expected `[name, spec, version, advisory, id, ...]`"
                    ))
                })?;
            let text = |i: usize| {
                fields[i]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| fields[i].as_u64().map(|n| n.to_string()))
            };
            let (Some(name), Some(version), Some(advisory), Some(id)) =
                (text(0), text(2), text(3), text(4))
            else {
                return Err(error(format!(
                    "[{index}]: name, version, advisory and id must be strings"
                )));
            };
            let mut finding = dependency("safety", &id, &name, &version);
            finding.message = first_line(&advisory);
            findings.push(finding);
        }
        return Ok(findings);
    }
    let vulnerabilities = array(field(value, "vulnerabilities").map_err(error)?).map_err(error)?;
    for (index, vulnerability) in vulnerabilities.iter().enumerate() {
        let at = |detail: String| error(format!("vulnerabilities[{index}]: {detail}"));
        if vulnerability.get("ignored").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let id = field(vulnerability, "vulnerability_id").map_err(at)?;
        let id = id
            .as_str()
            .map(str::to_owned)
            .or_else(|| id.as_u64().map(|n| n.to_string()))
            .ok_or_else(|| at(format!("vulnerability_id is {}", kind(id))))?;
        let name = string(field(vulnerability, "package_name").map_err(at)?).map_err(at)?;
        let version = optional_string(vulnerability, "analyzed_version").unwrap_or("?");
        let mut finding = dependency("safety", &id, name, version);
        finding.message =
            first_line(optional_string(vulnerability, "advisory").unwrap_or_default());
        if let Some(cve) = optional_string(vulnerability, "CVE").filter(|cve| !cve.is_empty()) {
            finding.aliases.push(cve.to_owned());
        }
        if let Some(severity) = vulnerability.get("severity").filter(|s| !s.is_null()) {
            let cvss3 = severity.get("cvssv3");
            let word = cvss3.and_then(|c| optional_string(c, "base_severity"));
            let score = cvss3
                .and_then(|c| c.get("base_score"))
                .and_then(Value::as_f64);
            finding.severity = word
                .and_then(Severity::from_word)
                .or(score.map(Severity::from_score))
                .unwrap_or(Severity::Unknown);
        }
        findings.push(finding);
    }
    Ok(findings)
}

/// Reads `pip-audit -f json`: `{"dependencies": [{name, version, vulns: [...]}]}` or the
/// older bare list. pip-audit states no severity, so its findings are of unknown severity.
/// A dependency pip-audit skipped (`skip_reason`) becomes an informational `not-audited`
/// finding (a warning under `[audit] informational = "warn"`); a report that skipped every
/// dependency is an error, since it vouches for nothing.
pub(super) fn pip_audit(value: &Value) -> Result<Vec<Finding>, ParseError> {
    let error = |detail: String| ParseError::new(Format::PipAudit, detail);
    let dependencies = match value {
        Value::Array(items) => items,
        _ => array(field(value, "dependencies").map_err(error)?).map_err(error)?,
    };
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let mut audited = 0usize;
    for (index, dependency_entry) in dependencies.iter().enumerate() {
        let at = |detail: String| error(format!("dependencies[{index}]: {detail}"));
        let name = string(field(dependency_entry, "name").map_err(at)?).map_err(at)?;
        if let Some(reason) = dependency_entry.get("skip_reason") {
            let mut finding = dependency("pip-audit", "pip-audit-skipped", name, "?");
            finding.kind = FindingKind::Informational;
            finding.severity = Severity::Info;
            finding.informational = Some("not-audited".into());
            finding.message = format!(
                "{name} was not audited: {}",
                reason.as_str().unwrap_or("no reason given")
            );
            skipped.push(finding);
            continue;
        }
        audited += 1;
        let version = string(field(dependency_entry, "version").map_err(at)?).map_err(at)?;
        let vulns = array(field(dependency_entry, "vulns").map_err(at)?).map_err(at)?;
        for vuln in vulns {
            let id = string(field(vuln, "id").map_err(at)?).map_err(at)?;
            let mut finding = dependency("pip-audit", id, name, version);
            finding.aliases = strings(vuln.get("aliases"));
            let fixes = strings(vuln.get("fix_versions"));
            let description = first_line(optional_string(vuln, "description").unwrap_or_default());
            finding.message = if fixes.is_empty() {
                description
            } else {
                format!("{description} (fixed in {})", fixes.join(", "))
            };
            findings.push(finding);
        }
    }
    // A report in which pip-audit could audit nothing (offline, private index) says
    // "no known vulnerabilities" about nothing; that is not a pass.
    if audited == 0 && !skipped.is_empty() {
        return Err(error(format!(
            "pip-audit audited none of the {} dependencies; the first was skipped: {}",
            skipped.len(),
            skipped[0].message
        )));
    }
    findings.extend(skipped);
    Ok(findings)
}

/// Reads `cargo audit --json`: `vulnerabilities.list` and the `warnings` by kind
/// (unmaintained, unsound, yanked, notice), which become informational findings.
pub(super) fn cargo_audit(value: &Value) -> Result<Vec<Finding>, ParseError> {
    let error = |detail: String| ParseError::new(Format::CargoAudit, detail);
    let vulnerabilities = field(value, "vulnerabilities").map_err(error)?;
    let list = array(field(vulnerabilities, "list").map_err(error)?).map_err(error)?;
    let mut findings = Vec::new();
    let package_of = |entry: &Value,
                      at: &dyn Fn(String) -> ParseError|
     -> Result<(String, String), ParseError> {
        let package = field(entry, "package").map_err(at)?;
        let name = string(field(package, "name").map_err(at)?).map_err(at)?;
        let version = string(field(package, "version").map_err(at)?).map_err(at)?;
        Ok((name.to_owned(), version.to_owned()))
    };
    for (index, entry) in list.iter().enumerate() {
        let at = |detail: String| error(format!("vulnerabilities.list[{index}]: {detail}"));
        let advisory = field(entry, "advisory").map_err(at)?;
        let id = string(field(advisory, "id").map_err(at)?).map_err(at)?;
        let (name, version) = package_of(entry, &at)?;
        let mut finding = dependency("cargo-audit", id, &name, &version);
        finding.aliases = strings(advisory.get("aliases"));
        finding.message = optional_string(advisory, "title")
            .unwrap_or_default()
            .to_owned();
        finding.severity =
            optional_string(advisory, "cvss").map_or(Severity::Unknown, cvss::severity);
        findings.push(finding);
    }
    if let Some(warnings) = value.get("warnings").filter(|w| !w.is_null()) {
        let warnings = warnings
            .as_object()
            .ok_or_else(|| error(format!("`warnings` is {}", kind(warnings))))?;
        for (warning_kind, entries) in warnings {
            for (index, entry) in array(entries).map_err(error)?.iter().enumerate() {
                let at =
                    |detail: String| error(format!("warnings.{warning_kind}[{index}]: {detail}"));
                let (name, version) = package_of(entry, &at)?;
                let advisory = entry.get("advisory").filter(|a| !a.is_null());
                let id = advisory
                    .and_then(|a| optional_string(a, "id"))
                    .unwrap_or(warning_kind);
                let mut finding = dependency("cargo-audit", id, &name, &version);
                finding.kind = FindingKind::Informational;
                finding.severity = Severity::Info;
                finding.informational = Some(warning_kind.clone());
                finding.aliases = strings(advisory.and_then(|a| a.get("aliases")));
                finding.message = advisory
                    .and_then(|a| optional_string(a, "title"))
                    .map_or_else(
                        || format!("{name} {version} is {warning_kind}"),
                        str::to_owned,
                    );
                findings.push(finding);
            }
        }
    }
    Ok(findings)
}

/// Reads SARIF 2.1.0 from any tool. Severity comes from the GitHub convention
/// `properties.security-severity` (a CVSS-like score, on the result or its rule), else from
/// the level (`error` high, `warning` medium, `note` low). Results of kind `pass` or
/// `notApplicable`, and suppressed results, are left out.
pub(super) fn sarif(value: &Value) -> Result<Vec<Finding>, ParseError> {
    let error = |detail: String| ParseError::new(Format::Sarif, detail);
    let version = string(field(value, "version").map_err(error)?).map_err(error)?;
    if version != "2.1.0" {
        return Err(error(format!(
            "SARIF version `{}` is not 2.1.0",
            super::lcov::clip(version)
        )));
    }
    let mut findings = Vec::new();
    for (run_index, run) in array(field(value, "runs").map_err(error)?)
        .map_err(error)?
        .iter()
        .enumerate()
    {
        let at = |detail: String| error(format!("runs[{run_index}]: {detail}"));
        let driver = field(field(run, "tool").map_err(at)?, "driver").map_err(at)?;
        let tool = string(field(driver, "name").map_err(at)?).map_err(at)?;
        let rules = driver
            .get("rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(results) = run.get("results").filter(|r| !r.is_null()) else {
            continue;
        };
        for (index, result) in array(results).map_err(at)?.iter().enumerate() {
            let at =
                |detail: String| error(format!("runs[{run_index}].results[{index}]: {detail}"));
            let result_kind = optional_string(result, "kind").unwrap_or("fail");
            if matches!(result_kind, "pass" | "notApplicable") {
                continue;
            }
            if result
                .get("suppressions")
                .and_then(Value::as_array)
                .is_some_and(|s| {
                    s.iter().any(|suppression| {
                        optional_string(suppression, "status")
                            .is_none_or(|status| status == "accepted")
                    })
                })
            {
                continue;
            }
            let rule = result
                .get("ruleIndex")
                .and_then(Value::as_u64)
                .and_then(|i| rules.get(usize::try_from(i).ok()?))
                .or_else(|| {
                    let id = optional_string(result, "ruleId")?;
                    rules
                        .iter()
                        .find(|rule| optional_string(rule, "id") == Some(id))
                });
            let id = optional_string(result, "ruleId")
                .or_else(|| result.get("rule").and_then(|r| optional_string(r, "id")))
                .or_else(|| rule.and_then(|r| optional_string(r, "id")))
                .unwrap_or("unnamed-rule");
            let message = result
                .get("message")
                .ok_or_else(|| at("missing key `message`".into()))?;
            let text = optional_string(message, "text")
                .or_else(|| optional_string(message, "markdown"))
                .or_else(|| message.get("id").and_then(Value::as_str))
                .unwrap_or_default();
            let security_severity = |holder: Option<&Value>| {
                let property = holder?.get("properties")?.get("security-severity")?;
                property
                    .as_str()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .or_else(|| property.as_f64())
            };
            let level = optional_string(result, "level")
                .or_else(|| {
                    rule.and_then(|r| r.get("defaultConfiguration"))
                        .and_then(|c| optional_string(c, "level"))
                })
                .unwrap_or("warning");
            let severity = match security_severity(Some(result)).or_else(|| security_severity(rule))
            {
                Some(score) => Severity::from_score(score),
                None if result_kind == "informational" => Severity::Info,
                None => match level {
                    "error" => Severity::High,
                    "warning" => Severity::Medium,
                    "note" => Severity::Low,
                    "none" => Severity::Info,
                    other => {
                        return Err(at(format!("unknown level `{}`", super::lcov::clip(other))));
                    }
                },
            };
            let physical = result
                .get("locations")
                .and_then(Value::as_array)
                .and_then(|locations| locations.first())
                .and_then(|location| location.get("physicalLocation"));
            let path = physical
                .and_then(|p| p.get("artifactLocation"))
                .and_then(|a| optional_string(a, "uri"))
                .map(uri_to_path);
            let line = line_of(
                physical
                    .and_then(|p| p.get("region"))
                    .and_then(|r| r.get("startLine")),
            );
            findings.push(Finding {
                tool: tool.to_owned(),
                id: id.to_owned(),
                aliases: Vec::new(),
                kind: FindingKind::Code,
                severity,
                informational: None,
                message: first_line(text),
                path,
                line,
                package: None,
            });
        }
    }
    Ok(findings)
}

/// `file:///C:/a%20b/x.rs` → `C:/a b/x.rs`; relative URIs are only percent-decoded.
fn uri_to_path(uri: &str) -> String {
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    // `file:///C:/...` leaves `/C:/...`; drop the slash before a drive letter.
    let bytes = path.as_bytes();
    let path = if bytes.len() >= 3
        && bytes[0] == b'/'
        && bytes[1].is_ascii_alphabetic()
        && bytes[2] == b':'
    {
        &path[1..]
    } else {
        path
    };
    let mut decoded = Vec::with_capacity(path.len());
    let bytes = path.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(high), Some(low)) = (hex(bytes[index + 1]), hex(bytes[index + 2])) {
                decoded.push((high * 16 + low) as u8);
                index += 3;
                continue;
            }
        }
        decoded.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(uri_to_path("file:///C:/a%20b/x.rs"), "C:/a b/x.rs");
        assert_eq!(uri_to_path("src/lib.rs"), "src/lib.rs");
        assert_eq!(uri_to_path("a%2"), "a%2");
        assert_eq!(uri_to_path("%é"), "%é");
    }
}
