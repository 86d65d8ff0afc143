//! Pointer files (`data.dvc`): the small YAML file committed to git in place of the data.
//!
//! A pointer is kept as a YAML tree so that keys datavc does not use (`desc`, `meta`,
//! `frozen`, …) survive a rewrite untouched; only the fields of an output are replaced.
//! A pipeline stage's outputs ([`crate::stages`]) are read into pointers too, which are
//! never written.

use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::hash::{HashAlgo, Oid};
use crate::pyjson;

/// The extension of pointer files.
pub const POINTER_EXT: &str = "dvc";

/// One tracked file or folder, as its pointer records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The path relative to the pointer file's folder, `/`-separated.
    pub path: String,
    /// The content's object id (`dir` for folders).
    pub oid: Oid,
    /// Bytes in total.
    pub size: u64,
    /// Files in a folder; `None` for a file.
    pub nfiles: Option<u64>,
    /// Whether `push` uploads it (DVC's `push: false` keeps it local).
    pub push: bool,
    /// The remote it goes to instead of the default (DVC's `remote:`).
    pub remote: Option<String>,
    /// For a target inside a tracked folder: the part of the folder (a `/`-separated path
    /// in it) that `checkout`, `fetch`, `pull` and `push` act on; `None` for all of it.
    /// Never written to a pointer file.
    pub part: Option<String>,
}

/// The repository an imported output came from (`dvc import URL PATH`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImportSource {
    /// The repository: a git URL, or a folder (relative to the repository root).
    pub url: String,
    /// The branch or tag asked for (`rev`), which `update` follows; `None`: the default
    /// branch.
    pub rev: Option<String>,
    /// The commit it was imported at (`rev_lock`).
    pub rev_lock: Option<String>,
    /// The path in that repository.
    pub path: String,
}

impl ImportSource {
    /// The revision the data was taken at: the commit, else the revision asked for.
    pub fn locked_rev(&self) -> Option<&str> {
        self.rev_lock.as_deref().or(self.rev.as_deref())
    }

    /// The dependency as DVC writes it: `{path, repo: {url, rev, rev_lock}}`.
    fn to_dep(&self) -> Value {
        let mut repo = Mapping::new();
        repo.insert("url".into(), self.url.clone().into());
        for (key, value) in [("rev", &self.rev), ("rev_lock", &self.rev_lock)] {
            if let Some(value) = value {
                repo.insert(key.into(), value.clone().into());
            }
        }
        let mut dep = Mapping::new();
        dep.insert("path".into(), self.path.clone().into());
        dep.insert("repo".into(), Value::Mapping(repo));
        Value::Mapping(dep)
    }
}

/// A parsed pointer file.
#[derive(Debug, Clone)]
pub struct Pointer {
    /// Where the pointer file is (a `dvc.lock` for a pipeline stage's output).
    pub file: PathBuf,
    /// The folder its outputs' paths start from.
    dir: PathBuf,
    /// The pipeline stage that records the outputs, which datavc never rewrites.
    stage: Option<String>,
    document: Mapping,
    /// Its outputs.
    pub outs: Vec<Output>,
    /// The paths of outputs with no hash yet, as `dvc import --no-download` and
    /// `--no-exec` write them; `update` records them.
    pub unrecorded: Vec<String>,
}

impl Pointer {
    /// A new pointer file for one output.
    pub fn new(file: PathBuf, out: Output) -> Pointer {
        let mut document = Mapping::new();
        document.insert(
            "outs".into(),
            Value::Sequence(vec![Value::Mapping(out_fields(&out, Mapping::new()))]),
        );
        Pointer {
            dir: folder_of(&file),
            file,
            stage: None,
            document,
            outs: vec![out],
            unrecorded: Vec::new(),
        }
    }

    /// A new pointer for an output imported from another repository, as `dvc import`
    /// writes it: frozen (DVC's `repro` leaves it alone), with the source as dependency.
    pub fn new_import(file: PathBuf, source: &ImportSource, out: Output) -> Pointer {
        let mut pointer = Pointer::new(file, out);
        let outs = pointer.document.shift_remove("outs");
        // First, where DVC writes it; `save` computes it.
        pointer.document.insert("md5".into(), Value::Null);
        pointer.document.insert("frozen".into(), true.into());
        let deps = Value::Sequence(vec![source.to_dep()]);
        pointer.document.insert("deps".into(), deps);
        pointer
            .document
            .extend(outs.map(|outs| ("outs".into(), outs)));
        pointer
    }

    /// A pipeline stage's output, read from `lock_file`: its path is `dir/out.path`.
    pub fn of_stage(lock_file: &Path, stage: &str, dir: PathBuf, out: Output) -> Pointer {
        Pointer {
            file: lock_file.to_owned(),
            dir,
            stage: Some(stage.to_owned()),
            document: Mapping::new(),
            outs: vec![out],
            unrecorded: Vec::new(),
        }
    }

    /// Reads and validates a pointer file.
    pub fn load(file: &Path) -> Result<Pointer> {
        let text = std::fs::read_to_string(file).map_err(Error::io("read", file))?;
        Pointer::parse(file, &text)
    }

    /// Reads and validates pointer files.
    pub fn load_all(files: &[PathBuf]) -> Result<Vec<Pointer>> {
        files.iter().map(|file| Pointer::load(file)).collect()
    }

    /// Parses a pointer file's text (`file` names it in errors).
    pub fn parse(file: &Path, text: &str) -> Result<Pointer> {
        let bad = |detail: String| Error::BadPointer {
            path: file.to_owned(),
            detail,
        };
        let document: Mapping = serde_norway::from_str(text).map_err(|e| bad(e.to_string()))?;
        let outs = match document.get("outs") {
            Some(Value::Sequence(items)) => items,
            _ => return Err(bad("no `outs:` list".into())),
        };
        let (mut parsed, mut unrecorded) = (Vec::new(), Vec::new());
        for item in outs {
            match unrecorded_path(item) {
                Some(path) => {
                    check_within(file, path)?;
                    unrecorded.push(path.to_owned());
                }
                None => parsed.push(parse_out(file, item)?),
            }
        }
        Ok(Pointer {
            file: file.to_owned(),
            dir: folder_of(file),
            stage: None,
            document,
            outs: parsed,
            unrecorded,
        })
    }

    /// Replaces output `index`, keeping its other keys.
    pub fn set_out(&mut self, index: usize, out: Output) {
        let path = self.outs[index].path.clone();
        self.replace_fields(&path, |old| out_fields(&out, old));
        self.outs[index] = out;
    }

    /// Records the content of the unrecorded output at `out.path`. The keys already there
    /// keep their place and the new ones come last, as DVC's `update` writes them.
    pub fn record(&mut self, out: Output) {
        self.unrecorded.retain(|path| *path != out.path);
        self.replace_fields(&out.path.clone(), |mut old| {
            old.extend(out_fields(&out, Mapping::new()));
            old
        });
        self.outs.push(out);
    }

    /// Rewrites the fields of the output at `path` in the document (from none, where it
    /// lists no such output).
    fn replace_fields(&mut self, path: &str, rewrite: impl FnOnce(Mapping) -> Mapping) {
        let Some(Value::Sequence(items)) = self.document.get_mut("outs") else {
            return;
        };
        let at = |item: &Value| item.get("path").and_then(Value::as_str) == Some(path);
        match items.iter_mut().find(|item| at(item)) {
            Some(item) => {
                let old = item.as_mapping().cloned().unwrap_or_default();
                *item = Value::Mapping(rewrite(old));
            }
            None => items.push(Value::Mapping(rewrite(Mapping::new()))),
        }
    }

    /// Makes `file` the pointer's file; outputs' paths are then relative to its folder.
    pub fn relocate(&mut self, file: PathBuf) {
        self.dir = folder_of(&file);
        self.file = file;
    }

    /// Whether the file records dependencies, as `dvc import` writes them.
    pub fn has_deps(&self) -> bool {
        matches!(self.document.get("deps"), Some(Value::Sequence(deps)) if !deps.is_empty())
    }

    /// Where `dvc import` brought the outputs from: `deps: [{path, repo: {url, rev_lock}}]`.
    pub fn import_source(&self) -> Option<ImportSource> {
        let Some(Value::Sequence(deps)) = self.document.get("deps") else {
            return None;
        };
        let [Value::Mapping(dep)] = deps.as_slice() else {
            return None;
        };
        let Some(Value::Mapping(repo)) = dep.get("repo") else {
            return None;
        };
        let text =
            |map: &Mapping, key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(ImportSource {
            url: text(repo, "url")?,
            rev: text(repo, "rev"),
            rev_lock: text(repo, "rev_lock"),
            path: text(dep, "path")?,
        })
    }

    /// Records that the import now comes from `source` (a new `rev` or `rev_lock`). Keys
    /// keep their place and new ones come last, as DVC's `update` writes them.
    pub fn set_import_source(&mut self, source: &ImportSource) {
        let Some(Value::Sequence(deps)) = self.document.get_mut("deps") else {
            return;
        };
        let Some(Value::Mapping(dep)) = deps.first_mut() else {
            return;
        };
        let Value::Mapping(fresh) = source.to_dep() else {
            unreachable!("a dependency is a mapping");
        };
        for (key, value) in fresh {
            match (dep.get_mut(&key), value) {
                (Some(Value::Mapping(old)), Value::Mapping(new)) => old.extend(new),
                (_, value) => {
                    dep.insert(key, value);
                }
            }
        }
    }

    /// The pipeline stage that records the outputs (as `dvc.lock` names it), if one does.
    pub fn stage(&self) -> Option<&str> {
        self.stage.as_deref()
    }

    /// The folder outputs are relative to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its outputs' absolute paths.
    pub fn out_paths(&self) -> impl Iterator<Item = PathBuf> + '_ {
        self.outs.iter().map(|out| self.out_path(out))
    }

    /// An output's absolute path.
    pub fn out_path(&self, out: &Output) -> PathBuf {
        out.path
            .split('/')
            .fold(self.dir().to_owned(), |path, part| path.join(part))
    }

    /// Writes the pointer atomically; a pipeline stage's lock file is DVC's to write.
    pub fn save(&self) -> Result<()> {
        if let Some(stage) = &self.stage {
            return Err(Error::BadPointer {
                path: self.file.clone(),
                detail: format!("stage `{stage}` is DVC's to record (`dvc commit` or `dvc repro`)"),
            });
        }
        let bad = |detail: String| Error::BadPointer {
            path: self.file.clone(),
            detail,
        };
        let mut document = self.document.clone();
        if self.has_deps() {
            // DVC reads a stage whose `md5` disagrees with its fields as changed.
            let md5: Value = stage_md5(&document).map_err(|e| bad(e.to_string()))?.into();
            // In place, else last, where DVC's `update` puts it.
            document.insert("md5".into(), md5);
        }
        let text = serde_norway::to_string(&document).map_err(|e| bad(e.to_string()))?;
        write_atomic(&self.file, text.as_bytes())
    }
}

/// A stage's `md5`, as DVC computes it: the md5 of Python's `json.dumps(stage,
/// sort_keys=True)`, without `md5` itself and without the fields DVC leaves out at any
/// depth (annotations, `frozen`, sizes and the like).
fn stage_md5(document: &Mapping) -> serde_json::Result<String> {
    let mut stage = serde_json::to_value(document)?;
    if let Some(fields) = stage.as_object_mut() {
        fields.remove("md5");
        if fields.get("wdir").and_then(serde_json::Value::as_str) == Some(".") {
            fields.remove("wdir");
        }
    }
    const LEFT_OUT: [&str; 11] = [
        "desc", "type", "labels", "meta", "locked", "frozen", "metric", "persist", "isexec",
        "size", "nfiles",
    ];
    fn leave_out(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(fields) => {
                fields.retain(|key, _| !LEFT_OUT.contains(&key.as_str()));
                fields.values_mut().for_each(leave_out);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(leave_out),
            _ => {}
        }
    }
    leave_out(&mut stage);
    Ok(HashAlgo::Md5
        .hash_bytes(pyjson::dumps(&stage).as_bytes())
        .hex)
}

fn folder_of(file: &Path) -> PathBuf {
    file.parent().unwrap_or(Path::new("")).to_owned()
}

/// The output's fields in DVC's order, followed by the keys of `old` datavc does not own.
fn out_fields(out: &Output, old: Mapping) -> Mapping {
    let mut map = Mapping::new();
    map.insert(out.oid.algo.name().into(), out.oid.to_string().into());
    map.insert("size".into(), out.size.into());
    if let Some(nfiles) = out.nfiles {
        map.insert("nfiles".into(), nfiles.into());
    }
    map.insert("hash".into(), out.oid.algo.name().into());
    map.insert("path".into(), out.path.clone().into());
    let owned = ["md5", "blake3", "size", "nfiles", "hash", "path"];
    for (key, value) in old {
        if !key.as_str().is_some_and(|k| owned.contains(&k)) {
            map.insert(key, value);
        }
    }
    map
}

/// The path of an output that names its hash algorithm but has no hash yet.
fn unrecorded_path(item: &Value) -> Option<&str> {
    let map = item.as_mapping()?;
    let algo = HashAlgo::from_name(map.get("hash")?.as_str()?)?;
    match map.contains_key(algo.name()) {
        true => None,
        false => map.get("path")?.as_str(),
    }
}

fn parse_out(file: &Path, item: &Value) -> Result<Output> {
    let out = parse_out_fields(file, item)?;
    check_within(file, &out.path)?;
    Ok(out)
}

/// Refuses an output path that would lead out of the pointer's folder.
fn check_within(file: &Path, path: &str) -> Result<()> {
    match path.split(['/', '\\']).any(|part| part == "..") || Path::new(path).is_absolute() {
        true => Err(Error::BadPointer {
            path: file.to_owned(),
            detail: format!("output path `{path}` leaves the pointer's folder"),
        }),
        false => Ok(()),
    }
}

/// Parses an output's fields (of a pointer or a `dvc.lock`), its path unchecked.
pub(crate) fn parse_out_fields(file: &Path, item: &Value) -> Result<Output> {
    let bad = |detail: String| Error::BadPointer {
        path: file.to_owned(),
        detail,
    };
    let map = item
        .as_mapping()
        .ok_or_else(|| bad("an output is not a mapping".into()))?;
    let text = |key: &str| map.get(key).and_then(Value::as_str);
    let path = text("path").ok_or_else(|| bad("an output has no `path`".into()))?;
    let algo_name = text("hash").ok_or_else(|| {
        bad(format!(
            "output `{path}` has no `hash:` field (a DVC 2 pointer); re-add it with DVC 3 or datavc"
        ))
    })?;
    let algo = HashAlgo::from_name(algo_name).ok_or_else(|| Error::UnknownHash {
        name: algo_name.into(),
        path: file.to_owned(),
    })?;
    let value = text(algo.name()).ok_or_else(|| bad(format!("output `{path}` has no `{algo}`")))?;
    let oid = Oid::parse(algo, value)
        .ok_or_else(|| bad(format!("output `{path}` has a malformed {algo} `{value}`")))?;
    if path.is_empty() {
        return Err(bad("an output's `path` is empty".into()));
    }
    let number = |key: &str| map.get(key).and_then(Value::as_u64);
    Ok(Output {
        path: path.to_owned(),
        size: number("size").unwrap_or(0),
        nfiles: number("nfiles"),
        oid,
        push: map.get("push").and_then(Value::as_bool).unwrap_or(true),
        remote: text("remote").map(str::to_owned),
        part: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DVC_FILE: &str = "outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 14445097\n  hash: md5\n  path: data.xml\n";

    #[test]
    fn writes_what_dvc_writes() {
        let pointer = Pointer::parse(Path::new("data.xml.dvc"), DVC_FILE).unwrap();
        let out = &pointer.outs[0];
        assert_eq!(
            (out.path.as_str(), out.size, out.nfiles),
            ("data.xml", 14445097, None)
        );
        let fresh = Pointer::new("x.dvc".into(), out.clone());
        assert_eq!(serde_norway::to_string(&fresh.document).unwrap(), DVC_FILE);
    }

    #[test]
    fn rewrite_keeps_unknown_keys() {
        let text = format!("{DVC_FILE}  desc: raw dump\nmeta:\n  owner: ada\n");
        let mut pointer = Pointer::parse(Path::new("d.dvc"), &text).unwrap();
        let mut out = pointer.outs[0].clone();
        out.size = 1;
        pointer.set_out(0, out);
        let written = serde_norway::to_string(&pointer.document).unwrap();
        assert!(written.contains("size: 1\n"), "{written}");
        assert!(
            written.contains("desc: raw dump") && written.contains("owner: ada"),
            "{written}"
        );
    }

    /// Written by `dvc import ../reg model.bin -o sub/m.bin --rev v1` (DVC 3.67.1).
    const DVC_IMPORT: &str = "md5: 778890ba3d86d0f32c03aac8ff4fa099\nfrozen: true\ndeps:\n- path: model.bin\n  repo:\n    url: ../reg\n    rev: v1\n    rev_lock: 1d0461af1bb925008aa2aae08489ffe246c023c6\nouts:\n- md5: 69b64623f86def16ce17d454b8be41ae\n  size: 2\n  hash: md5\n  path: m.bin\n";

    #[test]
    fn an_import_is_written_as_dvc_import_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let parsed = Pointer::parse(Path::new("m.bin.dvc"), DVC_IMPORT).unwrap();
        let source = parsed.import_source().unwrap();
        assert_eq!(source.locked_rev(), source.rev_lock.as_deref());
        let file = dir.path().join("m.bin.dvc");
        Pointer::new_import(file.clone(), &source, parsed.outs[0].clone())
            .save()
            .unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), DVC_IMPORT);

        // New content and a new commit give a new stage md5, as DVC computes it:
        // python3 -c 'import json,hashlib; print(hashlib.md5(json.dumps({"deps": [{"path":
        // "model.bin", "repo": {"url": "../reg", "rev": "v2", "rev_lock": "ab"}}], "outs":
        // [{"md5": "39c3c1505d0855232002f6ae5cdec287", "hash": "md5", "path": "m.bin"}]},
        // sort_keys=True).encode()).hexdigest())'
        let mut pointer = Pointer::load(&file).unwrap();
        let mut out = pointer.outs[0].clone();
        out.oid = Oid::parse(HashAlgo::Md5, "39c3c1505d0855232002f6ae5cdec287").unwrap();
        out.size = 3;
        pointer.set_out(0, out);
        let moved = ImportSource {
            rev: Some("v2".into()),
            rev_lock: Some("ab".into()),
            ..source
        };
        pointer.set_import_source(&moved);
        pointer.save().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("md5: ac8ce0dd092560dae1fa9676798e1c7a\n"),
            "{text}"
        );
        assert_eq!(Pointer::load(&file).unwrap().import_source(), Some(moved));
    }

    #[test]
    fn an_output_without_a_hash_is_unrecorded_until_recorded_in_dvcs_order() {
        // Written by `dvc import ../reg data -o ne --no-exec` (DVC 3.67.1), then the
        // same once `dvc update ne.dvc` recorded it.
        let dep = "deps:\n- path: data\n  repo:\n    url: ../reg\n    rev_lock: 9b49954195a33430e54e9cba7fb4b8d358a90a7f\n";
        let before = format!("frozen: true\n{dep}outs:\n- hash: md5\n  path: ne\n");
        let after = format!(
            "frozen: true\n{dep}outs:\n- hash: md5\n  path: ne\n  md5: 849835d274483dc683eb416d6e4f887d.dir\n  size: 4\n  nfiles: 2\nmd5: 5bb2292daa334b9b18c0c254bf08219e\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ne.dvc");
        let mut pointer = Pointer::parse(&file, &before).unwrap();
        assert!(pointer.outs.is_empty());
        assert_eq!(pointer.unrecorded, ["ne"]);
        pointer.record(Output {
            path: "ne".into(),
            oid: Oid::parse(HashAlgo::Md5, "849835d274483dc683eb416d6e4f887d.dir").unwrap(),
            size: 4,
            nfiles: Some(2),
            push: true,
            remote: None,
            part: None,
        });
        pointer.save().unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
        let escaping = "outs:\n- hash: md5\n  path: ../ne\n";
        assert!(Pointer::parse(&file, escaping).is_err());
    }

    #[test]
    fn bad_pointers_are_named() {
        for text in [
            "outs: [",
            "foo: 1\n",
            "outs:\n- md5: zz\n  hash: md5\n  path: a\n",
            "outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  path: a\n",
            "outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  hash: md5\n  path: ../a\n",
        ] {
            let error = Pointer::parse(Path::new("p.dvc"), text).unwrap_err();
            assert!(error.to_string().contains("p.dvc"), "{error}");
        }
    }
}
