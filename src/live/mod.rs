//! Live mode: the scenario's providers served over HTTP (`ratesim serve`) and its
//! workload played against HTTP endpoints (`ratesim replay`), on tokio.
//!
//! Both sides reuse the simulator's IO-free code: the server decides every request with
//! the same [`crate::provider::Provider`] (limiters, admission, latency, outages) on a
//! scaled wall clock, and the load driver routes and retries with the same
//! [`crate::policy::driver::RequestDriver`] and policies, fed the real status codes and
//! rate-limit headers. [`headers`] is the one place the two meet on the wire.
//!
//! The server ([`server`]) holds one provider per scenario provider and calls it the
//! way the engine does (`offer` when a request arrives, `release` when its service
//! time is over, a queued request starting then), on a clock that reads tokio's scaled
//! time ([`server::ServerClock`], so tests pause it). Around it: parsing requests and
//! writing responses in the Anthropic Messages ([`anthropic`]) and OpenAI
//! chat-completions ([`openai`]) formats, streaming them ([`sse`]), and counting what
//! was answered ([`metrics`]).

pub mod anthropic;
pub mod headers;
pub mod metrics;
pub mod openai;
pub mod replay;
pub mod server;
pub mod sse;

/// The request header with which a client (`ratesim replay`) asks a ratesim server for
/// a completion of exactly this many output tokens (capped by `max_tokens`, so the
/// limiters see the simulator's sizes); other servers ignore it.
pub const OUTPUT_TOKENS_HEADER: &str = "ratesim-output-tokens";
/// The header in which a ratesim server says whether the completion passed the job's
/// tests (its provider's `pass_rate`); absent, a completion passes.
pub const PASSED_HEADER: &str = "ratesim-passed";
/// The header naming the provider that served (set by `ratesim serve`, and by gateways
/// that pass it on).
pub const PROVIDER_HEADER: &str = "ratesim-provider";

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

    /// The label used in metrics and messages.
    pub fn name(self) -> &'static str {
        match self {
            Wire::Anthropic => "anthropic",
            Wire::OpenAi => "openai",
        }
    }
}

/// What a request asks for, whichever its wire format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    /// The `model` field, echoed in the response.
    pub model: String,
    /// The most output tokens (`max_tokens`; for OpenAI also `max_completion_tokens`,
    /// optional there).
    pub max_tokens: Option<u64>,
    /// `"stream": true`.
    pub stream: bool,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
    /// Input tokens, from [`estimate_tokens`] over every text of the request.
    pub input_tokens: u64,
}

/// A failure to answer normally, in terms both wire formats can render.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// HTTP status.
    pub status: u16,
    /// What kind of failure.
    pub kind: FailureKind,
    /// The human-readable message.
    pub message: String,
}

/// Kinds of failure, each mapped to an error type by the wire formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// A malformed request (400).
    Invalid,
    /// An unknown provider or path (404).
    NotFound,
    /// A body over the size limit (413).
    TooLarge,
    /// A rate limit refused it; `tokens` when a token limit did (OpenAI's `type`).
    RateLimit {
        /// Whether a token limit (rather than a request limit) refused it.
        tokens: bool,
    },
    /// An outage, the concurrency cap, or the server's own in-flight cap.
    Overloaded,
    /// An offline period (the online-state rule).
    Unavailable,
}

impl Failure {
    /// A failure of `kind` with `status` and `message`.
    pub fn new(status: u16, kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            status,
            kind,
            message: message.into(),
        }
    }
}

/// The input-token estimate of a request whose texts hold `chars` characters (Unicode
/// scalar values) in all: `ceil(chars / 4)`, the usual rule of thumb for English text
/// and code under BPE tokenizers (about four characters a token). No tokenizer is
/// loaded: the count needs no network and no model files, and a client can compute the
/// same number.
///
/// ```
/// assert_eq!(ratesim::live::estimate_tokens(0), 0);
/// assert_eq!(ratesim::live::estimate_tokens(9), 3);
/// ```
pub fn estimate_tokens(chars: u64) -> u64 {
    chars.div_ceil(4)
}

/// Characters of a message `content`: a string, or an array of blocks whose `text`
/// fields count (other blocks, such as images, count nothing). `None` when it is
/// neither.
pub(crate) fn content_chars(content: &serde_json::Value) -> Option<u64> {
    match content {
        serde_json::Value::String(s) => Some(s.chars().count() as u64),
        serde_json::Value::Array(blocks) => Some(
            blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(|t| t.as_str()))
                .map(|t| t.chars().count() as u64)
                .sum(),
        ),
        _ => None,
    }
}

/// Synthetic completion text of `tokens` tokens: one short word a token, at most
/// [`MAX_TEXT_WORDS`] words (the usage still reports every token).
pub fn completion_text(tokens: u64) -> String {
    const WORDS: [&str; 8] = [
        "lorem", "ipsum", "dolor", "sit", "amet", "elit", "sed", "do",
    ];
    let n = tokens.min(MAX_TEXT_WORDS) as usize;
    let mut s = String::with_capacity(n * 6);
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[i % WORDS.len()]);
    }
    s
}

/// The most words a completion's text holds, however many tokens it reports.
pub const MAX_TEXT_WORDS: u64 = 4096;
