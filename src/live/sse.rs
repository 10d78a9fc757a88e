//! Streaming responses (`"stream": true`): server-sent events in either wire format,
//! paced by the provider's latency model.
//!
//! The service time is the one [`crate::provider::Provider::offer`] returned, so a
//! stream ends when the simulator's request would. Within it, the text goes out over
//! the generation time, `output tokens / tokens_per_s` (the rate's mean for a drawn
//! one; for a `total` latency, the whole service time), after the rest of the service
//! time, the time to first token: the opening events at the start, at most
//! [`MAX_DELTAS`] deltas evenly over the generation time, the closing events at the
//! end. Before each delta the stream asks the provider whether an outage has begun;
//! if so it ends with the wire's error event (Anthropic `event: error` with
//! `overloaded_error`, OpenAI a `data:` error object and no `[DONE]`). The provider's
//! slot is released by its own timer, whatever the client does.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::server::{Done, Replica};
use super::{anthropic, completion_text, openai, Failure, FailureKind, Wire};
use crate::provider::LatencySpec;
use crate::time::{SimDuration, SimTime};

/// The most `content_block_delta` events (or OpenAI content chunks) in one stream.
pub const MAX_DELTAS: u64 = 64;

/// The time to first token and the generation time of a service of `latency` that
/// produces `output` tokens under `spec`.
pub fn split(spec: &LatencySpec, latency: SimDuration, output: u64) -> (SimDuration, SimDuration) {
    let generation = match spec {
        LatencySpec::Total(_) => latency,
        LatencySpec::Streaming { tokens_per_s, .. } => {
            let tps = tokens_per_s.mean();
            if tps > 0.0 && tps.is_finite() {
                SimDuration::from_secs_f64(output as f64 / tps).min(latency)
            } else {
                SimDuration::ZERO
            }
        }
    };
    (latency - generation, generation)
}

/// The words of `text` cut into `n` nearly equal runs (each after the first keeps its
/// leading space, so the runs concatenate to the text).
fn pieces(text: &str, n: usize) -> Vec<String> {
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() || n == 0 {
        return Vec::new();
    }
    let n = n.min(words.len());
    (0..n)
        .map(|i| {
            let (a, b) = (i * words.len() / n, (i + 1) * words.len() / n);
            let run = words[a..b].join(" ");
            if i == 0 {
                run
            } else {
                format!(" {run}")
            }
        })
        .collect()
}

/// The 200 response of a stream that starts at `at` and lasts `latency`, on `wire`,
/// from provider `p`; `headers` already hold the route's headers.
pub(crate) fn respond(
    server: Arc<Replica>,
    wire: Wire,
    p: usize,
    done: Done,
    at: SimTime,
    latency: SimDuration,
    mut headers: HeaderMap,
) -> Response {
    let (tx, mut rx) = mpsc::channel::<Bytes>(8);
    tokio::spawn(produce(server, wire, p, done, at, latency, tx));
    let body = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|o| o.map(Ok::<_, Infallible>))
    });
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    (StatusCode::OK, headers, Body::from_stream(body)).into_response()
}

async fn produce(
    server: Arc<Replica>,
    wire: Wire,
    p: usize,
    done: Done,
    at: SimTime,
    latency: SimDuration,
    tx: mpsc::Sender<Bytes>,
) {
    let spec = server.spec(p);
    let (ttft, generation) = split(&spec.latency, latency, done.output);
    let text = completion_text(done.output);
    let runs = pieces(&text, done.output.min(MAX_DELTAS) as usize);
    let Done {
        id, created, model, ..
    } = &done;
    let open = match wire {
        Wire::Anthropic => anthropic::stream_start(id, model, done.input),
        Wire::OpenAi => openai::stream_start(id, *created, model),
    };
    if tx.send(Bytes::from(open)).await.is_err() {
        return;
    }
    let n = runs.len() as u64;
    for (i, run) in runs.iter().enumerate() {
        let due = at
            + ttft
            + SimDuration::from_nanos(
                (generation.as_nanos() as u128 * (i as u128 + 1) / n as u128) as u64,
            );
        tokio::time::sleep_until(server.instant_at(due)).await;
        if let Some(status) = server.outage_now(p) {
            let f = Failure::new(
                status,
                FailureKind::Overloaded,
                format!(
                    "{} is overloaded (an outage began during the stream).",
                    spec.name
                ),
            );
            let event = match wire {
                Wire::Anthropic => anthropic::stream_error(&f),
                Wire::OpenAi => openai::stream_error(&f),
            };
            let _ = tx.send(Bytes::from(event)).await;
            return;
        }
        let delta = match wire {
            Wire::Anthropic => anthropic::stream_delta(run),
            Wire::OpenAi => openai::stream_delta(id, *created, model, run),
        };
        if tx.send(Bytes::from(delta)).await.is_err() {
            return;
        }
    }
    tokio::time::sleep_until(server.instant_at(at + latency)).await;
    let close = match wire {
        Wire::Anthropic => anthropic::stream_end(done.truncated, done.input, done.output),
        Wire::OpenAi => openai::stream_end(
            id,
            *created,
            model,
            done.truncated,
            done.include_usage,
            done.input,
            done.output,
        ),
    };
    let _ = tx.send(Bytes::from(close)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Random;

    #[test]
    fn the_generation_time_follows_the_token_rate() {
        let spec = LatencySpec::Streaming {
            ttft: Random::Constant(0.5),
            tokens_per_s: Random::Constant(100.0),
        };
        let (ttft, gen) = split(&spec, SimDuration::from_millis(2500), 200);
        assert_eq!(ttft, SimDuration::from_millis(500));
        assert_eq!(gen, SimDuration::from_secs(2));
    }

    #[test]
    fn pieces_concatenate_to_the_text() {
        let text = completion_text(10);
        let runs = pieces(&text, 3);
        assert_eq!(runs.len(), 3);
        assert_eq!(runs.concat(), text);
        assert!(pieces("", 3).is_empty());
    }
}
