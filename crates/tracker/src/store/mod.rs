//! The SQLite store: opening a file safely, the schema and its migrations, and the
//! queries behind [`Tracker`](crate::Tracker).
//!
//! Invariant: a file that is not ours (not SQLite, another program's database, or a
//! newer schema) is inspected through a read-only connection and never modified.

pub(crate) mod queries;
pub(crate) mod schema;

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// How long a writer waits for another process's write transaction before failing.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The first bytes of every SQLite 3 database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Opens the store at `path`, creating it (and its parent directories) when missing,
/// and migrates it to the current schema.
pub(crate) fn open(path: &Path, artifact_root: &Path) -> Result<Connection> {
    match std::fs::metadata(path) {
        Ok(_) => inspect_existing(path)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|source| Error::CreateDir {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
        }
        Err(source) => {
            return Err(Error::ReadStore {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    let open_error = |source| Error::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_error)?;
    configure(&connection).map_err(open_error)?;
    schema::migrate(&mut connection, path, artifact_root)?;
    Ok(connection)
}

/// Refuses files that are not a tracker store, looking only through a read-only
/// connection so that a refused file keeps every byte.
fn inspect_existing(path: &Path) -> Result<()> {
    let read_error = |source| Error::ReadStore {
        path: path.to_path_buf(),
        source,
    };
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    std::fs::File::open(path)
        .map_err(read_error)?
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut header)
        .map_err(read_error)?;
    if header.is_empty() {
        // SQLite treats an empty file as an empty database; there is nothing to lose.
        return Ok(());
    }
    if header != SQLITE_HEADER {
        return Err(Error::NotSqlite {
            path: path.to_path_buf(),
        });
    }
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| Error::Open {
        path: path.to_path_buf(),
        source,
    })?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(|source| Error::Open {
            path: path.to_path_buf(),
            source,
        })?;
    schema::inspect(&connection, path)?;
    Ok(())
}

/// Per-connection settings; WAL lets readers and one writer work at once, and with
/// `synchronous=NORMAL` a commit does not wait for the disk (a power cut may lose the
/// last commits, never corrupt the file).
/// Switches the file to write-ahead logging. The switch takes an exclusive lock and SQLite
/// answers `SQLITE_BUSY` at once, without calling the busy handler, when another process
/// is opening the same new store: retry until the busy timeout instead.
fn enable_wal(connection: &Connection) -> rusqlite::Result<()> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == rusqlite::ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other.map(drop),
        }
    }
}

fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(64);
    connection.pragma_update(None, "foreign_keys", true)?;
    enable_wal(connection)?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    // A checkpoint copies the WAL into the database and syncs it; doing that every
    // 16,000 pages (64 MiB at 4 KiB) instead of SQLite's 1,000 writes each hot page
    // (a metric's tail) once per many commits, not once per few. The WAL file is
    // truncated back to 64 MiB after a checkpoint.
    connection.pragma_update(None, "wal_autocheckpoint", 16_000)?;
    connection.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    Ok(())
}
