//! Authoring close to provider docs: the `rpm`/`tpm`/`itpm`/`otpm` shorthands, trace
//! columns, and what `validate` says about a scenario.

use std::path::Path;

use predicates::prelude::*;
use ratesim::provider::limiter::{LimitKind, Unit};
use ratesim::scenario::parse_str;
use tempfile::TempDir;

use crate::common::{
    batch, bundled_scenarios, bundled_text, chain, edit, minimal, poisson, policy, provider,
    ratesim, scenario, single, text, write,
};

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

/// A scenario reading the trace `trace.csv` (beside it) with `extra` workload keys, one
/// provider `api` and one policy.
fn trace_scenario(extra: &str) -> String {
    format!(
        "replications = 2\n[workload]\nkind = \"trace\"\npath = \"trace.csv\"\n{extra}\n{}{}",
        provider("api"),
        policy("p", &single("api"))
    )
}

/// `validate` and `run --format csv` of scenario text, with `trace` as `trace.csv`.
fn in_dir(trace: &str, text: &str) -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "trace.csv", trace);
    let f = write(dir.path(), "s.toml", text);
    (dir, f)
}

#[test]
fn extra_trace_columns_are_ignored_and_named_by_validate() {
    let (_dir, f) = in_dir(
        "model,start_s,input_tokens,output_tokens,cost\nopus,0,100,10,0.1\nopus,1,200,10,0.2\n",
        &trace_scenario(""),
    );
    ratesim()
        .arg("validate")
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "workload: 2 jobs, 2 requests, 300 input and 20 output tokens (trace)",
        ))
        .stderr(predicate::str::contains("note: trace `"))
        .stderr(predicate::str::contains(
            "trace.csv`: columns `model`, `cost` ignored",
        ))
        .stderr(predicate::str::contains("warning").not());
}

#[test]
fn trace_columns_can_be_mapped() {
    let standard = "start_s,input_tokens,output_tokens\n0,100,10\n1,200,10\n0.5,5,5\n";
    let (_a, plain) = in_dir(standard, &trace_scenario(""));
    let (_b, mapped) = in_dir(
        "ts,prompt_tokens,completion_tokens,start_s\n0,100,10,7\n1,200,10,7\n0.5,5,5,7\n",
        &trace_scenario(
            "columns = { start_s = \"ts\", input_tokens = \"prompt_tokens\", output_tokens = \"completion_tokens\" }",
        ),
    );
    let csv = |f: &std::path::Path| {
        ratesim()
            .args(["run", "--format", "csv"])
            .arg(f)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    assert_eq!(csv(&plain), csv(&mapped));
    // A bad cell of a mapped column: the file, line and column.
    let (_c, bad) = in_dir(
        "ts,prompt_tokens,output_tokens\n0,100,10\n1,many,10\n",
        &trace_scenario("columns = { start_s = \"ts\", input_tokens = \"prompt_tokens\" }"),
    );
    ratesim()
        .arg("validate")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("workload.path"))
        .stderr(predicate::str::contains(
            "trace.csv:3:2: input_tokens `many`",
        ));
}

#[test]
fn bad_column_maps_name_their_key() {
    for (columns, key, message) in [
        (
            "columns = { start = \"ts\" }",
            "workload.columns.start",
            "not a trace field; columns maps start_s, input_tokens, output_tokens, job_id",
        ),
        (
            "columns = { start_s = 3 }",
            "workload.columns.start_s",
            "expected the header name",
        ),
        (
            "columns = { job_id = \"input_tokens\" }",
            "workload.columns.job_id",
            "column `input_tokens` already holds input_tokens",
        ),
    ] {
        let (_d, f) = in_dir(
            "start_s,input_tokens,output_tokens\n",
            &trace_scenario(columns),
        );
        ratesim()
            .arg("validate")
            .arg(&f)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("s.toml:5:"))
            .stderr(predicate::str::contains(key))
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn validate_warns_about_an_empty_trace() {
    let (_d, f) = in_dir("start_s,input_tokens,output_tokens\n", &trace_scenario(""));
    ratesim()
        .arg("validate")
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("workload: 0 jobs, 0 requests"))
        .stderr(predicate::str::contains("warning: trace `"))
        .stderr(predicate::str::contains("has no rows"));
}

/// Runs `validate` on scenario text; returns its standard output and error.
fn validate(text: &str) -> (String, String) {
    let dir = TempDir::new().unwrap();
    let f = write(dir.path(), "s.toml", text);
    let out = ratesim().arg("validate").arg(&f).assert().success();
    let out = out.get_output();
    (
        String::from_utf8(out.stdout.clone()).unwrap(),
        String::from_utf8(out.stderr.clone()).unwrap(),
    )
}

#[test]
fn validate_warns_about_requests_no_provider_of_a_route_can_admit() {
    // 3 requests of 2,000 tokens, one of 50: `small` holds at most 1,000 a minute.
    let w = batch(4, 2).tokens("{ dist = \"empirical\", values = [1990, 40] }", 10);
    let small = provider("small").set("tpm", 1000);
    let big = provider("big");
    let stuck = policy("stuck", &single("small"));
    let chained = policy("chained", &chain(&["small", "big"]));
    let (_, err) = validate(&text(&[&w, &small, &big, &stuck, &chained]));
    assert!(err.contains("warning: policy `stuck`: "), "{err}");
    assert!(
        err.contains("of the 4 requests drawn for replication 0 can never be admitted by any provider of its route"),
        "{err}"
    );
    assert!(
        err.contains("more than `small`'s limit `bucket 1000+"),
        "{err}"
    );
    // The chain can send them to `big`.
    assert!(!err.contains("policy `chained`"), "{err}");
    // Too many requests to draw, all of one size: still warned about.
    let w = batch(2_000_000, 2).tokens(2000, 10);
    let (out, err) = validate(&text(&[&w, &small, &stuck]));
    assert!(
        out.contains("(replication 0 not drawn: more than 1000000 requests)"),
        "{out}"
    );
    assert!(
        err.contains("warning: policy `stuck`: no request can ever be admitted by any provider of its route, so every job fails (jobs_failed_unadmittable): each has 2000 input and 10 output tokens"),
        "{err}"
    );
    // Small requests: no warning.
    let w = batch(4, 2).tokens(500, 10);
    let (out, err) = validate(&text(&[&w, &small, &stuck]));
    assert_eq!(err, "", "{err}");
    assert!(
        out.contains("workload: 4 jobs (batch), 4 requests (1 per job); tokens per request 500 input and 10 output expected"),
        "{out}"
    );
}

#[test]
fn validate_warns_about_providers_no_policy_reaches() {
    let w = batch(4, 2);
    let (_, err) = validate(&text(&[
        &w,
        &provider("used"),
        &provider("spare"),
        &provider("hedge"),
        &policy("p", &single("used")).set("hedge", "{ after = \"5s\", to = [\"hedge\"] }"),
    ]));
    assert_eq!(
        err,
        "warning: provider `spare` is reached by no policy (no route, quality gate or hedge names it)\n"
    );
}

#[test]
fn validate_states_a_poisson_workloads_expected_size() {
    let w = poisson(2.0)
        .set("duration", "\"1m\"")
        .set("requests_per_job", 3);
    let (out, _) = validate(&text(&[&w, &provider("api"), &policy("p", &single("api"))]));
    assert!(
        out.contains("workload: about 120 jobs and 360 requests expected (Poisson, rate_per_s × duration, 3 per job); tokens per request 100 input and 10 output expected (the distributions' means); replication 0 draws "),
        "{out}"
    );
}

/// `validate --resolved` of `file`: its standard output, or its exit code and error.
fn resolve(file: &Path) -> Result<String, (i32, String)> {
    let out = ratesim()
        .args(["validate", "--resolved"])
        .arg(file)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        assert!(out.stdout.is_empty(), "nothing printed on failure");
        Err((
            out.status.code().unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        ))
    }
}

/// `run --format csv` of `file` with 3 replications: the summary CSV bytes.
fn summary_csv(file: &Path) -> Vec<u8> {
    ratesim()
        .args(["run", "--format", "csv", "--replications", "3"])
        .arg(file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

/// Every bundled scenario prints resolved, and the printed scenario reads back to the
/// same one and runs to the same bytes; a part not printable yet is an error that
/// names it, never text that means something else.
#[test]
fn resolved_scenarios_read_back_the_same_and_run_the_same() {
    let dir = TempDir::new().unwrap();
    for path in bundled_scenarios() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = match resolve(&path) {
            Ok(text) => text,
            Err((code, err)) => {
                assert!(NOT_PRINTABLE_YET.contains(&name.as_str()), "{name}: {err}");
                assert_eq!(code, 1, "{name}: {err}");
                assert!(
                    err.contains("cannot print the resolved scenario yet: `policies["),
                    "{name}: {err}"
                );
                continue;
            }
        };
        assert!(
            !NOT_PRINTABLE_YET.contains(&name.as_str()),
            "{name} prints now"
        );
        assert!(
            !text.contains("preset ="),
            "{name}: presets are written out"
        );
        let copy = write(dir.path(), &name, &text);
        assert_eq!(
            ratesim::scenario::load(&copy).unwrap(),
            ratesim::scenario::load(&path).unwrap(),
            "{name}:\n{text}"
        );
        // Resolving is idempotent.
        assert_eq!(resolve(&copy).unwrap(), text, "{name}");
        assert_eq!(summary_csv(&copy), summary_csv(&path), "{name}");
    }
}

/// Bundled scenarios whose parts `validate --resolved` cannot print yet.
const NOT_PRINTABLE_YET: &[&str] = &[];

#[test]
fn resolved_shows_shorthands_and_trace_columns_expanded() {
    let (dir, f) = in_dir(
        "ts,input_tokens,output_tokens\n0,100,10\n",
        &trace_scenario("columns = { start_s = \"ts\" }").replace(
            "[providers.api]\n",
            "[providers.api]\nrpm = 60\notpm = 600\nshorthand_kind = \"sliding_window\"\n",
        ),
    );
    let text = resolve(&f).unwrap();
    assert!(
        text.contains(
            "limits = [\n  { kind = \"sliding_window\", window = \"60s\", limit = 60, unit = \"requests\", count_rejected = false },\n  { kind = \"sliding_window\", window = \"60s\", limit = 600, unit = \"output_tokens\", count_rejected = false },\n]"
        ),
        "{text}"
    );
    assert!(
        text.contains("columns = { start_s = \"ts\", input_tokens = \"input_tokens\", output_tokens = \"output_tokens\", job_id = \"job_id\" }"),
        "{text}"
    );
    let trace = std::fs::canonicalize(dir.path().join("trace.csv")).unwrap();
    assert!(
        text.contains(&format!("path = \"{}\"", trace.display())),
        "{text}"
    );
    // The trace path is absolute: the printed scenario runs from another folder.
    let elsewhere = TempDir::new().unwrap();
    let copy = write(elsewhere.path(), "r.toml", &text);
    assert_eq!(summary_csv(&copy), summary_csv(&f));
}

/// A provider and a policy setting every key to something other than its default read
/// back the same from `validate --resolved` (the command checks it before printing).
#[test]
fn resolved_keeps_every_provider_and_policy_setting() {
    let w = poisson(0.5)
        .set("duration", "\"1h 30m\"")
        .set("concurrency", 3)
        .set("requests_per_job", 2)
        .tokens(
            "{ dist = \"normal\", mean = 300, sd = 50 }",
            "{ dist = \"uniform\", min = 1, max = 9 }",
        );
    let api = provider("api")
        .set("tpm", 90000)
        .set("itpm", 60000)
        .limit(r#"{ kind = "gcra", limit = 10, period = "1s", burst = 3, unit = "requests", count_rejected = true }"#)
        .limit(r#"{ kind = "fixed_window", window = "1m30s", limit = 100, unit = "output_tokens" }"#)
        .limit(r#"{ kind = "token_bucket", capacity = 5, refill_per_s = 0.3, fill_interval = "250ms", unit = "requests" }"#)
        .limit(r#"{ kind = "concurrency", limit = 4, on_full = "reject" }"#)
        .rejects(503, "75ms")
        .set("latency", "{ ttft = { dist = \"exponential\", mean = \"300ms\" }, tokens_per_s = { dist = \"empirical\", values = [40, 80] } }")
        .set("outages", "{ up = \"2h\", down = \"90s\", status = 529 }")
        .set("online", "{ offline_every = \"10m\", offline_for = \"20s\", reset_after = \"15s\", status = 502 }")
        .set("pass_rate", 0.5)
        .set("local", true)
        .set("flat_monthly", 20)
        .set("retry_after_resolution", "\"250ms\"")
        .price(0.01);
    let b = provider("b");
    let p = policy("p", &chain(&["api", "b"]))
        .set("preset", "\"litellm\"")
        .set(
            "retry_by_provider.b",
            "{ preset = \"portkey\", retry_after_budget = \"30s\" }",
        )
        .set("quality_gate", "{ escalate_to = [\"b\"] }")
        .set(
            "hedge",
            "{ quantile = 0.9, window = 50, initial = \"2s\", to = [\"b\"] }",
        );
    let dir = TempDir::new().unwrap();
    let decision = "[decision]\nmaximize = \"pass_share\"\nrequire = [\"makespan_s <= 600.5\", \"jobs_failed > 0.25\"]\n";
    let f = write(
        dir.path(),
        "s.toml",
        &format!("{}{decision}", text(&[&w, &api, &b, &p])),
    );
    let text = resolve(&f).unwrap();
    assert!(
        text.contains("retry_after_resolution = \"0.25s\""),
        "{text}"
    );
    assert!(text.contains("duration = \"5400s\""), "{text}");
    assert!(
        text.contains("[decision]\nmaximize = \"pass_share\"\nrequire = [\"makespan_s <= 600.5\", \"jobs_failed > 0.25\"]"),
        "{text}"
    );
    let copy = write(dir.path(), "r.toml", &text);
    assert_eq!(
        ratesim::scenario::load(&copy).unwrap(),
        ratesim::scenario::load(&f).unwrap()
    );
}
