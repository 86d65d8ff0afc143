//! Checks on the shape of the workspace itself, run by `cargo test`.

use std::path::PathBuf;

fn root() -> PathBuf {
    super::workspace_root()
}

fn crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_library_opens_with_crate_docs() {
    for name in crates() {
        let lib = root().join("crates").join(&name).join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} must open with a `//!` crate doc",
            lib.display()
        );
    }
}

#[test]
fn every_library_has_a_runnable_example() {
    for name in crates() {
        let examples = root().join("crates").join(&name).join("examples");
        let count = std::fs::read_dir(&examples)
            .map(|dir| dir.count())
            .unwrap_or(0);
        assert!(
            count > 0,
            "crate `{name}` needs an example in {}",
            examples.display()
        );
    }
}

#[test]
fn architecture_names_every_crate() {
    let text = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    for name in crates() {
        assert!(
            text.contains(&format!("`crates/{name}`")),
            "docs/ARCHITECTURE.md does not describe `crates/{name}`"
        );
    }
}

#[test]
fn readme_names_the_two_commands() {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(text.contains("cargo xtask demo") && text.contains("cargo xtask test"));
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.contains("cargo xtask test"),
        ".ci/run must run README's test command"
    );
}
