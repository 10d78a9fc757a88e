//! # ratesim
//!
//! A discrete-event simulator that answers, before the incident: *for this workload,
//! under these LLM providers' rate limits, which routing and retry policy gives the
//! lowest 429 probability, the shortest makespan and the lowest cost?*
//!
//! Data flows one way:
//!
//! ```text
//! scenario file --parse--> raw serde structs --validate--> typed Scenario   (scenario)
//!     --> engine: workload + providers + policy, one replication, one thread (engine)
//!     --> per-replication metrics --> means with 95% intervals               (run, metrics)
//!     --> exporters: table, CSV, JSON, Markdown                              (report)
//! ```
//!
//! Limiters ([`provider::limiter`]) and policies ([`policy`]) take `now` and return
//! decisions; they know nothing of the engine, so the same code can serve live traffic.
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

pub use time::SimTime;
