//! The recommendation in words and numbers ([`crate::stats::verdict`]), as lines that
//! the table, the Markdown and `report.md` end with.

use crate::output::human;
use crate::stats::summary::Summary;
use crate::stats::verdict::{Direction, Verdict};

/// A metric's value with its unit: `365 s`, `$34.1`, `0.590`.
pub fn amount(metric: &str, x: f64) -> String {
    if metric.ends_with("_usd") {
        format!("${}", human(x))
    } else if metric.ends_with("_s") {
        format!("{} s", human(x))
    } else {
        human(x)
    }
}

/// What a reader needs to know about policy `p` in one line: how often it fails, its
/// makespan against the bound, its bill, its rejection probability.
pub fn facts(summary: &Summary, p: usize) -> String {
    let mean = |m: &str| summary.get(p, m).map_or(f64::NAN, |e| e.mean);
    let mut parts = Vec::new();
    if let Some(runs) = summary
        .get(p, "runs_with_failure_share")
        .filter(|e| e.n > 0)
    {
        let k = (runs.mean * runs.n as f64).round() as u64;
        parts.push(if k == 0 {
            format!("completes every job in {}/{} runs", runs.n, runs.n)
        } else {
            format!(
                "fails jobs in {k}/{} runs ({} failed a run on average)",
                runs.n,
                human(mean("jobs_failed"))
            )
        });
    }
    let makespan = mean("makespan_s");
    if makespan.is_finite() {
        let over = mean("makespan_over_bound");
        parts.push(if over.is_finite() {
            format!(
                "makespan {} ({}x the bound)",
                amount("makespan_s", makespan),
                human(over)
            )
        } else {
            format!("makespan {}", amount("makespan_s", makespan))
        });
    }
    let bill = mean("monthly_bill_usd");
    if bill.is_finite() {
        parts.push(format!("{}/month", amount("monthly_bill_usd", bill)));
    }
    let rejection = mean("rejection_probability");
    if rejection.is_finite() {
        parts.push(format!("rejection probability {}", human(rejection)));
    }
    parts.join("; ")
}

/// How policy `p` differs from the recommended `r` on the Pareto metrics: "$10.0/month
/// cheaper, 200 s slower".
fn trades(summary: &Summary, p: usize, r: usize) -> String {
    let mean = |q: usize, m: &str| summary.get(q, m).map_or(f64::NAN, |e| e.mean);
    let mut parts = Vec::new();
    let d = mean(p, "monthly_bill_usd") - mean(r, "monthly_bill_usd");
    if d.is_finite() && d != 0.0 {
        let word = if d < 0.0 { "cheaper" } else { "dearer" };
        parts.push(format!(
            "{}/month {word}",
            amount("monthly_bill_usd", d.abs())
        ));
    }
    let d = mean(p, "makespan_s") - mean(r, "makespan_s");
    if d.is_finite() && d != 0.0 {
        let word = if d < 0.0 { "faster" } else { "slower" };
        parts.push(format!("{} {word}", amount("makespan_s", d.abs())));
    }
    let (a, b) = (
        mean(p, "rejection_probability"),
        mean(r, "rejection_probability"),
    );
    if a.is_finite() && b.is_finite() && a != b {
        parts.push(format!(
            "rejection probability {} against {}",
            human(a),
            human(b)
        ));
    }
    if parts.is_empty() {
        "the same means".into()
    } else {
        parts.join(", ")
    }
}

/// The lead over the runner-up, in words.
fn lead(summary: &Summary, v: &Verdict, r: usize) -> String {
    let Some(u) = v.runner_up else {
        return "the only policy that meets the requirements".into();
    };
    let name = &summary.policies[u].name;
    if v.fewer_failures {
        return format!(
            "ahead of the runner-up {name}, which fails more jobs ({} a run against {})",
            human(summary.get(u, "jobs_failed").map_or(f64::NAN, |e| e.mean)),
            human(summary.get(r, "jobs_failed").map_or(f64::NAN, |e| e.mean)),
        );
    }
    let objective = &v.decision.objective;
    let Some(d) = v.lead.filter(|d| d.n >= 2) else {
        return format!(
            "tied with the runner-up {name} on {objective}: fewer than 2 replications define \
             the difference"
        );
    };
    let signed = |x: f64| {
        let text = amount(objective, x.abs());
        if x < 0.0 {
            format!("-{text}")
        } else {
            format!("+{text}")
        }
    };
    let interval = format!(
        "paired 95% CI {} to {}",
        signed(d.ci_low),
        signed(d.ci_high)
    );
    if v.ahead() == Some(true) {
        let word = match v.decision.direction {
            Direction::Minimize => "lower",
            Direction::Maximize => "higher",
        };
        format!(
            "ahead of the runner-up {name}: {objective} {} {word} ({interval})",
            amount(objective, d.mean.abs())
        )
    } else {
        format!(
            "tied with the runner-up {name} on {objective}: the {interval} of the difference \
             contains 0"
        )
    }
}

/// The criteria, in words.
fn criteria(v: &Verdict) -> String {
    let objective = v.decision.objective_text();
    if v.decision.require.is_empty() {
        format!("criteria: {objective}")
    } else {
        let reqs: Vec<String> = v.decision.require.iter().map(|r| r.to_string()).collect();
        format!("criteria: {}, then {objective}", reqs.join(", "))
    }
}

/// The recommendation as lines: the first names the policy (or says that none meets the
/// requirements and names the closest), the rest explain, each indented by two spaces.
/// Empty when the summary has no verdict.
pub fn verdict_lines(summary: &Summary) -> Vec<String> {
    let Some(v) = &summary.verdict else {
        return Vec::new();
    };
    let name = |p: usize| summary.policies[p].name.as_str();
    let mut lines = Vec::new();
    match (v.recommended, v.closest) {
        (Some(r), _) => {
            lines.push(format!("Recommendation: {}", name(r)));
            lines.push(format!("  {}", facts(summary, r)));
            lines.push(format!("  {}", lead(summary, v, r)));
            lines.push(format!("  {}", criteria(v)));
            if let Some(c) = &summary.comparison {
                for &p in c.pareto_front.iter().filter(|&&p| p != r) {
                    lines.push(format!(
                        "  also on the Pareto front: {} ({})",
                        name(p),
                        trades(summary, p, r)
                    ));
                }
            }
        }
        (None, closest) => {
            let reqs: Vec<String> = v.decision.require.iter().map(|r| r.to_string()).collect();
            lines.push(format!(
                "Recommendation: none; no policy meets {}",
                reqs.join(" and ")
            ));
            if let Some(c) = closest {
                lines.push(format!("  closest: {}: {}", name(c), facts(summary, c)));
            }
            lines.push(format!("  {}", criteria(v)));
        }
    }
    lines
}
