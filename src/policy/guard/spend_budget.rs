//! The article's tip against bill explosions, as a policy: once spend reaches
//! `threshold` (80 %) of the budget, stop sending to every provider but `providers`
//! (the cheap ones): a chain then moves on to them.

use super::{Attempt, Feedback, Guard, GuardVerdict};
use crate::time::SimTime;

/// Spend so far and the rule.
pub struct SpendBudget {
    budget: f64,
    threshold: f64,
    allowed: Vec<usize>,
    spent: f64,
}

impl SpendBudget {
    /// A guard that keeps only `allowed` once `threshold * budget` USD is spent.
    pub fn new(budget: f64, threshold: f64, allowed: Vec<usize>) -> Self {
        SpendBudget {
            budget,
            threshold,
            allowed,
            spent: 0.0,
        }
    }
}

impl Guard for SpendBudget {
    fn check(&mut self, _now: SimTime, a: &Attempt) -> GuardVerdict {
        if self.spent >= self.threshold * self.budget && !self.allowed.contains(&a.provider) {
            GuardVerdict::Refuse
        } else {
            GuardVerdict::Pass
        }
    }

    fn on_response(&mut self, _now: SimTime, f: &Feedback) {
        self.spent += f.cost;
    }
}
