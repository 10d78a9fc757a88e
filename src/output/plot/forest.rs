//! The chart of `ratesim diff`: a forest plot, one panel per metric, one row per policy,
//! each row the relative change of head from base (a dot) with its 95% interval (a
//! whisker), coloured by verdict, over the noise threshold's band.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::words::metric_title;
use super::{axis, tick, whisker, Chart, DrawResult, FONT};
use crate::stats::diff::{Change, Verdict};

/// Panels per row of the grid.
const COLUMNS: usize = 4;
/// Width of a panel's plot, pixels.
const PANEL_WIDTH: u32 = 330;
/// Height of a policy's row, pixels.
const ROW: u32 = 34;

/// Regressed red, improved green, no change grey.
fn verdict_color(v: Verdict) -> RGBColor {
    match v {
        Verdict::Regressed => RGBColor(214, 39, 40),
        Verdict::Improved => RGBColor(44, 160, 44),
        Verdict::NoChange => RGBColor(110, 110, 110),
    }
}

/// The chart: `changes` of the `policies` (rows, in order) on the `metrics` (panels).
pub struct Forest<'a> {
    /// Title: what was compared.
    pub title: String,
    /// Every compared (policy, metric).
    pub changes: &'a [Change],
    /// Policies, top to bottom.
    pub policies: Vec<String>,
    /// Metrics, one panel each, left to right then top to bottom.
    pub metrics: Vec<String>,
}

impl Forest<'_> {
    fn name_width(&self) -> u32 {
        let longest = self
            .policies
            .iter()
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(8);
        (longest as u32 * 8 + 24).clamp(100, 320)
    }

    fn grid(&self) -> (usize, usize) {
        let m = self.metrics.len().max(1);
        let cols = m.min(COLUMNS);
        (cols, m.div_ceil(cols))
    }

    fn panel_height(&self) -> u32 {
        90 + ROW * self.policies.len().max(1) as u32
    }

    fn change(&self, policy: &str, metric: &str) -> Option<&Change> {
        self.changes
            .iter()
            .find(|c| c.policy == policy && c.metric == metric)
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        metric: &str,
        names: bool,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.policies.len();
        let rows: Vec<Option<&Change>> = self
            .policies
            .iter()
            .map(|p| self.change(p, metric))
            .collect();
        // The axis holds 0, every interval and the threshold bands.
        let band = |c: &Change| {
            let b = c.base.mean.abs();
            (b > 0.0 && b.is_finite()).then(|| 100.0 * c.threshold / b)
        };
        let mut lo: f64 = -1.0;
        let mut hi: f64 = 1.0;
        for c in rows.iter().flatten() {
            if let Some((m, l, h)) = c.relative() {
                for x in [m, l, h] {
                    if x.is_finite() {
                        lo = lo.min(x);
                        hi = hi.max(x);
                    }
                }
            }
            if let Some(t) = band(c).filter(|t| t.is_finite()) {
                lo = lo.min(-t);
                hi = hi.max(t);
            }
        }
        let pad = (hi - lo) * 0.08;
        let x = axis(metric, lo - pad, hi + pad)?;
        let mut chart = ChartBuilder::on(area)
            .caption(metric_title(metric), (FONT, 15))
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(if names { self.name_width() } else { 8 })
            .build_cartesian_2d(x.clone(), -0.5..(n.max(1) as f64 - 0.5))?;
        let formatter = super::row_label(&self.policies, names);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .y_labels(n.max(1) * 2 + 1)
            .y_label_formatter(&formatter)
            .x_label_formatter(&|v: &f64| format!("{}%", tick(v)))
            .x_labels(5)
            .x_desc("head vs base (% of base)")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()?;
        for (i, c) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let Some(c) = c else { continue };
            if let Some(t) = band(c).filter(|t| t.is_finite() && *t > 0.0) {
                let (a, b) = (-t.min(-x.start), t.min(x.end));
                chart.draw_series([Rectangle::new(
                    [(a, y - 0.42), (b, y + 0.42)],
                    RGBColor(225, 225, 225).filled(),
                )])?;
            }
            let color = verdict_color(c.verdict);
            match c.relative() {
                Some((m, l, h)) => {
                    if l.is_finite() && h.is_finite() && h > l {
                        let style = color.stroke_width(2);
                        chart.draw_series([
                            whisker((l, y), (h, y), style),
                            whisker((l, y - 0.18), (l, y + 0.18), style),
                            whisker((h, y - 0.18), (h, y + 0.18), style),
                        ])?;
                    }
                    chart.draw_series([Circle::new((m, y), 5, color.filled())])?;
                }
                None => {
                    // Base 0: no relative change; the absolute one as text.
                    let text = format!("base 0, head {}", crate::output::human(c.head.mean));
                    chart.draw_series([EmptyElement::at((x.start, y))
                        + Text::new(text, (8, -7), (FONT, 12).into_font().color(&color))])?;
                }
            }
        }
        chart.draw_series([PathElement::new(
            vec![(0.0, -0.5), (0.0, n.max(1) as f64 - 0.5)],
            BLACK.stroke_width(1),
        )])?;
        Ok(())
    }
}

impl Chart for Forest<'_> {
    fn size(&self) -> (u32, u32) {
        let (cols, rows) = self.grid();
        (
            self.name_width() + cols as u32 * PANEL_WIDTH + 20,
            80 + rows as u32 * self.panel_height(),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, (FONT, 20))?;
        let (root, foot) = root.split_vertically(root.dim_in_pixel().1 - 24);
        foot.draw(&Text::new(
            "dot: change of the mean, whisker: its 95% interval, grey band: the noise \
             threshold; red Regressed, green Improved, grey NoChange",
            (16, 2),
            (FONT, 13),
        ))?;
        let (cols, _) = self.grid();
        let height = self.panel_height() as i32;
        for (k, metric) in self.metrics.iter().enumerate() {
            let (r, c) = ((k / cols) as i32, (k % cols) as i32);
            let first = c == 0;
            let x0 = if first {
                0
            } else {
                self.name_width() as i32 + c * PANEL_WIDTH as i32
            };
            let x1 = self.name_width() as i32 + (c + 1) * PANEL_WIDTH as i32;
            let area = root
                .clone()
                .shrink((x0, r * height), ((x1 - x0) as u32, height as u32));
            self.panel(&area, metric, first)?;
        }
        Ok(())
    }
}
