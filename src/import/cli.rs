//! `doorstep import` on the command line: its flags, signals, and the printed report.

use std::path::PathBuf;

use anyhow::Context;
use chrono::FixedOffset;

use super::{import, source, ImportOptions, Interrupt, Interrupted, Progress};
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

/// Runs the import, prints the report, and fails (non-zero exit) when any row was rejected; 130 when stopped.
pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let offset = FixedOffset::east_opt(args.utc_offset_hours * 3600)
        .filter(|_| args.utc_offset_hours.abs() <= 14)
        .context("--utc-offset-hours must be between -14 and 14")?;
    let lang = args
        .lang
        .unwrap_or_else(|| crate::i18n::from_locale(|v| std::env::var(v).ok()));
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
        source::encoding_for(e).map_err(anyhow::Error::msg)?;
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
            None => return Err(e),
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
