//! `list`: what a repository holds at a path, git's files and DVC's outputs together, as
//! `dvc list` shows a data registry before one `get`s or `import`s from it. The repository
//! is cloned at the revision into a temporary folder; only the manifests of the tracked
//! folders the listing enters are fetched (from the source's cache, else its remote).

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde::Serialize;

use super::source::{Source, source_parts};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::hash::{HashAlgo, Oid};

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// The branch, tag or commit (default: the default branch).
    pub rev: Option<String>,
    /// Every file below the path, not only its entries.
    pub recursive: bool,
    /// Only DVC's outputs (and, without `recursive`, the folders that hold some).
    pub dvc_only: bool,
}

/// One listed entry, with `dvc list --json`'s fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListEntry {
    /// The path, relative to the path listed (a listed file's own name).
    pub path: String,
    /// Whether DVC tracks it (an output, or a file in a tracked folder).
    pub isout: bool,
    /// Whether it is a folder.
    pub isdir: bool,
    /// Whether it is a file git checks out executable (outputs: false).
    pub isexec: bool,
    /// Bytes, where known (a tracked folder's files are listed by their manifest, which
    /// has no sizes).
    pub size: Option<u64>,
    /// The md5 of an md5-tracked output.
    pub md5: Option<String>,
    /// The blake3 of a blake3-tracked output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blake3: Option<String>,
}

/// A file or tracked folder of the repository, by path from its root.
#[derive(Debug, Clone)]
struct Node {
    isout: bool,
    isdir: bool,
    isexec: bool,
    size: Option<u64>,
    oid: Option<Oid>,
}

/// Lists `path` (default: the root) of the repository at `url`, a folder or a git URL.
pub fn list(url: &str, path: Option<&str>, options: &ListOptions) -> Result<Vec<ListEntry>> {
    let named = path.filter(|p| {
        Path::new(p)
            .components()
            .any(|part| !matches!(part, Component::CurDir | Component::RootDir))
    });
    let prefix = match named {
        Some(path) => source_parts(url, path)?.join("/"),
        None => String::new(),
    };
    let near = std::env::temp_dir().join("datavc-list");
    let source = Source::clone_at(url, options.rev.as_deref(), &near)?;
    let mut nodes = git_files(&source.path(""))?;
    add_outputs(url, &source, &prefix, options.recursive, &mut nodes)?;
    let listed = entries(&nodes, &prefix, options);
    match listed.is_empty() && !nodes.contains_key(&prefix) && !has_below(&nodes, &prefix) {
        true => Err(Error::NotInSource {
            path: prefix,
            url: url.to_owned(),
        }),
        false => Ok(listed),
    }
}

/// The files git checked out, but for `.git` and DVC's own `.dvc` folders.
fn git_files(root: &Path) -> Result<BTreeMap<String, Node>> {
    let mut nodes = BTreeMap::new();
    let walk = walkdir::WalkDir::new(root).min_depth(1).into_iter();
    for entry in walk.filter_entry(|e| !(e.file_type().is_dir() && is_hidden_folder(e))) {
        let entry = entry.map_err(|e| Error::io("list", root)(e.into()))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let meta = entry.metadata().ok();
        let relpath = fsutil::relative_slash(entry.path(), root).unwrap_or_default();
        let node = Node {
            isout: false,
            isdir: false,
            isexec: meta.as_ref().is_some_and(is_executable),
            size: meta.map(|meta| meta.len()),
            oid: None,
        };
        nodes.insert(relpath, node);
    }
    Ok(nodes)
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

/// Windows has no executable bit to read.
#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

fn is_hidden_folder(entry: &walkdir::DirEntry) -> bool {
    entry.file_name() == ".git" || entry.file_name() == ".dvc"
}

/// Adds the outputs of the DVC project holding `prefix`, and the files of the tracked
/// folders the listing enters: all below `prefix` when `recursive`, else the one that
/// holds it.
fn add_outputs(
    url: &str,
    source: &Source,
    prefix: &str,
    recursive: bool,
    nodes: &mut BTreeMap<String, Node>,
) -> Result<()> {
    let root = source.path("");
    let at = source.path(prefix);
    // Outputs above the path itself belong to the project holding its nearest existing
    // folder.
    let existing = at
        .ancestors()
        .find(|folder| folder.exists())
        .unwrap_or(&root);
    let Some(project) = source.project(existing, &source.scratch("cache"))? else {
        return Ok(());
    };
    let mut folders = Vec::new();
    for pointer in project.repo.outputs()? {
        for out in &pointer.outs {
            let relpath = fsutil::relative_slash(&pointer.out_path(out), &root).unwrap_or_default();
            let entered = match recursive {
                true => within(&relpath, prefix),
                false => within(prefix, &relpath),
            };
            if out.oid.dir && entered {
                folders.push((out.oid.clone(), relpath.clone()));
            }
            let node = Node {
                isout: true,
                isdir: out.oid.dir,
                isexec: false,
                size: Some(out.size),
                oid: Some(out.oid.clone()),
            };
            nodes.insert(relpath, node);
        }
    }
    let manifests = project.manifests(&folders)?;
    let lacking: Vec<&(Oid, String)> = (folders.iter())
        .filter(|(oid, _)| !manifests.iter().any(|(found, _)| found == oid))
        .collect();
    if let Some((oid, path)) = lacking.first() {
        // Listed without its files, a folder would pass for empty.
        return Err(Error::MissingInSource {
            url: url.to_owned(),
            count: lacking.len(),
            first: format!("{path} ({oid})"),
        });
    }
    // All there, in the order asked for.
    for ((_, folder), (_, manifest)) in folders.iter().zip(manifests) {
        for entry in manifest.entries() {
            let node = Node {
                isout: true,
                isdir: false,
                isexec: false,
                size: None,
                oid: Some(entry.oid.clone()),
            };
            nodes.insert(format!("{folder}/{}", entry.relpath), node);
        }
    }
    Ok(())
}

/// Whether `path` is `folder` or below it (`""` is the root).
fn within(path: &str, folder: &str) -> bool {
    folder.is_empty()
        || path
            .strip_prefix(folder)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The nodes strictly below `prefix`, by path below it.
fn below<'a>(
    nodes: &'a BTreeMap<String, Node>,
    prefix: &str,
) -> impl Iterator<Item = (&'a str, &'a Node)> {
    let start = match prefix.is_empty() {
        true => String::new(),
        false => format!("{prefix}/"),
    };
    // Paths below a folder sort together, right after `folder/`.
    let skip = start.len();
    (nodes.range(start.clone()..))
        .take_while(move |(path, _)| path.starts_with(&start))
        .map(move |(path, node)| (&path[skip..], node))
}

fn has_below(nodes: &BTreeMap<String, Node>, prefix: &str) -> bool {
    below(nodes, prefix).next().is_some()
}

/// The entries of `prefix`: itself where it is a file, else what is in it.
fn entries(nodes: &BTreeMap<String, Node>, prefix: &str, options: &ListOptions) -> Vec<ListEntry> {
    if let Some(node) = nodes.get(prefix).filter(|node| !node.isdir) {
        let name = prefix.rsplit('/').next().unwrap_or(prefix);
        return vec![entry(name, node)];
    }
    let mut listed: BTreeMap<String, ListEntry> = BTreeMap::new();
    for (rest, node) in below(nodes, prefix) {
        let entered_folder = node.isdir && has_below(nodes, &join(prefix, rest));
        match (options.recursive, rest.split_once('/')) {
            (true, _) if entered_folder => {}
            (true, _) | (false, None) => {
                listed.insert(rest.to_owned(), entry(rest, node));
            }
            (false, Some((first, _))) => {
                let folder = ListEntry {
                    path: first.to_owned(),
                    isout: in_output_folder(nodes, &join(prefix, first)),
                    isdir: true,
                    isexec: false,
                    size: None,
                    md5: None,
                    blake3: None,
                };
                listed.entry(first.to_owned()).or_insert(folder);
            }
        }
    }
    let contains_output = |path: &str| {
        nodes
            .get(&join(prefix, path))
            .is_some_and(|node| node.isout)
            || below(nodes, &join(prefix, path)).any(|(_, node)| node.isout)
    };
    (listed.into_values())
        .filter(|entry| !options.dvc_only || contains_output(&entry.path))
        .collect()
}

/// Whether the folder at `path` lies in a tracked folder (its files are DVC's).
fn in_output_folder(nodes: &BTreeMap<String, Node>, path: &str) -> bool {
    let mut folder = path;
    while let Some((parent, _)) = folder.rsplit_once('/') {
        if nodes
            .get(parent)
            .is_some_and(|node| node.isdir && node.isout)
        {
            return true;
        }
        folder = parent;
    }
    false
}

fn join(prefix: &str, rest: &str) -> String {
    match prefix.is_empty() {
        true => rest.to_owned(),
        false => format!("{prefix}/{rest}"),
    }
}

fn entry(path: &str, node: &Node) -> ListEntry {
    let hash = |algo| {
        (node.oid.as_ref())
            .filter(|oid| oid.algo == algo)
            .map(ToString::to_string)
    };
    ListEntry {
        path: path.to_owned(),
        isout: node.isout,
        isdir: node.isdir,
        isexec: node.isexec,
        size: node.size,
        md5: hash(HashAlgo::Md5),
        blake3: hash(HashAlgo::Blake3),
    }
}
