//! Tests of `doorstep seed`: a small company written by COPY with the service's rollups, reproducibly.

use chrono::NaiveDate;
use sqlx::PgPool;

use doorstep::seed::{seed, SeedCounts, SeedOptions};

fn options(seed: u64) -> SeedOptions {
    SeedOptions {
        today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        batch_size: 20,
        parallel: 2,
        ..SeedOptions::new(50, 1, seed)
    }
}

async fn count(pool: &PgPool, table: &str) -> u64 {
    let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .unwrap();
    n as u64
}

async fn counts_in(pool: &PgPool) -> SeedCounts {
    SeedCounts {
        customers: count(pool, "customer").await,
        garments: count(pool, "garment").await,
        pickups: count(pool, "pickup").await,
        lines: count(pool, "pickup_line").await,
        interactions: count(pool, "interaction").await,
        labels: count(pool, "door_label").await,
    }
}

/// Deletes every seeded row, so the same seed can be written again.
async fn empty_company(pool: &PgPool) {
    sqlx::raw_sql(
        "delete from pickup_class; delete from pickup_line; delete from pickup; delete from interaction;
         delete from door_label; delete from garment; delete from customer_stats; delete from customer;",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// Fails with `what` unless `sql` counts zero rows.
async fn assert_none(pool: &PgPool, what: &str, sql: &str) {
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.unwrap();
    assert_eq!(n, 0, "{what}: {n} rows");
}

/// The rollups are the service's, rebuilt in bulk: each garment's cleanings (a visit once), last cleaning and its
/// price, each customer's visits and spend, each visit's season classes, and the intake series.
async fn assert_service_rollups(pool: &PgPool) {
    assert_none(
        pool,
        "garment rollups",
        "select count(*) from garment g
           left join (select pl.customer_id, pl.garment_id, count(distinct pl.pickup_id) as n,
                             max(p.collected_at) as last
                        from pickup_line pl join pickup p using (customer_id, pickup_id)
                       where is_cleaning(pl.service) group by 1, 2) c using (customer_id, garment_id)
          where g.times_cleaned <> coalesce(c.n, 0) or g.last_cleaned_at is distinct from c.last",
    )
    .await;
    // The last cleaning's price: the sum of that visit's cleaning lines.
    assert_none(
        pool,
        "last cleaning prices",
        "select count(*) from garment g
           left join (select distinct on (customer_id, garment_id) customer_id, garment_id, price
                        from (select pl.customer_id, pl.garment_id, pl.pickup_id, p.collected_at,
                                     sum(pl.price_cents) as price
                                from pickup_line pl join pickup p using (customer_id, pickup_id)
                               where is_cleaning(pl.service) group by 1, 2, 3, 4) x
                       order by customer_id, garment_id, collected_at desc) c using (customer_id, garment_id)
          where g.last_price_cents is distinct from c.price",
    )
    .await;
    // Each visit's season classes are exactly those of the garments it cleaned, with how many of each.
    assert_none(
        pool,
        "visits' season classes",
        crate::helpers::PICKUP_CLASS_MISMATCHES,
    )
    .await;
    // The decayed spend sums, folded visit by visit in time order.
    assert_none(
        pool,
        "decayed spend",
        "select count(*) from customer_stats s
           join (select customer_id, spend_fold(t::float8, t::float8, collected_at order by collected_at, pickup_id) f
                   from (select p.customer_id, p.pickup_id, p.collected_at, coalesce(sum(pl.price_cents), 0) as t
                           from pickup p left join pickup_line pl using (customer_id, pickup_id)
                          group by 1, 2, 3) x
                  group by 1) r using (customer_id)
          where abs(s.recent_spend - (r.f).recent_sum) > 1e-6 * greatest(1, abs(s.recent_spend))
             or abs(s.long_spend - (r.f).long_sum) > 1e-6 * greatest(1, abs(s.long_spend))",
    )
    .await;
    assert_none(
        pool,
        "customer rollups",
        "select count(*) from (select customer_id, count(*) as n, sum(t) as spend
                                 from (select p.customer_id, p.pickup_id, coalesce(sum(pl.price_cents), 0) as t
                                         from pickup p left join pickup_line pl using (customer_id, pickup_id)
                                        group by 1, 2) x group by 1) c
           full join customer_stats s using (customer_id)
          where s.pickups is distinct from c.n or s.spend_cents is distinct from c.spend",
    )
    .await;
    assert_none(
        pool,
        "every visit with a cleaning has its season classes",
        "select count(*) from pickup p where exists (select 1 from pickup_line pl where pl.customer_id = p.customer_id
            and pl.pickup_id = p.pickup_id and is_cleaning(pl.service))
            and not exists (select 1 from pickup_class c where c.customer_id = p.customer_id and c.pickup_id = p.pickup_id)",
    )
    .await;
    // The intake series is appended by the seed's rollups statement, not the line trigger: each (visit, garment)
    // pair once, by UTC hour, season class and category.
    assert_none(
        pool,
        "intake series",
        "select count(*) from
           (select hour, season_class, category, sum(garments) as n
              from (select * from intake_hour union all select * from intake_hour_change) k group by 1, 2, 3) kept
           full join
           (select date_trunc('hour', p.collected_at) as hour, g.season_class, g.category, count(*) as n
              from (select distinct customer_id, pickup_id, garment_id from pickup_line) pl
              join pickup p using (customer_id, pickup_id) join garment g using (customer_id, garment_id)
             group by 1, 2, 3) counted using (hour, season_class, category)
          where kept.n is distinct from counted.n",
    )
    .await;
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn seeding_writes_a_plausible_company_reproducibly(pool: PgPool) {
    let first = seed(&pool, options(7)).await.unwrap();
    let c = first.counts;
    assert_eq!(
        counts_in(&pool).await,
        c,
        "the summary counts the rows written"
    );
    assert_eq!(c.customers, 50);
    assert!((50 * 8..=50 * 40).contains(&c.garments), "{c:?}");
    assert!(c.pickups >= 50 * 3 && c.pickups <= 50 * 30, "{c:?}");
    assert!(c.lines >= c.pickups && c.lines <= c.pickups * 40, "{c:?}");
    assert!((35..=50).contains(&c.labels), "about 90% consent: {c:?}");
    assert_eq!(
        count(&pool, "staff").await,
        5,
        "four pickup workers and a dispatcher"
    );

    assert_none(
        &pool,
        "prices",
        "select count(*) from pickup_line where price_cents <= 0",
    )
    .await;
    assert_none(
        &pool,
        "visits in the two years",
        "select count(*) from pickup
          where collected_at < '2025-11-22T00:00:00+08:00' or collected_at >= '2026-11-23T00:00:00+08:00'",
    )
    .await;
    assert_none(
        &pool,
        "down jackets are winter down",
        "select count(*) from garment where kind = 'down_jacket' and (material <> 'down' or season_class <> 'winter')",
    )
    .await;

    assert_service_rollups(&pool).await;
    // Ids are time-ordered (version 7), each customer's rows after the customer, customers in seed order.
    assert_none(
        &pool,
        "ordered ids",
        "select (select count(*) from garment g where g.garment_id <= g.customer_id)
              + (select count(*) from pickup p where p.pickup_id <= p.customer_id)
              + (select count(*) from customer where substr(customer_id::text, 15, 1) <> '7')",
    )
    .await;

    let again = seed(&pool, options(7)).await.unwrap_err().to_string();
    assert!(again.contains("already loaded"), "{again}");
    // Another day gives other customer ids but the same label codes: refused before anything is written.
    let other_day = SeedOptions {
        today: NaiveDate::from_ymd_opt(2026, 4, 10).unwrap(),
        ..options(7)
    };
    let again = seed(&pool, other_day).await.unwrap_err().to_string();
    assert!(again.contains("with another --today or --years"), "{again}");
    assert_eq!(counts_in(&pool).await, c, "nothing written");

    empty_company(&pool).await;
    let rerun = seed(&pool, options(7)).await.unwrap();
    assert_eq!(rerun.counts, c, "the same seed gives the same company");
    assert_eq!(count(&pool, "staff").await, 5, "seed staff are reused");

    let other = seed(&pool, options(8)).await.unwrap();
    assert_ne!(other.counts, c);
    assert_eq!(
        count(&pool, "customer").await,
        100,
        "another seed adds to the same database"
    );
}

/// `seed --truth` writes what the generator knows, one line a household, consistent with what it wrote to the
/// database; `bench quality` scores the lists of that day against it.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_ground_truth_matches_the_database_and_scores_the_lists(pool: PgPool) {
    let dir = std::env::temp_dir().join(format!("doorstep-truth-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("truth.jsonl");
    let today = NaiveDate::from_ymd_opt(2026, 4, 10).unwrap();
    let opts = SeedOptions {
        today,
        truth: Some(path.clone()),
        batch_size: 100,
        parallel: 2,
        ..SeedOptions::new(300, 2, 11)
    };
    let counts = seed(&pool, opts).await.unwrap().counts;

    let file = std::fs::File::open(&path).unwrap();
    let (header, households) = doorstep::seed::truth::read(std::io::BufReader::new(file)).unwrap();
    assert_eq!(header.today, today);
    assert_eq!(households.len(), 300);
    let garments: usize = households.values().map(|h| h.garments.len()).sum();
    assert!(
        garments as u64 > counts.garments,
        "the truth also holds garments the company never saw"
    );
    let in_db: Vec<(uuid::Uuid, uuid::Uuid)> =
        sqlx::query_as("select customer_id, garment_id from garment")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(in_db.len() as u64, counts.garments);
    for (c, g) in &in_db {
        assert!(households[c].garments.iter().any(|t| t.garment_id == *g));
    }
    // The company knows a garment only from a visit that brought it.
    assert_eq!(
        count_where(
            &pool,
            "garment g where not exists (select 1 from pickup_line pl
                where pl.customer_id = g.customer_id and pl.garment_id = g.garment_id)"
        )
        .await,
        0
    );
    // Nothing is written from the list day on; the truth holds those visits, and none of a churner.
    assert_eq!(
        count_where(
            &pool,
            "pickup where collected_at >= '2026-04-10T00:00:00+08:00'"
        )
        .await,
        0
    );
    assert!(households.values().any(|h| !h.future.is_empty()));
    assert!(households
        .values()
        .filter(|h| h.churned_on.is_some())
        .all(|h| h.future.is_empty()));
    // A garment is never in a visit after it was thrown away.
    for h in households.values() {
        for v in &h.future {
            for g in &v.garments {
                let t = h.garments.iter().find(|t| t.garment_id == *g).unwrap();
                assert!(t.owned_on(v.day));
            }
        }
    }

    let report = doorstep::bench::quality::run(
        &pool,
        &doorstep::bench::quality::QualityBench {
            truth: path,
            top: 20,
            window: None,
            entries: Some(dir.join("entries.csv")),
        },
    )
    .await
    .unwrap();
    let row = |name: &str| -> Vec<f64> {
        let line = report
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no {name} row in\n{report}"));
        line.split('|')
            .skip(2)
            .take(3)
            .map(|c| c.trim().parse::<f64>().unwrap())
            .collect()
    };
    assert_eq!(row("true value (full knowledge)")[1], 1.0, "{report}");
    // Every entry of the list, with its truth, one CSV row each after the header.
    let entries = std::fs::read_to_string(dir.join("entries.csv")).unwrap();
    assert!(entries.starts_with("rank,customer_id,"), "{entries}");
    assert!(entries.lines().count() > 20, "{entries}");
    for name in ["reminders", "spend-ranked"] {
        let r = row(name);
        assert!(r.iter().all(|x| (0.0..=1.0).contains(x)), "{report}");
    }
    assert!(
        row("reminders")[0] > 0.0,
        "the reminder list finds someone: {report}"
    );
    // Ranked by what a call adds, customers who have left fall down the list.
    let gone = |name: &str| -> usize {
        let line = report
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap();
        line.split('|').nth(5).unwrap().trim().parse().unwrap()
    };
    assert!(
        gone("reminders") <= gone("reminders by outstanding value (the first rule)"),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn count_where(pool: &PgPool, from: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {from}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A role that may not set `session_replication_role` keeps PostgreSQL's row checks and triggers: the same company,
/// with the same rollups.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_role_without_replica_rights_seeds_the_same_company(pool: PgPool) {
    let role = format!("seed_writer_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(&format!(
        "create role {role} login nosuperuser;
         grant usage on schema public to {role};
         grant select, insert, update, delete on all tables in schema public to {role};
         grant usage, select on all sequences in schema public to {role};"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let connect = pool.connect_options().as_ref().clone().username(&role);
    let restricted = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(connect)
        .await
        .unwrap();
    let skips: bool = sqlx::query_scalar(
        "select current_setting('is_superuser') = 'on'
             or has_parameter_privilege('session_replication_role', 'SET')",
    )
    .fetch_one(&restricted)
    .await
    .unwrap();
    assert!(!skips, "the role must take the row-checked path");
    let written = seed(&restricted, options(7)).await.unwrap().counts;
    restricted.close().await;
    assert_eq!(counts_in(&pool).await, written);
    assert_service_rollups(&pool).await;

    empty_company(&pool).await;
    let by_superuser = seed(&pool, options(7)).await.unwrap().counts;
    assert_eq!(by_superuser, written, "both paths write the same company");
    sqlx::raw_sql(&format!(
        "reassign owned by {role} to current_user; drop owned by {role}; drop role {role}"
    ))
    .execute(&pool)
    .await
    .unwrap();
}

async fn index_definitions(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "select indexdef from pg_indexes where schemaname = current_schema() order by indexname",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// A seed large enough to drop the indexes it would update all over builds them again at its end: the same
/// indexes as before, none left recorded, the same company with the same rollups.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_large_seed_builds_the_indexes_it_deferred_again(pool: PgPool) {
    let before = index_definitions(&pool).await;
    let kept = seed(&pool, options(5)).await.unwrap();
    assert_eq!(kept.indexes_rebuilt, 0, "a small seed keeps its indexes");
    empty_company(&pool).await;
    let opts = SeedOptions {
        defer_indexes_from: 0,
        ..options(5)
    };
    let deferred = seed(&pool, opts).await.unwrap();
    assert!(deferred.indexes_rebuilt >= 8, "{deferred}");
    assert_eq!(deferred.counts, kept.counts);
    assert_eq!(index_definitions(&pool).await, before);
    assert_eq!(count(&pool, "deferred_index").await, 0);
    assert_service_rollups(&pool).await;
}

/// A load that stops after dropping its indexes leaves them recorded, and the next start builds them; indexes led
/// by the customer, unique ones and constraints are never dropped.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn indexes_a_stopped_load_deferred_are_built_at_the_next_start(pool: PgPool) {
    let before = index_definitions(&pool).await;
    let dropped = doorstep::db::defer_scattered_indexes(
        &pool,
        &["garment", "pickup", "pickup_class", "customer"],
    )
    .await
    .unwrap();
    for name in [
        "garment_season_cleaned_idx",
        "garment_upsell_idx",
        "pickup_time_idx",
        "pickup_class_time_idx",
        "customer_name_trgm",
    ] {
        assert!(
            dropped.iter().any(|d| d == name),
            "{name} not in {dropped:?}"
        );
    }
    for name in [
        "pickup_customer_time_idx",
        "garment_special_idx",
        "customer_external_id_key",
        "garment_pkey",
    ] {
        assert!(!dropped.iter().any(|d| d == name), "{name} dropped");
    }
    assert_eq!(
        index_definitions(&pool).await.len(),
        before.len() - dropped.len()
    );
    assert_eq!(count(&pool, "deferred_index").await, dropped.len() as u64);
    let built = doorstep::db::build_deferred_indexes(&pool).await.unwrap();
    assert_eq!(built, dropped.len());
    assert_eq!(index_definitions(&pool).await, before);
    assert_eq!(count(&pool, "deferred_index").await, 0);
}

/// `bench sweep` seeds each company into a database of its own, scores its list, and drops the database.
#[tokio::test]
async fn a_sweep_scores_fresh_companies_and_drops_their_databases() {
    use sqlx::migrate::MigrateDatabase;
    use sqlx::Postgres;
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let cfg = doorstep::config::DbConfig {
        database_url: url.clone(),
        db_max_connections: 4,
        db_acquire_timeout_ms: 5_000,
    };
    let b = doorstep::bench::sweep::SweepBench {
        companies: 2,
        customers: 120,
        years: 1,
        first_seed: 9_990_001,
        top: 20,
        keep: false,
    };
    let report = doorstep::bench::sweep::run(&cfg, &b).await.unwrap();
    let rows: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("| 999000"))
        .collect();
    assert_eq!(rows.len(), 2, "{report}");
    for row in rows {
        // Seed, day and window, then the two lists' three scores, each a share.
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        for list in [cells[3], cells[4]] {
            let scores: Vec<f64> = list.split(" / ").map(|v| v.parse().unwrap()).collect();
            assert_eq!(scores.len(), 3, "{row}");
            assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)), "{row}");
        }
    }
    assert!(report.contains("goals met (of 2)"), "{report}");
    for seed in [9_990_001, 9_990_002] {
        let company =
            url.rsplit_once('/').unwrap().0.to_owned() + &format!("/doorstep_sweep_{seed}");
        assert!(
            !Postgres::database_exists(&company).await.unwrap(),
            "{company} dropped"
        );
    }
    // Out of bounds: refused before anything is seeded.
    let none = doorstep::bench::sweep::SweepBench {
        companies: 0,
        ..b.clone()
    };
    let e = doorstep::bench::sweep::run(&cfg, &none).await.unwrap_err();
    assert!(e.to_string().contains("--companies"), "{e}");
    let last = doorstep::bench::sweep::SweepBench {
        first_seed: u64::MAX,
        ..b
    };
    let e = doorstep::bench::sweep::run(&cfg, &last).await.unwrap_err();
    assert!(e.to_string().contains("--first-seed"), "{e}");
}
