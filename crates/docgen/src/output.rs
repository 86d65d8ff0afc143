//! The file side of the job: where the Markdown comes from, which files to write in which
//! format, and writing them without ever overwriting the input.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Error, Options, Result, Warning};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A Word `.docx` package.
    Docx,
    /// A PDF (needs the `pdf` feature).
    Pdf,
}

impl Format {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Pdf => "pdf",
        }
    }

    /// The format a path's extension names, if any.
    pub fn of_path(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?;
        extension.parse().ok()
    }
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(name: &str) -> Result<Format> {
        match name.to_ascii_lowercase().as_str() {
            "docx" => Ok(Format::Docx),
            "pdf" => Ok(Format::Pdf),
            _ => Err(Error::UnknownFormat { name: name.into() }),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.extension())
    }
}

/// Where the Markdown comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file; images are relative to its folder.
    Path(PathBuf),
    /// Standard input; images are relative to the current folder.
    Stdin,
}

impl std::fmt::Display for Input {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Path(path) => write!(formatter, "{}", path.display()),
            Input::Stdin => formatter.write_str("-"),
        }
    }
}

impl Input {
    /// The folder image paths are relative to.
    pub fn base_dir(&self) -> PathBuf {
        match self {
            Input::Path(path) => match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
            Input::Stdin => PathBuf::from("."),
        }
    }
}

/// One file [`convert_files`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What [`convert_files`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Where the Markdown came from.
    pub input: Input,
    /// Every file written, in the order asked for.
    pub written: Vec<Written>,
    /// What was degraded on the way.
    pub warnings: Vec<Warning>,
}

/// The files to write, from the command line's choices:
/// no `output` and no `formats` gives the input's name with `.docx`, beside it; an `output`
/// alone is written in the format its extension names; `formats` write one file each,
/// named after `output` (its extension dropped) or else after the input.
pub fn plan_outputs(
    input: &Input,
    output: Option<&Path>,
    formats: &[Format],
) -> Result<Vec<(Format, PathBuf)>> {
    let stem = match (output, input) {
        (Some(output), _) if formats.is_empty() => {
            let format = Format::of_path(output).ok_or_else(|| Error::UnknownOutputFormat {
                path: output.to_path_buf(),
            })?;
            return Ok(vec![(format, output.to_path_buf())]);
        }
        (Some(output), _) => output.with_extension(""),
        (None, Input::Path(path)) => path.with_extension(""),
        (None, Input::Stdin) => return Err(Error::StdinNeedsOutput),
    };
    let formats = if formats.is_empty() {
        &[Format::Docx][..]
    } else {
        formats
    };
    let mut planned: Vec<(Format, PathBuf)> = Vec::new();
    for &format in formats {
        if !planned.iter().any(|(seen, _)| *seen == format) {
            // Appended rather than `with_extension`, which would eat the `.example` of
            // `SUMMARY.example` and write `SUMMARY.docx`.
            let mut name = stem.clone().into_os_string();
            name.push(".");
            name.push(format.extension());
            planned.push((format, PathBuf::from(name)));
        }
    }
    Ok(planned)
}

/// The largest Markdown docgen reads. A session summary is tens of kilobytes; typst needs
/// about 1.2 GB of memory and 6 s per megabyte of Markdown (measured on a 1 MB, 570-page
/// document), so a bound here keeps a 50 MB file from taking the machine with it.
pub const MAX_INPUT_BYTES: u64 = 2 * 1024 * 1024;

/// Reads the Markdown, refusing more than [`MAX_INPUT_BYTES`] and bytes that are not UTF-8.
pub fn read_markdown(input: &Input) -> Result<String> {
    let mut bytes = Vec::new();
    // One byte more than the limit tells "at the limit" from "over it" without reading on.
    let read = match input {
        Input::Path(path) => std::fs::File::open(path)
            .and_then(|file| file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|source| Error::ReadInput {
                path: path.clone(),
                source,
            }),
        Input::Stdin => std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| Error::ReadStdin { source }),
    };
    if read? as u64 > MAX_INPUT_BYTES {
        return Err(Error::InputTooLarge {
            input: input.to_string(),
            limit: MAX_INPUT_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|error| Error::NotUtf8 {
        input: input.to_string(),
        offset: error.utf8_error().valid_up_to(),
    })
}

/// Reads `input`, converts it once, and writes every planned output. Nothing is written
/// unless every output converted, and no output may be the input itself.
pub fn convert_files(
    input: &Input,
    outputs: &[(Format, PathBuf)],
    options: &Options,
) -> Result<Report> {
    if let Input::Path(path) = input
        && let Some((_, output)) = outputs.iter().find(|(_, output)| same_file(path, output))
    {
        return Err(Error::OutputIsInput {
            path: output.clone(),
        });
    }
    let markdown = read_markdown(input)?;
    let document = crate::convert(&markdown, options)?;
    let warnings = document.warnings().to_vec();
    let formats: Vec<Format> = outputs.iter().map(|(format, _)| *format).collect();
    let rendered = document.into_formats(&formats)?;
    let mut written = Vec::new();
    for ((format, path), bytes) in outputs.iter().zip(rendered) {
        let format = *format;
        std::fs::write(path, &bytes).map_err(|source| Error::WriteOutput {
            path: path.clone(),
            source,
        })?;
        written.push(Written {
            path: path.clone(),
            format,
            bytes: bytes.len() as u64,
        });
    }
    Ok(Report {
        input: input.clone(),
        written,
        warnings,
    })
}

fn same_file(input: &Path, output: &Path) -> bool {
    if input == output {
        return true;
    }
    match (input.canonicalize(), output.canonicalize()) {
        (Ok(input), Ok(output)) => input == output,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    //! Which files the command line's choices name.

    use super::*;

    fn check(input: Input, output: Option<&str>, formats: &[Format], expected: &[&str]) {
        let planned = plan_outputs(&input, output.map(Path::new), formats).unwrap();
        let paths: Vec<String> = planned
            .iter()
            .map(|(format, path)| format!("{format}:{}", path.display()))
            .collect();
        assert_eq!(paths, expected);
    }

    fn file(path: &str) -> Input {
        Input::Path(PathBuf::from(path))
    }

    #[test]
    fn the_default_is_a_docx_beside_the_input() {
        check(file("a/b.md"), None, &[], &["docx:a/b.docx"]);
        check(file("b.example.md"), None, &[], &["docx:b.example.docx"]);
    }

    #[test]
    fn an_output_path_names_its_format() {
        check(file("b.md"), Some("out/x.pdf"), &[], &["pdf:out/x.pdf"]);
        check(file("b.md"), Some("x.DOCX"), &[], &["docx:x.DOCX"]);
    }

    #[test]
    fn formats_write_beside_the_input_or_the_output_stem() {
        let both = [Format::Docx, Format::Pdf];
        check(
            file("a/b.md"),
            None,
            &both,
            &["docx:a/b.docx", "pdf:a/b.pdf"],
        );
        check(
            file("b.md"),
            Some("out/r"),
            &both,
            &["docx:out/r.docx", "pdf:out/r.pdf"],
        );
        check(
            Input::Stdin,
            Some("r.pdf"),
            &both,
            &["docx:r.docx", "pdf:r.pdf"],
        );
        check(
            file("b.md"),
            None,
            &[Format::Pdf, Format::Pdf],
            &["pdf:b.pdf"],
        );
    }

    #[test]
    fn stdin_needs_an_output_and_extensions_must_be_known() {
        let error = plan_outputs(&Input::Stdin, None, &[Format::Pdf]).unwrap_err();
        assert!(matches!(error, Error::StdinNeedsOutput), "{error:?}");
        let error = plan_outputs(&file("b.md"), Some(Path::new("x.odt")), &[]).unwrap_err();
        assert!(
            matches!(error, Error::UnknownOutputFormat { .. }),
            "{error:?}"
        );
    }
}
