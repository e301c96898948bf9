//! Moves of the checked rows: the chunk plan and each chunk's inserts with its rollups, all read from staging.

use sqlx::PgConnection;
use uuid::Uuid;

use super::db::run;

/// Splits the good new rows into chunks of about `size` rows (customers, garments and pickup lines), whole
/// customers each, in customer order, and stages what every chunk writes, its garment rollups and pickup totals
/// included; answers the number of chunks.
pub async fn plan_chunks(conn: &mut PgConnection, size: i64) -> sqlx::Result<i64> {
    // A literal, not a parameter: CREATE TABLE AS takes none.
    sqlx::query(&format!(
        "create unlogged table import_chunk as
         select customer_id, dense_rank() over (order by raw_chunk) - 1 as chunk
           from (select customer_id, ((sum(w) over (order by customer_id))::bigint - 1) / {} as raw_chunk
           from (select customer_id, sum(w) as w
                   from (select customer_id, 1::bigint as w from import_new_customer
                         union all select owner_id, 1 from import_new_garment
                         union all select p.customer_id, x.n from import_new_pickup p
                                     join import_pickup_x x using (pickup_ext)) a
                  group by customer_id) b) c",
        size.max(1)
    ))
    .execute(&mut *conn)
    .await?;
    run(
        conn,
        &[
            "create unique index on import_chunk (customer_id)",
            "analyze import_chunk",
            // Every move table is written in chunk order, so that a chunk's rows are on pages of their own
            // instead of spread over the whole table (each chunk read most of it three times).
            "create unlogged table import_move_line as
             select c.chunk, p.customer_id, p.pickup_id, l.pos as line_no, l.garment_id, l.service,
                    l.price_cents, l.condition_notes, p.seq, p.collected_at, l.new_season_class, l.new_category
               from import_line_x l join import_new_pickup p using (pickup_ext)
               join import_chunk c on c.customer_id = p.customer_id
              order by c.chunk, p.customer_id, p.pickup_id, l.pos",
            "create index on import_move_line (chunk)",
            "analyze import_move_line",
            "create unlogged table import_move_pickup as
             select c.chunk, p.customer_id, p.pickup_id, p.collected_at, p.seq, p.pickup_ext, x.total
               from import_new_pickup p join import_chunk c using (customer_id)
               join import_pickup_x x using (pickup_ext)
              order by c.chunk, p.customer_id, p.pickup_id",
            "create index on import_move_pickup (chunk)",
            "analyze import_move_pickup",
            // Each garment's cleanings in this import folded at once, as one record_visit call per pickup in
            // file order would leave them (the last cleaning by time, then by file order, sets the price); a
            // garment's lines all fall in its owner's chunk. Hashed, not sorted: the largest array is the last.
            "create unlogged table import_move_garment as
             select r.*, ng.garment_id is not null as new
               from (select k.chunk, k.customer_id, k.garment_id, count(*)::int as n,
                            max(k.collected_at) as collected_at,
                            (max(array[(extract(epoch from k.collected_at) * 1000000)::bigint, k.seq,
                                       k.price_cents]))[3] as price_cents
                       from (select chunk, customer_id, garment_id, seq, min(collected_at) as collected_at,
                                    sum(price_cents)::bigint as price_cents
                               from import_move_line where is_cleaning(service)
                              group by chunk, customer_id, garment_id, seq) k
                      group by k.chunk, k.customer_id, k.garment_id) r
               left join import_new_garment ng using (garment_id)",
            "create index on import_move_garment (chunk) where not new",
            "analyze import_move_garment",
            // New garments with their chunk and rollups, ready to insert.
            "create unlogged table import_move_new_garment as
             select c.chunk, g.owner_id, g.garment_id, g.category, g.kind, g.season_class, g.brand, g.cut, g.size,
                    g.special_size, g.material, g.colour, g.tag_code, g.external_id, coalesce(r.n, 0) as n,
                    r.collected_at, r.price_cents
               from import_new_garment g join import_chunk c on c.customer_id = g.owner_id
               left join import_move_garment r using (garment_id)
              order by c.chunk, g.owner_id, g.garment_id",
            "create index on import_move_new_garment (chunk)",
            "analyze import_move_new_garment",
        ],
    )
    .await?;
    let chunks: Option<i64> = sqlx::query_scalar("select max(chunk) + 1 from import_chunk")
        .fetch_one(&mut *conn)
        .await?;
    Ok(chunks.unwrap_or(0))
}

/// Rows one chunk wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Moved {
    pub customers: u64,
    pub garments: u64,
    pub pickups: u64,
    pub lines: u64,
}

/// Moves one chunk's good rows into the tables, one statement per table, and applies its rollups: new garments
/// are written with theirs, garments already in the database are updated. Run it inside a transaction: the chunk
/// commits whole or not at all.
pub async fn move_chunk(
    conn: &mut PgConnection,
    chunk: i64,
    staff_id: Uuid,
) -> sqlx::Result<Moved> {
    // The chunk is a literal so every statement is planned for its own rows (and not kept prepared); the staff
    // id is a parameter.
    let exec = |sql: &str| sql.replace("$chunk", &chunk.to_string());
    // Every customer the chunk writes to is in it: logged for the kept lists once, not by each statement's
    // trigger (migration 20261203000100).
    once("set local doorstep.list_change_by_writer = 'on'")
        .execute(&mut *conn)
        .await?;
    once(&exec(
        "insert into list_change (customer_id) select customer_id from import_chunk where chunk = $chunk",
    ))
    .execute(&mut *conn)
    .await?;
    let customers = once(&exec(
        "insert into customer (customer_id, name, phone, address, notes, label_consent_at, label_consent_method,
                               do_not_contact, do_not_contact_at, external_id)
         select n.customer_id, n.name, n.phone, n.address, n.notes, n.consent_at, n.consent_method, n.dnc,
                case when n.dnc then now() end, n.external_id
           from import_new_customer n join import_chunk c using (customer_id)
          where c.chunk = $chunk
          order by n.customer_id",
    ))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let garments = once(&exec(
        "insert into garment (customer_id, garment_id, category, kind, season_class, brand, cut, size,
                              special_size, material, colour, tag_code, external_id, times_cleaned,
                              last_cleaned_at, last_price_cents)
         select owner_id, garment_id, category, kind, season_class, brand, cut, size, special_size, material,
                colour, tag_code, external_id, n, collected_at, price_cents
           from import_move_new_garment
          where chunk = $chunk
          order by owner_id, garment_id",
    ))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let pickups = once(&exec(
        "insert into pickup (customer_id, pickup_id, staff_id, collected_at, notes, external_id)
         select customer_id, pickup_id, $1, collected_at, '', pickup_ext
           from import_move_pickup where chunk = $chunk
          order by customer_id, pickup_id",
    ))
    .bind(staff_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // The pickups are new, so each (pickup, garment) pair of the chunk counts once in the kept intake series:
    // appended here from staging instead of by the line trigger's lookups (migration 20261202001600).
    once("set local doorstep.intake_kept_by_writer = 'on'")
        .execute(&mut *conn)
        .await?;
    let lines = once(&exec(
        "insert into pickup_line (customer_id, pickup_id, line_no, garment_id, service, price_cents, condition_notes)
         select customer_id, pickup_id, line_no, garment_id, service, price_cents, coalesce(condition_notes, '')
           from import_move_line where chunk = $chunk
          order by customer_id, pickup_id, line_no",
    ))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if pickups > 0 {
        apply_chunk_rollups(conn, &exec).await?;
        once(&exec(
            "insert into intake_hour_change (hour, season_class, category, garments)
             select date_trunc('hour', l.collected_at),
                    coalesce(l.new_season_class, (select g.season_class from garment g
                                                   where g.customer_id = l.customer_id and g.garment_id = l.garment_id)),
                    coalesce(l.new_category, (select g.category from garment g
                                               where g.customer_id = l.customer_id and g.garment_id = l.garment_id)),
                    count(*)
               from (select distinct customer_id, pickup_id, garment_id, collected_at, new_season_class, new_category
                       from import_move_line where chunk = $chunk) l
              group by 1, 2, 3",
        ))
        .execute(&mut *conn)
        .await?;
    }
    // The chunk's customers' kept door cards are emptied, as the trigger would have (migration 20261206000200);
    // last, so the card rows are the chunk's last locks.
    once(&exec(
        "insert into customer_card as k (customer_id, version)
         select distinct i.customer_id, pg_current_xact_id()::text::bigint
           from import_chunk i join customer c using (customer_id)
          where i.chunk = $chunk
          order by i.customer_id
         on conflict (customer_id) do update set version = excluded.version, changed_at = now(), body = null
          where k.version <> excluded.version",
    ))
    .execute(&mut *conn)
    .await?;
    Ok(Moved {
        customers,
        garments,
        pickups,
        lines,
    })
}

/// The rollups of a chunk's pickups, leaving exactly what one `pickups::db::record_visit` call per pickup in
/// file order leaves (as `db::apply_pickup_rollups` does for the demo): garments already in the database get
/// their cleanings added, each pickup its season classes, each customer its spend folded pickup by pickup.
/// Change it together with `record_visit`.
async fn apply_chunk_rollups(
    conn: &mut PgConnection,
    exec: &impl Fn(&str) -> String,
) -> sqlx::Result<()> {
    let fold = format!(
        "with totals as (
             select customer_id, seq, collected_at, total from import_move_pickup where chunk = $chunk
         ), {}",
        super::db::SPEND_FOLD
    );
    for sql in [
        "update garment g
            set times_cleaned = g.times_cleaned + r.n,
                last_price_cents = case when g.last_cleaned_at is null or r.collected_at >= g.last_cleaned_at
                                        then r.price_cents else g.last_price_cents end,
                last_cleaned_at = greatest(g.last_cleaned_at, r.collected_at)
           from import_move_garment r
          where r.chunk = $chunk and not r.new and g.customer_id = r.customer_id and g.garment_id = r.garment_id",
        // A garment of this import has its class staged, one already in the database is looked up; the
        // pickups are new, so no class of theirs is there yet.
        "insert into pickup_class (customer_id, season_class, collected_at, pickup_id, garments)
         select customer_id, season_class, collected_at, pickup_id, count(distinct garment_id)
           from (select l.customer_id, l.garment_id, l.collected_at, l.pickup_id,
                        coalesce(l.new_season_class,
                                 (select g.season_class from garment g
                                   where g.customer_id = l.customer_id and g.garment_id = l.garment_id))
                            as season_class
                   from import_move_line l
                  where l.chunk = $chunk and is_cleaning(l.service)) l
          group by 1, 2, 3, 4",
        &fold,
    ] {
        once(&exec(sql)).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A statement run once, not kept in the connection's cache of prepared statements.
fn once(sql: &str) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sql).persistent(false)
}
