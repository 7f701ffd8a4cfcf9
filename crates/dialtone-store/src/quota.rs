//! Token-bucket arithmetic for quotas stored as (tokens, last update).

/// A bucket of `capacity` tokens that refills `refill_per_day` a day.
pub struct Bucket {
    /// Most tokens it holds.
    pub capacity: u64,
    /// Tokens added per day.
    pub refill_per_day: u64,
}

const DAY_MS: u128 = 86_400_000;

impl Bucket {
    /// Tokens after refilling from `updated_ms` to `now_ms`, then taking `wanted`:
    /// `(left, None)` when there were enough, `(available, Some(seconds to wait))` if not.
    pub fn take(
        &self,
        tokens: u64,
        updated_ms: i64,
        now_ms: i64,
        wanted: u64,
    ) -> (u64, Option<u64>) {
        let elapsed = u128::try_from(now_ms.saturating_sub(updated_ms).max(0)).unwrap_or(0);
        let refill = elapsed * u128::from(self.refill_per_day) / DAY_MS;
        let available = u64::try_from((u128::from(tokens) + refill).min(u128::from(self.capacity)))
            .unwrap_or(self.capacity);
        if wanted <= available {
            return (available - wanted, None);
        }
        let missing = u128::from(wanted - available);
        let wait = if self.refill_per_day == 0 || wanted > self.capacity {
            u64::MAX / 2
        } else {
            let ms = (missing * DAY_MS).div_ceil(u128::from(self.refill_per_day));
            u64::try_from(ms.div_ceil(1000)).unwrap_or(u64::MAX / 2)
        };
        (available, Some(wait.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::Bucket;

    #[test]
    fn takes_refills_and_caps() {
        let b = Bucket {
            capacity: 100,
            refill_per_day: 24,
        };
        assert_eq!(b.take(100, 0, 0, 60), (40, None));
        assert_eq!(b.take(40, 0, 0, 60), (40, Some(20 * 3600)));
        // Five hours later: five tokens more.
        assert_eq!(b.take(40, 0, 5 * 3_600_000, 45), (0, None));
        // Never above capacity.
        assert_eq!(b.take(90, 0, 100 * 86_400_000, 100), (0, None));
        // More than the bucket ever holds: a very long wait.
        assert!(b.take(100, 0, 0, 101).1.unwrap() > 1_000_000);
    }
}
