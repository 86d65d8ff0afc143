//! Pipeline outputs: what DVC's stages record in `dvc.lock`.
//!
//! `dvc repro` caches a stage's outputs as `dvc add` caches a file, and DVC's `push`,
//! `pull`, `checkout` and `gc` treat both alike; so do datavc's. datavc runs no stage and
//! never writes `dvc.yaml` or `dvc.lock`: `dvc repro` and `dvc commit` own them.
//!
//! `dvc.yaml` declares the stages, with their `wdir`, outputs and flags, through DVC's
//! templates (resolved by `templates.rs`); `dvc.lock` beside it records each output's hash. As
//! in DVC, only what both name counts: a stage or output `dvc.yaml` no longer declares
//! is ignored, an output declared `cache: false` never reaches the cache (only `status`
//! compares it), and one declared `push: false` is not pushed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::pointer::{Pointer, parse_out_fields};
use crate::repo::absolute;
use crate::templates::{self, Context, ReadFile, read_workspace};

/// The file defining a pipeline's stages.
pub const STAGES_FILE: &str = "dvc.yaml";
/// The file beside it in which DVC records its stages' outputs.
pub const LOCK_FILE: &str = "dvc.lock";

/// What one `dvc.yaml` and its `dvc.lock` hold.
#[derive(Debug, Default)]
pub struct Pipeline {
    /// The cached outputs the lock records, one pointer each.
    pub outputs: Vec<Pointer>,
    /// Every output the stages declare, cached or not, recorded or not.
    pub declared: Vec<PathBuf>,
    /// The outputs `dvc.lock` has no hash for: their stage never ran here, or its lock was
    /// not committed. Nothing can restore the cached ones.
    pub unrecorded: Vec<StageOutput>,
    /// The outputs declared `cache: false` (metrics, plots) that the lock records, one
    /// pointer each: `status` compares them, as DVC does; nothing moves them.
    pub uncached: Vec<Pointer>,
}

/// A stage output, by its path and the stage that declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOutput {
    /// Its absolute path.
    pub path: PathBuf,
    /// The `dvc.yaml` declaring it.
    pub stages_file: PathBuf,
    /// The stage, by its name in `dvc.lock`.
    pub stage: String,
    /// Whether it is cached (not declared `cache: false`).
    pub cache: bool,
}

impl StageOutput {
    /// The output a pointer from [`Pipeline::uncached`] stands for.
    pub fn uncached(pointer: &Pointer) -> StageOutput {
        StageOutput {
            path: pointer.out_paths().next().unwrap_or_default(),
            stages_file: pointer.file.with_file_name(STAGES_FILE),
            stage: pointer.stage().unwrap_or_default().to_owned(),
            cache: false,
        }
    }
}

/// An output a stage declares.
#[derive(Debug)]
struct Declared {
    /// Its absolute path.
    path: PathBuf,
    /// Its path as `dvc.lock` writes it: relative to the stage's `wdir`.
    written: String,
    cache: bool,
    push: bool,
    remote: Option<String>,
}

/// Reads `stages_file` (a `dvc.yaml` below `root`) and the `dvc.lock` beside it.
pub fn load(root: &Path, stages_file: &Path) -> Result<Pipeline> {
    let read = |file: &Path| std::fs::read_to_string(file).map_err(Error::io("read", file));
    let lock_file = stages_file.with_file_name(LOCK_FILE);
    let lock = match lock_file.is_file() {
        true => Some(read(&lock_file)?),
        false => None,
    };
    let stages = read(stages_file)?;
    parse(root, stages_file, &stages, lock.as_deref(), &read_workspace)
}

/// [`load`], from the texts of `dvc.yaml` and of `dvc.lock` where there is one; `read`
/// reads the files that templates name.
pub fn parse(
    root: &Path,
    stages_file: &Path,
    stages: &str,
    lock: Option<&str>,
    read: ReadFile<'_>,
) -> Result<Pipeline> {
    let declared = declared_stages(root, stages_file, &yaml(stages_file, stages)?, read)?;
    let (outputs, uncached) = recorded(stages_file, lock, &declared)?
        .into_iter()
        .partition(|(_, cache)| *cache);
    let pointers = |recorded: Vec<(Pointer, bool)>| recorded.into_iter().map(|(p, _)| p).collect();
    let mut pipeline = Pipeline {
        outputs: pointers(outputs),
        declared: declared
            .values()
            .flatten()
            .map(|d| d.path.clone())
            .collect(),
        unrecorded: Vec::new(),
        uncached: pointers(uncached),
    };
    pipeline.declared.sort();
    let recorded = pipeline.outputs.iter().chain(&pipeline.uncached);
    let recorded: HashSet<PathBuf> = recorded.flat_map(Pointer::out_paths).collect();
    pipeline.unrecorded = unrecorded(stages_file, &declared, &recorded);
    Ok(pipeline)
}

/// The outputs of `declared` whose paths `recorded` lacks, sorted by path.
fn unrecorded(
    stages_file: &Path,
    declared: &HashMap<String, Vec<Declared>>,
    recorded: &HashSet<PathBuf>,
) -> Vec<StageOutput> {
    let mut unrecorded: Vec<StageOutput> = (declared.iter())
        .flat_map(|(stage, outs)| outs.iter().map(move |d| (stage, d)))
        .filter(|(_, d)| !recorded.contains(&d.path))
        .map(|(stage, d)| StageOutput {
            path: d.path.clone(),
            stages_file: stages_file.to_owned(),
            stage: stage.clone(),
            cache: d.cache,
        })
        .collect();
    unrecorded.sort_by(|a, b| a.path.cmp(&b.path));
    unrecorded
}

/// The outputs `lock` (the text of `dvc.lock`, if any) records for the stages `dvc.yaml`
/// declares, each with whether it is cached.
fn recorded(
    stages_file: &Path,
    lock: Option<&str>,
    declared: &HashMap<String, Vec<Declared>>,
) -> Result<Vec<(Pointer, bool)>> {
    let Some(lock) = lock else {
        return Ok(Vec::new());
    };
    let lock_file = stages_file.with_file_name(LOCK_FILE);
    let lock = yaml(&lock_file, lock)?;
    if lock.get("schema").and_then(Value::as_str) != Some("2.0") {
        let detail = "it lacks `schema: '2.0'`; `dvc repro` with DVC 3 rewrites it".into();
        return Err(bad(&lock_file, detail));
    }
    let Some(Value::Mapping(stages)) = lock.get("stages") else {
        return Err(bad(&lock_file, "it has no `stages:` mapping".into()));
    };
    let mut outputs = Vec::new();
    for (name, stage) in stages {
        // DVC ignores what the lock keeps of stages `dvc.yaml` no longer defines.
        let Some((name, outs)) = name.as_str().and_then(|n| declared.get_key_value(n)) else {
            continue;
        };
        outputs.extend(recorded_outputs(&lock_file, name, stage, outs)?);
    }
    Ok(outputs)
}

/// The outputs the lock records for stage `name`, which declares `outs`, each with
/// whether it is cached.
fn recorded_outputs(
    lock_file: &Path,
    name: &str,
    stage: &Value,
    outs: &[Declared],
) -> Result<Vec<(Pointer, bool)>> {
    let items = match stage.get("outs") {
        None => return Ok(Vec::new()),
        Some(Value::Sequence(items)) => items,
        Some(_) => {
            return Err(bad(
                lock_file,
                format!("stage `{name}`'s `outs` is not a list"),
            ));
        }
    };
    let mut pointers = Vec::new();
    for item in items {
        // Left out: an output `dvc.yaml` no longer declares.
        let path = item.get("path").and_then(Value::as_str);
        let declared = outs.iter().find(|d| Some(d.written.as_str()) == path);
        let Some(declared) = declared else {
            continue;
        };
        let (Some(folder), Some(file_name)) = (declared.path.parent(), declared.path.file_name())
        else {
            continue;
        };
        if item.get("hash").is_none() {
            let detail = format!(
                "stage `{name}`'s output `{}` lacks `hash:`, as DVC 2 recorded it; `dvc commit --force` with DVC 3 records it again",
                declared.written
            );
            return Err(bad(lock_file, detail));
        }
        let mut out = parse_out_fields(lock_file, item)?;
        out.path = file_name.to_string_lossy().into_owned();
        out.push = declared.push;
        out.remote = declared.remote.clone();
        let pointer = Pointer::of_stage(lock_file, name, folder.to_owned(), out);
        pointers.push((pointer, declared.cache));
    }
    Ok(pointers)
}

/// Every stage `dvc.yaml` defines, by its name in `dvc.lock`, with its outputs.
fn declared_stages(
    root: &Path,
    stages_file: &Path,
    definitions: &Mapping,
    read: ReadFile<'_>,
) -> Result<HashMap<String, Vec<Declared>>> {
    let folder = stages_file.parent().unwrap_or(Path::new(""));
    let unresolved = |stage: &str, detail: String| Error::StageTemplate {
        path: stages_file.to_owned(),
        stage: stage.to_owned(),
        detail,
    };
    let mut context =
        Context::with_default_params(folder, read).map_err(|e| unresolved("vars", e))?;
    context
        .load_vars(folder, definitions.get("vars"), read)
        .map_err(|e| unresolved("vars", e))?;
    let stages = match definitions.get("stages") {
        None => return Ok(HashMap::new()),
        Some(Value::Mapping(stages)) => stages,
        Some(_) => return Err(bad(stages_file, "its `stages` is not a mapping".into())),
    };
    let mut declared = HashMap::new();
    for (name, stage) in stages {
        let (Some(name), Some(stage)) = (name.as_str(), stage.as_mapping()) else {
            return Err(bad(stages_file, "a stage is not a named mapping".into()));
        };
        let generated =
            templates::expand(name, stage, &context).map_err(|e| unresolved(name, e))?;
        for stage in generated {
            let outs = declared_outputs(root, folder, &stage, read)
                .map_err(|e| unresolved(&stage.name, e))?;
            declared.insert(stage.name, outs);
        }
    }
    Ok(declared)
}

/// A generated stage's outputs: its `outs`, `metrics` and `plots`.
fn declared_outputs(
    root: &Path,
    folder: &Path,
    stage: &templates::Generated<'_>,
    read: ReadFile<'_>,
) -> std::result::Result<Vec<Declared>, String> {
    let mut context = stage.context.clone();
    let wdir = match stage.body.get("wdir") {
        Some(Value::String(wdir)) => context.resolve_str(wdir)?,
        _ => ".".into(),
    };
    let wdir = fsutil::join_slash(folder, &wdir);
    context.load_vars(&wdir, stage.body.get("vars"), read)?;
    let entries = ["outs", "metrics", "plots"]
        .into_iter()
        .filter_map(|key| stage.body.get(key)?.as_sequence())
        .flatten();
    let mut outs = Vec::new();
    for entry in entries {
        // An output is declared as `- PATH`, or as `- PATH: {cache: false, …}`.
        let (template, options) = match entry {
            Value::String(template) => (template, None),
            Value::Mapping(one) if one.len() == 1 => match one.iter().next() {
                Some((Value::String(template), options)) => (template, options.as_mapping()),
                _ => return Err("an output is neither `PATH` nor `PATH: {…}`".into()),
            },
            _ => return Err("an output is neither `PATH` nor `PATH: {…}`".into()),
        };
        let written = context.resolve_str(template)?;
        let path = absolute(&fsutil::join_slash(&wdir, &written)).map_err(|e| e.to_string())?;
        if !path.starts_with(root) || path == root {
            return Err(format!("output `{written}` is outside the repository"));
        }
        let flag =
            |key: &str| options.and_then(|o| o.get(key)).and_then(Value::as_bool) != Some(false);
        outs.push(Declared {
            path,
            written,
            cache: flag("cache"),
            push: flag("push"),
            remote: match options.and_then(|o| o.get("remote")) {
                Some(Value::String(remote)) => Some(context.resolve_str(remote)?),
                _ => None,
            },
        });
    }
    Ok(outs)
}

fn yaml(file: &Path, text: &str) -> Result<Mapping> {
    templates::parse_yaml(text).map_err(|e| bad(file, e))
}

fn bad(file: &Path, detail: String) -> Error {
    Error::BadPointer {
        path: file.to_owned(),
        detail,
    }
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
    - path: old.bin
      md5: 4588ff3797b78d819d858fa3bdd82b09
  each@x:
    cmd: echo x
    outs:
    - path: out-x.txt
      hash: md5
      md5: 401b30e3b8b5d629635a5c613cdb7919
      size: 2
  removed:
    cmd: gone
    outs:
    - path: gone.txt
      hash: md5
      md5: 009520053b00386d1173f3988c55d192
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

    fn root() -> PathBuf {
        absolute(Path::new("repo")).unwrap()
    }

    fn read(stages: &str, lock: Option<&str>) -> Result<Pipeline> {
        parse(&root(), &root().join("dvc.yaml"), stages, lock, &|_| {
            Ok(None)
        })
    }

    fn recorded(pipeline: &Pipeline) -> Vec<(PathBuf, String, bool)> {
        (pipeline.outputs.iter())
            .map(|p| {
                (
                    p.out_path(&p.outs[0]),
                    p.outs[0].oid.to_string(),
                    p.outs[0].push,
                )
            })
            .collect()
    }

    #[test]
    fn reads_what_dvc_repro_records_and_dvc_yaml_still_declares() {
        let pipeline = read(STAGES, Some(LOCK)).unwrap();
        let expected = [
            ("prepared", "a6593de87ee25844035a88ea0c57b998.dir", true),
            ("model.bin", "69b64623f86def16ce17d454b8be41ae", true),
            ("out-x.txt", "401b30e3b8b5d629635a5c613cdb7919", false),
        ]
        .map(|(path, oid, push)| (root().join(path), oid.to_owned(), push));
        assert_eq!(recorded(&pipeline), expected);
        let uncached: Vec<PathBuf> = (pipeline.uncached.iter())
            .flat_map(Pointer::out_paths)
            .collect();
        assert_eq!(uncached, [root().join("src/metrics.json")]);
        let declared = [
            "model.bin",
            "out-x.txt",
            "out-y.txt",
            "prepared",
            "src/metrics.json",
        ];
        assert_eq!(
            pipeline.declared,
            declared.map(|p| fsutil::join_slash(&root(), p))
        );
        let unrecorded = |pipeline: Pipeline| -> Vec<(PathBuf, bool)> {
            (pipeline.unrecorded.into_iter())
                .map(|u| (u.path, u.cache))
                .collect()
        };
        assert_eq!(unrecorded(pipeline), [(root().join("out-y.txt"), true)]);
        let unrun = read(STAGES, None).unwrap();
        assert!(unrun.outputs.is_empty() && unrun.uncached.is_empty());
        let all = [
            ("model.bin", true),
            ("out-x.txt", true),
            ("out-y.txt", true),
            ("prepared", true),
            ("src/metrics.json", false),
        ];
        let all = all.map(|(p, cache)| (fsutil::join_slash(&root(), p), cache));
        assert_eq!(unrecorded(unrun), all);
    }

    #[test]
    fn flags_follow_the_resolved_path_not_a_pattern() {
        let stages = "vars:
  - scratch: scratch.json
    name: features
stages:
  build:
    cmd: x
    outs:
    - data/${scratch}:
        cache: false
    - data/final.csv
    - data/${name}.csv
    plots:
    - data/loss.csv:
        cache: false
";
        let out = |path: &str| {
            format!(
                "    - path: {path}\n      hash: md5\n      md5: 401b30e3b8b5d629635a5c613cdb7919\n"
            )
        };
        let lock = format!(
            "schema: '2.0'\nstages:\n  build:\n    outs:\n{}{}{}{}",
            out("data/scratch.json"),
            out("data/final.csv"),
            out("data/features.csv"),
            out("data/loss.csv")
        );
        let pipeline = read(stages, Some(&lock)).unwrap();
        let paths: Vec<PathBuf> = recorded(&pipeline).into_iter().map(|(p, _, _)| p).collect();
        assert_eq!(
            paths,
            [
                root().join("data/final.csv"),
                root().join("data/features.csv")
            ]
        );
    }

    #[test]
    fn bad_files_are_named() {
        for (stages, lock, blamed) in [
            (STAGES, Some("stages: {}\n"), "dvc.lock"),
            (STAGES, Some("schema: '2.0'\nstages: ["), "dvc.lock"),
            (STAGES, Some("schema: '2.0'\n"), "dvc.lock"),
            (
                STAGES,
                Some("schema: '2.0'\nstages:\n  prep:\n    outs: 3\n"),
                "prep",
            ),
            (
                STAGES,
                Some(
                    "schema: '2.0'\nstages:\n  prep:\n    outs:\n    - path: prepared\n      md5: a6593de87ee25844035a88ea0c57b998.dir\n",
                ),
                "as DVC 2 recorded it",
            ),
            ("stages: [", None, "dvc.yaml"),
            (
                "stages:\n  a:\n    wdir: ${dir}\n",
                None,
                "`${dir}` is not defined",
            ),
            (
                "stages:\n  a:\n    outs: [../x]\n",
                None,
                "`../x` is outside the repository",
            ),
            (
                "stages:\n  a:\n    foreach: 3\n    do: {}\n",
                None,
                "neither a list",
            ),
        ] {
            let error = read(stages, lock).unwrap_err();
            assert!(error.to_string().contains(blamed), "{error}");
        }
    }

    #[test]
    fn stage_outputs_are_never_written() {
        let pipeline = read(STAGES, Some(LOCK)).unwrap();
        let error = pipeline.outputs[0].save().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("stage `prep` is DVC's to record"),
            "{error}"
        );
    }
}
