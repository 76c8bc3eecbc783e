//! The one summary every benchmark table prints: median, min and max of a set of samples.

/// `(median, min, max)` of `samples` (at least one).
pub fn spread(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[0], samples[samples.len() - 1])
}
