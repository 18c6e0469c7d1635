//! Pauses between the attempts of a write that met a concurrent one (optimistic concurrency on one item).

use std::time::Duration;

use rand::Rng;

/// The first attempt's ceiling; each retry doubles it up to [`MAX_CEILING`].
const FIRST_CEILING: Duration = Duration::from_millis(4);
const MAX_CEILING: Duration = Duration::from_millis(128);

/// Exponential backoff with full jitter: each pause is random up to a ceiling that doubles per attempt. Fixed short
/// pauses made fifty checkouts of one store collide again in step until some ran out of time; spread out, each
/// round lets one through and the rest find out sooner whether the stock is gone.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub async fn pause(&mut self) {
        let ceiling = ceiling(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        let millis = rand::rng().random_range(1..=ceiling.as_millis().max(1) as u64);
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
}

fn ceiling(attempt: u32) -> Duration {
    FIRST_CEILING
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(MAX_CEILING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_then_stays_capped() {
        let ceilings: Vec<u128> = (0..8).map(|a| ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, [4, 8, 16, 32, 64, 128, 128, 128]);
        assert_eq!(ceiling(40), MAX_CEILING);
        assert_eq!(ceiling(u32::MAX), MAX_CEILING);
    }
}
