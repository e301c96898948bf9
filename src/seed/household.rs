//! The household model of the seed: who lives behind a door, what they wear and how they use the laundry (pure).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::customers::db::CustomerFields;
use crate::domain::code::DoorCode;
use crate::domain::phone::Phone;
use crate::domain::{
    Category, Channel, GarmentKind, InteractionKind, Material, SeasonClass, Service,
};
use crate::garments::GarmentFields;
use crate::pickups::db::LineRow;

/// One customer's whole history, planned without touching the database.
pub struct CustomerPlan {
    pub(crate) customer_id: Uuid,
    pub(crate) fields: CustomerFields,
    pub(crate) door_code: Option<DoorCode>,
    /// Who lives there: the categories of clothes the household wears.
    pub members: Vec<Category>,
    pub(crate) garments: Vec<GarmentPlan>,
    pub(crate) pickups: Vec<PickupPlan>,
    /// Visits the household would make from `today` on without being called (never written: the ground truth).
    pub future: Vec<PickupPlan>,
    pub(crate) interactions: Vec<InteractionPlan>,
    /// First day of the customer's history (the range start, or when they joined).
    pub start: NaiveDate,
    /// Set for churners: no pickups on or after this day.
    pub churned_on: Option<NaiveDate>,
    /// Days into the spring and autumn put-away windows this household usually sends its clothes.
    pub put_away_days: (i64, i64),
    /// Chance the household makes its put-away visit in a given window at all.
    pub compliance: f64,
}

/// A garment and what cleaning it costs at this company.
pub struct GarmentPlan {
    pub(crate) garment_id: Uuid,
    pub(crate) fields: GarmentFields,
    pub(crate) service: Service,
    pub(crate) price_cents: i64,
    /// First day it is in the wardrobe (the history's start for the first wardrobe, later for a replacement).
    pub owned_from: NaiveDate,
    /// The day it was thrown away or given away, if before the planning horizon.
    pub discarded_on: Option<NaiveDate>,
}

impl GarmentPlan {
    /// Whether it is in the wardrobe on `day`.
    pub fn owned_on(&self, day: NaiveDate) -> bool {
        owned_on(self.owned_from, self.discarded_on, day)
    }
}

/// Whether a garment owned from `from` and thrown away on `discarded_on` is in the wardrobe on `day`.
pub(super) fn owned_on(from: NaiveDate, discarded_on: Option<NaiveDate>, day: NaiveDate) -> bool {
    from <= day && discarded_on.is_none_or(|d| d > day)
}

/// A visit; `staff` indexes the seed pickup workers.
pub struct PickupPlan {
    pub(crate) pickup_id: Uuid,
    /// A seasonal put-away visit rather than an everyday one.
    pub put_away: bool,
    pub(crate) collected_at: DateTime<Utc>,
    pub(crate) staff: usize,
    pub(crate) scanned_label: bool,
    pub(crate) notes: &'static str,
    pub(crate) lines: Vec<LineRow>,
}

/// A call, visit, note or complaint; complaints with a resolution are resolved a few days after them.
pub struct InteractionPlan {
    pub(crate) kind: InteractionKind,
    pub(crate) channel: Channel,
    pub(crate) body: String,
    pub(crate) occurred_at: DateTime<Utc>,
    pub(crate) resolution: Option<&'static str>,
    /// When a complaint with a resolution was resolved: a few days after it was made, never after the history.
    pub(crate) resolved_at: Option<DateTime<Utc>>,
}

/// Days from a complaint to its resolution.
const RESOLVED_AFTER_DAYS: i64 = 3;
/// Share of leavers who complain about their last visit before they stop (a bad visit is a common reason to go).
const LEAVING_COMPLAINT: f64 = 0.35;
/// Share of those complaints that are resolved (fewer than of other complaints: these customers were not won back).
const LEAVING_COMPLAINT_RESOLVED: f64 = 0.3;

/// Shanghai time, in which the seeded company works.
pub(super) const SHANGHAI_HOURS: i64 = 8;
/// Pickup workers (routes) of the seeded company.
pub(super) const PICKUP_WORKERS: usize = 4;
/// Days after `today` the household's behaviour is planned for the ground truth (past any open window's end).
const FUTURE_DAYS: i64 = 200;
/// Mean years a garment stays in the wardrobe before it is thrown or given away.
const MEAN_LIFE_YEARS: f64 = 5.0;
/// Chance a discarded garment is replaced by a new one of the same wearer.
const REPLACED: f64 = 0.6;

/// The per-customer random stream: customer `index` of `seed` is the same whatever the batch order.
pub fn customer_rng(seed: u64, index: usize) -> StdRng {
    let mut z = seed
        ^ (index as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

fn new_id(rng: &mut impl Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

/// Bits of a seeded id's counter that number a customer's own rows (the customer 0, then garments, pickups).
const ROW_BITS: u32 = 18;

/// A UUID version 7 for row `row` of customer `index`: the same for the same seed, and ordered by customer then
/// row, so a batch's rows go in at the right edge of every index that starts with the customer's id (random ids
/// put them on pages all over each index). `ms` stands for the time field and keeps seeds apart; `low` is the
/// row's random id, whose last 32 bits are kept.
fn ordered_id(ms: u64, index: usize, row: usize, low: Uuid) -> Uuid {
    let counter = ((index as u64) << ROW_BITS) | (row as u64 & ((1 << ROW_BITS) - 1));
    let high = ((ms & 0xFFFF_FFFF_FFFF) << 16) | 0x7000 | ((counter >> 30) & 0xFFF);
    let low_bits = u64::from_be_bytes(low.as_bytes()[8..].try_into().unwrap_or_default());
    let low = (0b10 << 62) | ((counter & 0x3FFF_FFFF) << 32) | (low_bits & 0xFFFF_FFFF);
    Uuid::from_u64_pair(high, low)
}

impl CustomerPlan {
    /// The garments the company has seen: those in a visit of the history. The others (kept at home, cleaned
    /// elsewhere, or first brought after `today`) are in the ground truth only.
    pub(crate) fn garments_seen(&self) -> impl Iterator<Item = &GarmentPlan> {
        let seen: std::collections::HashSet<Uuid> = self
            .pickups
            .iter()
            .flat_map(|p| p.lines.iter().map(|l| l.garment_id))
            .collect();
        self.garments
            .iter()
            .filter(move |g| seen.contains(&g.garment_id))
    }

    /// Gives the customer, its garments and its pickups (past and planned) time-ordered ids: customer `index`
    /// of `seed`, planned for `today`.
    pub(crate) fn number_ids(&mut self, seed: u64, today: NaiveDate, index: usize) {
        let ms = start_instant(today).timestamp_millis().max(0) as u64 + (seed & 0xF_FFFF);
        self.customer_id = ordered_id(ms, index, 0, self.customer_id);
        let mut row = 0;
        let mut renamed = std::collections::HashMap::new();
        for g in &mut self.garments {
            row += 1;
            let id = ordered_id(ms, index, row, g.garment_id);
            renamed.insert(g.garment_id, id);
            g.garment_id = id;
        }
        for p in self.pickups.iter_mut().chain(self.future.iter_mut()) {
            row += 1;
            p.pickup_id = ordered_id(ms, index, row, p.pickup_id);
            for l in &mut p.lines {
                if let Some(id) = renamed.get(&l.garment_id) {
                    l.garment_id = *id;
                }
            }
        }
    }
}

/// A Shanghai working-hours moment on `day`, as UTC.
fn at_local(rng: &mut impl Rng, day: NaiveDate) -> DateTime<Utc> {
    let time =
        NaiveTime::from_hms_opt(rng.gen_range(8..20), rng.gen_range(0..60), 0).unwrap_or_default();
    (day.and_time(time) - chrono::Duration::hours(SHANGHAI_HOURS)).and_utc()
}

fn days(n: i64) -> chrono::Duration {
    chrono::Duration::days(n)
}

const SURNAMES: &[&str] = &[
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
    "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo",
];
const GIVEN: &[&str] = &[
    "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Jun", "Yan", "Hao", "Jie", "Tao", "Ying", "Hui",
    "Qiang", "Xin", "Yu", "Ting", "Bo", "Lan", "Kai", "Mei", "Rui", "Xiaoming", "Jiayi", "Zihan",
];
const ROADS: &[&str] = &[
    "Huaihai Rd",
    "Yan'an Rd",
    "Nanjing Rd",
    "Hengshan Rd",
    "Wukang Rd",
    "Fuxing Rd",
    "Changle Rd",
    "Julu Rd",
    "Xikang Rd",
    "Zhaojiabang Rd",
    "Century Ave",
    "Zhangyang Rd",
    "Dapu Rd",
    "Tianyaoqiao Rd",
    "Gubei Rd",
];
const BRANDS: &[&str] = &[
    "Uniqlo",
    "Zara",
    "H&M",
    "Bosideng",
    "Canada Goose",
    "Max Mara",
    "Hugo Boss",
    "Burberry",
    "Ralph Lauren",
    "Massimo Dutti",
    "Ports",
    "Ne Tiger",
    "Li-Ning",
    "Anta",
    "COS",
    "Muji",
];
const COLOURS: &[&str] = &[
    "black", "navy", "grey", "white", "beige", "camel", "brown", "red", "blue", "green", "pink",
    "cream",
];
const CONDITIONS: &[&str] = &[
    "stain on collar",
    "wine stain",
    "pilling on sleeves",
    "small tear on hem",
    "faded at seams",
    "oil mark",
];
const REPAIRS: &[&str] = &["loose button", "broken zip", "seam opened", "lining torn"];
const PICKUP_NOTES: &[&str] = &[
    "Left with concierge",
    "Collected from neighbour",
    "Customer asked for evening delivery",
    "Bag left at door as agreed",
];
const COMPLAINTS: &[(&str, &str)] = &[
    (
        "Returned {kind} still has the stain",
        "Recleaned free of charge",
    ),
    (
        "Button missing on returned {kind}",
        "Button replaced, apology call",
    ),
    (
        "{kind} came back with shrunk sleeves",
        "Compensated 50% of the garment value",
    ),
    ("Pickup was two hours late", "Route changed, apology call"),
    (
        "Wrong {kind} delivered",
        "Swapped with the right garment the next day",
    ),
];
const NOTES: &[&str] = &[
    "Prefers evening pickups",
    "Call before coming, baby sleeping",
    "Gate code changes monthly",
    "Asks for no plastic covers",
    "Elderly, speak slowly",
    "Wants receipts by e-mail",
];
const CALLS: &[&str] = &[
    "Asked about storage for winter coats",
    "Asked for a price list",
    "Rescheduled the pickup",
    "Asked about leather care",
    "Asked when the coats come back",
];

use Category::{Children, Men, Women};
use GarmentKind as K;
use Material as M;
use SeasonClass::{AllSeason, SpringAutumn, Summer, Winter};

/// A kind of garment with the season and material pairs that fit it.
struct Template {
    kind: GarmentKind,
    weight: u32,
    who: &'static [Category],
    variants: &'static [(SeasonClass, Material)],
}

#[rustfmt::skip]
const CATALOGUE: &[Template] = &[
    Template { kind: K::Coat, weight: 8, who: &[Men, Women], variants: &[(Winter, M::Wool), (Winter, M::Wool), (Winter, M::Cashmere), (Winter, M::Fur), (Winter, M::Leather)] },
    Template { kind: K::Coat, weight: 2, who: &[Children], variants: &[(Winter, M::Wool), (Winter, M::Synthetic)] },
    Template { kind: K::DownJacket, weight: 8, who: &[Men, Women, Children], variants: &[(Winter, M::Down)] },
    Template { kind: K::Jacket, weight: 6, who: &[Men, Women, Children], variants: &[(SpringAutumn, M::Leather), (SpringAutumn, M::Suede), (SpringAutumn, M::Denim), (SpringAutumn, M::Synthetic), (SpringAutumn, M::Cotton)] },
    Template { kind: K::Suit, weight: 5, who: &[Men, Women], variants: &[(AllSeason, M::Wool), (AllSeason, M::Blend), (Summer, M::Linen)] },
    Template { kind: K::Blazer, weight: 4, who: &[Men, Women], variants: &[(SpringAutumn, M::Wool), (Summer, M::Linen), (AllSeason, M::Blend)] },
    Template { kind: K::Trousers, weight: 8, who: &[Men, Women, Children], variants: &[(AllSeason, M::Wool), (AllSeason, M::Cotton), (Summer, M::Linen), (AllSeason, M::Blend)] },
    Template { kind: K::Skirt, weight: 4, who: &[Women], variants: &[(Summer, M::Silk), (Summer, M::Linen), (Summer, M::Cotton), (AllSeason, M::Wool)] },
    Template { kind: K::Dress, weight: 6, who: &[Women, Children], variants: &[(Summer, M::Silk), (Summer, M::Cotton), (Summer, M::Linen), (AllSeason, M::Blend)] },
    Template { kind: K::Shirt, weight: 10, who: &[Men, Children], variants: &[(AllSeason, M::Cotton), (AllSeason, M::Cotton), (Summer, M::Linen), (AllSeason, M::Blend)] },
    Template { kind: K::Blouse, weight: 6, who: &[Women], variants: &[(Summer, M::Silk), (AllSeason, M::Cotton), (AllSeason, M::Silk)] },
    Template { kind: K::Sweater, weight: 7, who: &[Men, Women, Children], variants: &[(Winter, M::Wool), (Winter, M::Cashmere), (SpringAutumn, M::Cotton), (SpringAutumn, M::Wool)] },
    Template { kind: K::TShirt, weight: 6, who: &[Men, Women, Children], variants: &[(Summer, M::Cotton)] },
    Template { kind: K::Jeans, weight: 4, who: &[Men, Women, Children], variants: &[(AllSeason, M::Denim)] },
    Template { kind: K::Scarf, weight: 3, who: &[Men, Women], variants: &[(Winter, M::Cashmere), (Winter, M::Wool), (SpringAutumn, M::Silk)] },
    Template { kind: K::Tie, weight: 2, who: &[Men], variants: &[(AllSeason, M::Silk)] },
    Template { kind: K::Uniform, weight: 4, who: &[Children], variants: &[(AllSeason, M::Blend), (AllSeason, M::Cotton)] },
    Template { kind: K::Sportswear, weight: 3, who: &[Men, Women, Children], variants: &[(AllSeason, M::Synthetic)] },
    Template { kind: K::Bedding, weight: 2, who: &[Men, Women], variants: &[(Winter, M::Down), (AllSeason, M::Cotton), (Summer, M::Silk)] },
    Template { kind: K::Curtain, weight: 1, who: &[Men, Women], variants: &[(AllSeason, M::Linen), (AllSeason, M::Synthetic)] },
];

/// The usual service and price range (cents) for a garment: the company's price list.
fn price_list(kind: GarmentKind, material: Material) -> (Service, i64, i64) {
    match (kind, material) {
        (_, M::Leather | M::Suede | M::Fur) => (Service::LeatherCare, 20_000, 40_000),
        (K::Coat, _) => (Service::DryClean, 8_000, 20_000),
        (K::DownJacket, _) => (Service::DryClean, 8_000, 16_000),
        (K::Suit, _) => (Service::DryClean, 6_000, 12_000),
        (K::Blazer | K::Jacket, _) => (Service::DryClean, 4_000, 9_000),
        (K::Dress | K::Skirt | K::Blouse, M::Silk) => (Service::DryClean, 4_000, 9_000),
        (K::Sweater | K::Scarf, M::Cashmere) => (Service::DryClean, 4_000, 8_000),
        (K::Sweater | K::Scarf, _) => (Service::DryClean, 2_500, 5_000),
        (K::Shirt | K::Blouse | K::Uniform, _) => (Service::WashAndPress, 1_500, 3_000),
        (K::Trousers | K::Skirt | K::Dress, _) => (Service::DryClean, 2_000, 4_500),
        (K::Tie, _) => (Service::DryClean, 1_500, 3_000),
        (K::Bedding, _) => (Service::Wash, 5_000, 12_000),
        (K::Curtain, _) => (Service::Wash, 4_000, 10_000),
        _ => (Service::Wash, 1_000, 2_500),
    }
}

fn size_for(rng: &mut impl Rng, who: Category, kind: GarmentKind, special: bool) -> Option<String> {
    if matches!(kind, K::Scarf | K::Tie | K::Bedding | K::Curtain) {
        return None;
    }
    let s = match (who, special, kind) {
        (Children, false, _) => format!("{}", 100 + 10 * rng.gen_range(0..7)),
        (Children, true, _) => format!("{} tall", 150 + 10 * rng.gen_range(0..3)),
        (Men, false, K::Suit | K::Blazer) => format!("{}", 46 + 2 * rng.gen_range(0..5)),
        (Men, true, K::Suit | K::Blazer) => {
            format!("{}", [58, 60, 62, 102, 106][rng.gen_range(0..5)])
        }
        (Women, false, K::Suit | K::Blazer | K::Dress) => {
            format!("{}", 34 + 2 * rng.gen_range(0..5))
        }
        (_, false, _) => ["S", "M", "L", "XL", "XXL"][rng.gen_range(0..5)].to_owned(),
        (Women, true, _) => {
            ["XXS petite", "3XL", "4XL", "XS petite", "L tall"][rng.gen_range(0..5)].to_owned()
        }
        (_, true, _) => {
            ["3XL", "4XL", "5XL", "XL tall", "XXL tall"][rng.gen_range(0..5)].to_owned()
        }
    };
    Some(s)
}

fn plan_garment(rng: &mut impl Rng, who: Category, special: bool) -> GarmentPlan {
    let fits: Vec<&Template> = CATALOGUE.iter().filter(|t| t.who.contains(&who)).collect();
    let total: u32 = fits.iter().map(|t| t.weight).sum();
    let mut pick = rng.gen_range(0..total);
    let template = fits
        .iter()
        .find(|t| {
            if pick < t.weight {
                true
            } else {
                pick -= t.weight;
                false
            }
        })
        .unwrap_or(&fits[0]);
    let &(season_class, material) = template
        .variants
        .choose(rng)
        .unwrap_or(&template.variants[0]);
    let (service, lo, hi) = price_list(template.kind, material);
    // Whole yuan, as a price list reads.
    let price_cents = rng.gen_range(lo / 100..=hi / 100) * 100;
    let special_size =
        special && !matches!(template.kind, K::Scarf | K::Tie | K::Bedding | K::Curtain);
    GarmentPlan {
        garment_id: new_id(rng),
        fields: GarmentFields {
            category: who,
            kind: template.kind,
            season_class,
            brand: rng
                .gen_bool(0.8)
                .then(|| BRANDS[rng.gen_range(0..BRANDS.len())].to_owned()),
            cut: None,
            size: size_for(rng, who, template.kind, special_size),
            special_size,
            material: Some(material),
            colour: Some(COLOURS[rng.gen_range(0..COLOURS.len())].to_owned()),
            tag_code: None,
        },
        service,
        price_cents,
        owned_from: NaiveDate::MIN,
        discarded_on: None,
    }
}

/// A day the garment leaves the wardrobe, drawn from an exponential lifetime; none before `horizon`.
fn discard_day(rng: &mut impl Rng, from: NaiveDate, horizon: NaiveDate) -> Option<NaiveDate> {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    let life = (-u.ln() * MEAN_LIFE_YEARS * 365.0).min(1e5) as i64;
    let day = from + days(life.max(1));
    (day < horizon).then_some(day)
}

fn household(rng: &mut impl Rng) -> Vec<Category> {
    let first = if rng.gen_bool(0.55) { Women } else { Men };
    let partner = if first == Women { Men } else { Women };
    match rng.gen_range(0..100) {
        0..=34 => vec![first],
        35..=64 => vec![first, partner],
        65..=86 => vec![first, partner, Children],
        _ => vec![first, partner, Children, Children],
    }
}

/// The season worn in a month in Shanghai, for the everyday pickups.
fn season_of(month: u32) -> SeasonClass {
    match month {
        12 | 1 | 2 => Winter,
        6..=8 => Summer,
        _ => SpringAutumn,
    }
}

fn line_for(rng: &mut impl Rng, g: &GarmentPlan) -> LineRow {
    if rng.gen_bool(0.03) {
        return LineRow {
            garment_id: g.garment_id,
            service: Service::Repair,
            price_cents: rng.gen_range(20..=60) * 100,
            condition_notes: REPAIRS[rng.gen_range(0..REPAIRS.len())].to_owned(),
        };
    }
    let (service, price_cents) = if g.service == Service::WashAndPress && rng.gen_bool(0.1) {
        (Service::Press, (g.price_cents / 2).max(800))
    } else {
        (g.service, g.price_cents)
    };
    LineRow {
        garment_id: g.garment_id,
        service,
        price_cents,
        condition_notes: if rng.gen_bool(0.1) {
            CONDITIONS[rng.gen_range(0..CONDITIONS.len())].to_owned()
        } else {
            String::new()
        },
    }
}

/// Plans one customer's household, wardrobe and history in `[today - years, today)`; pure, so it is unit-tested.
pub fn plan_customer(rng: &mut impl Rng, today: NaiveDate, years: u32) -> CustomerPlan {
    let years = years.max(1);
    let span = i64::from(years) * 365;
    let range_start = today - days(span);
    let customer_id = new_id(rng);

    let start = if rng.gen_bool(0.75) {
        range_start
    } else {
        range_start + days(rng.gen_range(0..span * 4 / 5))
    };
    let second_year = if years >= 2 {
        today - days(365)
    } else {
        range_start + days(span / 2)
    };
    let churn_from = second_year.max(start + days(30));
    let churned_on = (rng.gen_bool(0.15) && churn_from < today)
        .then(|| churn_from + days(rng.gen_range(0..(today - churn_from).num_days())));
    // Visits are planned past today (for the ground truth); only those before today are history.
    let end = churned_on.unwrap_or(today + days(FUTURE_DAYS));

    let members = household(rng);
    // Special sizes cluster: a few households dress almost entirely in them, some more have one such member.
    let special_customer = rng.gen_bool(0.06);
    let special_member =
        (!special_customer && rng.gen_bool(0.07)).then(|| rng.gen_range(0..members.len()));
    let garment_count = if special_customer {
        rng.gen_range(28..=40)
    } else {
        rng.gen_range(8..=40)
    };
    let horizon = today + days(FUTURE_DAYS);
    let mut garments: Vec<GarmentPlan> = Vec::with_capacity(garment_count * 3 / 2);
    for i in 0..garment_count {
        let m = if i < members.len() {
            i
        } else {
            rng.gen_range(0..members.len())
        };
        let special = if special_customer {
            rng.gen_bool(0.95)
        } else {
            special_member == Some(m) && rng.gen_bool(0.85)
        };
        let mut g = plan_garment(rng, members[m], special);
        g.owned_from = start;
        // The wardrobe turns over: garments are thrown away, most replaced by a new one of the same wearer.
        g.discarded_on = discard_day(rng, start, horizon);
        if let Some(gone) = g.discarded_on.filter(|_| rng.gen_bool(REPLACED)) {
            let mut new = plan_garment(rng, members[m], special);
            new.owned_from = gone;
            new.discarded_on = discard_day(rng, gone, horizon);
            garments.push(new);
        }
        garments.push(g);
    }

    let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())];
    let given = GIVEN[rng.gen_range(0..GIVEN.len())];
    let consent = rng.gen_bool(0.9);
    let do_not_contact = rng.gen_bool(0.03);
    let fields = CustomerFields {
        name: format!("{surname} {given}"),
        phone: Phone::parse(&format!(
            "+86 1{}{} {:04} {:04}",
            rng.gen_range(3..=9),
            rng.gen_range(0..10),
            rng.gen_range(0..10_000),
            rng.gen_range(0..10_000)
        ))
        .ok(),
        address: Some(format!(
            "Room {}{:02}, {} {}, Shanghai",
            rng.gen_range(1..=32),
            rng.gen_range(1..=8),
            rng.gen_range(1..=999),
            ROADS[rng.gen_range(0..ROADS.len())]
        )),
        notes: if special_customer {
            "Wears special sizes".to_owned()
        } else {
            String::new()
        },
        label_consent_at: consent.then(|| at_local(rng, start)),
        label_consent_method: consent.then(|| {
            if rng.gen_bool(0.7) {
                "signed form"
            } else {
                "verbal at door"
            }
            .to_owned()
        }),
        do_not_contact,
    };
    let door_code = consent.then(|| DoorCode::generate(rng));

    // Seasonal habits: a personal day in the spring and autumn put-away windows, jittered each year.
    let route = rng.gen_range(0..PICKUP_WORKERS);
    let spring_day = rng.gen_range(0..92i64);
    let autumn_day = rng.gen_range(0..91i64);
    // Some households put away every season, some often skip; of what they own, they send a share (the rest
    // is kept in use, cleaned elsewhere or at home).
    let compliance = rng.gen_range(0.55..1.0);
    let send_share = rng.gen_range(0.6..1.0);
    let regular_every = rng.gen_bool(0.65).then(|| rng.gen_range(14..=56i64));
    let mut visits: Vec<(NaiveDate, &[SeasonClass])> = Vec::new();
    for year in range_start.year()..=end.year() {
        let windows: [(u32, i64, &[SeasonClass]); 2] =
            [(3, spring_day, &[Winter]), (9, autumn_day, &[Summer])];
        for (month, offset, seasons) in windows {
            let Some(open) = NaiveDate::from_ymd_opt(year, month, 1) else {
                continue;
            };
            let day = open + days((offset + rng.gen_range(-10..=10)).clamp(0, 90));
            if day >= start && day < end && rng.gen_bool(compliance) {
                visits.push((day, seasons));
            }
        }
    }
    let (every, jitter) = match regular_every {
        Some(every) => (every, 30),
        None => (rng.gen_range(60..=150), 40),
    };
    let mut day = start + days(rng.gen_range(0..every));
    while day < end {
        visits.push((day, &[]));
        let step = every + rng.gen_range(-every * jitter / 100..=every * jitter / 100);
        day += days(step.max(7));
    }
    visits.sort_by_key(|v| v.0);

    let mut pickups = Vec::with_capacity(visits.len());
    for (day, put_away) in visits {
        let mut chosen: Vec<&GarmentPlan> = if put_away.is_empty() {
            let now = season_of(day.month());
            let pool: Vec<&GarmentPlan> = garments
                .iter()
                .filter(|g| {
                    g.owned_on(day)
                        && (g.fields.season_class == AllSeason || g.fields.season_class == now)
                })
                .collect();
            let n = rng.gen_range(1..=5).min(pool.len());
            pool.choose_multiple(rng, n).copied().collect()
        } else {
            garments
                .iter()
                .filter(|g| {
                    g.owned_on(day)
                        && put_away.contains(&g.fields.season_class)
                        && rng.gen_bool(send_share)
                })
                .collect()
        };
        if chosen.is_empty() {
            continue;
        }
        chosen.sort_by_key(|g| g.garment_id);
        let lines = chosen.into_iter().map(|g| line_for(rng, g)).collect();
        pickups.push(PickupPlan {
            pickup_id: new_id(rng),
            put_away: !put_away.is_empty(),
            collected_at: at_local(rng, day),
            staff: if rng.gen_bool(0.8) {
                route
            } else {
                rng.gen_range(0..PICKUP_WORKERS)
            },
            scanned_label: door_code.is_some() && rng.gen_bool(0.95),
            notes: if rng.gen_bool(0.05) {
                PICKUP_NOTES[rng.gen_range(0..PICKUP_NOTES.len())]
            } else {
                ""
            },
            lines,
        });
    }

    pickups.sort_by_key(|p| p.collected_at);
    let future =
        pickups.split_off(pickups.partition_point(|p| p.collected_at < start_instant(today)));

    let mut interactions = Vec::new();
    if rng.gen_bool(0.08) {
        if let Some(p) = pickups.choose(rng) {
            interactions.push(complaint_about(rng, p, &garments, today, 0.65));
        }
    }
    if rng.gen_bool(0.2) {
        interactions.push(InteractionPlan {
            kind: InteractionKind::Note,
            channel: Channel::Other,
            body: NOTES[rng.gen_range(0..NOTES.len())].to_owned(),
            occurred_at: at_local(rng, start),
            resolution: None,
            resolved_at: None,
        });
    }
    if !do_not_contact {
        for _ in 0..rng.gen_range(0..=2) {
            let day = start + days(rng.gen_range(0..(end.min(today) - start).num_days().max(1)));
            interactions.push(InteractionPlan {
                kind: InteractionKind::Call,
                channel: Channel::Phone,
                body: CALLS[rng.gen_range(0..CALLS.len())].to_owned(),
                occurred_at: at_local(rng, day.min(today - days(1))),
                resolution: None,
                resolved_at: None,
            });
        }
    }

    // Drawn last, so the rest of a household's plan is the same as before leavers complained.
    if let (Some(_), Some(last)) = (churned_on, pickups.last()) {
        if rng.gen_bool(LEAVING_COMPLAINT) {
            let c = complaint_about(rng, last, &garments, today, LEAVING_COMPLAINT_RESOLVED);
            interactions.push(c);
        }
    }

    CustomerPlan {
        customer_id,
        fields,
        door_code,
        members,
        garments,
        pickups,
        future,
        interactions,
        start,
        churned_on,
        put_away_days: (spring_day, autumn_day),
        compliance,
    }
}

/// The moment `today` starts in Shanghai.
fn start_instant(today: NaiveDate) -> DateTime<Utc> {
    (today.and_time(NaiveTime::MIN) - chrono::Duration::hours(SHANGHAI_HOURS)).and_utc()
}

/// The last moment before `today` starts in Shanghai.
fn end_instant(today: NaiveDate) -> DateTime<Utc> {
    start_instant(today) - chrono::Duration::minutes(1)
}

/// A complaint about pickup `p`, made 2-10 days after it (before `today`), resolved with chance `resolved`.
fn complaint_about(
    rng: &mut impl Rng,
    p: &PickupPlan,
    garments: &[GarmentPlan],
    today: NaiveDate,
    resolved: f64,
) -> InteractionPlan {
    let kind = garments
        .iter()
        .find(|g| {
            p.lines
                .first()
                .is_some_and(|l| l.garment_id == g.garment_id)
        })
        .map_or("garment", |g| kind_name(g.fields.kind));
    let (body, resolution) = COMPLAINTS[rng.gen_range(0..COMPLAINTS.len())];
    let occurred = (p.collected_at + days(rng.gen_range(2..=10))).min(end_instant(today));
    let resolution = rng.gen_bool(resolved).then_some(resolution);
    InteractionPlan {
        kind: InteractionKind::Complaint,
        channel: if rng.gen_bool(0.6) {
            Channel::Phone
        } else {
            Channel::App
        },
        body: body.replace("{kind}", kind),
        occurred_at: occurred,
        resolution,
        resolved_at: resolution
            .map(|_| (occurred + days(RESOLVED_AFTER_DAYS)).min(end_instant(today))),
    }
}

fn kind_name(kind: GarmentKind) -> &'static str {
    match kind {
        K::Coat => "coat",
        K::Jacket => "jacket",
        K::DownJacket => "down jacket",
        K::Suit => "suit",
        K::Blazer => "blazer",
        K::Trousers => "trousers",
        K::Skirt => "skirt",
        K::Dress => "dress",
        K::Shirt => "shirt",
        K::Blouse => "blouse",
        K::Sweater => "sweater",
        K::TShirt => "T-shirt",
        K::Jeans => "jeans",
        K::Scarf => "scarf",
        K::Tie => "tie",
        K::Uniform => "uniform",
        K::Sportswear => "sportswear",
        K::Bedding => "duvet",
        K::Curtain => "curtain",
        K::Other => "garment",
    }
}

#[cfg(test)]
mod tests;
