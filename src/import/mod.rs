//! `doorstep import`: a company's history (customers, garments, pickup lines) from CSV or .xlsx files, in their
//! own encoding and language, staged by COPY, checked in sets and moved in chunks, once per external id.

pub mod bench;
mod chunks;
mod cli;
mod columns;
mod db;
mod parse;
mod progress;
mod report;
mod seen;
mod source;
mod values;

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{FixedOffset, Utc};
use sqlx::{Connection, PgConnection, PgPool};

use columns::Format;
use parse::{ColumnMap, Header, Problem};
use source::{Body, Csv};

pub use cli::{run, ImportArgs};
pub use db::{apply_pickup_rollups, import_lock_key, IMPORT_STAFF, SPEND_FOLD};
pub use progress::{Interrupt, Progress};
pub use report::{Counts, FileReport, ImportReport, Interrupted, Rejection};

/// The three history files, loaded in this order so references resolve to rows loaded before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `customers.csv`.
    Customers,
    /// `garments.csv`.
    Garments,
    /// `pickups.csv` (one row per line).
    Pickups,
}

impl FileKind {
    /// The file's name in reports and metrics.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Customers => "customers",
            FileKind::Garments => "garments",
            FileKind::Pickups => "pickups",
        }
    }

    fn format(self) -> &'static Format {
        match self {
            FileKind::Customers => &columns::CUSTOMERS,
            FileKind::Garments => &columns::GARMENTS,
            FileKind::Pickups => &columns::PICKUPS,
        }
    }

    fn table(self) -> &'static str {
        match self {
            FileKind::Customers => "import_customer",
            FileKind::Garments => "import_garment",
            FileKind::Pickups => "import_line",
        }
    }
}

/// What to import and how; the CLI fills it from flags, tests build it directly.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Paths of the files; `-` reads standard input (once).
    pub customers: Option<PathBuf>,
    /// The garments file, if any.
    pub garments: Option<PathBuf>,
    /// The pickups file, if any.
    pub pickups: Option<PathBuf>,
    /// Check and count everything in staging; nothing is written.
    pub dry_run: bool,
    /// Rows (customers, garments and pickup lines) per committed chunk.
    pub batch_size: usize,
    /// Company time, for dates and times written without an offset.
    pub offset: FixedOffset,
    /// The text files' encoding (`GBK`, `GB18030`, `UTF-16` ...); by default a byte-order mark, else UTF-8.
    pub encoding: Option<String>,
    /// The column delimiter; by default the one that makes the header name the most columns.
    pub delimiter: Option<u8>,
    /// Column renames (`--map FILE`).
    pub map: Option<PathBuf>,
    /// Every rejected row goes to this file; checked writable before anything is read.
    pub errors: Option<PathBuf>,
    /// Where progress goes.
    pub progress: Progress,
    /// The language of the `--errors` file's reasons (the report's is the caller's to choose).
    pub lang: crate::i18n::Lang,
    /// Set by Ctrl-C or SIGTERM: stop after the current chunk.
    pub interrupt: Interrupt,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            customers: None,
            garments: None,
            pickups: None,
            dry_run: false,
            batch_size: 100_000,
            offset: crate::domain::clock::DEFAULT_OFFSET,
            encoding: None,
            delimiter: None,
            map: None,
            errors: None,
            progress: Progress::off(),
            lang: crate::i18n::Lang::En,
            interrupt: Interrupt::default(),
        }
    }
}

/// A file (or a flag's file) refused whole: where, and why in words the report can put in the reader's language.
#[derive(Debug)]
pub struct Refused {
    /// The file, with its line where one is to blame (`customers.csv:1`, `--map renames.txt`).
    pub at: String,
    /// Why, in the code's English.
    pub reason: String,
}

/// A [`Refused`] error.
fn refuse(at: impl Into<String>, reason: impl Into<String>) -> anyhow::Error {
    Refused {
        at: at.into(),
        reason: reason.into(),
    }
    .into()
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.reason)
    }
}

impl std::error::Error for Refused {}

/// Why a file cannot be opened, read or created, in words the catalogue has (the system's own text otherwise).
fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "there is no such file or folder".to_owned(),
        ErrorKind::PermissionDenied => "permission denied: this user may not use it".to_owned(),
        ErrorKind::IsADirectory => "is a folder, not a file".to_owned(),
        ErrorKind::InvalidData => "is not UTF-8 text".to_owned(),
        _ => format!("cannot be used ({e})"),
    }
}

/// One file read whole, decoded, with its header checked.
struct Loaded {
    kind: FileKind,
    path: PathBuf,
    name: String,
    body: Body,
    delimiter: u8,
    read_as: String,
    header: Header,
}

fn read_all(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| refuse("standard input", io_reason(&e)))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| refuse(path.display().to_string(), io_reason(&e)))
}

fn load(
    kind: FileKind,
    path: &Path,
    opts: &ImportOptions,
    map: &ColumnMap,
) -> anyhow::Result<Loaded> {
    let name = path.display().to_string();
    let decoded =
        source::decode(read_all(path)?, opts.encoding.as_deref()).map_err(|e| refuse(&name, e))?;
    let format = kind.format();
    let (header, delimiter, read_as) = match &decoded.body {
        Body::Text(text) => {
            let candidates: Vec<u8> = match opts.delimiter {
                Some(d) => vec![d],
                None => source::DELIMITERS.to_vec(),
            };
            let mut best: Option<(usize, usize, u8)> = None;
            for d in candidates {
                let names = match Csv::new(text, d).next_record() {
                    Some(Ok(r)) => r.fields,
                    _ => Vec::new(),
                };
                let score = (parse::header_score(format, map, &names), names.len());
                if best.is_none_or(|(s, n, _)| score > (s, n)) {
                    best = Some((score.0, score.1, d));
                }
            }
            let d = best.map_or(b',', |b| b.2);
            let names = match Csv::new(text, d).next_record() {
                Some(Ok(r)) => r.fields,
                Some(Err(_)) => {
                    return Err(refuse(
                        format!("{name}:1"),
                        "the header has a quote that is never closed",
                    ))
                }
                None => Vec::new(),
            };
            let header =
                Header::new(format, map, &names).map_err(|e| refuse(format!("{name}:1"), e))?;
            let encoding = decoded.encoding;
            let read_as = match d {
                b',' => format!("{encoding}, comma-separated"),
                b';' => format!("{encoding}, semicolon-separated"),
                b'\t' => format!("{encoding}, tab-separated"),
                other => format!("{encoding}, separated by '{}'", other as char),
            };
            (header, d, read_as)
        }
        Body::Sheet(rows) => {
            let (line, names): (u64, Vec<std::borrow::Cow<'_, str>>) = rows
                .first()
                .map(|(l, cells)| (*l, cells.iter().map(|c| c.as_str().into()).collect()))
                .unwrap_or((1, Vec::new()));
            let header = Header::new(format, map, &names)
                .map_err(|e| refuse(format!("{name}:{line}"), e))?;
            (header, b',', "xlsx, first sheet".to_owned())
        }
    };
    Ok(Loaded {
        kind,
        path: path.to_owned(),
        name,
        body: decoded.body,
        delimiter,
        read_as,
        header,
    })
}

/// What reading one file gave, beside the rows sent to staging.
#[derive(Default)]
struct Parsed {
    read: u64,
    /// Rows refused before staging (no usable key, a broken shape, an unclosed quote).
    refused: Vec<(u64, Vec<Problem>)>,
    /// Problems of staged rows, by line; reported if the row is not already imported.
    staged_problems: HashMap<u64, Vec<Problem>>,
    warnings: Vec<(u64, String, String)>,
}

/// Turns rows into COPY data (sent in chunks through `tx`), checking every cell that needs no database.
fn parse_rows(
    file: &Loaded,
    offset: FixedOffset,
    progress: &Progress,
    interrupt: &Interrupt,
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
) -> anyhow::Result<Parsed> {
    let now = Utc::now();
    let mut out = Parsed::default();
    let mut copy = crate::db::CopyRow::new();
    let mut pickups = seen::PickupsSeen::default();
    let width = file.header.width();
    let row = |line: u64,
               end_line: u64,
               fields: &[std::borrow::Cow<'_, str>],
               refused: Option<Problem>,
               out: &mut Parsed,
               pickups: &mut seen::PickupsSeen,
               copy: &mut crate::db::CopyRow| {
        if fields.iter().all(|f| f.trim().is_empty()) {
            return;
        }
        out.read += 1;
        for (i, f) in fields.iter().enumerate() {
            if let Some(w) = spanning_warning(f, end_line, width, file.delimiter) {
                out.warnings
                    .push((line, file.header.column_at(i).to_owned(), w));
            }
        }
        let (cells, mut problems) = file.header.cells(fields);
        let broken = refused.is_some() || problems.iter().any(|p| p.field == "row");
        if let Some(p) = refused {
            problems.insert(0, p);
        }
        match file.kind {
            FileKind::Customers => {
                let key = parse::external_id(&cells, "external_id", &mut problems);
                let fields = parse::customer(&cells, offset, &mut problems);
                let Some(key) = key.filter(|_| !broken) else {
                    out.refused.push((line, problems));
                    return;
                };
                let f = fields.as_ref().filter(|_| problems.is_empty());
                copy.int(Some(line as i64))
                    .text(Some(&key))
                    .bool(Some(f.is_none()))
                    .text(f.map(|f| f.name.as_str()))
                    .text(f.and_then(|f| f.phone.as_ref().map(|p| p.as_str())))
                    .text(f.and_then(|f| f.address.as_deref()))
                    .text(f.map(|f| f.notes.as_str()))
                    .time(f.and_then(|f| f.label_consent_at))
                    .text(f.and_then(|f| f.label_consent_method.as_deref()))
                    .bool(f.map(|f| f.do_not_contact))
                    .end();
            }
            FileKind::Garments => {
                let key = parse::external_id(&cells, "external_id", &mut problems);
                let g = parse::garment(&cells, &mut problems);
                let Some(key) = key.filter(|_| !broken) else {
                    out.refused.push((line, problems));
                    return;
                };
                let f = g.fields.as_ref().filter(|_| problems.is_empty());
                copy.int(Some(line as i64))
                    .text(Some(&key))
                    .bool(Some(f.is_none()))
                    .text(g.customer.as_deref())
                    .text(f.map(|f| f.category.name()).as_deref())
                    .text(f.map(|f| f.kind.name()).as_deref())
                    .text(f.map(|f| f.season_class.name()).as_deref())
                    .text(f.and_then(|f| f.brand.as_deref()))
                    .text(f.and_then(|f| f.cut.as_deref()))
                    .text(f.and_then(|f| f.size.as_deref()))
                    .bool(f.map(|f| f.special_size))
                    .text(f.and_then(|f| f.material.map(|m| m.name())).as_deref())
                    .text(f.and_then(|f| f.colour.as_deref()))
                    .text(f.and_then(|f| f.tag_code.as_ref().map(|t| t.as_str())))
                    .end();
            }
            FileKind::Pickups => {
                let key = parse::external_id(&cells, "pickup_external_id", &mut problems);
                let c = parse::pickup_line(&cells, now, offset, &mut problems);
                let Some(key) = key else {
                    out.refused.push((line, problems));
                    return;
                };
                let good = problems.is_empty();
                let seen = pickups.line(
                    line,
                    &key,
                    c.customer.as_deref(),
                    c.collected_at,
                    c.garment.as_deref(),
                    c.service,
                    crate::pickups::MAX_LINES as u32,
                );
                copy.int(Some(line as i64))
                    .text(Some(&key))
                    .bool(Some(!good))
                    .text(c.customer.as_deref())
                    .time(c.collected_at)
                    .text(c.garment.as_deref())
                    .text(c.service.map(|s| s.name()).as_deref())
                    .int(c.price_cents)
                    .text(Some(c.condition_notes.as_str()).filter(|_| good))
                    .int(Some(i64::from(seen.pos)))
                    .int(Some(seen.first_line as i64))
                    .bool(Some(seen.too_many))
                    .bool(Some(seen.other_customer))
                    .bool(Some(seen.other_time))
                    .bool(Some(seen.same_service))
                    .end();
            }
        }
        if !problems.is_empty() {
            out.staged_problems.insert(line, problems);
        }
    };
    let flush = |copy: &mut crate::db::CopyRow| -> anyhow::Result<()> {
        if copy.buf.len() >= 1 << 20 {
            let full = std::mem::replace(&mut copy.buf, Vec::with_capacity(1 << 20));
            tx.blocking_send(full)
                .map_err(|_| anyhow::anyhow!("the database stopped taking rows"))?;
        }
        Ok(())
    };
    match &file.body {
        Body::Text(text) => {
            let mut csv = Csv::new(text, file.delimiter);
            let _header = csv.next_record();
            while let Some(record) = csv.next_record() {
                match record {
                    Ok(r) => row(
                        r.line,
                        r.end_line,
                        &r.fields,
                        None,
                        &mut out,
                        &mut pickups,
                        &mut copy,
                    ),
                    Err(u) => {
                        // Refused, but still staged when it has its keys, so its pickup is refused whole.
                        let mut fields = u.before;
                        fields.resize(width.max(fields.len()), "".into());
                        let problem = Problem::new(
                            file.header.column_at(u.column),
                            format!("a quote opens in this cell on line {} and is never closed, so the rest of the file would be one cell: fix the quote (reading went on at line {})", u.line, u.line + 1),
                        );
                        row(
                            u.line,
                            u.line,
                            &fields,
                            Some(problem),
                            &mut out,
                            &mut pickups,
                            &mut copy,
                        );
                    }
                }
                flush(&mut copy)?;
                if interrupt.is_set() {
                    return Ok(out);
                }
                progress.tick(|| {
                    format!(
                        "{}: reading, {} of {} MB, {} rows",
                        file.name,
                        csv.position() >> 20,
                        text.len() >> 20,
                        out.read
                    )
                });
            }
        }
        Body::Sheet(rows) => {
            for (line, cells) in rows.iter().skip(1) {
                let fields: Vec<std::borrow::Cow<'_, str>> =
                    cells.iter().map(|c| c.as_str().into()).collect();
                row(
                    *line,
                    *line,
                    &fields,
                    None,
                    &mut out,
                    &mut pickups,
                    &mut copy,
                );
                flush(&mut copy)?;
            }
        }
    }
    if !copy.buf.is_empty() {
        tx.blocking_send(std::mem::take(&mut copy.buf))
            .map_err(|_| anyhow::anyhow!("the database stopped taking rows"))?;
    }
    Ok(out)
}

/// A quoted cell that spans lines and holds what looks like more rows (or many lines): a warning, since a
/// stray quote may have swallowed rows. `end_line` is where its row ends.
fn spanning_warning(cell: &str, end_line: u64, width: usize, delimiter: u8) -> Option<String> {
    if !cell.contains(['\n', '\r']) {
        return None;
    }
    let lines: Vec<&str> = cell.split(['\n', '\r']).filter(|l| !l.is_empty()).collect();
    let rowlike = lines
        .iter()
        .skip(1)
        .any(|l| width > 1 && l.bytes().filter(|b| *b == delimiter).count() + 1 >= width);
    if rowlike || lines.len() > 3 {
        Some(if rowlike {
            format!("this cell runs on to line {end_line} and holds what looks like a row: check its quotes; if the lines in it were meant as rows, they were not imported")
        } else {
            format!("this cell runs on to line {end_line}: check its quotes; if the lines in it were meant as rows, they were not imported")
        })
    } else {
        None
    }
}

/// Reads one file into its staging table on a session of its own, so that files are read while the ones
/// before them are checked.
fn spawn_copy(
    pool: &PgPool,
    stage: &str,
    file: Arc<Loaded>,
    opts: &ImportOptions,
) -> tokio::task::JoinHandle<anyhow::Result<Parsed>> {
    let (pool, stage, opts) = (pool.clone(), stage.to_owned(), opts.clone());
    tokio::spawn(async move {
        let mut conn = pool.acquire().await?.detach();
        db::join(&mut conn, &stage).await?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        let parser = {
            let file = Arc::clone(&file);
            let (offset, progress, interrupt) =
                (opts.offset, opts.progress.clone(), opts.interrupt.clone());
            tokio::task::spawn_blocking(move || {
                parse_rows(&file, offset, &progress, &interrupt, tx)
            })
        };
        let mut copy = conn
            .copy_in_raw(&db::copy_statement(file.kind.table()))
            .await?;
        while let Some(chunk) = rx.recv().await {
            copy.send(chunk).await?;
        }
        let parsed = parser.await??;
        copy.finish().await?;
        conn.close().await?;
        Ok(parsed)
    })
}

/// Aborts the reading tasks still running when an import ends early.
struct Copies(Vec<tokio::task::JoinHandle<anyhow::Result<Parsed>>>);

impl Drop for Copies {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Checks one staged file once its reading is done; answers its report and rejections.
async fn check_file(
    conn: &mut PgConnection,
    file: Arc<Loaded>,
    reading: &mut tokio::task::JoinHandle<anyhow::Result<Parsed>>,
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    let parsed = until_interrupted(&opts.interrupt, reading).await???;
    if opts.interrupt.is_set() {
        return Err(Interrupted::default().into());
    }
    opts.progress.say(&format!(
        "{}: {} rows read; checking them",
        file.name, parsed.read
    ));
    let check = async {
        match file.kind {
            FileKind::Customers => db::check_customers(conn).await.map(|(c, r)| (c, None, r)),
            FileKind::Garments => db::check_garments(conn).await.map(|(c, r)| (c, None, r)),
            FileKind::Pickups => db::check_pickups(conn, crate::pickups::MAX_LINES as i64)
                .await
                .map(|(c, p, r)| (c, Some(p), r)),
        }
    };
    let (mut rows, pickups, refused) = until_interrupted(&opts.interrupt, check).await??;
    opts.progress.say(&format!("{}: checked", file.name));
    let Parsed {
        read,
        refused: early,
        mut staged_problems,
        warnings,
    } = parsed;
    rows.read += early.len() as u64;
    rows.rejected += early.len() as u64;
    debug_assert_eq!(rows.read, read);
    let mut lines: Vec<(u64, Vec<Problem>)> = early;
    for r in refused {
        let mut problems: Vec<Problem> =
            r.pre.into_iter().map(|(f, m)| Problem::new(f, m)).collect();
        problems.extend(staged_problems.remove(&r.line).unwrap_or_default());
        problems.extend(r.post.into_iter().map(|(f, m)| Problem::new(f, m)));
        if problems.is_empty() {
            problems.push(Problem::new("row", "could not be read"));
        }
        lines.push((r.line, problems));
    }
    lines.sort_by_key(|(line, _)| *line);
    for (line, problems) in lines {
        for p in problems {
            report.rejections.push(Rejection {
                file: file.name.clone(),
                line,
                field: p.field,
                reason: p.reason,
            });
        }
    }
    for (line, field, reason) in warnings {
        report.warnings.push(Rejection {
            file: file.name.clone(),
            line,
            field,
            reason,
        });
    }
    report.files.push(FileReport {
        kind: file.kind,
        path: file.path.clone(),
        read_as: file.read_as.clone(),
        rows,
        pickups,
    });
    Ok(())
}

/// Runs `fut` unless a stop is requested first (nothing it does is committed, so it is simply dropped).
async fn until_interrupted<T>(
    interrupt: &Interrupt,
    fut: impl std::future::Future<Output = T>,
) -> anyhow::Result<T> {
    let watch = async {
        while !interrupt.is_set() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::select! {
        v = fut => Ok(v),
        _ = watch => Err(Interrupted::default().into()),
    }
}

/// Imports the given files in order (customers, garments, pickups). Every file is read, staged and checked
/// before anything is written; then the good rows go in by chunks of whole customers, each chunk one
/// transaction with its rollups. A file refused whole (encoding, header, format) stops the import before any
/// write. An interrupted import answers [`Interrupted`] as its error.
pub async fn import(pool: &PgPool, opts: &ImportOptions) -> anyhow::Result<ImportReport> {
    let errors_file = match &opts.errors {
        Some(path) => Some(File::create(path).map_err(|e| {
            refuse(
                format!("--errors {}", path.display()),
                format!("cannot write there: {}", io_reason(&e)),
            )
        })?),
        None => None,
    };
    let map = match &opts.map {
        Some(path) => {
            let at = || format!("--map {}", path.display());
            let text = std::fs::read_to_string(path).map_err(|e| refuse(at(), io_reason(&e)))?;
            ColumnMap::parse(&text).map_err(|e| refuse(at(), e))?
        }
        None => ColumnMap::default(),
    };
    let given: Vec<(FileKind, &PathBuf)> = [
        (FileKind::Customers, &opts.customers),
        (FileKind::Garments, &opts.garments),
        (FileKind::Pickups, &opts.pickups),
    ]
    .into_iter()
    .filter_map(|(k, p)| p.as_ref().map(|p| (k, p)))
    .collect();
    if given.is_empty() {
        anyhow::bail!("nothing to import: give --customers, --garments and/or --pickups");
    }
    if given
        .iter()
        .filter(|(_, p)| p.as_path() == Path::new("-"))
        .count()
        > 1
    {
        anyhow::bail!("only one file can be read from standard input (-)");
    }
    let mut files = Vec::new();
    for (kind, path) in given {
        opts.progress.say(&format!("reading {}", path.display()));
        let loaded = {
            let (path, opts, map) = (path.clone(), opts.clone(), map.clone());
            tokio::task::spawn_blocking(move || load(kind, &path, &opts, &map)).await??
        };
        files.push(Arc::new(loaded));
    }

    let mut conn = pool.acquire().await?.detach();
    let mut report = ImportReport {
        dry_run: opts.dry_run,
        files: Vec::new(),
        rejections: Vec::new(),
        warnings: Vec::new(),
        waited: None,
    };
    if !opts.dry_run && !db::try_lock(&mut conn).await? {
        opts.progress.say(
            "another import into this database is running: waiting for it to finish (imports run one at a time)",
        );
        let started = Instant::now();
        until_interrupted(&opts.interrupt, db::lock(&mut conn)).await??;
        report.waited = Some(started.elapsed());
        opts.progress.say("the other import has finished: going on");
    }
    let stage = db::prepare(&mut conn).await?;
    let done = stage_and_write(
        pool,
        &mut conn,
        &stage,
        files,
        opts,
        errors_file,
        &mut report,
    )
    .await;
    // Staging is dropped however the import ended; a crashed import's is dropped by the next one.
    let dropped = db::drop_stage(&mut conn, &stage).await;
    done?;
    dropped?;
    if !opts.dry_run {
        db::unlock(&mut conn).await?;
    }
    conn.close().await?;
    opts.progress.finish();
    Ok(report)
}

/// Stages and checks every file, writes the rejections, then (unless a dry run) writes the good rows.
async fn stage_and_write(
    pool: &PgPool,
    conn: &mut PgConnection,
    stage: &str,
    files: Vec<Arc<Loaded>>,
    opts: &ImportOptions,
    mut errors_file: Option<File>,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    let mut copies = Copies(
        files
            .iter()
            .map(|f| spawn_copy(pool, stage, Arc::clone(f), opts))
            .collect(),
    );
    for (file, reading) in files.into_iter().zip(copies.0.iter_mut()) {
        check_file(conn, file, reading, opts, report).await?;
    }
    drop(copies);
    if let Some(out) = errors_file.as_mut() {
        let mut w = std::io::BufWriter::new(out);
        for r in report.rejections.iter().chain(&report.warnings) {
            writeln!(w, "{}", r.in_words(opts.lang))?;
        }
        w.flush().context("writing the --errors file")?;
    }
    if opts.dry_run {
        return Ok(());
    }
    write_chunks(pool, conn, stage, opts, report).await?;
    for f in &report.files {
        db::record_run(conn, f.kind.name(), &f.rows).await?;
    }
    Ok(())
}

/// Moves the checked rows in by chunks of whole customers, one transaction each, on two sessions at once (the
/// writes are mostly the server's work, foreign-key checks and index upkeep, so the second uses another core;
/// chunks share no customer), stopping between chunks when asked to or when a writer fails.
async fn write_chunks(
    pool: &PgPool,
    conn: &mut PgConnection,
    stage: &str,
    opts: &ImportOptions,
    report: &ImportReport,
) -> anyhow::Result<()> {
    let chunks = until_interrupted(
        &opts.interrupt,
        chunks::plan_chunks(conn, opts.batch_size as i64),
    )
    .await??;
    let pickups_to_insert = report
        .file(FileKind::Pickups)
        .and_then(|f| f.pickups)
        .map_or(0, |p| p.inserted);
    let staff_id = if pickups_to_insert > 0 {
        db::import_staff(&mut *conn).await?
    } else {
        uuid::Uuid::nil()
    };
    opts.progress
        .say(&format!("writing the good rows in {chunks} chunks"));
    // One more session when there is more than one chunk.
    let mut other = if chunks > 1 {
        let mut other = pool.acquire().await?.detach();
        db::join(&mut other, stage).await?;
        Some(other)
    } else {
        None
    };
    let shared = Writing {
        chunks,
        next: std::sync::atomic::AtomicI64::new(0),
        failed: std::sync::atomic::AtomicBool::new(false),
        done: std::sync::Mutex::new(Interrupted {
            chunks: chunks as u64,
            ..Interrupted::default()
        }),
        started: Instant::now(),
    };
    let (first, second) = tokio::join!(write_some(conn, &shared, staff_id, opts), async {
        match other.as_mut() {
            Some(c) => write_some(c, &shared, staff_id, opts).await,
            None => Ok(()),
        }
    });
    if let Some(other) = other {
        other.close().await?;
    }
    let done = shared.done.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = first.err().or(second.err()) {
        return Err(match &e {
            sqlx::Error::Database(d) if d.constraint() == Some("garment_tag_code_key") => {
                anyhow::anyhow!(
                "a garment tag of this import was given to another garment while it ran; {done}"
            )
            }
            _ => anyhow::Error::from(e).context(done.to_string()),
        });
    }
    if done.chunks_done < done.chunks {
        return Err(done.into());
    }
    Ok(())
}

/// What the chunk writers share.
struct Writing {
    chunks: i64,
    /// The next chunk to take.
    next: std::sync::atomic::AtomicI64,
    /// A writer failed: the others stop after their current chunk.
    failed: std::sync::atomic::AtomicBool,
    /// What is committed so far.
    done: std::sync::Mutex<Interrupted>,
    started: Instant,
}

/// One writer: takes the next chunk, moves it in one transaction, until none is left or a stop is asked for.
async fn write_some(
    conn: &mut PgConnection,
    shared: &Writing,
    staff_id: uuid::Uuid,
    opts: &ImportOptions,
) -> sqlx::Result<()> {
    use std::sync::atomic::Ordering;
    loop {
        if opts.interrupt.is_set() || shared.failed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let chunk = shared.next.fetch_add(1, Ordering::SeqCst);
        if chunk >= shared.chunks {
            return Ok(());
        }
        let moved = async {
            let mut tx = conn.begin().await?;
            let moved = chunks::move_chunk(&mut tx, chunk, staff_id).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(moved)
        }
        .await
        .inspect_err(|_| shared.failed.store(true, Ordering::SeqCst))?;
        let mut done = shared.done.lock().unwrap_or_else(|e| e.into_inner());
        done.chunks_done += 1;
        done.customers += moved.customers;
        done.garments += moved.garments;
        done.pickups += moved.pickups;
        done.lines += moved.lines;
        let msg = format!(
            "committed {} of {} chunks: {} customers, {} garments, {} pickups ({} lines, {:.0} lines/s)",
            done.chunks_done,
            done.chunks,
            done.customers,
            done.garments,
            done.pickups,
            done.lines,
            done.lines as f64 / shared.started.elapsed().as_secs_f64().max(1e-3)
        );
        if done.chunks_done == done.chunks {
            opts.progress.say(&msg);
        } else {
            opts.progress.tick(|| msg);
        }
    }
}
