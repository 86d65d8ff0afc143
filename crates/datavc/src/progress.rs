//! Progress reporting without printing: long operations call a [`Progress`] the caller
//! supplies (the binary's draws an indicatif bar on a terminal; the default does nothing).

/// Receives progress from long operations. Called from several threads.
pub trait Progress: Sync {
    /// A phase begins (`"push"`, `"hash"`, …) with this much work.
    fn begin(&self, phase: &str, files: u64, bytes: u64);
    /// One file of `bytes` finished.
    fn file_done(&self, bytes: u64);
    /// The phase ended.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &str, _: u64, _: u64) {}
    fn file_done(&self, _: u64) {}
    fn finish(&self) {}
}
