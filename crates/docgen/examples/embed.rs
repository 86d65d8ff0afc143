//! Embedding docgen: convert a Markdown string held in memory and write the .docx and, with
//! the default `pdf` feature, the PDF of the same document.
//!
//! `cargo run -p docgen --example embed -- OUT` writes `OUT.docx` and `OUT.pdf`.

fn main() -> Result<(), docgen::Error> {
    let markdown = "\
---
title: Session summary
author: The lead developer
---
# What changed

- the gate now checks **patch coverage**
- `docgen` writes Word files and PDF

| metric | before | after |
|:--|--:|--:|
| coverage | 58 % | 61 % |
";
    let document = docgen::convert(markdown, &docgen::Options::default())?;
    let stem = std::env::args().nth(1).unwrap_or_else(|| "summary".into());
    write(&format!("{stem}.docx"), &document.to_docx()?)?;
    #[cfg(feature = "pdf")]
    write(&format!("{stem}.pdf"), &document.to_pdf()?)?;
    Ok(())
}

fn write(path: &str, bytes: &[u8]) -> Result<(), docgen::Error> {
    std::fs::write(path, bytes).map_err(|source| docgen::Error::WriteOutput {
        path: path.into(),
        source,
    })?;
    println!("wrote {path} ({} bytes)", bytes.len());
    Ok(())
}
