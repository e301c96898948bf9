//! Tests of `doorstep import`: the example company from fixtures/import, reruns, bad rows, dry runs.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use doorstep::import::{import, Counts, FileKind, ImportOptions, ImportReport};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/import")
        .join(name)
}

fn fixtures() -> ImportOptions {
    ImportOptions {
        customers: Some(fixture("customers.csv")),
        garments: Some(fixture("garments.csv")),
        pickups: Some(fixture("pickups.csv")),
        ..ImportOptions::default()
    }
}

/// A fresh folder for a test's own CSV files, removed when the test ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch() -> Scratch {
    let dir = std::env::temp_dir().join(format!("doorstep-import-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn write(dir: &Scratch, name: &str, text: &str) -> PathBuf {
    let path = dir.0.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn counts(read: u64, inserted: u64, already: u64, rejected: u64, skipped: u64) -> Counts {
    Counts {
        read,
        inserted,
        already_imported: already,
        rejected,
        skipped,
    }
}

fn rows(report: &ImportReport, kind: FileKind) -> Counts {
    report.file(kind).unwrap().rows
}

/// Every rejection as (file name, line, field).
fn rejected(report: &ImportReport) -> Vec<(String, u64, String)> {
    report
        .rejections
        .iter()
        .map(|r| {
            let file = Path::new(&r.file).file_name().unwrap();
            (file.to_string_lossy().into_owned(), r.line, r.field.clone())
        })
        .collect()
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn table_counts(pool: &PgPool) -> [i64; 5] {
    [
        count(pool, "customer").await,
        count(pool, "garment").await,
        count(pool, "pickup").await,
        count(pool, "pickup_line").await,
        count(pool, "customer_stats").await,
    ]
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// (times_cleaned, last_cleaned_at, last_price_cents) of a garment by external id.
async fn rollup(pool: &PgPool, garment: &str) -> (i32, Option<DateTime<Utc>>, Option<i64>) {
    sqlx::query_as(
        "select times_cleaned, last_cleaned_at, last_price_cents from garment where external_id = $1",
    )
    .bind(garment)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// (pickups, spend_cents, first_pickup_at, last_pickup_at) of a customer by external id.
async fn stats(pool: &PgPool, customer: &str) -> (i32, i64, DateTime<Utc>, DateTime<Utc>) {
    sqlx::query_as(
        "select s.pickups, s.spend_cents, s.first_pickup_at, s.last_pickup_at
           from customer_stats s join customer c using (customer_id) where c.external_id = $1",
    )
    .bind(customer)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Garments whose rollups differ from what their pickup lines say.
async fn rollup_mismatches(pool: &PgPool) -> i64 {
    // Recomputed from the history: cleaning lines only, one cleaning a visit priced at its cleaning lines.
    sqlx::query_scalar(
        "select count(*) from garment g
           left join (select distinct on (v.customer_id, v.garment_id) v.customer_id, v.garment_id,
                             count(*) over (partition by v.customer_id, v.garment_id) as n,
                             v.collected_at as last_at, v.price as last_price
                        from (select pl.customer_id, pl.garment_id, pl.pickup_id, p.collected_at,
                                     sum(pl.price_cents)::bigint as price
                                from pickup_line pl join pickup p using (customer_id, pickup_id)
                               where pl.service in ('dry_clean', 'wash', 'wash_and_press', 'leather_care')
                               group by 1, 2, 3, 4) v
                       order by v.customer_id, v.garment_id, v.collected_at desc) x
                  using (customer_id, garment_id)
          where g.times_cleaned <> coalesce(x.n, 0)
             or g.last_cleaned_at is distinct from x.last_at
             or g.last_price_cents is distinct from x.last_price",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_example_company_imports_with_its_rollups(pool: PgPool) {
    let report = import(&pool, &fixtures()).await.unwrap();
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert_eq!(rows(&report, FileKind::Customers), counts(5, 5, 0, 0, 0));
    assert_eq!(rows(&report, FileKind::Garments), counts(15, 15, 0, 0, 0));
    assert_eq!(rows(&report, FileKind::Pickups), counts(25, 25, 0, 0, 0));
    assert_eq!(
        report.file(FileKind::Pickups).unwrap().pickups,
        Some(counts(11, 11, 0, 0, 0))
    );
    assert_eq!(table_counts(&pool).await, [5, 15, 11, 25, 5]);
    assert_eq!(rollup_mismatches(&pool).await, 0);
    // Each chunk logs its customers for the kept lists once (its statements' triggers stand aside).
    let logged: (i64, i64) = sqlx::query_as(
        "select count(distinct customer_id), count(*) from list_change
          where customer_id in (select customer_id from customer)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(logged, (5, 5), "every imported customer logged once");
    assert_eq!(
        crate::forecasts::kept_weekly_intake(&pool).await,
        crate::forecasts::exact_weekly_intake(&pool).await,
        "the import keeps the intake series from its staging"
    );

    // The coat: dry-cleaned in spring, pressed in autumn: a press is not a cleaning.
    assert_eq!(
        rollup(&pool, "SH-G-2001").await,
        (1, Some(at("2026-03-18T10:15:00+08:00")), Some(12000))
    );
    // The shirt: washed and pressed in March, washed and pressed and repaired in June: two cleanings, the last
    // priced at its cleaning line, not the repair.
    assert_eq!(
        rollup(&pool, "SH-G-2007").await,
        (2, Some(at("2026-06-14T09:00:00+08:00")), Some(2500))
    );
    // A plain date is the start of that day in company time.
    assert_eq!(
        rollup(&pool, "SH-G-2006").await,
        (1, Some(at("2026-03-25T00:00:00+08:00")), Some(30000))
    );
    assert_eq!(
        stats(&pool, "SH-C-1001").await,
        (
            3,
            41500,
            at("2026-03-18T10:15:00+08:00"),
            at("2026-09-22T10:00:00+08:00")
        )
    );
    assert_eq!(
        stats(&pool, "SH-C-1005").await,
        (
            2,
            23350,
            at("2026-04-20T11:00:00+08:00"),
            at("2026-10-16T15:45:00+08:00")
        )
    );

    let (dnc, consent, method): (bool, Option<DateTime<Utc>>, Option<String>) = sqlx::query_as(
        "select do_not_contact, label_consent_at, label_consent_method from customer where external_id = 'SH-C-1004'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(dnc);
    assert_eq!(consent, Some(at("2026-02-20T18:00:00+08:00")));
    assert_eq!(method.as_deref(), Some("signed form"));
    let (notes, lines): (String, i64) = sqlx::query_as(
        "select pl.condition_notes, (select count(*) from pickup_line x
                                      where x.customer_id = p.customer_id and x.pickup_id = p.pickup_id)
           from pickup p join pickup_line pl using (customer_id, pickup_id)
          where p.external_id = 'SH-P-3007' and pl.line_no = 3",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (notes.as_str(), lines),
        ("missing button, second from top", 3)
    );

    let (username, active): (String, bool) = sqlx::query_as(
        "select distinct s.username, s.active from pickup p join staff s using (staff_id)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (username.as_str(), active),
        (doorstep::import::IMPORT_STAFF, false)
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_second_run_records_nothing_twice(pool: PgPool) {
    import(&pool, &fixtures()).await.unwrap();
    let before = table_counts(&pool).await;
    let coat = rollup(&pool, "SH-G-2001").await;
    let liu = stats(&pool, "SH-C-1001").await;

    // Small batches, so every batch boundary is crossed on the way.
    let again = import(
        &pool,
        &ImportOptions {
            batch_size: 4,
            ..fixtures()
        },
    )
    .await
    .unwrap();
    assert!(again.rejections.is_empty(), "{:?}", again.rejections);
    assert_eq!(rows(&again, FileKind::Customers), counts(5, 0, 5, 0, 0));
    assert_eq!(rows(&again, FileKind::Garments), counts(15, 0, 15, 0, 0));
    assert_eq!(rows(&again, FileKind::Pickups), counts(25, 0, 25, 0, 0));
    assert_eq!(
        again.file(FileKind::Pickups).unwrap().pickups,
        Some(counts(11, 0, 11, 0, 0))
    );
    assert_eq!(table_counts(&pool).await, before);
    assert_eq!(rollup(&pool, "SH-G-2001").await, coat);
    assert_eq!(stats(&pool, "SH-C-1001").await, liu);
    assert_eq!(
        count(&pool, "staff").await,
        1,
        "the import account is reused"
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn bad_rows_are_reported_and_good_rows_go_in(pool: PgPool) {
    import(&pool, &fixtures()).await.unwrap();
    let dir = scratch();
    let customers = write(
        &dir,
        "customers.csv",
        "external_id,name,phone\n\
         N-1,Xu Ting,+86 138 0000 9999\n\
         N-2,,12\n",
    );
    let garments = write(
        &dir,
        "garments.csv",
        "external_id,customer_external_id,category,kind,season_class,tag_code\n\
         NG-1,N-1,women,coat,winter,\n\
         NG-2,N-1,women,cape,winter,\n\
         NG-3,NOPE,men,suit,all_season,\n\
         NG-4,N-1,women,scarf,winter,G7M6-ETZW-F05G\n\
         NG-5,N-1,men,tie,all_season,\n",
    );
    let pickups = write(
        &dir,
        "pickups.csv",
        "pickup_external_id,customer_external_id,collected_at,garment_external_id,service,price,condition_notes\n\
         NP-1,N-1,2026-10-01 10:00,NG-1,dry_clean,120.50,\n\
         NP-1,N-1,2026-10-01 10:00,NG-5,press,20,\n\
         NP-2,N-1,2026-10-02,NG-1,wash,12.345,\n\
         NP-2,N-1,2026-10-02,NG-5,wash,10,\n\
         NP-3,N-1,01/10/2026,NG-1,wash,10,\n\
         NP-4,N-1,2999-01-01,NG-1,wash,10,\n\
         NP-5,N-1,2026-10-03,SH-G-2001,wash,10,\n\
         NP-6,N-1,2026-10-04,NG-1,wash,10,\n\
         NP-7,N-1,2026-10-05,NG-2,wash,-3,\n",
    );
    let opts = ImportOptions {
        customers: Some(customers),
        garments: Some(garments),
        pickups: Some(pickups),
        // NG-4 (a tag already on the fixture coat) and NG-5 share a batch: the database refuses NG-4 alone.
        batch_size: 3,
        ..ImportOptions::default()
    };
    let report = import(&pool, &opts).await.unwrap();
    let expected = [
        ("customers.csv", 3, "name"),
        ("customers.csv", 3, "phone"),
        ("garments.csv", 3, "kind"),
        ("garments.csv", 4, "customer_external_id"),
        ("garments.csv", 5, "tag_code"),
        ("pickups.csv", 4, "price"),
        ("pickups.csv", 6, "collected_at"),
        ("pickups.csv", 7, "collected_at"),
        ("pickups.csv", 8, "garment_external_id"),
        ("pickups.csv", 10, "price"),
        ("pickups.csv", 10, "garment_external_id"),
    ]
    .map(|(f, l, c)| (f.to_owned(), l, c.to_owned()));
    assert_eq!(rejected(&report), expected, "{:#?}", report.rejections);
    let reason = |line: u64, field: &str| {
        report
            .rejections
            .iter()
            .find(|r| r.line == line && r.field == field && r.file.ends_with("pickups.csv"))
            .map(|r| r.reason.clone())
            .unwrap()
    };
    assert_eq!(reason(7, "collected_at"), "is in the future");
    assert!(reason(8, "garment_external_id").contains("another customer"));
    assert!(reason(10, "garment_external_id").contains("no garment has external id 'NG-2'"));
    assert!(report.rejections[0]
        .to_string()
        .ends_with("customers.csv:3: name: a name is required"));

    assert_eq!(rows(&report, FileKind::Customers), counts(2, 1, 0, 1, 0));
    assert_eq!(rows(&report, FileKind::Garments), counts(5, 2, 0, 3, 0));
    assert_eq!(rows(&report, FileKind::Pickups), counts(9, 3, 0, 5, 1));
    assert_eq!(
        report.file(FileKind::Pickups).unwrap().pickups,
        Some(counts(7, 2, 0, 5, 0))
    );
    assert_eq!(report.rejected_rows(), 9);

    let garments: Vec<String> = sqlx::query_scalar(
        "select g.external_id from garment g join customer c using (customer_id)
          where c.external_id = 'N-1' order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(garments, ["NG-1", "NG-5"]);
    let pickups: Vec<String> = sqlx::query_scalar(
        "select external_id from pickup where external_id like 'NP-%' order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(pickups, ["NP-1", "NP-6"], "NP-2 is skipped whole");
    let (n, spend, _, _) = stats(&pool, "N-1").await;
    assert_eq!((n, spend), (2, 12050 + 2000 + 1000));
    assert_eq!(
        rollup(&pool, "SH-G-2001").await.0,
        1,
        "another customer's coat is untouched"
    );
    assert_eq!(rollup_mismatches(&pool).await, 0);

    // Fixing nothing and running again: the good rows are already in, the bad ones are reported again.
    let again = import(&pool, &opts).await.unwrap();
    assert_eq!(rejected(&again), expected);
    assert_eq!(rows(&again, FileKind::Garments), counts(5, 0, 2, 3, 0));
    assert_eq!(rows(&again, FileKind::Pickups), counts(9, 0, 3, 5, 1));
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn rows_of_a_pickup_may_be_apart_and_repeated_ids_are_refused(pool: PgPool) {
    let dir = scratch();
    let opts = ImportOptions {
        customers: Some(write(
            &dir,
            "customers.csv",
            "name,external_id\nMa Rui,C-1\nMa Rui again,C-1\n,\n",
        )),
        garments: Some(write(
            &dir,
            "garments.csv",
            "external_id,customer_external_id,category,kind,season_class\n\
             G-1,C-1,men,coat,winter\nG-2,C-1,men,suit,all_season,extra\nG-3,C-1,men,shirt,summer\n",
        )),
        pickups: Some(write(
            &dir,
            "pickups.csv",
            "pickup_external_id,customer_external_id,collected_at,garment_external_id,service,price\n\
             P-1,C-1,2026-05-01,G-1,dry_clean,100\n\
             P-2,C-1,2026-06-01,G-3,wash,20\n\
             \n\
             P-1,C-1,2026-05-01,G-3,wash,20\n",
        )),
        batch_size: 1,
        ..ImportOptions::default()
    };
    let report = import(&pool, &opts).await.unwrap();
    assert_eq!(
        rejected(&report),
        [
            ("customers.csv".to_owned(), 3, "external_id".to_owned()),
            ("garments.csv".to_owned(), 3, "row".to_owned()),
        ],
        "{:#?}",
        report.rejections
    );
    assert!(report.rejections[0].reason.contains("first on line 2"));
    assert_eq!(rows(&report, FileKind::Customers), counts(2, 1, 0, 1, 0));
    assert_eq!(rows(&report, FileKind::Pickups), counts(3, 3, 0, 0, 0));
    let lines: i64 = sqlx::query_scalar(
        "select count(*) from pickup_line pl join pickup p using (customer_id, pickup_id)
          where p.external_id = 'P-1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        lines, 2,
        "both lines of P-1, though a pickup came between them"
    );
    assert_eq!(stats(&pool, "C-1").await.0, 2);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_bad_header_stops_the_import_before_any_write(pool: PgPool) {
    let dir = scratch();
    let opts = ImportOptions {
        garments: Some(write(
            &dir,
            "garments.csv",
            "external_id,customer_external_id,category,kind,season_class,color\n",
        )),
        ..fixtures()
    };
    let e = import(&pool, &opts).await.unwrap_err().to_string();
    assert!(e.contains("garments.csv:1: unknown column 'color'"), "{e}");
    assert_eq!(table_counts(&pool).await, [0; 5]);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_dry_run_counts_but_writes_nothing(pool: PgPool) {
    let report = import(
        &pool,
        &ImportOptions {
            dry_run: true,
            batch_size: 4,
            ..fixtures()
        },
    )
    .await
    .unwrap();
    assert!(report.dry_run);
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert_eq!(rows(&report, FileKind::Garments), counts(15, 15, 0, 0, 0));
    assert_eq!(rows(&report, FileKind::Pickups), counts(25, 25, 0, 0, 0));
    assert!(report.to_string().contains("nothing was written"));
    assert_eq!(table_counts(&pool).await, [0; 5]);
    assert_eq!(count(&pool, "staff").await, 0);

    // A real run afterwards still inserts everything.
    let real = import(&pool, &fixtures()).await.unwrap();
    assert_eq!(rows(&real, FileKind::Pickups), counts(25, 25, 0, 0, 0));
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn formula_like_cells_are_stored_as_text(pool: PgPool) {
    let dir = scratch();
    let name = "=HYPERLINK(\"http://evil.example\",\"Click\")";
    let opts = ImportOptions {
        customers: Some(write(
            &dir,
            "customers.csv",
            "external_id,name,notes\nC-1,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\",@SUM(A1:A9)\n",
        )),
        garments: Some(write(
            &dir,
            "garments.csv",
            "external_id,customer_external_id,category,kind,season_class,brand\nG-1,C-1,women,coat,winter,+cmd|' /C calc'!A0\n",
        )),
        ..ImportOptions::default()
    };
    let report = import(&pool, &opts).await.unwrap();
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    let (stored, notes): (String, String) =
        sqlx::query_as("select name, notes from customer where external_id = 'C-1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((stored.as_str(), notes.as_str()), (name, "@SUM(A1:A9)"));
    let brand: String = sqlx::query_scalar("select brand from garment where external_id = 'G-1'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(brand, "+cmd|' /C calc'!A0");
}

fn write_bytes(dir: &Scratch, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.0.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn reasons(report: &ImportReport) -> Vec<String> {
    report.rejections.iter().map(|r| r.to_string()).collect()
}

/// External ids of every pickup in the database, sorted.
async fn pickup_ids(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("select external_id from pickup order by 1")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn an_unclosed_quote_loses_only_its_row_and_says_so(pool: PgPool) {
    let dir = scratch();
    // A quote opened in the last column of line 20 and never closed used to swallow the rows after it.
    let text = fixture_text("pickups.csv").replacen("faint water mark", "\"faint water mark", 1);
    let opts = ImportOptions {
        pickups: Some(write(&dir, "pickups.csv", &text)),
        ..fixtures()
    };
    let report = import(&pool, &opts).await.unwrap();
    assert_eq!(
        rejected(&report),
        [("pickups.csv".to_owned(), 20, "condition_notes".to_owned())],
        "{:#?}",
        report.rejections
    );
    assert!(
        report.rejections[0].reason.contains("never closed"),
        "{:?}",
        report.rejections
    );
    // The pickup of that line is skipped whole; every other pickup of the file is in.
    assert_eq!(rows(&report, FileKind::Pickups), counts(25, 22, 0, 1, 2));
    let expected: Vec<String> = (3001..=3011)
        .filter(|n| *n != 3009)
        .map(|n| format!("SH-P-{n}"))
        .collect();
    assert_eq!(pickup_ids(&pool).await, expected);
    assert_eq!(rollup_mismatches(&pool).await, 0);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_cell_holding_rows_is_a_warning_with_its_lines(pool: PgPool) {
    let dir = scratch();
    // A stray quote opens on line 3 and a second one closes it on line 4: line 4 was read into a cell of line 3.
    let text = fixture_text("pickups.csv")
        .replacen("small tear at left cuff", "\"small tear at left cuff", 1)
        .replacen("scuff on right sleeve", "scuff on right sleeve\"", 1);
    import(
        &pool,
        &ImportOptions {
            pickups: None,
            ..fixtures()
        },
    )
    .await
    .unwrap();
    let report = import(
        &pool,
        &ImportOptions {
            customers: None,
            garments: None,
            pickups: Some(write(&dir, "pickups.csv", &text)),
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    let w = report.warnings[0].to_string();
    assert!(w.ends_with("pickups.csv:3: condition_notes: this cell runs on to line 4 and holds what looks like a row: check its quotes; if the lines in it were meant as rows, they were not imported"), "{w}");
    assert!(report.to_string().contains("1 warnings"), "{report}");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn control_characters_are_row_errors_in_words(pool: PgPool) {
    let dir = scratch();
    let customers = fixture_text("customers.csv")
        .replacen("SH-C-1005", "SH-C-10\u{0}05", 1)
        .replacen("Zhou Min", "Zhou\u{0}Min", 1);
    let garments = fixture_text("garments.csv").replacen("SH-G-2003,", "SH-G-\u{0}2003,", 1);
    let pickups = fixture_text("pickups.csv")
        .replacen(
            "SH-P-3011,SH-C-1004,2026-11-03 10:30,SH-G-2012",
            "SH-P-3011,SH-C-1004,2026-11-03 10:30,SH-G-20\u{0}12",
            1,
        )
        .replacen("faint water mark", "faint\u{0}water mark", 1);
    let opts = ImportOptions {
        customers: Some(write(&dir, "customers.csv", &customers)),
        garments: Some(write(&dir, "garments.csv", &garments)),
        pickups: Some(write(&dir, "pickups.csv", &pickups)),
        batch_size: 2,
        ..ImportOptions::default()
    };
    let report = import(&pool, &opts).await.unwrap();
    let got = reasons(&report);
    let want_in = [
        "customers.csv:3: name: contains the NUL character (U+0000) at character 5: remove it",
        "customers.csv:6: external_id: contains the NUL character (U+0000) at character 8: remove it",
        "garments.csv:4: external_id: contains the NUL character (U+0000) at character 6: remove it",
        "pickups.csv:20: condition_notes: contains the NUL character (U+0000) at character 6: remove it",
        "pickups.csv:25: garment_external_id: contains the NUL character (U+0000) at character 8: remove it",
    ];
    for w in want_in {
        assert!(got.iter().any(|g| g.ends_with(w)), "{w} not in {got:#?}");
    }
    assert!(
        got.iter()
            .all(|g| !g.contains("SQLSTATE") && !g.contains("refused the row")),
        "{got:#?}"
    );
    // Everything not touched by the bad cells went in.
    assert_eq!(rows(&report, FileKind::Customers), counts(5, 3, 0, 2, 0));
    assert_eq!(count(&pool, "customer").await, 3);
    assert_eq!(rollup_mismatches(&pool).await, 0);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_gbk_file_is_refused_whole_or_read_as_told(pool: PgPool) {
    let dir = scratch();
    let text =
        "客户编号,姓名,电话,地址\nGB-1,郑英,13800000001,徐汇区\nGB-2,女士,13800000002,长宁区\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let path = write_bytes(&dir, "customers.csv", &gbk);
    let opts = ImportOptions {
        customers: Some(path.clone()),
        ..ImportOptions::default()
    };
    let e = import(&pool, &opts).await.unwrap_err().to_string();
    assert!(e.contains("--encoding"), "{e}");
    assert_eq!(
        count(&pool, "customer").await,
        0,
        "nothing is written from a file in doubt"
    );

    // Every byte of these two names is valid UTF-8 too (郑英 as UTF-8 is ֣Ӣ): still refused, never garbled.
    let tricky = "external_id,name\nGB-3,郑英\nGB-4,女士\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(tricky);
    assert!(std::str::from_utf8(&bytes).is_ok());
    let tricky_path = write_bytes(&dir, "tricky.csv", &bytes);
    let e = import(
        &pool,
        &ImportOptions {
            customers: Some(tricky_path.clone()),
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("--encoding GBK"), "{e}");

    for (path, encoding) in [(path, "GBK"), (tricky_path, "gb18030")] {
        let report = import(
            &pool,
            &ImportOptions {
                customers: Some(path),
                encoding: Some(encoding.into()),
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap();
        assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    }
    let names: Vec<String> = sqlx::query_scalar("select name from customer order by external_id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(names, ["郑英", "女士", "郑英", "女士"]);
    // The same file saved as UTF-8 is the same rows: already imported, nothing garbled to correct.
    let again = import(
        &pool,
        &ImportOptions {
            customers: Some(write(&dir, "utf8.csv", text)),
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(rows(&again, FileKind::Customers), counts(2, 0, 2, 0, 0));
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn line_numbers_are_the_files_own_in_every_line_ending(pool: PgPool) {
    for (name, nl) in [("lf.csv", "\n"), ("crlf.csv", "\r\n"), ("cr.csv", "\r")] {
        let dir = scratch();
        let text = [
            "external_id,name,notes",
            "L-1,Li Na,",
            "",
            "L-2,Wang Wei,\"line one",
            "line two\"",
            "",
            "",
            "L-1,Li Na again,",
            "L-3,,",
            "",
        ]
        .join(nl);
        let report = import(
            &pool,
            &ImportOptions {
                customers: Some(write(&dir, name, &text)),
                dry_run: true,
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            reasons(&report)
                .iter()
                .map(|r| r.split_once(name).unwrap().1.to_owned())
                .collect::<Vec<_>>(),
            [
                ":8: external_id: appears again: first on line 2",
                ":9: name: a name is required"
            ],
            "{name}"
        );
    }
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn excel_unicode_text_semicolons_and_a_given_delimiter(pool: PgPool) {
    let dir = scratch();
    // Excel's "Unicode text": UTF-16 with a byte-order mark, tabs between columns, CRLF.
    let mut utf16 = vec![0xff, 0xfe];
    let text = "客户编号\t姓名\t电话\r\nU-1\t郑英\t13800000001\r\n";
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let semicolons = "external_id;name;notes\nS-1;Zhou Min;\"prefers; evenings\"\n";
    let bars = "external_id|name\nB-1|Sun Hao\n";
    for (name, bytes, delimiter) in [
        ("unicode.txt", utf16, None),
        ("semicolons.csv", semicolons.as_bytes().to_vec(), None),
        ("bars.csv", bars.as_bytes().to_vec(), Some(b'|')),
    ] {
        let report = import(
            &pool,
            &ImportOptions {
                customers: Some(write_bytes(&dir, name, &bytes)),
                delimiter,
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap();
        assert!(
            report.rejections.is_empty(),
            "{name}: {:?}",
            report.rejections
        );
        assert_eq!(rows(&report, FileKind::Customers).inserted, 1, "{name}");
    }
    let got: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select external_id, name, nullif(notes, '') from customer order by 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        got,
        [
            ("B-1".into(), "Sun Hao".into(), None),
            (
                "S-1".into(),
                "Zhou Min".into(),
                Some("prefers; evenings".into())
            ),
            ("U-1".into(), "郑英".into(), None),
        ]
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn an_xlsx_workbook_is_read_and_archives_are_refused(pool: PgPool) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = scratch();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (c, h) in [
        "取件单号",
        "客户编号",
        "取件时间",
        "衣物编号",
        "服务",
        "价格",
        "衣物状况",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let at = ExcelDateTime::parse_from_str("2026-11-20 09:30:00").unwrap();
    sheet.write_string(1, 0, "X-1").unwrap();
    sheet.write_string(1, 1, "SH-C-1003").unwrap();
    sheet.write_datetime_with_format(1, 2, &at, &date).unwrap();
    sheet.write_string(1, 3, "SH-G-2008").unwrap();
    sheet.write_string(1, 4, "水洗熨烫").unwrap();
    sheet.write_number(1, 5, 30.5).unwrap();
    sheet.write_string(2, 0, "X-1").unwrap();
    sheet.write_string(2, 1, "SH-C-1003").unwrap();
    sheet.write_datetime_with_format(2, 2, &at, &date).unwrap();
    sheet.write_string(2, 3, "SH-G-2009").unwrap();
    sheet.write_string(2, 4, "干洗").unwrap();
    sheet.write_number(2, 5, 45).unwrap();
    sheet.write_string(2, 6, "袖口有污渍").unwrap();
    sheet.write_string(3, 0, "X-2").unwrap();
    sheet.write_string(3, 4, "teleport").unwrap();
    let path = dir.0.join("pickups.xlsx");
    book.save(&path).unwrap();
    import(
        &pool,
        &ImportOptions {
            pickups: None,
            ..fixtures()
        },
    )
    .await
    .unwrap();
    let report = import(
        &pool,
        &ImportOptions {
            pickups: Some(path),
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        report.file(FileKind::Pickups).unwrap().read_as,
        "xlsx, first sheet"
    );
    // Rows are the sheet's row numbers.
    assert_eq!(
        rejected(&report)
            .into_iter()
            .map(|(_, l, f)| (l, f))
            .collect::<Vec<_>>(),
        [
            (4, "customer_external_id".to_owned()),
            (4, "collected_at".to_owned()),
            (4, "garment_external_id".to_owned()),
            (4, "service".to_owned()),
            (4, "price".to_owned())
        ]
    );
    let lines: Vec<(String, i64, String, DateTime<Utc>)> = sqlx::query_as(
        "select pl.service, pl.price_cents, pl.condition_notes, p.collected_at
           from pickup p join pickup_line pl using (customer_id, pickup_id)
          where p.external_id = 'X-1' order by pl.line_no",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let t = at_("2026-11-20T09:30:00+08:00");
    assert_eq!(
        lines,
        [
            ("wash_and_press".into(), 3050, "".into(), t),
            ("dry_clean".into(), 4500, "袖口有污渍".into(), t)
        ]
    );

    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0];
    gz.extend_from_slice(&[0; 32]);
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend_from_slice(&[0; 64]);
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    for (name, bytes, says) in [
        ("pickups.csv.gz", gz, "gzip"),
        ("pickups.zip", zip, "zip archive"),
        ("pickups.bin", binary, "binary"),
    ] {
        let e = import(
            &pool,
            &ImportOptions {
                pickups: Some(write_bytes(&dir, name, &bytes)),
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains(name) && e.contains(says), "{e}");
    }
}

fn at_(s: &str) -> DateTime<Utc> {
    at(s)
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn chinese_headers_words_prices_dates_and_a_map(pool: PgPool) {
    let dir = scratch();
    let customers = write(
        &dir,
        "客户.csv",
        "会员卡号,姓名,电话,地址,积分\nZH-1,郑英,138 0000 0001,徐汇区衡山路200号,300\n",
    );
    let map = write(
        &dir,
        "map.txt",
        "# 旧收银系统\n会员卡号,external_id\n积分,-\n",
    );
    let garments = write(
        &dir,
        "衣物.csv",
        "衣物编号,客户编号,类别,品类,季节,材质,颜色\n\
         ZG-1,ZH-1,女装,羽绒服,冬季,羽绒,黑色\n\
         ZG-2,ZH-1,男装,西装,四季,羊毛,灰色\n\
         ZG-3,ZH-1,童装,毛衣,春秋,羊绒,\n\
         ZG-4,ZH-1,女装,大衣,冬季,皮草,\n",
    );
    let pickups = write(
        &dir,
        "取件.csv",
        "取件单号,客户编号,取件时间,衣物编号,服务,价格,衣物状况\n\
         ZP-1,ZH-1,2026/3/5,ZG-1,水洗,¥120,\n\
         ZP-1,ZH-1,2026/3/5,ZG-2,干洗,80元,\n\
         ZP-2,ZH-1,2026年3月15日 14:30,ZG-3,织补,￥35.50,\n\
         ZP-2,ZH-1,2026年3月15日 14:30,ZG-4,皮革护理,300,\n\
         ZP-3,ZH-1,2026年3月16日,ZG-2,熨烫,20元,\n",
    );
    let opts = ImportOptions {
        customers: Some(customers),
        garments: Some(garments),
        pickups: Some(pickups),
        map: Some(map),
        ..ImportOptions::default()
    };
    let report = import(&pool, &opts).await.unwrap();
    assert!(report.rejections.is_empty(), "{:#?}", report.rejections);
    let got: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "select external_id, category, kind, season_class, material from garment order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let want = [
        ("ZG-1", "women", "down_jacket", "winter", Some("down")),
        ("ZG-2", "men", "suit", "all_season", Some("wool")),
        (
            "ZG-3",
            "children",
            "sweater",
            "spring_autumn",
            Some("cashmere"),
        ),
        ("ZG-4", "women", "coat", "winter", Some("fur")),
    ]
    .map(|(a, b, c, d, e)| (a.into(), b.into(), c.into(), d.into(), e.map(str::to_owned)));
    assert_eq!(got, want);
    let lines: Vec<(String, String, i64, DateTime<Utc>)> = sqlx::query_as(
        "select p.external_id, pl.service, pl.price_cents, p.collected_at
           from pickup p join pickup_line pl using (customer_id, pickup_id) order by 1, pl.line_no",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let t = |s: &str| at(s);
    assert_eq!(
        lines,
        [
            (
                "ZP-1".into(),
                "wash".into(),
                12000,
                t("2026-03-05T00:00:00+08:00")
            ),
            (
                "ZP-1".into(),
                "dry_clean".into(),
                8000,
                t("2026-03-05T00:00:00+08:00")
            ),
            (
                "ZP-2".into(),
                "repair".into(),
                3550,
                t("2026-03-15T14:30:00+08:00")
            ),
            (
                "ZP-2".into(),
                "leather_care".into(),
                30000,
                t("2026-03-15T14:30:00+08:00")
            ),
            (
                "ZP-3".into(),
                "press".into(),
                2000,
                t("2026-03-16T00:00:00+08:00")
            ),
        ]
    );
    // An unknown word is refused with the choices in both languages.
    let bad = write(
        &dir,
        "bad.csv",
        "取件单号,客户编号,取件时间,衣物编号,服务,价格\nZP-9,ZH-1,2026/3/20,ZG-1,烘干,10\n",
    );
    let report = import(
        &pool,
        &ImportOptions {
            pickups: Some(bad),
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(
        report.rejections[0].to_string().ends_with(
            "bad.csv:2: service: '烘干' is not a service: use one of dry_clean/干洗, leather_care/皮革护理, \
             press/熨烫, repair/修补, wash/水洗, wash_and_press/水洗熨烫"
        ),
        "{:?}",
        report.rejections
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn an_unwritable_errors_path_stops_before_anything_is_read(pool: PgPool) {
    let dir = scratch();
    let opts = ImportOptions {
        errors: Some(dir.0.join("no-such-folder").join("rejected.txt")),
        ..fixtures()
    };
    let e = import(&pool, &opts).await.unwrap_err().to_string();
    assert!(e.contains("--errors") && e.contains("cannot write"), "{e}");
    assert_eq!(table_counts(&pool).await, [0; 5]);

    // A writable one gets every rejection.
    let path = dir.0.join("rejected.txt");
    let customers = write(&dir, "customers.csv", "external_id,name\nE-1,\nE-2,Ok\n");
    import(
        &pool,
        &ImportOptions {
            customers: Some(customers),
            errors: Some(path.clone()),
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.ends_with("customers.csv:2: name: a name is required\n"),
        "{written}"
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_file_without_a_header_never_echoes_a_customer(pool: PgPool) {
    let dir = scratch();
    let text: String = fixture_text("customers.csv")
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    let e = import(
        &pool,
        &ImportOptions {
            customers: Some(write(&dir, "customers.csv", &text)),
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("not a header"), "{e}");
    for personal in ["Liu Fang", "138 1234", "Huaihai", "Prefers evening"] {
        assert!(!e.contains(personal), "{e}");
    }
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn pickups_from_a_pipe_are_read_once(pool: PgPool) {
    let dir = scratch();
    let fifo = dir.0.join("pickups.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(&fifo, fixture_text("pickups.csv")).unwrap())
    };
    let report = import(
        &pool,
        &ImportOptions {
            pickups: Some(fifo),
            ..fixtures()
        },
    )
    .await
    .unwrap();
    writer.join().unwrap();
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert_eq!(table_counts(&pool).await, [5, 15, 11, 25, 5]);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_second_import_waits_for_the_first_and_says_so(pool: PgPool) {
    let mut holder = pool.acquire().await.unwrap();
    sqlx::query("select pg_advisory_lock($1)")
        .bind(doorstep::import::import_lock_key())
        .execute(&mut *holder)
        .await
        .unwrap();
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let opts = ImportOptions {
        progress: doorstep::import::Progress::lines(std::time::Duration::ZERO, {
            let said = said.clone();
            move |l| said.lock().unwrap().push(l.to_owned())
        }),
        ..fixtures()
    };
    let running = tokio::spawn({
        let pool = pool.clone();
        async move { import(&pool, &opts).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(!running.is_finished(), "the second import waits");
    assert_eq!(count(&pool, "customer").await, 0);
    assert!(said
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("another import into this database is running")));
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(doorstep::import::import_lock_key())
        .execute(&mut *holder)
        .await
        .unwrap();
    let report = running.await.unwrap().unwrap();
    assert!(report.waited.unwrap() >= std::time::Duration::from_millis(500));
    assert!(report
        .to_string()
        .contains("for another import into this database to finish"));
    assert_eq!(table_counts(&pool).await, [5, 15, 11, 25, 5]);
    let said = said.lock().unwrap().clone();
    assert!(
        said.iter()
            .any(|l| l == "writing the good rows in 1 chunks"),
        "45 rows fit one chunk of 100000: {said:#?}"
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_dry_run_checks_in_staging_and_leaves_no_dead_rows(pool: PgPool) {
    let report = import(
        &pool,
        &ImportOptions {
            dry_run: true,
            ..fixtures()
        },
    )
    .await
    .unwrap();
    assert_eq!(rows(&report, FileKind::Pickups), counts(25, 25, 0, 0, 0));
    assert_eq!(stage_schemas(&pool).await, Vec::<String>::new());
    for table in [
        "customer",
        "garment",
        "pickup",
        "pickup_line",
        "customer_stats",
        "pickup_class",
    ] {
        let pages: i64 = sqlx::query_scalar(&format!("select pg_relation_size('{table}')"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(pages, 0, "{table} was written to");
    }
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn progress_lines_when_not_on_a_terminal_and_a_stop_says_what_was_committed(pool: PgPool) {
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let interrupt = doorstep::import::Interrupt::default();
    let opts = ImportOptions {
        batch_size: 6,
        progress: doorstep::import::Progress::lines(std::time::Duration::ZERO, {
            let said = said.clone();
            let interrupt = interrupt.clone();
            move |l| {
                // Ctrl-C right after the first chunk commits.
                if l.starts_with("committed 1 of") {
                    interrupt.trigger();
                }
                said.lock().unwrap().push(l.to_owned());
            }
        }),
        interrupt: interrupt.clone(),
        ..fixtures()
    };
    let e = import(&pool, &opts).await.unwrap_err();
    let stopped = e
        .downcast_ref::<doorstep::import::Interrupted>()
        .expect("an interrupted import");
    // Each writer finishes the chunk it has begun: one, or two when the second writer was already writing.
    assert!(
        (1..=2).contains(&stopped.chunks_done) && stopped.chunks_done < stopped.chunks,
        "{stopped:?}"
    );
    let committed = [
        count(&pool, "customer").await,
        count(&pool, "garment").await,
        count(&pool, "pickup").await,
        count(&pool, "pickup_line").await,
    ];
    assert_eq!(
        committed,
        [
            stopped.customers,
            stopped.garments,
            stopped.pickups,
            stopped.lines
        ]
        .map(|n| n as i64)
    );
    assert!(committed[0] > 0 && committed[0] < 5, "{committed:?}");
    let msg = stopped.to_string();
    assert!(
        msg.contains(&format!("interrupted after {} of", stopped.chunks_done))
            && msg.contains("Rerun the same command"),
        "{msg}"
    );
    let lines = said.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("customers.csv: 5 rows read")),
        "{lines:#?}"
    );

    // The rerun finishes the job exactly.
    let rest = import(&pool, &fixtures()).await.unwrap();
    assert!(rest.rejections.is_empty());
    assert_eq!(
        rows(&rest, FileKind::Customers).already_imported,
        committed[0] as u64
    );
    assert_eq!(table_counts(&pool).await, [5, 15, 11, 25, 5]);
    assert_eq!(rollup_mismatches(&pool).await, 0);
    assert_eq!(
        stats(&pool, "SH-C-1001").await,
        (
            3,
            41500,
            at("2026-03-18T10:15:00+08:00"),
            at("2026-09-22T10:00:00+08:00")
        )
    );
}

/// Every rollup of the customers whose external ids start with `prefix`, keyed without the prefix.
async fn rollups_of(pool: &PgPool, prefix: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let garments: Vec<String> = sqlx::query_scalar(
        "select substr(external_id, length($1) + 1) || ' ' || times_cleaned || ' ' ||
                coalesce(last_cleaned_at::text, '-') || ' ' || coalesce(last_price_cents::text, '-')
           from garment where external_id like $1 || '%' order by 1",
    )
    .bind(prefix)
    .fetch_all(pool)
    .await
    .unwrap();
    let customers: Vec<String> = sqlx::query_scalar(
        "select substr(c.external_id, length($1) + 1) || ' ' || s.first_pickup_at || ' ' || s.last_pickup_at
                || ' ' || s.pickups || ' ' || s.spend_cents || ' ' || float8send(s.recent_spend)::text || ' '
                || float8send(s.long_spend)::text
           from customer_stats s join customer c using (customer_id)
          where c.external_id like $1 || '%' order by 1",
    )
    .bind(prefix)
    .fetch_all(pool)
    .await
    .unwrap();
    let classes: Vec<String> = sqlx::query_scalar(
        "select substr(p.external_id, length($1) + 1) || ' ' || pc.season_class || ' ' || pc.collected_at
                || ' ' || pc.garments
           from pickup_class pc join pickup p using (customer_id, pickup_id)
          where p.external_id like $1 || '%' order by 1",
    )
    .bind(prefix)
    .fetch_all(pool)
    .await
    .unwrap();
    (garments, customers, classes)
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_bulk_import_leaves_the_rollups_of_one_pickup_at_a_time(pool: PgPool) {
    use doorstep::pickups::db::{record_visit, LineRow, VisitRow};
    let dir = scratch();
    let size = doorstep::import::bench::Size {
        customers: 40,
        garments: 300,
        lines: 1500,
        seed: 7,
    };
    let files = doorstep::import::bench::generate(&dir.0.join("gen"), &size).unwrap();
    let prefixed = |path: &Path, prefix: &str, skip_every: usize| -> String {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let header = lines.remove(0);
        // Shuffle pickups out of time order, so the fold order matters.
        if skip_every > 0 {
            lines.reverse();
            let third = lines.len() / 3;
            lines.rotate_left(third);
        }
        let body: Vec<String> = lines
            .into_iter()
            .map(|l| {
                l.split(',')
                    .enumerate()
                    .map(|(i, c)| {
                        if (c.starts_with('C') || c.starts_with('G') || c.starts_with('P'))
                            && c.len() > 5
                            && i < 4
                        {
                            format!("{prefix}{c}")
                        } else {
                            c.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        format!("{header}\n{}\n", body.join("\n"))
    };
    for prefix in ["A", "B"] {
        let report = import(
            &pool,
            &ImportOptions {
                customers: Some(write(
                    &dir,
                    &format!("{prefix}c.csv"),
                    &prefixed(&files.customers, prefix, 0),
                )),
                garments: Some(write(
                    &dir,
                    &format!("{prefix}g.csv"),
                    &prefixed(&files.garments, prefix, 0),
                )),
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap();
        assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    }
    let staff = sqlx::query_scalar::<_, uuid::Uuid>(
        "insert into staff (staff_id, username, display_name, role, password_hash)
         values (gen_random_uuid(), 'replay', 'Replay', 'pickup', '!') returning staff_id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let ids: std::collections::HashMap<String, (uuid::Uuid, uuid::Uuid)> =
        sqlx::query_as::<_, (String, uuid::Uuid, uuid::Uuid)>(
            "select external_id, customer_id, garment_id from garment",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(e, c, g)| (e, (c, g)))
        .collect();
    let customer_ids: std::collections::HashMap<String, uuid::Uuid> =
        sqlx::query_as::<_, (String, uuid::Uuid)>("select external_id, customer_id from customer")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    // Pickups of the file in the order of their first lines, as the per-pickup path would record them.
    let text = prefixed(&files.pickups, "B", 1);
    let mut order: Vec<String> = Vec::new();
    let mut groups: std::collections::HashMap<String, Vec<Vec<String>>> = Default::default();
    for line in text.lines().skip(1) {
        let cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        if !groups.contains_key(&cells[0]) {
            order.push(cells[0].clone());
        }
        groups.entry(cells[0].clone()).or_default().push(cells);
    }
    // Some history recorded one pickup at a time before the import, for both copies.
    let early = order.len() / 4;
    let record = |ext: String, lines: Vec<Vec<String>>| {
        let pool = pool.clone();
        let customer_ids = customer_ids.clone();
        let ids = ids.clone();
        async move {
            let customer = customer_ids[&lines[0][1]];
            let when = doorstep_time(&lines[0][2]);
            let rows: Vec<LineRow> = lines
                .iter()
                .map(|c| LineRow {
                    garment_id: ids[&c[3]].1,
                    service: service_of(&c[4]),
                    price_cents: price_of(&c[5]),
                    condition_notes: c.get(6).cloned().unwrap_or_default(),
                })
                .collect();
            let pickup = uuid::Uuid::new_v4();
            let mut tx = pool.begin().await.unwrap();
            let visit = VisitRow {
                customer_id: customer,
                pickup_id: pickup,
                staff_id: staff,
                door_code: None,
                collected_at: when,
                notes: "",
            };
            record_visit(&mut tx, &visit, &[], &rows, &[], None)
                .await
                .unwrap();
            sqlx::query("update pickup set external_id = $1 where pickup_id = $2")
                .bind(ext)
                .bind(pickup)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    };
    let rename = |l: &Vec<String>, to: &str| -> Vec<String> {
        l.iter()
            .map(|c| {
                if c.starts_with('B') && c.len() > 5 {
                    format!("{to}{}", &c[1..])
                } else {
                    c.clone()
                }
            })
            .collect()
    };
    for ext in &order[..early] {
        for prefix in ["A", "B"] {
            let lines: Vec<Vec<String>> = groups[ext].iter().map(|l| rename(l, prefix)).collect();
            record(format!("{prefix}{}", &ext[1..]), lines).await;
        }
    }
    // Copy A: the rest by the bulk import; copy B: the rest one pickup at a time.
    let rest_a: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| {
            *i == 0 || !order[..early].contains(&l.split(',').next().unwrap().to_owned())
        })
        .map(|(_, l)| rename(&l.split(',').map(str::to_owned).collect(), "A").join(","))
        .collect::<Vec<_>>()
        .join("\n");
    let report = import(
        &pool,
        &ImportOptions {
            pickups: Some(write(&dir, "Ap.csv", &rest_a)),
            batch_size: 500,
            ..ImportOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert!(rows(&report, FileKind::Pickups).inserted > 1000);
    for ext in &order[early..] {
        record(ext.clone(), groups[ext].clone()).await;
    }
    let (a, b) = (rollups_of(&pool, "A").await, rollups_of(&pool, "B").await);
    assert!(
        a.0.len() == 300 && a.1.len() == 40 && a.2.len() > 300,
        "{} {} {}",
        a.0.len(),
        a.1.len(),
        a.2.len()
    );
    assert_eq!(a.0, b.0, "garment rollups");
    assert_eq!(a.1, b.1, "customer_stats, decayed sums to the bit");
    assert_eq!(a.2, b.2, "pickup_class");
}

fn doorstep_time(s: &str) -> DateTime<Utc> {
    use chrono::TimeZone;
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let s = s.replace(['年', '月'], "-").replace('日', "");
    let (d, t) = s.split_once(' ').unwrap();
    let mut p = d.split('-').map(|x| x.parse::<u32>().unwrap());
    let (y, m, dd) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
    let (h, min) = t.split_once(':').unwrap();
    offset
        .with_ymd_and_hms(y as i32, m, dd, h.parse().unwrap(), min.parse().unwrap(), 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn service_of(s: &str) -> doorstep::domain::Service {
    use doorstep::domain::Service;
    match s {
        "dry_clean" | "干洗" => Service::DryClean,
        "wash" => Service::Wash,
        "press" => Service::Press,
        "水洗熨烫" => Service::WashAndPress,
        "repair" => Service::Repair,
        other => panic!("{other}"),
    }
}

fn price_of(s: &str) -> i64 {
    let (y, f) = s.trim_start_matches('¥').split_once('.').unwrap();
    y.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap()
}

/// Pickups imported after their garments (already in the database) keep the intake series too.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn pickups_of_garments_already_imported_keep_the_intake_series(pool: PgPool) {
    let first = ImportOptions {
        pickups: None,
        ..fixtures()
    };
    import(&pool, &first).await.unwrap();
    let then = ImportOptions {
        customers: None,
        garments: None,
        ..fixtures()
    };
    let report = import(&pool, &then).await.unwrap();
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    assert_eq!(table_counts(&pool).await, [5, 15, 11, 25, 5]);
    let kept = crate::forecasts::kept_weekly_intake(&pool).await;
    assert!(!kept.is_empty());
    assert_eq!(kept, crate::forecasts::exact_weekly_intake(&pool).await);
}

async fn stage_schemas(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "select nspname::text from pg_namespace where nspname like 'import\\_stage\\_%' order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn staging_is_dropped_after_a_stop_or_a_write_and_new_ids_follow_the_file(pool: PgPool) {
    // A killed import's staging (its session is gone) is dropped by the next import.
    sqlx::query("create schema import_stage_999999999")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("create unlogged table import_stage_999999999.import_line (line bigint)")
        .execute(&pool)
        .await
        .unwrap();

    // Stopped before writing: the stale staging and its own are dropped, nothing is written.
    let stopped = ImportOptions {
        batch_size: 3,
        ..fixtures()
    };
    stopped.interrupt.trigger();
    let e = import(&pool, &stopped).await.unwrap_err();
    assert!(
        e.downcast_ref::<doorstep::import::Interrupted>().is_some(),
        "{e:#}"
    );
    assert_eq!(stage_schemas(&pool).await, Vec::<String>::new());
    assert_eq!(count(&pool, "customer").await, 0);

    // Written in several chunks on both sessions: staging gone, rollups exact, ids in the file's order.
    let report = import(
        &pool,
        &ImportOptions {
            batch_size: 3,
            ..fixtures()
        },
    )
    .await
    .unwrap();
    assert!(report.rejections.is_empty());
    assert_eq!(stage_schemas(&pool).await, Vec::<String>::new());
    assert_eq!(table_counts(&pool).await, [5, 15, 11, 25, 5]);
    assert_eq!(rollup_mismatches(&pool).await, 0);
    let in_file: Vec<String> = fixture_text("customers.csv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next().map(str::to_owned))
        .collect();
    let by_id: Vec<String> =
        sqlx::query_scalar("select external_id from customer order by customer_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(by_id, in_file);
    let versions: Vec<i32> = sqlx::query_scalar(
        "select distinct substr(customer_id::text, 15, 1)::int from customer
         union select distinct substr(garment_id::text, 15, 1)::int from garment
         union select distinct substr(pickup_id::text, 15, 1)::int from pickup",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(versions, vec![7]);
}
