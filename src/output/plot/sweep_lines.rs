//! A metric against a swept parameter: one line per policy with its 95% band. Each
//! policy has its own colour, dash and marker, so coinciding lines stay apart, and the
//! legend names the lines hidden under others; a point where the policy fails jobs is
//! drawn hollow and its legend entry says how many. Boolean and string values sit on a
//! categorical x axis.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{axis, color, span, tick, Chart, DrawResult, FONT};
use crate::stats::Estimate;

/// One point of a policy's line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepPoint {
    /// Position on the x axis (a category's index on a categorical axis).
    pub x: f64,
    /// The metric there.
    pub estimate: Estimate,
    /// Mean failed jobs per run there (0 when it completes every job).
    pub failed: f64,
}

/// The chart.
pub struct SweepLines {
    /// Title.
    pub title: String,
    /// The x key path (named when its axis cannot be drawn).
    pub x_key: String,
    /// The metric (named when its axis cannot be drawn).
    pub metric: String,
    /// The x axis' title (words and unit).
    pub x_title: String,
    /// The y axis' title (words and unit).
    pub y_title: String,
    /// The x values' names when they are categories (booleans, strings), in order.
    pub categories: Option<Vec<String>>,
    /// Policies in order.
    pub policies: Vec<String>,
    /// Points per policy.
    pub lines: Vec<Vec<SweepPoint>>,
}

/// Dash and gap lengths of series `i`'s line (0: solid).
fn dash(i: usize) -> (u32, u32) {
    [(0, 0), (14, 6), (4, 5), (24, 8), (8, 4)][i % 5]
}

/// Vertices, in pixels around the point, of series `i`'s marker (None: a circle).
fn marker(i: usize) -> Option<Vec<(i32, i32)>> {
    match (i / 5 + i) % 5 {
        0 => None,
        1 => Some(vec![(-5, -5), (5, -5), (5, 5), (-5, 5)]),
        2 => Some(vec![(0, -7), (6, 5), (-6, 5)]),
        3 => Some(vec![(0, -7), (7, 0), (0, 7), (-7, 0)]),
        _ => Some(vec![(0, 7), (6, -5), (-6, -5)]),
    }
}

/// Draws series `i`'s marker at `at` (pixels), filled or hollow.
fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    i: usize,
    at: (i32, i32),
    hollow: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let c = color(i);
    let fill = if hollow { WHITE.filled() } else { c.filled() };
    let edge = c.stroke_width(2);
    match marker(i) {
        None => {
            area.draw(&Circle::new(at, 5, fill))?;
            area.draw(&Circle::new(at, 5, edge))?;
        }
        Some(v) => {
            let pts: Vec<(i32, i32)> = v.iter().map(|(x, y)| (at.0 + x, at.1 + y)).collect();
            area.draw(&Polygon::new(pts.clone(), fill))?;
            let mut ring = pts.clone();
            ring.push(pts[0]);
            area.draw(&PathElement::new(ring, edge))?;
        }
    }
    Ok(())
}

impl SweepLines {
    /// The y range of every mean and interval.
    fn y_span(&self) -> (f64, f64) {
        let (y0, y1) = span(
            self.lines
                .iter()
                .flatten()
                .flat_map(|p| [p.estimate.ci_low, p.estimate.ci_high, p.estimate.mean]),
            0.0,
        );
        (y0.min(0.0), y1)
    }

    /// Pairs (hidden, over): line `hidden` is drawn before `over` and each of its points
    /// lies within 1% of the y axis of `over`'s point at the same x.
    pub fn hidden(&self) -> Vec<(usize, usize)> {
        let (y0, y1) = self.y_span();
        let tol = 0.01 * (y1 - y0);
        let defined = |l: &[SweepPoint]| -> Vec<(f64, f64)> {
            l.iter()
                .filter(|p| p.estimate.mean.is_finite())
                .map(|p| (p.x, p.estimate.mean))
                .collect()
        };
        let mut out = Vec::new();
        for i in 0..self.lines.len() {
            let a = defined(&self.lines[i]);
            if a.is_empty() {
                continue;
            }
            let over = (i + 1..self.lines.len()).rev().find(|&j| {
                let b = defined(&self.lines[j]);
                a.len() == b.len()
                    && a.iter()
                        .zip(&b)
                        .all(|(p, q)| p.0 == q.0 && (p.1 - q.1).abs() <= tol)
            });
            if let Some(j) = over {
                out.push((i, j));
            }
        }
        out
    }

    /// Legend lines of policy `i`: its name, and how many jobs it fails where it does.
    fn legend_lines(&self, i: usize) -> Vec<String> {
        let mut out = vec![self.policies[i].clone()];
        let worst = self.lines[i]
            .iter()
            .map(|p| p.failed)
            .filter(|f| *f > 0.0)
            .fold(0.0, f64::max);
        if worst > 0.0 {
            let at = self.lines[i].iter().filter(|p| p.failed > 0.0).count();
            let of = self.lines[i].len();
            out.push(format!(
                "fails up to {} jobs ({at} of {of} points, hollow)",
                crate::output::human(worst)
            ));
        }
        out
    }

    /// "under X:" and the names of the lines hidden under X, indented, for each X.
    fn notes(&self) -> Vec<String> {
        let hidden = self.hidden();
        let mut out = Vec::new();
        let mut overs: Vec<usize> = hidden.iter().map(|&(_, o)| o).collect();
        overs.dedup();
        overs.sort_unstable();
        overs.dedup();
        for o in overs {
            out.push(format!("under {}:", self.policies[o]));
            out.extend(
                hidden
                    .iter()
                    .filter(|&&(_, over)| over == o)
                    .map(|&(h, _)| format!("    {}", self.policies[h])),
            );
        }
        out
    }

    fn legend_px(&self) -> u32 {
        // About 9 px a character at 15 px, 8 at 13 px.
        let names = self.policies.iter().map(|p| p.chars().count() * 9 + 64);
        let small = (0..self.policies.len())
            .flat_map(|i| self.legend_lines(i).into_iter().skip(1))
            .map(|l| l.chars().count() * 8 + 64);
        let notes = self.notes().into_iter().map(|l| l.chars().count() * 8 + 16);
        (names.chain(small).chain(notes).max().unwrap_or(180) as u32).clamp(200, 460)
    }
}

impl SweepLines {
    /// How far line `i` is moved sideways on a categorical axis, so the intervals of
    /// policies at one category stand side by side.
    fn dodge(&self, i: usize) -> f64 {
        match self.categories {
            Some(_) => (i as f64 - (self.lines.len() as f64 - 1.0) / 2.0) * 0.04,
            None => 0.0,
        }
    }
}

impl Chart for SweepLines {
    fn size(&self) -> (u32, u32) {
        (900 + self.legend_px(), 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let all = self.lines.iter().flatten();
        let (x0, x1) = match &self.categories {
            Some(c) => (-0.5, c.len() as f64 - 0.5),
            None => {
                let (a, b) = span(
                    all.clone().map(|p| p.x),
                    all.clone().map(|p| p.x).fold(f64::INFINITY, f64::min),
                );
                // Room on the left too, so the first markers are not cut in half.
                (a - (b - a) * 0.02, b)
            }
        };
        let (y0, y1) = self.y_span();
        let (plot, legend) = root.split_horizontally(900);
        let mut chart = ChartBuilder::on(&plot)
            .caption(&self.title, (FONT, 20))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(axis(&self.x_key, x0, x1)?, axis(&self.metric, y0, y1)?)?;
        let categories = self.categories.clone();
        let x_label = move |v: &f64| match &categories {
            Some(c) => {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                    c[i as usize].clone()
                } else {
                    String::new()
                }
            }
            None => tick(v),
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(&self.x_title)
            .y_desc(&self.y_title)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .x_label_formatter(&x_label)
            .y_label_formatter(&tick);
        if let Some(c) = &self.categories {
            mesh.x_labels(c.len() + 1).disable_x_mesh();
        }
        mesh.draw()?;
        for (i, line) in self.lines.iter().enumerate() {
            let c = color(i);
            let dodged: Vec<SweepPoint> = line
                .iter()
                .map(|p| SweepPoint {
                    x: p.x + self.dodge(i),
                    ..*p
                })
                .collect();
            let line = &dodged;
            let band: Vec<(f64, f64)> = line
                .iter()
                .filter(|p| p.estimate.ci_low.is_finite())
                .map(|p| (p.x, p.estimate.ci_high))
                .chain(
                    line.iter()
                        .rev()
                        .filter(|p| p.estimate.ci_low.is_finite())
                        .map(|p| (p.x, p.estimate.ci_low)),
                )
                .collect();
            if self.categories.is_some() {
                // Categories have nothing between them: each interval is a whisker.
                chart.draw_series(line.iter().filter(|p| p.estimate.ci_low.is_finite()).map(
                    |p| {
                        super::whisker(
                            (p.x, p.estimate.ci_low),
                            (p.x, p.estimate.ci_high),
                            c.mix(0.5).stroke_width(6),
                        )
                    },
                ))?;
            } else if band.len() > 2 {
                chart.draw_series([Polygon::new(band, c.mix(0.15).filled())])?;
            }
            let pts: Vec<(f64, f64)> = line
                .iter()
                .filter(|p| p.estimate.mean.is_finite())
                .map(|p| (p.x, p.estimate.mean))
                .collect();
            match dash(i) {
                (0, _) => {
                    chart.draw_series([PathElement::new(pts.clone(), c.stroke_width(3))])?;
                }
                (d, g) => {
                    chart.draw_series([DashedPathElement::new(
                        pts.clone(),
                        d,
                        g,
                        c.stroke_width(3),
                    )])?;
                }
            }
        }
        // Markers over every line, so a line drawn later does not cover earlier points;
        // hollow ones (failed jobs) last, so no completing policy's marker hides them.
        let area = chart.plotting_area();
        let strip = area.strip_coord_spec();
        let (dx, dy) = strip.get_base_pixel();
        for hollow in [false, true] {
            for (i, line) in self.lines.iter().enumerate() {
                for p in line
                    .iter()
                    .filter(|p| p.estimate.mean.is_finite() && (p.failed > 0.0) == hollow)
                {
                    let (x, y) = area.map_coordinate(&(p.x + self.dodge(i), p.estimate.mean));
                    draw_marker(&strip, i, (x - dx, y - dy), hollow)?;
                }
            }
        }
        self.draw_legend(&legend)
    }
}

impl SweepLines {
    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let font = (FONT, 15).into_font();
        let small = (FONT, 13).into_font();
        area.draw(&Text::new(
            match self.categories {
                Some(_) => "policies (bar: 95% CI)",
                None => "policies (band: 95% CI)",
            }
            .to_string(),
            (8, 48),
            font.clone().style(FontStyle::Bold),
        ))?;
        let mut y = 76;
        for i in 0..self.policies.len() {
            let c = color(i);
            let sample = vec![(8, y + 8), (48, y + 8)];
            match dash(i) {
                (0, _) => area.draw(&PathElement::new(sample, c.stroke_width(3)))?,
                (d, g) => area.draw(&DashedPathElement::new(sample, d, g, c.stroke_width(3)))?,
            }
            let lines = self.legend_lines(i);
            draw_marker(area, i, (28, y + 8), lines.len() > 1)?;
            area.draw(&Text::new(lines[0].clone(), (56, y), font.clone()))?;
            for l in &lines[1..] {
                y += 18;
                area.draw(&Text::new(l.clone(), (56, y), small.clone().color(&c)))?;
            }
            y += 26;
        }
        let notes = self.notes();
        if !notes.is_empty() {
            y += 8;
            area.draw(&Text::new(
                "lines hidden under others".to_string(),
                (8, y),
                font.clone().style(FontStyle::Bold),
            ))?;
            for n in notes {
                y += 20;
                area.draw(&Text::new(n, (8, y), small.clone()))?;
            }
        }
        Ok(())
    }
}
