//! The door card kept as its packed JSON (`customer_card`): read whole by a scan, stored by a background writer.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::db;
pub use super::packed::Packed;
use crate::db::batcher::Batcher;
use crate::error::{AppError, AppResult};

/// Cards waiting to be stored at most; past this a built card is served but not kept (it is built again later).
const QUEUE: usize = 4_096;
/// Cards one statement stores at most.
const BATCH: usize = 256;

/// A card's JSON as serde_json wrote it: the text of one built now, or the packed text of a kept one. Answered
/// as it is, never parsed again; a kept card goes to a client that takes gzip without being inflated.
#[derive(Debug)]
pub enum CardJson {
    /// Built for this request.
    Text(String),
    /// Read from `customer_card`.
    Kept(Packed),
}

impl CardJson {
    /// `head` (a JSON object) with the card as its last field `name`: one copy of the card, no second pass. A
    /// kept card goes out as one gzip member when `gzip` (the client takes it), with nothing compressed now.
    pub fn inside(
        self,
        head: &impl serde::Serialize,
        name: &str,
        gzip: bool,
    ) -> AppResult<Response> {
        let mut out = serde_json::to_vec(head).map_err(|e| AppError::Internal(e.into()))?;
        if out.pop() != Some(b'}') {
            return Err(AppError::Internal(anyhow::anyhow!(
                "a card's head is not an object"
            )));
        }
        if out.len() > 1 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        self.answer(out, b"}", gzip)
    }

    /// The card alone, as `GET .../card` answers it.
    pub fn alone(self, gzip: bool) -> AppResult<Response> {
        self.answer(Vec::new(), b"", gzip)
    }

    fn answer(self, mut head: Vec<u8>, tail: &[u8], gzip: bool) -> AppResult<Response> {
        match self {
            CardJson::Kept(packed) if gzip => {
                let body = packed.gzip_between(&head, tail);
                return Ok((
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CONTENT_ENCODING, "gzip"),
                        (header::VARY, "accept-encoding"),
                    ],
                    body,
                )
                    .into_response());
            }
            // Inflated straight into the answer, after its head.
            CardJson::Kept(packed) => {
                if !packed.unpack_onto(&mut head) {
                    return Err(AppError::Internal(anyhow::anyhow!(
                        "a kept card does not inflate"
                    )));
                }
            }
            CardJson::Text(text) => head.extend_from_slice(text.as_bytes()),
        }
        head.extend_from_slice(tail);
        Ok(([(header::CONTENT_TYPE, "application/json")], head).into_response())
    }
}

/// The kept card of a customer, when nothing it shows has changed since it was built.
pub async fn kept(db: impl PgExecutor<'_>, customer_id: Uuid) -> sqlx::Result<Option<Packed>> {
    let body: Option<Vec<u8>> = sqlx::query_scalar(
        "select body from customer_card where customer_id = $1 and body is not null",
    )
    .bind(customer_id)
    .fetch_optional(db)
    .await?;
    Ok(body.and_then(Packed::from_stored))
}

/// What a door label's scan needs in one statement: whose label, whether revoked, and the kept card if fresh.
#[derive(Debug, sqlx::FromRow)]
pub struct LabelCard {
    /// The label's customer.
    pub customer_id: Uuid,
    /// When the label was revoked.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The customer's kept card (packed), when fresh.
    pub body: Option<Vec<u8>>,
}

/// A door label's customer with their kept card; `None` for an unknown code.
pub async fn by_label(db: impl PgExecutor<'_>, code: &str) -> sqlx::Result<Option<LabelCard>> {
    sqlx::query_as(
        "select l.customer_id, l.revoked_at, k.body
           from door_label l
           left join customer_card k on k.customer_id = l.customer_id and k.body is not null
          where l.code = $1",
    )
    .bind(code)
    .fetch_optional(db)
    .await
}

/// The customer's card as JSON: the kept one, or one built now (two statements) and handed to `keeper`.
pub async fn card_json(
    conn: &mut sqlx::PgConnection,
    keeper: &CardKeeper,
    customer_id: Uuid,
) -> AppResult<Option<CardJson>> {
    if let Some(packed) = kept(&mut *conn, customer_id).await? {
        return Ok(Some(CardJson::Kept(packed)));
    }
    built(conn, keeper, customer_id).await
}

/// The customer's card built now from the tables (two statements) and handed to `keeper`: for a caller that
/// already knows none is kept.
pub async fn built(
    conn: &mut sqlx::PgConnection,
    keeper: &CardKeeper,
    customer_id: Uuid,
) -> AppResult<Option<CardJson>> {
    let Some(head) = db::card_head(&mut *conn, customer_id).await? else {
        return Ok(None);
    };
    let version = head.card_version;
    let card = super::card_of(conn, head).await?;
    let text = serde_json::to_string(&card).map_err(|e| AppError::Internal(e.into()))?;
    keeper.keep(customer_id, version, text.clone());
    Ok(Some(CardJson::Text(text)))
}

/// A kept card as `by_label` read it; `None` when its bytes are not a card this build reads.
pub fn from_kept(body: Vec<u8>) -> Option<CardJson> {
    Packed::from_stored(body).map(CardJson::Kept)
}

/// Stores built cards off the request path: a miss answers at once, and whatever queued meanwhile is stored by one
/// statement. A card whose customer changed after it was read is refused by the statement (its version moved).
#[derive(Clone)]
pub struct CardKeeper {
    writer: Batcher<(Uuid, i64, String)>,
}

impl CardKeeper {
    /// Starts the writer on `pool`; it ends once every handle is dropped and the queue is written.
    pub fn spawn(pool: PgPool) -> CardKeeper {
        let writer = Batcher::spawn(QUEUE, BATCH, move |mut cards: Vec<(Uuid, i64, String)>| {
            let pool = pool.clone();
            async move {
                // One statement may not touch a row twice: the later card of a customer wins.
                let mut seen = std::collections::HashSet::new();
                cards.reverse();
                cards.retain(|(id, _, _)| seen.insert(*id));
                let cards = pack_all(cards).await;
                if let Err(e) = store(&pool, &cards).await {
                    tracing::warn!(error = %e, cards = cards.len(), "built cards not kept");
                }
            }
        });
        CardKeeper { writer }
    }

    /// Queues a card built from a snapshot that saw `version`; dropped when the queue is full.
    pub fn keep(&self, customer_id: Uuid, version: i64, body: String) {
        if !self.writer.try_send((customer_id, version, body)) {
            tracing::debug!("card keeper busy; a built card is not kept");
        }
    }

    /// Waits until every card queued before this call is stored (or refused).
    pub async fn flush(&self) {
        self.writer.flush().await;
    }
}

/// Packs built cards off the runtime's threads (deflating 200 cards takes milliseconds); a card that cannot be
/// packed is left out (it is built again on its next read).
pub async fn pack_all(cards: Vec<(Uuid, i64, String)>) -> Vec<(Uuid, i64, Packed)> {
    let pack = move || {
        cards
            .into_iter()
            .filter_map(|(id, version, text)| match Packed::pack(&text) {
                Ok(packed) => Some((id, version, packed)),
                Err(e) => {
                    tracing::warn!(customer_id = %id, error = %e, "a door card is not kept");
                    None
                }
            })
            .collect()
    };
    tokio::task::spawn_blocking(pack).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "packing door cards failed; none kept this round");
        Vec::new()
    })
}

/// Stores cards whose version is still their row's (a missing row is version 0).
pub async fn store(db: impl PgExecutor<'_>, cards: &[(Uuid, i64, Packed)]) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = cards.iter().map(|c| c.0).collect();
    let versions: Vec<i64> = cards.iter().map(|c| c.1).collect();
    let bodies: Vec<&[u8]> = cards.iter().map(|c| c.2.as_bytes()).collect();
    let done = sqlx::query(
        "insert into customer_card as k (customer_id, version, body)
         select u.id, u.version, u.body
           from unnest($1::uuid[], $2::bigint[], $3::bytea[]) as u (id, version, body)
          where exists (select 1 from customer c where c.customer_id = u.id)
         on conflict (customer_id) do update set body = excluded.body
          where k.version = excluded.version and k.body is null",
    )
    .bind(&ids)
    .bind(&versions)
    .bind(&bodies)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Customers one filler round builds at most.
const FILL_BATCH: i64 = 200;

/// Builds the cards of `ids` (those that exist) with two statements, as [`card_json`] would one by one.
pub async fn build_many(
    conn: &mut sqlx::PgConnection,
    ids: &[Uuid],
) -> AppResult<Vec<(Uuid, i64, String)>> {
    let heads = db::card_heads(&mut *conn, ids).await?;
    let mut wardrobes: std::collections::HashMap<Uuid, Vec<crate::garments::WardrobeItem>> =
        std::collections::HashMap::new();
    for item in crate::garments::db::wardrobes(&mut *conn, ids).await? {
        wardrobes
            .entry(item.garment.customer_id)
            .or_default()
            .push(item);
    }
    let mut built = Vec::with_capacity(heads.len());
    for head in heads {
        let (id, version) = (head.customer.customer_id, head.card_version);
        let card = super::CustomerCard::of(head, wardrobes.remove(&id).unwrap_or_default());
        let text = serde_json::to_string(&card).map_err(|e| AppError::Internal(e.into()))?;
        built.push((id, version, text));
    }
    Ok(built)
}

/// Where the filler's walk over the door labels stands: `None` once every labelled customer was visited.
pub type Walk = Option<Uuid>;

/// One round of the card filler: the cards emptied by writes at least `settled` ago, then the next labelled
/// customers (by id, after `walk`) who never had one kept, built and stored. Answers how many were stored and
/// where the walk stands.
pub async fn fill_round(
    pool: &PgPool,
    walk: Walk,
    settled: std::time::Duration,
) -> AppResult<(u64, Walk)> {
    let mut conn = pool.acquire().await?;
    let mut ids: Vec<Uuid> = sqlx::query_scalar(
        "select customer_id from customer_card
          where body is null and changed_at <= now() - make_interval(secs => $1)
          order by changed_at limit $2",
    )
    .bind(settled.as_secs_f64())
    .bind(FILL_BATCH)
    .fetch_all(&mut *conn)
    .await?;
    let mut next = walk;
    if let Some(after) = walk {
        // The next labelled customers, each with whether a card row (kept or emptied) exists already.
        let labelled: Vec<(Uuid, bool)> = sqlx::query_as(
            "select l.customer_id,
                    exists (select 1 from customer_card k where k.customer_id = l.customer_id)
               from door_label l
              where l.revoked_at is null and l.customer_id > $1
              order by l.customer_id limit $2",
        )
        .bind(after)
        .bind(FILL_BATCH)
        .fetch_all(&mut *conn)
        .await?;
        next = if (labelled.len() as i64) < FILL_BATCH {
            None
        } else {
            labelled.last().map(|(id, _)| *id)
        };
        ids.extend(
            labelled
                .into_iter()
                .filter(|(_, has)| !has)
                .map(|(id, _)| id),
        );
    }
    if ids.is_empty() {
        return Ok((0, next));
    }
    let built = match build_many(&mut conn, &ids).await {
        Ok(built) => built,
        Err(e) => {
            // One customer's card that cannot be built must not stop the others': build them one at a time.
            tracing::warn!(error = %e, cards = ids.len(), "a batch of door cards failed; building them one by one");
            let mut built = Vec::with_capacity(ids.len());
            for id in &ids {
                match build_many(&mut conn, std::slice::from_ref(id)).await {
                    Ok(one) => built.extend(one),
                    Err(e) => {
                        tracing::warn!(customer_id = %id, error = %e, "a door card cannot be built; tried again later");
                        if let Err(e) = put_back(&mut *conn, *id).await {
                            tracing::warn!(customer_id = %id, error = %e, "a failed door card was not queued again");
                        }
                    }
                }
            }
            built
        }
    };
    let stored = store(&mut *conn, &pack_all(built).await).await?;
    Ok((stored, next))
}

/// Sends a card that could not be built to the back of the filler's queue (as an emptied card, also when the
/// walk over the labels met it with none kept), so the next rounds take the others first and this one again
/// after a settling pause.
async fn put_back(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "insert into customer_card as k (customer_id, changed_at, body) values ($1, now(), null)
         on conflict (customer_id) do update set changed_at = now() where k.body is null",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// How long a customer is left alone after a write before the filler builds their card again: a visit's and an
/// edit's writes come in bursts, and the card is next scanned at the next visit.
pub const SETTLED: std::time::Duration = std::time::Duration::from_secs(60);

/// Keeps every labelled customer's card built in the background, so a scan at the door reads it whole: the walk
/// over the labels once after a start, then the cards writes empty, a minute after. Each round is followed
/// by a pause as long as it took, so the filler takes at most half of one core from the requests.
pub fn spawn_filler(pool: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut walk: Walk = Some(Uuid::nil());
        let (mut total, started) = (0u64, std::time::Instant::now());
        loop {
            let t = std::time::Instant::now();
            match fill_round(&pool, walk, SETTLED).await {
                Ok((stored, next)) => {
                    total += stored;
                    if walk.is_some() && next.is_none() {
                        tracing::info!(
                            cards = total,
                            secs = started.elapsed().as_secs_f64(),
                            "door cards kept for every label"
                        );
                    }
                    let idle = stored == 0 && next.is_none();
                    walk = next;
                    let pause = if idle {
                        std::time::Duration::from_secs(5)
                    } else {
                        t.elapsed()
                    };
                    tokio::time::sleep(pause).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "card filler round failed; trying again in a minute");
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                }
            }
        }
    })
}
