//! SQL of `doorstep import`: staging tables filled by COPY, set-based checks there, the pickup rollups of many
//! pickups in one statement (for the demo), and the import lock.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::Counts;

/// Makes this session's staging schema (`import_stage_<backend pid>`, unlogged tables, so that the chunk
/// writers' other sessions and the server's parallel workers can read them) and its staging tables; drops the
/// schemas of imports whose session is gone. Answers the schema's name, for [`join`] and [`drop_stage`].
pub async fn prepare(conn: &mut PgConnection) -> sqlx::Result<String> {
    let stale: Vec<String> = sqlx::query_scalar(
        "select nspname::text from pg_namespace
          where nspname ~ '^import_stage_[0-9]{1,9}$'
            and substring(nspname from 14)::int not in (select pid from pg_stat_activity)",
    )
    .fetch_all(&mut *conn)
    .await?;
    for schema in stale {
        drop_stage(&mut *conn, &schema).await?;
    }
    let schema: String = sqlx::query_scalar("select 'import_stage_' || pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(&format!("create schema {schema}"))
        .execute(&mut *conn)
        .await?;
    join(conn, &schema).await?;
    for sql in [
        "create unlogged table import_customer (
             line bigint not null, external_id text not null, bad boolean not null,
             name text, phone text, address text, notes text, consent_at timestamptz, consent_method text,
             dnc boolean)",
        "create unlogged table import_garment (
             line bigint not null, external_id text not null, bad boolean not null, customer_ext text,
             category text, kind text, season_class text, brand text, cut text, size text, special_size boolean,
             material text, colour text, tag_code text)",
        // How a line stands against the earlier lines of its pickup comes worked out from reading (`seen`).
        "create unlogged table import_line (
             line bigint not null, pickup_ext text not null, bad boolean not null, customer_ext text,
             collected_at timestamptz, garment_ext text, service text, price_cents bigint, condition_notes text,
             pos integer not null, first_line bigint not null, too_many boolean not null,
             other_customer boolean not null, other_time boolean not null, same_service boolean not null)",
        // What the checks make, empty until they run: a file not given checks nothing.
        "create unlogged table import_new_customer as
         select gen_random_uuid() as customer_id, external_id, line, name, phone, address, notes, consent_at,
                consent_method, dnc
           from import_customer where false",
        "create unlogged table import_new_garment as
         select gen_random_uuid() as garment_id, null::uuid as owner_id, external_id, line, category, kind,
                season_class, brand, cut, size, special_size, material, colour, tag_code
           from import_garment where false",
        "create unlogged table import_new_pickup as
         select gen_random_uuid() as pickup_id, null::uuid as customer_id, collected_at, line as seq, pickup_ext
           from import_line where false",
        "create unlogged table import_line_x as
         select l.*, null::uuid as garment_id, null::text as new_season_class, null::text as new_category
           from import_line l where false",
        "create unlogged table import_pickup_x as
         select pickup_ext, 0::bigint as n, false as existing, 0::bigint as wrong, 0::bigint as total,
                false as refused
           from import_line where false",
    ] {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(schema)
}

/// Settings of a session that works on the staging tables of `schema`: its tables come first by name.
pub async fn join(conn: &mut PgConnection, schema: &str) -> sqlx::Result<()> {
    for sql in [
        "set work_mem = '256MB'",
        // Compiling the staging statements took longer than it saved (half a second each at full size).
        "set jit = off",
        // Chunks commit without waiting for the disk: a crash loses at most the last chunks, and a rerun
        // imports them again (every row is keyed by its external id).
        "set synchronous_commit = off",
        // The staging statements join millions of rows and keep them all: with the default cost of passing a
        // row from a parallel worker, the planner never uses the second core for them (about 25% faster with).
        "set parallel_tuple_cost = 0.001",
        "set parallel_setup_cost = 10",
        &format!("set search_path = {schema}, public"),
    ] {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Drops an import's staging schema and everything in it.
pub async fn drop_stage(conn: &mut PgConnection, schema: &str) -> sqlx::Result<()> {
    sqlx::query(&format!("drop schema if exists {schema} cascade"))
        .execute(conn)
        .await?;
    Ok(())
}

/// The COPY statement that fills a staging table; rows come from [`crate::db::CopyRow`].
pub fn copy_statement(table: &str) -> String {
    let columns = match table {
        "import_customer" => {
            "line, external_id, bad, name, phone, address, notes, consent_at, consent_method, dnc"
        }
        "import_garment" => {
            "line, external_id, bad, customer_ext, category, kind, season_class, brand, cut, size, special_size, \
             material, colour, tag_code"
        }
        _ => {
            "line, pickup_ext, bad, customer_ext, collected_at, garment_ext, service, price_cents, condition_notes, \
             pos, first_line, too_many, other_customer, other_time, same_service"
        }
    };
    format!("copy {table} ({columns}) from stdin")
}

/// A staged row refused by a set-based check: its line and the problems found, in report order (`pre` before
/// the problems of its cells, `post` after).
#[derive(Debug)]
pub struct Refused {
    pub line: u64,
    pub pre: Vec<(String, String)>,
    pub post: Vec<(String, String)>,
}

/// Runs statements one after the other.
pub(super) async fn run(conn: &mut PgConnection, statements: &[&str]) -> sqlx::Result<()> {
    for sql in statements {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Checks the staged customers: repeated ids, ids already imported; good new rows get their customer id.
pub async fn check_customers(conn: &mut PgConnection) -> sqlx::Result<(Counts, Vec<Refused>)> {
    run(
        conn,
        &[
            "create unlogged table import_customer_x as
             select c.*, row_number() over w as rn, first_value(c.line) over w as first_line,
                    x.customer_id as existing_id
               from import_customer c left join customer x on x.external_id = c.external_id
             window w as (partition by c.external_id order by c.line)",
            "drop table import_new_customer",
            "create unlogged table import_new_customer as
             select time_ordered_uuid(line) as customer_id, external_id, line, name, phone, address, notes, consent_at,
                    consent_method, dnc
               from import_customer_x where rn = 1 and existing_id is null and not bad",
            "create unique index on import_new_customer (external_id)",
            "analyze import_new_customer",
        ],
    )
    .await?;
    let counts = counts(
        conn,
        "select count(*) filter (where rn = 1 and existing_id is null and not bad),
                count(*) filter (where rn = 1 and existing_id is not null),
                count(*) filter (where rn > 1 or (existing_id is null and bad)), 0::bigint
           from import_customer_x",
    )
    .await?;
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "select line, case when rn > 1 then first_line end from import_customer_x
          where rn > 1 or (existing_id is null and bad) order by line",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok((
        counts,
        rows.into_iter()
            .map(|(line, dup)| Refused {
                line: line as u64,
                pre: dup.map(appears_again).into_iter().collect(),
                post: Vec::new(),
            })
            .collect(),
    ))
}

fn appears_again(first: i64) -> (String, String) {
    (
        "external_id".into(),
        format!("appears again: first on line {first}"),
    )
}

fn unknown(column: &str, noun: &str, id: &str) -> (String, String) {
    (
        column.into(),
        format!("no {noun} has external id '{id}' (in the database or earlier in this import)"),
    )
}

/// Checks the staged garments: repeated ids, ids already imported, unknown owners, tags already on a garment.
pub async fn check_garments(conn: &mut PgConnection) -> sqlx::Result<(Counts, Vec<Refused>)> {
    run(
        conn,
        &[
            "create unlogged table import_garment_x as
             select g.*, row_number() over w as rn, first_value(g.line) over w as first_line,
                    x.garment_id as existing_id, coalesce(c.customer_id, nc.customer_id) as owner_id
               from import_garment g
               left join garment x on x.external_id = g.external_id
               left join customer c on c.external_id = g.customer_ext
               left join import_new_customer nc on nc.external_id = g.customer_ext
             window w as (partition by g.external_id order by g.line)",
            // A tag on a garment in the database, or on an earlier new garment of the file, is taken.
            "create unlogged table import_garment_y as
             select g.*, g.tag_code is not null and (t.garment_id is not null or g.tag_rn > 1) as tag_taken
               from (select g.*, row_number() over (partition by g.tag_code order by g.line) as tag_rn
                       from import_garment_x g
                      where g.rn = 1 and g.existing_id is null and not g.bad and g.owner_id is not null) g
               left join garment t on t.tag_code = g.tag_code",
            "drop table import_new_garment",
            "create unlogged table import_new_garment as
             select time_ordered_uuid(line) as garment_id, owner_id, external_id, line, category, kind, season_class,
                    brand, cut, size, special_size, material, colour, tag_code
               from import_garment_y where not tag_taken",
            "create unique index on import_new_garment (external_id)",
            "create index on import_new_garment (owner_id)",
            "analyze import_new_garment",
        ],
    )
    .await?;
    let counts = counts(
        conn,
        "select (select count(*) from import_new_garment),
                count(*) filter (where rn = 1 and existing_id is not null),
                count(*) filter (where rn > 1 or existing_id is null) - (select count(*) from import_new_garment),
                0::bigint
           from import_garment_x",
    )
    .await?;
    type Row = (i64, Option<i64>, Option<String>, bool, bool);
    let rows: Vec<Row> = sqlx::query_as(
        "select x.line, case when x.rn > 1 then x.first_line end,
                case when x.customer_ext is not null and x.owner_id is null then x.customer_ext end,
                coalesce(y.tag_taken, false), x.bad
           from import_garment_x x left join import_garment_y y using (line)
          where x.rn > 1 or (x.existing_id is null and (x.bad or x.owner_id is null or y.tag_taken))
          order by x.line",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok((
        counts,
        rows.into_iter()
            .map(|(line, dup, customer, tag, _)| {
                let mut post = Vec::new();
                if let Some(c) = customer {
                    post.push(unknown("customer_external_id", "customer", &c));
                }
                if tag {
                    post.push((
                        "tag_code".into(),
                        "this garment tag is already on another garment".into(),
                    ));
                }
                Refused {
                    line: line as u64,
                    pre: dup.map(appears_again).into_iter().collect(),
                    post,
                }
            })
            .collect(),
    ))
}

/// Checks the staged pickup lines in sets: references resolve, pickups already imported are skipped whole, and a
/// pickup with a line refused (here or while reading, see `seen`) is refused whole. Answers line counts,
/// pickup counts and the refused lines.
pub async fn check_pickups(
    conn: &mut PgConnection,
    max_lines: i64,
) -> sqlx::Result<(Counts, Counts, Vec<Refused>)> {
    run(
        conn,
        &[
            "analyze import_line",
            "drop table import_line_x",
            "create unlogged table import_line_x as
             select y.*, y.customer_ext is not null and y.customer_id is null as unknown_customer,
                    y.garment_ext is not null and y.garment_id is null as unknown_garment,
                    y.garment_id is not null and y.customer_id is not null and y.garment_owner <> y.customer_id
                        as others_garment
               from (select l.*, coalesce(c.customer_id, nc.customer_id) as customer_id,
                            coalesce(g.garment_id, ng.garment_id) as garment_id,
                            coalesce(g.customer_id, ng.owner_id) as garment_owner,
                            ng.season_class as new_season_class, ng.category as new_category,
                            x.pickup_id is not null as existing
                       from import_line l
                       left join customer c on c.external_id = l.customer_ext
                       left join import_new_customer nc on nc.external_id = l.customer_ext
                       left join garment g on g.external_id = l.garment_ext
                       left join import_new_garment ng on ng.external_id = l.garment_ext
                       left join pickup x on x.external_id = l.pickup_ext) y",
            "drop table import_pickup_x",
            // Per pickup: its lines, those refused, and what its lines cost (the spend rollup's total).
            "create unlogged table import_pickup_x as
             select p.*, p.wrong > 0 as refused
               from (select pickup_ext, count(*) as n, bool_or(existing) as existing,
                            count(*) filter (where bad or too_many or other_customer or other_time or same_service
                                             or unknown_customer or unknown_garment or others_garment) as wrong,
                            coalesce(sum(price_cents), 0)::bigint as total
                       from import_line_x group by pickup_ext) p",
            "drop table import_new_pickup",
            "create unlogged table import_new_pickup as
             select time_ordered_uuid(l.line) as pickup_id, l.customer_id, l.collected_at, l.line as seq, p.pickup_ext
               from import_line_x l join import_pickup_x p using (pickup_ext)
              where l.pos = 1 and not p.existing and not p.refused",
            "create index on import_new_pickup (customer_id)",
            "analyze import_new_pickup",
        ],
    )
    .await?;
    let lines = counts(
        conn,
        "select coalesce(sum(n) filter (where not existing and not refused), 0)::bigint,
                coalesce(sum(n) filter (where existing), 0)::bigint,
                coalesce(sum(wrong) filter (where not existing), 0)::bigint,
                coalesce(sum(n - wrong) filter (where not existing and refused), 0)::bigint
           from import_pickup_x",
    )
    .await?;
    let pickups = counts(
        conn,
        "select count(*) filter (where not existing and not refused), count(*) filter (where existing),
                count(*) filter (where not existing and refused), 0::bigint
           from import_pickup_x",
    )
    .await?;
    type Row = (i64, i64, Option<String>, Option<String>, Vec<bool>);
    if lines.rejected == 0 {
        return Ok((lines, pickups, Vec::new()));
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select l.line, l.first_line, l.customer_ext, l.garment_ext,
                array[l.too_many, l.other_customer, l.other_time, l.same_service, l.unknown_customer,
                      l.unknown_garment, l.others_garment]
           from import_line_x l join import_pickup_x p using (pickup_ext)
          where not p.existing and (l.bad or l.too_many or l.other_customer or l.other_time or l.same_service
                or l.unknown_customer or l.unknown_garment or l.others_garment)
          order by l.line",
    )
    .fetch_all(&mut *conn)
    .await?;
    let refused = rows
        .into_iter()
        .map(|(line, first, customer, garment, flags)| {
            let flag = |i: usize| flags.get(i).copied().unwrap_or(false);
            let differs = format!("differs from line {first}, the first line of this pickup");
            let mut post = Vec::new();
            if flag(0) {
                post.push((
                    "pickup_external_id".into(),
                    format!("a pickup has at most {max_lines} lines"),
                ));
            }
            if flag(1) {
                post.push(("customer_external_id".into(), differs.clone()));
            }
            if flag(2) {
                post.push(("collected_at".into(), differs));
            }
            if flag(3) {
                post.push((
                    "service".into(),
                    "this garment already has this service in this pickup".into(),
                ));
            }
            if flag(4) {
                post.push(unknown(
                    "customer_external_id",
                    "customer",
                    customer.as_deref().unwrap_or(""),
                ));
            }
            let g = garment.as_deref().unwrap_or("");
            if flag(5) {
                post.push(unknown("garment_external_id", "garment", g));
            }
            if flag(6) {
                post.push((
                    "garment_external_id".into(),
                    format!("garment '{g}' belongs to another customer"),
                ));
            }
            Refused {
                line: line as u64,
                pre: Vec::new(),
                post,
            }
        })
        .collect();
    Ok((lines, pickups, refused))
}

async fn counts(conn: &mut PgConnection, sql: &str) -> sqlx::Result<Counts> {
    let (inserted, already, rejected, skipped): (i64, i64, i64, i64) =
        sqlx::query_as(sql).fetch_one(&mut *conn).await?;
    Ok(Counts {
        read: (inserted + already + rejected + skipped) as u64,
        inserted: inserted as u64,
        already_imported: already as u64,
        rejected: rejected as u64,
        skipped: skipped as u64,
    })
}

/// The end of a statement that folds a `totals (customer_id, seq, collected_at, total)` CTE of new pickups into
/// `customer_stats`, pickup by pickup in `seq` order (the demo's, the seed's and the import's bulk rollups share
/// it).
/// Both CTEs are materialized: estimated at a row or two, `folded` was rescanned (its sort and fold redone) for
/// every customer of a seed batch at a million customers. The kept rows are looked up by an id array, so the
/// planner probes the key instead of hashing the whole table when it guesses the batch large.
pub const SPEND_FOLD: &str = "folded as materialized (
             select customer_id, spend_fold(recent, long, at_ order by ord) as f
               from (select s.customer_id, 0::bigint as ord, s.recent_spend as recent, s.long_spend as long,
                            s.last_pickup_at as at_
                       from customer_stats s
                      where s.customer_id = any(array(select distinct customer_id from totals))
                     union all
                     select customer_id, seq, total::float8, total::float8, collected_at from totals) x
              group by customer_id
         ), per_customer as materialized (
             select customer_id, min(collected_at) as first_at, max(collected_at) as last_at,
                    count(*)::int as n, sum(total)::bigint as spend
               from totals group by customer_id
         )
         insert into customer_stats as cs
                (customer_id, first_pickup_at, last_pickup_at, pickups, spend_cents, recent_spend, long_spend)
         select c.customer_id, c.first_at, c.last_at, c.n, c.spend, (f.f).recent_sum, (f.f).long_sum
           from per_customer c join folded f using (customer_id)
         on conflict (customer_id) do update set
             first_pickup_at = least(cs.first_pickup_at, excluded.first_pickup_at),
             last_pickup_at = greatest(cs.last_pickup_at, excluded.last_pickup_at),
             pickups = cs.pickups + excluded.pickups,
             spend_cents = cs.spend_cents + excluded.spend_cents,
             recent_spend = excluded.recent_spend,
             long_spend = excluded.long_spend";

/// The rollups of many pickups, already inserted with their lines, applied in one statement in the order given,
/// leaving exactly what one `pickups::db::record_visit` call per pickup in that order leaves: each garment's
/// times cleaned, last cleaning and last price; which season classes each pickup held; each customer's spend
/// rollup with its decayed sums (folded pickup by pickup by the `spend_fold` aggregate); and, when the caller
/// has set `doorstep.intake_kept_by_writer` (its pickups new, with all their lines), the intake series. The
/// demo's and the seed's bulk path; the import stages the same rollups (`chunks::apply_chunk_rollups`): change
/// both together with `record_visit`.
pub async fn apply_pickup_rollups(
    db: impl PgExecutor<'_>,
    customer_ids: &[Uuid],
    pickup_ids: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "with batch as (
             select b.customer_id, b.pickup_id, b.seq, p.collected_at
               from unnest($1::uuid[], $2::uuid[]) with ordinality as b(customer_id, pickup_id, seq)
               join pickup p on p.customer_id = b.customer_id and p.pickup_id = b.pickup_id
         ), lines as materialized (
             select b.customer_id, b.pickup_id, b.seq, b.collected_at, pl.line_no, pl.garment_id, pl.service,
                    pl.price_cents
               from batch b
               join pickup_line pl on pl.customer_id = b.customer_id and pl.pickup_id = b.pickup_id
         ), cleanings as (
             select customer_id, garment_id, pickup_id, seq, collected_at, sum(price_cents)::bigint as price_cents
               from lines where is_cleaning(service)
              group by customer_id, garment_id, pickup_id, seq, collected_at
         ), per_garment as (
             select distinct on (customer_id, garment_id) customer_id, garment_id,
                    count(*) over (partition by customer_id, garment_id) as n, collected_at, price_cents
               from cleanings
              order by customer_id, garment_id, collected_at desc, seq desc
         ), garments as (
             update garment g
                set times_cleaned = g.times_cleaned + pg.n,
                    last_price_cents = case when g.last_cleaned_at is null or pg.collected_at >= g.last_cleaned_at
                                            then pg.price_cents else g.last_price_cents end,
                    last_cleaned_at = greatest(g.last_cleaned_at, pg.collected_at)
               from per_garment pg
              where g.customer_id = pg.customer_id and g.garment_id = pg.garment_id
         ), classes as (
             insert into pickup_class (customer_id, season_class, collected_at, pickup_id, garments)
             select l.customer_id, g.season_class, l.collected_at, l.pickup_id, count(distinct l.garment_id)
               from lines l join garment g on g.customer_id = l.customer_id and g.garment_id = l.garment_id
              where is_cleaning(l.service)
              group by 1, 2, 3, 4
             on conflict do nothing
         ), intake as (
             -- A writer whose pickups are all new with every line (the seed) keeps the intake series itself,
             -- and has told the line trigger so (migration 20261202001600).
             insert into intake_hour_change (hour, season_class, category, garments)
             select date_trunc('hour', l.collected_at), g.season_class, g.category, count(*)
               from (select distinct customer_id, pickup_id, garment_id, collected_at from lines) l
               join garment g on g.customer_id = l.customer_id and g.garment_id = l.garment_id
              where current_setting('doorstep.intake_kept_by_writer', true) = 'on'
              group by 1, 2, 3
         ), totals as (
             -- Each pickup's total read through the line index, not by joining the two CTEs: the planner
             -- takes the batch for one row (two join keys), and at a million customers it joined them by a
             -- nested loop, about 18,000 x 60,000 comparisons a batch (74 s).
             select b.customer_id, b.seq, b.collected_at,
                    (select coalesce(sum(pl.price_cents), 0)::bigint from pickup_line pl
                      where pl.customer_id = b.customer_id and pl.pickup_id = b.pickup_id) as total
               from batch b
         ), {SPEND_FOLD}"
    ))
    .bind(customer_ids)
    .bind(pickup_ids)
    .execute(db)
    .await?;
    Ok(())
}

/// The advisory lock that serialises imports into one database ("doorstep" in ASCII).
const IMPORT_LOCK: i64 = 0x646f_6f72_7374_6570;

/// Takes the import lock if it is free; false when another import holds it.
pub async fn try_lock(db: impl PgExecutor<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar("select pg_try_advisory_lock($1)")
        .bind(IMPORT_LOCK)
        .fetch_one(db)
        .await
}

/// Waits for the import lock.
pub async fn lock(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_lock($1)")
        .bind(IMPORT_LOCK)
        .execute(db)
        .await?;
    Ok(())
}

/// Releases the import lock; without it the next import waits while this session drops its staging tables on
/// closing.
pub async fn unlock(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(IMPORT_LOCK)
        .execute(db)
        .await?;
    Ok(())
}

/// The lock's key, for tests and tools that must wait for imports.
pub const fn import_lock_key() -> i64 {
    IMPORT_LOCK
}

/// Username of the account imported pickups are recorded by.
pub const IMPORT_STAFF: &str = "import";

/// The import's staff account: created inactive with a hash no password matches, so nobody can sign in as it.
pub async fn import_staff(db: impl PgExecutor<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "with ins as (
             insert into staff (staff_id, username, display_name, role, password_hash, active)
             values ($1, $2, 'History import', 'pickup', '!', false)
             on conflict (username) do nothing
             returning staff_id
         )
         select staff_id from ins
         union all
         select staff_id from staff where username = $2
         limit 1",
    )
    .bind(Uuid::new_v4())
    .bind(IMPORT_STAFF)
    .fetch_one(db)
    .await
}

/// Records what one file of a committed import did, for `/metrics`.
pub async fn record_run(conn: &mut PgConnection, file: &str, rows: &Counts) -> sqlx::Result<()> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    sqlx::query(
        "insert into import_run (file, rows_read, inserted, already_imported, rejected) values ($1, $2, $3, $4, $5)",
    )
    .bind(file)
    .bind(n(rows.read))
    .bind(n(rows.inserted))
    .bind(n(rows.already_imported))
    .bind(n(rows.rejected))
    .execute(conn)
    .await?;
    Ok(())
}
