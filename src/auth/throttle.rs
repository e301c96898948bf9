//! Sign-in throttling rules: how many failed sign-ins a username or a client address gets before each next try
//! must wait, doubling up to a cap. The counters live in PostgreSQL (`login_throttle`), so they hold across
//! restarts and instances.

use std::time::Duration;

/// A backoff policy for one kind of subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The `scope` column value.
    pub scope: &'static str,
    /// Failures allowed before the first wait.
    pub free: u32,
    /// The first wait; each further failure doubles it.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

/// Per username: 5 free tries, then 1 s, 2 s, 4 s ... up to 15 minutes between tries.
pub const PER_USERNAME: Policy = Policy {
    scope: "username",
    free: 5,
    base: Duration::from_secs(1),
    max: Duration::from_secs(15 * 60),
};

/// Per client address (over all usernames): 20 free tries, then doubling up to 5 minutes.
pub const PER_ADDRESS: Policy = Policy {
    scope: "address",
    free: 20,
    base: Duration::from_secs(1),
    max: Duration::from_secs(5 * 60),
};

/// Failures are forgotten after this long without a try.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);

impl Policy {
    /// How long the next try must wait after `failures` counted tries (zero while still free).
    pub fn wait_after(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(30);
        self.base
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// Tries a policy lets through in `span`, when each comes as soon as it is allowed (for documentation and tests).
pub fn tries_within(policy: &Policy, span: Duration) -> u32 {
    let mut at = Duration::ZERO;
    let mut tries = 0;
    while at <= span {
        tries += 1;
        at += policy.wait_after(tries);
    }
    tries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_tries_up_to_the_cap() {
        assert_eq!(PER_USERNAME.wait_after(4), Duration::ZERO);
        assert_eq!(PER_USERNAME.wait_after(5), Duration::from_secs(1));
        assert_eq!(PER_USERNAME.wait_after(6), Duration::from_secs(2));
        assert_eq!(PER_USERNAME.wait_after(12), Duration::from_secs(128));
        assert_eq!(PER_USERNAME.wait_after(40), Duration::from_secs(900));
        assert_eq!(PER_USERNAME.wait_after(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn guesses_per_minute_and_hour() {
        // 5 free, then waits of 1+2+4+8+16 s fit in the first minute: 10 guesses.
        assert_eq!(tries_within(&PER_USERNAME, Duration::from_secs(60)), 10);
        // Then waits of 32 s to 8.5 min, and one guess per 15 minutes after that: 17 in the first hour.
        assert_eq!(tries_within(&PER_USERNAME, Duration::from_secs(3600)), 17);
        assert_eq!(tries_within(&PER_ADDRESS, Duration::from_secs(60)), 25);
    }
}
