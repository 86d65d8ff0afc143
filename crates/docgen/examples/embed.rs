//! Embedding docgen: convert a Markdown string held in memory and write the .docx.
//!
//! `cargo run -p docgen --example embed -- OUT.docx`

fn main() -> Result<(), docgen::Error> {
    let markdown = "\
---
title: Session summary
author: The lead developer
---
# What changed

- the gate now checks **patch coverage**
- `docgen` writes Word files

| metric | before | after |
|:--|--:|--:|
| coverage | 58 % | 61 % |
";
    let document = docgen::convert(markdown, &docgen::Options::default())?;
    let bytes = document.to_docx()?;
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "summary.docx".into());
    std::fs::write(&path, &bytes).map_err(|source| docgen::Error::WriteOutput {
        path: path.clone().into(),
        source,
    })?;
    println!("wrote {path} ({} bytes)", bytes.len());
    Ok(())
}
