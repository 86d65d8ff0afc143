//! What docgen's test binaries share: running the real binary, and the fixture written
//! into a fresh folder beside the two images it refers to.

use std::process::{Command, Output};

/// The Markdown fixture with every construct docgen handles.
pub const FIXTURE: &str = include_str!("../fixtures/every_construct.md");

/// Runs the `docgen` binary.
pub fn docgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docgen"))
        .args(args)
        .output()
        .expect("the docgen binary runs")
}

/// A folder holding the fixture (`summary.md`) and the two images it refers to.
pub fn fixture_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("summary.md"), FIXTURE).unwrap();
    // 1600 × 400 px is wider than the text (6.25 in at 96 dpi), so it must be scaled to fit.
    image::RgbImage::from_pixel(1600, 400, image::Rgb([30, 60, 90]))
        .save(dir.path().join("wide.png"))
        .unwrap();
    image::RgbImage::from_pixel(120, 90, image::Rgb([200, 100, 50]))
        .save(dir.path().join("photo.jpg"))
        .unwrap();
    dir
}
