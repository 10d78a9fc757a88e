//! `sweep.csv`, written from a [`Sweep`] and read back (for `ratesim plot`).

use crate::output::exact;
use crate::stats::sweep::{KeyValue, Sweep, SweepRow};
use crate::stats::Estimate;

/// `sweep.csv`: one row per point and policy: the keys, the policy, then each metric's
/// mean, `_ci_low`, `_ci_high` and `_n`.
pub fn sweep_csv(sweep: &Sweep) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = sweep.keys.clone();
    header.push("policy".into());
    for m in &sweep.metrics {
        header.extend([
            m.clone(),
            format!("{m}_ci_low"),
            format!("{m}_ci_high"),
            format!("{m}_n"),
        ]);
    }
    w.write_record(&header).expect("writing to memory");
    let mut i = 0;
    while i < sweep.rows.len() {
        let first = &sweep.rows[i];
        let mut record: Vec<String> = first
            .keys
            .iter()
            .map(|k| match k {
                KeyValue::Num(x) => exact(*x),
                KeyValue::Text(t) => t.clone(),
            })
            .collect();
        record.push(first.policy.clone());
        for m in &sweep.metrics {
            match sweep.rows[i..]
                .iter()
                .take_while(|r| r.keys == first.keys && r.policy == first.policy)
                .find(|r| &r.metric == m)
            {
                Some(r) => record.extend([
                    exact(r.estimate.mean),
                    exact(r.estimate.ci_low),
                    exact(r.estimate.ci_high),
                    r.estimate.n.to_string(),
                ]),
                None => record.extend([String::new(), String::new(), String::new(), "0".into()]),
            }
        }
        w.write_record(&record).expect("writing to memory");
        i += sweep.rows[i..]
            .iter()
            .take_while(|r| r.keys == first.keys && r.policy == first.policy)
            .count();
    }
    w.into_inner().expect("writing to memory")
}

/// Reads `sweep.csv` back (for `ratesim plot`).
pub fn read_sweep_csv(bytes: &[u8], scenario: &str) -> Result<Sweep, String> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(String::from)
        .collect();
    let pcol = header
        .iter()
        .position(|h| h == "policy")
        .ok_or("sweep.csv has no `policy` column")?;
    let keys = header[..pcol].to_vec();
    if keys.is_empty() {
        return Err("sweep.csv has no key column before `policy`".into());
    }
    let groups = header[pcol + 1..].chunks(4);
    let mut metrics: Vec<String> = Vec::new();
    for g in groups {
        let m = &g[0];
        let want = [
            m.clone(),
            format!("{m}_ci_low"),
            format!("{m}_ci_high"),
            format!("{m}_n"),
        ];
        if g != want {
            return Err(format!(
                "sweep.csv: the columns after `policy` come in fours, `<metric>,<metric>_ci_low,<metric>_ci_high,<metric>_n`; found `{}`",
                g.join(",")
            ));
        }
        metrics.push(m.clone());
    }
    // A value: a number, or empty for "undefined".
    let num = |s: &str, line: u64, col: &str| -> Result<f64, String> {
        if s.is_empty() {
            return Ok(f64::NAN);
        }
        s.parse()
            .map_err(|_| format!("sweep.csv line {line}, column `{col}`: `{s}` is not a number"))
    };
    let mut sweep = Sweep {
        keys,
        metrics: metrics.clone(),
        scenario: scenario.into(),
        ..Sweep::default()
    };
    // Key cells as written; a column is numeric when each of its cells is a finite
    // number, else its values are categories.
    let mut texts: Vec<Vec<String>> = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let line = rec.position().map_or(0, |p| p.line());
        if let Some(i) = (0..pcol).find(|&i| rec[i].is_empty()) {
            return Err(format!(
                "sweep.csv line {line}, column `{}`: a key value is empty; every row names its point",
                header[i]
            ));
        }
        texts.push((0..pcol).map(|i| rec[i].to_string()).collect());
        let policy = rec[pcol].to_string();
        if !sweep.policies.contains(&policy) {
            sweep.policies.push(policy.clone());
        }
        for (j, m) in metrics.iter().enumerate() {
            let c = pcol + 1 + 4 * j;
            sweep.rows.push(SweepRow {
                keys: Vec::new(),
                policy: policy.clone(),
                metric: m.clone(),
                estimate: Estimate {
                    mean: num(&rec[c], line, &header[c])?,
                    ci_low: num(&rec[c + 1], line, &header[c + 1])?,
                    ci_high: num(&rec[c + 2], line, &header[c + 2])?,
                    n: rec[c + 3].parse().map_err(|_| {
                        format!(
                            "sweep.csv line {line}, column `{}`: `{}` is not a count",
                            header[c + 3],
                            &rec[c + 3]
                        )
                    })?,
                },
            });
        }
    }
    let numeric: Vec<bool> = (0..pcol)
        .map(|i| {
            texts
                .iter()
                .all(|t| t[i].parse::<f64>().is_ok_and(f64::is_finite))
        })
        .collect();
    let per_row = metrics.len();
    for (j, t) in texts.iter().enumerate() {
        let keys: Vec<KeyValue> = t
            .iter()
            .zip(&numeric)
            .map(|(v, &n)| match n {
                true => KeyValue::Num(v.parse().expect("checked numeric")),
                false => KeyValue::Text(v.clone()),
            })
            .collect();
        for row in &mut sweep.rows[j * per_row..(j + 1) * per_row] {
            row.keys = keys.clone();
        }
    }
    Ok(sweep)
}
