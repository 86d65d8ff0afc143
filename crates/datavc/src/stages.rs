//! Pipeline outputs: what DVC's stages record in `dvc.lock`.
//!
//! `dvc repro` caches a stage's outputs as `dvc add` caches a file, and DVC's `push`,
//! `pull`, `checkout` and `gc` treat both alike; so do datavc's. datavc runs no stage and
//! never writes `dvc.yaml` or `dvc.lock`: `dvc repro` and `dvc commit` own them.
//!
//! `dvc.lock` gives each output's hash, and its path relative to the stage's working
//! folder; `dvc.yaml` beside it gives that folder (`wdir`) and the output's flags. An
//! output declared `cache: false` never reaches the cache and is left out; one declared
//! `push: false` is not pushed.

use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::pointer::{Pointer, parse_out_fields};
use crate::repo::absolute;

/// The file in which DVC records its stages' outputs.
pub const LOCK_FILE: &str = "dvc.lock";
/// The file defining those stages, beside it.
pub const STAGES_FILE: &str = "dvc.yaml";

/// The cached outputs that `lock_file` (below `root`) records, one pointer each.
pub fn load(root: &Path, lock_file: &Path) -> Result<Vec<Pointer>> {
    let read = |file: &Path| std::fs::read_to_string(file).map_err(Error::io("read", file));
    let stages_file = lock_file.with_file_name(STAGES_FILE);
    let stages = match stages_file.is_file() {
        true => Some(read(&stages_file)?),
        false => None,
    };
    parse(root, lock_file, &read(lock_file)?, stages.as_deref())
}

/// [`load`], from the texts of `dvc.lock` and of `dvc.yaml` where there is one.
pub fn parse(
    root: &Path,
    lock_file: &Path,
    lock: &str,
    stages: Option<&str>,
) -> Result<Vec<Pointer>> {
    let stages_file = lock_file.with_file_name(STAGES_FILE);
    let definitions = match stages {
        Some(text) => yaml(&stages_file, text)?,
        None => Mapping::new(),
    };
    let lock = yaml(lock_file, lock)?;
    if lock.get("schema").and_then(Value::as_str) != Some("2.0") {
        let detail = "it lacks `schema: '2.0'`; `dvc repro` with DVC 3 rewrites it".into();
        return Err(bad(lock_file, detail));
    }
    let Some(Value::Mapping(recorded)) = lock.get("stages") else {
        return Err(bad(lock_file, "it has no `stages:` mapping".into()));
    };
    let mut pointers = Vec::new();
    for (name, stage) in recorded {
        let name = name
            .as_str()
            .ok_or_else(|| bad(lock_file, "a stage's name is not text".into()))?;
        let definition = definition(&definitions, name);
        pointers.extend(stage_outputs(root, lock_file, name, stage, definition)?);
    }
    Ok(pointers)
}

/// The cached outputs that `lock_file` records for stage `name`.
fn stage_outputs(
    root: &Path,
    lock_file: &Path,
    name: &str,
    stage: &Value,
    definition: Option<&Mapping>,
) -> Result<Vec<Pointer>> {
    let dir = working_dir(&lock_file.with_file_name(STAGES_FILE), name, definition)?;
    let outs = match stage.get("outs") {
        None => return Ok(Vec::new()),
        Some(Value::Sequence(outs)) => outs,
        Some(_) => {
            return Err(bad(
                lock_file,
                format!("stage `{name}`'s `outs` is no list"),
            ));
        }
    };
    let mut pointers = Vec::new();
    for item in outs {
        let mut out = parse_out_fields(lock_file, item)?;
        let (cache, push) = flags(definition, &out.path);
        if !cache {
            continue;
        }
        let path = absolute(&fsutil::join_slash(&dir, &out.path))?;
        let (Some(folder), Some(file_name)) = (path.parent(), path.file_name()) else {
            return Err(outside(lock_file, name, &out.path));
        };
        if !path.starts_with(root) || path == root {
            return Err(outside(lock_file, name, &out.path));
        }
        out.path = file_name.to_string_lossy().into_owned();
        out.push = push;
        pointers.push(Pointer::of_stage(lock_file, name, folder.to_owned(), out));
    }
    Ok(pointers)
}

fn yaml(file: &Path, text: &str) -> Result<Mapping> {
    serde_norway::from_str(text).map_err(|e| bad(file, e.to_string()))
}

fn bad(file: &Path, detail: String) -> Error {
    Error::BadPointer {
        path: file.to_owned(),
        detail,
    }
}

fn outside(lock_file: &Path, stage: &str, path: &str) -> Error {
    bad(
        lock_file,
        format!("stage `{stage}`'s output `{path}` is outside the repository"),
    )
}

/// The definition in `dvc.yaml` of the stage `dvc.lock` names `name`, if there is one.
fn definition<'a>(definitions: &'a Mapping, name: &str) -> Option<&'a Mapping> {
    // A `foreach` or `matrix` stage is recorded once per item, as `NAME@ITEM`.
    let name = name.split('@').next().unwrap_or(name);
    let stage = definitions.get("stages")?.get(name)?.as_mapping()?;
    match stage.get("do") {
        Some(Value::Mapping(body)) => Some(body),
        _ => Some(stage),
    }
}

/// The folder a stage's output paths start from: `dvc.yaml`'s, or its `wdir` below it.
fn working_dir(stages_file: &Path, stage: &str, definition: Option<&Mapping>) -> Result<PathBuf> {
    let wdir = definition
        .and_then(|d| d.get("wdir"))
        .and_then(Value::as_str)
        .unwrap_or(".");
    if wdir.contains("${") {
        let detail = format!(
            "stage `{stage}` has a templated `wdir: {wdir}`, which datavc does not resolve"
        );
        return Err(bad(stages_file, detail));
    }
    let folder = stages_file.parent().unwrap_or(Path::new(""));
    Ok(fsutil::join_slash(folder, wdir))
}

/// An output's `cache` and `push` flags, as the stage's definition declares them.
fn flags(definition: Option<&Mapping>, path: &str) -> (bool, bool) {
    let declared = ["outs", "metrics", "plots"]
        .into_iter()
        .filter_map(|key| definition?.get(key)?.as_sequence())
        .flatten();
    for entry in declared {
        // An output is declared as `- PATH`, or as `- PATH: {cache: false, …}`.
        let (template, options) = match entry {
            Value::String(template) => (template.as_str(), None),
            Value::Mapping(one) if one.len() == 1 => match one.iter().next() {
                Some((Value::String(template), options)) => {
                    (template.as_str(), options.as_mapping())
                }
                _ => continue,
            },
            _ => continue,
        };
        if matches_template(template, path) {
            let flag = |key: &str| {
                let value = options.and_then(|o| o.get(key));
                value.and_then(Value::as_bool).unwrap_or(true)
            };
            return (flag("cache"), flag("push"));
        }
    }
    (true, true)
}

/// Whether `path` is what `template`, a path with `${…}` placeholders, could resolve to.
fn matches_template(template: &str, path: &str) -> bool {
    let mut literals = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        literals.push(&rest[..start]);
        rest = &rest[start + length + 1..];
    }
    let Some((first, middle)) = literals.split_first() else {
        return template == path;
    };
    let Some(body) = path
        .strip_prefix(first)
        .and_then(|body| body.strip_suffix(rest))
    else {
        return false;
    };
    let mut body = body;
    for literal in middle {
        match body.find(literal) {
            Some(at) => body = &body[at + literal.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "schema: '2.0'
stages:
  prep:
    cmd: make
    deps:
    - path: raw.txt
      hash: md5
      md5: 2306b4377429730ee03a806cff76e92b
      size: 4
    outs:
    - path: prepared
      hash: md5
      md5: a6593de87ee25844035a88ea0c57b998.dir
      size: 6
      nfiles: 2
  train:
    cmd: train
    outs:
    - path: ../model.bin
      hash: md5
      md5: 69b64623f86def16ce17d454b8be41ae
      size: 2
    - path: metrics.json
      hash: md5
      md5: 4588ff3797b78d819d858fa3bdd82b09
      size: 8
  each@x:
    cmd: echo x
    outs:
    - path: out-x.txt
      hash: md5
      md5: 401b30e3b8b5d629635a5c613cdb7919
      size: 2
";

    const STAGES: &str = "stages:
  prep:
    cmd: make
    outs:
    - prepared
  train:
    cmd: train
    wdir: src
    outs:
    - ../model.bin
    metrics:
    - metrics.json:
        cache: false
  each:
    foreach: [x, y]
    do:
      cmd: echo ${item}
      outs:
      - out-${item}.txt:
          push: false
";

    fn outputs(root: &Path, stages: Option<&str>) -> Vec<(PathBuf, String, bool)> {
        let lock_file = root.join("dvc.lock");
        let pointers = parse(root, &lock_file, LOCK, stages).unwrap();
        pointers
            .iter()
            .map(|p| {
                let out = &p.outs[0];
                (p.out_path(out), out.oid.to_string(), out.push)
            })
            .collect()
    }

    #[test]
    fn reads_what_dvc_repro_records() {
        let root = absolute(Path::new("repo")).unwrap();
        let expected = [
            (
                root.join("prepared"),
                "a6593de87ee25844035a88ea0c57b998.dir",
                true,
            ),
            (
                root.join("model.bin"),
                "69b64623f86def16ce17d454b8be41ae",
                true,
            ),
            (
                root.join("out-x.txt"),
                "401b30e3b8b5d629635a5c613cdb7919",
                false,
            ),
        ]
        .map(|(path, oid, push)| (path, oid.to_owned(), push));
        assert_eq!(outputs(&root, Some(STAGES)), expected);
    }

    #[test]
    fn without_dvc_yaml_every_output_counts_from_the_lock_folder() {
        let root = absolute(Path::new("repo")).unwrap();
        let lock_file = root.join("sub/dvc.lock");
        let pointers = parse(&root, &lock_file, LOCK, None).unwrap();
        let paths: Vec<PathBuf> = pointers.iter().map(|p| p.out_path(&p.outs[0])).collect();
        let expected = [
            "sub/prepared",
            "model.bin",
            "sub/metrics.json",
            "sub/out-x.txt",
        ];
        assert_eq!(paths, expected.map(|p| fsutil::join_slash(&root, p)));
        let error = parse(&root, &root.join("dvc.lock"), LOCK, None).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`../model.bin` is outside the repository"),
            "{error}"
        );
    }

    #[test]
    fn bad_files_are_named() {
        let root = absolute(Path::new("repo")).unwrap();
        let lock_file = root.join("dvc.lock");
        for (lock, stages, blamed) in [
            ("stages: {}\n", None, "dvc.lock"),
            ("schema: '2.0'\nstages: [", None, "dvc.lock"),
            ("schema: '2.0'\n", None, "dvc.lock"),
            (
                "schema: '2.0'\nstages:\n  a:\n    outs: 3\n",
                None,
                "dvc.lock",
            ),
            (LOCK, Some("stages: ["), "dvc.yaml"),
            (
                LOCK,
                Some("stages:\n  prep:\n    wdir: ${dir}\n"),
                "dvc.yaml",
            ),
        ] {
            let error = parse(&root, &lock_file, lock, stages).unwrap_err();
            assert!(error.to_string().contains(blamed), "{error}");
        }
    }

    #[test]
    fn templates_match_what_they_resolve_to() {
        for (template, path, matches) in [
            ("out-${item}.txt", "out-x.txt", true),
            ("out-${item}.txt", "out-x.csv", false),
            ("${a}/${b}.bin", "m/w.bin", true),
            ("${a}/${b}.bin", "mw.bin", false),
            ("model.bin", "model.bin", true),
            ("model.bin", "model.bi", false),
        ] {
            assert_eq!(
                matches_template(template, path),
                matches,
                "{template} {path}"
            );
        }
    }

    #[test]
    fn stage_outputs_are_never_written() {
        let root = absolute(Path::new("repo")).unwrap();
        let pointers = parse(&root, &root.join("dvc.lock"), LOCK, Some(STAGES)).unwrap();
        let error = pointers[0].save().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("stage `prep` is DVC's to record"),
            "{error}"
        );
    }
}
