//! SQL for customers: insert, fetch, update, search.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::Customer;
use crate::domain::phone::Phone;
use crate::pagination::PageRequest;

pub(crate) const COLUMNS: &str =
    "customer_id, name, phone, address, notes, label_consent_at, label_consent_method, \
                       do_not_contact, do_not_contact_at, created_at, updated_at";

/// Fields of a customer as a request or an import row gives them, before checking.
#[derive(Debug, Clone)]
pub struct CustomerDraft {
    /// The name as typed.
    pub name: String,
    /// The phone number as typed.
    pub phone: Option<String>,
    /// The address as typed.
    pub address: Option<String>,
    /// Free notes.
    pub notes: String,
    /// When consent to a door label was given.
    pub label_consent_at: Option<DateTime<Utc>>,
    /// How consent was given.
    pub label_consent_method: Option<String>,
    /// Never on call lists or exports.
    pub do_not_contact: bool,
}

/// Fields of a customer as validated by `check_fields`, ready to store.
#[derive(Debug, Clone)]
pub struct CustomerFields {
    /// The name, trimmed.
    pub name: String,
    /// The checked phone number.
    pub phone: Option<Phone>,
    /// The address, trimmed.
    pub address: Option<String>,
    /// Free notes.
    pub notes: String,
    /// When consent to a door label was given.
    pub label_consent_at: Option<DateTime<Utc>>,
    /// How consent was given.
    pub label_consent_method: Option<String>,
    /// Never on call lists or exports.
    pub do_not_contact: bool,
}

/// Inserts a checked customer.
pub async fn insert_customer(
    db: impl PgExecutor<'_>,
    id: Uuid,
    f: &CustomerFields,
) -> sqlx::Result<Customer> {
    sqlx::query_as(&format!(
        "insert into customer (customer_id, name, phone, address, notes, label_consent_at, label_consent_method,
                               do_not_contact, do_not_contact_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, case when $8 then now() end)
         returning {COLUMNS}"
    ))
    .bind(id)
    .bind(&f.name)
    .bind(&f.phone)
    .bind(&f.address)
    .bind(&f.notes)
    .bind(f.label_consent_at)
    .bind(&f.label_consent_method)
    .bind(f.do_not_contact)
    .fetch_one(db)
    .await
}

/// A customer by id.
pub async fn fetch_customer(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Customer>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from customer where customer_id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Locks the row for a read-modify-write update.
pub async fn fetch_customer_for_update(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> sqlx::Result<Option<Customer>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from customer where customer_id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Writes a customer's checked fields; the do-not-contact time follows the flag.
pub async fn update_customer(
    db: impl PgExecutor<'_>,
    id: Uuid,
    f: &CustomerFields,
) -> sqlx::Result<Customer> {
    sqlx::query_as(&format!(
        "update customer set name = $2, phone = $3, address = $4, notes = $5, label_consent_at = $6,
                label_consent_method = $7, do_not_contact = $8,
                do_not_contact_at = case when not $8 then null else coalesce(do_not_contact_at, now()) end,
                updated_at = now()
          where customer_id = $1
         returning {COLUMNS}"
    ))
    .bind(id)
    .bind(&f.name)
    .bind(&f.phone)
    .bind(&f.address)
    .bind(&f.notes)
    .bind(f.label_consent_at)
    .bind(&f.label_consent_method)
    .bind(f.do_not_contact)
    .fetch_one(db)
    .await
}

/// Customers whose name or address contains `q`, or whose phone contains its digits; by name.
pub async fn search_customers(
    db: impl PgExecutor<'_>,
    q: Option<&str>,
    page: PageRequest,
) -> sqlx::Result<Vec<Customer>> {
    let pattern = q.map(|q| format!("%{}%", escape_like(&q.to_lowercase())));
    let digits = q
        .map(|q| q.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|d| d.len() >= 3);
    sqlx::query_as(&format!(
        "select {COLUMNS} from customer
          where $1::text is null
             or lower(name) like $1 or lower(address) like $1
             or ($2::text is not null and regexp_replace(phone, '[^0-9]', '', 'g') like '%' || $2 || '%')
          order by name, customer_id
          limit $3 offset $4"
    ))
    .bind(pattern)
    .bind(digits)
    .bind(page.fetch())
    .bind(page.offset)
    .fetch_all(db)
    .await
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Whether the customer exists (for child resources).
pub async fn customer_exists(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from customer where customer_id = $1)")
        .bind(id)
        .fetch_one(db)
        .await
}

/// Locks a customer against deletion for the rest of the transaction; false when there is no such customer.
pub async fn lock_customer(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from customer where customer_id = $1 for share)")
        .bind(id)
        .fetch_one(db)
        .await
}
