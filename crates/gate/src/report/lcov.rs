//! LCOV tracefiles (geninfo(1) format): `SF`, `DA`, `BRDA`, `FN`/`FNDA` and lcov 2's
//! `FNL`/`FNA`, records ended by `end_of_record`. Repeated records of one file are merged
//! by summing hits, as `lcov -a` does. Summary lines (`LF`, `LH`, `BRF`, ...) are ignored:
//! totals are recomputed from the per-line records.

use std::collections::BTreeMap;

use crate::error::ParseError;
use crate::model::{BranchId, Coverage, FileCoverage, FunctionHits};
use crate::report::Format;

fn error(line_number: usize, detail: impl std::fmt::Display) -> ParseError {
    ParseError::new(Format::Lcov, format!("line {line_number}: {detail}"))
}

fn number<T: std::str::FromStr>(
    field: Option<&str>,
    what: &str,
    line_number: usize,
) -> Result<T, ParseError> {
    let field = field.ok_or_else(|| error(line_number, format!("missing {what}")))?;
    field.trim().parse().map_err(|_| {
        error(
            line_number,
            format!("{what} `{field}` is not a non-negative integer"),
        )
    })
}

/// A record being read: the file plus function names whose line is known (FN before FNDA).
struct Record {
    path: String,
    file: FileCoverage,
    /// lcov 2 `FNL:index,line` declarations, by index.
    function_lines: BTreeMap<u32, u32>,
}

/// Reads an LCOV tracefile.
pub(super) fn read(bytes: &[u8]) -> Result<Coverage, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        ParseError::new(
            Format::Lcov,
            format!("not UTF-8 text (byte {})", error.valid_up_to()),
        )
    })?;
    let mut coverage = Coverage::default();
    let mut current: Option<Record> = None;
    let mut records = 0usize;
    for (index, raw_line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line).trim();
        if line.is_empty() {
            continue;
        }
        if line == "end_of_record" {
            let record = current
                .take()
                .ok_or_else(|| error(line_number, "`end_of_record` outside a record"))?;
            coverage.add_file(record.path, record.file);
            continue;
        }
        let (key, value) = line.split_once(':').ok_or_else(|| {
            error(
                line_number,
                format!("expected `KEY:VALUE`, found `{}`", clip(line)),
            )
        })?;
        if key == "SF" {
            if current.is_some() {
                return Err(error(
                    line_number,
                    "`SF` before the previous record's `end_of_record`",
                ));
            }
            if value.trim().is_empty() {
                return Err(error(line_number, "`SF` with an empty path"));
            }
            records += 1;
            current = Some(Record {
                path: value.trim().to_owned(),
                file: FileCoverage::default(),
                function_lines: BTreeMap::new(),
            });
            continue;
        }
        if matches!(key, "TN" | "VER") {
            continue;
        }
        let Some(record) = current.as_mut() else {
            // Only the record keys below need a record; anything else outside one is garbage.
            return Err(error(
                line_number,
                format!("`{}` outside a record (no `SF` before it)", clip(key)),
            ));
        };
        let mut fields = value.split(',');
        match key {
            "DA" => {
                let line: u32 = number(fields.next(), "line number", line_number)?;
                let hits: u64 = number(fields.next(), "hit count", line_number)?;
                let entry = record.file.lines.entry(line).or_insert(0);
                *entry = entry.saturating_add(hits);
            }
            "BRDA" => {
                let line: u32 = number(fields.next(), "line number", line_number)?;
                let block: u32 = number(fields.next(), "block number", line_number)?;
                // The branch field may be an expression string in lcov 2; number it by order.
                let branch_field = fields
                    .next()
                    .ok_or_else(|| error(line_number, "missing branch number"))?;
                let taken_field = fields
                    .next_back()
                    .ok_or_else(|| error(line_number, "missing taken count"))?;
                let outcome = match branch_field.trim().parse::<u32>() {
                    Ok(outcome) => outcome,
                    Err(_) => record
                        .file
                        .branches
                        .range(
                            BranchId {
                                line,
                                block,
                                outcome: 0,
                            }..=BranchId {
                                line,
                                block,
                                outcome: u32::MAX,
                            },
                        )
                        .count() as u32,
                };
                let taken = match taken_field.trim() {
                    "-" => 0,
                    other => number(Some(other), "taken count", line_number)?,
                };
                let entry = record
                    .file
                    .branches
                    .entry(BranchId {
                        line,
                        block,
                        outcome,
                    })
                    .or_insert(0);
                *entry = entry.saturating_add(taken);
            }
            "FN" => {
                // `FN:line,name` (lcov 1) or `FN:line,end_line,name` (lcov 2). Names may hold
                // commas (generics, templates), so only a numeric second field is an end line.
                let (line_field, rest) = value
                    .split_once(',')
                    .ok_or_else(|| error(line_number, "expected `FN:line,name`"))?;
                let name = match rest.split_once(',') {
                    Some((end, name)) if end.trim().parse::<u32>().is_ok() => name,
                    _ => rest,
                };
                let line: u32 = number(Some(line_field), "line number", line_number)?;
                record
                    .file
                    .functions
                    .entry(name.to_owned())
                    .or_insert(FunctionHits { line, hits: 0 })
                    .line = line;
            }
            "FNDA" => {
                let (hits_field, name) = value
                    .split_once(',')
                    .ok_or_else(|| error(line_number, "expected `FNDA:hits,name`"))?;
                let hits: u64 = number(Some(hits_field), "hit count", line_number)?;
                let function = record
                    .file
                    .functions
                    .entry(name.to_owned())
                    .or_insert(FunctionHits { line: 0, hits: 0 });
                function.hits = function.hits.saturating_add(hits);
            }
            "FNL" => {
                let index: u32 = number(fields.next(), "function index", line_number)?;
                let line: u32 = number(fields.next(), "line number", line_number)?;
                record.function_lines.insert(index, line);
            }
            "FNA" => {
                let parts: Vec<&str> = value.splitn(3, ',').collect();
                let [index, hits, name] = parts.as_slice() else {
                    return Err(error(line_number, "expected `FNA:index,hits,name`"));
                };
                let index: u32 = number(Some(index), "function index", line_number)?;
                let hits: u64 = number(Some(hits), "hit count", line_number)?;
                let line = record.function_lines.get(&index).copied().unwrap_or(0);
                let function = record
                    .file
                    .functions
                    .entry((*name).to_owned())
                    .or_insert(FunctionHits { line, hits: 0 });
                function.hits = function.hits.saturating_add(hits);
            }
            // Summaries and checksums are not trusted; unknown keys are left for newer lcov.
            _ => {}
        }
    }
    if let Some(record) = current {
        return Err(ParseError::new(
            Format::Lcov,
            format!(
                "the record for `{}` has no `end_of_record` (truncated file?)",
                clip(&record.path)
            ),
        ));
    }
    if records == 0 {
        return Err(ParseError::new(
            Format::Lcov,
            "no `SF` record: this is not an LCOV tracefile",
        ));
    }
    Ok(coverage)
}

/// Shortens user content quoted in an error message.
pub(crate) fn clip(text: &str) -> String {
    let mut clipped: String = text.chars().take(60).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, path: &str, covered: u64, total: u64) {
        let coverage = read(input.as_bytes()).expect("valid LCOV");
        let totals = coverage.files[path].totals();
        assert_eq!(
            (totals.lines.covered, totals.lines.total),
            (covered, total),
            "{input}"
        );
    }

    #[test]
    fn repeated_records_of_one_file_are_merged() {
        let input = "SF:src/a.rs\nDA:1,1\nDA:2,0\nend_of_record\nSF:src/a.rs\nDA:2,3\nDA:3,0\nend_of_record\n";
        check(input, "src/a.rs", 2, 3);
        let coverage = read(input.as_bytes()).unwrap();
        assert_eq!(coverage.files["src/a.rs"].lines[&2], 3);
    }

    #[test]
    fn crlf_and_windows_paths() {
        check(
            "TN:\r\nSF:C:\\work\\proj\\src\\a.rs\r\nDA:1,0\r\nDA:2,5\r\nLF:99\r\nLH:99\r\nend_of_record\r\n",
            "C:\\work\\proj\\src\\a.rs",
            1,
            2,
        );
    }

    #[test]
    fn summaries_are_not_trusted() {
        check(
            "SF:a.py\nDA:1,0\nLF:10\nLH:10\nend_of_record\n",
            "a.py",
            0,
            1,
        );
    }

    #[test]
    fn branches_and_functions() {
        let coverage = read(b"SF:a.c\nFN:3,main\nFNDA:2,main\nFN:9,unused\nFNDA:0,unused\nBRDA:4,0,0,1\nBRDA:4,0,1,-\nDA:3,2\nend_of_record\n").unwrap();
        let totals = coverage.files["a.c"].totals();
        assert_eq!((totals.branches.covered, totals.branches.total), (1, 2));
        assert_eq!((totals.functions.covered, totals.functions.total), (1, 2));
    }

    #[test]
    fn lcov2_function_records() {
        let coverage = read(b"SF:a.c\nFNL:0,3,7\nFNA:0,4,main\nDA:3,4\nend_of_record\n").unwrap();
        assert_eq!(
            coverage.files["a.c"].functions["main"],
            FunctionHits { line: 3, hits: 4 }
        );
    }

    #[test]
    fn garbage_is_an_error() {
        for input in [
            "hello",
            "DA:1,1\n",
            "SF:a\nDA:x,1\nend_of_record\n",
            "SF:a\nDA:1,1\n",
            "TN:\n",
            "SF:a\nDA:1,-3\nend_of_record",
        ] {
            assert!(read(input.as_bytes()).is_err(), "{input:?}");
        }
    }
}
