//! The comparison program's plots (SVG, drawn with `plotters`).

use plotters::prelude::*;
use std::path::Path;

/// Grouped bars: one group per workload, one bar per implementation.
#[derive(Clone, Debug, Default)]
pub struct Bars {
    /// The group (workload) names.
    pub groups: Vec<String>,
    /// Per implementation: its name and one value per group (`None`: no result).
    pub series: Vec<(String, Vec<Option<f64>>)>,
}

/// A line of the pause plot: `(live objects, max gap ms, p99.9 gap ms)` points.
#[derive(Clone, Debug, Default)]
pub struct Line {
    /// The implementation.
    pub name: String,
    /// The measured points.
    pub points: Vec<(f64, f64, f64)>,
}

type Error = Box<dyn std::error::Error>;

/// Draws median time as a ratio to `Arc` per workload (log scale).
pub fn times(path: &Path, bars: &Bars) -> Result<(), Error> {
    let root = SVGBackend::new(path, (1100, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = bars.series.len().max(1);
    let width = (n + 1) as f64;
    let groups = bars.groups.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Median time as a ratio to Arc (log scale, lower is better)",
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..groups as f64 * width, (0.1f64..30f64).log_scale())?;
    let labels = bars.groups.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups * 2 + 1)
        .x_label_formatter(&|x| {
            let g = (*x / width).floor() as usize;
            let centre = g as f64 * width + width / 2.0;
            if (x - centre).abs() < width / 4.0 {
                labels.get(g).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("time / Arc's time")
        .draw()?;
    for (i, (name, values)) in bars.series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let rects = values.iter().enumerate().filter_map(|(g, v)| {
            let v = (*v)?;
            let x0 = g as f64 * width + 0.5 + i as f64;
            Some(Rectangle::new(
                [(x0, 0.1), (x0 + 0.9, v.clamp(0.1, 30.0))],
                color.filled(),
            ))
        });
        chart
            .draw_series(rects)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart.draw_series(LineSeries::new(
        [(0.0, 1.0), (groups as f64 * width, 1.0)],
        BLACK.stroke_width(1),
    ))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Draws the longest gap and the 99.9th percentile gap against the live heap (log-log).
pub fn pauses(path: &Path, lines: &[Line]) -> Result<(), Error> {
    let root = SVGBackend::new(path, (1100, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    let (xmin, xmax) = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold((f64::MAX, 0f64), |(a, b), x| (a.min(x), b.max(x)));
    let (xmin, xmax) = if xmax > 0.0 {
        (xmin / 1.5, xmax * 1.5)
    } else {
        (1.0, 10.0)
    };
    for (panel, (title, pick)) in panels.iter().zip([
        ("Longest mutator gap (ms)", 1usize),
        ("99.9th percentile gap (ms)", 2usize),
    ]) {
        let value = |p: &(f64, f64, f64)| if pick == 1 { p.1 } else { p.2 };
        let ymax = lines
            .iter()
            .flat_map(|l| l.points.iter().map(value))
            .fold(0.01f64, f64::max)
            * 2.0;
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d((xmin..xmax).log_scale(), (0.0001f64..ymax).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("live objects")
            .y_desc("ms")
            .x_label_formatter(&|x| format!("{:.1}M", x / 1e6))
            .draw()?;
        for (i, l) in lines.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let pts: Vec<(f64, f64)> = l
                .points
                .iter()
                .map(|p| (p.0, value(p).max(0.0001)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
                .label(l.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 15, y)], color.stroke_width(2))
                });
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
