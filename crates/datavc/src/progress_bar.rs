//! An indicatif bar on standard error for [`datavc::progress::Progress`]: files, bytes and
//! time left. Shown only when standard error is a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use datavc::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// A bar per phase, created on `begin`.
pub struct Bar {
    current: Mutex<Option<ProgressBar>>,
    bytes_done: AtomicU64,
    bytes_total: AtomicU64,
}

impl Bar {
    /// A bar, or `None` when output is not for a person.
    pub fn for_terminal(quiet: bool) -> Option<Bar> {
        (!quiet && std::io::stderr().is_terminal()).then(|| Bar {
            current: Mutex::new(None),
            bytes_done: AtomicU64::new(0),
            bytes_total: AtomicU64::new(0),
        })
    }
}

impl Progress for Bar {
    fn begin(&self, phase: &str, files: u64, bytes: u64) {
        let bar = ProgressBar::new(files);
        let template = "{prefix:>8} [{bar:30}] {pos}/{len} files, {msg}, eta {eta}";
        self.bytes_done.store(0, Ordering::Relaxed);
        self.bytes_total.store(bytes, Ordering::Relaxed);
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(phase.to_owned());
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn file_done(&self, bytes: u64) {
        if let Some(bar) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            bar.inc(1);
            let done = self.bytes_done.fetch_add(bytes, Ordering::Relaxed) + bytes;
            let message = match self.bytes_total.load(Ordering::Relaxed) {
                0 => format!("{}", indicatif::HumanBytes(done)),
                total => format!(
                    "{}/{}",
                    indicatif::HumanBytes(done),
                    indicatif::HumanBytes(total)
                ),
            };
            bar.set_message(message);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            bar.finish_and_clear();
        }
    }
}
