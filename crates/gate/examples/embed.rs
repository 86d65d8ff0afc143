//! Embedding the gate: judge an LCOV report held in memory against a threshold, without
//! the binary. Run with `cargo run -p gate --example embed`.

use gate::model::Report;
use gate::{Config, Evidence, Format};

fn main() -> gate::Result<()> {
    let lcov = "SF:src/lib.rs\nDA:1,4\nDA:2,4\nDA:3,0\nend_of_record\n";
    let Report::Coverage(coverage) = gate::report::read(lcov.as_bytes(), Some(Format::Lcov))
        .map_err(|source| gate::Error::ParseReport {
            path: "inline".into(),
            source,
        })?
    else {
        unreachable!("an LCOV report is coverage");
    };
    let config = Config::parse("[coverage]\nmin_lines = 60\n", "gate.toml".as_ref())?;
    let evidence = Evidence {
        coverage: Some(coverage),
        ..Evidence::default()
    };
    let verdict = gate::judge(&config, &evidence, gate::today())?;
    print!("{}", gate::render::terminal(&verdict, Default::default()));
    std::process::exit(i32::from(verdict.exit_code()));
}
