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
    /// The repository: a git URL, or a folder.
    pub url: String,
    /// The commit it was imported at (`rev_lock`), else the revision asked for.
    pub rev: Option<String>,
    /// The path in that repository.
    pub path: String,
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
}

impl Pointer {
    /// A new pointer file for one output.
    pub fn new(file: PathBuf, out: Output) -> Pointer {
        let mut document = Mapping::new();
        document.insert(
            "outs".into(),
            Value::Sequence(vec![out_fields(&out, Mapping::new())]),
        );
        Pointer {
            dir: folder_of(&file),
            file,
            stage: None,
            document,
            outs: vec![out],
        }
    }

    /// A pipeline stage's output, read from `lock_file`: its path is `dir/out.path`.
    pub fn of_stage(lock_file: &Path, stage: &str, dir: PathBuf, out: Output) -> Pointer {
        Pointer {
            file: lock_file.to_owned(),
            dir,
            stage: Some(stage.to_owned()),
            document: Mapping::new(),
            outs: vec![out],
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
        let outs = outs
            .iter()
            .map(|item| parse_out(file, item))
            .collect::<Result<Vec<_>>>()?;
        Ok(Pointer {
            file: file.to_owned(),
            dir: folder_of(file),
            stage: None,
            document,
            outs,
        })
    }

    /// Replaces output `index`, keeping its other keys.
    pub fn set_out(&mut self, index: usize, out: Output) {
        if let Some(Value::Sequence(items)) = self.document.get_mut("outs") {
            let old = match items.get(index) {
                Some(Value::Mapping(map)) => map.clone(),
                _ => Mapping::new(),
            };
            items[index] = out_fields(&out, old);
        }
        self.outs[index] = out;
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
            rev: text(repo, "rev_lock").or_else(|| text(repo, "rev")),
            path: text(dep, "path")?,
        })
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
        let text = serde_norway::to_string(&self.document).map_err(|e| Error::BadPointer {
            path: self.file.clone(),
            detail: e.to_string(),
        })?;
        write_atomic(&self.file, text.as_bytes())
    }
}

fn folder_of(file: &Path) -> PathBuf {
    file.parent().unwrap_or(Path::new("")).to_owned()
}

/// The output's fields in DVC's order, followed by the keys of `old` datavc does not own.
fn out_fields(out: &Output, old: Mapping) -> Value {
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
    Value::Mapping(map)
}

fn parse_out(file: &Path, item: &Value) -> Result<Output> {
    let out = parse_out_fields(file, item)?;
    let path = &out.path;
    if path.split(['/', '\\']).any(|part| part == "..") || Path::new(path).is_absolute() {
        return Err(Error::BadPointer {
            path: file.to_owned(),
            detail: format!("output path `{path}` leaves the pointer's folder"),
        });
    }
    Ok(out)
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
