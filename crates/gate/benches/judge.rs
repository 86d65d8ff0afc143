//! Judging a generated 100 000-line LCOV report plus 1 000 bandit findings: parse both,
//! normalise paths, judge against line, function and per-path thresholds, and render the
//! terminal verdict. The issue asks for well under a second.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use gate::model::Report;
use gate::{Config, Evidence, Format};

fn lcov(files: usize, lines_per_file: usize) -> String {
    let mut out = String::with_capacity(files * lines_per_file * 12);
    for file in 0..files {
        out.push_str(&format!(
            "TN:\nSF:/home/runner/work/proj/src/module_{file}.rs\n"
        ));
        out.push_str(&format!(
            "FN:1,function_{file}\nFNDA:{},function_{file}\n",
            file % 3
        ));
        for line in 1..=lines_per_file {
            let hits = if (line + file) % 4 == 0 {
                0
            } else {
                line % 7 + 1
            };
            out.push_str(&format!("DA:{line},{hits}\n"));
        }
        out.push_str("end_of_record\n");
    }
    out
}

fn bandit(findings: usize) -> String {
    let results: Vec<serde_json::Value> = (0..findings)
        .map(|index| {
            let severity = ["LOW", "MEDIUM", "HIGH"][index % 3];
            serde_json::json!({
                "filename": format!("src/module_{}.py", index % 100),
                "line_number": index % 500 + 1,
                "test_id": format!("B{}", 100 + index % 50),
                "test_name": "generated",
                "issue_severity": severity,
                "issue_confidence": "HIGH",
                "issue_text": "a generated finding",
            })
        })
        .collect();
    serde_json::json!({ "results": results, "errors": [], "metrics": {}, "generated_at": "2024-01-01T00:00:00Z" }).to_string()
}

fn judge_everything(lcov: &str, bandit: &str, config: &Config) -> bool {
    let normaliser = gate::paths::PathNormaliser::new(Path::new("/home/runner/work/proj"), &[]);
    let Ok(Report::Coverage(coverage)) = gate::report::read(lcov.as_bytes(), None) else {
        panic!("lcov")
    };
    let Ok(Report::Findings(findings)) =
        gate::report::read(bandit.as_bytes(), Some(Format::Bandit))
    else {
        panic!("bandit")
    };
    let evidence = Evidence {
        coverage: Some(normaliser.coverage(coverage)),
        findings: normaliser.findings(findings),
        scanned: true,
        ..Evidence::default()
    };
    let verdict = gate::judge(config, &evidence, gate::today()).unwrap();
    black_box(gate::render::terminal(&verdict, Default::default()));
    verdict.passed
}

fn bench(criterion: &mut Criterion) {
    let lcov = lcov(1_000, 100);
    let bandit = bandit(1_000);
    let config = Config::parse(
        "[coverage]\nmin_lines = 60\nmin_functions = 50\n[[coverage.paths]]\nglob = \"src/module_1*.rs\"\nmin_lines = 70\n[security]\nfail_on = \"high\"\n",
        Path::new("gate.toml"),
    )
    .unwrap();
    let mut group = criterion.benchmark_group("judge");
    group.sample_size(20);
    group.bench_function("lcov_100k_lines_plus_1k_findings", |bencher| {
        bencher.iter(|| judge_everything(black_box(&lcov), black_box(&bandit), &config));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
