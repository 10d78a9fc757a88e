//! Cost against rejection probability: one point per policy with 95% intervals on both
//! axes, and the Pareto front (no other policy is both cheaper and less rejected).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    axis, color, legend_width, side_legend, span, tick, Chart, ChartData, DrawResult, Folder, FONT,
};
use crate::stats::compare::pareto_front;
use crate::stats::summary::Summary;

/// Draws the chart of a run with a summary.
pub(super) fn draw(data: &ChartData, out: &mut Folder<'_>) -> DrawResult {
    let Some(summary) = &data.summary else {
        return Ok(());
    };
    out.chart(
        &CostVsRejection { summary },
        "cost_vs_rejection",
        "Cost vs rejection probability (Pareto front dashed)",
    )
}

/// The chart.
pub struct CostVsRejection<'a> {
    /// The run.
    pub summary: &'a Summary,
}

impl CostVsRejection<'_> {
    fn cost_metric(&self) -> &'static str {
        "monthly_bill_usd"
    }
}

impl Chart for CostVsRejection<'_> {
    fn size(&self) -> (u32, u32) {
        let s = self.summary;
        let labels: Vec<String> = (0..s.policies.len())
            .map(|i| {
                let fails = super::fails(s, i).map_or(String::new(), |f| format!(", {f}"));
                format!("{} {} (Pareto){fails}", i + 1, s.policies[i].name)
            })
            .collect();
        let rows = s.policies.len() as u32;
        (
            820 + legend_width(labels.iter().map(String::as_str)),
            620.max(76 + 24 * rows + 110),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let s = self.summary;
        let pts: Vec<_> = (0..s.policies.len())
            .map(|i| {
                let x = *s.get(i, "rejection_probability").expect("metric");
                let y = *s.get(i, self.cost_metric()).expect("metric");
                (x, y)
            })
            .collect();
        let (x0, x1) = span(
            pts.iter().flat_map(|(x, _)| [x.ci_low, x.ci_high, x.mean]),
            0.0,
        );
        let (y0, y1) = span(
            pts.iter().flat_map(|(_, y)| [y.ci_low, y.ci_high, y.mean]),
            0.0,
        );
        let (plot, legend) = root.split_horizontally(820);
        let mut chart = ChartBuilder::on(&plot)
            .caption(
                format!("{}: cost vs rejection probability", s.scenario),
                (FONT, 22),
            )
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(
                axis(
                    "rejection probability",
                    x0.min(0.0) - 0.02 * (x1 - x0),
                    x1.min(1.05).max(x0 + 0.01),
                )?,
                axis("monthly bill", y0.min(0.0) - 0.02 * (y1 - y0), y1)?,
            )?;
        chart
            .configure_mesh()
            .x_desc("rejection probability (rejections / attempts)")
            .y_desc("projected monthly bill (USD)")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(WHITE.mix(0.0))
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .draw()?;
        let means: Vec<(f64, f64)> = pts.iter().map(|(x, y)| (x.mean, y.mean)).collect();
        // As in the comparison: only the policies that fail the fewest jobs take part.
        let failed: Vec<f64> = (0..s.policies.len())
            .map(|i| s.get(i, "jobs_failed").map_or(0.0, |e| e.mean))
            .collect();
        let fewest = failed
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(f64::INFINITY, f64::min);
        let eligible: Vec<Vec<f64>> = means
            .iter()
            .zip(&failed)
            .map(|(&(x, y), &f)| {
                if f > fewest + 1e-9 {
                    vec![f64::NAN; 2]
                } else {
                    vec![x, y]
                }
            })
            .collect();
        let mut front = pareto_front(&eligible);
        front.sort_by(|&a, &b| means[a].0.total_cmp(&means[b].0).then(a.cmp(&b)));
        if front.len() > 1 {
            let line: Vec<(f64, f64)> = front.iter().map(|&i| means[i]).collect();
            chart.draw_series(DashedLineSeries::new(
                line,
                8,
                6,
                BLACK.mix(0.6).stroke_width(2),
            ))?;
        }
        // Number labels go to the first spot around their point that no earlier label
        // takes (pixel boxes), so points that nearly coincide stay readable.
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
        for (i, (x, y)) in pts.iter().enumerate() {
            if !(x.mean.is_finite() && y.mean.is_finite()) {
                continue;
            }
            let label = format!("{}", i + 1);
            let (w, h) = (9 * label.len() as i32 + 2, 16);
            let (px, py) = chart.backend_coord(&(x.mean, y.mean));
            let free = |(dx, dy): (i32, i32), placed: &[(i32, i32, i32, i32)]| {
                let (l, t) = (px + dx, py + dy);
                placed
                    .iter()
                    .all(|&(pl, pt, pr, pb)| l + w <= pl || l >= pr || t + h <= pt || t >= pb)
            };
            let spots = [
                (8, -20),
                (8, 4),
                (-8 - w, -20),
                (-8 - w, 4),
                (8, -36),
                (-8 - w, -36),
                (8, 20),
                (-8 - w, 20),
            ];
            let offset = spots
                .into_iter()
                .find(|&o| free(o, &placed))
                .unwrap_or(spots[0]);
            placed.push((
                px + offset.0,
                py + offset.1,
                px + offset.0 + w,
                py + offset.1 + h,
            ));
            let c = color(i);
            let style = c.stroke_width(2);
            if x.n > 1 {
                chart.draw_series([ErrorBar::new_horizontal(
                    y.mean, x.ci_low, x.mean, x.ci_high, style, 10,
                )])?;
            }
            if y.n > 1 {
                chart.draw_series([ErrorBar::new_vertical(
                    x.mean, y.ci_low, y.mean, y.ci_high, style, 10,
                )])?;
            }
            // Hollow: the policy fails jobs.
            let fails = super::fails(s, i).is_some();
            let (inside, size) = if fails {
                (WHITE.filled(), 5)
            } else {
                (c.filled(), 0)
            };
            chart.draw_series([EmptyElement::at((x.mean, y.mean))
                + Circle::new((0, 0), 8, c.filled())
                + Circle::new((0, 0), size, inside)
                + Text::new(label, offset, (FONT, 15).into_font())])?;
            if front.contains(&i) {
                chart.draw_series([Circle::new((x.mean, y.mean), 10, BLACK.stroke_width(2))])?;
            }
        }
        let entries: Vec<_> = s
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mark = if front.contains(&i) { " (Pareto)" } else { "" };
                let fails = super::fails(s, i).map_or(String::new(), |f| format!(", {f}"));
                (color(i), format!("{} {}{mark}{fails}", i + 1, p.name))
            })
            .collect();
        side_legend(&legend, "policies", &entries)?;
        let notes = [
            "dashed line: Pareto front",
            "ringed: on the front",
            "hollow: fails jobs",
            "bars: 95% intervals",
        ];
        for (k, note) in notes.iter().enumerate() {
            legend.draw(&Text::new(
                *note,
                (8, 76 + 24 * entries.len() as i32 + 12 + 20 * k as i32),
                (FONT, 13).into_font(),
            ))?;
        }
        Ok(())
    }
}
