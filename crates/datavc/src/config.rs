//! Configuration: DVC's own INI files (the machine's, the user's, `.dvc/config`, and the
//! git-ignored `.dvc/config.local` for credentials, each shadowing the one before), read
//! and written in DVC's layout so both tools share remotes, plus datavc's settings in
//! `.dvc/datavc.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ini::{Ini, ParseOption};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::{create_dir_all, write_atomic};
use crate::hash::HashAlgo;
use crate::link::LinkType;

/// datavc's own settings, in `.dvc/datavc.toml`. A repository without this file was
/// created by DVC, and uses `md5` so that DVC keeps working on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The hash of new objects: `blake3` (datavc's default) or `md5` (DVC-compatible).
    #[serde(default = "md5_name")]
    pub hash: String,
    /// Re-hash objects as they are checked out of the cache.
    #[serde(default = "yes")]
    pub verify_checkout: bool,
    /// Flush written objects to disk before pointers or manifests name them, so that even a
    /// power cut leaves no truncated object under its final name. Off by default, as in git
    /// and DVC: a killed command is safe either way (every write is a rename), and flushing
    /// makes `add` and `pull` wait for the disk.
    #[serde(default)]
    pub durable: bool,
    /// Concurrent transfers (default: 4 × cores, as DVC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
}

fn md5_name() -> String {
    "md5".into()
}

fn yes() -> bool {
    true
}

impl Settings {
    /// Settings for a new repository hashing with `algo`.
    pub fn new(algo: HashAlgo) -> Settings {
        Settings {
            hash: algo.name().into(),
            verify_checkout: true,
            durable: false,
            jobs: None,
        }
    }

    /// Reads `path`, or DVC-compatible defaults when it does not exist.
    pub fn load(path: &Path) -> Result<Settings> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Settings::new(HashAlgo::Md5));
            }
            Err(e) => {
                return Err(Error::Io {
                    action: "read",
                    path: path.to_owned(),
                    source: e,
                });
            }
        };
        let settings: Settings = toml::from_str(&text).map_err(|e| Error::BadConfig {
            path: path.to_owned(),
            detail: e.message().to_owned(),
        })?;
        settings.algo(path)?;
        Ok(settings)
    }

    /// The configured hash algorithm.
    pub fn algo(&self, path: &Path) -> Result<HashAlgo> {
        HashAlgo::from_name(&self.hash).ok_or_else(|| Error::BadConfig {
            path: path.to_owned(),
            detail: format!("hash must be `md5` or `blake3`, not `{}`", self.hash),
        })
    }

    /// Writes the settings.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string(self).expect("settings serialise");
        write_atomic(path, text.as_bytes())
    }
}

/// One of DVC's four config files, in the order they shadow each other (as DVC reads them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The machine's, for every user: `config` in `DVC_SYSTEM_CONFIG_DIR`, else in DVC's
    /// site config folder (`/etc/xdg/dvc` on Linux).
    System,
    /// The user's, for every repository: `config` in `DVC_GLOBAL_CONFIG_DIR`, else in DVC's
    /// user config folder (`~/.config/dvc` on Linux).
    Global,
    /// `.dvc/config`, committed to git.
    Repo,
    /// `.dvc/config.local`, git-ignored: credentials and personal overrides.
    Local,
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Level::System => "system",
            Level::Global => "global",
            Level::Repo => "project",
            Level::Local => "local",
        })
    }
}

impl Level {
    /// Every level, each shadowed by those after it.
    pub const ALL: [Level; 4] = [Level::System, Level::Global, Level::Repo, Level::Local];

    /// Whether the level's file is outside the repository, shared by its repositories.
    pub fn is_shared(self) -> bool {
        matches!(self, Level::System | Level::Global)
    }

    /// The `dvc config` flag that picks the level.
    pub fn flag(self) -> &'static str {
        match self {
            Level::System => "--system",
            Level::Global => "--global",
            Level::Repo => "--project",
            Level::Local => "--local",
        }
    }

    /// The environment variable that names the level's folder, for a shared level.
    pub fn folder_variable(self) -> Option<&'static str> {
        match self {
            Level::System => Some("DVC_SYSTEM_CONFIG_DIR"),
            Level::Global => Some("DVC_GLOBAL_CONFIG_DIR"),
            Level::Repo | Level::Local => None,
        }
    }

    /// The level's config file, if it can be found: `dvc_dir` is the repository's `.dvc`.
    /// The shared folders are where DVC (through platformdirs) looks.
    fn file(self, dvc_dir: &Path) -> Option<PathBuf> {
        let set = self
            .folder_variable()
            .and_then(std::env::var_os)
            .filter(|dir| !dir.is_empty());
        let folder = match self {
            Level::System => set.map(PathBuf::from).or_else(site_config_dir),
            Level::Global => set.map(PathBuf::from).or_else(user_config_dir),
            Level::Repo => return Some(dvc_dir.join("config")),
            Level::Local => return Some(dvc_dir.join("config.local")),
        };
        folder.map(|folder| folder.join("config"))
    }
}

/// platformdirs' `user_config_dir("dvc", "iterative")`.
fn user_config_dir() -> Option<PathBuf> {
    let base = dirs::config_local_dir()?;
    Some(match cfg!(windows) {
        true => base.join("iterative").join("dvc"),
        false => base.join("dvc"),
    })
}

/// platformdirs' `site_config_dir("dvc", "iterative")`.
fn site_config_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        let data = std::env::var_os("PROGRAMDATA").filter(|dir| !dir.is_empty())?;
        return Some(PathBuf::from(data).join("iterative").join("dvc"));
    }
    if cfg!(target_os = "macos") {
        return Some(PathBuf::from("/Library/Application Support/dvc"));
    }
    let dirs = std::env::var("XDG_CONFIG_DIRS").unwrap_or_default();
    let first = dirs.split(':').find(|dir| !dir.trim().is_empty());
    Some(PathBuf::from(first.unwrap_or("/etc/xdg")).join("dvc"))
}

/// A configured remote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remote {
    /// Its name.
    pub name: String,
    /// Its URL as written (relative local paths are relative to `.dvc/`).
    pub url: String,
    /// Other options (`endpointurl`, `region`, credentials, …), local file winning.
    /// Serialised with secret values masked, so `remote list --json` never prints them.
    #[serde(serialize_with = "masked_options")]
    pub options: BTreeMap<String, String>,
}

/// Options whose values are credentials (DVC's names for S3, GCS, Azure, HTTP and SSH).
const SECRET_OPTIONS: [&str; 8] = [
    "secret_access_key",
    "session_token",
    "account_key",
    "sas_token",
    "client_secret",
    "connection_string",
    "password",
    "token",
];

/// A boolean option as DVC reads one: `true` or `false`, in any case.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// `value`, or `***` when `option` holds a credential: what listings print.
pub fn masked<'a>(option: &str, value: &'a str) -> &'a str {
    match SECRET_OPTIONS.contains(&option) {
        true => "***",
        false => value,
    }
}

fn masked_options<S: serde::Serializer>(
    options: &BTreeMap<String, String>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    let masked: BTreeMap<&str, &str> = options
        .iter()
        .map(|(key, value)| (key.as_str(), masked(key, value)))
        .collect();
    serde::Serialize::serialize(&masked, serializer)
}

/// An option of DVC's config files as `dvc config` names it: `section.option`, or
/// `remote.NAME.option` for a remote's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionName {
    section: String,
    option: String,
}

impl OptionName {
    /// Parses `core.remote`, `cache.type`, `remote.storage.url` and the like.
    pub fn parse(name: &str) -> Result<OptionName> {
        let bad = |reason: &str| Error::BadOptionName {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        let parts: Vec<&str> = name.split('.').collect();
        let (section, option) = match parts[..] {
            ["remote", remote, option] => (remote_section(remote), option),
            [section, option] if section != "remote" => (section.to_lowercase(), option),
            _ => return Err(bad("write section.option or remote.NAME.option")),
        };
        if parts.iter().any(|part| part.is_empty()) {
            return Err(bad("a part of the name is empty"));
        }
        Ok(OptionName {
            section,
            option: option.to_lowercase(),
        })
    }

    fn remote(&self) -> Option<&str> {
        remote_name(&self.section)
    }

    /// Whether the value names a folder (or a URL), which DVC resolves from `.dvc/`.
    pub fn is_path(&self) -> bool {
        match self.remote() {
            Some(_) => self.option == "url",
            None => self.section == "cache" && self.option == "dir",
        }
    }
}

impl std::fmt::Display for OptionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.remote() {
            Some(remote) => write!(f, "remote.{remote}.{}", self.option),
            None => write!(f, "{}.{}", self.section, self.option),
        }
    }
}

/// DVC's config: its four files, any of which may be absent.
#[derive(Debug, Clone)]
pub struct DvcConfig {
    dvc_dir: PathBuf,
    /// Each level's file, if it can be found, and what it holds, in [`Level::ALL`]'s order.
    files: Vec<(Option<PathBuf>, Ini)>,
}

impl DvcConfig {
    /// Reads the system's and the user's config, then `.dvc/config` and
    /// `.dvc/config.local`.
    pub fn load(dvc_dir: &Path) -> Result<DvcConfig> {
        let files = Level::ALL
            .into_iter()
            .map(|level| {
                let path = level.file(dvc_dir);
                let ini = path.as_deref().map_or_else(|| Ok(Ini::new()), read_ini)?;
                Ok((path, ini))
            })
            .collect::<Result<_>>()?;
        Ok(DvcConfig {
            dvc_dir: dvc_dir.to_owned(),
            files,
        })
    }

    /// A value and the level it comes from, the last level that sets it winning.
    fn get(&self, section: &str, key: &str) -> Option<(Level, &str)> {
        Level::ALL.into_iter().rev().find_map(|level| {
            let value = self.ini(level).get_from(Some(section), key)?;
            Some((level, value))
        })
    }

    /// The folder the repository's config files live in (`.dvc`); relative local remotes
    /// start there.
    pub fn dir(&self) -> &Path {
        &self.dvc_dir
    }

    /// The folder a relative path written at `level` starts from: the folder of its file,
    /// as DVC reads it. `None` for a shared level whose folder cannot be found.
    pub fn base_dir(&self, level: Level) -> Option<&Path> {
        match level.is_shared() {
            true => self.files[level as usize].0.as_deref()?.parent(),
            false => Some(&self.dvc_dir),
        }
    }

    /// A local path read at `level`, as a path from `.dvc/`: made absolute if it was
    /// written in a shared file, as DVC resolves it. URLs are left as they are.
    fn resolved_path(&self, level: Level, value: &str) -> String {
        match (is_url(value), self.base_dir(level)) {
            (false, Some(base)) if level.is_shared() => {
                let joined = base.join(value);
                let clean = crate::repo::absolute(&joined).unwrap_or(joined);
                clean.display().to_string()
            }
            _ => value.to_owned(),
        }
    }

    /// `cache.dir`, resolved, if set.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        let (level, dir) = self.get("cache", "dir")?;
        Some(self.dvc_dir.join(self.resolved_path(level, dir)))
    }

    /// `cache.type` as link types (DVC's default `reflink,copy` when unset).
    pub fn link_types(&self) -> Result<Vec<LinkType>> {
        match self.get("cache", "type") {
            None => Ok(LinkType::default_list()),
            Some((level, value)) => self.parse_link_types(level, value),
        }
    }

    /// `value` as link types; the error names the file of `level`, which holds or would hold it.
    fn parse_link_types(&self, level: Level, value: &str) -> Result<Vec<LinkType>> {
        LinkType::parse_list(value).ok_or_else(|| Error::BadConfig {
            path: self.files[level as usize].0.clone().unwrap_or_default(),
            detail: format!(
                "cache.type `{value}` is not a list of reflink, copy, hardlink, symlink"
            ),
        })
    }

    /// Whether `core.autostage` is set: commands that change pointer and `.gitignore`
    /// files stage them in git, as DVC's do.
    pub fn autostage(&self) -> bool {
        self.get("core", "autostage")
            .is_some_and(|(_, value)| parse_bool(value) == Some(true))
    }

    /// Whether `core.no_scm` is set (`dvc init --no-scm`): the repository is not
    /// versioned by git, so nothing writes `.gitignore` files or runs git.
    pub fn no_scm(&self) -> bool {
        self.get("core", "no_scm")
            .is_some_and(|(_, value)| parse_bool(value) == Some(true))
    }

    /// The default remote's name.
    pub fn default_remote(&self) -> Option<&str> {
        self.get("core", "remote").map(|(_, name)| name)
    }

    /// Every remote, sorted by name.
    pub fn remotes(&self) -> Vec<Remote> {
        let mut names: Vec<&str> = self
            .files
            .iter()
            .flat_map(|(_, ini)| ini.sections())
            .flatten()
            .filter_map(remote_name)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .filter_map(|name| self.remote(name).ok())
            .collect()
    }

    /// The remote called `name`, its options merged over the levels that set them.
    pub fn remote(&self, name: &str) -> Result<Remote> {
        let section = remote_section(name);
        let mut options = BTreeMap::new();
        for level in Level::ALL {
            if let Some(props) = self.ini(level).section(Some(section.as_str())) {
                options.extend(props.iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
            }
        }
        options.remove("url");
        let (level, url) = self
            .get(&section, "url")
            .ok_or_else(|| Error::NoSuchRemote { name: name.into() })?;
        let url = self.resolved_path(level, url);
        Ok(Remote {
            name: name.into(),
            url,
            options,
        })
    }

    /// Adds a remote; `default` also makes it `core.remote`.
    pub fn add_remote(&mut self, level: Level, name: &str, url: &str, default: bool) -> Result<()> {
        if self.remote(name).is_ok() {
            return Err(Error::RemoteExists { name: name.into() });
        }
        self.put_remote(level, name, url, default)
    }

    /// Like [`DvcConfig::add_remote`], but a remote of that name in `level`'s file is replaced,
    /// its options dropped, as `dvc remote add --force` does.
    pub fn replace_remote(
        &mut self,
        level: Level,
        name: &str,
        url: &str,
        default: bool,
    ) -> Result<()> {
        self.ini_mut(level).delete(Some(remote_section(name)));
        self.put_remote(level, name, url, default)
    }

    fn put_remote(&mut self, level: Level, name: &str, url: &str, default: bool) -> Result<()> {
        self.ini_mut(level)
            .with_section(Some(remote_section(name)))
            .set("url", url);
        if default {
            self.ini_mut(level)
                .with_section(Some("core"))
                .set("remote", name);
        }
        self.save(level)
    }

    /// Sets (or with `None` unsets) an option of an existing remote. Only the options
    /// datavc reads for the remote's kind can be set: DVC refuses to load a config that
    /// holds an option its remote kind does not have (`region` on a folder, say).
    pub fn modify_remote(
        &mut self,
        level: Level,
        name: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<()> {
        let remote = self.remote(name)?;
        let read = crate::remote::options_read(&remote.url);
        if value.is_some() && key != "url" && !read.contains(&key) {
            return Err(Error::UnsupportedOption {
                name: format!("remote.{name}.{key}"),
                supported: std::iter::once("url")
                    .chain(read.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let section = remote_section(name);
        match value {
            Some(value) => {
                self.ini_mut(level)
                    .with_section(Some(section))
                    .set(key, value);
            }
            None => {
                self.ini_mut(level).delete_from(Some(section), key);
            }
        }
        self.save(level)
    }

    /// Removes a remote, and as default: from the repository's two files, or with `level`
    /// from that file alone. A remote that only a shared file defines is removed only when
    /// that level is asked for: other repositories read the file too.
    pub fn remove_remote(&mut self, name: &str, level: Option<Level>) -> Result<()> {
        let levels = self.files_for(name, level, |found| {
            format!("datavc remote remove {} {name}", found.flag())
        })?;
        let section = remote_section(name);
        for level in levels {
            let ini = self.ini_mut(level);
            let had = ini.delete(Some(section.as_str())).is_some();
            let was_default = ini.get_from(Some("core"), "remote") == Some(name);
            if was_default {
                ini.delete_from(Some("core"), "remote");
            }
            if had || was_default {
                self.save(level)?;
            }
        }
        Ok(())
    }

    /// Renames a remote, and as default: in the repository's two files (so that options
    /// set `--local`, such as credentials, follow it), or with `level` in that file alone,
    /// as DVC; the default is renamed in the files that shadow those too.
    pub fn rename_remote(&mut self, name: &str, new: &str, level: Option<Level>) -> Result<()> {
        let levels = self.files_for(name, level, |found| {
            format!("datavc remote rename {} {name} {new}", found.flag())
        })?;
        if self.remote(new).is_ok() {
            return Err(Error::RemoteExists { name: new.into() });
        }
        let section = remote_section(name);
        for level in Level::ALL
            .into_iter()
            .skip_while(|level| *level != levels[0])
        {
            let ini = self.ini_mut(level);
            let options = match levels.contains(&level) {
                true => ini.delete(Some(section.as_str())),
                false => None,
            };
            if let Some(options) = &options {
                let mut renamed = ini.with_section(Some(remote_section(new)));
                for (key, value) in options.iter() {
                    renamed.set(key, value);
                }
            }
            let was_default = ini.get_from(Some("core"), "remote") == Some(name);
            if was_default {
                ini.with_section(Some("core")).set("remote", new);
            }
            if options.is_some() || was_default {
                self.save(level)?;
            }
        }
        Ok(())
    }

    /// The files a command on remote `name` changes, in shadowing order: `level`'s, or the
    /// repository's two. Fails unless one of them defines the remote, naming the file that
    /// does and `retry`'s command for it.
    fn files_for(
        &self,
        name: &str,
        level: Option<Level>,
        retry: impl FnOnce(Level) -> String,
    ) -> Result<Vec<Level>> {
        self.remote(name)?;
        let section = remote_section(name);
        let levels = match level {
            Some(level) => vec![level],
            None => vec![Level::Repo, Level::Local],
        };
        if !levels
            .iter()
            .any(|level| self.ini(*level).section(Some(section.as_str())).is_some())
        {
            let (found, _) = self.get(&section, "url").expect("the remote exists");
            return Err(Error::RemoteElsewhere {
                name: name.into(),
                asked: level.map_or("project or local".into(), |level| level.to_string()),
                found,
                retry: retry(found),
            });
        }
        Ok(levels)
    }

    /// Sets or (with `None`) clears the default remote.
    pub fn set_default_remote(&mut self, level: Level, name: Option<&str>) -> Result<()> {
        match name {
            Some(name) => {
                self.remote(name)?;
                self.ini_mut(level)
                    .with_section(Some("core"))
                    .set("remote", name);
            }
            None => {
                self.ini_mut(level).delete_from(Some("core"), "remote");
            }
        }
        self.save(level)
    }

    /// The value of an option: from `level`'s file, or with `None` the local file's
    /// winning over the project's, as DVC reads them.
    pub fn option(&self, name: &OptionName, level: Option<Level>) -> Option<&str> {
        let section = Some(name.section.as_str());
        match level {
            Some(level) => self.ini(level).get_from(section, &name.option),
            None => self
                .get(&name.section, &name.option)
                .map(|(_, value)| value),
        }
    }

    /// Every option set, by `dvc config` name: in `level`'s file, or with `None` in both,
    /// the local file's winning.
    pub fn options(&self, level: Option<Level>) -> BTreeMap<String, String> {
        let files = match level {
            Some(level) => vec![self.ini(level)],
            None => Level::ALL.map(|level| self.ini(level)).to_vec(),
        };
        let mut options = BTreeMap::new();
        for ini in files {
            for (section, props) in ini.iter() {
                let Some(section) = section else { continue };
                for (option, value) in props.iter() {
                    let name = OptionName {
                        section: section.to_owned(),
                        option: option.to_owned(),
                    };
                    options.insert(name.to_string(), value.to_owned());
                }
            }
        }
        options
    }

    /// Sets or (with `None`) unsets an option datavc reads, checking the value as DVC
    /// would: `core.remote` must name a remote, `cache.type` list link types, and
    /// `remote.NAME.url` on a new name adds that remote. Other options are DVC's alone, and
    /// refused, so that a typo never reaches a file DVC would then fail to load.
    pub fn set_option(
        &mut self,
        level: Level,
        name: &OptionName,
        value: Option<&str>,
    ) -> Result<()> {
        if value.is_none() && self.option(name, Some(level)).is_none() {
            return Err(Error::OptionNotSet {
                name: name.to_string(),
            });
        }
        if let Some(remote) = name.remote() {
            return match (name.option.as_str(), value) {
                ("url", Some(url)) if self.remote(remote).is_err() => {
                    self.add_remote(level, remote, url, false)
                }
                (option, value) => self.modify_remote(level, remote, option, value),
            };
        }
        match (name.section.as_str(), name.option.as_str(), value) {
            ("core", "remote", value) => return self.set_default_remote(level, value),
            ("core", "autostage", Some(value)) if parse_bool(value).is_none() => {
                return Err(Error::BadConfig {
                    path: self.files[level as usize].0.clone().unwrap_or_default(),
                    detail: format!("core.autostage `{value}` is neither true nor false"),
                });
            }
            ("core", "autostage", _) => {}
            ("cache", "type", Some(types)) => {
                self.parse_link_types(level, types)?;
            }
            ("cache", "type" | "dir", _) => {}
            _ => {
                return Err(Error::UnsupportedOption {
                    name: name.to_string(),
                    supported:
                        "core.remote, core.autostage, cache.dir, cache.type, remote.NAME.OPTION"
                            .into(),
                });
            }
        }
        let section = Some(name.section.as_str());
        match value {
            Some(value) => {
                self.ini_mut(level)
                    .with_section(section)
                    .set(name.option.as_str(), value);
            }
            None => {
                self.ini_mut(level).delete_from(section, &name.option);
            }
        }
        self.save(level)
    }

    fn ini(&self, level: Level) -> &Ini {
        &self.files[level as usize].1
    }

    fn ini_mut(&mut self, level: Level) -> &mut Ini {
        &mut self.files[level as usize].1
    }

    fn save(&self, level: Level) -> Result<()> {
        let (path, ini) = &self.files[level as usize];
        let path = path.as_deref().ok_or(Error::NoConfigFolder { level })?;
        match level {
            // Credentials go here: make sure git never offers to commit them, even in a
            // repository whose `.dvc/.gitignore` was lost or predates the entry.
            Level::Local => ensure_git_ignored(&self.dvc_dir, LOCAL_IGNORE_ENTRY)?,
            // DVC creates a shared folder when it first writes there.
            Level::System | Level::Global => {
                create_dir_all(path.parent().expect("config files have a folder"))?;
            }
            Level::Repo => {}
        }
        write_atomic(path, render(ini).as_bytes())
    }
}

/// The line of `.dvc/.gitignore` that keeps `.dvc/config.local` out of git, as DVC writes it.
const LOCAL_IGNORE_ENTRY: &str = "/config.local";

/// Appends `entry` to `.dvc/.gitignore` unless a line already says it.
fn ensure_git_ignored(dvc_dir: &Path, entry: &str) -> Result<()> {
    let path = dvc_dir.join(".gitignore");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(Error::Io {
                action: "read",
                path,
                source: e,
            });
        }
    };
    if text.lines().any(|line| line.trim() == entry) {
        return Ok(());
    }
    let mut updated = text;
    if !updated.is_empty() && !updated.ends_with('\n') {
        updated.push('\n');
    }
    updated.push_str(entry);
    updated.push('\n');
    write_atomic(&path, updated.as_bytes())
}

fn read_ini(path: &Path) -> Result<Ini> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ini::new()),
        Err(e) => {
            return Err(Error::Io {
                action: "read",
                path: path.to_owned(),
                source: e,
            });
        }
    };
    // DVC writes Windows paths with bare backslashes: no escapes, no quote stripping.
    let options = ParseOption {
        enabled_quote: false,
        enabled_escape: false,
        ..ParseOption::default()
    };
    let mut ini = Ini::load_from_str_opt(&text, options).map_err(|e| Error::BadConfig {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    // configobj quotes section names that contain quotes: `['remote "x"']`.
    let quoted: Vec<String> = ini
        .sections()
        .flatten()
        .filter(|s| s.starts_with('\''))
        .map(str::to_owned)
        .collect();
    for name in quoted {
        if let Some(props) = ini.delete(Some(name.as_str())) {
            let bare = name.trim_matches('\'').to_owned();
            for (key, value) in props.iter() {
                ini.with_section(Some(bare.clone())).set(key, value);
            }
        }
    }
    Ok(ini)
}

/// Writes an INI as DVC (configobj) does: indented keys, ` = `, quoted remote sections.
fn render(ini: &Ini) -> String {
    let mut out = String::new();
    // DVC writes `[core]` first; remotes follow in the order they were added.
    let mut sections: Vec<_> = ini
        .iter()
        .filter_map(|(name, props)| Some((name?, props)))
        .collect();
    sections.sort_by_key(|(name, _)| *name != "core");
    for (section, props) in sections {
        if props.is_empty() {
            continue;
        }
        match section.contains('"') {
            true => out.push_str(&format!("['{section}']\n")),
            false => out.push_str(&format!("[{section}]\n")),
        }
        for (key, value) in props.iter() {
            out.push_str(&format!("    {key} = {value}\n"));
        }
    }
    out
}

/// Whether a remote URL or `cache.dir` names a URL rather than a local path (`C:\data`
/// is a path, not scheme `c`).
pub fn is_url(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|url| url.scheme().len() > 1)
}

fn remote_section(name: &str) -> String {
    format!("remote \"{name}\"")
}

fn remote_name(section: &str) -> Option<&str> {
    section.strip_prefix("remote \"")?.strip_suffix('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_dvc_layout() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config"),
            "[core]\n    remote = storage\n['remote \"storage\"']\n    url = C:\\data\\remote\n",
        )
        .unwrap();
        let mut config = DvcConfig::load(dir.path()).unwrap();
        assert_eq!(config.default_remote(), Some("storage"));
        assert_eq!(config.remote("storage").unwrap().url, "C:\\data\\remote");
        config
            .add_remote(Level::Repo, "s3", "s3://bucket/prefix", false)
            .unwrap();
        config
            .modify_remote(Level::Local, "s3", "secret_access_key", Some("k"))
            .unwrap();
        let written = std::fs::read_to_string(dir.path().join("config")).unwrap();
        assert!(
            written.contains("['remote \"s3\"']\n    url = s3://bucket/prefix\n"),
            "{written}"
        );
        let reread = DvcConfig::load(dir.path()).unwrap();
        assert_eq!(
            reread.remote("s3").unwrap().options["secret_access_key"],
            "k"
        );
        let listed = serde_json::to_string(&reread.remote("s3").unwrap()).unwrap();
        assert!(listed.contains(r#""secret_access_key":"***""#), "{listed}");
        let ignored = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert_eq!(ignored, "/config.local\n");
        assert_eq!(reread.remotes().len(), 2);
        assert!(matches!(
            reread.remote("nope"),
            Err(Error::NoSuchRemote { .. })
        ));
    }

    #[test]
    fn add_refuses_an_existing_name_and_replace_drops_its_options() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DvcConfig::load(dir.path()).unwrap();
        config
            .add_remote(Level::Repo, "store", "s3://old/prefix", false)
            .unwrap();
        config
            .modify_remote(Level::Repo, "store", "region", Some("eu-west-1"))
            .unwrap();
        assert!(matches!(
            config.add_remote(Level::Repo, "store", "/elsewhere", false),
            Err(Error::RemoteExists { .. })
        ));
        config
            .replace_remote(Level::Repo, "store", "/elsewhere", true)
            .unwrap();
        let reread = DvcConfig::load(dir.path()).unwrap();
        let store = reread.remote("store").unwrap();
        assert_eq!(store.url, "/elsewhere");
        assert!(store.options.is_empty(), "{:?}", store.options);
        assert_eq!(reread.default_remote(), Some("store"));
    }

    #[test]
    fn option_names_read_as_dvc_config_writes_them() {
        let name = OptionName::parse("remote.Store.URL").unwrap();
        assert_eq!(name.remote(), Some("Store"));
        assert_eq!(name.to_string(), "remote.Store.url");
        assert_eq!(
            OptionName::parse("Cache.Type").unwrap().to_string(),
            "cache.type"
        );
        for bad in [
            "cache",
            "remote.url",
            "a.b.c",
            "cache.",
            ".type",
            "remote..url",
        ] {
            assert!(
                matches!(OptionName::parse(bad), Err(Error::BadOptionName { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn set_option_checks_what_datavc_reads_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DvcConfig::load(dir.path()).unwrap();
        let name = |name: &str| OptionName::parse(name).unwrap();
        let set = |config: &mut DvcConfig, option: &str, value: Option<&str>| {
            config.set_option(Level::Repo, &name(option), value)
        };
        assert!(matches!(
            set(&mut config, "core.remote", Some("nowhere")),
            Err(Error::NoSuchRemote { .. })
        ));
        assert!(matches!(
            set(&mut config, "cache.type", Some("hardlink,teleport")),
            Err(Error::BadConfig { .. })
        ));
        assert!(matches!(
            set(&mut config, "core.check_update", Some("false")),
            Err(Error::UnsupportedOption { .. })
        ));
        assert!(matches!(
            set(&mut config, "core.autostage", Some("maybe")),
            Err(Error::BadConfig { .. })
        ));
        assert!(matches!(
            set(&mut config, "cache.dir", None),
            Err(Error::OptionNotSet { .. })
        ));
        set(&mut config, "remote.folder.url", Some("/srv/store")).unwrap();
        assert!(matches!(
            set(&mut config, "remote.folder.region", Some("eu-west-1")),
            Err(Error::UnsupportedOption { .. })
        ));
        set(&mut config, "remote.new.url", Some("s3://bucket/store")).unwrap();
        set(&mut config, "core.remote", Some("new")).unwrap();
        set(&mut config, "cache.type", Some("reflink,hardlink")).unwrap();
        set(&mut config, "remote.new.region", Some("eu-west-1")).unwrap();
        config
            .set_option(Level::Local, &name("cache.dir"), Some("../cache"))
            .unwrap();

        let reread = DvcConfig::load(dir.path()).unwrap();
        assert_eq!(reread.default_remote(), Some("new"));
        assert_eq!(
            reread.link_types().unwrap(),
            [LinkType::Reflink, LinkType::Hardlink]
        );
        assert_eq!(reread.cache_dir(), Some(dir.path().join("../cache")));
        assert_eq!(reread.option(&name("cache.dir"), Some(Level::Repo)), None);
        let options = reread.options(None);
        assert_eq!(options["remote.folder.url"], "/srv/store");
        assert_eq!(options["remote.new.region"], "eu-west-1");
        assert_eq!(options.len(), 6, "{options:?}");
    }

    #[test]
    fn settings_default_to_md5_and_reject_unknown_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("datavc.toml");
        assert_eq!(Settings::load(&path).unwrap().hash, "md5");
        std::fs::write(&path, "hash = \"sha1\"\n").unwrap();
        assert!(Settings::load(&path).is_err());
        std::fs::write(&path, "hsah = \"md5\"\n").unwrap();
        assert!(
            Settings::load(&path)
                .unwrap_err()
                .to_string()
                .contains("hsah")
        );
    }
}
