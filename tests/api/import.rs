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
    sqlx::query_scalar(
        "select count(*) from garment g
           left join (select distinct on (pl.customer_id, pl.garment_id) pl.customer_id, pl.garment_id,
                             count(*) over (partition by pl.customer_id, pl.garment_id) as n,
                             p.collected_at as last_at, pl.price_cents as last_price
                        from pickup_line pl join pickup p using (customer_id, pickup_id)
                       order by pl.customer_id, pl.garment_id, p.collected_at desc, pl.line_no desc) x
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

    // The coat: dry-cleaned in spring, pressed in autumn.
    assert_eq!(
        rollup(&pool, "SH-G-2001").await,
        (2, Some(at("2026-09-22T10:00:00+08:00")), Some(4000))
    );
    // The shirt: once in March, twice (wash and press, then a repair) in June; the later line's price is last.
    assert_eq!(
        rollup(&pool, "SH-G-2007").await,
        (3, Some(at("2026-06-14T09:00:00+08:00")), Some(1500))
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
        2,
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
