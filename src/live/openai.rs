//! The OpenAI chat-completions wire format (`POST /v1/chat/completions`): request
//! validation, the response body, error bodies and the streaming chunks.

use serde_json::{json, Value};

use super::{content_chars, estimate_tokens, Ask, Failure, FailureKind};

/// Reads and checks a chat-completions request: `model` (a string) and `messages` (a
/// non-empty array of `{role, content}`, content a string, an array of parts or null)
/// are required; `max_completion_tokens` or `max_tokens` (a positive integer) caps the
/// output when present; `stream` (a boolean) and `stream_options.include_usage` are
/// read.
pub fn parse(body: &Value) -> Result<Ask, Failure> {
    let bad = |m: &str| Failure::new(400, FailureKind::Invalid, m);
    let Some(obj) = body.as_object() else {
        return Err(bad(
            "We could not parse the JSON body of your request: expected an object.",
        ));
    };
    let model = match obj.get("model") {
        Some(Value::String(m)) => m.clone(),
        _ => return Err(bad("you must provide a model parameter")),
    };
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        Some(Value::Array(_)) => {
            return Err(bad("[] is too short - 'messages'"));
        }
        _ => return Err(bad("Missing required parameter: 'messages'.")),
    };
    let mut chars = 0u64;
    for (i, m) in messages.iter().enumerate() {
        if m.get("role").and_then(Value::as_str).is_none() {
            return Err(bad(&format!(
                "Missing required parameter: 'messages[{i}].role'."
            )));
        }
        let c = match m.get("content") {
            None | Some(Value::Null) => Some(0),
            Some(c) => content_chars(c),
        };
        let Some(c) = c else {
            return Err(bad(&format!(
                "Invalid type for 'messages[{i}].content': expected a string or an array of parts."
            )));
        };
        chars = chars.saturating_add(c);
    }
    let mut max_tokens = None;
    for key in ["max_completion_tokens", "max_tokens"] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => {
                    max_tokens = Some(n);
                    break;
                }
                _ => {
                    return Err(bad(&format!(
                        "Invalid '{key}': expected a positive integer."
                    )))
                }
            },
        }
    }
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("Invalid type for 'stream': expected a boolean.")),
    };
    let include_usage = obj
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(Ask {
        model,
        max_tokens,
        stream,
        include_usage,
        input_tokens: estimate_tokens(chars),
    })
}

fn finish_reason(truncated: bool) -> &'static str {
    if truncated {
        "length"
    } else {
        "stop"
    }
}

fn usage(input: u64, output: u64) -> Value {
    json!({
        "prompt_tokens": input,
        "completion_tokens": output,
        "total_tokens": input.saturating_add(output),
    })
}

/// The chat-completion response of a completion.
pub fn completion(
    id: &str,
    created: u64,
    model: &str,
    text: &str,
    truncated: bool,
    input: u64,
    output: u64,
) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": text, "refusal": null },
            "logprobs": null,
            "finish_reason": finish_reason(truncated),
        }],
        "usage": usage(input, output),
    })
}

/// The error `type` and `code` of a failure (a rate limit's type names what it counts,
/// `requests` or `tokens`, as OpenAI's 429s do).
pub fn error_type(f: &Failure) -> (&'static str, Option<&'static str>) {
    match f.kind {
        FailureKind::Invalid => ("invalid_request_error", None),
        FailureKind::NotFound => ("invalid_request_error", Some("unknown_url")),
        FailureKind::TooLarge => ("invalid_request_error", Some("request_too_large")),
        FailureKind::RateLimit { tokens } => (
            if tokens { "tokens" } else { "requests" },
            Some(if f.status == 429 {
                "rate_limit_exceeded"
            } else {
                "upstream_provider_rate_limit"
            }),
        ),
        FailureKind::Overloaded | FailureKind::Unavailable => ("server_error", None),
    }
}

/// The error body of a failure: `{"error":{"message","type","param","code"}}`.
pub fn error(f: &Failure) -> Value {
    let (kind, code) = error_type(f);
    json!({
        "error": { "message": f.message, "type": kind, "param": null, "code": code },
    })
}

fn data(v: &Value) -> String {
    format!("data: {v}\n\n")
}

fn chunk(id: &str, created: u64, model: &str, delta: Value, finish: Option<&str>) -> Value {
    json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
    })
}

/// The first chunk: the assistant role and empty content.
pub fn stream_start(id: &str, created: u64, model: &str) -> String {
    data(&chunk(
        id,
        created,
        model,
        json!({ "role": "assistant", "content": "" }),
        None,
    ))
}

/// A chunk carrying `text`.
pub fn stream_delta(id: &str, created: u64, model: &str, text: &str) -> String {
    data(&chunk(id, created, model, json!({ "content": text }), None))
}

/// The last chunks: the finish reason, with `include_usage` a chunk with no choices and
/// the usage, then `data: [DONE]`.
#[allow(clippy::too_many_arguments)]
pub fn stream_end(
    id: &str,
    created: u64,
    model: &str,
    truncated: bool,
    include_usage: bool,
    input: u64,
    output: u64,
) -> String {
    let mut s = data(&chunk(
        id,
        created,
        model,
        json!({}),
        Some(finish_reason(truncated)),
    ));
    if include_usage {
        s += &data(&json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": usage(input, output),
        }));
    }
    s + "data: [DONE]\n\n"
}

/// An error in the middle of a stream: a `data:` line with the error body, and no
/// `[DONE]` after it.
pub fn stream_error(f: &Failure) -> String {
    data(&error(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_its_cap_and_stream_options() {
        let body = json!({
            "model": "gpt", "max_completion_tokens": 5, "stream": true,
            "stream_options": { "include_usage": true },
            "messages": [
                { "role": "system", "content": "abcd" },
                { "role": "user", "content": [{ "type": "text", "text": "efgh" }] },
            ],
        });
        let ask = parse(&body).expect("valid");
        assert_eq!(ask.input_tokens, 2);
        assert_eq!(ask.max_tokens, Some(5));
        assert!(ask.stream && ask.include_usage);
    }

    #[test]
    fn rate_limits_name_what_they_count() {
        let f = Failure::new(429, FailureKind::RateLimit { tokens: true }, "slow down");
        let e = error(&f);
        assert_eq!(e["error"]["type"], "tokens");
        assert_eq!(e["error"]["code"], "rate_limit_exceeded");
        assert_eq!(e["error"]["param"], Value::Null);
    }
}
