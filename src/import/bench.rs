//! `doorstep bench import`: writes a deterministic company history as the three import files, then times its
//! import, a no-op rerun, and reports lines a second and peak memory.

use std::fmt;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Duration as Span, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

use super::{import, FileKind, ImportOptions, ImportReport, Progress};

/// How big a history to generate.
#[derive(Debug, Clone)]
pub struct Size {
    /// Customers to generate.
    pub customers: usize,
    /// Garments to generate.
    pub garments: usize,
    /// Pickup lines to generate.
    pub lines: usize,
    /// The random seed.
    pub seed: u64,
}

/// The three files written.
#[derive(Debug, Clone)]
pub struct Files {
    /// The customers file.
    pub customers: PathBuf,
    /// The garments file.
    pub garments: PathBuf,
    /// The pickups file.
    pub pickups: PathBuf,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "郑",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "英", "军", "杰",
];
const STREETS: &[&str] = &[
    "淮海中路",
    "延安西路",
    "武康路",
    "衡山路",
    "世纪大道",
    "南京西路",
    "复兴中路",
];
const DISTRICTS: &[&str] = &["徐汇区", "长宁区", "静安区", "浦东新区", "黄浦区"];

/// Writes customers, garments and pickup lines for `size` into `dir`: valid rows only, with vocabulary in
/// both languages, plain and Chinese dates and prices with and without a currency sign.
pub fn generate(dir: &Path, size: &Size) -> anyhow::Result<Files> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let files = Files {
        customers: dir.join("customers.csv"),
        garments: dir.join("garments.csv"),
        pickups: dir.join("pickups.csv"),
    };
    let mut rng = StdRng::seed_from_u64(size.seed);
    let customers = size.customers.max(1);
    let create = |p: &Path| -> anyhow::Result<BufWriter<std::fs::File>> {
        Ok(BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        ))
    };

    let mut out = create(&files.customers)?;
    writeln!(out, "客户编号,姓名,电话,地址,备注,do_not_contact")?;
    for c in 0..customers {
        let name = format!(
            "{}{}{}",
            SURNAMES[rng.gen_range(0..SURNAMES.len())],
            GIVEN[rng.gen_range(0..GIVEN.len())],
            GIVEN[rng.gen_range(0..GIVEN.len())]
        );
        writeln!(
            out,
            "C{c:07},{name},+86 13{} {:04} {:04},{}{}{}号 {}室,,{}",
            rng.gen_range(0..10),
            rng.gen_range(0..10000),
            rng.gen_range(0..10000),
            DISTRICTS[rng.gen_range(0..DISTRICTS.len())],
            STREETS[rng.gen_range(0..STREETS.len())],
            rng.gen_range(1..999),
            rng.gen_range(101..3200),
            if rng.gen_ratio(1, 50) { "是" } else { "否" }
        )?;
    }
    out.flush()?;

    let kinds = [
        "coat",
        "jacket",
        "羽绒服",
        "suit",
        "shirt",
        "衬衫",
        "trousers",
        "dress",
        "毛衣",
        "scarf",
        "bedding",
    ];
    let seasons = [
        "winter",
        "summer",
        "spring_autumn",
        "all_season",
        "冬季",
        "春秋",
    ];
    let materials = [
        "wool", "羊绒", "silk", "cotton", "down", "", "leather", "化纤",
    ];
    let categories = ["men", "women", "children", "女装", "男装"];
    let mut out = create(&files.garments)?;
    writeln!(
        out,
        "external_id,customer_external_id,category,kind,season_class,size,material,colour"
    )?;
    for g in 0..size.garments {
        writeln!(
            out,
            "G{g:08},C{:07},{},{},{},{},{},{}",
            g % customers,
            categories[rng.gen_range(0..categories.len())],
            kinds[rng.gen_range(0..kinds.len())],
            seasons[rng.gen_range(0..seasons.len())],
            ["S", "M", "L", "XL", "52"][rng.gen_range(0..5)],
            materials[rng.gen_range(0..materials.len())],
            ["black", "navy", "白色", "grey"][rng.gen_range(0..4)]
        )?;
    }
    out.flush()?;

    let services = [
        ("dry_clean", 60),
        ("wash", 25),
        ("press", 15),
        ("水洗熨烫", 30),
        ("干洗", 80),
        ("repair", 20),
    ];
    let garments_of = |c: usize| {
        let full = size.garments / customers;
        full + usize::from(c < size.garments % customers)
    };
    let mut out = create(&files.pickups)?;
    writeln!(
        out,
        "取件单号,客户编号,取件时间,衣物编号,服务,价格,condition_notes"
    )?;
    let end = Utc::now() - Span::days(2);
    let start = end - Span::days(730);
    let expected_pickups = (size.lines / 4).max(1);
    let (mut written, mut pickup) = (0usize, 0usize);
    while written < size.lines {
        let c = rng.gen_range(0..customers);
        let owned = garments_of(c);
        if owned == 0 {
            if size.garments == 0 {
                break;
            }
            continue;
        }
        let at = start
            + Span::seconds(
                (pickup.min(expected_pickups) as i64 * 730 * 86_400) / expected_pickups as i64,
            )
            + Span::minutes(rng.gen_range(0..600));
        let local = at.with_timezone(&crate::domain::clock::DEFAULT_OFFSET);
        let when = if pickup % 3 == 0 {
            local.format("%Y年%-m月%-d日 %H:%M").to_string()
        } else {
            local.format("%Y-%m-%d %H:%M").to_string()
        };
        let n = rng
            .gen_range(1..=7usize)
            .min(owned)
            .min(size.lines - written);
        let first = rng.gen_range(0..owned);
        for k in 0..n {
            let slot = (first + k) % owned;
            let g = c + slot * customers;
            let (service, base) = services[rng.gen_range(0..services.len())];
            let price = base * 100 + rng.gen_range(0..5) * 50;
            let shown = if k % 2 == 0 {
                format!("{}.{:02}", price / 100, price % 100)
            } else {
                format!("¥{}.{:02}", price / 100, price % 100)
            };
            let notes = if rng.gen_ratio(1, 20) {
                "领口有污渍"
            } else {
                ""
            };
            writeln!(
                out,
                "P{pickup:08},C{c:07},{when},G{g:08},{service},{shown},{notes}"
            )?;
        }
        written += n;
        pickup += 1;
    }
    out.flush()?;
    Ok(files)
}

/// What `bench import` measured.
pub struct BenchReport {
    /// What was generated.
    pub size: Size,
    /// Time to write the files.
    pub generate: Duration,
    /// Time of the first import.
    pub first: Duration,
    /// Time of the rerun (nothing new).
    pub rerun: Duration,
    /// The first import's report.
    pub first_report: ImportReport,
    /// The rerun's report.
    pub rerun_report: ImportReport,
    /// Peak resident memory, when the system tells.
    pub peak_kib: Option<u64>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = self
            .first_report
            .file(FileKind::Pickups)
            .map_or(0, |p| p.rows.inserted);
        writeln!(
            f,
            "generated {} customers, {} garments, {} pickup lines in {:.1} s",
            self.size.customers,
            self.size.garments,
            self.size.lines,
            self.generate.as_secs_f64()
        )?;
        write!(f, "first import:\n{}", self.first_report)?;
        writeln!(
            f,
            "  took {:.1} s: {:.0} pickup lines/s",
            self.first.as_secs_f64(),
            lines as f64 / self.first.as_secs_f64().max(1e-3)
        )?;
        write!(f, "rerun (nothing new):\n{}", self.rerun_report)?;
        writeln!(f, "  took {:.1} s", self.rerun.as_secs_f64())?;
        if let Some(kib) = self.peak_kib {
            writeln!(f, "peak memory (VmHWM, whole process): {} MiB", kib / 1024)?;
        }
        Ok(())
    }
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Generates the history into `dir` (a fresh temporary folder if `None`, removed afterwards), imports it into
/// an empty database, then imports it again.
pub async fn run(
    pool: &PgPool,
    size: Size,
    dir: Option<PathBuf>,
    batch_size: usize,
) -> anyhow::Result<BenchReport> {
    let existing: i64 = sqlx::query_scalar("select count(*) from customer")
        .fetch_one(pool)
        .await?;
    if existing > 0 {
        anyhow::bail!(
            "bench import needs an empty database ({existing} customers here): give --database-url of a new one"
        );
    }
    let temporary = dir.is_none();
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("doorstep-bench-import-{}", std::process::id()))
    });
    let started = Instant::now();
    let files = {
        let (dir, size) = (dir.clone(), size.clone());
        tokio::task::spawn_blocking(move || generate(&dir, &size)).await??
    };
    let generate = started.elapsed();
    let opts = ImportOptions {
        customers: Some(files.customers.clone()),
        garments: Some(files.garments.clone()),
        pickups: Some(files.pickups.clone()),
        batch_size,
        progress: Progress::stderr(),
        ..ImportOptions::default()
    };
    let started = Instant::now();
    let first_report = import(pool, &opts).await?;
    let first = started.elapsed();
    let started = Instant::now();
    let rerun_report = import(pool, &opts).await?;
    let rerun = started.elapsed();
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(BenchReport {
        size,
        generate,
        first,
        rerun,
        first_report,
        rerun_report,
        peak_kib: peak_memory_kib(),
    })
}
