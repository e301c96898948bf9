//! `doorstep import`: a company's history (customers, garments, pickup lines) from CSV files, once per external id.

mod db;
mod parse;
mod write;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{FixedOffset, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;
use uuid::Uuid;

use crate::config::DbConfig;
use crate::pickups::db::LineRow;
use db::Table;
use parse::{Cells, Format, Header, PickupLine, Problem};
use write::{NewCustomer, NewGarment, NewPickup, Outcome, Scope};

pub use db::IMPORT_STAFF;

/// The three history files, loaded in this order so references resolve to rows loaded before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Customers,
    Garments,
    Pickups,
}

impl FileKind {
    fn format(self) -> &'static Format {
        match self {
            FileKind::Customers => &parse::CUSTOMERS,
            FileKind::Garments => &parse::GARMENTS,
            FileKind::Pickups => &parse::PICKUPS,
        }
    }
}

/// What to import and how; the CLI fills it from flags, tests build it directly.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub customers: Option<PathBuf>,
    pub garments: Option<PathBuf>,
    pub pickups: Option<PathBuf>,
    /// Check and count everything, then roll back: nothing is written.
    pub dry_run: bool,
    /// Rows (pickup lines for the pickups file) per transaction.
    pub batch_size: usize,
    /// Company time, for dates and times written without an offset.
    pub offset: FixedOffset,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            customers: None,
            garments: None,
            pickups: None,
            dry_run: false,
            batch_size: 500,
            offset: crate::domain::clock::DEFAULT_OFFSET,
            progress: false,
        }
    }
}

/// Rows (or pickups) of one file by what became of them; `read` is the sum of the others.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub read: u64,
    pub inserted: u64,
    pub already_imported: u64,
    pub rejected: u64,
    /// Good pickup lines left out because another line of their pickup was rejected.
    pub skipped: u64,
}

/// What one file gave.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub kind: FileKind,
    pub path: PathBuf,
    pub rows: Counts,
    /// For the pickups file: whole pickups (groups of lines with one pickup_external_id).
    pub pickups: Option<Counts>,
}

/// One refused cell or row, as `FILE:LINE: field: reason`; the header is line 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub file: String,
    pub line: u64,
    pub field: String,
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
    pub dry_run: bool,
    pub files: Vec<FileReport>,
    pub rejections: Vec<Rejection>,
}

impl ImportReport {
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
        for file in &self.files {
            let r = &file.rows;
            write!(
                f,
                "{}: {} rows: {} {inserted}, {} already imported, {} rejected",
                file.path.display(),
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
        Ok(())
    }
}

/// Imports the given files in order (customers, garments, pickups). Bad rows are reported and skipped; good
/// rows are written in batches. A header error in any file stops the import before anything is written.
pub async fn import(pool: &PgPool, opts: &ImportOptions) -> anyhow::Result<ImportReport> {
    let mut sources = Vec::new();
    for (kind, path) in [
        (FileKind::Customers, &opts.customers),
        (FileKind::Garments, &opts.garments),
        (FileKind::Pickups, &opts.pickups),
    ] {
        if let Some(path) = path {
            sources.push(Source::open(kind, path)?);
        }
    }
    if sources.is_empty() {
        anyhow::bail!("nothing to import: give --customers, --garments and/or --pickups");
    }
    let mut total: u64 = sources.iter().map(|s| s.size).sum();
    total += sources
        .iter()
        .filter(|s| s.kind == FileKind::Pickups)
        .map(|s| s.size)
        .sum::<u64>();
    let bar = progress_bar(opts.progress, total)?;

    let mut report = ImportReport {
        dry_run: opts.dry_run,
        files: Vec::new(),
        rejections: Vec::new(),
    };
    let mut scope = Scope::begin(pool, opts.dry_run).await?;
    for source in sources {
        bar.set_message(source.name.clone());
        let first_rejection = report.rejections.len();
        let mut tally = Tally {
            file: source.name.clone(),
            rows: Counts::default(),
            pickups: Counts::default(),
            rejections: &mut report.rejections,
        };
        let (kind, path) = (source.kind, source.path.clone());
        match kind {
            FileKind::Customers => {
                import_customers(&mut scope, source, opts, &bar, &mut tally).await?
            }
            FileKind::Garments => {
                import_garments(&mut scope, source, opts, &bar, &mut tally).await?
            }
            FileKind::Pickups => import_pickups(&mut scope, source, opts, &bar, &mut tally).await?,
        }
        let (rows, pickups) = (tally.rows, tally.pickups);
        report.rejections[first_rejection..].sort_by_key(|r| r.line);
        tracing::debug!(
            file = ?kind,
            read = rows.read,
            inserted = rows.inserted,
            already_imported = rows.already_imported,
            rejected = rows.rejected,
            dry_run = opts.dry_run,
            "import file done"
        );
        report.files.push(FileReport {
            kind,
            path,
            rows,
            pickups: (kind == FileKind::Pickups).then_some(pickups),
        });
    }
    scope.finish().await?;
    bar.finish_and_clear();
    Ok(report)
}

fn progress_bar(show: bool, total: u64) -> anyhow::Result<ProgressBar> {
    if !show {
        return Ok(ProgressBar::hidden());
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {bytes}/{total_bytes} {msg} ({bytes_per_sec}, eta {eta})",
        )?
        .progress_chars("=> "),
    );
    Ok(bar)
}

/// One open CSV file with its checked header.
struct Source {
    kind: FileKind,
    path: PathBuf,
    /// The path as reports name it.
    name: String,
    size: u64,
    reader: csv::Reader<File>,
    header: Header,
    record: csv::ByteRecord,
    read_bytes: u64,
}

/// A non-blank data row: its first line in the file, its cells, and problems of its shape or encoding.
struct RawRow {
    line: u64,
    cells: Cells,
    problems: Vec<Problem>,
}

impl Source {
    fn open(kind: FileKind, path: &Path) -> anyhow::Result<Source> {
        let name = path.display().to_string();
        let file = File::open(path).with_context(|| format!("opening {name}"))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let names: Vec<String> = reader
            .byte_headers()
            .with_context(|| format!("reading {name}"))?
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let header =
            Header::new(kind.format(), &names).map_err(|e| anyhow::anyhow!("{name}:1: {e}"))?;
        Ok(Source {
            kind,
            path: path.to_owned(),
            name,
            size,
            reader,
            header,
            record: csv::ByteRecord::new(),
            read_bytes: 0,
        })
    }

    /// The next row with any non-blank cell, moving the progress bar by the bytes read.
    fn next(&mut self, bar: &ProgressBar) -> anyhow::Result<Option<RawRow>> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .with_context(|| format!("reading {}", self.name))?;
            let at = self.reader.position().byte();
            bar.inc(at.saturating_sub(self.read_bytes));
            self.read_bytes = at;
            if !more {
                return Ok(None);
            }
            if self.record.iter().all(|f| f.trim_ascii().is_empty()) {
                continue;
            }
            let line = self.record.position().map_or(0, |p| p.line());
            let (cells, problems) = self.header.cells(self.record.iter());
            return Ok(Some(RawRow {
                line,
                cells,
                problems,
            }));
        }
    }
}

/// Counts and rejections of the file being imported.
struct Tally<'a> {
    file: String,
    rows: Counts,
    pickups: Counts,
    rejections: &'a mut Vec<Rejection>,
}

impl Tally<'_> {
    fn reject(&mut self, line: u64, mut problems: Vec<Problem>) {
        self.rows.rejected += 1;
        if problems.is_empty() {
            problems.push(Problem::new("row", "could not be read"));
        }
        for p in problems {
            self.rejections.push(Rejection {
                file: self.file.clone(),
                line,
                field: p.field,
                reason: p.reason,
            });
        }
    }

    fn outcome(&mut self, line: u64, outcome: Outcome) {
        match outcome {
            Outcome::Inserted => self.rows.inserted += 1,
            Outcome::AlreadyImported => self.rows.already_imported += 1,
            Outcome::Rejected(p) => self.reject(line, vec![p]),
        }
    }
}

/// A customer or garment row on its way to the database. `key` is `None` when the row cannot be imported
/// whatever the database holds (no usable external id, a repeated one, a broken row).
struct Row<T> {
    line: u64,
    key: Option<String>,
    value: Option<T>,
    problems: Vec<Problem>,
}

enum Decision<T> {
    Already,
    Reject(u64, Vec<Problem>),
    Insert(u64, String, T),
}

/// Reads the row's external id, refusing one already seen earlier in the file.
fn keyed(
    raw: &RawRow,
    seen: &mut HashMap<String, u64>,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let broken = !raw.problems.is_empty();
    let key = parse::external_id(&raw.cells, "external_id", problems)?;
    if broken {
        return None;
    }
    if let Some(first) = seen.get(&key) {
        problems.push(Problem::new(
            "external_id",
            format!("appears again: first on line {first}"),
        ));
        return None;
    }
    seen.insert(key.clone(), raw.line);
    Some(key)
}

impl<T> Row<T> {
    /// A row already in the database counts as imported even if it has problems now: it is never changed.
    fn decide(self, existing: &HashSet<String>) -> Decision<T> {
        match (self.key, self.value) {
            (Some(k), _) if existing.contains(&k) => Decision::Already,
            (Some(k), Some(v)) if self.problems.is_empty() => Decision::Insert(self.line, k, v),
            _ => Decision::Reject(self.line, self.problems),
        }
    }
}

async fn import_customers(
    scope: &mut Scope,
    mut src: Source,
    opts: &ImportOptions,
    bar: &ProgressBar,
    tally: &mut Tally<'_>,
) -> anyhow::Result<()> {
    let mut seen = HashMap::new();
    let mut batch = Vec::new();
    while let Some(raw) = src.next(bar)? {
        tally.rows.read += 1;
        let mut problems = raw.problems.clone();
        let key = keyed(&raw, &mut seen, &mut problems);
        let value = parse::customer(&raw.cells, opts.offset, &mut problems);
        batch.push(Row {
            line: raw.line,
            key,
            value,
            problems,
        });
        if batch.len() >= opts.batch_size {
            flush_customers(scope, tally, std::mem::take(&mut batch)).await?;
        }
    }
    flush_customers(scope, tally, batch).await
}

async fn flush_customers(
    scope: &mut Scope,
    tally: &mut Tally<'_>,
    rows: Vec<Row<crate::customers::db::CustomerFields>>,
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = scope.batch().await?;
    let keys: Vec<String> = rows.iter().filter_map(|r| r.key.clone()).collect();
    let existing = db::existing_external_ids(&mut *tx, Table::Customer, &keys).await?;
    let (mut todo, mut lines) = (Vec::new(), Vec::new());
    for row in rows {
        match row.decide(&existing) {
            Decision::Already => tally.rows.already_imported += 1,
            Decision::Reject(line, problems) => tally.reject(line, problems),
            Decision::Insert(line, external_id, fields) => {
                lines.push(line);
                todo.push(NewCustomer {
                    external_id,
                    customer_id: Uuid::new_v4(),
                    fields,
                });
            }
        }
    }
    let outcomes = write::write_all(&mut tx, &todo).await?;
    tx.commit().await?;
    for (line, outcome) in lines.into_iter().zip(outcomes) {
        tally.outcome(line, outcome);
    }
    Ok(())
}

async fn import_garments(
    scope: &mut Scope,
    mut src: Source,
    opts: &ImportOptions,
    bar: &ProgressBar,
    tally: &mut Tally<'_>,
) -> anyhow::Result<()> {
    let mut seen = HashMap::new();
    let mut batch = Vec::new();
    while let Some(raw) = src.next(bar)? {
        tally.rows.read += 1;
        let mut problems = raw.problems.clone();
        let key = keyed(&raw, &mut seen, &mut problems);
        let value = parse::garment(&raw.cells, &mut problems);
        batch.push(Row {
            line: raw.line,
            key,
            value: Some(value),
            problems,
        });
        if batch.len() >= opts.batch_size {
            flush_garments(scope, tally, std::mem::take(&mut batch)).await?;
        }
    }
    flush_garments(scope, tally, batch).await
}

async fn flush_garments(
    scope: &mut Scope,
    tally: &mut Tally<'_>,
    rows: Vec<Row<parse::GarmentRow>>,
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = scope.batch().await?;
    let keys: Vec<String> = rows.iter().filter_map(|r| r.key.clone()).collect();
    let existing = db::existing_external_ids(&mut *tx, Table::Garment, &keys).await?;
    let refs: Vec<String> = rows
        .iter()
        .filter_map(|r| r.value.as_ref()?.customer.clone())
        .collect();
    let owners = db::customers_by_external_id(&mut *tx, &refs).await?;
    let (mut todo, mut lines) = (Vec::new(), Vec::new());
    for row in rows {
        let Row {
            line,
            key,
            value,
            mut problems,
        } = row;
        let value = value.and_then(|g| {
            let customer = g.customer?;
            let owner = owners.get(&customer).copied();
            if owner.is_none() {
                problems.push(unknown("customer_external_id", "customer", &customer));
            }
            Some((owner?, g.fields?))
        });
        let row = Row {
            line,
            key,
            value,
            problems,
        };
        match row.decide(&existing) {
            Decision::Already => tally.rows.already_imported += 1,
            Decision::Reject(line, problems) => tally.reject(line, problems),
            Decision::Insert(line, external_id, (customer_id, fields)) => {
                lines.push(line);
                todo.push(NewGarment {
                    external_id,
                    customer_id,
                    garment_id: Uuid::new_v4(),
                    fields,
                });
            }
        }
    }
    let outcomes = write::write_all(&mut tx, &todo).await?;
    tx.commit().await?;
    for (line, outcome) in lines.into_iter().zip(outcomes) {
        tally.outcome(line, outcome);
    }
    Ok(())
}

fn unknown(column: &str, noun: &str, id: &str) -> Problem {
    Problem::new(
        column,
        format!("no {noun} has external id '{id}' (in the database or earlier in this import)"),
    )
}

/// First pass over the pickups file: how many rows each pickup has, so the second pass knows when a pickup
/// is complete however its rows are ordered, and holds only the pickups still open.
fn count_pickup_rows(path: &Path, bar: &ProgressBar) -> anyhow::Result<HashMap<String, usize>> {
    let mut src = Source::open(FileKind::Pickups, path)?;
    let mut counts = HashMap::new();
    while let Some(raw) = src.next(bar)? {
        if let Some(key) = parse::external_id(&raw.cells, "pickup_external_id", &mut Vec::new()) {
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// A pickup whose rows have all been read.
struct Group {
    key: String,
    lines: Vec<PickupLine>,
}

async fn import_pickups(
    scope: &mut Scope,
    mut src: Source,
    opts: &ImportOptions,
    bar: &ProgressBar,
    tally: &mut Tally<'_>,
) -> anyhow::Result<()> {
    bar.set_message(format!("{} (grouping pickups)", src.name));
    let expected = count_pickup_rows(&src.path, bar)?;
    bar.set_message(src.name.clone());
    let now = Utc::now();
    let mut open: HashMap<String, Vec<PickupLine>> = HashMap::new();
    let mut ready: Vec<Group> = Vec::new();
    let mut ready_lines = 0;
    let mut staff_id = None;
    while let Some(raw) = src.next(bar)? {
        tally.rows.read += 1;
        let mut problems = raw.problems;
        let key = parse::external_id(&raw.cells, "pickup_external_id", &mut problems);
        let cells = parse::pickup_line(&raw.cells, now, opts.offset, &mut problems);
        let Some(key) = key else {
            tally.reject(raw.line, problems);
            continue;
        };
        let lines = open.entry(key.clone()).or_default();
        lines.push(PickupLine {
            line: raw.line,
            cells,
            problems,
        });
        let want = expected
            .get(&key)
            .copied()
            .with_context(|| format!("{} changed while it was imported", src.name))?;
        if lines.len() >= want {
            let lines = open.remove(&key).unwrap_or_default();
            ready_lines += lines.len();
            ready.push(Group { key, lines });
        }
        if ready_lines >= opts.batch_size {
            flush_pickups(scope, tally, &mut staff_id, std::mem::take(&mut ready)).await?;
            ready_lines = 0;
        }
    }
    ready.extend(open.into_iter().map(|(key, lines)| Group { key, lines }));
    flush_pickups(scope, tally, &mut staff_id, ready).await
}

async fn flush_pickups(
    scope: &mut Scope,
    tally: &mut Tally<'_>,
    staff_id: &mut Option<Uuid>,
    groups: Vec<Group>,
) -> anyhow::Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    tally.pickups.read += groups.len() as u64;
    let mut tx = scope.batch().await?;
    let keys: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
    let existing = db::existing_external_ids(&mut *tx, Table::Pickup, &keys).await?;
    let lines = || groups.iter().flat_map(|g| &g.lines);
    let customer_refs: Vec<String> = lines().filter_map(|l| l.cells.customer.clone()).collect();
    let garment_refs: Vec<String> = lines().filter_map(|l| l.cells.garment.clone()).collect();
    let customers = db::customers_by_external_id(&mut *tx, &customer_refs).await?;
    let garments = db::garments_by_external_id(&mut *tx, &garment_refs).await?;

    let mut todo = Vec::new();
    let mut first_lines = Vec::new();
    for Group { key, mut lines } in groups {
        let n = lines.len() as u64;
        if existing.contains(&key) {
            tally.rows.already_imported += n;
            tally.pickups.already_imported += 1;
            continue;
        }
        parse::check_pickup(&mut lines);
        for l in &mut lines {
            let owner = match &l.cells.customer {
                Some(c) => match customers.get(c) {
                    Some(id) => Some(*id),
                    None => {
                        l.problems
                            .push(unknown("customer_external_id", "customer", c));
                        None
                    }
                },
                None => None,
            };
            if let Some(g) = &l.cells.garment {
                match garments.get(g) {
                    None => l
                        .problems
                        .push(unknown("garment_external_id", "garment", g)),
                    Some((garment_owner, _)) if owner.is_some_and(|o| o != *garment_owner) => {
                        l.problems.push(Problem::new(
                            "garment_external_id",
                            format!("garment '{g}' belongs to another customer"),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        match checked_pickup(key, &lines, &customers, &garments) {
            Some(pickup) => {
                first_lines.push((lines[0].line, n));
                todo.push(pickup);
            }
            None => {
                tally.pickups.rejected += 1;
                for l in lines {
                    if l.problems.is_empty() {
                        tally.rows.skipped += 1;
                    } else {
                        tally.reject(l.line, l.problems);
                    }
                }
            }
        }
    }
    if !todo.is_empty() {
        let id = match *staff_id {
            Some(id) => id,
            None => db::import_staff(&mut *tx).await?,
        };
        *staff_id = Some(id);
        for p in &mut todo {
            p.staff_id = id;
        }
    }
    let outcomes = write::write_all(&mut tx, &todo).await?;
    tx.commit().await?;
    for ((line, n), outcome) in first_lines.into_iter().zip(outcomes) {
        match outcome {
            Outcome::Inserted => {
                tally.rows.inserted += n;
                tally.pickups.inserted += 1;
            }
            Outcome::AlreadyImported => {
                tally.rows.already_imported += n;
                tally.pickups.already_imported += 1;
            }
            Outcome::Rejected(mut p) => {
                if p.field == "row" {
                    p.field = "pickup_external_id".into();
                }
                tally.reject(line, vec![p]);
                tally.rows.skipped += n - 1;
                tally.pickups.rejected += 1;
            }
        }
    }
    Ok(())
}

/// The pickup to insert when none of its lines has a problem.
fn checked_pickup(
    external_id: String,
    lines: &[PickupLine],
    customers: &HashMap<String, Uuid>,
    garments: &HashMap<String, (Uuid, Uuid)>,
) -> Option<NewPickup> {
    if lines.iter().any(|l| !l.problems.is_empty()) {
        return None;
    }
    let first = lines.first()?;
    let customer_id = *customers.get(first.cells.customer.as_ref()?)?;
    let mut rows = Vec::with_capacity(lines.len());
    for l in lines {
        let c = &l.cells;
        rows.push(LineRow {
            garment_id: garments.get(c.garment.as_ref()?)?.1,
            service: c.service?,
            price_cents: c.price_cents?,
            condition_notes: c.condition_notes.clone(),
        });
    }
    Some(NewPickup {
        external_id,
        customer_id,
        pickup_id: Uuid::new_v4(),
        staff_id: Uuid::nil(),
        collected_at: first.cells.collected_at?,
        lines: rows,
    })
}

/// `doorstep import` on the command line.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("files").required(true).multiple(true).args(["customers", "garments", "pickups"])
))]
pub struct ImportArgs {
    /// Customers CSV: external_id,name,phone,address,notes,do_not_contact,label_consent_at,label_consent_method
    #[arg(long, value_name = "FILE")]
    customers: Option<PathBuf>,
    /// Garments CSV: external_id,customer_external_id,category,kind,season_class,brand,cut,size,special_size,material,colour,tag_code
    #[arg(long, value_name = "FILE")]
    garments: Option<PathBuf>,
    /// Pickup lines CSV, one row per garment: pickup_external_id,customer_external_id,collected_at,garment_external_id,service,price,condition_notes
    #[arg(long, value_name = "FILE")]
    pickups: Option<PathBuf>,
    /// Write every rejected row to this file (`FILE:LINE: field: reason`); stderr shows the first 50.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
    /// Check and count everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The company's offset from UTC in hours, for dates and times without one.
    #[arg(
        long,
        env = "DOORSTEP_UTC_OFFSET_HOURS",
        default_value_t = 8,
        allow_negative_numbers = true
    )]
    utc_offset_hours: i32,
    #[command(flatten)]
    db: DbConfig,
}

/// Rejections shown on stderr; `--errors FILE` gets them all.
const SHOWN_REJECTIONS: usize = 50;

/// Runs the import, prints the report, and fails (non-zero exit) when any row was rejected.
pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let offset = FixedOffset::east_opt(args.utc_offset_hours * 3600)
        .filter(|_| args.utc_offset_hours.abs() <= 14)
        .context("--utc-offset-hours must be between -14 and 14")?;
    let pool = crate::db::connect_and_migrate(&args.db).await?;
    let opts = ImportOptions {
        customers: args.customers,
        garments: args.garments,
        pickups: args.pickups,
        dry_run: args.dry_run,
        offset,
        progress: std::io::stderr().is_terminal(),
        ..ImportOptions::default()
    };
    let report = import(&pool, &opts).await?;
    if let Some(path) = &args.errors {
        let mut out = std::io::BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        for r in &report.rejections {
            writeln!(out, "{r}")?;
        }
        out.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    for r in report.rejections.iter().take(SHOWN_REJECTIONS) {
        eprintln!("{r}");
    }
    if report.rejections.len() > SHOWN_REJECTIONS {
        let rest = report.rejections.len() - SHOWN_REJECTIONS;
        match &args.errors {
            Some(path) => eprintln!("... and {rest} more in {}", path.display()),
            None => eprintln!("... and {rest} more: use --errors FILE to get them all"),
        }
    }
    print!("{report}");
    let rejected = report.rejected_rows();
    if rejected > 0 {
        anyhow::bail!(
            "{rejected} rows were rejected{}",
            if opts.dry_run {
                ""
            } else {
                "; the other rows were imported, and a rerun after fixing them adds only what is new"
            }
        );
    }
    Ok(())
}
