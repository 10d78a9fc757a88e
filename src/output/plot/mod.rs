//! Charts, one file per chart, each drawn once for any plotters backend and written as
//! SVG and PNG. Text uses a bundled font (DejaVu Sans), so no system font library is
//! needed to render.
//!
//! A run's chart file holds its [`Chart`] and a [`DrawRun`] function that renders, into
//! a [`Folder`], every chart of that kind the [`ChartData`] allows, each with its file
//! stem and caption. The [`RUN_CHARTS`] registry below lists those functions in the order
//! [`draw_all`] draws them and `report.md` shows them: adding a chart of a run is its
//! file and one line there. The sweep chart ([`SweepLines`]) is drawn by [`draw_sweep`].

mod cost_vs_rejection;
pub mod data;
mod forest;
mod latency_cdf;
mod makespan_cost;
mod sweep_lines;
mod timeline;
pub mod words;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use cost_vs_rejection::CostVsRejection;
pub use data::{latency_cdf_rows, read_rows, CdfRow, ChartData};
pub use forest::Forest;
pub use latency_cdf::LatencyCdf;
pub use makespan_cost::MakespanCost;
pub use sweep_lines::{SweepLines, SweepPoint};
pub use timeline::Timeline;

use crate::output::write_atomic;

/// What drawing a chart can fail with.
pub type DrawResult = Result<(), Box<dyn Error>>;

/// A chart: a size and a way to draw on any backend.
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole chart on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Font family name the bundled font is registered under.
pub const FONT: &str = "sans-serif";

static FONT_ONCE: Once = Once::new();

fn register_font() {
    FONT_ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
        if plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_err() {
            panic!("the bundled font does not load");
        }
    });
}

/// Writes `chart` as `<stem>.svg` and `<stem>.png` in `dir` (each through a temporary
/// file and a rename). Returns the two paths.
pub fn render<C: Chart>(chart: &C, dir: &Path, stem: &str) -> Result<[PathBuf; 2], Box<dyn Error>> {
    register_font();
    let size = chart.size();
    let svg_path = dir.join(format!("{stem}.svg"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart.draw(&root)?;
        root.present()?;
    }
    write_atomic(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    let tmp = dir.join(format!(".{stem}.tmp{}.png", std::process::id()));
    let drawn = (|| -> DrawResult {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        chart.draw(&root)?;
        root.present()?;
        Ok(())
    })();
    if let Err(e) = drawn.and_then(|()| std::fs::rename(&tmp, &png_path).map_err(Into::into)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok([svg_path, png_path])
}

/// Distinct colours (Tableau 20 order: strong ones first).
const PALETTE: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
    RGBColor(173, 73, 74),
    RGBColor(99, 121, 57),
    RGBColor(140, 109, 49),
    RGBColor(123, 65, 115),
    RGBColor(82, 84, 163),
    RGBColor(181, 207, 107),
    RGBColor(231, 150, 156),
    RGBColor(107, 110, 207),
    RGBColor(222, 158, 214),
];

/// The colour of series number `i`.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Draws a legend of `(colour, label)` entries in its own area (never over data).
pub(crate) fn side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    entries: &[(RGBColor, String)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let font = (FONT, 15).into_font();
    area.draw(&Text::new(
        title.to_string(),
        (8, 48),
        font.clone().style(FontStyle::Bold),
    ))?;
    for (i, (c, label)) in entries.iter().enumerate() {
        let y = 76 + 24 * i as i32;
        area.draw(&Rectangle::new([(8, y + 2), (24, y + 14)], c.filled()))?;
        area.draw(&Text::new(label.clone(), (32, y), font.clone()))?;
    }
    Ok(())
}

/// "fails 1.70 of 300 jobs" when policy `p` fails jobs (on average over replications),
/// for legends and labels: a policy that gives up must not pass for a fast one.
pub(crate) fn fails(summary: &crate::stats::summary::Summary, p: usize) -> Option<String> {
    let mean = |m: &str| summary.get(p, m).map_or(f64::NAN, |e| e.mean);
    let (failed, done) = (mean("jobs_failed"), mean("jobs_completed"));
    (failed > 0.0).then(|| {
        format!(
            "fails {} of {} jobs",
            crate::output::human(failed),
            crate::output::human(failed + done)
        )
    })
}

/// The y tick labels of a chart with a row per name, the first name at the top (row
/// `n - 1`): the name at each whole row, nothing between rows or when `show` is false.
pub(crate) fn row_label(labels: &[String], show: bool) -> impl Fn(&f64) -> String + '_ {
    let n = labels.len();
    move |y: &f64| {
        let i = y.round();
        if show && (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
            labels[n - 1 - i as usize].clone()
        } else {
            String::new()
        }
    }
}

/// Tick label: whole numbers without decimals, others with up to three.
pub(crate) fn tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A 95% interval as a whisker with end caps, horizontal at `y` (or vertical at `x`).
pub(crate) fn whisker(
    lo: (f64, f64),
    hi: (f64, f64),
    style: ShapeStyle,
) -> PathElement<(f64, f64)> {
    PathElement::new(vec![lo, hi], style)
}

/// Width in pixels a legend needs for `labels` at 15 px.
pub(crate) fn legend_width<'a>(labels: impl Iterator<Item = &'a str>) -> u32 {
    let longest = labels.map(|l| l.chars().count()).max().unwrap_or(10);
    (longest as u32 * 9 + 48).clamp(180, 420)
}

/// A padded axis range that contains every value in `xs` and `lo`.
/// The largest magnitude an axis may reach: plotters' tick computation does not end on
/// ranges near `f64::MAX`, and no quantity ratesim charts comes near it.
pub const MAX_AXIS: f64 = 1e100;

/// A chart that cannot be drawn from its data: an axis range that is not finite, empty
/// or beyond [`MAX_AXIS`]. [`Folder::chart`] skips such a chart and says why.
#[derive(Debug)]
pub struct Unplottable(pub String);

impl std::fmt::Display for Unplottable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Unplottable {}

/// The axis range `lo..hi` for `what`, when it can be drawn.
pub(crate) fn axis(what: &str, lo: f64, hi: f64) -> Result<std::ops::Range<f64>, Unplottable> {
    let sane = |x: f64| x.is_finite() && x.abs() <= MAX_AXIS;
    if sane(lo) && sane(hi) && hi > lo {
        Ok(lo..hi)
    } else {
        Err(Unplottable(format!(
            "the {what} axis would run from {lo} to {hi}; an axis must be finite, not empty and within ±{MAX_AXIS:e}"
        )))
    }
}

pub(crate) fn span(xs: impl Iterator<Item = f64>, lo: f64) -> (f64, f64) {
    let (mut a, mut b) = (lo, lo);
    for x in xs.filter(|x| x.is_finite()) {
        a = a.min(x);
        b = b.max(x);
    }
    if b <= a {
        b = a + 1.0;
    }
    (a, b + (b - a) * 0.08)
}

/// A results folder being drawn into: renders each chart as SVG and PNG and lists what
/// it drew.
pub struct Folder<'a> {
    dir: &'a Path,
    drawn: Vec<Drawn>,
    skipped: Vec<String>,
}

impl<'a> Folder<'a> {
    /// Nothing drawn yet into `dir`.
    pub fn new(dir: &'a Path) -> Self {
        Folder {
            dir,
            drawn: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Writes `chart` as `<stem>.svg` and `<stem>.png` and lists it with `caption`; a
    /// chart its data cannot draw ([`Unplottable`]) is skipped, with the reason kept for
    /// [`Folder::skipped`], and writes nothing.
    pub fn chart<C: Chart>(
        &mut self,
        chart: &C,
        stem: impl Into<String>,
        caption: impl Into<String>,
    ) -> DrawResult {
        let stem = stem.into();
        if let Err(e) = render(chart, self.dir, &stem) {
            if let Some(u) = unplottable(e.as_ref()) {
                self.skipped.push(format!("{stem}: not drawn: {u}"));
                return Ok(());
            }
            return Err(e);
        }
        self.drawn.push(Drawn {
            caption: caption.into(),
            stem,
        });
        Ok(())
    }

    /// The charts drawn, in order.
    pub fn into_drawn(self) -> Vec<Drawn> {
        self.drawn
    }

    /// The charts skipped, each with why.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// What was drawn and skipped.
    pub fn into_drawing(self) -> Drawing {
        Drawing {
            drawn: self.drawn,
            skipped: self.skipped,
        }
    }
}

/// The [`Unplottable`] at the root of `e`, if that is what it is (plotters wraps the
/// errors a chart's drawing returns).
fn unplottable<'e>(e: &'e (dyn Error + 'static)) -> Option<&'e Unplottable> {
    let mut cur: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(u) = err.downcast_ref::<Unplottable>() {
            return Some(u);
        }
        cur = err.source();
    }
    None
}

/// Draws every chart of one kind that a run's data allows (none when it lacks what the
/// chart needs) into a folder.
pub type DrawRun = fn(&ChartData, &mut Folder<'_>) -> DrawResult;

/// The registry of a run's charts, in the order they are drawn and shown in `report.md`.
pub const RUN_CHARTS: &[DrawRun] = &[
    cost_vs_rejection::draw,
    makespan_cost::draw,
    latency_cdf::draw,
    timeline::draw,
];

/// A chart written to a results folder: a caption and its file stem.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    /// What the chart shows.
    pub caption: String,
    /// File name without extension (`.svg` and `.png` exist).
    pub stem: String,
}

/// A file-name-safe, bounded and distinct form of a name ([`crate::output::safe_stem`]).
pub fn file_stem(name: &str) -> String {
    crate::output::safe_stem(name)
}

/// Draws every chart `data` allows into `dir`, each kind of [`RUN_CHARTS`] in turn, and
/// lists them in that order (the order `report.md` shows them).
pub fn draw_all(dir: &Path, data: &ChartData) -> Result<Drawing, Box<dyn Error>> {
    let mut folder = Folder::new(dir);
    for draw in RUN_CHARTS {
        draw(data, &mut folder)?;
    }
    Ok(folder.into_drawing())
}

/// What [`draw_all`] or [`draw_sweep`] drew, and what it skipped and why.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drawing {
    /// The charts drawn, in order.
    pub drawn: Vec<Drawn>,
    /// `<stem>: not drawn: <why>` for each chart its data could not draw.
    pub skipped: Vec<String>,
}

/// Draws one sweep chart per metric (and per combination of the other axes' values) into
/// `dir`: the metric against the first axis (its first key when keys are zipped), a line
/// per policy, hollow where the policy fails jobs (when the sweep has `jobs_failed`).
pub fn draw_sweep(
    dir: &Path,
    sweep: &crate::stats::sweep::Sweep,
) -> Result<Drawing, Box<dyn Error>> {
    use crate::stats::sweep::{KeyValue, SweepRow};
    use std::collections::HashMap;
    let mut folder = Folder::new(dir);
    let axes = sweep.axes();
    let Some(x_axis) = axes.first() else {
        return Ok(folder.into_drawing());
    };
    let xk = x_axis[0];
    let x_key = &sweep.keys[xk];
    let rest_keys: Vec<usize> = (0..sweep.keys.len())
        .filter(|k| !x_axis.contains(k))
        .collect();
    let rest_of =
        |r: &SweepRow| -> Vec<KeyValue> { rest_keys.iter().map(|&k| r.keys[k].clone()).collect() };
    // A categorical axis when some x value is not a number: categories in order.
    let mut categories: Vec<KeyValue> = Vec::new();
    let mut category: HashMap<&KeyValue, usize> = HashMap::new();
    for r in &sweep.rows {
        category.entry(&r.keys[xk]).or_insert_with(|| {
            categories.push(r.keys[xk].clone());
            categories.len() - 1
        });
    }
    let categorical = categories.iter().any(|k| k.num().is_none());
    let x_of = |k: &KeyValue| match k.num() {
        Some(x) if !categorical => x,
        _ => category.get(k).copied().unwrap_or(0) as f64,
    };
    let short = sweep.short_keys();
    let partners: Vec<&str> = x_axis[1..].iter().map(|&k| short[k].as_str()).collect();
    let mut x_title = words::key_title(x_key);
    let mut vs = short[xk].clone();
    if !partners.is_empty() {
        x_title.push_str(&format!(", with {}", partners.join(", ")));
        vs.push_str(&format!(" (with {})", partners.join(", ")));
    }
    let lookup = sweep.lookup();
    let policy_at: HashMap<&str, usize> = sweep
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    for metric in &sweep.metrics {
        // Lines per combination of the other axes' values, in order of appearance.
        let mut others: Vec<(Vec<KeyValue>, Vec<Vec<sweep_lines::SweepPoint>>)> = Vec::new();
        let mut at: HashMap<Vec<KeyValue>, usize> = HashMap::new();
        for r in sweep.rows.iter().filter(|r| &r.metric == metric) {
            let Some(p) = policy_at.get(r.policy.as_str()) else {
                continue;
            };
            let rest = rest_of(r);
            let i = *at.entry(rest.clone()).or_insert_with(|| {
                others.push((rest, vec![Vec::new(); sweep.policies.len()]));
                others.len() - 1
            });
            others[i].1[*p].push(sweep_lines::SweepPoint {
                x: x_of(&r.keys[xk]),
                estimate: r.estimate,
                failed: lookup
                    .get(&r.keys, &r.policy, "jobs_failed")
                    .map_or(0.0, |e| e.mean),
            });
        }
        for (rest, lines) in others {
            let (fixed, fixed_short): (Vec<String>, Vec<String>) = rest_keys
                .iter()
                .zip(&rest)
                .map(|(&k, v)| {
                    let v = match v {
                        KeyValue::Num(x) => tick(x),
                        KeyValue::Text(t) => t.clone(),
                    };
                    (
                        format!("{}={v}", sweep.keys[k]),
                        format!("{}={v}", short[k]),
                    )
                })
                .unzip();
            let mut stem = format!("sweep_{}", file_stem(metric));
            let mut title = format!("{}: {metric} vs {vs}", sweep.scenario);
            if !fixed.is_empty() {
                stem.push_str(&format!("__{}", file_stem(&fixed.join("_"))));
                title.push_str(&format!(" ({})", fixed_short.join(", ")));
            }
            let chart = SweepLines {
                title: title.clone(),
                x_key: x_key.clone(),
                metric: metric.clone(),
                x_title: x_title.clone(),
                y_title: words::metric_title(metric),
                categories: categorical.then(|| categories.iter().map(KeyValue::label).collect()),
                policies: sweep.policies.clone(),
                lines,
            };
            folder.chart(&chart, stem, title)?;
        }
    }
    Ok(folder.into_drawing())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_summary_no_registered_chart_draws_or_writes() {
        let nowhere = Path::new("no/such/folder");
        assert_eq!(
            draw_all(nowhere, &ChartData::default()).unwrap(),
            Drawing::default()
        );
    }
}
