//! How each pickup line stands against the earlier lines of its pickup, worked out while the file is read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::Service;

/// What the lines read so far say about one pickup.
struct Pickup {
    first_line: u64,
    lines: u32,
    customer: Option<u32>,
    at: Option<i64>,
    services: Vec<(u32, Service)>,
}

/// A line's place in its pickup (1 for the first) and how it disagrees with the lines before it.
#[derive(Debug, PartialEq, Eq)]
pub struct LineSeen {
    pub pos: u32,
    pub first_line: u64,
    pub too_many: bool,
    pub other_customer: bool,
    pub other_time: bool,
    pub same_service: bool,
}

/// The pickups of one file, keyed by external id, with customer and garment ids interned to keep it small.
#[derive(Default)]
pub struct PickupsSeen {
    pickups: HashMap<Box<str>, Pickup>,
    ids: HashMap<Box<str>, u32>,
}

impl PickupsSeen {
    fn intern(&mut self, id: &str) -> u32 {
        if let Some(&n) = self.ids.get(id) {
            return n;
        }
        let n = self.ids.len() as u32;
        self.ids.insert(id.into(), n);
        n
    }

    /// Records a staged line (lines come in file order) and answers how it stands: a pickup has at most
    /// `max_lines` lines, one customer and one time (as its first line says), and a service once per garment.
    #[allow(clippy::too_many_arguments)]
    pub fn line(
        &mut self,
        line: u64,
        pickup: &str,
        customer: Option<&str>,
        at: Option<DateTime<Utc>>,
        garment: Option<&str>,
        service: Option<Service>,
        max_lines: u32,
    ) -> LineSeen {
        let customer = customer.map(|c| self.intern(c));
        let garment = garment.map(|g| self.intern(g));
        // Staged times keep microseconds, so they are compared as the database will.
        let at = at.map(|t| t.timestamp_micros());
        let p = match self.pickups.get_mut(pickup) {
            Some(p) => p,
            None => self.pickups.entry(pickup.into()).or_insert(Pickup {
                first_line: line,
                lines: 0,
                customer,
                at,
                services: Vec::new(),
            }),
        };
        p.lines += 1;
        let later = p.lines > 1;
        let same_service = match (garment, service) {
            (Some(g), Some(s)) => {
                let seen = p.services.contains(&(g, s));
                if !seen {
                    p.services.push((g, s));
                }
                seen
            }
            _ => false,
        };
        LineSeen {
            pos: p.lines,
            first_line: p.first_line,
            too_many: p.lines == max_lines + 1,
            other_customer: later && matches!((customer, p.customer), (Some(a), Some(b)) if a != b),
            other_time: later && matches!((at, p.at), (Some(a), Some(b)) if a != b),
            same_service,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_lines_are_held_to_the_first() {
        let t = |s: &str| Some(s.parse::<DateTime<Utc>>().expect("valid test input"));
        let mut seen = PickupsSeen::default();
        let wash = Some(Service::Wash);
        let first = seen.line(
            2,
            "P1",
            Some("C1"),
            t("2026-01-01T00:00:00Z"),
            Some("G1"),
            wash,
            3,
        );
        assert_eq!(
            (first.pos, first.first_line, first.same_service),
            (1, 2, false)
        );
        let other = seen.line(3, "P2", None, None, Some("G1"), wash, 3);
        assert_eq!((other.pos, other.first_line), (1, 3));
        let again = seen.line(
            5,
            "P1",
            Some("C2"),
            t("2026-01-01T00:00:01Z"),
            Some("G1"),
            wash,
            3,
        );
        assert!(again.other_customer && again.other_time && again.same_service);
        assert_eq!((again.pos, again.first_line), (2, 2));
        let unknown = seen.line(6, "P1", None, None, Some("G1"), Some(Service::Press), 3);
        assert!(!unknown.other_customer && !unknown.other_time && !unknown.same_service);
        let fourth = seen.line(
            7,
            "P1",
            Some("C1"),
            t("2026-01-01T00:00:00Z"),
            None,
            None,
            3,
        );
        assert!(fourth.too_many && !fourth.other_customer && !fourth.other_time);
        assert!(!seen.line(8, "P1", None, None, None, None, 3).too_many);
        // A pickup whose first line has no customer holds no later line to one.
        seen.line(9, "P3", None, None, None, None, 3);
        assert!(
            !seen
                .line(10, "P3", Some("C9"), None, None, None, 3)
                .other_customer
        );
    }
}
