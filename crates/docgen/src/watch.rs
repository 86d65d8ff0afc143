//! `--watch`: convert, then convert again each time the Markdown file is saved. The folder
//! holding the file is watched rather than the file, because editors save by writing a new
//! file and renaming it over the old one, which ends a watch on the file itself.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use crate::{Error, Format, Input, Options, Report, Result, convert_files};

/// Editors write a save as several events (truncate, write, rename); one conversion follows
/// once they have been quiet this long.
const SETTLE: Duration = Duration::from_millis(150);
/// A file written without pause still converts this often.
const MAX_SETTLE: Duration = Duration::from_secs(2);

/// Converts `input` to `outputs`, then again after every change to it, handing each outcome to
/// `on_render`; a failed conversion (a half-typed front matter, say) is reported and the
/// watch goes on. Returns only when watching itself fails.
pub fn watch(
    input: &Input,
    outputs: &[(Format, PathBuf)],
    options: &Options,
    mut on_render: impl FnMut(Result<Report>),
) -> Result<Infallible> {
    let Input::Path(path) = input else {
        return Err(Error::WatchNeedsFile);
    };
    let watched = |source| Error::Watch {
        path: path.clone(),
        source,
    };
    let file_name = path.file_name().map(ToOwned::to_owned);
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let (sender, events) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(sender).map_err(watched)?;
    watcher
        .watch(&folder, RecursiveMode::NonRecursive)
        .map_err(watched)?;
    on_render(convert_files(input, outputs, options));
    let saves_input = |event: &notify::Event| {
        let change = matches!(
            event.kind,
            notify::EventKind::Create(_) | notify::EventKind::Modify(_)
        );
        change
            && event
                .paths
                .iter()
                .any(|changed| changed.file_name() == file_name.as_deref())
    };
    let stopped = || watched(notify::Error::generic("the watcher stopped"));
    loop {
        let event = events.recv().map_err(|_| stopped())?.map_err(watched)?;
        if saves_input(&event) {
            settle(&events, saves_input).ok_or_else(stopped)?;
            if exists(path) {
                on_render(convert_files(input, outputs, options));
            }
        }
    }
}

/// Waits until the input has not been saved for [`SETTLE`], or [`MAX_SETTLE`] at most, so
/// one save converts once. Other events (a reader opening the output, say) do not count.
/// `None` when the watcher stopped.
fn settle(
    events: &mpsc::Receiver<notify::Result<notify::Event>>,
    saves_input: impl Fn(&notify::Event) -> bool,
) -> Option<()> {
    let give_up = Instant::now() + MAX_SETTLE;
    let mut quiet_at = Instant::now() + SETTLE;
    loop {
        let deadline = quiet_at.min(give_up);
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return Some(());
        };
        match events.recv_timeout(left) {
            Ok(Ok(event)) if saves_input(&event) => quiet_at = Instant::now() + SETTLE,
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => return Some(()),
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// Between an editor's delete and its rename the file may be briefly absent: wait for the
/// rename instead of reporting a missing file.
fn exists(path: &Path) -> bool {
    path.try_exists().unwrap_or(false)
}
