//! The Anthropic Messages wire format (`POST /v1/messages`): request validation,
//! the response body, error bodies and the streaming events.

use serde_json::{json, Value};

use super::{content_chars, estimate_tokens, Ask, Failure, FailureKind};

/// Reads and checks a Messages request: `model` (a string), `max_tokens` (a positive
/// integer) and `messages` (a non-empty array of `{role, content}`, content a string
/// or an array of blocks) are required; `system` (a string or blocks) counts toward the
/// input; `stream` must be a boolean when present.
pub fn parse(body: &Value) -> Result<Ask, Failure> {
    let bad = |m: &str| Failure::new(400, FailureKind::Invalid, m);
    let Some(obj) = body.as_object() else {
        return Err(bad("the request body must be a JSON object"));
    };
    let model = match obj.get("model") {
        Some(Value::String(m)) => m.clone(),
        Some(_) => return Err(bad("model: Input should be a valid string")),
        None => return Err(bad("model: Field required")),
    };
    let max_tokens = match obj.get("max_tokens") {
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => n,
            _ => return Err(bad("max_tokens: Input should be a positive integer")),
        },
        None => return Err(bad("max_tokens: Field required")),
    };
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        Some(Value::Array(_)) => return Err(bad("messages: at least one message is required")),
        Some(_) => return Err(bad("messages: Input should be a valid list")),
        None => return Err(bad("messages: Field required")),
    };
    let mut chars = 0u64;
    for (i, m) in messages.iter().enumerate() {
        match m.get("role").and_then(Value::as_str) {
            Some("user" | "assistant") => {}
            _ => {
                return Err(bad(&format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                )))
            }
        }
        let Some(c) = m.get("content").and_then(content_chars) else {
            return Err(bad(&format!(
                "messages.{i}.content: Input should be a valid string or list of content blocks"
            )));
        };
        chars = chars.saturating_add(c);
    }
    if let Some(system) = obj.get("system") {
        let Some(c) = content_chars(system) else {
            return Err(bad(
                "system: Input should be a valid string or list of text blocks",
            ));
        };
        chars = chars.saturating_add(c);
    }
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("stream: Input should be a valid boolean")),
    };
    Ok(Ask {
        model,
        max_tokens: Some(max_tokens),
        stream,
        include_usage: false,
        input_tokens: estimate_tokens(chars),
    })
}

/// The Messages response of a completion.
pub fn message(
    id: &str,
    model: &str,
    text: &str,
    truncated: bool,
    input: u64,
    output: u64,
) -> Value {
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{ "type": "text", "text": text }],
        "stop_reason": stop_reason(truncated),
        "stop_sequence": null,
        "usage": { "input_tokens": input, "output_tokens": output },
    })
}

fn stop_reason(truncated: bool) -> &'static str {
    if truncated {
        "max_tokens"
    } else {
        "end_turn"
    }
}

/// The error `type` of a failure.
pub fn error_type(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Invalid => "invalid_request_error",
        FailureKind::NotFound => "not_found_error",
        FailureKind::TooLarge => "request_too_large",
        FailureKind::RateLimit { .. } => "rate_limit_error",
        FailureKind::Overloaded => "overloaded_error",
        FailureKind::Unavailable => "api_error",
    }
}

/// The error body of a failure: `{"type":"error","error":{"type":...,"message":...}}`.
pub fn error(f: &Failure) -> Value {
    json!({
        "type": "error",
        "error": { "type": error_type(f.kind), "message": f.message },
    })
}

/// One server-sent event: `event: NAME` and its JSON data.
fn event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The events that open a stream: `message_start` (no content yet, the input usage),
/// `content_block_start` and a `ping`.
pub fn stream_start(id: &str, model: &str, input: u64) -> String {
    let start = json!({
        "type": "message_start",
        "message": {
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": { "input_tokens": input, "output_tokens": 0 },
        },
    });
    let block = json!({
        "type": "content_block_start",
        "index": 0,
        "content_block": { "type": "text", "text": "" },
    });
    event("message_start", &start)
        + &event("content_block_start", &block)
        + &event("ping", &json!({ "type": "ping" }))
}

/// A `content_block_delta` carrying `text`.
pub fn stream_delta(text: &str) -> String {
    let delta = json!({
        "type": "content_block_delta",
        "index": 0,
        "delta": { "type": "text_delta", "text": text },
    });
    event("content_block_delta", &delta)
}

/// The events that close a stream: `content_block_stop`, `message_delta` with the stop
/// reason and the cumulative output usage, `message_stop`.
pub fn stream_end(truncated: bool, input: u64, output: u64) -> String {
    let delta = json!({
        "type": "message_delta",
        "delta": { "stop_reason": stop_reason(truncated), "stop_sequence": null },
        "usage": { "input_tokens": input, "output_tokens": output },
    });
    event(
        "content_block_stop",
        &json!({ "type": "content_block_stop", "index": 0 }),
    ) + &event("message_delta", &delta)
        + &event("message_stop", &json!({ "type": "message_stop" }))
}

/// An error in the middle of a stream (`event: error`), as the API sends an overload
/// after its 200.
pub fn stream_error(f: &Failure) -> String {
    event("error", &error(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_request_parses_and_counts_its_text() {
        let body = json!({
            "model": "claude", "max_tokens": 10, "system": "abcd",
            "messages": [
                { "role": "user", "content": "hello" },
                { "role": "assistant", "content": [{ "type": "text", "text": "abc" }] },
            ],
        });
        let ask = parse(&body).expect("valid");
        assert_eq!(ask.input_tokens, 3); // 12 characters
        assert_eq!(ask.max_tokens, Some(10));
        assert!(!ask.stream);
    }

    #[test]
    fn missing_fields_are_invalid_requests() {
        for body in [
            json!({ "max_tokens": 1, "messages": [{ "role": "user", "content": "x" }] }),
            json!({ "model": "m", "messages": [{ "role": "user", "content": "x" }] }),
            json!({ "model": "m", "max_tokens": 1 }),
            json!({ "model": "m", "max_tokens": 0, "messages": [{ "role": "user", "content": "x" }] }),
            json!({ "model": "m", "max_tokens": 1, "messages": [] }),
            json!({ "model": "m", "max_tokens": 1, "messages": [{ "role": "user" }] }),
            json!([1, 2]),
        ] {
            let e = parse(&body).expect_err("invalid");
            assert_eq!((e.status, e.kind), (400, FailureKind::Invalid), "{body}");
        }
    }
}
