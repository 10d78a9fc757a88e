//! Trace replay: a CSV with header `start_s,input_tokens,output_tokens` and an optional
//! `job_id` column. Rows sharing a `job_id` are one job whose requests run in file order;
//! the job arrives at its first row's `start_s`.

use std::collections::BTreeMap;

use super::{RequestSize, MAX_JOBS, MAX_REQUESTS, MAX_TOKENS};
use crate::time::MAX_SIM_TIME;

/// The largest trace file read, in bytes (4 GiB): room for [`MAX_REQUESTS`] rows.
pub const MAX_TRACE_BYTES: u64 = 4 << 30;

/// One job of a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceRow {
    /// Arrival, seconds from the start.
    pub start_s: f64,
    /// Its requests, in order.
    pub requests: Vec<RequestSize>,
}

/// A malformed trace: the 1-based line and what is wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TraceError {
    /// 1-based line number in the CSV file.
    pub line: u64,
    /// What is wrong and what would be valid.
    pub message: String,
}

fn err(line: u64, message: impl Into<String>) -> TraceError {
    TraceError {
        line,
        message: message.into(),
    }
}

/// Parses a trace CSV into jobs sorted by arrival (stable for equal starts).
pub fn parse_trace(text: &str) -> Result<Vec<TraceRow>, TraceError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| err(1, format!("cannot read the header: {e}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let required = ["start_s", "input_tokens", "output_tokens"];
    let mut idx = [0usize; 3];
    for (i, name) in required.iter().enumerate() {
        idx[i] = column(name).ok_or_else(|| {
            err(
                1,
                format!(
                    "header has no `{name}` column; expected `start_s,input_tokens,output_tokens` (and optionally `job_id`), found `{}`",
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            )
        })?;
    }
    for h in headers.iter() {
        if !matches!(h, "start_s" | "input_tokens" | "output_tokens" | "job_id") {
            return Err(err(
                1,
                format!("unknown column `{h}`; valid columns are start_s, input_tokens, output_tokens, job_id"),
            ));
        }
    }
    let job_col = column("job_id");
    let mut jobs: Vec<TraceRow> = Vec::new();
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut rows: u64 = 0;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, format!("malformed CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("");
        let start_s: f64 = field(idx[0])
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                err(
                    line,
                    format!(
                        "start_s `{}` is not a non-negative number of seconds",
                        field(idx[0])
                    ),
                )
            })?;
        let longest = MAX_SIM_TIME.as_secs_f64();
        if start_s >= longest {
            return Err(err(
                line,
                format!(
                    "start_s `{}` is past the longest a run may simulate, {} years ({longest} s)",
                    field(idx[0]),
                    longest / (365.25 * 86_400.0)
                ),
            ));
        }
        let count = |i: usize, name: &str| -> Result<u64, TraceError> {
            let n: u64 = field(i).parse().map_err(|_| {
                err(
                    line,
                    format!("{name} `{}` is not a non-negative whole number", field(i)),
                )
            })?;
            if n > MAX_TOKENS {
                return Err(err(
                    line,
                    format!("{name} `{n}` is more than {MAX_TOKENS}, the most a request may have"),
                ));
            }
            Ok(n)
        };
        rows += 1;
        if rows > MAX_REQUESTS {
            return Err(err(
                line,
                format!(
                    "more than {MAX_REQUESTS} rows; a trace holds at most {MAX_REQUESTS} requests"
                ),
            ));
        }
        let size = RequestSize {
            input: count(idx[1], "input_tokens")?,
            output: count(idx[2], "output_tokens")?,
        };
        match job_col.map(|c| field(c).to_string()) {
            Some(id) if !id.is_empty() => {
                if let Some(&j) = by_id.get(&id) {
                    jobs[j].requests.push(size);
                } else {
                    by_id.insert(id, jobs.len());
                    jobs.push(TraceRow {
                        start_s,
                        requests: vec![size],
                    });
                }
            }
            _ => jobs.push(TraceRow {
                start_s,
                requests: vec![size],
            }),
        }
        if jobs.len() as u64 > MAX_JOBS {
            return Err(err(
                line,
                format!("more than {MAX_JOBS} jobs; a trace holds at most {MAX_JOBS} jobs"),
            ));
        }
    }
    jobs.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_rows_by_job_id_and_sorts_by_start() {
        let jobs = parse_trace(
            "job_id,start_s,input_tokens,output_tokens\na,5,10,1\nb,1,20,2\na,9,30,3\n",
        )
        .unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].start_s, 1.0);
        assert_eq!(jobs[1].requests.len(), 2);
        assert_eq!(jobs[1].requests[1].input, 30);
    }

    #[test]
    fn a_bad_row_names_its_line() {
        let e = parse_trace("start_s,input_tokens,output_tokens\n0,10,1\n1,ten,1\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("input_tokens `ten`"), "{e}");
        let e = parse_trace("start_s,input_tokens,output_tokens\n-1,10,1\n").unwrap_err();
        assert_eq!(e.line, 2);
        // Guards: a start past the longest simulated time used to saturate the clock.
        let e = parse_trace("start_s,input_tokens,output_tokens\n0,1,1\n1e19,1,1\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("start_s `1e19` is past the longest"),
            "{e}"
        );
        // Guards: a row of u64::MAX tokens wrapped every token sum.
        let e =
            parse_trace("start_s,input_tokens,output_tokens\n0,1,1\n1,18446744073709551615,1\n")
                .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.message
                .contains("input_tokens `18446744073709551615` is more than 1000000000"),
            "{e}"
        );
        let e = parse_trace("start,input_tokens,output_tokens\n").unwrap_err();
        assert!(e.message.contains("no `start_s` column"), "{e}");
    }
}
