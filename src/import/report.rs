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

impl Rejection {
    /// The line with its reason in `lang` where the catalogue words it.
    pub fn in_words(&self, lang: crate::i18n::Lang) -> String {
        format!(
            "{}:{}: {}: {}",
            self.file,
            self.line,
            self.field,
            crate::i18n::in_words(lang, &self.reason)
        )
    }
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
        // One line a sentence, each written out whole, so the catalogue can word it (`i18n::in_words`).
        for file in &self.files {
            let (r, path, how) = (&file.rows, file.path.display(), &file.read_as);
            if self.dry_run {
                writeln!(
                    f,
                    "{path} ({how}): {} rows: {} to insert, {} already imported, {} rejected",
                    r.read, r.inserted, r.already_imported, r.rejected
                )?;
            } else {
                writeln!(
                    f,
                    "{path} ({how}): {} rows: {} inserted, {} already imported, {} rejected",
                    r.read, r.inserted, r.already_imported, r.rejected
                )?;
            }
            let Some(p) = &file.pickups else { continue };
            if self.dry_run {
                writeln!(f, "{path}: {} lines skipped with their pickup; {} pickups: {} to insert, {} already imported, {} rejected", r.skipped, p.read, p.inserted, p.already_imported, p.rejected)?;
            } else {
                writeln!(f, "{path}: {} lines skipped with their pickup; {} pickups: {} inserted, {} already imported, {} rejected", r.skipped, p.read, p.inserted, p.already_imported, p.rejected)?;
            }
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
            write!(f, "interrupted before anything was written. Rerun the same command to finish: rows already in are skipped as already imported")
        } else {
            write!(
                f,
                "interrupted after {} of {} chunks: committed {} customers, {} garments, {} pickups ({} lines) with their rollups; nothing else was written. Rerun the same command to finish: rows already in are skipped as already imported",
                self.chunks_done,
                self.chunks,
                self.customers,
                self.garments,
                self.pickups,
                self.lines
            )
        }
    }
}

impl std::error::Error for Interrupted {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{from_locale, in_words, Lang};

    fn counts(read: u64, inserted: u64, rejected: u64, skipped: u64) -> Counts {
        Counts {
            read,
            inserted,
            already_imported: read - inserted - rejected - skipped,
            rejected,
            skipped,
        }
    }

    #[test]
    fn the_report_reads_in_the_terminals_language() {
        for dry_run in [false, true] {
            let report = ImportReport {
                dry_run,
                files: vec![FileReport {
                    kind: FileKind::Pickups,
                    path: PathBuf::from("pickups.csv"),
                    read_as: "UTF-8, ','".into(),
                    rows: counts(12, 8, 2, 1),
                    pickups: Some(counts(5, 3, 1, 0)),
                }],
                rejections: Vec::new(),
                warnings: vec![Rejection {
                    file: "pickups.csv".into(),
                    line: 3,
                    field: "notes".into(),
                    reason: "x".into(),
                }],
                waited: Some(Duration::from_millis(1500)),
            };
            let english = report.to_string();
            assert!(english.contains("1.5 s"), "{english}");
            for line in english.lines() {
                let zh = in_words(Lang::ZhCn, line);
                assert!(
                    !zh.chars().any(|c| c.is_ascii_lowercase()) || zh.starts_with("pickups.csv"),
                    "{line} -> {zh}"
                );
                assert!(
                    !zh.contains("rows") && !zh.contains("import"),
                    "{line} -> {zh}"
                );
            }
        }
        let interrupted = Interrupted {
            customers: 10,
            garments: 20,
            pickups: 30,
            lines: 40,
            chunks_done: 1,
            chunks: 3,
        };
        assert_eq!(
            in_words(Lang::ZhCn, &interrupted.to_string()),
            "已在第 1/3 批后中断：已提交 10 位客户、20 件衣物、30 次取件（40 行）及其汇总；没有写入其他数据。\
             再次运行同一命令即可完成：已导入的行会作为“此前已导入”跳过"
        );
        let env = |lang: &'static str| move |v: &str| (v == "LANG").then(|| lang.to_owned());
        assert_eq!(from_locale(env("zh_CN.UTF-8")), Lang::ZhCn);
        assert_eq!(from_locale(env("zh_TW.UTF-8")), Lang::ZhCn);
        assert_eq!(from_locale(env("en_US.UTF-8")), Lang::En);
        assert_eq!(from_locale(env("C.UTF-8")), Lang::En);
        assert_eq!(from_locale(|_| None), Lang::En);
    }

    #[test]
    fn rejections_read_in_chinese() {
        for (reason, chinese) in [
            ("is required", "必填"),
            (
                "no customer has external id 'C-9' (in the database or earlier in this import)",
                "没有外部编号为“C-9”的客户（数据库中和本次导入的前面都没有）",
            ),
            (
                "'mens' is not a category: use one of children/童装, men/男装, women/女装",
                "“mens”不是有效的类别：请使用其中之一：children/童装, men/男装, women/女装",
            ),
            (
                "has 2 fields, the header has 4: check for a stray or missing delimiter",
                "有 2 个字段，而表头有 4 个：请检查是否多了或少了分隔符",
            ),
            ("at most 1000000.00", "最多 1000000.00"),
        ] {
            let r = Rejection {
                file: "garments.csv".into(),
                line: 7,
                field: "customer_external_id".into(),
                reason: reason.into(),
            };
            assert_eq!(r.in_words(Lang::En), r.to_string());
            assert_eq!(
                r.in_words(Lang::ZhCn),
                format!("garments.csv:7: customer_external_id: {chinese}")
            );
        }
    }
}
