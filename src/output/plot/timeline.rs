//! The limiter timeline of one replication of one policy: for every limit of every
//! provider the policy reached, what it held over time against its capacity, with the
//! rejections and fallbacks marked where they happened. The chart that shows *why*.

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
        // A provider the policy never sent to has nothing to show.
        panels.retain(|p| {
            self.events
                .iter()
                .any(|e| e.provider == p.provider || e.to.as_deref() == Some(p.provider))
        });
        panels
    }
}

impl Chart for Timeline<'_> {
    fn size(&self) -> (u32, u32) {
        (1400, 90 + 230 * self.panels().len().max(1) as u32)
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
        let panels = self.panels();
        if panels.is_empty() {
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
        let font = (FONT, 15).into_font();
        let n_rej = self.events.iter().filter(|e| e.event == "rejected").count();
        // Past a few thousand markers a panel is solid red anyway: draw every k-th.
        let stride = n_rej.div_ceil(MAX_MARKS).max(1);
        let n_fb = self.events.iter().filter(|e| e.event == "fallback").count();
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
            format!("rejected ({n_rej})"),
            (48, 92),
            font.clone(),
        ))?;
        legend.draw(&Text::new("at that provider", (48, 110), font.clone()))?;
        if stride > 1 {
            legend.draw(&Text::new(
                format!("(1 in {stride} drawn)"),
                (48, 170),
                font.clone(),
            ))?;
        }
        legend.draw(&TriangleMarker::new((25, 140), 7, orange.filled()))?;
        legend.draw(&Text::new(
            format!("fell back ({n_fb})"),
            (48, 132),
            font.clone(),
        ))?;
        legend.draw(&Text::new("to the next provider", (48, 150), font.clone()))?;
        let n_hedge = self.events.iter().filter(|e| e.event == "hedge").count();
        let green = RGBColor(44, 160, 44);
        if n_hedge > 0 {
            legend.draw(&Circle::new((25, 200), 5, green.filled()))?;
            legend.draw(&Text::new(
                format!("hedged ({n_hedge})"),
                (48, 192),
                font.clone(),
            ))?;
            legend.draw(&Text::new("a copy sent elsewhere", (48, 210), font.clone()))?;
        }
        if let Some(cut) = self.events.iter().find(|e| e.event == "truncated") {
            legend.draw(&Text::new(
                format!("events after {} s", crate::output::human(cut.t_s)),
                (10, 240),
                font.clone(),
            ))?;
            legend.draw(&Text::new("not recorded", (10, 258), font.clone()))?;
        }
        let areas = root.split_evenly((panels.len(), 1));
        for (p, area) in panels.iter().zip(&areas) {
            let v_max = p.points.iter().map(|q| q.1).fold(0.0, f64::max);
            let top = p.capacity.unwrap_or(0.0).max(v_max).max(1.0) * 1.15;
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{} · {}", p.provider, p.series), (FONT, 16))
                .margin_left(12)
                .margin_right(24)
                .x_label_area_size(36)
                .y_label_area_size(80)
                .build_cartesian_2d(axis("time", 0.0, t_max * 1.01)?, axis(p.series, 0.0, top)?)?;
            let what = if p.capacity.is_some() {
                "in use"
            } else {
                "requests"
            };
            chart
                .configure_mesh()
                .x_desc("time (s)")
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
                .filter(|(i, e)| i % stride == 0 && e.provider == p.provider)
                .map(|(_, e)| Cross::new((e.t_s, mark_y), 5, RED.stroke_width(2)))
                .collect();
            chart.draw_series(rejected)?;
            let fell: Vec<_> = self
                .events
                .iter()
                .filter(|e| e.provider == p.provider && e.event == "fallback")
                .map(|e| TriangleMarker::new((e.t_s, mark_y * 0.5), 6, orange.filled()))
                .collect();
            chart.draw_series(fell)?;
            let hedged: Vec<_> = self
                .events
                .iter()
                .filter(|e| e.provider == p.provider && e.event == "hedge")
                .map(|e| Circle::new((e.t_s, mark_y * 0.25), 4, green.filled()))
                .collect();
            chart.draw_series(hedged)?;
        }
        Ok(())
    }
}
