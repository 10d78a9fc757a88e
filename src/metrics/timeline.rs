//! Limiter timelines as data: what each provider's limits held over time in one
//! replication of one policy, and what happened to requests (rejected, fell back,
//! hedged). This is the data behind the chart that shows *why* 429s happen; the engine's
//! timeline observer records it and `timeline.csv` / `events.csv` hold it.

use serde::{Deserialize, Serialize};

/// One policy's timeline: its limit samples and its request events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Limit samples, in time order.
    pub rows: Vec<TimelineRow>,
    /// Request events, in time order.
    pub events: Vec<EventRow>,
}

/// One sample of one series: `value` of `series` (a limit of `provider`) at `t_s`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// Policy.
    pub policy: String,
    /// Provider.
    pub provider: String,
    /// The limit, e.g. `sliding 8/60s requests`, or `in service`.
    pub series: String,
    /// The limit's capacity (empty for a series without one).
    pub capacity: Option<f64>,
    /// Seconds from the start.
    pub t_s: f64,
    /// Amount in use.
    pub value: f64,
}

/// Something that happened to a request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    /// Policy.
    pub policy: String,
    /// Seconds from the start.
    pub t_s: f64,
    /// Provider the request went to (or fell back from).
    pub provider: String,
    /// `served`, `queued`, `rejected`, `fallback` or `hedge`; `truncated` marks the time
    /// from which no more events were recorded (the cap on events per policy).
    pub event: String,
    /// HTTP status of a rejection.
    pub status: Option<u16>,
    /// Provider a fallback moved to, or a hedge went to.
    pub to: Option<String>,
    /// What refused a rejected request: the labels of the limits that refused it (as in
    /// `timeline.csv`'s `series`, joined by ` + `), `in service` for a full concurrency
    /// cap, `outage` or `offline`.
    #[serde(default)]
    pub refused_by: Option<String>,
}
