//! Readers on real reports from the real tools (see `fixtures/README.md`): the totals
//! gate recomputes must agree with the ones the tools printed, and the same run read from
//! different formats must agree with itself.

use std::path::{Path, PathBuf};

use gate::model::{FindingKind, Report};
use gate::{Format, Severity};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn read(path: &str) -> (Format, Report) {
    let bytes = std::fs::read(fixture(path)).unwrap();
    let format =
        gate::report::detect(&bytes).unwrap_or_else(|| panic!("{path}: format not detected"));
    (
        format,
        gate::report::read(&bytes, None).unwrap_or_else(|e| panic!("{path}: {e}")),
    )
}

fn coverage(path: &str) -> gate::Coverage {
    match read(path).1 {
        Report::Coverage(coverage) => coverage,
        Report::Findings(_) => panic!("{path} is not coverage"),
    }
}

fn findings(path: &str) -> Vec<gate::Finding> {
    match read(path).1 {
        Report::Findings(findings) => findings,
        Report::Coverage(_) => panic!("{path} is not findings"),
    }
}

#[test]
fn formats_are_detected_from_content() {
    for (path, expected) in [
        ("python/coverage.xml", Format::Cobertura),
        ("python/coverage.lcov", Format::Lcov),
        ("python/coverage-windows-crlf.lcov", Format::Lcov),
        ("python/bandit.json", Format::Bandit),
        ("python/bandit.sarif", Format::Sarif),
        ("python/pip-audit-skipped.json", Format::PipAudit),
        ("handwritten/pip-audit.json", Format::PipAudit),
        ("handwritten/safety.json", Format::Safety),
        ("handwritten/safety-legacy.json", Format::Safety),
        ("rust-vulnerable/cargo-audit.json", Format::CargoAudit),
        ("rust-tiny/llvm-cov.json", Format::LlvmCovJson),
        ("rust-tiny/lcov.info", Format::Lcov),
    ] {
        let bytes = std::fs::read(fixture(path)).unwrap();
        assert_eq!(gate::report::detect(&bytes), Some(expected), "{path}");
    }
}

#[test]
fn coverage_py_cobertura_and_lcov_agree_with_coverage_py() {
    // coverage.py wrote lines-valid="23" lines-covered="11" branches-valid="8" branches-covered="4".
    let xml = coverage("python/coverage.xml").totals();
    assert_eq!((xml.lines.covered, xml.lines.total), (11, 23));
    assert_eq!((xml.branches.covered, xml.branches.total), (4, 8));
    let lcov = coverage("python/coverage.lcov").totals();
    assert_eq!((lcov.lines.covered, lcov.lines.total), (11, 23));
    assert_eq!((lcov.branches.covered, lcov.branches.total), (4, 8));
    // FNF:4 FNH:3 in calc/__init__.py; shell.py's two functions never ran.
    assert_eq!((lcov.functions.covered, lcov.functions.total), (3, 6));
}

#[test]
fn windows_crlf_lcov_reads_like_the_original() {
    let original = coverage("python/coverage.lcov");
    let windows = coverage("python/coverage-windows-crlf.lcov");
    assert_eq!(original.totals(), windows.totals());
    assert!(
        windows
            .files
            .contains_key("C:\\Users\\dev\\pyfix\\calc\\shell.py")
    );
    let normaliser = gate::paths::PathNormaliser::new(
        Path::new("/nonexistent"),
        &["C:\\Users\\dev\\pyfix".to_owned()],
    );
    let normalised = normaliser.coverage(windows);
    assert_eq!(
        normalised.files.keys().collect::<Vec<_>>(),
        ["calc/__init__.py", "calc/shell.py"]
    );
}

#[test]
fn llvm_cov_json_agrees_with_llvm_cov_lcov_of_the_same_run() {
    let json = coverage("rust-tiny/llvm-cov.json");
    let lcov = coverage("rust-tiny/lcov.info");
    let json_lines: Vec<_> = json
        .files
        .iter()
        .map(|(path, file)| (path.clone(), file.lines.clone()))
        .collect();
    let lcov_lines: Vec<_> = lcov
        .files
        .iter()
        .map(|(path, file)| (path.clone(), file.lines.clone()))
        .collect();
    assert_eq!(json_lines, lcov_lines);
    assert_eq!(json.totals().functions, lcov.totals().functions);
}

#[test]
fn bandit_json_and_sarif_report_the_same_issues() {
    let json = findings("python/bandit.json");
    let ids: Vec<(&str, Severity, Option<u32>)> = json
        .iter()
        .map(|f| (f.id.as_str(), f.severity, f.line))
        .collect();
    assert_eq!(
        ids,
        [
            ("B404", Severity::Low, Some(2)),
            ("B602", Severity::High, Some(6)),
            ("B324", Severity::High, Some(11))
        ]
    );
    assert!(
        json.iter()
            .all(|f| f.path.as_deref() == Some("calc/shell.py"))
    );
    let sarif = findings("python/bandit.sarif");
    let mut sarif_ids: Vec<(&str, Option<u32>)> =
        sarif.iter().map(|f| (f.id.as_str(), f.line)).collect();
    sarif_ids.sort();
    let mut json_ids: Vec<(&str, Option<u32>)> =
        json.iter().map(|f| (f.id.as_str(), f.line)).collect();
    json_ids.sort();
    assert_eq!(sarif_ids, json_ids);
}

#[test]
fn cargo_audit_json() {
    let found = findings("rust-vulnerable/cargo-audit.json");
    let vulnerabilities: Vec<&str> = found
        .iter()
        .filter(|f| f.kind == FindingKind::Vulnerability)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(
        vulnerabilities,
        [
            "RUSTSEC-2022-0013",
            "RUSTSEC-2021-0003",
            "RUSTSEC-2020-0071"
        ]
    );
    assert_eq!(
        found
            .iter()
            .filter(|f| f.kind == FindingKind::Informational)
            .count(),
        6
    );
}

#[test]
fn pip_audit_and_safety() {
    let pip = findings("handwritten/pip-audit.json");
    let vulns: Vec<&str> = pip
        .iter()
        .filter(|f| f.kind == FindingKind::Vulnerability)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(vulns, ["PYSEC-2019-217", "PYSEC-2021-66"]);
    assert!(pip[0].is_known_as("CVE-2019-10906"));
    assert_eq!(
        pip.iter()
            .filter(|f| f.kind == FindingKind::Informational)
            .count(),
        1
    );
    // The real report pip-audit wrote offline audited nothing: that must not pass.
    let bytes = std::fs::read(fixture("python/pip-audit-skipped.json")).unwrap();
    let error = gate::report::read(&bytes, None).unwrap_err();
    assert!(error.detail.contains("audited none of the 3"), "{error}");

    let safety = findings("handwritten/safety.json");
    let ids: Vec<(&str, Severity)> = safety.iter().map(|f| (f.id.as_str(), f.severity)).collect();
    assert_eq!(
        ids,
        [("39525", Severity::Medium), ("37055", Severity::Unknown)],
        "the policy-ignored one is left out"
    );
    assert_eq!(findings("handwritten/safety-legacy.json").len(), 2);
}
