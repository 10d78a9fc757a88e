//! Makespan and cost per policy: horizontal bars (names stay readable with many
//! policies) with 95% interval whiskers.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axis, color, span, tick, whisker, Chart, ChartData, DrawResult, Folder, FONT};
use crate::stats::summary::Summary;

/// Draws the chart of a run with a summary.
pub(super) fn draw(data: &ChartData, out: &mut Folder<'_>) -> DrawResult {
    let Some(summary) = &data.summary else {
        return Ok(());
    };
    out.chart(
        &MakespanCost { summary },
        "makespan_cost",
        "Makespan and cost per policy",
    )
}

/// The chart.
pub struct MakespanCost<'a> {
    /// The run.
    pub summary: &'a Summary,
}

impl MakespanCost<'_> {
    fn name_width(&self) -> u32 {
        let longest = self
            .summary
            .policies
            .iter()
            .map(|p| p.name.chars().count())
            .max()
            .unwrap_or(8);
        (longest as u32 * 9 + 24).clamp(100, 360)
    }
}

impl Chart for MakespanCost<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.summary.policies.len() as u32;
        (self.name_width() + 1180, 170 + 44 * n.max(3))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let s = self.summary;
        let root = root.titled(
            &format!("{}: makespan and cost per policy", s.scenario),
            (FONT, 22),
        )?;
        let (root, foot) = root.split_vertically(root.dim_in_pixel().1 - 26);
        foot.draw(&Text::new(
            "whiskers: 95% confidence intervals over replications; dashed tick: the policy's \
             capacity bound (no policy completing every job can finish sooner); outlined \
             bars: policies that fail jobs",
            (16, 4),
            (FONT, 13),
        ))?;
        let (left, right) = root.split_horizontally(self.name_width() + 590);
        let n = s.policies.len();
        let panels = [
            (&left, "makespan_s", "makespan (s)", true),
            (
                &right,
                "monthly_bill_usd",
                "projected monthly bill (USD)",
                false,
            ),
        ];
        for (area, metric, desc, names) in panels {
            let est: Vec<_> = (0..n).map(|i| *s.get(i, metric).expect("metric")).collect();
            // Each policy's capacity bound (over the providers it can reach), a tick on
            // its bar.
            let bounds: Vec<Option<f64>> = (0..n)
                .map(|i| {
                    (metric == "makespan_s")
                        .then(|| s.get(i, "makespan_bound_s").map(|e| e.mean))
                        .flatten()
                        .filter(|b| b.is_finite() && *b > 0.0)
                })
                .collect();
            let (_, x1) = span(
                est.iter()
                    .flat_map(|e| [e.mean, e.ci_high])
                    .chain(bounds.iter().flatten().copied()),
                0.0,
            );
            let mut chart = ChartBuilder::on(area)
                .margin(12)
                .x_label_area_size(50)
                .y_label_area_size(if names { self.name_width() } else { 10 })
                .build_cartesian_2d(axis(metric, 0.0, x1)?, -0.5..(n as f64 - 0.5))?;
            let labels: Vec<String> = s.policies.iter().map(|p| p.name.clone()).collect();
            let formatter = super::row_label(&labels, names);
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(n.max(1) * 2 + 1)
                .y_label_formatter(&formatter)
                .x_label_formatter(&tick)
                .x_labels(8)
                .x_desc(desc)
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 16))
                .draw()?;
            for (i, e) in est.iter().enumerate() {
                if !e.mean.is_finite() {
                    continue;
                }
                // First policy at the top.
                let y = (n - 1 - i) as f64;
                let fails = super::fails(s, i);
                let bar = if fails.is_some() {
                    color(i).stroke_width(3)
                } else {
                    color(i).mix(0.85).filled()
                };
                chart.draw_series([Rectangle::new([(0.0, y - 0.32), (e.mean, y + 0.32)], bar)])?;
                if e.n > 1 && e.ci_high > e.ci_low {
                    let style = BLACK.stroke_width(2);
                    chart.draw_series([
                        whisker((e.ci_low, y), (e.ci_high, y), style),
                        whisker((e.ci_low, y - 0.15), (e.ci_low, y + 0.15), style),
                        whisker((e.ci_high, y - 0.15), (e.ci_high, y + 0.15), style),
                    ])?;
                }
                let text = match (&fails, names) {
                    (Some(f), true) => format!("{} ({f})", crate::output::human(e.mean)),
                    _ => crate::output::human(e.mean),
                };
                chart.draw_series([EmptyElement::at((e.mean, y))
                    + Text::new(text, (6, -22), (FONT, 13).into_font())])?;
                if let Some(b) = bounds[i] {
                    chart.draw_series(DashedLineSeries::new(
                        vec![(b, y - 0.4), (b, y + 0.4)],
                        4,
                        3,
                        BLACK.stroke_width(2),
                    ))?;
                }
            }
        }
        Ok(())
    }
}
