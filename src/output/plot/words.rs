//! Axis titles in words with units: well-known metrics and swept keys
//! (`makespan_s` -> "makespan (s)", `providers.claude.limits[0].window` ->
//! "claude limit 0: window (s)"), any other name as it is.

/// Words and unit of a well-known metric (without a `.provider` suffix).
fn metric_words(m: &str) -> Option<(String, &'static str)> {
    let fixed = |w: &str, u| Some((w.to_string(), u));
    match m {
        "rejection_probability" => fixed("rejection probability", "rejections / attempts"),
        "makespan_s" => fixed("makespan", "s"),
        "makespan_bound_s" => fixed("capacity bound on makespan", "s"),
        "makespan_over_bound" => fixed("makespan / capacity bound", "x"),
        "monthly_bill_usd" => fixed("monthly bill", "USD"),
        "cost_usd" => fixed("cost of a run", "USD"),
        "wasted_usd" => fixed("wasted spend of a run", "USD"),
        "cost_per_pass_usd" => fixed("cost per passing completion", "USD"),
        "jobs_failed" => fixed("failed jobs", "per run"),
        "jobs_failed_gave_up" => fixed("jobs failed after every attempt", "per run"),
        "jobs_failed_unadmittable" => fixed("jobs failed, unadmittable", "per run"),
        "jobs_completed" => fixed("completed jobs", "per run"),
        "jobs_failed_share" => fixed("failed jobs", "share of jobs"),
        "runs_with_failure_share" => fixed("runs failing a job", "share of runs"),
        "attempts" => fixed("attempts", "per run"),
        "rejections" => fixed("rejections", "per run"),
        "first_rejection_s" => fixed("time of the first rejection", "s"),
        "jobs_with_rejection_share" => fixed("jobs that saw a rejection", "share"),
        "guard_refusals" => fixed("guard refusals", "per run"),
        "cooldown_s" => fixed("provider time out of rotation", "s"),
        "fallbacks" => fixed("fallbacks", "per run"),
        "hedges" => fixed("hedged copies", "per run"),
        "attempts_per_job" => fixed("attempts per job", "attempts"),
        "job_latency_mean_s" => fixed("mean job latency", "s"),
        "queue_wait_mean_s" => fixed("mean queue wait", "s"),
        "local_hit_ratio" => fixed("share served locally", "share"),
        "pass_share" => fixed("completions passing the tests", "share"),
        "quality_escalations" => fixed("quality escalations", "per run"),
        "served" => fixed("served requests", "per run"),
        "tokens" => fixed("tokens served", "per run"),
        _ => {
            if let Some(q) = m
                .strip_prefix("job_latency_")
                .and_then(|r| r.strip_suffix("_s"))
            {
                return Some((format!("{q} job latency"), "s"));
            }
            let status = m.strip_prefix("rejections_")?;
            status
                .chars()
                .all(|c| c.is_ascii_digit())
                .then(|| (format!("{status} rejections"), "per run"))
        }
    }
}

/// A metric's axis title: words and unit, or the name as it is.
pub fn metric_title(m: &str) -> String {
    let (base, provider) = match m.split_once('.') {
        Some((b, p)) => (b, Some(p)),
        None => (m, None),
    };
    match (metric_words(base), provider) {
        (Some((w, u)), None) => format!("{w} ({u})"),
        (Some((w, u)), Some(p)) => format!("{w} at {p} ({u})"),
        (None, _) => m.to_string(),
    }
}

/// The unit of a swept key, by its last name.
fn key_unit(leaf: &str) -> Option<&'static str> {
    Some(match leaf {
        "concurrency" => "jobs at once",
        "jobs" => "jobs",
        "max_attempts" => "attempts",
        "refill_per_s" => "per s",
        "rate_per_s" => "per s",
        "monthly_tokens" => "tokens",
        "tokens_per_s" => "tokens / s",
        "window"
        | "period"
        | "fill_interval"
        | "base"
        | "cap"
        | "ttl"
        | "reject_latency"
        | "offline_for"
        | "offline_every"
        | "reset_after"
        | "cooldown"
        | "timeout"
        | "retry_after_resolution"
        | "hedge_after"
        | "interval" => "s",
        _ => return None,
    })
}

/// A swept key's axis title: the path in words with its unit
/// (`workload.concurrency` -> "CI concurrency (jobs at once)"), or the path as it is.
pub fn key_title(key: &str) -> String {
    if key == "workload.concurrency" {
        return "CI concurrency (jobs at once)".into();
    }
    let leaf = key
        .rsplit('.')
        .next()
        .unwrap_or(key)
        .trim_end_matches(|c: char| c == ']' || c.is_ascii_digit() || c == '[');
    let Some(unit) = key_unit(leaf) else {
        return key.to_string();
    };
    // providers.claude.limits[0].window -> claude limit 0: window
    let mut words = key.to_string();
    for (container, _) in [("providers.", ""), ("policies.", ""), ("workload.", "")] {
        if let Some(rest) = words.strip_prefix(container) {
            words = rest.to_string();
        }
    }
    let words = match words.rsplit_once('.') {
        Some((owner, leaf)) => format!(
            "{}: {}",
            owner
                .replace("limits[", "limit ")
                .replace(['[', ']'], " ")
                .replace('.', " ")
                .replace("  ", " ")
                .trim(),
            leaf.replace('_', " ")
        ),
        None => words.replace('_', " "),
    };
    format!("{words} ({unit})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_names_get_words_and_units_and_others_stay() {
        assert_eq!(metric_title("makespan_s"), "makespan (s)");
        assert_eq!(metric_title("rejections_429"), "429 rejections (per run)");
        assert_eq!(
            metric_title("cost_usd.claude"),
            "cost of a run at claude (USD)"
        );
        assert_eq!(metric_title("job_latency_p95_s"), "p95 job latency (s)");
        assert_eq!(metric_title("odd_metric"), "odd_metric");
        assert_eq!(
            key_title("workload.concurrency"),
            "CI concurrency (jobs at once)"
        );
        assert_eq!(
            key_title("providers.claude.limits[0].window"),
            "claude limit 0: window (s)"
        );
        assert_eq!(
            key_title("policies.paced-openai.retry.max_attempts"),
            "paced-openai retry: max attempts (attempts)"
        );
        assert_eq!(key_title("providers.local.local"), "providers.local.local");
    }
}
