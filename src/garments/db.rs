//! SQL for garments and the wardrobe view (each garment with how often and when it was last cleaned).

use sqlx::PgExecutor;
use uuid::Uuid;

use super::{Garment, GarmentFields, WardrobeItem};
use crate::domain::code::TagCode;

const COLUMNS: &str =
    "customer_id, garment_id, category, kind, season_class, brand, cut, size, special_size, \
                       material, colour, tag_code, created_at, updated_at";

type GarmentQuery<'q> =
    sqlx::query::QueryAs<'q, sqlx::Postgres, Garment, sqlx::postgres::PgArguments>;

/// Binds the description fields as $3..$12, in the order insert and update both use.
fn bind_fields<'q>(query: GarmentQuery<'q>, f: &'q GarmentFields) -> GarmentQuery<'q> {
    query
        .bind(f.category)
        .bind(f.kind)
        .bind(f.season_class)
        .bind(&f.brand)
        .bind(&f.cut)
        .bind(&f.size)
        .bind(f.special_size)
        .bind(f.material)
        .bind(&f.colour)
        .bind(&f.tag_code)
}

/// Locks the garment for a read-modify-write update.
pub async fn fetch_garment_for_update(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    garment_id: Uuid,
) -> sqlx::Result<Option<Garment>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from garment where customer_id = $1 and garment_id = $2 for update"
    ))
    .bind(customer_id)
    .bind(garment_id)
    .fetch_optional(db)
    .await
}

/// Inserts a checked garment.
pub async fn insert_garment(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    garment_id: Uuid,
    f: &GarmentFields,
) -> sqlx::Result<Garment> {
    let sql = format!(
        "insert into garment (customer_id, garment_id, category, kind, season_class, brand, cut, size, special_size,
                              material, colour, tag_code)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         returning {COLUMNS}"
    );
    bind_fields(sqlx::query_as(&sql).bind(customer_id).bind(garment_id), f)
        .fetch_one(db)
        .await
}

/// A customer's garment by id.
pub async fn fetch_garment(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    garment_id: Uuid,
) -> sqlx::Result<Option<Garment>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from garment where customer_id = $1 and garment_id = $2"
    ))
    .bind(customer_id)
    .bind(garment_id)
    .fetch_optional(db)
    .await
}

/// The garment carrying a tag.
pub async fn fetch_garment_by_tag(
    db: impl PgExecutor<'_>,
    tag_code: &TagCode,
) -> sqlx::Result<Option<Garment>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from garment where tag_code = $1"
    ))
    .bind(tag_code)
    .fetch_optional(db)
    .await
}

/// Writes a garment's checked description.
pub async fn update_garment(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    garment_id: Uuid,
    f: &GarmentFields,
) -> sqlx::Result<Garment> {
    let sql = format!(
        "update garment set category = $3, kind = $4, season_class = $5, brand = $6, cut = $7, size = $8,
                special_size = $9, material = $10, colour = $11, tag_code = $12, updated_at = now()
          where customer_id = $1 and garment_id = $2
         returning {COLUMNS}"
    );
    bind_fields(sqlx::query_as(&sql).bind(customer_id).bind(garment_id), f)
        .fetch_one(db)
        .await
}

/// Recomputes which season classes the garment's pickups held, after its season class was corrected.
pub async fn refresh_pickup_classes(
    tx: &mut sqlx::PgConnection,
    customer_id: Uuid,
    garment_id: Uuid,
) -> sqlx::Result<()> {
    let pickups: Vec<Uuid> = sqlx::query_scalar(
        "select distinct pickup_id from pickup_line where customer_id = $1 and garment_id = $2",
    )
    .bind(customer_id)
    .bind(garment_id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("delete from pickup_class where customer_id = $1 and pickup_id = any($2)")
        .bind(customer_id)
        .bind(&pickups)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into pickup_class (customer_id, season_class, collected_at, pickup_id, garments)
         select pl.customer_id, g.season_class, p.collected_at, pl.pickup_id, count(distinct pl.garment_id)
           from pickup_line pl
           join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
           join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
          where pl.customer_id = $1 and pl.pickup_id = any($2) and is_cleaning(pl.service)
          group by 1, 2, 3, 4",
    )
    .bind(customer_id)
    .bind(&pickups)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Every garment of a customer with how many times it was cleaned and when last (the rollups intake keeps).
pub async fn wardrobe(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
) -> sqlx::Result<Vec<WardrobeItem>> {
    static SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| wardrobe_sql("g.customer_id = $1", ""));
    sqlx::query_as(&SQL).bind(customer_id).fetch_all(db).await
}

/// The wardrobes of many customers at once (the background card filler), each customer's garments together and
/// in [`wardrobe`]'s order.
pub async fn wardrobes(db: impl PgExecutor<'_>, ids: &[Uuid]) -> sqlx::Result<Vec<WardrobeItem>> {
    static SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| wardrobe_sql("g.customer_id = any($1)", "g.customer_id,"));
    sqlx::query_as(&SQL).bind(ids).fetch_all(db).await
}

fn wardrobe_sql(filter: &str, first: &str) -> String {
    format!(
        "select g.customer_id, g.garment_id, g.category, g.kind, g.season_class, g.brand, g.cut, g.size,
                g.special_size, g.material, g.colour, g.tag_code, g.created_at, g.updated_at,
                g.times_cleaned::bigint as times_cleaned, g.last_cleaned_at
           from garment g
          where {filter}
          order by {first}
                   array_position(array['winter', 'spring_autumn', 'summer', 'all_season'], g.season_class),
                   array_position(array['men', 'women', 'children'], g.category),
                   g.last_cleaned_at desc nulls last, g.created_at"
    )
}
