//! Job latency distribution per policy (quantiles averaged over replications), on a log
//! time axis when latencies span more than a factor of 20. The share is of every job:
//! a failed job never finishes, so a policy's curve stops at the share it completed
//! (dashed when it fails jobs).

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    axis, color, legend_width, side_legend, tick, CdfRow, Chart, ChartData, DrawResult, Folder,
    FONT,
};

/// Draws the chart of a run with a summary and latency quantiles, each policy's legend
/// saying how many of its jobs completed.
pub(super) fn draw(data: &ChartData, out: &mut Folder<'_>) -> DrawResult {
    let Some(summary) = &data.summary else {
        return Ok(());
    };
    if data.cdf.is_empty() {
        return Ok(());
    }
    let mut notes = Vec::new();
    let mut shares = Vec::new();
    for i in 0..summary.policies.len() {
        let done = summary
            .get(i, "jobs_completed")
            .map_or(f64::NAN, |e| e.mean);
        let failed = summary.get(i, "jobs_failed").map_or(0.0, |e| e.mean);
        notes.push(match super::fails(summary, i) {
            Some(f) => format!("({f})"),
            None => format!(
                "({} of {})",
                crate::output::human(done),
                crate::output::human(done)
            ),
        });
        let share = done / (done + failed);
        shares.push(if share.is_finite() { share } else { 1.0 });
    }
    let chart = LatencyCdf {
        scenario: &summary.scenario,
        policies: summary.policies.iter().map(|p| p.name.clone()).collect(),
        notes,
        shares,
        rows: &data.cdf,
    };
    out.chart(&chart, "latency_cdf", "Job latency distribution")
}

/// The chart.
pub struct LatencyCdf<'a> {
    /// Scenario name for the title.
    pub scenario: &'a str,
    /// Policies in order (colours follow this order).
    pub policies: Vec<String>,
    /// Legend text per policy (e.g. how many jobs completed).
    pub notes: Vec<String>,
    /// Share of its jobs each policy completed (its curve's top).
    pub shares: Vec<f64>,
    /// Quantile rows.
    pub rows: &'a [CdfRow],
}

impl LatencyCdf<'_> {
    fn lines(&self) -> Vec<(usize, Vec<(f64, f64)>)> {
        self.policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let pts = self
                    .rows
                    .iter()
                    .filter(|r| &r.policy == p && r.latency_s.is_finite())
                    .map(|r| {
                        (
                            r.latency_s,
                            r.quantile * self.shares.get(i).copied().unwrap_or(1.0),
                        )
                    })
                    .collect();
                (i, pts)
            })
            .collect()
    }
}

/// Axes and labels (a macro: the two axis types share no formatting trait).
macro_rules! mesh {
    ($chart:ident) => {
        $chart
            .configure_mesh()
            .x_desc("job latency (s), arrival to last response")
            .y_desc("share of all jobs finished (failed jobs never finish)")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .x_label_formatter(&|v| tick(v))
            .y_label_formatter(&|v| tick(v))
            .draw()?
    };
}

fn draw_lines<DB: DrawingBackend, X: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, RangedCoordf64>>,
    lines: &[(usize, Vec<(f64, f64)>)],
    shares: &[f64],
    floor: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for (i, pts) in lines {
        let pts: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x.max(floor), y)).collect();
        if shares.get(*i).is_some_and(|&s| s < 1.0) {
            chart.draw_series(DashedLineSeries::new(pts, 10, 6, color(*i).stroke_width(3)))?;
        } else {
            chart.draw_series(LineSeries::new(pts, color(*i).stroke_width(3)))?;
        }
    }
    Ok(())
}

impl Chart for LatencyCdf<'_> {
    fn size(&self) -> (u32, u32) {
        let labels: Vec<String> = self
            .policies
            .iter()
            .zip(&self.notes)
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        (900 + legend_width(labels.iter().map(String::as_str)), 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let lines = self.lines();
        let xs = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
        let (lo, hi) = xs.fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
        let hi = if hi > 0.0 { hi } else { 1.0 };
        let (plot, legend) = root.split_horizontally(900);
        let caption = format!("{}: job latency distribution", self.scenario);
        let floor = (hi / 1e4).max(1e-3);
        let lo = lo.max(floor);
        if hi / lo > 20.0 {
            let mut chart = ChartBuilder::on(&plot)
                .caption(caption + " (log time axis)", (FONT, 22))
                .margin(16)
                .x_label_area_size(50)
                .y_label_area_size(70)
                .build_cartesian_2d(axis("latency", lo * 0.8, hi * 1.25)?.log_scale(), 0.0..1.0)?;
            mesh!(chart);
            draw_lines(&mut chart, &lines, &self.shares, floor)?;
        } else {
            let mut chart = ChartBuilder::on(&plot)
                .caption(caption, (FONT, 22))
                .margin(16)
                .x_label_area_size(50)
                .y_label_area_size(70)
                .build_cartesian_2d(axis("latency", 0.0, hi * 1.08)?, 0.0..1.0)?;
            mesh!(chart);
            draw_lines(&mut chart, &lines, &self.shares, 0.0)?;
        }
        let entries: Vec<_> = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    color(i),
                    format!("{p} {}", self.notes.get(i).map_or("", String::as_str)),
                )
            })
            .collect();
        side_legend(
            &legend,
            "policies (jobs completed; dashed: fails jobs)",
            &entries,
        )
    }
}
