//! The customer's receipt for a pickup: what was collected, the services and prices, as JSON, HTML and PDF.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{db, PickupLineView};
use crate::auth::{AnyStaff, Authed};
use crate::domain::clock::CompanyClock;
use crate::domain::money::money;
use crate::domain::phone::Phone;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path, Query};
use crate::i18n::{text, Lang};
use crate::pdf::{Layout, MM};
use crate::state::AppState;

/// A pickup as its receipt shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PickupReceipt {
    /// The pickup.
    pub pickup_id: Uuid,
    /// Its short number, as read over the phone.
    pub receipt_no: String,
    /// The customer.
    pub customer_id: Uuid,
    /// The customer's name.
    pub customer_name: String,
    /// The customer's phone.
    pub customer_phone: Option<Phone>,
    /// The customer's address.
    pub customer_address: Option<String>,
    /// When the clothes were collected.
    pub collected_at: DateTime<Utc>,
    /// Who collected them.
    pub staff_name: String,
    /// Notes on the visit.
    pub notes: String,
    /// What was collected, line by line.
    pub lines: Vec<PickupLineView>,
    /// Sum of the lines, in fen.
    pub total_cents: i64,
    /// The company, as printed at the top.
    pub company_name: String,
    /// The company's clock, for printing times.
    #[serde(skip)]
    pub clock: CompanyClock,
}

/// Reads a pickup and what its receipt needs; `None` when this customer has no such pickup.
pub async fn load(
    state: &AppState,
    customer_id: Uuid,
    pickup_id: Uuid,
) -> AppResult<Option<PickupReceipt>> {
    let Some(head) = db::receipt_head(&state.pool, customer_id, pickup_id).await? else {
        return Ok(None);
    };
    let lines = db::lines_of(&state.pool, customer_id, &[pickup_id]).await?;
    Ok(Some(PickupReceipt {
        pickup_id,
        receipt_no: receipt_no(pickup_id),
        customer_id,
        customer_name: head.customer_name,
        customer_phone: head.customer_phone,
        customer_address: head.customer_address,
        collected_at: head.collected_at,
        staff_name: head.staff_name,
        notes: head.notes,
        total_cents: lines.iter().map(|l| l.price_cents).sum(),
        lines,
        company_name: state.settings.company_name.clone(),
        clock: state.settings.clock,
    }))
}

/// The first eight characters of the pickup id, upper case: enough to find it, short enough to read out.
pub fn receipt_no(pickup_id: Uuid) -> String {
    pickup_id.simple().to_string()[..8].to_uppercase()
}

/// A `group.value` word of the catalogue in `lang`, or the value in plain words when the catalogue has none.
pub fn word(lang: Lang, group: &str, value: &str) -> String {
    let key = format!("{group}.{value}");
    let t = text(lang, &key);
    if t == key {
        value.replace('_', " ")
    } else {
        t.to_owned()
    }
}

/// A line's garment in words: "women's coat · Max Mara · camel · 40".
pub fn garment_words(line: &PickupLineView, lang: Lang) -> String {
    let mut parts = vec![format!(
        "{} {}",
        word(lang, "category", &line.category.name()),
        word(lang, "kind", &line.kind.name())
    )];
    parts.extend(
        [&line.brand, &line.colour, &line.size]
            .into_iter()
            .flatten()
            .cloned(),
    );
    parts.join(" · ")
}

fn items(lang: Lang, n: usize) -> String {
    if n == 1 {
        text(lang, "receipt.item").to_owned()
    } else {
        text(lang, "receipt.items").replace("{n}", &n.to_string())
    }
}

fn when(lang: Lang, clock: CompanyClock, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&clock.offset);
    match lang {
        Lang::ZhCn => local.format("%Y年%-m月%-d日 %H:%M").to_string(),
        Lang::En => local.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// The receipt as HTML, every customer text escaped (the page around it adds print and PDF buttons).
pub fn html_body(r: &PickupReceipt, lang: Lang) -> String {
    use crate::html::escape;
    let rows: String = r
        .lines
        .iter()
        .map(|l| {
            let condition = if l.condition_notes.is_empty() {
                String::new()
            } else {
                format!(r#"<br><small>{}</small>"#, escape(&l.condition_notes))
            };
            format!(
                r#"<tr><td>{}{condition}</td><td>{}</td><td class="num">¥{}</td></tr>"#,
                escape(&garment_words(l, lang)),
                escape(&word(lang, "service", &l.service.name())),
                money(l.price_cents),
            )
        })
        .collect();
    format!(
        r#"<article class="receipt">
<p class="company">{company}</p>
<h1>{title}</h1>
<dl>
<dt>{no_label}</dt><dd>{no}</dd>
<dt>{customer_label}</dt><dd>{customer}</dd>
<dt>{collected_label}</dt><dd>{collected}</dd>
<dt>{worker_label}</dt><dd>{worker}</dd>
</dl>
<table class="receipt-lines">
<thead><tr><th>{garment_label}</th><th>{service_label}</th><th class="num">{price_label}</th></tr></thead>
<tbody>{rows}</tbody>
<tfoot><tr><th>{count}</th><th>{total_label}</th><th class="num">¥{total}</th></tr></tfoot>
</table>
<p>{thanks}</p>
</article>"#,
        company = escape(&r.company_name),
        title = escape(text(lang, "receipt.title")),
        no_label = escape(text(lang, "receipt.number")),
        no = escape(&r.receipt_no),
        customer_label = escape(text(lang, "receipt.customer")),
        customer = escape(&r.customer_name),
        collected_label = escape(text(lang, "receipt.collected")),
        collected = escape(&when(lang, r.clock, r.collected_at)),
        worker_label = escape(text(lang, "receipt.worker")),
        worker = escape(&r.staff_name),
        garment_label = escape(text(lang, "receipt.garment")),
        service_label = escape(text(lang, "receipt.service")),
        price_label = escape(text(lang, "receipt.price")),
        count = escape(&items(lang, r.lines.len())),
        total_label = escape(text(lang, "receipt.total")),
        total = money(r.total_cents),
        thanks = escape(text(lang, "receipt.thanks")),
    )
}

/// The receipt as an A5 PDF with the CJK font embedded (subset), so Chinese names print.
pub fn pdf(r: &PickupReceipt, lang: Lang) -> AppResult<Vec<u8>> {
    let mut l = Layout::new(148.0 * MM, 210.0 * MM, 12.0 * MM)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let (left, right) = (l.left(), l.right());
    let service_x = left + l.inner_width() * 0.58;
    l.down(10.0);
    l.text(left, 11.0, &r.company_name);
    l.down(20.0);
    l.text(left, 16.0, text(lang, "receipt.title"));
    l.down(20.0);
    for (label, value) in [
        ("receipt.number", r.receipt_no.clone()),
        ("receipt.customer", r.customer_name.clone()),
        ("receipt.collected", when(lang, r.clock, r.collected_at)),
        ("receipt.worker", r.staff_name.clone()),
    ] {
        l.text(left, 9.5, text(lang, label));
        l.text(left + 30.0 * MM, 9.5, &value);
        l.down(14.0);
    }
    l.down(6.0);
    l.text(left, 9.0, text(lang, "receipt.garment"));
    l.text(service_x, 9.0, text(lang, "receipt.service"));
    l.text_right(right, 9.0, text(lang, "receipt.price"));
    l.rule();
    l.down(16.0);
    for line in &r.lines {
        let garment = l.fit(&garment_words(line, lang), 9.5, service_x - left - 6.0);
        l.text(left, 9.5, &garment);
        l.text(service_x, 9.5, &word(lang, "service", &line.service.name()));
        l.text_right(right, 9.5, &format!("¥{}", money(line.price_cents)));
        if !line.condition_notes.is_empty() {
            l.down(12.0);
            let note = l.fit(&line.condition_notes, 8.0, l.inner_width());
            l.text(left + 8.0, 8.0, &note);
        }
        l.down(15.0);
    }
    l.rule();
    l.down(16.0);
    l.text(left, 10.0, &items(lang, r.lines.len()));
    l.text(service_x, 10.0, text(lang, "receipt.total"));
    l.text_right(right, 11.0, &format!("¥{}", money(r.total_cents)));
    l.down(28.0);
    l.text(left, 8.5, text(lang, "receipt.thanks"));
    if !l.cjk() {
        l.down(14.0);
        l.text(
            left,
            7.5,
            "This server has no Chinese font (install fonts-noto-cjk): Chinese text may not print.",
        );
    }
    l.finish()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

/// `GET /api/v1/customers/{customer_id}/pickups/{pickup_id}`: one pickup with its lines.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/pickups/{pickup_id}", tag = "pickups", params(("customer_id" = Uuid, Path, description = "the customer"), ("pickup_id" = Uuid, Path, description = "the pickup")), responses((status = 200, body = PickupReceipt)))]
pub(super) async fn show_pickup(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, pickup_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Json<PickupReceipt>> {
    load(&state, customer_id, pickup_id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound("pickup"))
}

/// The language of a document: `?lang=`, else the browser's.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LangParam {
    lang: Option<String>,
}

/// `GET .../pickups/{pickup_id}/receipt.pdf?lang=zh-CN`
#[utoipa::path(get, operation_id = "pickup_receipt_pdf", path = "/api/v1/customers/{customer_id}/pickups/{pickup_id}/receipt.pdf", tag = "pickups", params(("customer_id" = Uuid, Path, description = "the customer"), ("pickup_id" = Uuid, Path, description = "the pickup"), LangParam), responses((status = 200, body = [u8], content_type = "application/pdf")))]
pub(super) async fn receipt_pdf(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, pickup_id)): Path<(Uuid, Uuid)>,
    Query(p): Query<LangParam>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let lang = p
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| crate::i18n::from_headers(&headers));
    let r = load(&state, customer_id, pickup_id)
        .await?
        .ok_or(AppError::NotFound("pickup"))?;
    let bytes = tokio::task::spawn_blocking(move || pdf(&r, lang))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    let disposition = format!("inline; filename=\"receipt-{}.pdf\"", receipt_no(pickup_id));
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
