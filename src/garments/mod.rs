//! Garments: one piece of clothing across visits; its description, its tag, and the customer's wardrobe.

pub mod db;

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AnyStaff, Authed};
use crate::domain::code::TagCode;
use crate::domain::{
    check_len, double_option, non_blank, Category, GarmentKind, Material, SeasonClass,
};
use crate::error::{AppError, AppResult, FieldError, ResultExt};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// A garment as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Garment {
    pub(crate) customer_id: Uuid,
    pub(crate) garment_id: Uuid,
    pub(crate) category: Category,
    pub(crate) kind: GarmentKind,
    pub(crate) season_class: SeasonClass,
    pub(crate) brand: Option<String>,
    pub(crate) cut: Option<String>,
    pub(crate) size: Option<String>,
    pub(crate) special_size: bool,
    pub(crate) material: Option<Material>,
    pub(crate) colour: Option<String>,
    pub(crate) tag_code: Option<TagCode>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// A garment with its cleaning record.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct WardrobeItem {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub(crate) garment: Garment,
    pub(crate) times_cleaned: i64,
    pub(crate) last_cleaned_at: Option<DateTime<Utc>>,
}

/// The garments of one season class and category, as the wardrobe summary shows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WardrobeGroup {
    pub(crate) season_class: SeasonClass,
    pub(crate) category: Category,
    pub(crate) garment_count: usize,
    pub(crate) times_cleaned: i64,
    pub(crate) last_cleaned_at: Option<DateTime<Utc>>,
    pub(crate) garments: Vec<WardrobeItem>,
}

/// Groups wardrobe rows (ordered by season class, then category) into summary groups.
pub fn group_wardrobe(items: Vec<WardrobeItem>) -> Vec<WardrobeGroup> {
    let mut groups: Vec<WardrobeGroup> = Vec::new();
    for item in items {
        let key = (item.garment.season_class, item.garment.category);
        match groups.last_mut() {
            Some(g) if (g.season_class, g.category) == key => g.garments.push(item),
            _ => groups.push(WardrobeGroup {
                season_class: key.0,
                category: key.1,
                garment_count: 0,
                times_cleaned: 0,
                last_cleaned_at: None,
                garments: vec![item],
            }),
        }
    }
    for g in &mut groups {
        g.garment_count = g.garments.len();
        g.times_cleaned = g.garments.iter().map(|i| i.times_cleaned).sum();
        g.last_cleaned_at = g.garments.iter().filter_map(|i| i.last_cleaned_at).max();
    }
    groups
}

/// How a garment is described when it is first collected.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGarment {
    pub(crate) category: Category,
    pub(crate) kind: GarmentKind,
    pub(crate) season_class: SeasonClass,
    pub(crate) brand: Option<String>,
    pub(crate) cut: Option<String>,
    pub(crate) size: Option<String>,
    #[serde(default)]
    pub(crate) special_size: bool,
    pub(crate) material: Option<Material>,
    pub(crate) colour: Option<String>,
    pub(crate) tag_code: Option<String>,
}

/// Checked garment fields, ready to store.
#[derive(Debug, Clone)]
pub struct GarmentFields {
    /// Whose clothes.
    pub category: Category,
    /// What it is.
    pub kind: GarmentKind,
    /// When it is worn.
    pub season_class: SeasonClass,
    /// Brand, as written on the label.
    pub brand: Option<String>,
    /// Cut or fit.
    pub cut: Option<String>,
    /// Size, as written on the label.
    pub size: Option<String>,
    /// A size outside the usual range (the special-size catalogue).
    pub special_size: bool,
    /// Main material.
    pub material: Option<Material>,
    /// Colour.
    pub colour: Option<String>,
    /// Its permanent tag, once tagged.
    pub tag_code: Option<TagCode>,
}

impl NewGarment {
    /// Normalises free text and checks the tag code; errors are named under `prefix` (e.g. `lines[2].garment`).
    pub fn check(self, prefix: &str, errors: &mut Vec<FieldError>) -> GarmentFields {
        let f = GarmentFields {
            category: self.category,
            kind: self.kind,
            season_class: self.season_class,
            brand: non_blank(self.brand),
            cut: non_blank(self.cut),
            size: non_blank(self.size),
            special_size: self.special_size,
            material: self.material,
            colour: non_blank(self.colour),
            tag_code: None,
        };
        let tag_code = check_tag(
            non_blank(self.tag_code),
            &format!("{prefix}.tag_code"),
            errors,
        );
        for (name, value) in [
            ("brand", &f.brand),
            ("cut", &f.cut),
            ("size", &f.size),
            ("colour", &f.colour),
        ] {
            check_len(errors, &format!("{prefix}.{name}"), value.as_deref(), 100);
        }
        GarmentFields { tag_code, ..f }
    }
}

fn check_tag(tag: Option<String>, field: &str, errors: &mut Vec<FieldError>) -> Option<TagCode> {
    let tag = tag?;
    match TagCode::parse(&tag) {
        Ok(code) => Some(code),
        Err(e) => {
            errors.push(FieldError {
                field: field.to_owned(),
                message: e.to_string(),
            });
            None
        }
    }
}

/// Maps the unique tag constraint to a 409 naming the field.
pub fn tag_taken(field: &str) -> impl FnOnce(Box<dyn sqlx::error::DatabaseError>) -> AppError + '_ {
    move |_| AppError::conflict(field, "this garment tag is already on another garment")
}

/// The garment and wardrobe routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_wardrobe))
        .routes(routes!(get_garment, update_garment))
        .routes(routes!(get_tag))
}

/// Whether a garment tag is already on a garment: a new tag is the normal start of a new garment, so it is an
/// answer (`garment: null`), not an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct TagLookup {
    code: TagCode,
    garment: Option<Garment>,
}

/// Whose garment a tag is on, or `garment: null` for a tag not yet used.
#[utoipa::path(get, path = "/api/v1/tags/{code}", tag = "garments", params(("code" = String, Path, description = "a garment tag code", example = "G00DEM0000AE")), responses((status = 200, body = TagLookup)))]
async fn get_tag(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path(code): Path<String>,
) -> AppResult<Json<TagLookup>> {
    let mut errors = Vec::new();
    let Some(code) = check_tag(Some(code), "code", &mut errors) else {
        return Err(AppError::Invalid(errors));
    };
    let garment = db::fetch_garment_by_tag(&state.pool, &code).await?;
    Ok(Json(TagLookup { code, garment }))
}

/// The customer's garments by season class.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/wardrobe", tag = "garments", params(("customer_id" = Uuid, Path, description = "the customer")), responses((status = 200, body = Vec<WardrobeGroup>)))]
async fn get_wardrobe(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
) -> AppResult<Json<Vec<WardrobeGroup>>> {
    if !crate::customers::db::customer_exists(&state.pool, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    Ok(Json(group_wardrobe(
        db::wardrobe(&state.pool, customer_id).await?,
    )))
}

/// One garment with its cleaning history figures.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/garments/{garment_id}", tag = "garments", params(("customer_id" = Uuid, Path, description = "the customer"), ("garment_id" = Uuid, Path)), responses((status = 200, body = Garment)))]
async fn get_garment(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, garment_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Json<Garment>> {
    db::fetch_garment(&state.pool, customer_id, garment_id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound("garment"))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GarmentPatch {
    category: Option<Category>,
    kind: Option<GarmentKind>,
    season_class: Option<SeasonClass>,
    #[serde(default, deserialize_with = "double_option")]
    brand: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    cut: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    size: Option<Option<String>>,
    special_size: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    material: Option<Option<Material>>,
    #[serde(default, deserialize_with = "double_option")]
    colour: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    tag_code: Option<Option<String>>,
}

/// A worker corrects a garment's description (brand, size, ...) or attaches a tag.
#[utoipa::path(patch, path = "/api/v1/customers/{customer_id}/garments/{garment_id}", tag = "garments", params(("customer_id" = Uuid, Path, description = "the customer"), ("garment_id" = Uuid, Path)), request_body = GarmentPatch, responses((status = 200, body = Garment)))]
#[tracing::instrument(skip_all, fields(garment_id = %garment_id))]
async fn update_garment(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, garment_id)): Path<(Uuid, Uuid)>,
    Json(patch): Json<GarmentPatch>,
) -> AppResult<Json<Garment>> {
    let mut tx = state.pool.begin().await?;
    let current = db::fetch_garment_for_update(&mut *tx, customer_id, garment_id)
        .await?
        .ok_or(AppError::NotFound("garment"))?;
    let mut errors = Vec::new();
    let fields = NewGarment {
        category: patch.category.unwrap_or(current.category),
        kind: patch.kind.unwrap_or(current.kind),
        season_class: patch.season_class.unwrap_or(current.season_class),
        brand: patch.brand.unwrap_or(current.brand),
        cut: patch.cut.unwrap_or(current.cut),
        size: patch.size.unwrap_or(current.size),
        special_size: patch.special_size.unwrap_or(current.special_size),
        material: patch.material.unwrap_or(current.material),
        colour: patch.colour.unwrap_or(current.colour),
        tag_code: patch
            .tag_code
            .unwrap_or_else(|| current.tag_code.as_ref().map(|t| t.to_string())),
    }
    .check("", &mut errors);
    if !errors.is_empty() {
        for e in &mut errors {
            e.field = e.field.trim_start_matches('.').to_owned();
        }
        return Err(AppError::Invalid(errors));
    }
    let updated = db::update_garment(&mut *tx, customer_id, garment_id, &fields)
        .await
        .on_constraint("garment_tag_code_key", tag_taken("tag_code"))?;
    if fields.season_class != current.season_class {
        db::refresh_pickup_classes(&mut tx, customer_id, garment_id).await?;
    }
    tx.commit().await?;
    Ok(Json(updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_tag_is_named_under_the_prefix() {
        let mut errors = Vec::new();
        let g: NewGarment = serde_json::from_value(serde_json::json!({
            "category": "women", "kind": "coat", "season_class": "winter", "tag_code": "G123", "brand": "  "
        }))
        .expect("test data");
        let f = g.check("lines[0].garment", &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "lines[0].garment.tag_code");
        assert_eq!(f.brand, None);
    }
}
