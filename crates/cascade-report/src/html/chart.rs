//! Charts drawn as SVG with plotters: one `Plot` (lines, bars and reference rules over two
//! numeric axes, or a categorical x axis) and one `Heatmap`. The same SVG text goes inline into
//! report.html and alone into `--charts DIR`, so a chart in a paper is the chart in the report.
//!
//! Non-finite values (an empty cell, a metric that does not exist on a path) are left out of a
//! series rather than drawn; a plot with nothing finite to draw reports that instead of an empty
//! frame.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::compact;

/// Width and height of every chart, in SVG units (the page scales them to its column).
const SIZE: (u32, u32) = (760, 380);

/// Okabe and Ito's palette: distinguishable by readers with any common colour-vision deficiency.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];

/// The palette's `i`-th colour, cycling.
pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A finished chart: its file stem for `--charts`, its title and its SVG text.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// File stem (`prices-ETH` is written as `prices-ETH.svg`).
    pub name: String,
    /// Title shown above it.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    /// A solid line through the points.
    Line,
    /// A dashed line through the points.
    Dashed,
    /// A circle at each point (liquidation markers, frontier values).
    Points,
}

/// One named series of (x, y) points.
#[derive(Clone, Debug)]
pub(crate) struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
    pub colour: usize,
}

impl Series {
    pub fn new(
        label: impl Into<String>,
        points: Vec<(f64, f64)>,
        mark: Mark,
        colour: usize,
    ) -> Self {
        let finite: Vec<(f64, f64)> = points
            .into_iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let points = match mark {
            Mark::Line | Mark::Dashed => thin(finite),
            Mark::Points => finite,
        };
        Self {
            label: label.into(),
            points,
            mark,
            colour,
        }
    }
}

/// Lines longer than this are thinned (a long replay, a million paths' exceedance curve).
const MAX_LINE_POINTS: usize = 4_000;

/// A long line cut into runs of consecutive points, each kept as its first, lowest, highest
/// and last point in order: at most [`MAX_LINE_POINTS`], and every spike still drawn (a
/// chart is a few hundred pixels wide, so the line looks the same).
fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if points.len() <= MAX_LINE_POINTS {
        return points;
    }
    let run = points.len().div_ceil(MAX_LINE_POINTS / 4);
    let mut kept = Vec::with_capacity(MAX_LINE_POINTS);
    for chunk in points.chunks(run) {
        let low = chunk
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1));
        let high = chunk
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.1.total_cmp(&b.1.1));
        let mut picks = vec![0, chunk.len() - 1];
        picks.extend(low.map(|(i, _)| i));
        picks.extend(high.map(|(i, _)| i));
        picks.sort_unstable();
        picks.dedup();
        kept.extend(picks.into_iter().map(|i| chunk[i]));
    }
    kept
}

impl Series {
    /// The number of points drawn.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.points.len()
    }
}

/// A rectangle from (x0, y0) to (x1, y1): a histogram bin, a step's flow, a wall's bucket, a
/// stacked segment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bar {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

/// Bars of one colour with one legend entry.
#[derive(Clone, Debug)]
pub(crate) struct Bars {
    pub label: String,
    pub bars: Vec<Bar>,
    pub colour: usize,
}

/// A labelled reference line across the plot (VaR at 99%, m = 1, a budget, the spiral price).
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub at: f64,
    pub label: String,
    pub colour: usize,
}

/// A chart over two numeric axes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub bars: Vec<Bars>,
    /// Vertical rules at x values.
    pub x_rules: Vec<Rule>,
    /// Horizontal rules at y values.
    pub y_rules: Vec<Rule>,
    /// Names of the x positions 0, 1, … when the x axis is categorical (compare's mechanisms).
    pub x_categories: Option<Vec<String>>,
    /// Whether the y range starts at 0 (flows, counts, money) rather than hugging the data.
    pub y_from_zero: bool,
    /// The x range, when it is not the data's (a timeline's flows span the whole run even
    /// where nothing flowed).
    pub x_span: Option<(f64, f64)>,
    /// The legend in the upper left corner, where the data crowd the right (a map's walls
    /// near the start price).
    pub legend_left: bool,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// Nothing finite to draw.
    #[error("chart {0}: no finite values to draw")]
    Empty(String),
    /// plotters failed (it writes to a String, so only on a drawing error).
    #[error("chart {name}: {message}")]
    Drawing {
        /// The chart.
        name: String,
        /// plotters' message.
        message: String,
    },
}

fn drawing<E: std::fmt::Debug>(name: &str) -> impl Fn(E) -> ChartError + '_ {
    move |e| ChartError::Drawing {
        name: name.to_string(),
        message: format!("{e:?}"),
    }
}

/// What a chart draws on its drawing area.
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Draws a chart with `draw` on an SVG of [`SIZE`] and names it.
fn render(
    name: &str,
    title: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawn,
) -> Result<Chart, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root).map_err(drawing(name))?;
        root.present().map_err(drawing(name))?;
    }
    Ok(Chart {
        name: name.to_string(),
        title: title.to_string(),
        svg,
    })
}

/// The smallest and largest of `values`, widened when they are equal so the axis has a span.
fn span(values: impl Iterator<Item = f64>, from_zero: bool) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        if from_zero && hi == 0.0 {
            return Some((0.0, 1.0));
        }
        let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.05 };
        return Some((lo - pad, hi + pad));
    }
    let pad = (hi - lo) * 0.04;
    Some((if from_zero && lo >= 0.0 { lo } else { lo - pad }, hi + pad))
}

impl Plot {
    fn x_values(&self) -> impl Iterator<Item = f64> + '_ {
        let points = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let bars = self
            .bars
            .iter()
            .flat_map(|b| b.bars.iter().flat_map(|r| [r.x0, r.x1]));
        points.chain(bars).chain(self.x_rules.iter().map(|r| r.at))
    }

    fn y_values(&self) -> impl Iterator<Item = f64> + '_ {
        let points = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1));
        let bars = self
            .bars
            .iter()
            .flat_map(|b| b.bars.iter().flat_map(|r| [r.y0, r.y1]));
        points.chain(bars).chain(self.y_rules.iter().map(|r| r.at))
    }

    /// Draws the plot as the chart `name`.
    pub fn render(&self, name: &str) -> Result<Chart, ChartError> {
        let empty = || ChartError::Empty(name.to_string());
        let (x0, x1) = match (&self.x_categories, self.x_span) {
            (Some(c), _) if !c.is_empty() => (-0.6, c.len() as f64 - 0.4),
            (_, Some(span)) if span.0 < span.1 => span,
            _ => span(self.x_values(), false).ok_or_else(empty)?,
        };
        let (y0, y1) = span(self.y_values(), self.y_from_zero).ok_or_else(empty)?;
        render(name, &self.title, |root| self.draw(root, (x0..x1, y0..y1)))
    }

    fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, Shift>,
        (x, y): (std::ops::Range<f64>, std::ops::Range<f64>),
    ) -> Drawn {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(x.clone(), y.clone())?;
        let categories = self.x_categories.clone().unwrap_or_default();
        let x_format = |v: &f64| -> String {
            if categories.is_empty() {
                compact(*v)
            } else {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < categories.len() {
                    categories[i as usize].clone()
                } else {
                    String::new()
                }
            }
        };
        let y_format = |v: &f64| compact(*v);
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&x_format)
            .y_label_formatter(&y_format)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14));
        if !categories.is_empty() {
            mesh.x_labels(categories.len() * 2 + 1).disable_x_mesh();
        }
        mesh.draw()?;
        let mut legend = false;
        for bars in &self.bars {
            let c = colour(bars.colour);
            let drawn = chart.draw_series(
                bars.bars
                    .iter()
                    .map(|b| Rectangle::new([(b.x0, b.y0), (b.x1, b.y1)], c.mix(0.75).filled())),
            )?;
            if !bars.label.is_empty() {
                legend = true;
                drawn.label(bars.label.as_str()).legend(move |(lx, ly)| {
                    Rectangle::new([(lx, ly - 5), (lx + 14, ly + 5)], c.mix(0.75).filled())
                });
            }
        }
        for series in &self.series {
            let c = colour(series.colour);
            let drawn = match series.mark {
                Mark::Line => chart.draw_series(LineSeries::new(
                    series.points.iter().copied(),
                    c.stroke_width(2),
                ))?,
                Mark::Dashed => chart.draw_series(DashedLineSeries::new(
                    series.points.iter().copied(),
                    6,
                    4,
                    c.stroke_width(2),
                ))?,
                Mark::Points => chart.draw_series(
                    series
                        .points
                        .iter()
                        .map(|&p| Circle::new(p, 4, c.mix(0.85).filled())),
                )?,
            };
            if !series.label.is_empty() {
                legend = true;
                let mark = series.mark;
                drawn
                    .label(series.label.as_str())
                    .legend(move |(lx, ly)| match mark {
                        Mark::Points => Circle::new((lx + 7, ly), 4, c.filled()).into_dyn(),
                        Mark::Line | Mark::Dashed => {
                            PathElement::new(vec![(lx, ly), (lx + 14, ly)], c.stroke_width(2))
                                .into_dyn()
                        }
                    });
            }
        }
        let label_style = |i: usize| {
            ("sans-serif", 13)
                .into_font()
                .color(&colour(i))
                .pos(Pos::new(HPos::Left, VPos::Bottom))
        };
        // Each vertical rule's label a line lower than the one before, so close rules (VaR
        // and ES) stay readable.
        for (i, rule) in self.x_rules.iter().enumerate() {
            let c = colour(rule.colour);
            chart.draw_series(DashedLineSeries::new(
                [(rule.at, y.start), (rule.at, y.end)],
                5,
                4,
                c.stroke_width(2),
            ))?;
            let top = y.end - (y.end - y.start) * (0.02 + 0.06 * i as f64);
            chart.draw_series(std::iter::once(Text::new(
                format!(" {}", rule.label),
                (rule.at, top),
                label_style(rule.colour).pos(Pos::new(HPos::Left, VPos::Top)),
            )))?;
        }
        for rule in &self.y_rules {
            let c = colour(rule.colour);
            chart.draw_series(DashedLineSeries::new(
                [(x.start, rule.at), (x.end, rule.at)],
                5,
                4,
                c.stroke_width(2),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                format!(" {}", rule.label),
                (x.start, rule.at),
                label_style(rule.colour),
            )))?;
        }
        if legend {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .label_font(("sans-serif", 13))
                .position(if self.legend_left {
                    SeriesLabelPosition::UpperLeft
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .draw()?;
        }
        Ok(())
    }
}

/// A grid of values over two categorical axes, coloured from white (the smallest) to
/// vermillion (the largest), each cell labelled with its value: a stress test's metric over two
/// parameters.
#[derive(Clone, Debug)]
pub(crate) struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_ticks: Vec<String>,
    pub y_ticks: Vec<String>,
    /// `cells[row][column]`: row i is `y_ticks[i]`, column j is `x_ticks[j]`; `None` is drawn
    /// grey and labelled "–".
    pub cells: Vec<Vec<Option<f64>>>,
    /// How a cell's value is written.
    pub format: fn(f64) -> String,
}

impl Heatmap {
    /// Draws the heatmap as the chart `name`.
    pub fn render(&self, name: &str) -> Result<Chart, ChartError> {
        let finite = self.cells.iter().flatten().flatten().copied();
        let (lo, hi) = finite
            .filter(|v| v.is_finite())
            .fold(None, |range: Option<(f64, f64)>, v| {
                Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
            })
            .ok_or_else(|| ChartError::Empty(name.to_string()))?;
        render(name, &self.title, |root| self.draw(root, (lo, hi)))
    }

    fn draw(&self, root: &DrawingArea<SVGBackend<'_>, Shift>, (lo, hi): (f64, f64)) -> Drawn {
        root.fill(&WHITE)?;
        let (nx, ny) = (self.x_ticks.len(), self.y_ticks.len());
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)?;
        let tick = |ticks: &[String], v: f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < ticks.len() {
                ticks[i as usize].clone()
            } else {
                String::new()
            }
        };
        let x_format = |v: &f64| tick(&self.x_ticks, *v);
        let y_format = |v: &f64| tick(&self.y_ticks, *v);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx * 2 + 1)
            .y_labels(ny * 2 + 1)
            .x_label_formatter(&x_format)
            .y_label_formatter(&y_format)
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()?;
        // Equal everywhere: the pale colour of the smallest value.
        let shade = |v: f64| {
            let t = if hi > lo {
                ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let blend = |from: u8, to: u8| {
                (f64::from(from) + (f64::from(to) - f64::from(from)) * t).round() as u8
            };
            RGBColor(blend(255, 213), blend(247, 94), blend(236, 0))
        };
        for (row, cells) in self.cells.iter().enumerate() {
            for (column, cell) in cells.iter().enumerate() {
                let (x, y) = (column as f64, row as f64);
                let fill = cell.map_or(RGBColor(220, 220, 220), shade);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    fill.filled(),
                )))?;
                let text = cell.map_or("–".to_string(), self.format);
                chart.draw_series(std::iter::once(Text::new(
                    text,
                    (x, y),
                    ("sans-serif", 14)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plot_draws_its_series_and_rules_as_svg() {
        let plot = Plot {
            title: "t".into(),
            x_label: "step".into(),
            y_label: "USD".into(),
            series: vec![Series::new(
                "venue",
                vec![(0.0, 10.0), (1.0, 8.0), (2.0, f64::NAN), (3.0, 7.5)],
                Mark::Line,
                0,
            )],
            y_rules: vec![Rule {
                at: 9.0,
                label: "budget".into(),
                colour: 1,
            }],
            ..Plot::default()
        };
        let chart = plot.render("prices").unwrap();
        assert!(chart.svg.starts_with("<svg"), "{}", &chart.svg[..60]);
        assert!(chart.svg.contains("<polyline"));
        assert!(chart.svg.contains("venue"));
        assert!(chart.svg.contains("budget"));
        assert!(!chart.svg.contains("NaN"));
    }

    #[test]
    fn a_plot_with_nothing_finite_is_an_error_not_an_empty_frame() {
        let plot = Plot {
            series: vec![Series::new("x", vec![(f64::NAN, 1.0)], Mark::Line, 0)],
            ..Plot::default()
        };
        assert!(matches!(plot.render("p"), Err(ChartError::Empty(_))));
    }

    #[test]
    fn a_long_line_is_thinned_keeping_its_ends_and_spikes() {
        let mut points: Vec<(f64, f64)> = (0..100_000).map(|i| (f64::from(i), 1.0)).collect();
        points[54_321].1 = 50.0;
        points[77_777].1 = -20.0;
        let series = Series::new("long", points, Mark::Line, 0);
        assert!(series.len() <= MAX_LINE_POINTS, "{}", series.len());
        assert_eq!(series.points.first(), Some(&(0.0, 1.0)));
        assert_eq!(series.points.last(), Some(&(99_999.0, 1.0)));
        assert!(series.points.contains(&(54_321.0, 50.0)));
        assert!(series.points.contains(&(77_777.0, -20.0)));
        assert!(series.points.windows(2).all(|w| w[0].0 < w[1].0));
        let short = Series::new("short", vec![(0.0, 1.0), (1.0, 2.0)], Mark::Line, 0);
        assert_eq!(short.len(), 2);
    }

    #[test]
    fn a_heatmap_labels_every_cell() {
        let map = Heatmap {
            title: "h".into(),
            x_label: "a".into(),
            y_label: "b".into(),
            x_ticks: vec!["0.05".into(), "0.1".into()],
            y_ticks: vec!["0.8".into()],
            cells: vec![vec![Some(1500.0), None]],
            format: compact,
        };
        let chart = map.render("heat").unwrap();
        assert!(chart.svg.contains("1.5k"));
        assert!(chart.svg.contains('–'));
    }
}
