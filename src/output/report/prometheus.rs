//! Prometheus text exposition (format 0.0.4) of every policy's run: the mean over
//! replications of each metric, labelled by scenario and policy. A mean over
//! replications is not a count that only grows, so every series is a gauge, and
//! ratesim's own families carry no `_total` suffix (`ratesim_attempts`,
//! `ratesim_rejections{policy,provider,status}`, ...). The article's metric names are
//! kept as it writes them, generalised to every provider and status: `claude_429_total`,
//! `copilot_503_total` (`<provider>_<status>_total`) and `local_hit_ratio` (a linter
//! such as `promtool check metrics` notes the `_total` of those gauges).

use std::fmt::Write;

use super::Exporter;
use crate::stats::summary::Summary;

/// The Prometheus exporter.
pub struct Prometheus;

/// `raw` as a Prometheus metric name: every character other than an ASCII letter, digit
/// or `_` becomes `_`, and a leading digit gets a `_` before it.
pub fn metric_name(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// `v` escaped for a label value (backslash, double quote, newline).
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn value(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{x}")
    }
}

struct Family {
    name: String,
    kind: &'static str,
    help: String,
    samples: Vec<(String, f64)>,
}

impl Exporter for Prometheus {
    fn export(&self, s: &Summary) -> Vec<u8> {
        let mut families: Vec<Family> = Vec::new();
        let mut add = |name: &str, kind: &'static str, help: &str, labels: String, v: f64| {
            let name = metric_name(name);
            match families.iter_mut().find(|f| f.name == name) {
                Some(f) => f.samples.push((labels, v)),
                None => families.push(Family {
                    name,
                    kind,
                    help: help.to_string(),
                    samples: vec![(labels, v)],
                }),
            }
        };
        for (pi, p) in s.policies.iter().enumerate() {
            let base = format!(
                "scenario=\"{}\",policy=\"{}\"",
                label(&s.scenario),
                label(&p.name)
            );
            let mean = |m: &str| s.get(pi, m).map_or(f64::NAN, |e| e.mean);
            for (mi, metric) in s.metrics.iter().enumerate() {
                let v = p.estimates[mi].mean;
                let Some((stem, provider)) = metric.split_once('.') else {
                    continue;
                };
                let pl = format!("{base},provider=\"{}\"", label(provider));
                match stem {
                    "attempts" => add(
                        "ratesim_attempts",
                        "gauge",
                        "Requests sent to a provider (mean over replications).",
                        pl,
                        v,
                    ),
                    "served" => add(
                        "ratesim_served",
                        "gauge",
                        "Requests a provider served (mean over replications).",
                        pl,
                        v,
                    ),
                    "tokens" => add(
                        "ratesim_tokens",
                        "gauge",
                        "Input plus output tokens served (mean over replications).",
                        pl,
                        v,
                    ),
                    "cost_usd" => add(
                        "ratesim_cost_usd",
                        "gauge",
                        "Spend in USD (mean over replications).",
                        pl,
                        v,
                    ),
                    _ => {
                        if let Some(status) = stem.strip_prefix("rejections_") {
                            add(
                                "ratesim_rejections",
                                "gauge",
                                "Rejected requests by provider and HTTP status (mean over replications).",
                                format!("{pl},status=\"{status}\""),
                                v,
                            );
                            add(
                                &format!("{provider}_{status}_total"),
                                "gauge",
                                &format!("The article's name: {status} answers from {provider} (mean over replications)."),
                                base.clone(),
                                v,
                            );
                        }
                    }
                }
            }
            add(
                "local_hit_ratio",
                "gauge",
                "The article's name: share of served requests served locally.",
                base.clone(),
                mean("local_hit_ratio"),
            );
            add(
                "ratesim_rejection_probability",
                "gauge",
                "Rejections per attempt.",
                base.clone(),
                mean("rejection_probability"),
            );
            for (outcome, m) in [("completed", "jobs_completed"), ("failed", "jobs_failed")] {
                add(
                    "ratesim_jobs",
                    "gauge",
                    "Jobs by outcome (mean over replications).",
                    format!("{base},outcome=\"{outcome}\""),
                    mean(m),
                );
            }
            add(
                "ratesim_makespan_seconds",
                "gauge",
                "Start to the last job's end.",
                base.clone(),
                mean("makespan_s"),
            );
            for (q, m) in [
                ("0.5", "job_latency_p50_s"),
                ("0.95", "job_latency_p95_s"),
                ("0.99", "job_latency_p99_s"),
            ] {
                add(
                    "ratesim_job_latency_seconds",
                    "gauge",
                    "Job latency quantiles (mean over replications).",
                    format!("{base},quantile=\"{q}\""),
                    mean(m),
                );
            }
            add(
                "ratesim_monthly_bill_usd",
                "gauge",
                "Projected monthly bill in USD.",
                base.clone(),
                mean("monthly_bill_usd"),
            );
        }
        let mut out = String::new();
        for f in &families {
            let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
            for (labels, v) in &f.samples {
                let _ = writeln!(out, "{}{{{labels}}} {}", f.name, value(*v));
            }
        }
        out.into_bytes()
    }
}
