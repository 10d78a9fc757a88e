//! # ratesim
//!
//! A discrete-event simulator that answers, before the incident: *for this workload,
//! under these LLM providers' rate limits, which routing and retry policy gives the
//! lowest 429 probability, the shortest makespan and the lowest cost?*
//!
//! Data flows one way, and the modules follow it:
//!
//! ```text
//! scenario file --parse--> raw serde structs --validate--> typed Scenario      scenario
//!   model: workload (jobs), provider (limits, latency, outages), policy        workload, provider, policy
//!   --> one replication of one policy, one thread; observers watch it          engine
//!   --> per-replication records: metrics, capacity bound, timeline rows        metrics
//!   --> every replication, in parallel, collected in order                     runner
//!   --> estimates with 95% intervals, paired comparison, summary, sweeps       stats
//!   --> exporters, charts, report.md, sweep.csv (plain data in, bytes out)     output
//!   --> the CLI's commands                                                      commands (cli: clap only)
//! ```
//!
//! [`time`] (virtual time and clocks), [`rng`] (one random stream per source), [`dist`]
//! (distributions) and [`keys`] (key paths and the per-kind key reader) are leaves that
//! everything may use. Each module uses only modules before it in this order: the
//! leaves, `provider`, `workload`, `policy`, `scenario`, `metrics` (the records the
//! engine writes), `engine`, `runner`, `stats`, `output`, `live` (HTTP), `cli`,
//! `commands`; a test reads the source and fails on any other use.
//!
//! The decisions are IO-free: limiters ([`provider::limiter`]) and a provider's admission
//! rule ([`provider::limits`]) take `now` and return verdicts; a policy
//! ([`policy::PolicyState`]) decides each send and retry; and each job's
//! [`policy::driver::RequestDriver`] runs the request protocol (copies, hedges and their
//! cancellation, quality-gate re-sends, parking) as inputs in, actions out. The engine
//! only turns those actions into events, so the same code can drive live traffic.
//!
//! Where to add things:
//! - a rate-limiter algorithm: a file in `provider/limiter/`, registered in its `mod.rs`;
//! - a client-side guard: a file in `policy/guard/`, registered in its `mod.rs`;
//! - a routing pick: a file in `policy/pick/`, registered in its `mod.rs`;
//! - a route kind (chain, group, nested target): a file in `policy/route/`, registered in
//!   its `mod.rs`;
//! - an output format: a file in `output/report/` implementing [`output::report::Exporter`],
//!   and its entry in [`output::report::FORMATS`];
//! - a chart of a run: a file in `output/plot/` implementing [`output::plot::Chart`], and
//!   its line in [`output::plot::RUN_CHARTS`];
//! - a metric: its name in [`metrics::Catalog`] and its value in the recorder.
//!
//! The README's design notes list the exact lines each takes.
//!
//! ```
//! let text = r#"
//! replications = 5
//! [workload]
//! kind = "batch"
//! jobs = 20
//! concurrency = 10
//! input_tokens = 1000
//! output_tokens = 200
//! [providers.claude]
//! limits = [{ kind = "sliding_window", window = "60s", limit = 8, unit = "requests" }]
//! latency = { total = "2s" }
//! [[policies]]
//! name = "wait-for-retry-after"
//! route = { kind = "single", provider = "claude" }
//! retry = { max_attempts = 10, honor_retry_after = true }
//! "#;
//! let path = std::path::Path::new("example.toml");
//! let scenario = ratesim::scenario::parse_str(text, path, std::path::Path::new("."), "example").unwrap();
//! let results = ratesim::runner::replicate(&scenario, 1).unwrap();
//! // 20 jobs through 8 requests per sliding minute: the last 4 pass at t = 120 s.
//! let makespan = results.values(0, "makespan_s").unwrap();
//! assert!(makespan.iter().all(|&m| m == 122.0));
//! ```

pub mod cli;
pub mod commands;
pub mod dist;
pub mod engine;
pub mod keys;
pub mod live;
pub mod metrics;
pub mod output;
pub mod policy;
pub mod provider;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod stats;
pub mod time;
pub mod workload;

pub use time::{SimDuration, SimTime};
