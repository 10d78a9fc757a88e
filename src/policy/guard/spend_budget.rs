//! The article's tip against bill explosions, as a policy: once spend reaches
//! `threshold` (80 %) of the budget, stop sending to every provider but `providers`
//! (the cheap ones): a chain then moves on to them.

use super::{Attempt, Feedback, Guard, GuardContext, GuardParams, GuardVerdict, Setting};
use crate::keys::{Keys, R};
use crate::rng::SimRng;
use crate::time::SimTime;

/// Settings of `kind = "spend_budget"`: stop using all but `providers` once spend
/// reaches `threshold` of `budget_usd`.
#[derive(Clone, Debug, PartialEq)]
pub struct SpendBudgetParams {
    /// Spend budget, USD.
    pub budget_usd: f64,
    /// Share of the budget at which traffic shifts (the article's 80 %).
    pub threshold: f64,
    /// Providers left once the threshold is reached.
    pub providers: Vec<usize>,
}

impl SpendBudgetParams {
    /// Reads `budget_usd` and `providers` (both required) and `threshold` (0.8).
    pub(crate) fn parse(keys: &Keys, cx: &GuardContext) -> R<Self> {
        Ok(SpendBudgetParams {
            budget_usd: keys.require(
                keys.positive("budget_usd")?,
                "budget_usd",
                "the spend budget in USD",
            )?,
            threshold: keys.share("threshold", 0.8, 1.0)?,
            providers: keys.providers(
                "providers",
                cx.names,
                "the cheap providers kept once the threshold is reached",
            )?,
        })
    }
}

impl GuardParams for SpendBudgetParams {
    const NAME: &'static str = "spend_budget";
    const KEYS: &'static [&'static str] = &["budget_usd", "threshold", "providers"];

    fn build(&self, _rng: &dyn Fn() -> SimRng) -> Box<dyn Guard> {
        Box::new(SpendBudget::new(
            self.budget_usd,
            self.threshold,
            self.providers.clone(),
        ))
    }

    fn settings(&self) -> Vec<(&'static str, Setting)> {
        vec![
            ("budget_usd", Setting::Float(self.budget_usd)),
            ("threshold", Setting::Float(self.threshold)),
            ("providers", Setting::Providers(self.providers.clone())),
        ]
    }
}

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
    /// What was spent, against the spend past which only the cheap providers are used.
    fn gauges(&self, _now: SimTime, out: &mut Vec<super::Gauge>) {
        out.push(super::Gauge {
            name: "spent (USD)",
            provider: None,
            part: None,
            value: self.spent,
            limit: Some(self.threshold * self.budget),
        });
    }

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
