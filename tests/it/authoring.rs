//! Authoring close to provider docs: the `rpm`/`tpm`/`itpm`/`otpm` shorthands, trace
//! columns, and what `validate` says about a scenario.

use std::path::Path;

use ratesim::provider::limiter::{LimitKind, Unit};
use ratesim::scenario::parse_str;

use crate::common::{bundled_text, edit, minimal, scenario};

const LATENCY: &str = r#"latency = { total = "1s" }"#;

/// The minimal scenario's provider `api` with `keys` added.
fn provider_keys(keys: &str) -> String {
    edit(&minimal(), LATENCY, &format!("{LATENCY}\n{keys}"))
}

fn error(text: &str) -> ratesim::scenario::ScenarioError {
    parse_str(text, Path::new("t.toml"), Path::new("."), "t").expect_err("should be rejected")
}

/// The bundled Tier 1 scenario spells out Anthropic's continuously replenished buckets;
/// `rpm`, `itpm` and `otpm` expand to exactly those limits.
#[test]
fn shorthands_expand_to_anthropics_documented_buckets() {
    let explicit = bundled_text("anthropic-tier1.toml");
    let start = explicit
        .find("limits = [\n  { kind = \"token_bucket\"")
        .unwrap();
    let end = start + explicit[start..].find("]\n").unwrap() + 2;
    let short = format!(
        "{}rpm = 50\nitpm = 30000\notpm = 8000\n{}",
        &explicit[..start],
        &explicit[end..]
    );
    assert_eq!(scenario(&short), scenario(&explicit));
    // tpm limits input + output tokens.
    let s = scenario(&provider_keys("tpm = 600"));
    let l = &s.providers[0].limits[0];
    assert_eq!(l.unit, Unit::Tokens);
    let LimitKind::TokenBucket(b) = &l.kind else {
        panic!("{l:?}")
    };
    assert_eq!(
        (b.capacity(), b.refill_per_s(), b.fill_interval()),
        (600.0, 10.0, None)
    );
}

#[test]
fn shorthand_kind_sliding_window_makes_60s_windows() {
    let short = scenario(&provider_keys(
        "rpm = 8\ntpm = 25000\nshorthand_kind = \"sliding_window\"",
    ));
    let explicit = scenario(&provider_keys(
        r#"limits = [
  { kind = "sliding_window", window = "60s", limit = 8, unit = "requests" },
  { kind = "sliding_window", window = "1m", limit = 25000, unit = "tokens" },
]"#,
    ));
    assert_eq!(short, explicit);
}

/// A shorthand and an explicit limit of the same unit are both enforced: shorthands
/// first, then `limits` in order.
#[test]
fn a_shorthand_and_an_explicit_limit_of_one_unit_are_both_kept() {
    let s = scenario(&provider_keys(
        "rpm = 60\nlimits = [{ kind = \"sliding_window\", window = \"1s\", limit = 1, unit = \"requests\" }]",
    ));
    let labels: Vec<String> = s.providers[0].limits.iter().map(|l| l.label()).collect();
    assert_eq!(labels, ["bucket 60+1/s requests", "sliding 1/1s requests"]);
}

#[test]
fn bad_shorthands_name_their_key_and_what_is_valid() {
    for (keys, key, message) in [
        ("rpm = 0", "providers.api.rpm", "rpm must be"),
        (
            "otpm = 1000000000000001",
            "providers.api.otpm",
            "otpm must be at most 1000000000000000",
        ),
        (
            "rpm = 5\nshorthand_kind = \"gcra\"",
            "providers.api.shorthand_kind",
            "unknown `gcra`; expected \"token_bucket\" or \"sliding_window\"",
        ),
        (
            "shorthand_kind = \"sliding_window\"",
            "providers.api.shorthand_kind",
            "only used with rpm, tpm, itpm or otpm",
        ),
    ] {
        let e = error(&provider_keys(keys));
        assert_eq!(e.key.as_deref(), Some(key), "{keys}: {e}");
        assert!(e.line.is_some(), "{keys}: {e}");
        assert!(e.message.contains(message), "{keys}: {e}");
    }
    let e = error(&provider_keys("rpm = 1.5"));
    assert!(e.to_string().contains("rpm"), "{e}");
    assert!(e.message.contains("whole number"), "{e}");
}
