//! A sweep's results as data: a policy's estimate of a metric at each point of a grid of
//! scenario settings.

use std::collections::{HashMap, HashSet};

use crate::stats::summary::Summary;
use crate::stats::Estimate;

/// The value of a swept key at one point: a number (durations in seconds), or text (a
/// boolean or string value, charted as a category).
#[derive(Clone, Debug, PartialEq)]
pub enum KeyValue {
    /// A number.
    Num(f64),
    /// A boolean or string, as written.
    Text(String),
}

impl KeyValue {
    /// The value for people: short numbers, text as written.
    pub fn label(&self) -> String {
        match self {
            KeyValue::Num(x) => format!("{x}"),
            KeyValue::Text(t) => t.clone(),
        }
    }

    /// The number, when it is one.
    pub fn num(&self) -> Option<f64> {
        match self {
            KeyValue::Num(x) => Some(*x),
            KeyValue::Text(_) => None,
        }
    }
}

/// The result of a sweep: one row per point, policy and metric.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    /// Swept keys in `--set` order (zipped keys one after another).
    pub keys: Vec<String>,
    /// Metrics tabulated.
    pub metrics: Vec<String>,
    /// Policies in scenario order.
    pub policies: Vec<String>,
    /// Scenario name.
    pub scenario: String,
    /// Rows.
    pub rows: Vec<SweepRow>,
}

/// One point of a sweep: a policy's estimate of a metric at one setting.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    /// The swept keys' values at this point, in [`Sweep::keys`] order.
    pub keys: Vec<KeyValue>,
    /// Policy.
    pub policy: String,
    /// Metric name.
    pub metric: String,
    /// Mean and interval.
    pub estimate: Estimate,
}

impl Sweep {
    /// The axes of the grid, each a run of key positions: a key joins the axis before it
    /// when it was zipped with it, which the rows show as its taking more than one value
    /// and always the same one beside each value of that axis' first key. (A zip of one
    /// step is the same grid as separate keys, and comes out as such.)
    pub fn axes(&self) -> Vec<Vec<usize>> {
        let mut axes: Vec<Vec<usize>> = Vec::new();
        for k in 0..self.keys.len() {
            let joins = axes.last().is_some_and(|axis| {
                let first = axis[0];
                let mut pairs: HashMap<String, String> = HashMap::new();
                let mut values: HashSet<String> = HashSet::new();
                for r in &self.rows {
                    let (a, b) = (r.keys[first].label(), r.keys[k].label());
                    values.insert(b.clone());
                    if pairs.entry(a).or_insert_with(|| b.clone()) != &b {
                        return false;
                    }
                }
                values.len() > 1
            });
            match axes.last_mut() {
                Some(axis) if joins => axis.push(k),
                _ => axes.push(vec![k]),
            }
        }
        axes
    }

    /// Each key's shortest dotted suffix that no other key ends with (`limits[0].limit`
    /// for `providers.claude.limits[0].limit` beside `providers.copilot.limits[0].limit`
    /// is not enough, so that pair keeps `claude.limits[0].limit` and
    /// `copilot.limits[0].limit`): short column headers and chart titles.
    pub fn short_keys(&self) -> Vec<String> {
        let segs: Vec<Vec<&str>> = self.keys.iter().map(|k| k.split('.').collect()).collect();
        segs.iter()
            .enumerate()
            .map(|(i, s)| {
                (1..=s.len())
                    .map(|n| s[s.len() - n..].join("."))
                    .find(|suffix| {
                        self.keys.iter().enumerate().all(|(j, k)| {
                            j == i || !(k == suffix || k.ends_with(&format!(".{suffix}")))
                        })
                    })
                    .unwrap_or_else(|| self.keys[i].clone())
            })
            .collect()
    }

    /// The points, in order of appearance.
    pub fn points(&self) -> Vec<&[KeyValue]> {
        let mut seen: HashSet<&[KeyValue]> = HashSet::new();
        let mut out: Vec<&[KeyValue]> = Vec::new();
        for r in &self.rows {
            if out.last() != Some(&&r.keys[..]) && seen.insert(&r.keys) {
                out.push(&r.keys);
            }
        }
        out
    }

    /// Every estimate by point, policy and metric, for lookups in constant time.
    pub fn lookup(&self) -> Lookup<'_> {
        Lookup(
            self.rows
                .iter()
                .map(|r| {
                    (
                        (&r.keys[..], r.policy.as_str(), r.metric.as_str()),
                        &r.estimate,
                    )
                })
                .collect(),
        )
    }
}

/// A sweep's estimates by (point, policy, metric): [`Sweep::lookup`].
pub struct Lookup<'a>(HashMap<(&'a [KeyValue], &'a str, &'a str), &'a Estimate>);

impl<'a> Lookup<'a> {
    /// The estimate of `metric` for `policy` at the point whose keys are `keys`.
    pub fn get(
        &self,
        keys: &'a [KeyValue],
        policy: &'a str,
        metric: &'a str,
    ) -> Option<&'a Estimate> {
        self.0.get(&(keys, policy, metric)).copied()
    }
}

impl Eq for KeyValue {}

impl std::hash::Hash for KeyValue {
    /// Numbers hash by their bits (the sweep never holds NaN keys: `sweep.csv` reads
    /// non-numbers as text, and `--set` values are finite).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            KeyValue::Num(x) => (0u8, (x + 0.0).to_bits()).hash(state),
            KeyValue::Text(t) => (1u8, t).hash(state),
        }
    }
}

/// Tabulates the summary of the point at `keys` into sweep rows.
pub fn rows_of(keys: &[KeyValue], summary: &Summary, metrics: &[String]) -> Vec<SweepRow> {
    let mut rows = Vec::new();
    for (pi, p) in summary.policies.iter().enumerate() {
        for m in metrics {
            if let Some(e) = summary.get(pi, m) {
                rows.push(SweepRow {
                    keys: keys.to_vec(),
                    policy: p.name.clone(),
                    metric: m.clone(),
                    estimate: *e,
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(keys: &[&str], points: &[&[f64]]) -> Sweep {
        Sweep {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            rows: points
                .iter()
                .map(|p| SweepRow {
                    keys: p.iter().map(|&x| KeyValue::Num(x)).collect(),
                    policy: "p".into(),
                    metric: "m".into(),
                    estimate: Estimate {
                        mean: 0.0,
                        ci_low: 0.0,
                        ci_high: 0.0,
                        n: 1,
                    },
                })
                .collect(),
            ..Sweep::default()
        }
    }

    #[test]
    fn short_keys_are_the_shortest_distinct_suffixes() {
        let s = sweep(
            &[
                "providers.claude.limits[0].limit",
                "providers.copilot.limits[0].limit",
                "workload.concurrency",
            ],
            &[],
        );
        assert_eq!(
            s.short_keys(),
            [
                "claude.limits[0].limit",
                "copilot.limits[0].limit",
                "concurrency"
            ]
        );
    }

    #[test]
    fn zipped_keys_come_back_as_one_axis() {
        // a,b zipped; c a grid axis of its own.
        let s = sweep(
            &["a", "b", "c"],
            &[
                &[1., 10., 5.],
                &[1., 10., 6.],
                &[2., 20., 5.],
                &[2., 20., 6.],
            ],
        );
        assert_eq!(s.axes(), [vec![0, 1], vec![2]]);
        // A grid: b takes every value beside each a.
        let s = sweep(
            &["a", "b"],
            &[&[1., 10.], &[1., 20.], &[2., 10.], &[2., 20.]],
        );
        assert_eq!(s.axes(), [vec![0], vec![1]]);
        // A key of one value is its own axis.
        let s = sweep(&["a", "b"], &[&[1., 10.], &[2., 10.]]);
        assert_eq!(s.axes(), [vec![0], vec![1]]);
    }
}
