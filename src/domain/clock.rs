//! Company time: list days and season windows are local dates at the company's fixed UTC offset.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};

/// Shanghai time, the default company offset.
pub const DEFAULT_OFFSET: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(o) => o,
    None => panic!("a fixed offset of 8 hours is valid"),
};

/// The company's clock: turns instants into local days and local days into instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompanyClock {
    /// The company's offset from UTC.
    pub offset: FixedOffset,
}

impl Default for CompanyClock {
    fn default() -> Self {
        CompanyClock {
            offset: DEFAULT_OFFSET,
        }
    }
}

impl CompanyClock {
    /// A clock at this offset.
    pub fn new(offset: FixedOffset) -> Self {
        CompanyClock { offset }
    }

    /// Today in company time.
    pub fn today(&self) -> NaiveDate {
        self.local_day(Utc::now())
    }

    /// The instant a local day begins.
    pub fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        (day.and_time(NaiveTime::MIN) - self.offset).and_utc()
    }

    /// The local day an instant falls on.
    pub fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.offset).date_naive()
    }

    /// The offset in seconds east of UTC, as SQL binds it.
    pub fn offset_secs(&self) -> f64 {
        f64::from(self.offset.local_minus_utc())
    }
}

/// Earliest instant a recorded event (pickup, contact, consent) may carry: anything older is a typo or a wrong
/// date format, and would stretch every history-based figure over decades. `doorstep import` uses it too.
pub fn earliest_event() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(946_684_800, 0).unwrap_or_default()
}

/// How far ahead of the server a device clock may run before an event time is refused.
pub const MAX_CLOCK_AHEAD: chrono::Duration = chrono::Duration::hours(24);

/// The one rule for when a recorded event happened: from 2000-01-01 to a day after `now`.
pub fn check_event_time(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), &'static str> {
    if at < earliest_event() {
        Err("is before 2000: check the date")
    } else if at > now + MAX_CLOCK_AHEAD {
        Err("is more than a day in the future: check the device clock")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_lie_between_2000_and_tomorrow() {
        let now = Utc::now();
        assert!(check_event_time(now, now).is_ok());
        assert!(check_event_time(earliest_event(), now).is_ok());
        let year_1900 = NaiveDate::from_ymd_opt(1900, 1, 1)
            .expect("valid")
            .and_time(NaiveTime::MIN)
            .and_utc();
        assert!(check_event_time(year_1900, now)
            .unwrap_err()
            .contains("2000"));
        assert!(check_event_time(DateTime::<Utc>::MIN_UTC, now).is_err());
        assert!(check_event_time(now + chrono::Duration::hours(25), now).is_err());
    }

    #[test]
    fn local_days_begin_at_local_midnight() {
        let clock = CompanyClock::default();
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("valid date");
        let start = clock.start_of(day);
        assert_eq!(start.to_rfc3339(), "2026-02-28T16:00:00+00:00");
        assert_eq!(clock.local_day(start), day);
        assert_eq!(
            clock.local_day(start - chrono::Duration::seconds(1)),
            day.pred_opt().expect("valid date")
        );
    }
}
