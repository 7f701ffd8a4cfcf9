//! Latency histograms (microseconds) and their summaries.

use std::time::Duration;

use anyhow::anyhow;
use hdrhistogram::Histogram;

/// Up to 10 minutes, 3 significant digits.
const HIGHEST_MICROS: u64 = 600_000_000;

/// A latency histogram in microseconds.
pub struct Latencies(Histogram<u64>);

impl Latencies {
    pub fn new() -> anyhow::Result<Latencies> {
        Histogram::new_with_bounds(1, HIGHEST_MICROS, 3)
            .map(Latencies)
            .map_err(|e| anyhow!("histogram: {e}"))
    }

    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(HIGHEST_MICROS)
            .clamp(1, HIGHEST_MICROS);
        self.0.saturating_record(micros);
    }

    pub fn merge(&mut self, other: &Latencies) -> anyhow::Result<()> {
        self.0
            .add(&other.0)
            .map_err(|e| anyhow!("histogram merge: {e}"))
    }

    pub fn summary(&self) -> Summary {
        let ms = |q: f64| self.0.value_at_quantile(q) as f64 / 1000.0;
        Summary {
            p50: ms(0.50),
            p90: ms(0.90),
            p99: ms(0.99),
            max: self.0.max() as f64 / 1000.0,
        }
    }
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    /// `p50 / p90 / p99 / max` in ms.
    pub fn line(&self) -> String {
        format!(
            "{:.1} / {:.1} / {:.1} / {:.1}",
            self.p50, self.p90, self.p99, self.max
        )
    }
}
