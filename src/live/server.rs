//! The server: shared state (the providers, the clock, the counters), the router, the
//! request path from body to [`Provider::offer`] to response, and the slot timers that
//! call [`Provider::release`] when a service time is over.
//!
//! Handlers are thin: they read the body (at most [`MAX_BODY`] bytes), let the wire
//! module check it, draw the output size, ask the provider, wait the latency it returns
//! (divided by the time scale) and render. Each provider sits behind its own
//! `std::sync::Mutex`, held only for a call to the provider and never across an
//! `.await` (so a queued request that is dropped can leave the queue from `Drop`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::{oneshot, Semaphore};

use super::metrics::{Metrics, Snapshot};
use super::{
    anthropic, completion_text, openai, sse, Failure, FailureKind, Wire, OUTPUT_TOKENS_HEADER,
    PASSED_HEADER,
};
use crate::dist::Random;
use crate::provider::limiter::{Unit, Usage};
use crate::provider::{Admission, Provider, ProviderSpec, RejectCause};
use crate::rng::{stream, SimRng, Source};
use crate::scenario::Scenario;
use crate::time::{round_u64, Clock, SimDuration, SimTime};
use crate::workload::MAX_TOKENS;

use super::headers::{rate_limit_headers, retry_after_headers, Epoch};

/// The largest request body read (1 MiB); a larger one is a 413.
pub const MAX_BODY: usize = 1 << 20;

/// Requests in progress at once over every route (a stream counts until it ends);
/// beyond it the server answers 529 (Anthropic routes) or 503 (others) at once.
pub const MAX_IN_FLIGHT: usize = 4096;

/// The server's clock: tokio's time since the start, times the scale. Tokio's clock
/// can be paused and advanced by tests, so the whole server runs on virtual time there.
#[derive(Clone, Copy, Debug)]
pub struct ServerClock {
    start: tokio::time::Instant,
    scale: f64,
}

impl ServerClock {
    /// A clock reading zero now and running `scale` simulated seconds per real second
    /// (`scale` must be finite and positive).
    pub fn start(scale: f64) -> Self {
        ServerClock {
            start: tokio::time::Instant::now(),
            scale,
        }
    }

    /// The simulated seconds per real second.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The real instant at which the clock reads `t`.
    pub fn instant_at(&self, t: SimTime) -> tokio::time::Instant {
        let real = Duration::from_nanos(round_u64(t.as_nanos() as f64 / self.scale));
        self.start
            .checked_add(real)
            // Past what an Instant holds: as good as never.
            .unwrap_or_else(|| self.start + Duration::from_secs(100 * 365 * 86_400))
    }
}

impl Clock for ServerClock {
    fn now(&self) -> SimTime {
        let real = self.start.elapsed().as_nanos() as f64;
        SimTime::from_nanos(round_u64(real * self.scale))
    }
}

/// How a server runs.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Simulated seconds per real second.
    pub scale: f64,
    /// Root of the random streams (the scenario's unless overridden).
    pub seed: u64,
    /// Requests in progress at once, over every route.
    pub max_in_flight: usize,
}

/// A queued request's start, sent by the slot timer that started it.
#[derive(Clone, Copy, Debug)]
struct Started {
    at: SimTime,
    latency: SimDuration,
}

/// One provider's live state.
struct Slot {
    provider: Provider<'static>,
    next_ticket: u64,
    /// Queued requests still waiting for a slot, by ticket (at most the in-flight cap).
    waiting: HashMap<u64, oneshot::Sender<Started>>,
}

/// One replication's providers on their own clock. `POST /_ratesim/reset` replaces the
/// server's replica with a fresh one; requests under way finish on the replica they
/// started on (its timers keep running until they do), so a reset never mixes two
/// replications' limiter state.
pub struct Replica {
    replication: u64,
    specs: &'static [ProviderSpec],
    clock: ServerClock,
    epoch: Epoch,
    slots: Vec<Mutex<Slot>>,
    output_tokens: Random,
    output_rng: Mutex<SimRng>,
    metrics: Arc<Metrics>,
    in_flight: Arc<Semaphore>,
    ids: Arc<AtomicU64>,
}

/// The shared state of a running server: the current [`Replica`] and what outlives a
/// reset (the counters, the in-flight cap, request ids).
pub struct Server {
    seed: u64,
    current: Mutex<Arc<Replica>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the state whole; a panic elsewhere must not take
    // the server down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Server {
    /// A server for `scenario`'s providers, its clock at zero now. The providers are
    /// built as the engine builds replication 0's (`Provider::new(spec, seed, 0,
    /// index)`); their specs are copied and kept for the life of the process (a
    /// provider borrows its spec).
    pub fn new(scenario: &Scenario, options: Options) -> Arc<Server> {
        let specs: &'static [ProviderSpec] =
            Box::leak(scenario.providers.clone().into_boxed_slice());
        let first = Replica::new(
            specs,
            scenario.workload.output_tokens.clone(),
            options.seed,
            0,
            options.scale,
            Arc::new(Metrics::default()),
            Arc::new(Semaphore::new(options.max_in_flight)),
            Arc::new(AtomicU64::new(1)),
        );
        Arc::new(Server {
            seed: options.seed,
            current: Mutex::new(Arc::new(first)),
        })
    }

    /// The replica serving new requests.
    pub fn current(&self) -> Arc<Replica> {
        Arc::clone(&lock(&self.current))
    }

    /// Replaces the replica by a fresh one: replication `replication`'s providers (the
    /// engine's `Provider::new(spec, seed, replication, index)`) and output sizes, the
    /// clock at zero now. Counters, the in-flight cap and request ids carry on.
    pub fn reset(&self, replication: u64) -> Arc<Replica> {
        let mut current = lock(&self.current);
        let old = &*current;
        let fresh = Arc::new(Replica::new(
            old.specs,
            old.output_tokens.clone(),
            self.seed,
            replication,
            old.clock.scale(),
            Arc::clone(&old.metrics),
            Arc::clone(&old.in_flight),
            Arc::clone(&old.ids),
        ));
        *current = Arc::clone(&fresh);
        fresh
    }

    /// The current replica's clock.
    pub fn clock(&self) -> ServerClock {
        self.current().clock
    }

    /// The live counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.current().metrics)
    }

    /// The providers, in scenario order.
    pub fn specs(&self) -> &'static [ProviderSpec] {
        self.current().specs
    }
}

impl Replica {
    #[allow(clippy::too_many_arguments)]
    fn new(
        specs: &'static [ProviderSpec],
        output_tokens: Random,
        seed: u64,
        replication: u64,
        scale: f64,
        metrics: Arc<Metrics>,
        in_flight: Arc<Semaphore>,
        ids: Arc<AtomicU64>,
    ) -> Replica {
        let slots = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                Mutex::new(Slot {
                    provider: Provider::new(spec, seed, replication, i as u32),
                    next_ticket: 0,
                    waiting: HashMap::new(),
                })
            })
            .collect();
        Replica {
            replication,
            specs,
            clock: ServerClock::start(scale),
            epoch: Epoch::new(scale),
            slots,
            output_tokens,
            output_rng: Mutex::new(stream(seed, replication, Source::OutputTokens)),
            metrics,
            in_flight,
            ids,
        }
    }

    /// The replication whose random streams this replica's providers draw.
    pub fn replication(&self) -> u64 {
        self.replication
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.name == name)
    }

    fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }

    /// The output tokens of the next request: `asked` (the client's
    /// [`OUTPUT_TOKENS_HEADER`]) or else the next draw of the workload's output
    /// distribution (one stream, seeded like the replication's output sizes), capped at
    /// `max_tokens`; and whether the cap cut it.
    fn output(&self, max_tokens: Option<u64>, asked: Option<u64>) -> (u64, bool) {
        let drawn = match asked {
            Some(n) => n.min(MAX_TOKENS),
            None => {
                let x = self.output_tokens.sample(&mut *lock(&self.output_rng));
                round_u64(x).min(MAX_TOKENS)
            }
        };
        match max_tokens {
            Some(m) if drawn > m => (m, true),
            _ => (drawn, false),
        }
    }

    /// The usage of provider `p`'s limits now, for its headers.
    fn usage(&self, p: usize) -> (SimTime, Vec<Usage>) {
        let slot = lock(&self.slots[p]);
        let now = self.clock.now();
        (now, slot.provider.usage(now).collect())
    }

    /// Starts the timer of a service of provider `p` that ends at `end`: it releases the
    /// slot then, whether or not the client is still there, and starts the next queued
    /// request.
    fn hold_slot(self: &Arc<Self>, p: usize, end: SimTime) {
        let server = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep_until(server.clock.instant_at(end)).await;
            server.release(p, end);
        });
    }

    /// Provider `p`'s service ending at `at` is over: frees its slot, and a queued
    /// request starts (its handler learns when, and a timer holds its slot).
    fn release(self: &Arc<Self>, p: usize, at: SimTime) {
        let mut slot = lock(&self.slots[p]);
        if let Some((ticket, latency)) = slot.provider.release(at) {
            self.hold_slot(p, at + latency);
            if let Some(tx) = slot.waiting.remove(&ticket) {
                // A handler gone since is no matter: the timer releases the slot.
                let _ = tx.send(Started { at, latency });
            }
        }
    }

    /// Provider `p`'s state for `/metrics`.
    fn snapshots(&self) -> Vec<Snapshot<'static>> {
        (0..self.slots.len())
            .map(|p| {
                let slot = lock(&self.slots[p]);
                let now = self.clock.now();
                let spec = &self.specs[p];
                let limits = spec
                    .limits
                    .iter()
                    .zip(slot.provider.usage(now))
                    .map(|(l, u)| (l.label(), u.used, u.limit))
                    .collect();
                Snapshot {
                    spec: &self.specs[p],
                    in_flight: slot.provider.in_flight(),
                    queued: slot.provider.queued(),
                    limits,
                }
            })
            .collect()
    }
}

/// A queued request's place in its provider's queue: dropped before it started (the
/// client went away), it leaves the queue.
struct QueuedGuard<'a> {
    server: &'a Replica,
    p: usize,
    ticket: u64,
}

impl Drop for QueuedGuard<'_> {
    fn drop(&mut self) {
        let mut slot = lock(&self.server.slots[self.p]);
        if slot.waiting.remove(&self.ticket).is_some() {
            let now = self.server.clock.now();
            slot.provider.dequeue(now, self.ticket);
        }
    }
}

/// The router: `/{provider}/v1/messages` (Anthropic), `/{provider}/v1/chat/completions`
/// (OpenAI), `/metrics`, `/healthz`; anything else is a 404 in the wire format its path
/// suggests. Every request counts against the in-flight cap until its response body
/// ends.
pub fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route(
            "/{provider}/v1/messages",
            post(messages).fallback(method_not_allowed),
        )
        .route(
            "/{provider}/v1/chat/completions",
            post(chat_completions).fallback(method_not_allowed),
        )
        .route("/metrics", get(metrics).fallback(method_not_allowed))
        .route("/healthz", get(healthz).fallback(method_not_allowed))
        .route("/_ratesim/reset", post(reset).fallback(method_not_allowed))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&server),
            in_flight_cap,
        ))
        .with_state(server)
}

/// The wire format a path asks for, judged by its ending (for errors outside a route).
fn wire_of(path: &str) -> Wire {
    if path.ends_with("/chat/completions") {
        Wire::OpenAi
    } else {
        Wire::Anthropic
    }
}

async fn in_flight_cap(State(server): State<Arc<Server>>, req: Request, next: Next) -> Response {
    let server = server.current();
    let Ok(permit) = Arc::clone(&server.in_flight).try_acquire_owned() else {
        let wire = wire_of(req.uri().path());
        let status = if wire == Wire::Anthropic { 529 } else { 503 };
        server.metrics.unrouted(status);
        let f = Failure::new(
            status,
            FailureKind::Overloaded,
            "the server has too many requests in progress; retry later",
        );
        return failure_response(&server, wire, None, &f, HeaderMap::new());
    };
    let response = next.run(req).await;
    if response.body().size_hint().exact().is_some() {
        // A whole body: the request is over.
        return response;
    }
    // A stream: it holds its permit until it ends or the client goes.
    let (parts, body) = response.into_parts();
    let body = body.into_data_stream().map(move |chunk| {
        let _held = &permit;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(body))
}

/// `POST /_ratesim/reset` with `{"replication": r}` (or an empty body: replication 0):
/// fresh providers on replication r's random streams, the clock at zero now (see
/// [`Server::reset`]). `ratesim replay` calls it before each replication.
async fn reset(State(server): State<Arc<Server>>, body: Bytes) -> Response {
    let replication = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(0)
    } else {
        serde_json::from_slice::<Value>(&body)
            .map_err(|e| format!("the body is not valid JSON: {e}"))
            .and_then(|v| match v.get("replication") {
                None => Ok(0),
                Some(r) => r
                    .as_u64()
                    .ok_or_else(|| format!("replication: expected a whole number >= 0, got {r}")),
            })
    };
    let current = server.current();
    let replication = match replication {
        Ok(r) => r,
        Err(message) => {
            let f = Failure::new(400, FailureKind::Invalid, message);
            return failure_response(&current, Wire::Anthropic, None, &f, HeaderMap::new());
        }
    };
    let fresh = server.reset(replication);
    json_response(
        StatusCode::OK,
        &serde_json::json!({
            "replication": fresh.replication(),
            "time_scale": fresh.clock.scale(),
        }),
        HeaderMap::new(),
    )
}

async fn healthz() -> Response {
    json_response(
        StatusCode::OK,
        &serde_json::json!({ "status": "ok" }),
        HeaderMap::new(),
    )
}

async fn metrics(State(server): State<Arc<Server>>) -> Response {
    let server = server.current();
    let text = server.metrics.render(
        &server.snapshots(),
        server.clock.now().as_secs_f64(),
        server.clock.scale(),
        server.replication,
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn not_found(State(server): State<Arc<Server>>, uri: Uri) -> Response {
    let server = server.current();
    server.metrics.unrouted(404);
    let f = Failure::new(
        404,
        FailureKind::NotFound,
        format!(
            "Unknown request URL: {}. Routes: /{{provider}}/v1/messages, /{{provider}}/v1/chat/completions, /metrics, /healthz, /_ratesim/reset.",
            uri.path()
        ),
    );
    failure_response(&server, wire_of(uri.path()), None, &f, HeaderMap::new())
}

async fn method_not_allowed(State(server): State<Arc<Server>>, uri: Uri) -> Response {
    let server = server.current();
    server.metrics.unrouted(405);
    let f = Failure::new(
        405,
        FailureKind::Invalid,
        format!("{} accepts POST only", uri.path()),
    );
    failure_response(&server, wire_of(uri.path()), None, &f, HeaderMap::new())
}

async fn messages(State(server): State<Arc<Server>>, req: Request) -> Response {
    complete(server, Wire::Anthropic, req).await
}

async fn chat_completions(State(server): State<Arc<Server>>, req: Request) -> Response {
    complete(server, Wire::OpenAi, req).await
}

fn json_response(status: StatusCode, body: &Value, mut headers: HeaderMap) -> Response {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (status, headers, body.to_string()).into_response()
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// The headers every response of a route carries: the time scale and, when a provider
/// took it, which one served (for gateways in front) and a request id.
fn common_headers(server: &Replica, wire: Wire, p: Option<usize>, headers: &mut HeaderMap) {
    set(
        headers,
        "ratesim-time-scale",
        &server.clock.scale().to_string(),
    );
    if let Some(p) = p {
        set(headers, "ratesim-provider", &server.specs[p].name);
    }
    let id = format!("req_ratesim{:012}", server.next_id());
    let name = match wire {
        Wire::Anthropic => "request-id",
        Wire::OpenAi => "x-request-id",
    };
    set(headers, name, &id);
}

fn failure_response(
    server: &Replica,
    wire: Wire,
    p: Option<usize>,
    f: &Failure,
    mut headers: HeaderMap,
) -> Response {
    common_headers(server, wire, p, &mut headers);
    let body = match wire {
        Wire::Anthropic => anthropic::error(f),
        Wire::OpenAi => openai::error(f),
    };
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, &body, headers)
}

/// The rate-limit headers of provider `p` now.
fn limit_headers(server: &Replica, wire: Wire, p: usize) -> HeaderMap {
    let (now, usage) = server.usage(p);
    let mut headers = HeaderMap::new();
    rate_limit_headers(
        wire,
        &server.specs[p],
        &usage,
        now,
        &server.epoch,
        &mut headers,
    );
    headers
}

/// The failure a provider's rejection is, in wire terms.
fn rejection(
    spec: &ProviderSpec,
    status: u16,
    cause: RejectCause,
    refused_tokens: bool,
) -> Failure {
    let name = &spec.name;
    match cause {
        RejectCause::RateLimit => Failure::new(
            status,
            FailureKind::RateLimit {
                tokens: refused_tokens,
            },
            format!(
                "Rate limit reached for {} on {name}; see the retry-after header.",
                if refused_tokens { "tokens" } else { "requests" }
            ),
        ),
        RejectCause::Concurrency => Failure::new(
            status,
            FailureKind::Overloaded,
            format!("{name} is serving as many requests as it can; retry later."),
        ),
        RejectCause::Outage => Failure::new(
            status,
            FailureKind::Overloaded,
            format!("{name} is overloaded (an outage); retry later."),
        ),
        RejectCause::Offline => Failure::new(
            status,
            FailureKind::Unavailable,
            format!("{name} is offline; retry later."),
        ),
    }
}

/// One completion request on `wire`, from its body to its response.
async fn complete(server: Arc<Server>, wire: Wire, req: Request) -> Response {
    let server = server.current();
    let path = req.uri().path().to_string();
    let name = path.split('/').nth(1).unwrap_or("");
    let Some(p) = server.index(name) else {
        server.metrics.unrouted(404);
        let names: Vec<&str> = server.specs.iter().map(|s| s.name.as_str()).collect();
        let f = Failure::new(
            404,
            FailureKind::NotFound,
            format!(
                "no provider `{name}` in this scenario (it has: {})",
                names.join(", ")
            ),
        );
        return failure_response(&server, wire, None, &f, HeaderMap::new());
    };
    let response = answer(&server, wire, p, req).await;
    server.metrics.response(p, wire, response.status().as_u16());
    response
}

async fn answer(server: &Arc<Replica>, wire: Wire, p: usize, req: Request) -> Response {
    let asked = match req.headers().get(OUTPUT_TOKENS_HEADER) {
        None => None,
        Some(v) => match v.to_str().ok().and_then(|t| t.trim().parse::<u64>().ok()) {
            Some(n) => Some(n),
            None => {
                let f = Failure::new(
                    400,
                    FailureKind::Invalid,
                    format!("{OUTPUT_TOKENS_HEADER}: expected a whole number of tokens"),
                );
                return failure_response(server, wire, Some(p), &f, HeaderMap::new());
            }
        },
    };
    let bytes: Bytes = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let f = Failure::new(
                413,
                FailureKind::TooLarge,
                format!("Request body too large: the limit is {MAX_BODY} bytes."),
            );
            return failure_response(server, wire, Some(p), &f, HeaderMap::new());
        }
    };
    let ask = serde_json::from_slice::<Value>(&bytes)
        .map_err(|e| {
            Failure::new(
                400,
                FailureKind::Invalid,
                format!("The request body is not valid JSON: {e}"),
            )
        })
        .and_then(|body| match wire {
            Wire::Anthropic => anthropic::parse(&body),
            Wire::OpenAi => openai::parse(&body),
        });
    let ask = match ask {
        Ok(a) => a,
        Err(f) => return failure_response(server, wire, Some(p), &f, HeaderMap::new()),
    };
    let (output, truncated) = server.output(ask.max_tokens, asked);
    let input = ask.input_tokens;
    let spec = &server.specs[p];
    let (now, admission, ticket, rx) = {
        let mut slot = lock(&server.slots[p]);
        let now = server.clock.now();
        let ticket = slot.next_ticket;
        slot.next_ticket += 1;
        let admission = slot.provider.offer(now, input, output, ticket);
        let rx = (admission == Admission::Queued).then(|| {
            let (tx, rx) = oneshot::channel();
            slot.waiting.insert(ticket, tx);
            rx
        });
        (now, admission, ticket, rx)
    };
    let started = match admission {
        Admission::Serve { latency } => {
            server.hold_slot(p, now + latency);
            Started { at: now, latency }
        }
        Admission::Queued => {
            let guard = QueuedGuard { server, p, ticket };
            let started = match rx {
                Some(rx) => rx.await.ok(),
                None => None,
            };
            drop(guard);
            let Some(started) = started else {
                let f = Failure::new(503, FailureKind::Overloaded, "the request lost its place");
                return failure_response(server, wire, Some(p), &f, HeaderMap::new());
            };
            started
        }
        Admission::Reject {
            status,
            cause,
            hint,
            latency,
            refused,
        } => {
            server.metrics.rejection(p, status);
            let tokens = refused
                .iter()
                .any(|i| spec.limits.get(i).is_some_and(|l| l.unit != Unit::Requests));
            let f = rejection(spec, status, cause, tokens);
            let mut headers = limit_headers(server, wire, p);
            retry_after_headers(hint, &server.epoch, &mut headers);
            set(
                &mut headers,
                "ratesim-sim-time",
                &format!("{:.9}", now.as_secs_f64()),
            );
            tokio::time::sleep_until(server.clock.instant_at(now + latency)).await;
            return failure_response(server, wire, Some(p), &f, headers);
        }
    };
    server.metrics.served(p, input, output);
    let id_n = server.next_id();
    let id = match wire {
        Wire::Anthropic => format!("msg_ratesim{id_n:012}"),
        Wire::OpenAi => format!("chatcmpl-ratesim{id_n:012}"),
    };
    let created = server
        .epoch
        .wall_at(started.at)
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let done = Done {
        id,
        created,
        model: ask.model.clone(),
        input,
        output,
        truncated,
        include_usage: ask.include_usage,
    };
    if ask.stream {
        let mut headers = limit_headers(server, wire, p);
        // A stream's headers go first: its test result is drawn at the start.
        set(&mut headers, PASSED_HEADER, bool_text(server.passes(p)));
        set(
            &mut headers,
            "ratesim-sim-time",
            &format!("{:.9}", started.at.as_secs_f64()),
        );
        common_headers(server, wire, Some(p), &mut headers);
        return sse::respond(
            Arc::clone(server),
            wire,
            p,
            done,
            started.at,
            started.latency,
            headers,
        );
    }
    let end = started.at + started.latency;
    tokio::time::sleep_until(server.clock.instant_at(end)).await;
    let text = completion_text(output);
    let body = match wire {
        Wire::Anthropic => {
            anthropic::message(&done.id, &done.model, &text, truncated, input, output)
        }
        Wire::OpenAi => openai::completion(
            &done.id,
            created,
            &done.model,
            &text,
            truncated,
            input,
            output,
        ),
    };
    let mut headers = limit_headers(server, wire, p);
    // Drawn when the completion is over, as the engine draws it.
    set(&mut headers, PASSED_HEADER, bool_text(server.passes(p)));
    set(
        &mut headers,
        "ratesim-sim-time",
        &format!("{:.9}", started.at.as_secs_f64()),
    );
    common_headers(server, wire, Some(p), &mut headers);
    json_response(StatusCode::OK, &body, headers)
}

/// What a finished completion reports.
pub(crate) struct Done {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub input: u64,
    pub output: u64,
    pub truncated: bool,
    pub include_usage: bool,
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

impl Replica {
    /// Whether a completion of provider `p` passes its job's tests (its `pass_rate`,
    /// on the provider's quality stream, as the engine draws it).
    fn passes(&self, p: usize) -> bool {
        lock(&self.slots[p]).provider.passes()
    }

    /// The status of an outage of provider `p` under way now, if one is.
    pub(crate) fn outage_now(&self, p: usize) -> Option<u16> {
        let mut slot = lock(&self.slots[p]);
        let now = self.clock.now();
        slot.provider.outage_at(now)
    }

    pub(crate) fn spec(&self, p: usize) -> &'static ProviderSpec {
        &self.specs[p]
    }

    pub(crate) fn instant_at(&self, t: SimTime) -> tokio::time::Instant {
        self.clock.instant_at(t)
    }
}

/// The most connections open at once; beyond them the server stops accepting until one
/// closes (the kernel's backlog holds the rest).
pub const MAX_CONNECTIONS: usize = 4096;

/// A TCP listener that keeps at most a fixed number of connections open: each accepted
/// connection holds a permit until it closes.
pub struct CappedListener {
    inner: tokio::net::TcpListener,
    permits: Arc<Semaphore>,
}

impl CappedListener {
    /// `inner`, holding at most `max` connections open at once.
    pub fn new(inner: tokio::net::TcpListener, max: usize) -> Self {
        CappedListener {
            inner,
            permits: Arc::new(Semaphore::new(max)),
        }
    }
}

impl axum::serve::Listener for CappedListener {
    type Io = CappedStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed, so a permit always comes.
        let permit = Arc::clone(&self.permits).acquire_owned().await.ok();
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (
            CappedStream {
                io,
                _permit: permit,
            },
            addr,
        )
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection of a [`CappedListener`]: a TCP stream and its permit.
pub struct CappedStream {
    io: tokio::net::TcpStream,
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl tokio::io::AsyncRead for CappedStream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for CappedStream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
