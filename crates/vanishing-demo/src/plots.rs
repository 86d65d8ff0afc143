//! PNG plots with plotters: the data sample, gradient norm per layer, the layer × step
//! gradient heatmap, and loss curves.
//!
//! Text is drawn with a font compiled into the binary (plotters' `ab_glyph` backend), so
//! plotting needs no system font library on Linux, Windows or a bare container.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::data::Dataset;
use crate::train::StepRecord;
use crate::{Error, Result};

const FONT: &str = "sans-serif";
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
];

/// One configuration's line in a multi-series plot.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Legend text.
    pub label: &'a str,
    /// `(x, y)` points; non-positive or non-finite `y` is skipped on log axes.
    pub points: &'a [(f64, f64)],
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a constant of a maintained crate, so it always parses; a failure here
        // would only cost labels, never a plot, hence no error path.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

/// Draws into a PNG at `path`, turning any plotters error into [`Error::Plot`].
fn draw_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<()> {
    register_font();
    let plot_error = |e: &dyn std::fmt::Display| Error::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(&e))?;
    draw(&root).map_err(|e| plot_error(&e))?;
    root.present().map_err(|e| plot_error(&e))
}

/// Scatter plot of the data set, one colour per class: the brief's `synthetic_data_sample.png`.
pub fn data_sample(data: &Dataset, path: &Path) -> Result<()> {
    draw_png(path, (640, 640), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Synthetic data: two spirals", (FONT, 24))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(-1.3f32..1.3f32, -1.3f32..1.3f32)?;
        chart.configure_mesh().light_line_style(WHITE).draw()?;
        for class in 0..2u32 {
            let color = PALETTE[class as usize];
            let points = data
                .points
                .iter()
                .zip(&data.labels)
                .filter(|(_, l)| **l == class);
            chart
                .draw_series(points.map(|(p, _)| Circle::new((p[0], p[1]), 3, color.filled())))?
                .label(format!("class {class}"))
                .legend(move |(x, y)| Circle::new((x, y), 4, color.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// The positive, finite points of a series: what a log axis can show.
fn loggable(points: &[(f64, f64)]) -> impl Iterator<Item = (f64, f64)> + '_ {
    points
        .iter()
        .copied()
        .filter(|(_, y)| y.is_finite() && *y > 0.0)
}

/// The range of all positive finite `y` values, widened to whole decades.
fn log_range(series: &[Series<'_>]) -> (f64, f64) {
    let (lo, hi) = series
        .iter()
        .flat_map(|s| loggable(s.points))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, y)| {
            (lo.min(y), hi.max(y))
        });
    if lo > hi {
        return (1e-3, 1.0);
    }
    (
        10f64.powf(lo.log10().floor()),
        10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)),
    )
}

/// A multi-series line chart with a log-scale y axis (norms and losses span decades).
fn line_chart(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    title: &str,
    (x_label, y_label): (&str, &str),
    series: &[Series<'_>],
) -> Result<(), Box<dyn std::error::Error>> {
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let (lo, hi) = log_range(series);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(loggable(s.points), color.stroke_width(2)))?
            .label(s.label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Weight-gradient norm per layer on a log scale, one line per configuration: at
/// initialisation (left) and after training (right).
pub fn gradient_profiles(at_init: &[Series<'_>], at_end: &[Series<'_>], path: &Path) -> Result<()> {
    draw_png(path, (1400, 600), |root| {
        let halves = root.split_evenly((1, 2));
        let axes = ("layer (0 = input)", "L2 norm of dLoss/dW");
        line_chart(
            &halves[0],
            "Gradient norm per layer at initialisation",
            axes,
            at_init,
        )?;
        line_chart(
            &halves[1],
            "Gradient norm per layer after training",
            axes,
            at_end,
        )?;
        Ok(())
    })
}

/// Loss against step on a log scale, one line per configuration.
pub fn loss_curves(series: &[Series<'_>], path: &Path) -> Result<()> {
    draw_png(path, (900, 600), |root| {
        line_chart(root, "Training loss", ("step", "cross-entropy"), series)
    })
}

/// Layer × step heatmap of log10 weight-gradient norms: dark where the gradient vanished.
pub fn gradient_heatmap(title: &str, history: &[StepRecord], path: &Path) -> Result<()> {
    let layers = history.first().map_or(0, |r| r.grad_norms.len());
    let log_norm = |v: f64| (v.is_finite() && v > 0.0).then(|| v.log10());
    let cells = history
        .iter()
        .flat_map(|r| r.grad_norms.iter().filter_map(move |&v| log_norm(v)));
    let (lo, hi) = cells.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo <= hi {
        (lo, hi.max(lo + 1e-9))
    } else {
        (0.0, 1.0)
    };
    draw_png(path, (1000, 640), |root| {
        let (plot, bar) = root.split_horizontally(880);
        let steps = history.last().map_or(1, |r| r.step + 1);
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, (FONT, 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0i64..steps, 0i64..layers as i64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("step")
            .y_desc("layer (0 = input)")
            .draw()?;
        let spans = history
            .iter()
            .zip(history.iter().skip(1).map(|r| r.step).chain([steps]));
        chart.draw_series(spans.flat_map(|(record, next)| {
            record
                .grad_norms
                .iter()
                .enumerate()
                .map(move |(layer, &v)| {
                    let color = match log_norm(v) {
                        Some(l) => ViridisRGB.get_color_normalized(l, lo, hi),
                        None => BLACK,
                    };
                    Rectangle::new(
                        [(record.step, layer as i64), (next, layer as i64 + 1)],
                        color.filled(),
                    )
                })
        }))?;
        colour_bar(&bar, lo, hi)?;
        Ok(())
    })
}

fn colour_bar(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    lo: f64,
    hi: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(46)
        .margin_bottom(52)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..1.0, lo..hi)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc("log10 of L2 norm of dLoss/dW")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    let rows = 100;
    chart.draw_series((0..rows).map(|i| {
        let (a, b) = (
            lo + (hi - lo) * i as f64 / rows as f64,
            lo + (hi - lo) * (i + 1) as f64 / rows as f64,
        );
        Rectangle::new(
            [(0.0, a), (1.0, b)],
            ViridisRGB.get_color_normalized(a, lo, hi).filled(),
        )
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_range_covers_whole_decades_and_skips_zeros() {
        let points = [(0.0, 3e-7), (1.0, 0.0), (2.0, 20.0), (3.0, f64::NAN)];
        assert_eq!(
            log_range(&[Series {
                label: "a",
                points: &points
            }]),
            (1e-7, 100.0)
        );
        assert_eq!(
            log_range(&[Series {
                label: "a",
                points: &[(0.0, 0.0)]
            }]),
            (1e-3, 1.0)
        );
    }
}
