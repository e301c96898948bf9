//! The wardrobe lists (reminders, storage upsell, special sizes, customer value, at-risk) as JSON pages or CSV exports.

mod api;
pub mod db;
pub mod expected;
mod kept;
pub mod maintained;
pub mod outlook;
pub mod reminders;
pub mod special_sizes;
pub mod storage_upsell;
pub mod value;
pub mod values;
pub mod why;

use chrono::NaiveDate;

use crate::error::{AppError, AppResult};
use crate::state::Settings;

// List queries are sent unprepared (`persistent(false)`): a cached generic plan chosen for a 50-row page
// is a poor plan for a 5,000-id export, and planning costs little next to these queries.

pub use api::router;

/// A probability as the lists show it: to 0.001.
pub(crate) fn round3(p: f64) -> f64 {
    (p * 1000.0).round() / 1000.0
}

/// The list day: the one asked for, else today in the company's time; refused far from today.
pub fn list_day(settings: &Settings, on: Option<NaiveDate>) -> AppResult<NaiveDate> {
    let today = settings.clock.today();
    let day = on.unwrap_or(today);
    if (day - today).num_days().abs() > 5 * 366 {
        return Err(AppError::invalid(
            "on",
            "must be within five years of today",
        ));
    }
    Ok(day)
}
