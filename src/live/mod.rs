//! Live mode: the scenario's providers served over HTTP (`ratesim serve`) and its
//! workload played against HTTP endpoints (`ratesim replay`), on tokio.
//!
//! Both sides reuse the simulator's IO-free code: the server decides every request with
//! the same [`crate::provider::Provider`] (limiters, admission, latency, outages) on a
//! scaled wall clock, and the load driver routes and retries with the same
//! [`crate::policy::driver::RequestDriver`] and policies, fed the real status codes and
//! rate-limit headers. [`headers`] is the one place the two meet on the wire.

pub mod headers;
pub mod replay;

/// Which API's wire format a route speaks (and so which rate-limit headers it sends).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Wire {
    /// The Anthropic Messages API (`/v1/messages`), `anthropic-ratelimit-*` headers.
    Anthropic,
    /// The OpenAI chat-completions API (`/v1/chat/completions`), `x-ratelimit-*` headers.
    OpenAi,
}

impl Wire {
    /// The path of the route under a provider's prefix.
    pub fn path(self) -> &'static str {
        match self {
            Wire::Anthropic => "/v1/messages",
            Wire::OpenAi => "/v1/chat/completions",
        }
    }
}
