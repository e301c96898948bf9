//! What an import reports: counts per file, rejected rows, and what an interrupted run had committed.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::FileKind;

/// Rows (or pickups) of one file by what became of them; `read` is the sum of the others.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Rows read.
    pub read: u64,
    /// Rows inserted.
    pub inserted: u64,
    /// Rows whose external id was already in the database.
    pub already_imported: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Good pickup lines left out because another line of their pickup was rejected.
    pub skipped: u64,
}

/// What one file gave.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// Which file.
    pub kind: FileKind,
    /// Its path.
    pub path: PathBuf,
    /// How the file was read: its encoding and delimiter, or `xlsx`.
    pub read_as: String,
    /// Its row counts.
    pub rows: Counts,
    /// For the pickups file: whole pickups (groups of lines with one pickup_external_id).
    pub pickups: Option<Counts>,
}

/// One refused cell or row (or a warning), as `FILE:LINE: field: reason`; the header is line 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The file.
    pub file: String,
    /// The file's own line number.
    pub line: u64,
    /// The column, or `row`.
    pub field: String,
    /// Why, in words (never personal data).
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.field, self.reason
        )
    }
}

/// The outcome of an import: counts per file and every rejected row, in file and line order.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// One report per file given.
    pub files: Vec<FileReport>,
    /// Every refused cell or row.
    pub rejections: Vec<Rejection>,
    /// Rows imported as read that may not be what was meant (a cell holding what looks like further rows).
    pub warnings: Vec<Rejection>,
    /// How long this import waited for another one into the same database to finish.
    pub waited: Option<Duration>,
}

impl ImportReport {
    /// The report of one file.
    pub fn file(&self, kind: FileKind) -> Option<&FileReport> {
        self.files.iter().find(|f| f.kind == kind)
    }

    /// Rows refused in all files (a row with several bad cells counts once).
    pub fn rejected_rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows.rejected).sum()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inserted = if self.dry_run {
            "to insert"
        } else {
            "inserted"
        };
        if self.dry_run {
            writeln!(f, "dry run: nothing was written")?;
        }
        if let Some(w) = self.waited {
            writeln!(
                f,
                "waited {:.1} s for another import into this database to finish",
                w.as_secs_f64()
            )?;
        }
        for file in &self.files {
            let r = &file.rows;
            write!(
                f,
                "{} ({}): {} rows: {} {inserted}, {} already imported, {} rejected",
                file.path.display(),
                file.read_as,
                r.read,
                r.inserted,
                r.already_imported,
                r.rejected
            )?;
            if let Some(p) = &file.pickups {
                write!(
                    f,
                    ", {} skipped with their pickup; {} pickups: {} {inserted}, {} already imported, {} rejected",
                    r.skipped, p.read, p.inserted, p.already_imported, p.rejected
                )?;
            }
            writeln!(f)?;
        }
        if !self.warnings.is_empty() {
            writeln!(
                f,
                "{} warnings: rows imported as read that may hold other rows in a cell (see above)",
                self.warnings.len()
            )?;
        }
        Ok(())
    }
}

/// What an interrupted import had committed when it stopped.
#[derive(Debug, Clone, Default)]
pub struct Interrupted {
    /// Customers committed before the stop.
    pub customers: u64,
    /// Garments committed before the stop.
    pub garments: u64,
    /// Pickups committed before the stop.
    pub pickups: u64,
    /// Pickup lines committed before the stop.
    pub lines: u64,
    /// Chunks committed.
    pub chunks_done: u64,
    /// Chunks in all.
    pub chunks: u64,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.chunks_done == 0 {
            write!(f, "interrupted before anything was written")?;
        } else {
            write!(
                f,
                "interrupted after {} of {} chunks: committed {} customers, {} garments, {} pickups ({} lines) \
                 with their rollups; nothing else was written",
                self.chunks_done,
                self.chunks,
                self.customers,
                self.garments,
                self.pickups,
                self.lines
            )?;
        }
        write!(
            f,
            ". Rerun the same command to finish: rows already in are skipped as already imported"
        )
    }
}

impl std::error::Error for Interrupted {}
