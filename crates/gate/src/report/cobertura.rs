//! Cobertura XML, as coverage.py (`coverage xml`, pytest-cov) and cargo-tarpaulin write
//! it: `coverage > sources > source`, `coverage > packages > package > classes > class
//! [filename] > lines > line [number, hits, branch, condition-coverage]`, and
//! `class > methods > method [name] > lines > line` for functions. The `line-rate` and
//! `branch-rate` summaries are ignored. A relative `filename` is joined to the first
//! `<source>`, which is how both writers mean it.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use crate::error::ParseError;
use crate::model::{BranchId, Coverage, FileCoverage, FunctionHits};
use crate::report::Format;

fn error(detail: impl Into<String>) -> ParseError {
    ParseError::new(Format::Cobertura, detail)
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Result<Option<String>, ParseError> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| error(format!("malformed attribute: {e}")))?;
        if attribute.key.as_ref() == name {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| error(format!("malformed value of `{name}`: {e}")))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn required<T: std::str::FromStr>(element: &BytesStart<'_>, name: &str) -> Result<T, ParseError> {
    let tag = String::from_utf8_lossy(element.name().as_ref().as_bytes()).into_owned();
    let value =
        attribute(element, name)?.ok_or_else(|| error(format!("<{tag}> without `{name}`")))?;
    value.trim().parse().map_err(|_| {
        error(format!(
            "<{tag}> has `{name}=\"{}\"`, not a non-negative integer",
            super::lcov::clip(&value)
        ))
    })
}

/// Parses `condition-coverage="50% (1/2)"` into (covered, total).
fn condition_coverage(value: &str) -> Option<(u32, u32)> {
    let inner = value.split_once('(')?.1.split_once(')')?.0;
    let (covered, total) = inner.split_once('/')?;
    let covered: u32 = covered.trim().parse().ok()?;
    let total: u32 = total.trim().parse().ok()?;
    (covered <= total && total <= 1 << 16).then_some((covered, total))
}

/// Resolves a predefined or character entity reference (`amp`, `#x20`).
fn resolve_reference(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let code = if let Some(hex) = name.strip_prefix("#x") {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                name.strip_prefix('#')?.parse().ok()?
            };
            char::from_u32(code)?
        }
    })
}

#[derive(Default)]
struct Method {
    name: String,
    first_line: Option<u32>,
    hits: u64,
}

/// Reads a Cobertura report.
pub(super) fn read(bytes: &[u8]) -> Result<Coverage, ParseError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| error(format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    let mut source_text: Option<String> = None;
    let mut saw_root = false;
    // Classes in the order read: (filename, coverage); joined to the source at the end.
    let mut classes: Vec<(String, FileCoverage)> = Vec::new();
    let mut method: Option<Method> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            error(format!(
                "malformed XML at byte {}: {e}",
                reader.error_position()
            ))
        })?;
        let (element, is_empty) = match event {
            Event::Start(element) => (element, false),
            Event::Empty(element) => (element, true),
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                match name.as_str() {
                    "source" => sources.extend(source_text.take().map(|s| s.trim().to_owned())),
                    "method" => finish_method(&mut method, &mut classes),
                    _ => {}
                }
                continue;
            }
            Event::Text(text) => {
                if let Some(source) = source_text.as_mut() {
                    source.push_str(&text.xml10_content());
                }
                continue;
            }
            Event::CData(data) => {
                if let Some(source) = source_text.as_mut() {
                    source.push_str(&data);
                }
                continue;
            }
            Event::GeneralRef(reference) => {
                if let Some(source) = source_text.as_mut() {
                    let name = reference.xml10_content();
                    let resolved = resolve_reference(&name).ok_or_else(|| {
                        error(format!("unknown entity `&{};`", super::lcov::clip(&name)))
                    })?;
                    source.push(resolved);
                }
                continue;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
        };
        let name = String::from_utf8_lossy(element.local_name().as_ref().as_bytes()).into_owned();
        if stack.is_empty() {
            if saw_root {
                return Err(error("more than one root element"));
            }
            if name != "coverage" {
                return Err(error(format!(
                    "the root element is <{}>, not <coverage>",
                    super::lcov::clip(&name)
                )));
            }
            saw_root = true;
        }
        let parent = stack.last().map(String::as_str);
        match (parent, name.as_str()) {
            (Some("sources"), "source") => {
                if is_empty {
                    sources.push(String::new());
                } else {
                    source_text = Some(String::new());
                }
            }
            (Some("classes"), "class") => {
                let filename = attribute(&element, "filename")?
                    .ok_or_else(|| error("<class> without `filename`"))?;
                if filename.trim().is_empty() {
                    return Err(error("<class> with an empty `filename`"));
                }
                classes.push((filename, FileCoverage::default()));
            }
            (Some("methods"), "method") => {
                let name = attribute(&element, "name")?.unwrap_or_default();
                let signature = attribute(&element, "signature")?.unwrap_or_default();
                method = Some(Method {
                    name: format!("{name}{signature}"),
                    ..Method::default()
                });
                if is_empty {
                    finish_method(&mut method, &mut classes);
                }
            }
            (Some("lines"), "line") => {
                let number: u32 = required(&element, "number")?;
                let hits: u64 = required(&element, "hits")?;
                let grandparent = stack
                    .len()
                    .checked_sub(2)
                    .and_then(|i| stack.get(i))
                    .map(String::as_str);
                match grandparent {
                    Some("method") => {
                        if let Some(method) = method.as_mut() {
                            method.first_line =
                                Some(method.first_line.map_or(number, |line| line.min(number)));
                            method.hits = method.hits.max(hits);
                        }
                    }
                    Some("class") => {
                        let (_, file) = classes
                            .last_mut()
                            .ok_or_else(|| error("<line> outside a <class>"))?;
                        let entry = file.lines.entry(number).or_insert(0);
                        *entry = entry.saturating_add(hits);
                        let is_branch = attribute(&element, "branch")?
                            .is_some_and(|b| b.eq_ignore_ascii_case("true"));
                        let condition = if is_branch {
                            attribute(&element, "condition-coverage")?
                        } else {
                            None
                        };
                        if let Some(condition) = condition {
                            let (covered, total) =
                                condition_coverage(&condition).ok_or_else(|| {
                                    error(format!(
                                        "line {number}: unreadable condition-coverage `{}`",
                                        super::lcov::clip(&condition)
                                    ))
                                })?;
                            // Cobertura gives only counts per line; outcomes are numbered in order.
                            for outcome in 0..total {
                                let entry = file
                                    .branches
                                    .entry(BranchId {
                                        line: number,
                                        block: 0,
                                        outcome,
                                    })
                                    .or_insert(0);
                                *entry = entry.saturating_add(u64::from(outcome < covered));
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        if !is_empty {
            stack.push(name);
        }
    }
    if !saw_root {
        return Err(error("no <coverage> element"));
    }
    if let Some(open) = stack.last() {
        return Err(error(format!(
            "truncated: <{}> is never closed",
            super::lcov::clip(open)
        )));
    }
    let base = sources.into_iter().find(|source| !source.is_empty());
    let mut coverage = Coverage::default();
    for (filename, file) in classes {
        coverage.add_file(join_source(base.as_deref(), &filename), file);
    }
    Ok(coverage)
}

fn finish_method(method: &mut Option<Method>, classes: &mut [(String, FileCoverage)]) {
    if let (Some(method), Some((_, file))) = (method.take(), classes.last_mut()) {
        let function = file
            .functions
            .entry(method.name)
            .or_insert(FunctionHits { line: 0, hits: 0 });
        function.line = method.first_line.unwrap_or(0);
        function.hits = function.hits.saturating_add(method.hits);
    }
}

fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.starts_with('/')
        || path.starts_with('\\')
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
}

fn join_source(source: Option<&str>, filename: &str) -> String {
    match source {
        Some(source) if !is_absolute(filename) && source != "." => {
            let separator = if source.contains('\\') && !source.contains('/') {
                '\\'
            } else {
                '/'
            };
            format!(
                "{}{separator}{filename}",
                source.trim_end_matches(['/', '\\'])
            )
        }
        _ => filename.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage version="7.6" line-rate="1" branch-rate="1" lines-covered="99" lines-valid="99">
  <sources><source>/home/u/proj</source></sources>
  <packages><package name="pkg" line-rate="1"><classes>
    <class name="a.py" filename="pkg/a.py" line-rate="1">
      <methods><method name="f" signature="()" line-rate="1"><lines><line number="2" hits="3"/></lines></method></methods>
      <lines>
        <line number="1" hits="1"/>
        <line number="2" hits="3" branch="true" condition-coverage="50% (1/2)"/>
        <line number="4" hits="0"/>
      </lines>
    </class>
  </classes></package></packages>
</coverage>"#;

    #[test]
    fn reads_lines_branches_and_methods_ignoring_summaries() {
        let coverage = read(SAMPLE.as_bytes()).unwrap();
        let file = &coverage.files["/home/u/proj/pkg/a.py"];
        let totals = file.totals();
        assert_eq!((totals.lines.covered, totals.lines.total), (2, 3));
        assert_eq!((totals.branches.covered, totals.branches.total), (1, 2));
        assert_eq!(file.functions["f()"], FunctionHits { line: 2, hits: 3 });
    }

    #[test]
    fn garbage_is_an_error() {
        for input in [
            "<html></html>",
            "<coverage><packages>",
            "<coverage><sources><source>&bogus;</source></sources></coverage>",
            "<coverage/><coverage/>",
            "<coverage><packages><package><classes><class filename=\"a\"><lines><line number=\"x\" hits=\"1\"/></lines></class></classes></package></packages></coverage>",
        ] {
            assert!(read(input.as_bytes()).is_err(), "{input}");
        }
    }

    #[test]
    fn windows_source() {
        assert_eq!(
            join_source(Some("C:\\a\\proj\\"), "src\\lib.rs"),
            "C:\\a\\proj\\src\\lib.rs"
        );
        assert_eq!(join_source(Some("."), "src/lib.rs"), "src/lib.rs");
    }
}
