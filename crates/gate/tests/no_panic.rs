//! No reader panics on any input: arbitrary bytes, and real reports mutated (bytes
//! flipped, ranges cut out, garbage spliced in, truncated), fed to every reader, to
//! format detection, to the lockfile and advisory parsers and to the config parser.

use std::path::Path;

use gate::Format;
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "python/coverage.xml",
    "python/coverage.lcov",
    "python/coverage-windows-crlf.lcov",
    "python/bandit.json",
    "python/bandit.sarif",
    "python/pip-audit-skipped.json",
    "handwritten/pip-audit.json",
    "handwritten/safety.json",
    "handwritten/safety-legacy.json",
    "rust-vulnerable/cargo-audit.json",
    "rust-vulnerable/Cargo.lock",
    "rust-tiny/llvm-cov.json",
    "rust-tiny/lcov.info",
];

fn fixture(index: usize) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(FIXTURES[index % FIXTURES.len()]);
    std::fs::read(path).unwrap()
}

/// Every parser gate has, on the same bytes. Results are dropped: only panics matter.
fn feed_everything(bytes: &[u8]) {
    let _ = gate::report::detect(bytes);
    let _ = gate::report::read(bytes, None);
    for format in Format::ALL {
        let _ = gate::report::read(bytes, Some(format));
    }
    let text = String::from_utf8_lossy(bytes);
    let _ = gate::audit::Lockfile::parse(&text);
    let _ = gate::audit::Advisory::parse(&text);
    let _ = gate::Config::parse(&text, Path::new("gate.toml"));
    let normaliser =
        gate::paths::PathNormaliser::new(Path::new("/nonexistent/root"), &[text.to_string()]);
    let _ = normaliser.normalise(&text);
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Cut { at: usize, length: usize },
    Splice { at: usize, bytes: Vec<u8> },
    Duplicate { at: usize, length: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        (any::<usize>(), 0usize..64).prop_map(|(at, length)| Mutation::Cut { at, length }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(at, bytes)| Mutation::Splice { at, bytes }),
        (any::<usize>(), 0usize..256).prop_map(|(at, length)| Mutation::Duplicate { at, length }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        // Tokens that readers branch on, spliced anywhere.
        (
            any::<usize>(),
            prop::sample::select(vec![
                "SF:",
                "DA:",
                "BRDA:",
                "end_of_record\n",
                "<line ",
                "</class>",
                "&amp;",
                "\"segments\"",
                "[",
                "]",
                "{",
                "}",
                "-1",
                "18446744073709551616",
                "\"version\": \"2.1.0\"",
                "null",
                "```",
                "\r",
                "\u{feff}",
                "é",
            ])
        )
            .prop_map(|(at, token)| Mutation::Splice {
                at,
                bytes: token.as_bytes().to_vec()
            }),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let length = bytes.len();
        let at = |position: usize| {
            if length == 0 {
                0
            } else {
                position % (length + 1)
            }
        };
        match mutation {
            Mutation::Flip { at: position, byte } => {
                if length > 0 {
                    bytes[position % length] = *byte;
                }
            }
            Mutation::Cut {
                at: position,
                length: cut,
            } => {
                let start = at(*position);
                let end = (start + cut).min(length);
                bytes.drain(start..end);
            }
            Mutation::Splice {
                at: position,
                bytes: inserted,
            } => {
                let start = at(*position);
                bytes.splice(start..start, inserted.iter().copied());
            }
            Mutation::Duplicate {
                at: position,
                length: span,
            } => {
                let start = at(*position);
                let end = (start + span).min(length);
                let copy = bytes[start..end].to_vec();
                bytes.splice(end..end, copy);
            }
            Mutation::Truncate { at: position } => bytes.truncate(at(*position)),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        feed_everything(&bytes);
    }

    #[test]
    fn mutated_real_reports(index in 0usize..FIXTURES.len(), mutations in prop::collection::vec(mutation(), 1..6)) {
        feed_everything(&apply(fixture(index), &mutations));
    }
}

#[test]
fn every_fixture_intact_and_truncated_at_every_tenth() {
    for index in 0..FIXTURES.len() {
        let bytes = fixture(index);
        feed_everything(&bytes);
        let step = (bytes.len() / 10).max(1);
        for end in (0..bytes.len()).step_by(step) {
            feed_everything(&bytes[..end]);
        }
    }
}
