//! Live counters of `ratesim serve` and their Prometheus text exposition (`/metrics`).
//!
//! Unlike `metrics.prom` of a run (means over replications, so gauges), these are
//! counts since the server started, so counters with `_total`: `ratesim_requests_total
//! {provider,api,status}`, `ratesim_rejections_total{provider,status}`,
//! `ratesim_served_total{provider}`, `ratesim_tokens_total{provider,kind}`,
//! `ratesim_unrouted_total{status}` (requests no provider took: an unknown provider or
//! path, a body over the limit, the in-flight cap), and the article's names
//! `<provider>_<status>_total` (`claude_429_total`, `copilot_503_total`: a provider's
//! rejections with that status, one series for every status it can answer) and
//! `local_hit_ratio`; gauges of the state now: `ratesim_in_flight{provider}`,
//! `ratesim_queued{provider}`, `ratesim_limit_used{provider,limit}` and
//! `ratesim_limit_max{provider,limit}` (each rate limit as its headers report it),
//! `ratesim_sim_time_seconds`, `ratesim_replication` and `ratesim_time_scale`. Counters
//! carry on over a `/_ratesim/reset`; the gauges describe the providers after it.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use super::Wire;
use crate::output::report::prometheus::{label, metric_name};
use crate::provider::ProviderSpec;

/// Counts since the server started. Its maps are keyed by a provider index, a wire
/// and a status, so they hold at most providers × 2 × (statuses ratesim answers with)
/// entries, whatever the traffic.
#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    /// (provider, wire, status) -> responses.
    requests: BTreeMap<(usize, u8, u16), u64>,
    /// (provider, status) -> rejections the provider decided.
    rejections: BTreeMap<(usize, u16), u64>,
    /// provider -> (served, input tokens, output tokens).
    served: BTreeMap<usize, (u64, u64, u64)>,
    /// status -> responses without a provider.
    unrouted: BTreeMap<u16, u64>,
}

/// A provider's state at the scrape, for the gauges.
pub struct Snapshot<'a> {
    /// The provider.
    pub spec: &'a ProviderSpec,
    /// Requests in service.
    pub in_flight: u32,
    /// Requests waiting for a slot.
    pub queued: usize,
    /// Each rate limit's (label, used, limit), in the spec's order.
    pub limits: Vec<(String, f64, f64)>,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Counts) -> T) -> T {
        // A panic while counting cannot leave the counts inconsistent: keep going.
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut c)
    }

    /// A response of provider `p` on `wire` with `status`.
    pub fn response(&self, p: usize, wire: Wire, status: u16) {
        self.with(|c| *c.requests.entry((p, wire as u8, status)).or_default() += 1);
    }

    /// Provider `p` rejected a request with `status`.
    pub fn rejection(&self, p: usize, status: u16) {
        self.with(|c| *c.rejections.entry((p, status)).or_default() += 1);
    }

    /// Provider `p` served a request of `input` and `output` tokens.
    pub fn served(&self, p: usize, input: u64, output: u64) {
        self.with(|c| {
            let e = c.served.entry(p).or_default();
            e.0 += 1;
            e.1 = e.1.saturating_add(input);
            e.2 = e.2.saturating_add(output);
        });
    }

    /// A response no provider took, with `status`.
    pub fn unrouted(&self, status: u16) {
        self.with(|c| *c.unrouted.entry(status).or_default() += 1);
    }

    /// The responses of provider `p` with `status` on either wire, so far.
    pub fn responses(&self, p: usize, status: u16) -> u64 {
        self.with(|c| {
            c.requests
                .iter()
                .filter(|((q, _, s), _)| *q == p && *s == status)
                .map(|(_, n)| n)
                .sum()
        })
    }

    /// The Prometheus text (format 0.0.4) of every count and of the providers' state.
    pub fn render(
        &self,
        providers: &[Snapshot<'_>],
        sim_time_s: f64,
        scale: f64,
        replication: u64,
    ) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, v) in samples {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        };
        let name = |p: usize| label(&providers[p].spec.name);
        let wire_name = |w: u8| {
            if w == Wire::Anthropic as u8 {
                Wire::Anthropic.name()
            } else {
                Wire::OpenAi.name()
            }
        };
        let c = self.with(|c| {
            (
                c.requests.clone(),
                c.rejections.clone(),
                c.served.clone(),
                c.unrouted.clone(),
            )
        });
        let (requests, rejections, served, unrouted) = c;
        let samples: Vec<_> = requests
            .iter()
            .map(|(&(p, w, s), &n)| {
                let labels = format!(
                    "provider=\"{}\",api=\"{}\",status=\"{s}\"",
                    name(p),
                    wire_name(w)
                );
                (labels, n as f64)
            })
            .collect();
        family(
            "ratesim_requests_total",
            "counter",
            "Responses by provider, wire format and HTTP status.",
            &samples,
        );
        let samples: Vec<_> = rejections
            .iter()
            .map(|(&(p, s), &n)| (format!("provider=\"{}\",status=\"{s}\"", name(p)), n as f64))
            .collect();
        family(
            "ratesim_rejections_total",
            "counter",
            "Requests a provider rejected (rate limit, concurrency cap, outage, offline), by status.",
            &samples,
        );
        let samples: Vec<_> = (0..providers.len())
            .map(|p| {
                let n = served.get(&p).map_or(0, |s| s.0);
                (format!("provider=\"{}\"", name(p)), n as f64)
            })
            .collect();
        family(
            "ratesim_served_total",
            "counter",
            "Requests a provider served.",
            &samples,
        );
        let samples: Vec<_> = (0..providers.len())
            .flat_map(|p| {
                let (_, i, o) = served.get(&p).copied().unwrap_or_default();
                [
                    (format!("provider=\"{}\",kind=\"input\"", name(p)), i as f64),
                    (
                        format!("provider=\"{}\",kind=\"output\"", name(p)),
                        o as f64,
                    ),
                ]
            })
            .collect();
        family(
            "ratesim_tokens_total",
            "counter",
            "Tokens of the requests a provider served.",
            &samples,
        );
        let samples: Vec<_> = unrouted
            .iter()
            .map(|(s, &n)| (format!("status=\"{s}\""), n as f64))
            .collect();
        family(
            "ratesim_unrouted_total",
            "counter",
            "Responses no provider took (unknown provider or path, body too large, in-flight cap).",
            &samples,
        );
        for (p, snap) in providers.iter().enumerate() {
            let mut statuses = snap.spec.statuses();
            statuses.sort_unstable();
            statuses.dedup();
            for status in statuses {
                let n = rejections.get(&(p, status)).copied().unwrap_or(0);
                let metric = metric_name(&format!("{}_{status}_total", snap.spec.name));
                family(
                    &metric,
                    "counter",
                    &format!(
                        "The article's name: {status} answers from {}.",
                        snap.spec.name
                    ),
                    &[(String::new(), n as f64)],
                );
            }
        }
        let (mut local, mut all) = (0u64, 0u64);
        for (p, snap) in providers.iter().enumerate() {
            let n = served.get(&p).map_or(0, |s| s.0);
            all += n;
            if snap.spec.local {
                local += n;
            }
        }
        let ratio = if all == 0 {
            0.0
        } else {
            local as f64 / all as f64
        };
        family(
            "local_hit_ratio",
            "gauge",
            "The article's name: share of served requests served by local providers.",
            &[(String::new(), ratio)],
        );
        let samples: Vec<_> = providers
            .iter()
            .enumerate()
            .map(|(p, s)| (format!("provider=\"{}\"", name(p)), f64::from(s.in_flight)))
            .collect();
        family(
            "ratesim_in_flight",
            "gauge",
            "Requests in service at a provider.",
            &samples,
        );
        let samples: Vec<_> = providers
            .iter()
            .enumerate()
            .map(|(p, s)| (format!("provider=\"{}\"", name(p)), s.queued as f64))
            .collect();
        family(
            "ratesim_queued",
            "gauge",
            "Requests waiting for a provider's slot.",
            &samples,
        );
        let mut used = Vec::new();
        let mut max = Vec::new();
        for (p, s) in providers.iter().enumerate() {
            for (l, u, m) in &s.limits {
                let labels = format!("provider=\"{}\",limit=\"{}\"", name(p), label(l));
                used.push((labels.clone(), *u));
                max.push((labels, *m));
            }
        }
        family(
            "ratesim_limit_used",
            "gauge",
            "Amount in use of each rate limit.",
            &used,
        );
        family(
            "ratesim_limit_max",
            "gauge",
            "The most each rate limit holds.",
            &max,
        );
        family(
            "ratesim_sim_time_seconds",
            "gauge",
            "The server's simulated clock (zero at start-up and at each reset).",
            &[(String::new(), sim_time_s)],
        );
        family(
            "ratesim_replication",
            "gauge",
            "The replication whose random streams the providers draw (set by /_ratesim/reset).",
            &[(String::new(), replication as f64)],
        );
        family(
            "ratesim_time_scale",
            "gauge",
            "Simulated seconds per real second.",
            &[(String::new(), scale)],
        );
        out
    }
}
