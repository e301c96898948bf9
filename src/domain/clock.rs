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

#[cfg(test)]
mod tests {
    use super::*;

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
