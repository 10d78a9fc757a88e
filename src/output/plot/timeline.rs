//! The limiter timeline of one replication of one policy: for every limit of every
//! provider the policy reached, what it held over time against its capacity, each
//! rejection marked on the limit that refused it, and an events track (per provider:
//! rejections that no limit made, such as outages, fallbacks and hedges). Limits that
//! never came within [`COLLAPSE_BELOW`] of full nor refused anything are listed in a
//! line each instead of a panel. The chart that shows *why*.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axis, file_stem, tick, Chart, ChartData, DrawResult, Folder, FONT};
use crate::metrics::timeline::{EventRow, TimelineRow};

/// Most rejection markers drawn per chart.
const MAX_MARKS: usize = 2000;

/// Draws one chart per policy of the summary that has timeline rows, as
/// `timeline_<policy>`.
pub(super) fn draw(data: &ChartData, out: &mut Folder<'_>) -> DrawResult {
    let Some(summary) = &data.summary else {
        return Ok(());
    };
    for p in &summary.policies {
        if !data.timeline.iter().any(|r| r.policy == p.name) {
            continue;
        }
        out.chart(
            &Timeline::of(&summary.scenario, &p.name, &data.timeline, &data.events),
            format!("timeline_{}", file_stem(&p.name)),
            format!("Limiter timeline: {}", p.name),
        )?;
    }
    Ok(())
}

/// The chart.
pub struct Timeline<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// The policy shown.
    pub policy: &'a str,
    /// Its samples.
    pub rows: Vec<&'a TimelineRow>,
    /// Its events.
    pub events: Vec<&'a EventRow>,
}

struct Panel<'a> {
    provider: &'a str,
    series: &'a str,
    capacity: Option<f64>,
    points: Vec<(f64, f64)>,
}

impl<'a> Timeline<'a> {
    /// The rows and events of `policy` among all of a run's.
    pub fn of(
        scenario: &'a str,
        policy: &'a str,
        rows: &'a [TimelineRow],
        events: &'a [EventRow],
    ) -> Self {
        Timeline {
            scenario,
            policy,
            rows: rows.iter().filter(|r| r.policy == policy).collect(),
            events: events.iter().filter(|e| e.policy == policy).collect(),
        }
    }

    fn panels(&self) -> Vec<Panel<'a>> {
        let mut panels: Vec<Panel<'a>> = Vec::new();
        for r in &self.rows {
            match panels
                .iter_mut()
                .find(|p| p.provider == r.provider && p.series == r.series)
            {
                Some(p) => p.points.push((r.t_s, r.value)),
                None => panels.push(Panel {
                    provider: &r.provider,
                    series: &r.series,
                    capacity: r.capacity,
                    points: vec![(r.t_s, r.value)],
                }),
            }
        }
        // A provider the policy never sent to has nothing to show; a client-side guard's
        // state always does.
        panels.retain(|p| {
            p.series.contains(" guard: ")
                || p.series == "out of rotation"
                || self
                    .events
                    .iter()
                    .any(|e| e.provider == p.provider || e.to.as_deref() == Some(p.provider))
        });
        panels
    }
}

/// A panel is drawn when its limit comes within this share of full, or refused a
/// request; the others are listed in one line each (peak use against the limit).
pub const COLLAPSE_BELOW: f64 = 0.5;

/// Height of a drawn panel, of the events track, and of a collapsed panel's line.
const PANEL_H: u32 = 200;
const TRACK_H: u32 = 150;
const LINE_H: u32 = 20;

impl<'a> Timeline<'a> {
    /// Whether the rejected event `e` was refused by panel `p`'s limit.
    fn refused_here(e: &EventRow, p: &Panel) -> bool {
        e.provider == p.provider
            && e.refused_by
                .as_deref()
                .is_some_and(|by| by.split(" + ").any(|s| s == p.series))
    }

    /// The panels drawn, and those collapsed into a line of text.
    fn split(&self) -> (Vec<Panel<'a>>, Vec<Panel<'a>>) {
        self.panels().into_iter().partition(|p| {
            let peak = p.points.iter().map(|q| q.1).fold(0.0, f64::max);
            let refused = self
                .events
                .iter()
                .any(|e| e.event == "rejected" && Self::refused_here(e, p));
            match p.capacity {
                Some(cap) => refused || peak > COLLAPSE_BELOW * cap,
                None => peak > 0.0,
            }
        })
    }

    /// Providers with events that are not a limit's: rejections for an outage, an
    /// offline period or with no limit named, fallbacks and hedges.
    fn track_providers(&self) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = Vec::new();
        for e in &self.events {
            let off_limit = e.event == "rejected"
                && e.refused_by
                    .as_deref()
                    .is_none_or(|b| b.is_empty() || b == "outage" || b == "offline");
            if (off_limit || e.event == "fallback" || e.event == "hedge")
                && !out.contains(&e.provider.as_str())
            {
                out.push(&e.provider);
            }
        }
        out
    }
}

impl Chart for Timeline<'_> {
    fn size(&self) -> (u32, u32) {
        let (drawn, collapsed) = self.split();
        let track = if self.track_providers().is_empty() {
            0
        } else {
            TRACK_H
        };
        (
            1400,
            90 + PANEL_H * drawn.len().max(1) as u32 + track + LINE_H * collapsed.len() as u32 + 30,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let root = root.titled(
            &format!(
                "{}: limiter timeline of {} (replication 0)",
                self.scenario, self.policy
            ),
            (FONT, 22),
        )?;
        let (drawn, collapsed) = self.split();
        if drawn.is_empty() && collapsed.is_empty() {
            root.draw(&Text::new("no traffic recorded", (20, 20), (FONT, 16)))?;
            return Ok(());
        }
        let t_max = self
            .rows
            .iter()
            .map(|r| r.t_s)
            .chain(self.events.iter().map(|e| e.t_s))
            .fold(1e-3, f64::max);
        let (root, legend) = root.split_horizontally(1130);
        let orange = RGBColor(255, 127, 14);
        let green = RGBColor(44, 160, 44);
        let font = (FONT, 15).into_font();
        let n_rej = self.events.iter().filter(|e| e.event == "rejected").count();
        // Past a few thousand markers a panel is solid red anyway: draw every k-th.
        let stride = n_rej.div_ceil(MAX_MARKS).max(1);
        let n_fb = self.events.iter().filter(|e| e.event == "fallback").count();
        let n_hedge = self.events.iter().filter(|e| e.event == "hedge").count();
        legend.draw(&PathElement::new(
            vec![(10, 40), (40, 40)],
            BLUE.stroke_width(3),
        ))?;
        legend.draw(&Text::new("in use", (48, 32), font.clone()))?;
        legend.draw(&PathElement::new(
            vec![(10, 70), (18, 70)],
            BLACK.stroke_width(3),
        ))?;
        legend.draw(&PathElement::new(
            vec![(26, 70), (34, 70)],
            BLACK.stroke_width(3),
        ))?;
        legend.draw(&Text::new("limit", (48, 62), font.clone()))?;
        legend.draw(&Cross::new((25, 100), 6, RED.stroke_width(2)))?;
        legend.draw(&Text::new(
            format!("rejected ({n_rej}), on the"),
            (48, 92),
            font.clone(),
        ))?;
        legend.draw(&Text::new("limit that refused it", (48, 110), font.clone()))?;
        legend.draw(&Text::new(
            "(outages, offline: events)",
            (48, 128),
            font.clone(),
        ))?;
        let mut y = 160;
        if stride > 1 {
            legend.draw(&Text::new(
                format!("(1 in {stride} drawn)"),
                (48, y),
                font.clone(),
            ))?;
            y += 24;
        }
        if n_fb > 0 {
            legend.draw(&TriangleMarker::new((25, y + 8), 7, orange.filled()))?;
            legend.draw(&Text::new(
                format!("fell back ({n_fb}) from"),
                (48, y),
                font.clone(),
            ))?;
            legend.draw(&Text::new(
                "the provider (events)",
                (48, y + 18),
                font.clone(),
            ))?;
            y += 48;
        }
        if n_hedge > 0 {
            legend.draw(&Circle::new((25, y + 8), 5, green.filled()))?;
            legend.draw(&Text::new(
                format!("hedged ({n_hedge}) from"),
                (48, y),
                font.clone(),
            ))?;
            legend.draw(&Text::new(
                "the provider (events)",
                (48, y + 18),
                font.clone(),
            ))?;
            y += 48;
        }
        if let Some(cut) = self.events.iter().find(|e| e.event == "truncated") {
            legend.draw(&Text::new(
                format!("events after {} s", crate::output::human(cut.t_s)),
                (10, y),
                font.clone(),
            ))?;
            legend.draw(&Text::new("not recorded", (10, y + 18), font.clone()))?;
        }
        let track = self.track_providers();
        let (w, h) = root.dim_in_pixel();
        let lines_h = LINE_H * collapsed.len() as u32 + if collapsed.is_empty() { 0 } else { 10 };
        let track_h = if track.is_empty() { 0 } else { TRACK_H };
        let (upper, text) = root.split_vertically(h.saturating_sub(lines_h + 30));
        let (panels_area, track_area) =
            upper.split_vertically(upper.dim_in_pixel().1.saturating_sub(track_h));
        let _ = w;
        let areas = if drawn.is_empty() {
            Vec::new()
        } else {
            panels_area.split_evenly((drawn.len(), 1))
        };
        // Only the bottom chart names the time axis.
        let last = if track.is_empty() {
            drawn.len()
        } else {
            drawn.len() + 1
        };
        for (k, (p, area)) in drawn.iter().zip(&areas).enumerate() {
            let v_max = p.points.iter().map(|q| q.1).fold(0.0, f64::max);
            let top = p.capacity.unwrap_or(0.0).max(v_max).max(1.0) * 1.15;
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{} · {}", p.provider, p.series), (FONT, 16))
                .margin_left(12)
                .margin_right(24)
                .x_label_area_size(30)
                .y_label_area_size(80)
                .build_cartesian_2d(axis("time", 0.0, t_max * 1.01)?, axis(p.series, 0.0, top)?)?;
            let what = if p.capacity.is_some() {
                "in use"
            } else {
                "requests"
            };
            chart
                .configure_mesh()
                .x_desc(if k + 1 == last { "time (s)" } else { "" })
                .y_desc(what)
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .x_label_formatter(&tick)
                .y_label_formatter(&tick)
                .draw()?;
            chart.draw_series(LineSeries::new(
                p.points.iter().copied(),
                BLUE.stroke_width(2),
            ))?;
            if let Some(cap) = p.capacity {
                chart.draw_series(DashedLineSeries::new(
                    vec![(0.0, cap), (t_max, cap)],
                    10,
                    6,
                    BLACK.stroke_width(2),
                ))?;
            }
            let mark_y = p.capacity.unwrap_or(v_max.max(1.0));
            let rejected: Vec<_> = self
                .events
                .iter()
                .filter(|e| e.event == "rejected")
                .enumerate()
                .filter(|(i, e)| i % stride == 0 && Self::refused_here(e, p))
                .map(|(_, e)| Cross::new((e.t_s, mark_y), 5, RED.stroke_width(2)))
                .collect();
            chart.draw_series(rejected)?;
        }
        if !track.is_empty() {
            // One row per provider: rejections that no limit made, fallbacks, hedges.
            let n = track.len();
            let row =
                |name: &str| (n - 1 - track.iter().position(|t| *t == name).unwrap_or(0)) as f64;
            let labels: Vec<String> = track.iter().map(|t| t.to_string()).collect();
            let formatter = |v: &f64| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                    labels[n - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            };
            let mut chart = ChartBuilder::on(&track_area)
                .caption(
                    "events: rejections without a limit (outage, offline), fallbacks, hedges",
                    (FONT, 16),
                )
                .margin_left(12)
                .margin_right(24)
                .x_label_area_size(36)
                .y_label_area_size(80)
                .build_cartesian_2d(axis("time", 0.0, t_max * 1.01)?, -0.6..(n as f64 - 0.4))?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(n * 2 + 1)
                .y_label_formatter(&formatter)
                .x_desc("time (s)")
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .x_label_formatter(&tick)
                .draw()?;
            let off_limit = |e: &EventRow| {
                e.refused_by
                    .as_deref()
                    .is_none_or(|b| b.is_empty() || b == "outage" || b == "offline")
            };
            let crosses: Vec<_> = self
                .events
                .iter()
                .filter(|e| e.event == "rejected" && off_limit(e))
                .enumerate()
                .filter(|(i, _)| i % stride == 0)
                .map(|(_, e)| Cross::new((e.t_s, row(&e.provider) + 0.25), 5, RED.stroke_width(2)))
                .collect();
            chart.draw_series(crosses)?;
            let fell: Vec<_> = self
                .events
                .iter()
                .filter(|e| e.event == "fallback")
                .map(|e| TriangleMarker::new((e.t_s, row(&e.provider)), 6, orange.filled()))
                .collect();
            chart.draw_series(fell)?;
            let hedged: Vec<_> = self
                .events
                .iter()
                .filter(|e| e.event == "hedge")
                .map(|e| Circle::new((e.t_s, row(&e.provider) - 0.25), 4, green.filled()))
                .collect();
            chart.draw_series(hedged)?;
        }
        if !collapsed.is_empty() {
            text.draw(&Text::new(
                format!(
                    "never above {}% of their limit (not drawn):",
                    (COLLAPSE_BELOW * 100.0) as u32
                ),
                (16, 4),
                (FONT, 14).into_font().style(FontStyle::Bold),
            ))?;
            for (k, p) in collapsed.iter().enumerate() {
                let peak = p.points.iter().map(|q| q.1).fold(0.0, f64::max);
                let line = match p.capacity {
                    Some(cap) if cap > 0.0 => format!(
                        "{} · {}: at most {} of {} ({}%)",
                        p.provider,
                        p.series,
                        crate::output::human(peak),
                        crate::output::human(cap),
                        crate::output::human(100.0 * peak / cap)
                    ),
                    _ => format!("{} · {}: always 0", p.provider, p.series),
                };
                text.draw(&Text::new(
                    line,
                    (16, 4 + LINE_H as i32 * (k as i32 + 1)),
                    (FONT, 14),
                ))?;
            }
        }
        Ok(())
    }
}
