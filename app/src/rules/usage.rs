//! What the usage pages offer.

/// The per-day chart's ranges in days: the first is the default, and the server sends as many
/// days as the last one.
pub const CHART_DAY_CHOICES: [u32; 2] = [30, 90];

/// The longest chart range, in days.
pub const CHART_DAYS_MAX: u32 = CHART_DAY_CHOICES[CHART_DAY_CHOICES.len() - 1];
