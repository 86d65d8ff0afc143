//! `llvm-cov export` JSON (`"type": "llvm.coverage.json.export"`), as
//! `cargo llvm-cov --json` writes it. Line hits are derived from the region segments with
//! llvm's own rule (`LineCoverageStats` in `llvm/lib/ProfileData/Coverage/CoverageMapping.cpp`),
//! so the lines counted agree with `llvm-cov export --format=lcov` of the same data; the
//! `summary` objects are ignored. Branches come from `files[].branches`, functions from
//! `data[].functions`.

use serde_json::Value;

use crate::error::ParseError;
use crate::model::{BranchId, Coverage, FileCoverage, FunctionHits};
use crate::report::Format;
use crate::report::json::{array, field, string, unsigned};

/// The largest gap between two segments' lines accepted; see `read`.
const MAX_LINE_GAP: u32 = 1 << 20;

fn error(detail: impl Into<String>) -> ParseError {
    ParseError::new(Format::LlvmCovJson, detail)
}

/// One region boundary: `[line, col, count, has_count, is_region_entry, is_gap_region]`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    line: u32,
    count: u64,
    has_count: bool,
    is_region_entry: bool,
    is_gap_region: bool,
}

fn segment(value: &Value, at: &str) -> Result<Segment, ParseError> {
    let fields = value
        .as_array()
        .ok_or_else(|| error(format!("{at}: a segment is not an array")))?;
    if fields.len() < 5 {
        return Err(error(format!(
            "{at}: a segment has {} fields, expected 6",
            fields.len()
        )));
    }
    let flag = |index: usize| fields.get(index).and_then(Value::as_bool).unwrap_or(false);
    let line = fields[0].as_u64().and_then(|line| u32::try_from(line).ok());
    let count = fields[2]
        .as_u64()
        .or_else(|| fields[2].as_f64().filter(|c| *c >= 0.0).map(|c| c as u64));
    match (line, count) {
        (Some(line), Some(count)) => Ok(Segment {
            line,
            count,
            has_count: flag(3),
            is_region_entry: flag(4),
            is_gap_region: flag(5),
        }),
        _ => Err(error(format!(
            "{at}: a segment's line or count is not a non-negative integer"
        ))),
    }
}

/// Line hits from segments, following llvm's `LineCoverageIterator`.
fn line_hits(segments: &[Segment], file: &mut FileCoverage) {
    let Some(first) = segments.first() else {
        return;
    };
    let mut wrapped: Option<Segment> = None;
    let mut next = 0;
    let mut line = first.line;
    let mut line_segments: Vec<Segment> = Vec::new();
    while next < segments.len() {
        if let Some(last) = line_segments.last() {
            wrapped = Some(*last);
        }
        line_segments.clear();
        while next < segments.len() && segments[next].line == line {
            line_segments.push(segments[next]);
            next += 1;
        }
        let is_start_of_region = |s: &Segment| !s.is_gap_region && s.has_count && s.is_region_entry;
        let min_region_count = line_segments
            .iter()
            .filter(|s| is_start_of_region(s))
            .take(2)
            .count();
        let start_of_skipped = line_segments
            .first()
            .is_some_and(|s| !s.has_count && s.is_region_entry);
        let mut mapped =
            !start_of_skipped && (wrapped.is_some_and(|w| w.has_count) || min_region_count > 0);
        mapped |= line_segments
            .iter()
            .any(|s| s.is_region_entry && s.has_count);
        if mapped {
            let mut count = wrapped.map_or(0, |w| w.count);
            if min_region_count > 0 {
                for segment in line_segments.iter().filter(|s| is_start_of_region(s)) {
                    count = count.max(segment.count);
                }
            }
            file.lines.insert(line, count);
        }
        line = match line.checked_add(1) {
            Some(line) => line,
            None => break,
        };
    }
}

/// Reads an llvm-cov JSON export.
pub(super) fn read(value: &Value) -> Result<Coverage, ParseError> {
    let kind = string(field(value, "type").map_err(error)?).map_err(error)?;
    if kind != "llvm.coverage.json.export" {
        return Err(error(format!(
            "`type` is `{}`, not `llvm.coverage.json.export`",
            super::lcov::clip(kind)
        )));
    }
    let data = array(field(value, "data").map_err(error)?).map_err(error)?;
    let mut coverage = Coverage::default();
    let mut files_seen = 0usize;
    for (data_index, export) in data.iter().enumerate() {
        let files = array(field(export, "files").map_err(error)?).map_err(error)?;
        for (file_index, entry) in files.iter().enumerate() {
            let at = format!("data[{data_index}].files[{file_index}]");
            let filename = string(field(entry, "filename").map_err(error)?).map_err(error)?;
            let mut segments = Vec::new();
            for raw in array(field(entry, "segments").map_err(error)?).map_err(error)? {
                segments.push(segment(raw, &at)?);
            }
            if segments.windows(2).any(|pair| pair[1].line < pair[0].line) {
                return Err(error(format!("{at}: segments are not sorted by line")));
            }
            // Every line between segments is visited; a jump no source file has is garbage.
            if segments
                .windows(2)
                .any(|pair| pair[1].line - pair[0].line > MAX_LINE_GAP)
            {
                return Err(error(format!(
                    "{at}: segments jump more than {MAX_LINE_GAP} lines"
                )));
            }
            let mut file = FileCoverage::default();
            line_hits(&segments, &mut file);
            if let Some(branches) = entry.get("branches") {
                let branches = array(branches).map_err(error)?;
                for branch in branches {
                    let fields = branch.as_array().filter(|f| f.len() >= 6).ok_or_else(|| {
                        error(format!("{at}: a branch is not `[line, col, end_line, end_col, true_count, false_count, ...]`"))
                    })?;
                    let number = |index: usize| fields[index].as_u64();
                    let (Some(line), Some(column), Some(taken), Some(not_taken)) =
                        (number(0), number(1), number(4), number(5))
                    else {
                        return Err(error(format!(
                            "{at}: a branch has a field that is not a non-negative integer"
                        )));
                    };
                    let (Ok(line), Ok(block)) = (u32::try_from(line), u32::try_from(column)) else {
                        return Err(error(format!("{at}: a branch position is out of range")));
                    };
                    for (outcome, hits) in [(0, taken), (1, not_taken)] {
                        let entry = file
                            .branches
                            .entry(BranchId {
                                line,
                                block,
                                outcome,
                            })
                            .or_insert(0);
                        *entry = entry.saturating_add(hits);
                    }
                }
            }
            files_seen += 1;
            coverage.add_file(filename.to_owned(), file);
        }
        if let Some(functions) = export.get("functions") {
            for function in array(functions).map_err(error)? {
                let name = string(field(function, "name").map_err(error)?).map_err(error)?;
                let count = unsigned(field(function, "count").map_err(error)?).map_err(error)?;
                let filenames =
                    array(field(function, "filenames").map_err(error)?).map_err(error)?;
                let Some(filename) = filenames.first().and_then(Value::as_str) else {
                    continue;
                };
                // The first region's start line is where the function begins.
                let line = function
                    .get("regions")
                    .and_then(Value::as_array)
                    .and_then(|regions| regions.first())
                    .and_then(|region| region.get(0))
                    .and_then(Value::as_u64)
                    .and_then(|line| u32::try_from(line).ok())
                    .unwrap_or(0);
                let Some(file) = coverage.files.get_mut(filename) else {
                    continue;
                };
                let entry = file
                    .functions
                    .entry(name.to_owned())
                    .or_insert(FunctionHits { line, hits: 0 });
                entry.hits = entry.hits.saturating_add(count);
            }
        }
    }
    if files_seen == 0 && data.is_empty() {
        return Err(error("`data` is empty"));
    }
    Ok(coverage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(segments: serde_json::Value) -> Vec<(u32, u64)> {
        let segments: Vec<Segment> = segments
            .as_array()
            .unwrap()
            .iter()
            .map(|s| segment(s, "test").unwrap())
            .collect();
        let mut file = FileCoverage::default();
        line_hits(&segments, &mut file);
        file.lines.into_iter().collect()
    }

    #[test]
    fn a_function_with_an_unexecuted_branch() {
        // fn f(x) {          line 1, entered 2 times
        //     if x {         line 2
        //         g();       line 3, never
        //     }              line 4
        // }                  line 5
        let got = lines(serde_json::json!([
            [1, 20, 2, true, true, false],
            [2, 12, 0, true, true, false],
            [4, 6, 2, true, false, false],
            [5, 2, 0, false, false, false]
        ]));
        // Line 4 takes the count of the region wrapped from line 2, as llvm-cov reports it.
        assert_eq!(got, vec![(1, 2), (2, 2), (3, 0), (4, 0), (5, 2)]);
    }

    #[test]
    fn skipped_regions_are_not_instrumented() {
        let got = lines(serde_json::json!([
            [1, 1, 0, false, true, false],
            [3, 1, 0, false, false, false]
        ]));
        assert!(got.is_empty(), "{got:?}");
    }
}
