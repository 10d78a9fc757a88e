//! Trace replay: a CSV with columns `start_s`, `input_tokens`, `output_tokens` and an
//! optional `job_id` (under other names when `workload.columns` maps them); other columns
//! are ignored. Rows sharing a `job_id` are one job whose requests run in file order;
//! the job arrives at its first row's `start_s`.

use std::collections::BTreeMap;

use super::{RequestSize, MAX_JOBS, MAX_REQUESTS, MAX_TOKENS};
use crate::time::MAX_SIM_TIME;

/// The largest trace file read, in bytes (4 GiB): room for [`MAX_REQUESTS`] rows.
pub const MAX_TRACE_BYTES: u64 = 4 << 30;

/// A malformed trace: the 1-based line, the 1-based column when one cell is at fault,
/// and what is wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TraceError {
    /// 1-based line number in the CSV file.
    pub line: u64,
    /// 1-based column of the bad cell, when one is at fault.
    pub column: Option<usize>,
    /// What is wrong and what would be valid.
    pub message: String,
}

fn err(line: u64, message: impl Into<String>) -> TraceError {
    TraceError {
        line,
        column: None,
        message: message.into(),
    }
}

/// The fields a trace row has, in the order messages list them; `job_id` is optional.
pub const TRACE_FIELDS: [&str; 4] = ["start_s", "input_tokens", "output_tokens", "job_id"];

/// The header name of each trace field in a file (`workload.columns` maps them); by
/// default each field's own name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceColumns {
    /// The column of each of [`TRACE_FIELDS`], in that order.
    pub names: [String; 4],
}

impl Default for TraceColumns {
    fn default() -> Self {
        TraceColumns {
            names: TRACE_FIELDS.map(String::from),
        }
    }
}

impl TraceColumns {
    /// The column that holds `field` (one of [`TRACE_FIELDS`]).
    pub fn of(&self, field: &str) -> &str {
        let i = TRACE_FIELDS
            .iter()
            .position(|f| *f == field)
            .expect("a trace field");
        &self.names[i]
    }

    /// Whether every field is read from the column of its own name.
    pub fn is_default(&self) -> bool {
        *self == TraceColumns::default()
    }
}

/// A parsed trace: its jobs, sorted by arrival (stable for equal starts), and the
/// columns of the file that no field reads. Jobs are kept as flat arrays (a million
/// rows are a million jobs: one allocation each would double the memory).
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Each job's arrival, seconds from the start, non-decreasing.
    pub starts: Vec<f64>,
    /// Index into `requests` of each job's first request; one extra entry at the end.
    pub offsets: Vec<u32>,
    /// Every request, job by job, each job's in file order.
    pub requests: Vec<RequestSize>,
    /// Header names of the columns ignored, in file order.
    pub ignored: Vec<String>,
}

impl Trace {
    /// Number of jobs.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether the trace has no job.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The requests of job `j`.
    pub fn requests_of(&self, j: usize) -> &[RequestSize] {
        &self.requests[self.offsets[j] as usize..self.offsets[j + 1] as usize]
    }
}

/// Parses a trace CSV into jobs sorted by arrival (stable for equal starts), reading
/// each field from its column in `columns`; other columns are ignored (and listed).
pub fn parse_trace(text: &str, columns: &TraceColumns) -> Result<Trace, TraceError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| err(1, format!("cannot read the header: {e}")))?
        .clone();
    let column = |field: &str| headers.iter().position(|h| h == columns.of(field));
    let expected = || {
        let named = |f: &str| {
            let c = columns.of(f);
            if c == f {
                format!("`{f}`")
            } else {
                format!("`{c}` (for {f})")
            }
        };
        format!(
            "expected {}, {} and {} (and optionally {})",
            named("start_s"),
            named("input_tokens"),
            named("output_tokens"),
            named("job_id")
        )
    };
    let mut idx = [0usize; 3];
    for (i, field) in TRACE_FIELDS[..3].iter().enumerate() {
        idx[i] = column(field).ok_or_else(|| {
            let c = columns.of(field);
            let what = if c == *field {
                format!("`{c}`")
            } else {
                format!("`{c}` (for {field})")
            };
            err(
                1,
                format!(
                    "header has no {what} column; {}, found `{}`{}",
                    expected(),
                    headers.iter().collect::<Vec<_>>().join(","),
                    if columns.is_default() {
                        "; map other names with workload.columns = { start_s = \"...\", ... }"
                    } else {
                        ""
                    }
                ),
            )
        })?;
    }
    let mut seen: Vec<&str> = Vec::new();
    for h in headers.iter() {
        if seen.contains(&h) && TRACE_FIELDS.iter().any(|f| columns.of(f) == h) {
            return Err(err(1, format!("column `{h}` appears twice in the header")));
        }
        seen.push(h);
    }
    let ignored: Vec<String> = headers
        .iter()
        .filter(|h| !TRACE_FIELDS.iter().any(|f| columns.of(f) == *h))
        .map(String::from)
        .collect();
    let job_col = column("job_id");
    // Per job its start; per row its size and (with job ids) its job.
    let mut starts: Vec<f64> = Vec::new();
    let mut sizes: Vec<RequestSize> = Vec::new();
    let mut job_of: Vec<u32> = Vec::new();
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut rows: u64 = 0;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, format!("malformed CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("");
        let at = |i: usize, message: String| TraceError {
            line,
            column: Some(i + 1),
            message,
        };
        let start_s: f64 = field(idx[0])
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                at(
                    idx[0],
                    format!(
                        "start_s `{}` is not a non-negative number of seconds",
                        field(idx[0])
                    ),
                )
            })?;
        let longest = MAX_SIM_TIME.as_secs_f64();
        if start_s >= longest {
            return Err(at(
                idx[0],
                format!(
                    "start_s `{}` is past the longest a run may simulate, {} years ({longest} s)",
                    field(idx[0]),
                    longest / (365.25 * 86_400.0)
                ),
            ));
        }
        let count = |i: usize, name: &str| -> Result<u64, TraceError> {
            let n: u64 = field(i).parse().map_err(|_| {
                at(
                    i,
                    format!("{name} `{}` is not a non-negative whole number", field(i)),
                )
            })?;
            if n > MAX_TOKENS {
                return Err(at(
                    i,
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
        let job = match job_col.map(field) {
            Some(id) if !id.is_empty() => match by_id.get(id) {
                Some(&j) => j,
                None => {
                    by_id.insert(id.to_string(), starts.len());
                    starts.push(start_s);
                    starts.len() - 1
                }
            },
            _ => {
                starts.push(start_s);
                starts.len() - 1
            }
        };
        sizes.push(size);
        if job_col.is_some() {
            job_of.push(job as u32);
        }
        if starts.len() as u64 > MAX_JOBS {
            return Err(err(
                line,
                format!("more than {MAX_JOBS} jobs; a trace holds at most {MAX_JOBS} jobs"),
            ));
        }
    }
    // Each job's requests together, in file order (a counting sort by job; without job
    // ids every row is its own job, already in place).
    let n = starts.len();
    let (offsets, requests) = if job_of.is_empty() {
        ((0..=n as u32).collect::<Vec<u32>>(), sizes)
    } else {
        let mut offsets = vec![0u32; n + 1];
        for &j in &job_of {
            offsets[j as usize + 1] += 1;
        }
        for j in 0..n {
            offsets[j + 1] += offsets[j];
        }
        let mut next = offsets.clone();
        let mut requests = vec![
            RequestSize {
                input: 0,
                output: 0
            };
            sizes.len()
        ];
        for (&j, &size) in job_of.iter().zip(&sizes) {
            requests[next[j as usize] as usize] = size;
            next[j as usize] += 1;
        }
        (offsets, requests)
    };
    // Jobs by arrival, stable for equal starts (a trace is most often sorted already).
    if starts.windows(2).all(|w| w[0] <= w[1]) {
        return Ok(Trace {
            starts,
            offsets,
            requests,
            ignored,
        });
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&a, &b| starts[a as usize].total_cmp(&starts[b as usize]));
    let mut sorted = Trace {
        starts: Vec::with_capacity(n),
        offsets: Vec::with_capacity(n + 1),
        requests: Vec::with_capacity(requests.len()),
        ignored,
    };
    sorted.offsets.push(0);
    for &j in &order {
        let j = j as usize;
        sorted.starts.push(starts[j]);
        sorted
            .requests
            .extend_from_slice(&requests[offsets[j] as usize..offsets[j + 1] as usize]);
        sorted.offsets.push(sorted.requests.len() as u32);
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Trace, TraceError> {
        parse_trace(text, &TraceColumns::default())
    }

    #[test]
    fn groups_rows_by_job_id_and_sorts_by_start() {
        let jobs =
            parse("job_id,start_s,input_tokens,output_tokens\na,5,10,1\nb,1,20,2\na,9,30,3\n")
                .unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs.starts, [1.0, 5.0]);
        assert_eq!(jobs.requests_of(0)[0].input, 20);
        assert_eq!(jobs.requests_of(1).len(), 2);
        assert_eq!(jobs.requests_of(1)[0].input, 10);
        assert_eq!(jobs.requests_of(1)[1].input, 30);
        // Equal starts keep the file's order; rows without an id are their own jobs.
        let t = parse(
            "job_id,start_s,input_tokens,output_tokens
,3,1,1
x,3,2,1
,2,3,1
x,0,4,1
",
        )
        .unwrap();
        let firsts: Vec<u64> = (0..t.len()).map(|j| t.requests_of(j)[0].input).collect();
        assert_eq!(t.starts, [2.0, 3.0, 3.0]);
        assert_eq!(firsts, [3, 1, 2]);
        assert_eq!(t.requests_of(2).len(), 2);
    }

    #[test]
    fn a_bad_row_names_its_line_and_column() {
        let e = parse("start_s,input_tokens,output_tokens\n0,10,1\n1,ten,1\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, Some(2)));
        assert!(e.message.contains("input_tokens `ten`"), "{e}");
        let e = parse("start_s,input_tokens,output_tokens\n-1,10,1\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, Some(1)));
        // Guards: a start past the longest simulated time used to saturate the clock.
        let e = parse("start_s,input_tokens,output_tokens\n0,1,1\n1e19,1,1\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("start_s `1e19` is past the longest"),
            "{e}"
        );
        // Guards: a row of u64::MAX tokens wrapped every token sum.
        let e = parse("start_s,input_tokens,output_tokens\n0,1,1\n1,18446744073709551615,1\n")
            .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.message
                .contains("input_tokens `18446744073709551615` is more than 1000000000"),
            "{e}"
        );
        let e = parse("start,input_tokens,output_tokens\n").unwrap_err();
        assert!(e.message.contains("no `start_s` column"), "{e}");
        assert!(e.message.contains("workload.columns"), "{e}");
    }

    #[test]
    fn extra_columns_are_ignored_and_listed() {
        let t = parse_trace(
            "model,start_s,input_tokens,output_tokens,cost\nopus,0,10,1,0.5\n",
            &TraceColumns::default(),
        )
        .unwrap();
        assert_eq!(t.ignored, ["model", "cost"]);
        assert_eq!(
            t.requests_of(0)[0],
            RequestSize {
                input: 10,
                output: 1
            }
        );
    }

    #[test]
    fn mapped_columns_are_read_and_named_in_errors() {
        let mut columns = TraceColumns::default();
        columns.names[0] = "ts".into();
        columns.names[1] = "prompt_tokens".into();
        let t = parse_trace(
            "ts,prompt_tokens,output_tokens,start_s\n2,10,1,99\n",
            &columns,
        )
        .unwrap();
        assert_eq!(t.starts[0], 2.0);
        // A column named like a field but not mapped to it is just another column.
        assert_eq!(t.ignored, ["start_s"]);
        let e = parse_trace("ts,input_tokens,output_tokens\n0,1,1\n", &columns).unwrap_err();
        assert!(
            e.message
                .contains("no `prompt_tokens` (for input_tokens) column"),
            "{e}"
        );
        let e = parse_trace("ts,prompt_tokens,output_tokens,ts\n0,1,1,1\n", &columns).unwrap_err();
        assert!(e.message.contains("column `ts` appears twice"), "{e}");
    }
}
