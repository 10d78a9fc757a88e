//! ratesim's integration tests, compiled as one binary: the library's public API and the
//! `ratesim` command as a user meets them. Shared scenario builders live in [`common`].

mod common;

mod architecture;
mod authoring;
mod cli;
mod compare;
mod diff;
mod engine;
mod fuzz;
mod invariants;
mod limiters;
mod outputs;
mod parsing;
mod policies;
mod pr_benchmark;
mod queueing;
mod regression;
mod routing;
mod scaling;
mod scenarios;
mod serve;
mod verdict;
