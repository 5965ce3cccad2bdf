//! A histogram of gaps between a thread's steps, for pause measurements.

/// Width of the fine buckets, in nanoseconds.
const FINE_NS: u64 = 16;
/// Fine buckets: 16 ns each, up to 64 us; longer gaps go into power-of-two buckets.
const FINE_BUCKETS: usize = 4096;

/// Gaps in nanoseconds: 16 ns buckets below 64 us, then powers of two; the maximum is exact.
///
/// ```
/// let mut h = examples::GapHistogram::new();
/// for ns in [100, 200, 300, 5_000_000] {
///     h.record(ns);
/// }
/// assert_eq!(h.count(), 4);
/// assert_eq!(h.max(), 5_000_000);
/// assert!(h.quantile(0.5) >= 200 && h.quantile(0.5) < 232);
/// assert_eq!(h.quantile(1.0), 5_000_000);
/// ```
#[derive(Clone, Debug)]
pub struct GapHistogram {
    fine: Vec<u64>,
    coarse: [u64; 64],
    max: u64,
    count: u64,
}

impl Default for GapHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl GapHistogram {
    /// An empty histogram.
    pub fn new() -> GapHistogram {
        GapHistogram {
            fine: vec![0; FINE_BUCKETS],
            coarse: [0; 64],
            max: 0,
            count: 0,
        }
    }

    /// Records one gap of `ns` nanoseconds.
    pub fn record(&mut self, ns: u64) {
        self.count += 1;
        self.max = self.max.max(ns);
        let b = (ns / FINE_NS) as usize;
        if b < FINE_BUCKETS {
            self.fine[b] += 1;
        } else {
            self.coarse[(64 - ns.leading_zeros()) as usize] += 1;
        }
    }

    /// The gap at quantile `q` (0 to 1), rounded up to its bucket's bound and never above the
    /// maximum.
    pub fn quantile(&self, q: f64) -> u64 {
        let target = (self.count as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (i, &c) in self.fine.iter().enumerate() {
            seen += c;
            if seen >= target {
                return ((i as u64 + 1) * FINE_NS).min(self.max);
            }
        }
        for (i, &c) in self.coarse.iter().enumerate() {
            seen += c;
            if seen >= target {
                return (1u64 << i).min(self.max);
            }
        }
        self.max
    }

    /// The longest gap recorded.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Gaps recorded.
    pub fn count(&self) -> u64 {
        self.count
    }
}
