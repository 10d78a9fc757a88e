//! `ratesim replay`: the scenario's workload against HTTP endpoints, measured into the
//! same results and outputs as `ratesim run`.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use super::{check_out, write_outputs, AppError};
use crate::cli::ReplayArgs;
use crate::live::replay::{self, Options, Routing, Target};
use crate::live::Wire;
use crate::metrics::timeline::Timeline;
use crate::metrics::{Catalog, Results};
use crate::output::report;
use crate::policy::{PolicySpec, RetrySpec, RouteSpec};
use crate::scenario::{self, Scenario};
use crate::stats::summary::summarize;

/// The path on a `ratesim serve` origin that starts its providers afresh.
pub const RESET_PATH: &str = "/_ratesim/reset";

fn bad(m: impl Into<String>) -> AppError {
    AppError::BadInput(m.into())
}

fn seconds(name: &str, v: f64) -> Result<Duration, AppError> {
    if v.is_finite() && v > 0.0 && v <= 86_400.0 * 7.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(bad(format!(
            "--{name} {v}: must be a positive number of seconds, at most a week"
        )))
    }
}

/// The policies to replay and how each is routed (the scenario cut down to them).
fn routings(
    scenario: &mut Scenario,
    args: &ReplayArgs,
    wire: Wire,
) -> Result<Vec<Routing>, AppError> {
    let none = args.policies.iter().any(|p| p == "none");
    if none {
        if args.policies.len() > 1 {
            return Err(bad(
                "--policy none replays the gateway alone: give no other --policy",
            ));
        }
        let [target] = &args.targets[..] else {
            return Err(bad(format!(
                "--policy none sends every request to one gateway: give one --target URL, not {}",
                args.targets.len()
            )));
        };
        let url = target.split_once('=').map_or(target.as_str(), |(_, u)| u);
        let target = Target::parse(url, wire).map_err(|e| bad(format!("--target {e}")))?;
        let n = scenario.providers.len();
        scenario.policies = vec![PolicySpec {
            name: "gateway".into(),
            route: RouteSpec::Chain((0..n).collect()),
            retry: vec![RetrySpec::default(); n],
            guards: Vec::new(),
            escalate_to: Vec::new(),
            max_fallbacks: None,
            hedge: None,
        }];
        return Ok(vec![Routing::Gateway { policy: 0, target }]);
    }
    let mut targets: Vec<Option<Target>> = vec![None; scenario.providers.len()];
    for t in &args.targets {
        let Some((name, url)) = t.split_once('=') else {
            return Err(bad(format!(
                "--target {t}: give PROVIDER=URL (providers: {})",
                names(scenario)
            )));
        };
        let Some(p) = scenario
            .providers
            .iter()
            .position(|s| s.name == name.trim())
        else {
            return Err(bad(format!(
                "--target {t}: no provider `{name}` in the scenario; valid: {}",
                names(scenario)
            )));
        };
        targets[p] = Some(Target::parse(url, wire).map_err(|e| bad(format!("--target {e}")))?);
    }
    let wanted: Vec<&String> = args.policies.iter().filter(|p| *p != "all").collect();
    if !wanted.is_empty() {
        for w in &wanted {
            if !scenario.policies.iter().any(|p| &&p.name == w) {
                return Err(bad(format!(
                    "--policy {w}: no such policy; valid: {}, all, none",
                    scenario
                        .policies
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        scenario.policies.retain(|p| wanted.contains(&&p.name));
    }
    let routings: Vec<Routing> = (0..scenario.policies.len())
        .map(|policy| Routing::Policy {
            policy,
            targets: targets.clone(),
        })
        .collect();
    for r in &routings {
        replay::check(scenario, r).map_err(|e| bad(e.to_string()))?;
    }
    Ok(routings)
}

fn names(scenario: &Scenario) -> String {
    scenario
        .providers
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The distinct origins of the routings' targets.
fn origins(routings: &[Routing]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in routings {
        let targets: Vec<&Target> = match r {
            Routing::Policy { targets, .. } => targets.iter().flatten().collect(),
            Routing::Gateway { target, .. } => vec![target],
        };
        for t in targets {
            let o = t.origin();
            if !out.contains(&o) {
                out.push(o);
            }
        }
    }
    out
}

/// Asks every ratesim server among `origins` to start its providers afresh on
/// replication `replication`'s random streams; returns the origins that are not ratesim
/// servers (their limits carry over from run to run).
async fn reset(client: &reqwest::Client, origins: &[String], replication: u64) -> Vec<String> {
    let mut foreign = Vec::new();
    for o in origins {
        let ok = client
            .post(format!("{o}{RESET_PATH}"))
            .json(&serde_json::json!({ "replication": replication }))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if !ok {
            foreign.push(o.clone());
        }
    }
    foreign
}

pub(super) fn replay(args: &ReplayArgs, stdout: &mut dyn Write) -> Result<(), AppError> {
    let format = report::format(&args.format)
        .ok_or_else(|| bad(format!("--format {}: no such format", args.format)))?;
    let mut scenario = scenario::load(&args.scenario)?;
    scenario.replications = args.replications;
    if let Some(s) = args.seed {
        scenario.seed = s;
    }
    if !(args.time_scale.is_finite() && args.time_scale > 0.0 && args.time_scale <= 10_000.0) {
        return Err(bad(format!(
            "--time-scale {}: must be a positive number, at most 10000",
            args.time_scale
        )));
    }
    let wire = match args.wire.as_str() {
        "openai" => Wire::OpenAi,
        _ => Wire::Anthropic,
    };
    let options = Options {
        scale: args.time_scale,
        timeout: seconds("timeout", args.timeout)?,
        deadline: seconds("deadline", args.deadline)?,
        events: args.out.is_some(),
    };
    let routings = routings(&mut scenario, args, wire)?;
    if let Some(dir) = &args.out {
        check_out(dir)?;
    }
    let catalog = Catalog::new(&scenario.providers);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .pool_max_idle_per_host(1024)
        .build()
        .context("cannot build the HTTP client")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let origins = origins(&routings);
    let n = scenario.policies.len();
    let mut runs = vec![Vec::new(); n];
    let mut curves = vec![Vec::new(); n];
    let mut events = Vec::new();
    let mut fingerprints = Vec::new();
    let mut warned = false;
    let makespan = catalog.index("makespan_s").expect("a catalog metric");
    for r in 0..scenario.replications as u64 {
        let jobs = scenario.workload.generate(scenario.seed, r);
        fingerprints.push(jobs.fingerprint());
        for routing in &routings {
            let policy = match routing {
                Routing::Policy { policy, .. } | Routing::Gateway { policy, .. } => *policy,
            };
            let started = std::time::Instant::now();
            let foreign = runtime.block_on(reset(&client, &origins, r));
            if !foreign.is_empty() && !warned {
                warned = true;
                eprintln!(
                    "warning: {} did not start afresh ({RESET_PATH}): not a ratesim server, so \
                     its limits carry over from one run to the next",
                    foreign.join(", ")
                );
            }
            let mut live = runtime
                .block_on(replay::replay(
                    &scenario, &catalog, routing, &jobs, r, &client, &options,
                ))
                .map_err(|e| AppError::Other(anyhow::anyhow!("{e}")))?;
            let bound = crate::metrics::bound::policy_bound(&scenario, policy, &jobs);
            crate::runner::fill_bound(&catalog, &mut live.metrics, bound);
            eprintln!(
                "replayed `{}`, replication {r}: makespan {:.1} s of scenario time in {:.1} s \
                 real{}{}",
                scenario.policies[policy].name,
                live.metrics[makespan],
                started.elapsed().as_secs_f64(),
                if live.connection_errors > 0 {
                    format!(", {} connection errors or timeouts", live.connection_errors)
                } else {
                    String::new()
                },
                if live.unattributed > 0 {
                    format!(
                        ", {} answers without a known {} header",
                        live.unattributed,
                        replay::PROVIDER_HEADER
                    )
                } else {
                    String::new()
                },
            );
            runs[policy].push(live.metrics);
            curves[policy].push(crate::runner::curve(live.latencies));
            if r == 0 {
                events.extend(live.events);
            }
        }
    }
    let results = Results {
        catalog,
        policies: scenario.policies.iter().map(|p| p.name.clone()).collect(),
        runs,
        latency_curves: curves,
        timeline: Some(Timeline {
            rows: Vec::new(),
            events,
        }),
        events: 0,
        fingerprints,
    };
    let summary = summarize(&results, &scenario);
    if let Some(dir) = &args.out {
        write_outputs(dir, &scenario, &results, &summary)?;
    }
    stdout
        .write_all(&(format.export)(
            &summary,
            &results,
            &report::Options::default(),
        ))
        .context("cannot write to standard output")?;
    Ok(())
}
