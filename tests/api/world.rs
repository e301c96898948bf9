//! A hand-built company for the list and campaign tests: customers, garments and dated pickups written through
//! the service's own SQL functions, so the rollups are the ones the API keeps.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

use doorstep::customers::db::{insert_customer, CustomerFields};
use doorstep::domain::{
    Category, GarmentKind, InteractionKind, Material, Role, SeasonClass, Service,
};
use doorstep::garments::GarmentFields;
use doorstep::pickups::db::{record_visit, LineRow, VisitRow};

use crate::helpers::TestApp;

pub struct World {
    pub app: TestApp,
    pub worker: Uuid,
}

/// Noon in Shanghai on a day, as a UTC instant.
pub fn at(day: &str) -> DateTime<Utc> {
    let d: NaiveDate = day.parse().unwrap();
    (d.and_hms_opt(12, 0, 0).unwrap() - chrono::Duration::hours(8)).and_utc()
}

impl World {
    pub async fn new(pool: sqlx::PgPool) -> World {
        let app = TestApp::new(pool).await;
        let hash = doorstep::auth::hash_password(crate::helpers::PASSWORD).unwrap();
        let worker = doorstep::staff::db::insert_staff(
            &app.pool,
            &doorstep::domain::username::Username::parse("world-worker").unwrap(),
            "Worker",
            Role::Pickup,
            &hash,
        )
        .await
        .unwrap()
        .staff_id;
        World { app, worker }
    }

    pub async fn customer(&self, name: &str) -> Uuid {
        let id = Uuid::new_v4();
        let fields = CustomerFields {
            name: name.into(),
            phone: doorstep::domain::phone::Phone::parse("+86 21 5555 0100").ok(),
            address: Some("1 Test Lane".into()),
            notes: String::new(),
            label_consent_at: None,
            label_consent_method: None,
            do_not_contact: false,
        };
        insert_customer(&self.app.pool, id, &fields).await.unwrap();
        id
    }

    pub async fn garment(
        &self,
        customer: Uuid,
        kind: GarmentKind,
        class: SeasonClass,
        material: Material,
        size: Option<(&str, bool)>,
    ) -> Uuid {
        let id = Uuid::new_v4();
        let fields = GarmentFields {
            category: Category::Women,
            kind,
            season_class: class,
            brand: None,
            cut: None,
            size: size.map(|(s, _)| s.to_owned()),
            special_size: size.is_some_and(|(_, special)| special),
            material: Some(material),
            colour: None,
            tag_code: None,
        };
        doorstep::garments::db::insert_garment(&self.app.pool, customer, id, &fields)
            .await
            .unwrap();
        id
    }

    /// A pickup on `day` cleaning each garment at its price (cents).
    pub async fn pickup(&self, customer: Uuid, day: &str, lines: &[(Uuid, i64)]) -> Uuid {
        let lines: Vec<(Uuid, Service, i64)> = lines
            .iter()
            .map(|&(g, p)| (g, Service::DryClean, p))
            .collect();
        self.pickup_at(customer, at(day), &lines).await
    }

    /// A pickup at an instant with the given service on each line.
    pub async fn pickup_at(
        &self,
        customer: Uuid,
        collected_at: DateTime<Utc>,
        lines: &[(Uuid, Service, i64)],
    ) -> Uuid {
        let id = Uuid::new_v4();
        let mut tx = self.app.pool.begin().await.unwrap();
        let rows: Vec<LineRow> = lines
            .iter()
            .map(|&(garment_id, service, price_cents)| LineRow {
                garment_id,
                service,
                price_cents,
                condition_notes: String::new(),
            })
            .collect();
        let visit = VisitRow {
            customer_id: customer,
            pickup_id: id,
            staff_id: self.worker,
            door_code: None,
            collected_at,
            notes: "",
        };
        record_visit(&mut tx, &visit, &[], &rows, &[], None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    pub async fn interaction(&self, customer: Uuid, kind: InteractionKind, day: &str) {
        doorstep::interactions::db::insert_interaction(
            &self.app.pool,
            &doorstep::interactions::db::NewInteraction {
                customer_id: customer,
                staff_id: Some(self.worker),
                kind,
                channel: doorstep::domain::Channel::Phone,
                body: "test",
                occurred_at: at(day),
            },
        )
        .await
        .unwrap();
    }

    pub async fn do_not_contact(&self, customer: Uuid) {
        sqlx::query("update customer set do_not_contact = true, do_not_contact_at = now() where customer_id = $1")
            .bind(customer)
            .execute(&self.app.pool)
            .await
            .unwrap();
    }

    /// Puts garments into an open storage order taken on `day`, as the warehouse would.
    pub async fn store(&self, customer: Uuid, day: &str, garments: &[Uuid]) {
        let order = Uuid::new_v4();
        sqlx::query(
            "insert into storage_order (customer_id, order_id, receipt_no, status, term_months, insurance_rate_bp,
                                        planned_return_on, fee_cents, premium_cents, declared_cents, created_by,
                                        created_at)
             values ($1, $2, $3, 'in_storage', 6, 150, '2026-11-01', 0, 0, 0, $4, $5)",
        )
        .bind(customer)
        .bind(order)
        .bind(format!("T-{}", order.simple()))
        .bind(self.worker)
        .bind(at(day))
        .execute(&self.app.pool)
        .await
        .unwrap();
        for g in garments {
            sqlx::query(
                "insert into storage_item (customer_id, order_id, garment_id, declared_cents, fee_cents, premium_cents, zone_id)
                 values ($1, $2, $3, 0, 0, 0, 'cold-vault')",
            )
            .bind(customer)
            .bind(order)
            .bind(g)
            .execute(&self.app.pool)
            .await
            .unwrap();
        }
    }

    /// Signs in a new staff member and returns the token and their id.
    pub async fn staff(&self, role: Role) -> (String, Uuid) {
        let token = self.app.login(role).await;
        let me = self.app.get("/api/v1/auth/me", &token).await.json();
        let id = me["staff_id"]
            .as_str()
            .or_else(|| me["staff"]["staff_id"].as_str())
            .unwrap_or_else(|| panic!("no staff id in {me}"))
            .parse()
            .unwrap();
        (token, id)
    }
}

/// Customer ids of a list page, in order.
pub fn ids(page: &Value) -> Vec<Uuid> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|i| i["customer_id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// A customer's entry on a list page, if listed.
pub fn entry(page: &Value, customer: Uuid) -> Option<&Value> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .find(|i| i["customer_id"] == customer.to_string())
}
