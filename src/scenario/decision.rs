//! `[decision]`: what the recommendation optimises ([`crate::stats::verdict`]). An
//! objective (a metric to minimise or maximise) and requirements on metrics' means
//! (`metric <= value` and the like). By default: no failed job in any replication
//! (`runs_with_failure_share <= 0`), then the shortest `makespan_s`. Metric names are
//! checked against the run's metrics where the run is set up (they depend on the
//! providers), not here.

use std::fmt;

/// Which way the objective is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Lower is better.
    Minimize,
    /// Higher is better.
    Maximize,
}

/// A comparison in a requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }
}

/// A requirement on a metric's mean: `metric op value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    /// Metric name.
    pub metric: String,
    /// Comparison.
    pub op: Op,
    /// Bound.
    pub value: f64,
}

/// What a requirement must look like, for error messages.
pub const REQUIREMENT_HELP: &str =
    "`METRIC <= VALUE` (or <, >=, >), e.g. \"runs_with_failure_share <= 0.01\" or \"makespan_s <= 600\"";

impl Requirement {
    /// Reads `metric <= value` (or `<`, `>=`, `>`); the metric is checked by the caller.
    pub fn parse(text: &str) -> Result<Requirement, String> {
        let ops = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)];
        for (sym, op) in ops {
            if let Some((metric, value)) = text.split_once(sym) {
                let metric = metric.trim();
                let value = value.trim();
                let bad = || format!("`{text}` is not a requirement; expected {REQUIREMENT_HELP}");
                if metric.is_empty() || value.starts_with(['=', '<', '>']) {
                    return Err(bad());
                }
                let value: f64 = value.parse().map_err(|_| bad())?;
                if !value.is_finite() {
                    return Err(bad());
                }
                return Ok(Requirement {
                    metric: metric.to_string(),
                    op,
                    value,
                });
            }
        }
        Err(format!(
            "`{text}` is not a requirement; expected {REQUIREMENT_HELP}"
        ))
    }

    /// Whether a mean `x` meets it (an undefined mean meets nothing).
    pub fn holds(&self, x: f64) -> bool {
        x.is_finite()
            && match self.op {
                Op::Le => x <= self.value,
                Op::Lt => x < self.value,
                Op::Ge => x >= self.value,
                Op::Gt => x > self.value,
            }
    }

    /// How far `x` misses it, relative to the larger of the bound and 1 (0 when met; 1
    /// per requirement when undefined).
    pub fn shortfall(&self, x: f64) -> f64 {
        if self.holds(x) {
            return 0.0;
        }
        if !x.is_finite() {
            return 1.0;
        }
        (x - self.value).abs() / self.value.abs().max(1.0)
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.metric, self.op.text(), self.value)
    }
}

/// What the recommendation optimises, and under which requirements.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The metric to optimise.
    pub objective: String,
    /// Which way.
    pub direction: Direction,
    /// Requirements every candidate must meet.
    pub require: Vec<Requirement>,
}

impl Default for Decision {
    /// No failed job in any replication, then the shortest makespan.
    fn default() -> Self {
        Decision {
            objective: "makespan_s".into(),
            direction: Direction::Minimize,
            require: vec![Requirement {
                metric: "runs_with_failure_share".into(),
                op: Op::Le,
                value: 0.0,
            }],
        }
    }
}

impl Decision {
    /// `minimize makespan_s` and the like.
    pub fn objective_text(&self) -> String {
        let word = match self.direction {
            Direction::Minimize => "lowest",
            Direction::Maximize => "highest",
        };
        format!("{word} {}", self.objective)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_parse_hold_and_reject_what_is_not_one() {
        let r = Requirement::parse(" makespan_s <= 600 ").unwrap();
        assert_eq!(
            r,
            Requirement {
                metric: "makespan_s".into(),
                op: Op::Le,
                value: 600.0
            }
        );
        assert!(r.holds(600.0) && !r.holds(600.5) && !r.holds(f64::NAN));
        assert_eq!(r.to_string(), "makespan_s <= 600");
        let g = Requirement::parse("pass_share>0.7").unwrap();
        assert_eq!((g.op, g.value), (Op::Gt, 0.7));
        assert!(!g.holds(0.7) && g.holds(0.71));
        for bad in [
            "makespan_s",
            "<= 3",
            "makespan_s <= fast",
            "a <== 3",
            "a <= inf",
        ] {
            let e = Requirement::parse(bad).unwrap_err();
            assert!(e.contains("METRIC <= VALUE"), "{bad}: {e}");
        }
        assert_eq!(r.shortfall(660.0), 0.1);
        assert_eq!(r.shortfall(500.0), 0.0);
    }
}
