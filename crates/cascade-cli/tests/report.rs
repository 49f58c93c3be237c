//! report.html: `--report` on every command that writes an output folder and `cascade report
//! OUTDIR` write the same self-contained page; `--charts DIR` writes each chart as SVG; bad
//! folders exit 2. Then the pages in a real browser (headless Chromium over the DevTools
//! protocol): each loads with no console error, every chart has a size and draws something (in
//! the DOM and in a screenshot), and every number the page shows is the output file's number at
//! the JSON pointer the page cites, to the digits shown.
//!
//! The browser part needs Chromium (Debian's `chromium` package, or `CASCADE_CHROMIUM=PATH`).
//! Without one it says so and passes, unless `CASCADE_BROWSER_TESTS=require` (set by CI, which
//! installs it), where a missing browser fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cascade_test_support::Fixture;
use serde_json::Value;

use crate::common::{self, run_cli};

/// Every kind of output folder, written with `--report` into `root`: (name, folder).
fn outputs(root: &Path) -> Vec<(&'static str, PathBuf)> {
    let example = |name: &str| {
        cascade_test_support::repo()
            .join(format!("examples/{name}.toml"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let lender = root.join("lender.toml");
    Fixture::named("lender")
        .append("[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.3")
        .write_to(&lender);
    let lender = lender.to_str().unwrap().to_string();
    let runs: Vec<(&'static str, Vec<String>)> = vec![
        ("run", vec!["run".into(), example("eth-crash")]),
        ("replay", vec!["run".into(), example("black-thursday-2020")]),
        ("perp", vec!["run".into(), example("perp-and-lending")]),
        ("backstop", vec!["run".into(), example("backstop-transfer")]),
        (
            "compare",
            vec![
                "compare".into(),
                example("eth-crash"),
                "--mechanisms".into(),
                "as_is,dutch_auction".into(),
            ],
        ),
        (
            "montecarlo",
            vec![
                "montecarlo".into(),
                example("gbm-jump-stress"),
                "--paths".into(),
                "60".into(),
            ],
        ),
        ("map", vec!["map".into(), example("eth-crash")]),
        (
            "stress",
            vec![
                "stress".into(),
                example("gbm-jump-stress"),
                "--grid".into(),
                "protocols.aave-like.liquidation.bonus=0.05,0.1".into(),
                "--grid".into(),
                "assets.ETH.driver.volatility=0.8,3.2".into(),
                "--paths".into(),
                "20".into(),
            ],
        ),
        (
            "calibrate",
            vec![
                "calibrate".into(),
                lender,
                "--parameter".into(),
                "protocols.lender.collateral.ETH.liquidation_threshold".into(),
                "--range".into(),
                "0.80:0.90:0.05".into(),
                "--risk".into(),
                "mean(bad_debt_usd) <= 1.5e6".into(),
                "--paths".into(),
                "2".into(),
            ],
        ),
    ];
    runs.into_iter()
        .map(|(name, mut args)| {
            let out = root.join(name);
            args.extend([
                "--out".into(),
                out.to_str().unwrap().into(),
                "--quiet".into(),
                "--report".into(),
            ]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let output = run_cli(&args);
            assert!(
                output.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            (name, out)
        })
        .collect()
}

/// The charts of a page, by the `data-chart` attribute of their figures.
fn chart_names(html: &str) -> Vec<String> {
    html.split("data-chart=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn every_command_writes_a_self_contained_report_and_the_report_command_the_same_page() {
    let root = tempfile::tempdir().unwrap();
    for (name, out) in outputs(root.path()) {
        let page = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"), "{name}");
        for absent in ["<script", "https://", "NaN", "inf<", "src=", "href=\"http"] {
            assert!(!page.contains(absent), "{name}: {absent} in the page");
        }
        // The only address is the SVG namespace's, a name rather than a fetch.
        assert_eq!(
            page.matches("http://").count(),
            page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
            "{name}"
        );
        assert!(page.contains("default-src 'none'"), "{name}");
        let charts = chart_names(&page);
        assert!(!charts.is_empty(), "{name}: no chart");
        // The same page again from the folder, with the charts as files.
        let svg = root.path().join(format!("{name}-charts"));
        let output = run_cli(&[
            "report",
            out.to_str().unwrap(),
            "--charts",
            svg.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{name}");
        let again = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert_eq!(again, page, "{name}: cascade report wrote another page");
        for chart in &charts {
            let file = std::fs::read_to_string(svg.join(format!("{chart}.svg")))
                .unwrap_or_else(|e| panic!("{name}: {chart}.svg: {e}"));
            assert!(
                page.contains(&file),
                "{name}: {chart}.svg is not the page's chart"
            );
        }
        let files = std::fs::read_dir(&svg).unwrap().count();
        assert_eq!(files, charts.len(), "{name}: one SVG per chart");
    }
}

#[test]
fn a_folder_without_outputs_or_with_a_broken_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    common::assert_usage_error(
        &["report", dir.path().to_str().unwrap()],
        "no cascade outputs to report on",
    );
    std::fs::write(dir.path().join("montecarlo.json"), "{\"paths\": ").unwrap();
    common::assert_usage_error(
        &["report", dir.path().to_str().unwrap()],
        "montecarlo.json: not valid JSON",
    );
    let missing = dir.path().join("nowhere");
    common::assert_usage_error(
        &["report", missing.to_str().unwrap()],
        "not a folder of cascade outputs",
    );
    // --charts that cannot be a folder is refused before the run.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = dir.path().join("out");
    common::assert_usage_error(
        &[
            "run",
            "--out",
            out.to_str().unwrap(),
            "--charts",
            file.join("svg").to_str().unwrap(),
        ],
        "--charts",
    );
    assert!(!out.exists(), "the run went ahead");
}

/// The browser to drive, if there is one.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CASCADE_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// The first number in `text` as the page writes it (`1,234 USD`, `12.35%`, `2.060×`,
/// `m ≥ 1`), and half a unit of its last digit: how far the shown value may be from the file's.
fn shown_number(text: &str) -> Option<(f64, f64)> {
    text.split_whitespace().find_map(|token| {
        let percent = token.ends_with('%');
        let digits = token.trim_end_matches(['%', '×']).replace(',', "");
        let value: f64 = digits.parse().ok()?;
        let decimals = digits.split_once('.').map_or(0, |(_, f)| f.len());
        let half = 0.5 * 10f64.powi(-(decimals as i32));
        Some(if percent {
            (value / 100.0, half / 100.0)
        } else {
            (value, half)
        })
    })
}

/// What the browser found on one page.
#[derive(serde::Deserialize, Debug)]
struct Seen {
    width: f64,
    height: f64,
    charts: Vec<ChartSeen>,
    numbers: Vec<NumberSeen>,
}

#[derive(serde::Deserialize, Debug)]
struct ChartSeen {
    name: String,
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    shapes: usize,
}

#[derive(serde::Deserialize, Debug)]
struct NumberSeen {
    source: String,
    pointer: String,
    value: String,
    text: String,
}

/// Reads the page's charts and cited numbers from the DOM.
const PROBE: &str = r#"JSON.stringify({
  width: document.documentElement.scrollWidth,
  height: document.documentElement.scrollHeight,
  charts: [...document.querySelectorAll('figure.chart')].map(f => {
    const svg = f.querySelector('svg');
    const box = svg ? svg.getBoundingClientRect() : {left: 0, top: 0, width: 0, height: 0};
    return {name: f.dataset.chart, x: box.left + window.scrollX, y: box.top + window.scrollY,
            width: box.width, height: box.height,
            shapes: svg ? svg.querySelectorAll('polyline, rect, circle, path, line').length : 0};
  }),
  numbers: [...document.querySelectorAll('[data-pointer]')].map(e => ({
    source: e.dataset.source, pointer: e.dataset.pointer, value: e.dataset.value,
    text: e.textContent}))
})"#;

/// A decoded screenshot: width, height, channels and pixels.
struct Screenshot {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

impl Screenshot {
    fn decode(png_bytes: &[u8]) -> Self {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        pixels.truncate(info.buffer_size());
        Self {
            width: info.width as usize,
            height: info.height as usize,
            channels: info.color_type.samples(),
            pixels,
        }
    }

    /// How many pixels of the region (CSS pixels at scale 1) are not white, and how many
    /// colours it has.
    fn ink(&self, chart: &ChartSeen) -> (usize, usize) {
        let mut colours = std::collections::BTreeSet::new();
        let mut inked = 0;
        let (x0, y0) = (chart.x.max(0.0) as usize, chart.y.max(0.0) as usize);
        let x1 = ((chart.x + chart.width) as usize).min(self.width);
        let y1 = ((chart.y + chart.height) as usize).min(self.height);
        for y in y0..y1 {
            for x in x0..x1 {
                let at = (y * self.width + x) * self.channels;
                let rgb = (self.pixels[at], self.pixels[at + 1], self.pixels[at + 2]);
                if rgb != (255, 255, 255) {
                    inked += 1;
                }
                colours.insert(rgb);
            }
        }
        (inked, colours.len())
    }
}

fn check_numbers(name: &str, out: &Path, numbers: &[NumberSeen]) {
    let mut files: BTreeMap<String, Value> = BTreeMap::new();
    assert!(!numbers.is_empty(), "{name}: no number cites a file");
    for n in numbers {
        let file = files.entry(n.source.clone()).or_insert_with(|| {
            let text = std::fs::read_to_string(out.join(&n.source)).unwrap();
            serde_json::from_str(&text).unwrap()
        });
        let at = file
            .pointer(&n.pointer)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("{name}: {} has no number at {}", n.source, n.pointer));
        let cited: f64 = n.value.parse().unwrap();
        assert_eq!(
            cited, at,
            "{name}: {} {}: the page cites another value",
            n.source, n.pointer
        );
        let (shown, half) = shown_number(&n.text)
            .unwrap_or_else(|| panic!("{name}: {} shows no number: {:?}", n.pointer, n.text));
        assert!(
            (shown - at).abs() <= half * (1.0 + 1e-9) + 1e-12 * at.abs(),
            "{name}: {} {} is {at} but the page shows {:?}",
            n.source,
            n.pointer,
            n.text
        );
    }
}

#[test]
#[allow(clippy::print_stderr)] // says why the browser part did not run
fn the_reports_render_in_a_browser_without_errors_and_show_the_files_numbers() {
    let required = std::env::var("CASCADE_BROWSER_TESTS").is_ok_and(|v| v == "require");
    let Some(browser_path) = chromium() else {
        assert!(
            !required,
            "CASCADE_BROWSER_TESTS=require but no Chromium was found"
        );
        eprintln!(
            "no Chromium (install Debian's chromium or set CASCADE_CHROMIUM): browser test skipped"
        );
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let folders = outputs(root.path());
    let options = headless_chrome::LaunchOptions::default_builder()
        .path(Some(browser_path))
        .sandbox(false)
        .window_size(Some((1280, 900)))
        .build()
        .unwrap();
    let browser = headless_chrome::Browser::new(options).expect("Chromium starts");
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    for (name, out) in folders {
        let tab = browser.new_tab().unwrap();
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&errors);
        tab.enable_log().unwrap();
        tab.enable_runtime().unwrap();
        tab.add_event_listener(Arc::new(
            move |event: &headless_chrome::protocol::cdp::types::Event| {
                use headless_chrome::protocol::cdp::Log::LogEntryLevel;
                use headless_chrome::protocol::cdp::types::Event;
                let message = match event {
                    Event::LogEntryAdded(e)
                        if matches!(e.params.entry.level, LogEntryLevel::Error) =>
                    {
                        Some(e.params.entry.text.clone())
                    }
                    Event::RuntimeExceptionThrown(e) => {
                        Some(e.params.exception_details.text.clone())
                    }
                    Event::RuntimeConsoleAPICalled(e) => {
                        Some(format!("console {:?}", e.params.Type)).filter(|t| t.contains("Error"))
                    }
                    _ => None,
                };
                if let Some(m) = message {
                    sink.lock().unwrap().push(m);
                }
            },
        ))
        .unwrap();
        let url = format!("file://{}", out.join("report.html").display());
        tab.navigate_to(&url)
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let probe = tab.evaluate(PROBE, false).unwrap();
        let text = probe
            .value
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap();
        let seen: Seen = serde_json::from_str(&text).unwrap();
        assert!(!seen.charts.is_empty(), "{name}: no chart in the DOM");
        // The whole page at scale 1, beyond the window: CSS pixels are the PNG's pixels.
        use headless_chrome::protocol::cdp::Page;
        let png = tab
            .call_method(Page::CaptureScreenshot {
                format: Some(Page::CaptureScreenshotFormatOption::Png),
                quality: None,
                clip: Some(Page::Viewport {
                    x: 0.0,
                    y: 0.0,
                    width: seen.width,
                    height: seen.height,
                    scale: 1.0,
                }),
                from_surface: Some(true),
                capture_beyond_viewport: Some(true),
                optimize_for_speed: None,
            })
            .unwrap()
            .data;
        let png = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, png).unwrap();
        std::fs::write(screenshots.join(format!("{name}.png")), &png).unwrap();
        let screenshot = Screenshot::decode(&png);
        for chart in &seen.charts {
            assert!(
                chart.width > 300.0 && chart.height > 150.0,
                "{name}: chart {} is {}×{}",
                chart.name,
                chart.width,
                chart.height
            );
            assert!(
                chart.shapes > 10,
                "{name}: chart {} draws {} shapes",
                chart.name,
                chart.shapes
            );
            let (inked, colours) = screenshot.ink(chart);
            assert!(
                inked > 2_000 && colours > 3,
                "{name}: chart {} renders {inked} inked pixels in {colours} colours",
                chart.name
            );
        }
        check_numbers(name, &out, &seen.numbers);
        let errors = errors.lock().unwrap().clone();
        assert!(errors.is_empty(), "{name}: console errors {errors:?}");
        tab.close(false).unwrap();
    }
}

#[test]
fn shown_numbers_are_read_to_the_digits_shown() {
    assert_eq!(shown_number("1,234 USD"), Some((1234.0, 0.5)));
    let (v, half) = shown_number("12.35% ± 0.10%").unwrap();
    assert!((v - 0.1235).abs() < 1e-12 && (half - 0.00005).abs() < 1e-12);
    assert_eq!(shown_number("m ≥ 1"), Some((1.0, 0.5)));
    assert_eq!(shown_number("2.060×"), Some((2.06, 0.0005)));
    assert_eq!(shown_number("–"), None);
}
