//! Gateway presets: named bundles of a retry rule, a pick strategy and guards that
//! model a real gateway's defaults (`preset = "litellm"` in a policy). A policy's own
//! `retry` keys override the preset's retry rule one by one, its `pick` replaces the
//! preset's, and its `guards` list, when given, replaces the preset's guards.

use super::retry::{self, Backoff, RetrySpec};

/// A gateway preset: the parts it fills in.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewayPreset {
    /// The retry rule.
    pub retry: RetrySpec,
    /// The pick strategy of a group route, if the gateway has its own.
    pub pick: Option<&'static str>,
    /// How many fallbacks a request may take, if the gateway caps them.
    pub max_fallbacks: Option<u32>,
    /// Guard kinds, each with its default settings.
    pub guards: &'static [&'static str],
}

fn retries(n: u32) -> RetrySpec {
    RetrySpec {
        max_attempts: n,
        ..RetrySpec::default()
    }
}

/// LiteLLM router: simple-shuffle, num_retries = 2 (assumed; the SDKs' default), no delay
/// while another deployment of the group is healthy, else exponential backoff honouring
/// retry-after; deployment cooldowns with LiteLLM's defaults.
fn litellm() -> GatewayPreset {
    GatewayPreset {
        retry: RetrySpec {
            backoff: Backoff::Exponential,
            honor_retry_after: true,
            ..retries(3)
        },
        pick: Some("simple-shuffle"),
        // LiteLLM's router stops after 5 fallbacks (`max_fallbacks`).
        max_fallbacks: Some(5),
        guards: &["cooldown"],
    }
}

/// Portkey: its retry rule and a circuit breaker with default thresholds.
fn portkey() -> GatewayPreset {
    GatewayPreset {
        retry: retry::preset("portkey").expect("known preset"),
        pick: None,
        max_fallbacks: None,
        guards: &["circuit_breaker"],
    }
}

/// OpenRouter: price-weighted picks, providers that failed in 30 s skipped; a failed
/// request goes on to the other providers (3 attempts, picked again).
fn openrouter() -> GatewayPreset {
    GatewayPreset {
        retry: retries(3),
        pick: Some("price-weighted"),
        max_fallbacks: None,
        guards: &["skip_recent_failures"],
    }
}

/// Helicone gateway: P2C on peak-EWMA latency, a 429 ejects for its retry-after and the
/// request is retried on another provider (3 attempts, picked again).
fn helicone() -> GatewayPreset {
    GatewayPreset {
        retry: retries(3),
        pick: Some("p2c-peak-ewma"),
        max_fallbacks: None,
        guards: &["eject_on_429"],
    }
}

/// The official SDKs' retry alone.
fn sdk() -> GatewayPreset {
    GatewayPreset {
        retry: retry::preset("anthropic-sdk").expect("known preset"),
        pick: None,
        max_fallbacks: None,
        guards: &[],
    }
}

/// Builds one preset.
type Make = fn() -> GatewayPreset;

/// The registry: every gateway preset by name.
const PRESETS: &[(&str, Make)] = &[
    ("litellm", litellm),
    ("portkey", portkey),
    ("openrouter", openrouter),
    ("helicone", helicone),
    ("sdk", sdk),
];

/// The preset called `name`.
pub fn gateway(name: &str) -> Option<GatewayPreset> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, p)| p())
}

/// Every preset's name, in registry order.
pub fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::guard;

    #[test]
    fn every_preset_resolves_and_names_registered_guards() {
        assert_eq!(
            names().collect::<Vec<_>>(),
            ["litellm", "portkey", "openrouter", "helicone", "sdk"]
        );
        for name in names() {
            let p = gateway(name).expect("registered");
            for g in p.guards {
                assert!(guard::KINDS.contains(g), "{name}: guard `{g}`");
            }
            if let Some(pick) = p.pick {
                assert!(
                    crate::policy::Pick::from_name(pick).is_some(),
                    "{name}: pick `{pick}`"
                );
            }
        }
        assert_eq!(gateway("nginx"), None);
        assert_eq!(gateway("portkey").unwrap().retry.max_attempts, 6);
    }
}
