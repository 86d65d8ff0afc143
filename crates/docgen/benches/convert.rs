//! Converts a generated Markdown document of about 50 A4 pages (headings, prose with inline
//! formatting and links, nested lists, tables, code, quotes, footnotes) to a .docx and, with
//! the `pdf` feature, to a PDF, in memory. The parse is measured with each output, as the
//! binary does it.

use criterion::{Criterion, criterion_group, criterion_main};

/// One section is about a page: a heading, prose, a list, a table, code and a quote.
fn section(index: usize) -> String {
    let mut text = format!("## Section {index}\n\n");
    for paragraph in 0..4 {
        text.push_str(&format!(
            "Paragraph {paragraph} of section {index} has **bold**, *italic*, ~~struck~~ and \
             `inline code`, a [link](https://example.com/{index}/{paragraph}) and enough \
             ordinary words to wrap across several lines of an A4 page, the way a session \
             summary reads when someone explains what changed and why it matters.[^n{index}]\n\n"
        ));
    }
    text.push_str("- a point\n  - a sub-point\n    - a detail\n- another point\n\n");
    text.push_str("1. first\n2. second\n3. third\n\n");
    text.push_str("| metric | before | after |\n|:--|--:|--:|\n");
    for row in 0..6 {
        text.push_str(&format!("| m{row} | {row}.0 | {row}.5 |\n"));
    }
    text.push_str("\n```rust\nfn step(x: f32) -> f32 {\n    x * 0.5\n}\n```\n\n");
    text.push_str("> A quoted remark about the results.\n\n");
    text.push_str(&format!("[^n{index}]: Footnote of section {index}.\n\n"));
    text
}

fn fifty_pages() -> String {
    let mut markdown = String::from("---\ntitle: Benchmark\nauthor: docgen\n---\n\n# Report\n\n");
    for index in 0..50 {
        markdown.push_str(&section(index));
    }
    markdown
}

fn convert(criterion: &mut Criterion) {
    let markdown = fifty_pages();
    let options = docgen::Options::default();
    criterion.bench_function("convert_50_pages_to_docx", |bencher| {
        bencher.iter(|| {
            docgen::convert(&markdown, &options)
                .and_then(|document| document.to_docx())
                .expect("the benchmark document converts")
        })
    });
}

#[cfg(feature = "pdf")]
fn convert_pdf(criterion: &mut Criterion) {
    let markdown = fifty_pages();
    let options = docgen::Options::default();
    let mut group = criterion.benchmark_group("pdf");
    // typst takes a good part of a second here; ten samples keep the run short.
    group.sample_size(10);
    group.bench_function("convert_50_pages_to_pdf", |bencher| {
        bencher.iter(|| {
            docgen::convert(&markdown, &options)
                .and_then(|document| document.to_pdf())
                .expect("the benchmark document typesets")
        })
    });
    group.finish();
}

#[cfg(not(feature = "pdf"))]
fn convert_pdf(_criterion: &mut Criterion) {}

criterion_group!(benches, convert, convert_pdf);
criterion_main!(benches);
