//! `doorstep import` on the command line: its flags, signals, and the printed report.

use std::path::PathBuf;

use anyhow::Context;
use chrono::FixedOffset;

use super::{import, source, ImportOptions, Interrupt, Interrupted, Progress, Refused};
use crate::config::DbConfig;
use crate::i18n::{in_words, Lang};

/// `doorstep import` on the command line.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("files").required(true).multiple(true).args(["customers", "garments", "pickups"])
))]
pub struct ImportArgs {
    /// Customers (CSV or .xlsx; `-` for standard input): external_id,name,phone,address,notes,do_not_contact,label_consent_at,label_consent_method
    #[arg(long, value_name = "FILE")]
    customers: Option<PathBuf>,
    /// Garments: external_id,customer_external_id,category,kind,season_class,brand,cut,size,special_size,material,colour,tag_code
    #[arg(long, value_name = "FILE")]
    garments: Option<PathBuf>,
    /// Pickup lines, one row per garment: pickup_external_id,customer_external_id,collected_at,garment_external_id,service,price,condition_notes
    #[arg(long, value_name = "FILE")]
    pickups: Option<PathBuf>,
    /// Write every rejected row to this file (`FILE:LINE: field: reason`); stderr shows the first 50.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
    /// Check and count everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Encoding of the text files: GBK, GB18030, UTF-16, UTF-8 ... (default: a byte-order mark, else UTF-8).
    #[arg(long, value_name = "NAME")]
    encoding: Option<String>,
    /// Column delimiter: , ; | or tab (default: the one the header line uses).
    #[arg(long, value_name = "CHAR", value_parser = source::parse_delimiter)]
    delimiter: Option<u8>,
    /// Column renames for another system's export: one `their column,our column` per line (`their column,-`
    /// leaves a column out).
    #[arg(long, value_name = "FILE")]
    map: Option<PathBuf>,
    /// The report's language, `en` or `zh-CN` (default: the terminal's, from LC_ALL, LC_MESSAGES or LANG).
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Rows (customers, garments, pickup lines) per committed chunk.
    #[arg(long, default_value_t = 100_000)]
    batch_size: usize,
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

fn parse_lang(tag: &str) -> Result<Lang, String> {
    Lang::from_tag(tag).ok_or_else(|| format!("'{tag}' is not one of en, zh-CN"))
}

/// Rejections shown on stderr; `--errors FILE` gets them all.
const SHOWN_REJECTIONS: usize = 50;

/// Ctrl-C or SIGTERM: the first asks the import to stop after its chunk, a second stops at once.
fn stop_on_signals(interrupt: Interrupt, lang: Lang) {
    tokio::spawn(async move {
        let mut presses = 0;
        loop {
            #[cfg(unix)]
            {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(s) => s,
                        Err(_) => return,
                    };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            presses += 1;
            if presses == 1 {
                let said = "stopping after the chunk being written (again to stop at once)";
                eprintln!("import: {}", in_words(lang, said));
                interrupt.trigger();
            } else {
                let said = "stopped at once: the chunk being written was rolled back; rerun the same command to finish";
                eprintln!("import: {}", in_words(lang, said));
                std::process::exit(130);
            }
        }
    });
}

/// An import's error in `lang`: each part of its chain worded where the catalogue has it (a refused file's place
/// kept as written), so a file refused whole reads like the report's own lines.
fn error_in_words(lang: Lang, e: anyhow::Error) -> anyhow::Error {
    if lang == Lang::En {
        return e;
    }
    let parts: Vec<String> = e
        .chain()
        .map(|part| match part.downcast_ref::<Refused>() {
            Some(r) => format!("{}: {}", r.at, in_words(lang, &r.reason)),
            None => in_words(lang, &part.to_string()),
        })
        .collect();
    anyhow::Error::msg(parts.join(": "))
}

/// Runs the import, prints the report, and fails (non-zero exit) when any row was rejected; 130 when stopped.
pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let lang = args
        .lang
        .unwrap_or_else(|| crate::i18n::from_locale(|v| std::env::var(v).ok()));
    let offset = FixedOffset::east_opt(args.utc_offset_hours * 3600)
        .filter(|_| args.utc_offset_hours.abs() <= 14)
        .with_context(|| in_words(lang, "--utc-offset-hours must be between -14 and 14"))?;
    let opts = ImportOptions {
        customers: args.customers,
        garments: args.garments,
        pickups: args.pickups,
        dry_run: args.dry_run,
        batch_size: args.batch_size.max(1),
        offset,
        encoding: args.encoding,
        delimiter: args.delimiter,
        map: args.map,
        errors: args.errors.clone(),
        progress: Progress::stderr().in_lang(lang),
        lang,
        interrupt: Interrupt::default(),
    };
    if let Some(e) = &opts.encoding {
        source::encoding_for(e).map_err(|e| anyhow::Error::msg(in_words(lang, &e)))?;
    }
    stop_on_signals(opts.interrupt.clone(), lang);
    let pool = crate::db::connect_and_migrate(&args.db).await?;
    let report = match import(&pool, &opts).await {
        Ok(r) => r,
        Err(e) => match e.downcast_ref::<Interrupted>() {
            Some(i) => {
                eprintln!("import: {}", in_words(lang, &i.to_string()));
                std::process::exit(130);
            }
            None => return Err(error_in_words(lang, e)),
        },
    };
    let say = |english: String| in_words(lang, &english);
    for r in report.rejections.iter().take(SHOWN_REJECTIONS) {
        eprintln!("{}", r.in_words(lang));
    }
    if report.rejections.len() > SHOWN_REJECTIONS {
        let rest = report.rejections.len() - SHOWN_REJECTIONS;
        match &args.errors {
            Some(path) => eprintln!(
                "{}",
                say(format!("... and {rest} more in {}", path.display()))
            ),
            None => eprintln!(
                "{}",
                say(format!(
                    "... and {rest} more: use --errors FILE to get them all"
                ))
            ),
        }
    }
    for w in report.warnings.iter().take(SHOWN_REJECTIONS) {
        eprintln!("{}", say(format!("warning: {}", w.in_words(lang))));
    }
    for line in report.to_string().lines() {
        println!("{}", say(line.to_owned()));
    }
    let rejected = report.rejected_rows();
    if rejected > 0 && opts.dry_run {
        anyhow::bail!(say(format!("{rejected} rows were rejected")));
    }
    if rejected > 0 {
        anyhow::bail!(say(format!("{rejected} rows were rejected; the other rows were imported, and a rerun after fixing them adds only what is new")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{parse, source};

    /// An error as `main` prints it.
    fn shown(e: anyhow::Error) -> String {
        format!("{e:#}")
    }

    #[test]
    fn a_file_refused_whole_reads_in_the_terminals_language() {
        let refused = |bytes: &[u8]| {
            let why = source::decode(bytes.to_vec(), None)
                .err()
                .expect("test data is refused");
            crate::import::refuse("cust.csv", why)
        };
        assert_eq!(
            shown(error_in_words(Lang::ZhCn, refused(b"%PDF-1.7"))),
            "cust.csv: 是一份 PDF 文档，不是 CSV 文件或 .xlsx 工作簿：请把表格导出为 CSV 或 .xlsx"
        );
        assert_eq!(
            shown(error_in_words(Lang::ZhCn, refused(&[0x1f, 0x8b, 8, 0]))),
            "cust.csv: 是一个 gzip 压缩文件，不是 CSV 文件或 .xlsx 工作簿：请先解压（gunzip）"
        );
        let english = shown(error_in_words(Lang::En, refused(b"%PDF-1.7")));
        assert_eq!(
            english,
            "cust.csv: is a PDF document, not a CSV file or .xlsx workbook: export the table as CSV or .xlsx"
        );
        let gbk = shown(error_in_words(
            Lang::ZhCn,
            refused(b"ok\n\xd6\xd0\xce\xc4\n"),
        ));
        assert!(
            gbk.starts_with("cust.csv: 第 2 行：不是 UTF-8 文本；它可按 GBK/GB18030 读取"),
            "{gbk}"
        );
    }

    #[test]
    fn a_header_refused_names_each_problem_in_the_readers_words() {
        let names: Vec<std::borrow::Cow<'_, str>> = ["external_id", "name", "colour", "name"]
            .map(Into::into)
            .to_vec();
        let why = parse::Header::new(
            &crate::import::columns::CUSTOMERS,
            &parse::ColumnMap::default(),
            &names,
        )
        .err()
        .expect("an unknown and a repeated column");
        let said = shown(error_in_words(
            Lang::ZhCn,
            crate::import::refuse("cust.csv:1", why),
        ));
        assert!(
            said.starts_with("cust.csv:1: 未知的列 'colour'（请用 --map 改名或去掉）；列 'name' 出现了两次；可用的列为 external_id, name"),
            "{said}"
        );
        assert!(
            !said.contains("appears") && !said.contains("the columns"),
            "{said}"
        );
    }

    #[test]
    fn a_missing_file_is_named_with_why_in_words() {
        let e = std::fs::read("/nonexistent/doorstep/cust.csv").expect_err("no such file");
        let refused = crate::import::refuse(
            "/nonexistent/doorstep/cust.csv",
            crate::import::io_reason(&e),
        );
        assert_eq!(
            shown(error_in_words(Lang::ZhCn, refused)),
            "/nonexistent/doorstep/cust.csv: 没有这个文件或文件夹"
        );
        assert_eq!(
            in_words(Lang::ZhCn, "GBK, semicolon-separated"),
            "GBK，分号分隔"
        );
        assert_eq!(
            in_words(Lang::ZhCn, "contains a tab at character 3: remove it"),
            "第 3 个字符处含有制表符：请删除"
        );
        assert_eq!(
            in_words(
                Lang::ZhCn,
                "contains the control character U+001B at character 1: remove it"
            ),
            "第 1 个字符处含有控制字符 U+001B：请删除"
        );
    }
}
