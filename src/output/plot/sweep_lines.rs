//! A metric against a swept parameter: one line per policy with its 95% band.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axis, color, legend_width, side_legend, span, tick, Chart, DrawResult, FONT};
use crate::stats::Estimate;

/// The chart.
pub struct SweepLines<'a> {
    /// Title.
    pub title: String,
    /// The x key path.
    pub key: &'a str,
    /// The metric shown.
    pub metric: &'a str,
    /// Policies in order.
    pub policies: Vec<String>,
    /// (x, estimate) points per policy.
    pub lines: Vec<Vec<(f64, Estimate)>>,
}

impl Chart for SweepLines<'_> {
    fn size(&self) -> (u32, u32) {
        (
            900 + legend_width(self.policies.iter().map(String::as_str)),
            600,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let all = self.lines.iter().flatten();
        let (x0, x1) = span(
            all.clone().map(|p| p.0),
            f64::INFINITY.min(
                self.lines
                    .iter()
                    .flatten()
                    .map(|p| p.0)
                    .fold(f64::INFINITY, f64::min),
            ),
        );
        let (y0, y1) = span(all.flat_map(|(_, e)| [e.ci_low, e.ci_high, e.mean]), 0.0);
        let (plot, legend) = root.split_horizontally(900);
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, (FONT, 20))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(axis(self.key, x0, x1)?, axis(self.metric, y0.min(0.0), y1)?)?;
        chart
            .configure_mesh()
            .x_desc(self.key)
            .y_desc(self.metric)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .draw()?;
        for (i, line) in self.lines.iter().enumerate() {
            let c = color(i);
            let band: Vec<(f64, f64)> = line
                .iter()
                .filter(|(_, e)| e.ci_low.is_finite())
                .map(|(x, e)| (*x, e.ci_high))
                .chain(
                    line.iter()
                        .rev()
                        .filter(|(_, e)| e.ci_low.is_finite())
                        .map(|(x, e)| (*x, e.ci_low)),
                )
                .collect();
            if band.len() > 2 {
                chart.draw_series([Polygon::new(band, c.mix(0.18).filled())])?;
            }
            let pts: Vec<(f64, f64)> = line
                .iter()
                .filter(|(_, e)| e.mean.is_finite())
                .map(|(x, e)| (*x, e.mean))
                .collect();
            chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))?;
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, c.filled())))?;
        }
        let entries: Vec<_> = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| (color(i), p.clone()))
            .collect();
        side_legend(&legend, "policies (band: 95% CI)", &entries)
    }
}
