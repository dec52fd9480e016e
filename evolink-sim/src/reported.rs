//! Figures a task reports differently from the truth, armed by faults at create: a different
//! reservation (a price change upstream), a raw output length (NaN, negative, absurd) or a
//! result link of the test's choosing (hostile links).

use serde_json::{json, Value};

use crate::state::Faults;

/// What a task reports in place of its own figures, when set.
#[derive(Clone, Debug, Default)]
pub struct Reported {
    pub credits_reserved: Option<f64>,
    pub video_duration: Option<Value>,
    pub result_url: Option<String>,
}

impl Reported {
    /// The overrides armed in `faults` when a task is created.
    pub fn from_faults(faults: &Faults) -> Reported {
        Reported {
            credits_reserved: faults.report_credits_reserved,
            video_duration: faults.report_video_duration.clone(),
            result_url: faults.report_result_url.clone(),
        }
    }

    /// Puts the overrides into a task `view`; the result link only once it has one.
    pub fn apply(&self, view: &mut Value) {
        if let Some(credits) = self.credits_reserved {
            view["usage"]["credits_reserved"] = json!(credits);
        }
        if let Some(duration) = &self.video_duration {
            view["task_info"]["video_duration"] = duration.clone();
        }
        if let (Some(url), Some(results)) = (&self.result_url, view.get_mut("results")) {
            *results = json!([url]);
        }
    }
}
