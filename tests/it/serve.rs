//! `ratesim serve`: the providers over HTTP. In-process on tokio's paused clock (the
//! router called as a service, no sockets): the statuses and hints agree with the
//! simulator's providers driven directly, the wire shapes of both formats, errors,
//! streams, the queue and the in-flight cap, and no panic on any request; then one run
//! of the real binary over loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use proptest::prelude::*;
use ratesim::live::server::{router, Options, Server};
use ratesim::provider::{Admission, Hint, Provider};
use ratesim::rng::{stream, Source};
use ratesim::scenario::Scenario;
use ratesim::time::{round_u64, SimTime};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{bundled, scenario};

fn incident() -> Scenario {
    ratesim::scenario::load(&bundled("ci-300x10.toml")).expect("the bundled scenario")
}

fn server(s: &Scenario, scale: f64) -> Arc<Server> {
    server_capped(s, scale, 4096)
}

fn server_capped(s: &Scenario, scale: f64, max_in_flight: usize) -> Arc<Server> {
    Server::new(
        s,
        Options {
            scale,
            seed: s.seed,
            max_in_flight,
        },
    )
}

/// A request body of `input` tokens (4 characters each) in `wire`'s format.
fn body(openai: bool, input: u64, max_tokens: u64, stream: bool) -> Value {
    let text = "abcd".repeat(input as usize);
    if openai {
        json!({ "model": "gpt-test", "max_tokens": max_tokens, "stream": stream,
                "stream_options": { "include_usage": true },
                "messages": [{ "role": "user", "content": text }] })
    } else {
        json!({ "model": "claude-test", "max_tokens": max_tokens, "stream": stream,
                "messages": [{ "role": "user", "content": text }] })
    }
}

fn post(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(body.into())
        .expect("a request")
}

async fn send(s: &Arc<Server>, req: Request<Body>) -> Response<Body> {
    router(Arc::clone(s))
        .oneshot(req)
        .await
        .expect("infallible")
}

async fn text_of(r: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .expect("a body");
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

async fn json_of(r: Response<Body>) -> Value {
    serde_json::from_str(&text_of(r).await).expect("JSON")
}

fn header<'a>(r: &'a Response<Body>, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The agreement test: a scripted timeline of requests to Claude (sliding windows of 8
/// requests and 25,000 tokens a minute) and Copilot (two token buckets) through the
/// server gets, request by request, the status, the retry-after hint, the simulated
/// time and the response time that the same scenario's `Provider`s give when driven
/// directly with the same times and sizes. A server with a limiter of its own (or any
/// other arithmetic) would part from them: the script makes both providers refuse on
/// several limits, with hints of many lengths, and one request no window can ever hold.
#[tokio::test(start_paused = true)]
async fn a_scripted_timeline_gets_the_simulators_statuses_and_hints() {
    let s = incident();
    let srv = server(&s, 1.0);
    let start = tokio::time::Instant::now();
    // (time in ms, provider, input tokens, max_tokens).
    let mut script: Vec<(u64, usize, u64, u64)> = Vec::new();
    let mut t = 0;
    for i in 0..60u64 {
        // Claude: bursts and pauses, prompts of varied sizes (a few near the token limit).
        t += [37, 211, 1_003, 4_999, 90, 12_345][i as usize % 6];
        let input = [300, 2_000, 9_000, 40, 11_000][i as usize % 5];
        script.push((t, 0, input, 64 + i * 7));
        // Copilot: now and then a burst of 16, 1 ms apart, beyond its 12-request bucket.
        for k in 0..if i % 10 == 0 { 16 } else { 1 } {
            script.push((t + 3 + k, 1, 100 + i, 32));
        }
    }
    // More than Claude's 25,000-token window can ever hold.
    t += 500;
    script.push((t, 0, 30_000, 10));
    let mut handles = Vec::new();
    for &(at, p, input, max_tokens) in &script {
        tokio::time::sleep_until(start + Duration::from_millis(at)).await;
        let path = format!("/{}/v1/messages", s.providers[p].name);
        let req = post(&path, body(false, input, max_tokens, false).to_string());
        let srv = Arc::clone(&srv);
        handles.push(tokio::spawn(async move {
            let r = send(&srv, req).await;
            let done = start.elapsed();
            let status = r.status().as_u16();
            let hint_ms = header(&r, "retry-after-ms").map(|v| v.parse::<f64>().unwrap());
            let sim = header(&r, "ratesim-sim-time").map(|v| v.parse::<f64>().unwrap());
            let never = header(&r, "ratesim-hint") == Some("never");
            (status, hint_ms, sim, done, never)
        }));
    }
    let mut got = Vec::new();
    for h in handles {
        got.push(h.await.expect("no panic"));
    }

    // The same requests straight into the simulator's providers. Neither has a
    // concurrency cap, so a release changes nothing they decide and is left out.
    let mut providers: Vec<Provider<'_>> = (0..2)
        .map(|i| Provider::new(&s.providers[i], s.seed, 0, i as u32))
        .collect();
    let mut outputs = stream(s.seed, 0, Source::OutputTokens);
    let (mut rejected, mut never, mut hints) = ([0; 2], 0, std::collections::BTreeSet::new());
    for (i, &(at, p, input, max_tokens)) in script.iter().enumerate() {
        let drawn = round_u64(s.workload.output_tokens.sample(&mut outputs));
        let output = drawn.min(max_tokens);
        let now = SimTime::from_millis(at);
        let (status, hint_ms, sim, done, said_never) = got[i];
        assert_eq!(
            sim,
            Some(now.as_secs_f64()),
            "request {i}: the server's clock"
        );
        let (want_status, want_hint, latency) =
            match providers[p].offer(now, input, output, i as u64) {
                Admission::Serve { latency } => (200, None, latency),
                Admission::Reject {
                    status,
                    hint,
                    latency,
                    ..
                } => {
                    rejected[p] += 1;
                    let hint = match hint {
                        Hint::After(d) => {
                            hints.insert(d.as_nanos());
                            // Real milliseconds to the microsecond (the scale is 1).
                            Some(d.as_nanos().div_ceil(1_000) as f64 / 1000.0)
                        }
                        Hint::Never => {
                            never += 1;
                            assert!(said_never, "request {i}: `ratesim-hint: never`");
                            None
                        }
                        Hint::Unknown => None,
                    };
                    (status, hint, latency)
                }
                Admission::Queued => unreachable!("no concurrency cap"),
            };
        assert_eq!(
            (status, hint_ms),
            (want_status, want_hint),
            "request {i} at {at} ms to {}",
            s.providers[p].name
        );
        // The response comes after the provider's latency (tokio's timers tick in ms).
        let want = Duration::from_millis(at) + Duration::from_nanos(latency.as_nanos());
        assert!(
            done >= want && done <= want + Duration::from_millis(1),
            "request {i}: answered at {done:?}, the provider says {want:?}"
        );
    }
    assert!(rejected[0] >= 10 && rejected[1] >= 10, "{rejected:?}");
    assert_eq!(never, 1);
    assert!(hints.len() >= 10, "hints of many lengths: {hints:?}");
}

/// `POST /_ratesim/reset {"replication": r}` starts replication r afresh: a Claude the
/// previous traffic had filled admits again, the clock reads zero, and request after
/// request (sent one at a time, output sizes asked with `ratesim-output-tokens`) gets
/// the status, hint, response time, output size and `ratesim-passed` draw that
/// replication r's `Provider` gives when driven directly. Replication 0's streams, or
/// the old limiter state, would part from it.
#[tokio::test(start_paused = true)]
async fn a_reset_starts_replication_r_on_a_fresh_clock_with_the_asked_sizes() {
    let s = incident();
    let srv = server(&s, 1.0);
    // Fill Claude's 8-requests window.
    for _ in 0..9 {
        send(
            &srv,
            post("/claude/v1/messages", body(false, 10, 5, false).to_string()),
        )
        .await;
    }
    let r = send(
        &srv,
        post("/claude/v1/messages", body(false, 10, 5, false).to_string()),
    )
    .await;
    assert_eq!(r.status(), 429, "the window is full before the reset");
    tokio::time::sleep(Duration::from_secs(7)).await;

    let r = send(&srv, post("/_ratesim/reset", r#"{"replication": 3}"#)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(json_of(r).await["replication"], 3);
    assert_eq!(srv.current().replication(), 3);

    let mut direct = Provider::new(&s.providers[0], s.seed, 3, 0);
    let (mut served, mut rejected, mut capped, mut failed_tests) = (0, 0, 0, 0);
    for i in 0..40u64 {
        let asked = 50 + 37 * i;
        let max_tokens = if i % 4 == 3 { 60 } else { 4_000 };
        let input = 100 + 10 * i;
        let req = Request::post("/claude/v1/messages")
            .header("content-type", "application/json")
            .header("ratesim-output-tokens", asked.to_string())
            .body(Body::from(
                body(false, input, max_tokens, false).to_string(),
            ))
            .expect("a request");
        let sent = tokio::time::Instant::now();
        let r = send(&srv, req).await;
        let took = sent.elapsed();
        let sim: f64 = header(&r, "ratesim-sim-time").unwrap().parse().unwrap();
        if i == 0 {
            assert_eq!(sim, 0.0, "the clock starts at zero at the reset");
        }
        let now = SimTime::from_nanos(round_u64(sim * 1e9));
        let output = asked.min(max_tokens);
        match direct.offer(now, input, output, i) {
            Admission::Serve { latency } => {
                served += 1;
                assert_eq!(r.status(), 200, "request {i} at {sim} s");
                let want = Duration::from_nanos(latency.as_nanos());
                assert!(
                    took >= want && took <= want + Duration::from_millis(1),
                    "request {i}: took {took:?}, the provider says {want:?}"
                );
                direct.release(now + latency);
                let passed = direct.passes();
                failed_tests += u32::from(!passed);
                assert_eq!(
                    header(&r, "ratesim-passed"),
                    Some(if passed { "true" } else { "false" }),
                    "request {i}"
                );
                let v = json_of(r).await;
                assert_eq!(v["usage"]["output_tokens"], output, "request {i}");
                if asked > max_tokens {
                    capped += 1;
                    assert_eq!(v["stop_reason"], "max_tokens");
                }
            }
            Admission::Reject { status, hint, .. } => {
                rejected += 1;
                assert_eq!(r.status().as_u16(), status, "request {i} at {sim} s");
                let Hint::After(d) = hint else {
                    panic!("request {i}: a window's hint")
                };
                let ms: f64 = header(&r, "retry-after-ms").unwrap().parse().unwrap();
                assert_eq!(ms, d.as_nanos().div_ceil(1_000) as f64 / 1000.0);
            }
            Admission::Queued => unreachable!("no concurrency cap"),
        }
    }
    assert!(
        served >= 8 && rejected >= 5 && capped >= 2,
        "{served} {rejected} {capped}"
    );
    assert!(failed_tests >= 1, "some completions fail their tests");

    // Bad input is a 400 that names what is wrong.
    let r = send(&srv, post("/_ratesim/reset", r#"{"replication": -1}"#)).await;
    assert_eq!(r.status(), 400);
    assert!(text_of(r).await.contains("replication"));
    let req = Request::post("/claude/v1/messages")
        .header("ratesim-output-tokens", "lots")
        .body(Body::from(body(false, 1, 5, false).to_string()))
        .expect("a request");
    let r = send(&srv, req).await;
    assert_eq!(r.status(), 400);
    assert!(text_of(r).await.contains("ratesim-output-tokens"));
}

#[tokio::test(start_paused = true)]
async fn an_anthropic_response_has_the_messages_shape_and_headers() {
    let s = incident();
    let srv = server(&s, 60.0);
    let r = send(
        &srv,
        post("/claude/v1/messages", body(false, 10, 5, false).to_string()),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "ratesim-provider"), Some("claude"));
    assert_eq!(header(&r, "ratesim-time-scale"), Some("60"));
    assert!(header(&r, "request-id").is_some_and(|v| v.starts_with("req_")));
    // Claude's limits as Anthropic's headers (the header module's mapping).
    assert_eq!(header(&r, "anthropic-ratelimit-requests-limit"), Some("8"));
    assert_eq!(
        header(&r, "anthropic-ratelimit-requests-remaining"),
        Some("7")
    );
    assert_eq!(
        header(&r, "anthropic-ratelimit-tokens-limit"),
        Some("25000")
    );
    assert!(header(&r, "anthropic-ratelimit-requests-reset").is_some());
    let v = json_of(r).await;
    assert!(v["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "claude-test");
    assert_eq!(v["content"][0]["type"], "text");
    assert!(v["content"][0]["text"].is_string());
    assert!(["end_turn", "max_tokens"].contains(&v["stop_reason"].as_str().unwrap()));
    assert_eq!(v["stop_sequence"], Value::Null);
    assert_eq!(v["usage"]["input_tokens"], 10);
    assert!(v["usage"]["output_tokens"].as_u64().unwrap() <= 5);
}

#[tokio::test(start_paused = true)]
async fn an_openai_response_has_the_chat_completion_shape_and_headers() {
    let s = incident();
    let srv = server(&s, 1.0);
    let r = send(
        &srv,
        post(
            "/copilot/v1/chat/completions",
            body(true, 7, 3, false).to_string(),
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "ratesim-provider"), Some("copilot"));
    assert!(header(&r, "x-request-id").is_some());
    assert_eq!(header(&r, "x-ratelimit-limit-requests"), Some("12"));
    assert!(header(&r, "x-ratelimit-reset-requests").is_some());
    let v = json_of(r).await;
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["object"], "chat.completion");
    assert!(v["created"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(v["model"], "gpt-test");
    assert_eq!(v["choices"][0]["index"], 0);
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert!(v["choices"][0]["message"]["content"].is_string());
    assert!(["stop", "length"].contains(&v["choices"][0]["finish_reason"].as_str().unwrap()));
    let u = &v["usage"];
    assert_eq!(u["prompt_tokens"], 7);
    assert_eq!(
        u["total_tokens"].as_u64(),
        Some(7 + u["completion_tokens"].as_u64().unwrap())
    );
}

#[tokio::test(start_paused = true)]
async fn malformed_unknown_and_oversized_requests_get_the_apis_errors() {
    let s = incident();
    let srv = server(&s, 1.0);
    let cases: Vec<(Request<Body>, u16, &str)> = vec![
        (
            post("/claude/v1/messages", "{not json"),
            400,
            "invalid_request_error",
        ),
        (
            post(
                "/claude/v1/messages",
                json!({ "model": "m", "messages": [{ "role": "user", "content": "x" }] })
                    .to_string(),
            ),
            400,
            "invalid_request_error",
        ),
        (post("/nobody/v1/messages", "{}"), 404, "not_found_error"),
        (post("/claude/v2/other", "{}"), 404, "not_found_error"),
        (
            post("/claude/v1/messages", vec![b' '; (1 << 20) + 1]),
            413,
            "request_too_large",
        ),
    ];
    for (req, status, kind) in cases {
        let r = send(&srv, req).await;
        assert_eq!(r.status().as_u16(), status);
        let v = json_of(r).await;
        assert_eq!(v["type"], "error", "{v}");
        assert_eq!(v["error"]["type"], kind, "{v}");
        assert!(v["error"]["message"].is_string());
    }
    for (req, status) in [
        (
            post(
                "/claude/v1/chat/completions",
                json!({ "model": "m" }).to_string(),
            ),
            400,
        ),
        (post("/nobody/v1/chat/completions", "{}"), 404),
    ] {
        let r = send(&srv, req).await;
        assert_eq!(r.status().as_u16(), status);
        let v = json_of(r).await;
        assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
        assert_eq!(v["error"]["param"], Value::Null);
        assert!(v["error"].get("code").is_some());
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limits_answer_429_and_503_with_retry_after_in_each_format() {
    let s = incident();
    let srv = server(&s, 1.0);
    // Claude: 8 requests a minute; the 9th is a 429 with whole seconds to wait.
    let mut last = None;
    for _ in 0..9 {
        last = Some(
            send(
                &srv,
                post("/claude/v1/messages", body(false, 1, 1, false).to_string()),
            )
            .await,
        );
    }
    let r = last.unwrap();
    assert_eq!(r.status(), 429);
    let secs: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    let ms: f64 = header(&r, "retry-after-ms").unwrap().parse().unwrap();
    assert!(
        secs >= 1 && (secs * 1000) as f64 == ms,
        "{secs} s, {ms} ms: whole seconds"
    );
    let v = json_of(r).await;
    assert_eq!(v["error"]["type"], "rate_limit_error");
    // Copilot: its burst bucket of 12 empties, then 503, in OpenAI's shape.
    let mut statuses = Vec::new();
    let mut rejected = None;
    let burst: Vec<_> = (0..14)
        .map(|_| {
            let srv = Arc::clone(&srv);
            let req = post(
                "/copilot/v1/chat/completions",
                body(true, 1, 1, false).to_string(),
            );
            tokio::spawn(async move { send(&srv, req).await })
        })
        .collect();
    for h in burst {
        let r = h.await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 503 {
            rejected = Some(r);
        }
    }
    assert!(
        statuses.contains(&200) && statuses.contains(&503),
        "{statuses:?}"
    );
    let r = rejected.unwrap();
    assert!(header(&r, "retry-after").is_some());
    let v = json_of(r).await;
    assert_eq!(v["error"]["type"], "requests");
    assert_eq!(v["error"]["code"], "upstream_provider_rate_limit");
}

/// `flaky`: in an outage from 1 ms on, for a day; `slow`: from 3 s on; `local`: two
/// slots of 10 s and a queue.
fn flaky() -> Scenario {
    scenario(
        r#"
[workload]
kind = "batch"
jobs = 1
concurrency = 1
input_tokens = 10
output_tokens = 100
[providers.flaky]
latency = { total = "1s" }
outages = { up = "1ms", down = "1d", status = 529 }
[providers.slow]
latency = { ttft = "1s", tokens_per_s = 10 }
outages = { up = "3s", down = "1d", status = 529 }
[providers.local]
limits = [{ kind = "concurrency", limit = 2, on_full = "queue" }]
latency = { total = "10s" }
local = true
[[policies]]
name = "p"
route = { kind = "single", provider = "flaky" }
"#,
    )
}

#[tokio::test(start_paused = true)]
async fn an_outage_is_529_overloaded_error() {
    let srv = server(&flaky(), 1.0);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let r = send(
        &srv,
        post("/flaky/v1/messages", body(false, 1, 5, false).to_string()),
    )
    .await;
    assert_eq!(r.status(), 529);
    assert!(header(&r, "retry-after").is_none());
    assert_eq!(json_of(r).await["error"]["type"], "overloaded_error");
    let r = send(
        &srv,
        post(
            "/flaky/v1/chat/completions",
            body(true, 1, 5, false).to_string(),
        ),
    )
    .await;
    assert_eq!(r.status(), 529);
    assert_eq!(json_of(r).await["error"]["type"], "server_error");
}

/// The event names of an Anthropic stream, in order.
fn event_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .map(str::to_string)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn an_anthropic_stream_sends_the_events_in_order_paced_by_the_latency() {
    let s = incident();
    let srv = server(&s, 1.0);
    let start = tokio::time::Instant::now();
    let r = send(
        &srv,
        post("/claude/v1/messages", body(false, 3, 20, true).to_string()),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), Some("text/event-stream"));
    let headers_at = start.elapsed();
    let text = text_of(r).await;
    let ended_at = start.elapsed();
    assert!(
        headers_at < Duration::from_millis(1),
        "headers at the service start"
    );
    assert!(
        ended_at > Duration::from_millis(300),
        "the body lasts the service time"
    );
    let names = event_names(&text);
    assert_eq!(names[..3], ["message_start", "content_block_start", "ping"]);
    let n = names.len();
    assert_eq!(
        names[n - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert!(names[3..n - 3].iter().all(|e| e == "content_block_delta"));
    assert!(n > 6);
    let delta: Value = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .find(|v| v["type"] == "message_delta")
        .unwrap();
    assert!(delta["usage"]["output_tokens"].as_u64().unwrap() >= 1);
    assert!(delta["delta"]["stop_reason"].is_string());
}

#[tokio::test(start_paused = true)]
async fn an_openai_stream_sends_chunks_then_usage_then_done() {
    let s = incident();
    let srv = server(&s, 1.0);
    let r = send(
        &srv,
        post(
            "/copilot/v1/chat/completions",
            body(true, 3, 20, true).to_string(),
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    let text = text_of(r).await;
    let data: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 3);
    let finish = &chunks[chunks.len() - 2]["choices"][0]["finish_reason"];
    assert!(finish == "stop" || finish == "length", "{finish}");
    // Only the last choice chunk has a finish reason.
    assert!(chunks[..chunks.len() - 2]
        .iter()
        .all(|c| c["choices"][0]["finish_reason"].is_null()));
}

#[tokio::test(start_paused = true)]
async fn an_outage_during_a_stream_ends_it_with_an_error_event() {
    let srv = server(&flaky(), 1.0);
    // `slow` is up for its first 3 s; 100 tokens at 10/s after 1 s run into the outage.
    let r = send(
        &srv,
        post("/slow/v1/messages", body(false, 1, 100, true).to_string()),
    )
    .await;
    assert_eq!(r.status(), 200);
    let text = text_of(r).await;
    let names = event_names(&text);
    assert_eq!(names.last().map(String::as_str), Some("error"), "{names:?}");
    assert!(text.contains("overloaded_error"));
    assert!(!names.contains(&"message_stop".to_string()));
    let r = send(
        &srv,
        post(
            "/slow/v1/chat/completions",
            body(true, 1, 100, true).to_string(),
        ),
    )
    .await;
    // Now the provider is down: a plain 529.
    assert_eq!(r.status(), 529);
}

#[tokio::test(start_paused = true)]
async fn queued_requests_wait_for_a_slot_and_a_dropped_one_leaves_the_queue() {
    let srv = server(&flaky(), 1.0);
    let start = tokio::time::Instant::now();
    let req = || post("/local/v1/messages", body(false, 1, 5, false).to_string());
    // Two slots of 10 s: the third request starts at 10 s and ends at 20 s.
    let a = tokio::spawn(send_owned(Arc::clone(&srv), req()));
    let b = tokio::spawn(send_owned(Arc::clone(&srv), req()));
    tokio::task::yield_now().await;
    // A fourth client gives up while queued.
    let gone = tokio::spawn(send_owned(Arc::clone(&srv), req()));
    tokio::task::yield_now().await;
    gone.abort();
    tokio::task::yield_now().await;
    let c = tokio::spawn(send_owned(Arc::clone(&srv), req()));
    for h in [a, b] {
        assert_eq!(h.await.unwrap(), 200);
    }
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert_eq!(c.await.unwrap(), 200);
    assert_eq!(start.elapsed(), Duration::from_secs(20));
    let m = text_of(send(&srv, Request::get("/metrics").body(Body::empty()).unwrap()).await).await;
    assert!(m.contains("ratesim_in_flight{provider=\"local\"} 0"), "{m}");
    assert!(m.contains("ratesim_queued{provider=\"local\"} 0"), "{m}");
    assert!(
        m.contains("ratesim_served_total{provider=\"local\"} 3"),
        "{m}"
    );
    assert!(m.contains("local_hit_ratio 1"), "{m}");
}

async fn send_owned(s: Arc<Server>, req: Request<Body>) -> u16 {
    send(&s, req).await.status().as_u16()
}

#[tokio::test(start_paused = true)]
async fn over_the_in_flight_cap_the_server_answers_529_at_once() {
    let srv = server_capped(&flaky(), 1.0, 1);
    let first = tokio::spawn(send_owned(
        Arc::clone(&srv),
        post("/local/v1/messages", body(false, 1, 5, false).to_string()),
    ));
    tokio::task::yield_now().await;
    let r = send(
        &srv,
        post("/local/v1/messages", body(false, 1, 5, false).to_string()),
    )
    .await;
    assert_eq!(r.status(), 529);
    assert_eq!(json_of(r).await["error"]["type"], "overloaded_error");
    assert_eq!(first.await.unwrap(), 200);
}

#[tokio::test(start_paused = true)]
async fn metrics_use_the_articles_names_and_healthz_answers() {
    let s = incident();
    let srv = server(&s, 1.0);
    for _ in 0..9 {
        send(
            &srv,
            post("/claude/v1/messages", body(false, 1, 1, false).to_string()),
        )
        .await;
    }
    let r = send(&srv, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert!(header(&r, "content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = text_of(r).await;
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("valid exposition");
    let value = |name: &str| {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .sum::<f64>()
    };
    assert_eq!(value("claude_429_total"), 1.0);
    assert_eq!(value("copilot_503_total"), 0.0);
    assert_eq!(value("local_hit_ratio"), 0.0);
    assert_eq!(value("ratesim_served_total"), 8.0);
    assert_eq!(value("ratesim_requests_total"), 9.0);
    let r = send(&srv, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status(), 200);
}

/// A request body that is mostly almost right: a JSON object with the expected keys
/// holding values of random types, or random bytes.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|x| json!(x)),
        ".{0,20}".prop_map(Value::String),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("role".to_string()),
                        Just("content".to_string()),
                        Just("text".to_string()),
                        ".{0,5}"
                    ],
                    inner
                ),
                0..4
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    });
    let keys = prop_oneof![
        Just("model"),
        Just("max_tokens"),
        Just("max_completion_tokens"),
        Just("messages"),
        Just("system"),
        Just("stream"),
        Just("stream_options"),
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        prop::collection::vec((keys, value), 0..7).prop_map(|kv| {
            let obj: serde_json::Map<String, Value> =
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            Value::Object(obj).to_string().into_bytes()
        }),
    ]
}

fn any_path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/claude/v1/messages".to_string()),
        Just("/copilot/v1/chat/completions".to_string()),
        Just("/local/v1/messages".to_string()),
        Just("/metrics".to_string()),
        "/[a-z%0-9/._-]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Whatever the body, path, method and headers, the router answers (no panic, no
    /// hang past the paused clock) with a status the server documents, and a JSON
    /// body for every error.
    #[test]
    fn no_request_makes_the_server_panic(
        path in any_path(),
        body in any_body(),
        get in any::<bool>(),
        content_type in prop_oneof![Just("application/json"), Just("text/plain"), Just("\u{7f}")],
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let s = incident();
        let (status, text) = rt.block_on(async {
            let srv = server(&s, 1000.0);
            let mut req = Request::builder()
                .method(if get { "GET" } else { "POST" })
                .uri(path.as_str());
            if let Ok(v) = axum::http::HeaderValue::from_bytes(content_type.as_bytes()) {
                req = req.header("content-type", v);
            }
            let Ok(req) = req.body(Body::from(body)) else {
                return (0, String::new());
            };
            let r = send(&srv, req).await;
            let status = r.status().as_u16();
            (status, text_of(r).await)
        });
        if status != 0 {
            prop_assert!([200, 400, 404, 405, 413, 429, 503, 529].contains(&status), "{status}");
            if status >= 400 {
                prop_assert!(serde_json::from_str::<Value>(&text).is_ok(), "{text}");
            }
        }
    }
}

/// Reads an HTTP/1.1 response (sent with `Connection: close`) to its end.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).expect("a response");
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

/// Kills the child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real binary over loopback: it prints the address it bound (port 0: a free one),
/// answers both formats and /metrics, and stops cleanly on SIGTERM.
#[test]
fn the_binary_serves_over_loopback_and_stops_on_sigterm() {
    let bin = assert_cmd::cargo::cargo_bin("ratesim");
    let child = std::process::Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--time-scale", "1000"])
        .arg(bundled("ci-300x10.toml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ratesim starts");
    let mut child = Child(child);
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("ratesim serve: listening on http://")
        .unwrap_or_else(|| panic!("the address line: {first:?}"))
        .to_string();
    let a = body(false, 5, 10, false).to_string();
    let o = body(true, 5, 10, false).to_string();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(http(&addr, "POST", "/claude/v1/messages", &a).0);
    }
    assert_eq!(statuses[..8], [200; 8], "{statuses:?}");
    assert!(statuses[8..].iter().all(|&s| s == 429), "{statuses:?}");
    let (status, text) = http(&addr, "POST", "/local/v1/chat/completions", &o);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"object\":\"chat.completion\""), "{text}");
    let (status, text) = http(&addr, "GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(text.contains("claude_429_total 2"), "{text}");
    #[cfg(unix)]
    {
        let pid = child.0.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                assert!(status.success(), "{status:?}");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_taken_port_is_exit_1_and_a_bad_scenario_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    crate::common::ratesim()
        .args(["serve", "--listen", &addr])
        .arg(bundled("ci-300x10.toml"))
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(predicates::str::contains(format!(
            "cannot listen on {addr}"
        )));
    crate::common::ratesim()
        .args(["serve", "no-such-scenario.toml", "--listen", "127.0.0.1:0"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read the scenario file"));
    crate::common::ratesim()
        .args(["serve", "--time-scale", "0", "--listen", "127.0.0.1:0"])
        .arg(bundled("ci-300x10.toml"))
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2);
}

/// The connection cap: with one connection allowed, a second is not accepted until the
/// first closes.
#[tokio::test]
async fn the_listener_holds_at_most_its_connections_open() {
    use axum::serve::Listener;
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let mut listener = ratesim::live::server::CappedListener::new(tcp, 1);
    let _a = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (first, _) = listener.accept().await;
    let second = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(
        second.is_err(),
        "a second connection while the first is open"
    );
    drop(first);
    let second = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
    assert!(second.is_ok(), "accepted once the first closed");
}
