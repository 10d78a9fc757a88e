//! The recommendation: failures first, then the objective, under the requirements; what
//! it says when no policy meets them; the bundled scenarios' recommendations; the
//! `[decision]` table and the command-line overrides.

use predicates::prelude::*;
use ratesim::metrics::{Catalog, Results};
use ratesim::output::report::verdict::verdict_lines;
use ratesim::output::report::{Exporter, Json};
use ratesim::runner::replicate;
use ratesim::stats::compare::Comparison;
use ratesim::stats::summary::{summarize, Summary};
use ratesim::stats::verdict::{Decision, Direction, Requirement, Verdict};
use tempfile::TempDir;

use crate::common::{bundled, bundled_text, ratesim, scenario, write};

const ONE_PROVIDER: &str = r#"
[workload]
kind = "batch"
jobs = 10
concurrency = 2
input_tokens = 100
output_tokens = 100
[providers.api]
latency = { total = "1s" }
limits = [{ kind = "sliding_window", window = "60s", limit = 8, unit = "requests" }]
[[policies]]
name = "p"
route = { kind = "single", provider = "api" }
"#;

/// Results of policies whose replications have the given values of a few metrics (the
/// rest 0): `policies[p] = (name, [(metric, values per replication)])`.
/// A policy's name and its replications' values of a few metrics.
type Policy<'a> = (&'a str, &'a [(&'a str, &'a [f64])]);

fn results(policies: &[Policy]) -> Results {
    let s = scenario(ONE_PROVIDER);
    let catalog = Catalog::new(&s.providers);
    let reps = policies[0].1[0].1.len();
    let runs = policies
        .iter()
        .map(|(_, values)| {
            (0..reps)
                .map(|r| {
                    let mut row = vec![0.0; catalog.names().len()];
                    for (m, v) in values.iter() {
                        row[catalog.index(m).expect("a metric")] = v[r];
                    }
                    row
                })
                .collect()
        })
        .collect();
    Results {
        catalog,
        policies: policies.iter().map(|(n, _)| n.to_string()).collect(),
        runs,
        latency_curves: Vec::new(),
        timeline: None,
        events: 0,
        fingerprints: Vec::new(),
    }
}

fn verdict(r: &Results, d: &Decision) -> Verdict {
    Verdict::new(d, r, &Comparison::of(r))
}

const NONE: &[f64] = &[0.0, 0.0, 0.0, 0.0];
const ALWAYS: &[f64] = &[1.0, 1.0, 1.0, 1.0];

#[test]
fn giving_up_never_wins_and_the_lead_says_whether_it_is_clear() {
    let r = results(&[
        // Fast because it gives up on 290 jobs in every run.
        (
            "gives-up",
            &[
                ("jobs_failed", &[290.0, 291.0, 290.0, 289.0]),
                ("runs_with_failure_share", ALWAYS),
                ("makespan_s", &[20.0, 21.0, 19.0, 20.0]),
            ],
        ),
        (
            "slow",
            &[
                ("jobs_failed", NONE),
                ("runs_with_failure_share", NONE),
                ("makespan_s", &[400.0, 420.0, 380.0, 410.0]),
            ],
        ),
        (
            "fast",
            &[
                ("jobs_failed", NONE),
                ("runs_with_failure_share", NONE),
                ("makespan_s", &[360.0, 380.0, 341.0, 369.0]),
            ],
        ),
    ]);
    let v = verdict(&r, &Decision::default());
    assert_eq!(v.meets, [2, 1]);
    assert_eq!(
        (v.recommended, v.runner_up, v.closest),
        (Some(2), Some(1), None)
    );
    // fast - slow: -40, -40, -39, -41 s: clearly ahead.
    let lead = v.lead.unwrap();
    assert_eq!(lead.mean, -40.0);
    assert_eq!(v.ahead(), Some(true));
    // With no requirement at all, failures still come first.
    let free = Decision {
        require: Vec::new(),
        ..Decision::default()
    };
    let v = verdict(&r, &free);
    assert_eq!(v.meets, [2, 1, 0]);
    // Maximising makespan without requirements: the one that gives up would win on the
    // objective, but fails more: "slow" is recommended over "fast", and over "gives-up"
    // it would be ahead by failures, whatever the objective says.
    let longest = Decision {
        direction: Direction::Maximize,
        ..free.clone()
    };
    let v = verdict(&r, &longest);
    assert_eq!(v.meets, [1, 2, 0]);
    assert!(!v.fewer_failures);
    let two = results(&[
        (
            "gives-up",
            &[
                ("jobs_failed", &[290.0, 291.0, 290.0, 289.0]),
                ("makespan_s", &[2000.0, 2100.0, 1900.0, 2000.0]),
            ],
        ),
        (
            "slow",
            &[
                ("jobs_failed", NONE),
                ("makespan_s", &[400.0, 420.0, 380.0, 410.0]),
            ],
        ),
    ]);
    let v = verdict(&two, &longest);
    assert_eq!((v.recommended, v.runner_up), (Some(1), Some(0)));
    assert!(v.fewer_failures);
    assert_eq!(
        v.ahead(),
        Some(true),
        "ahead by failures, though lower on the objective"
    );
    // When none meets the requirements, the closest comes from the best failure tier.
    let v = verdict(
        &two,
        &Decision {
            require: vec![Requirement::parse("makespan_s <= 10").unwrap()],
            ..Decision::default()
        },
    );
    assert_eq!((v.recommended, v.closest), (None, Some(1)));
    // Two policies whose difference changes sign are tied.
    let r = results(&[
        ("a", &[("makespan_s", &[100.0, 90.0, 110.0, 95.0])]),
        ("b", &[("makespan_s", &[95.0, 96.0, 104.0, 99.0])]),
    ]);
    let v = verdict(&r, &Decision::default());
    assert_eq!(v.recommended, Some(1));
    assert_eq!(v.ahead(), Some(false));
}

#[test]
fn when_no_policy_meets_the_requirements_the_closest_is_named() {
    let r = results(&[
        (
            "often",
            &[
                ("jobs_failed", &[3.0, 2.0, 4.0, 3.0]),
                ("runs_with_failure_share", ALWAYS),
                ("makespan_s", &[100.0, 100.0, 100.0, 100.0]),
            ],
        ),
        (
            "rarely",
            &[
                ("jobs_failed", &[0.0, 1.0, 0.0, 0.0]),
                ("runs_with_failure_share", &[0.0, 1.0, 0.0, 0.0]),
                ("makespan_s", &[900.0, 900.0, 900.0, 900.0]),
            ],
        ),
    ]);
    let v = verdict(&r, &Decision::default());
    assert_eq!((v.recommended, v.closest), (None, Some(1)));
    assert!(v.meets.is_empty() && v.lead.is_none());
    // A maximised objective: the highest mean first.
    let d = Decision {
        objective: "makespan_s".into(),
        direction: Direction::Maximize,
        require: vec![Requirement::parse("jobs_failed <= 5").unwrap()],
    };
    let v = verdict(&r, &d);
    assert_eq!(
        v.recommended,
        Some(1),
        "fewer failures first, then the objective"
    );
}

/// Runs a bundled scenario with `reps` replications and summarises it.
fn bundled_summary(name: &str, reps: u32) -> Summary {
    let mut s = ratesim::scenario::load(&bundled(name)).unwrap();
    s.replications = reps;
    let r = replicate(&s, 0).unwrap();
    summarize(&r, &s)
}

#[test]
fn every_bundled_scenario_recommends_a_policy_that_completes_every_job() {
    for (name, expected) in [
        ("ci-300x10.toml", Some("failover-chain")),
        ("gateways.toml", None),
        ("anthropic-tier1.toml", Some("sdk-then-local")),
        ("seed-cost-table.toml", None),
    ] {
        let s = bundled_summary(name, 10);
        let v = s.verdict.as_ref().unwrap();
        let r = v
            .recommended
            .unwrap_or_else(|| panic!("{name}: no recommendation"));
        let runs = s.get(r, "runs_with_failure_share").unwrap();
        assert_eq!(runs.mean, 0.0, "{name}: {} fails jobs", s.policies[r].name);
        if let Some(e) = expected {
            assert_eq!(s.policies[r].name, e, "{name}");
        }
        // No policy that also completes every job has a shorter mean makespan.
        let mk = |p: usize| s.get(p, "makespan_s").unwrap().mean;
        for &p in &v.meets {
            assert!(mk(p) >= mk(r), "{name}: {} is faster", s.policies[p].name);
        }
        let lines = verdict_lines(&s);
        assert_eq!(lines[0], format!("Recommendation: {}", s.policies[r].name));
        assert!(
            lines[1].contains("completes every job in 10/10 runs"),
            "{lines:?}"
        );
        // The JSON summary keeps it.
        let back = Summary::from_json(&Json.export(&s)).unwrap();
        let w = back.verdict.unwrap();
        assert_eq!(
            (w.recommended, w.runner_up, &w.meets),
            (v.recommended, v.runner_up, &v.meets)
        );
        assert_eq!(w.decision, v.decision);
    }
}

#[test]
fn decisions_come_from_the_scenario_or_the_command_line() {
    let dir = TempDir::new().unwrap();
    let text = bundled_text("ci-300x10.toml").replace("replications = 100", "replications = 4");
    let cheapest = format!(
        "{text}\n[decision]\nminimize = \"monthly_bill_usd\"\nrequire = [\"jobs_failed <= 100\"]\n"
    );
    let f = write(dir.path(), "cheap.toml", &cheapest);
    ratesim()
        .arg("run")
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "criteria: jobs_failed <= 100, then lowest monthly_bill_usd",
        ));
    // An impossible requirement: none, and the closest.
    ratesim()
        .arg("run")
        .arg(&f)
        .args(["--require", "makespan_s <= 1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Recommendation: none; no policy meets makespan_s <= 1",
        ))
        .stdout(predicate::str::contains("  closest: "));
    // A metric the run does not report, in the scenario or on the command line: exit 2.
    let bad = text.clone() + "\n[decision]\nrequire = [\"runs_failed <= 0\"]\n";
    let g = write(dir.path(), "bad.toml", &bad);
    for cmd in ["run", "validate"] {
        ratesim()
            .arg(cmd)
            .arg(&g)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(
                "`decision.require[0]`: unknown metric `runs_failed`",
            ));
    }
    let h = write(
        dir.path(),
        "syntax.toml",
        &(text.clone() + "\n[decision]\nrequire = [\"makespan_s << 3\"]\n"),
    );
    ratesim()
        .arg("validate")
        .arg(&h)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("decision.require[0]"))
        .stderr(predicate::str::contains("METRIC <= VALUE"));
    let plain = write(dir.path(), "plain.toml", &text);
    ratesim()
        .arg("run")
        .arg(&plain)
        .args(["--maximize", "pass_rate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--maximize: unknown metric `pass_rate`",
        ));
    ratesim()
        .arg("run")
        .arg(&plain)
        .args(["--maximize", "pass_share", "--require", "none"])
        .assert()
        .success()
        .stdout(predicate::str::contains("criteria: highest pass_share\n"));
    ratesim()
        .arg("run")
        .arg(&plain)
        .args(["--require", "makespan_s <= 1", "--require", "none"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--require: `none` drops every requirement",
        ));
    // The command line replaces a [decision] the scenario got wrong.
    ratesim()
        .arg("run")
        .arg(&g)
        .args(["--require", "jobs_failed <= 0"])
        .assert()
        .success();
    // One replication: giving up on 292 jobs is no tie with completing them all.
    ratesim()
        .arg("run")
        .arg(&plain)
        .args(["--replications", "1", "--require", "none"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Recommendation: failover-chain\n"))
        .stdout(predicate::str::contains("1 replication, seed"));
}
