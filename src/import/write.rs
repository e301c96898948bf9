//! Writing checked rows in batches: a transaction per batch, and a savepoint per row once a batch fails.

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::db::{self, Table};
use super::parse::Problem;
use crate::customers::db::{insert_customer, CustomerFields};
use crate::garments::db::insert_garment;
use crate::garments::GarmentFields;
use crate::pickups::db::{insert_lines, insert_pickup, LineRow};

/// Where batches are written: committed one by one, or (dry run) inside one transaction rolled back at the end.
pub enum Scope {
    Live(PgPool),
    Dry(Transaction<'static, Postgres>),
}

impl Scope {
    pub async fn begin(pool: &PgPool, dry_run: bool) -> sqlx::Result<Scope> {
        Ok(if dry_run {
            Scope::Dry(pool.begin().await?)
        } else {
            Scope::Live(pool.clone())
        })
    }

    /// A transaction for one batch (a savepoint in a dry run); commit it to keep the batch.
    pub async fn batch(&mut self) -> sqlx::Result<Transaction<'_, Postgres>> {
        match self {
            Scope::Live(pool) => pool.begin().await,
            Scope::Dry(tx) => tx.begin().await,
        }
    }

    /// Ends the run; a dry run's writes are rolled back here.
    pub async fn finish(self) -> sqlx::Result<()> {
        match self {
            Scope::Live(_) => Ok(()),
            Scope::Dry(tx) => tx.rollback().await,
        }
    }
}

/// What became of one row (or one pickup) handed to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Inserted,
    /// Another run recorded the same external id first.
    AlreadyImported,
    Rejected(Problem),
}

/// A checked record that inserts itself through the service's SQL; its external id is recorded after.
pub trait Insert {
    const TABLE: Table;
    fn external_id(&self) -> &str;
    /// Inserts the record; answers (customer id, row id) for recording the external id.
    async fn insert(&self, conn: &mut PgConnection) -> sqlx::Result<(Uuid, Uuid)>;
}

pub struct NewCustomer {
    pub external_id: String,
    pub customer_id: Uuid,
    pub fields: CustomerFields,
}

impl Insert for NewCustomer {
    const TABLE: Table = Table::Customer;

    fn external_id(&self) -> &str {
        &self.external_id
    }

    async fn insert(&self, conn: &mut PgConnection) -> sqlx::Result<(Uuid, Uuid)> {
        insert_customer(&mut *conn, self.customer_id, &self.fields).await?;
        Ok((self.customer_id, self.customer_id))
    }
}

pub struct NewGarment {
    pub external_id: String,
    pub customer_id: Uuid,
    pub garment_id: Uuid,
    pub fields: GarmentFields,
}

impl Insert for NewGarment {
    const TABLE: Table = Table::Garment;

    fn external_id(&self) -> &str {
        &self.external_id
    }

    async fn insert(&self, conn: &mut PgConnection) -> sqlx::Result<(Uuid, Uuid)> {
        insert_garment(&mut *conn, self.customer_id, self.garment_id, &self.fields).await?;
        Ok((self.customer_id, self.garment_id))
    }
}

pub struct NewPickup {
    pub external_id: String,
    pub customer_id: Uuid,
    pub pickup_id: Uuid,
    pub staff_id: Uuid,
    pub collected_at: DateTime<Utc>,
    pub lines: Vec<LineRow>,
}

impl Insert for NewPickup {
    const TABLE: Table = Table::Pickup;

    fn external_id(&self) -> &str {
        &self.external_id
    }

    /// The pickup row, then every line through `insert_lines`, which keeps the garment and customer rollups.
    async fn insert(&self, conn: &mut PgConnection) -> sqlx::Result<(Uuid, Uuid)> {
        insert_pickup(
            &mut *conn,
            self.customer_id,
            self.pickup_id,
            self.staff_id,
            None,
            self.collected_at,
            "",
        )
        .await?;
        insert_lines(&mut *conn, self.customer_id, self.pickup_id, &self.lines).await?;
        Ok((self.customer_id, self.pickup_id))
    }
}

async fn insert_all<T: Insert>(conn: &mut PgConnection, items: &[T]) -> sqlx::Result<()> {
    let (mut owners, mut ids, mut external) = (Vec::new(), Vec::new(), Vec::new());
    for item in items {
        let (owner, id) = item.insert(conn).await?;
        owners.push(owner);
        ids.push(id);
        external.push(item.external_id().to_owned());
    }
    db::set_external_ids(&mut *conn, T::TABLE, &owners, &ids, &external).await?;
    Ok(())
}

/// Writes `items` in one savepoint; when the database refuses one of them, writes them again one savepoint
/// each, so the good ones are kept and each refused one gets its own outcome.
pub async fn write_all<T: Insert>(
    conn: &mut PgConnection,
    items: &[T],
) -> anyhow::Result<Vec<Outcome>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut batch = conn.begin().await?;
    match insert_all(&mut batch, items).await {
        Ok(()) => {
            batch.commit().await?;
            return Ok(items.iter().map(|_| Outcome::Inserted).collect());
        }
        Err(e) if row_failure(&e).is_some() => batch.rollback().await?,
        Err(e) => return Err(e.into()),
    }
    let mut outcomes = Vec::with_capacity(items.len());
    for item in items {
        let mut one = conn.begin().await?;
        match insert_all(&mut one, std::slice::from_ref(item)).await {
            Ok(()) => {
                one.commit().await?;
                outcomes.push(Outcome::Inserted);
            }
            Err(e) => match row_failure(&e) {
                Some(outcome) => {
                    one.rollback().await?;
                    outcomes.push(outcome);
                }
                None => return Err(e.into()),
            },
        }
    }
    Ok(outcomes)
}

/// A database refusal caused by the row itself (a constraint or bad data), as the row's outcome; any other
/// error (connection lost, deadlock) is not the row's fault and stops the import.
fn row_failure(e: &sqlx::Error) -> Option<Outcome> {
    let sqlx::Error::Database(d) = e else {
        return None;
    };
    let code = d.code()?;
    if !(code.starts_with("23") || code.starts_with("22")) {
        return None;
    }
    Some(match d.constraint() {
        Some(c) if c.ends_with("_external_id_key") => Outcome::AlreadyImported,
        Some("garment_tag_code_key") => Outcome::Rejected(Problem::new(
            "tag_code",
            "this garment tag is already on another garment",
        )),
        Some(c) => Outcome::Rejected(Problem::new(
            "row",
            format!("the database refused the row ({c})"),
        )),
        None => Outcome::Rejected(Problem::new(
            "row",
            format!("the database refused the row (SQLSTATE {code})"),
        )),
    })
}
