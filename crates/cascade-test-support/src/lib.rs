//! Scenario fixtures for the cascade crates' integration tests: start from a shipped example
//! (`examples/*.toml`) or a named base (`fixtures/*.toml` in this crate), change what the test is
//! about with a few edits, then load, build or run it.
//!
//! ```ignore
//! use cascade_test_support::Fixture;
//!
//! let run = Fixture::example("uniform-wall")
//!     .set("simulation.steps", 3)
//!     .set_raw("venues[0].impact", r#"{ model = "linear", usd_per_unit = 0.02 }"#)
//!     .run();
//! assert_eq!(run.timeline.rows.len(), 4);
//! ```
//!
//! Edits address a value by a dotted path with indices for arrays, the same paths as the
//! scenario's error messages: `simulation.steps`, `protocols[0].liquidation.bonus`,
//! `positions[1].collateral.total`. They go through `toml_edit`, so everything not edited keeps
//! its text, comments and line. A test about the exact text of a scenario (line numbers in
//! messages, syntax errors) takes [`Fixture::text`] and edits that.
//!
//! Used only as a dev-dependency; not published.

#![allow(clippy::missing_panics_doc)] // every function panics on a broken fixture, by design

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cascade_analytics::{RunInfo, Summary, Timeline, summarize, timeline};
use cascade_engine::{Event, World};
use cascade_scenario::{Scenario, ScenarioError};
use toml_edit::{DocumentMut, Item, Table, TableLike, Value};

/// The repository root.
#[must_use]
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// A scenario under construction: a TOML document, the file name its messages give and the
/// directory its data files are read from.
#[derive(Clone)]
pub struct Fixture {
    document: DocumentMut,
    file: PathBuf,
    base_dir: PathBuf,
}

impl fmt::Debug for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fixture({})", self.file.display())
    }
}

impl Fixture {
    /// `examples/<name>.toml` of the repository (`.toml` may be given or left out); data files
    /// are read relative to `examples/`, as `cascade run examples/<name>.toml` reads them.
    #[must_use]
    pub fn example(name: &str) -> Self {
        let file = repo()
            .join("examples")
            .join(Path::new(name).with_extension("toml"));
        let text = fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        Self::parsed(&text, file.clone(), repo().join("examples"))
    }

    /// A named base scenario, `fixtures/<name>.toml` of this crate; data files are read relative
    /// to the repository root. Each file says what it holds and which tests start from it.
    #[must_use]
    pub fn named(name: &str) -> Self {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(Path::new(name).with_extension("toml"));
        let text = fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("no fixture {name} ({}): {e}", file.display()));
        Self::parsed(&text, PathBuf::from(format!("{name}.toml")), repo())
    }

    /// Scenario text given whole, named `test.toml`; data files are read relative to the
    /// repository root.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        Self::parsed(text, PathBuf::from("test.toml"), repo())
    }

    fn parsed(text: &str, file: PathBuf, base_dir: PathBuf) -> Self {
        let document = text
            .parse::<DocumentMut>()
            .unwrap_or_else(|e| panic!("{} is not TOML: {e}", file.display()));
        Self {
            document,
            file,
            base_dir,
        }
    }

    /// Sets the value at `path` (replacing it, or adding the key to an existing table).
    #[must_use]
    pub fn set(mut self, path: &str, value: impl Into<Scalar>) -> Self {
        let value = value.into().0;
        self.put(path, value);
        self
    }

    /// Sets the value at `path` to `toml`, a TOML value written out: `"{ model = \"gbm\",
    /// drift = 0.0, volatility = 1.5 }"`, `"[[0, 2000.0], [60, 1900.0]]"`, `"\"last\""`.
    #[must_use]
    pub fn set_raw(mut self, path: &str, toml: &str) -> Self {
        let value = toml
            .parse::<Value>()
            .unwrap_or_else(|e| panic!("set_raw({path:?}): {toml:?} is not a TOML value: {e}"));
        self.put(path, value);
        self
    }

    /// Removes the key or array element at `path`, which must exist.
    #[must_use]
    pub fn remove(mut self, path: &str) -> Self {
        let segments = segments(path);
        let (last, parents) = segments.split_last().expect("a non-empty path");
        let parent = walk(Node::Table(self.document.as_table_mut()), parents, path);
        let removed = match (parent, last) {
            (parent, Segment::Key(key)) => table_like(parent, path).remove(key).is_some(),
            (Node::Item(Item::ArrayOfTables(tables)), Segment::Index(i)) if *i < tables.len() => {
                tables.remove(*i);
                true
            }
            (
                Node::Item(Item::Value(Value::Array(array))) | Node::Value(Value::Array(array)),
                Segment::Index(i),
            ) if *i < array.len() => {
                let removed = array.remove(*i);
                if let Some(next) = array.get_mut(*i) {
                    // The next element takes the removed one's place and its leading space.
                    *next.decor_mut() = removed.decor().clone();
                }
                true
            }
            _ => false,
        };
        assert!(
            removed,
            "remove({path:?}): nothing there in {}",
            self.file.display()
        );
        self
    }

    /// Appends TOML text (sections such as `[[shocks]]` or `[chain]`) at the end of the file.
    #[must_use]
    pub fn append(self, toml: &str) -> Self {
        let text = format!("{}\n\n{}\n", self.text().trim_end(), toml.trim());
        Self::parsed(&text, self.file, self.base_dir)
    }

    /// The scenario text as edited.
    #[must_use]
    pub fn text(&self) -> String {
        self.document.to_string()
    }

    /// The file name messages give: the example's path, `<name>.toml` or `test.toml`.
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Parses and validates the scenario.
    ///
    /// # Errors
    /// The scenario's problems, as `cascade validate` reports them.
    pub fn load(&self) -> Result<Scenario, ScenarioError> {
        cascade_scenario::from_str(&self.text(), &self.file, &self.base_dir)
    }

    /// The validated scenario; panics with the problems if it is invalid.
    #[must_use]
    pub fn scenario(&self) -> Scenario {
        self.load()
            .unwrap_or_else(|e| panic!("{} does not validate:\n{e}", self.file.display()))
    }

    /// The scenario's world, ready for an engine.
    #[must_use]
    pub fn world(&self) -> Arc<World> {
        Arc::new(self.scenario().world)
    }

    /// Runs path 0 of the scenario and folds its events into the summary and the timeline.
    #[must_use]
    pub fn run(&self) -> Run {
        run(self.scenario())
    }

    /// Writes the scenario text to `path` (for tests of the command, which reads files; data
    /// files are then read relative to the file's directory).
    pub fn write_to(&self, path: &Path) {
        fs::write(path, self.text())
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    fn put(&mut self, path: &str, value: Value) {
        let segments = segments(path);
        let (last, parents) = segments.split_last().expect("a non-empty path");
        let parent = walk(Node::Table(self.document.as_table_mut()), parents, path);
        match (parent, last) {
            (parent, Segment::Key(key)) => {
                let table = table_like(parent, path);
                match table.get_mut(key) {
                    Some(Item::Value(old)) => replace(old, value),
                    Some(other) => *other = Item::Value(value),
                    None => {
                        table.insert(key, Item::Value(value));
                    }
                }
            }
            (
                Node::Item(Item::Value(Value::Array(array))) | Node::Value(Value::Array(array)),
                Segment::Index(i),
            ) if *i < array.len() => {
                replace(array.get_mut(*i).expect("in range"), value);
            }
            _ => panic!("set({path:?}): no such place to set a value"),
        }
    }
}

/// A value for [`Fixture::set`]: integers, floats, strings and booleans.
#[derive(Clone, Debug)]
pub struct Scalar(Value);

macro_rules! scalar_from {
    ($($t:ty => $convert:expr),* $(,)?) => {
        $(impl From<$t> for Scalar {
            fn from(value: $t) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Self(Value::from(($convert)(value)))
            }
        })*
    };
}

scalar_from! {
    i32 => i64::from,
    i64 => |v| v,
    u32 => i64::from,
    u64 => |v: u64| i64::try_from(v).expect("an integer TOML can hold"),
    f64 => |v| v,
    bool => |v| v,
    &str => |v| v,
    String => |v| v,
}

/// Replaces a value, keeping the space and comments around it.
fn replace(old: &mut Value, new: Value) {
    let decor = old.decor().clone();
    *old = new;
    *old.decor_mut() = decor;
}

/// One step of a path: a key, or an index into an array.
enum Segment {
    Key(String),
    Index(usize),
}

/// `a.b[2].c` → a, b, 2, c.
fn segments(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        assert!(!key.is_empty(), "path {path:?}: an empty key");
        out.push(Segment::Key(key.to_string()));
        while !rest.is_empty() {
            let (index, after) = rest
                .split_once(']')
                .unwrap_or_else(|| panic!("path {path:?}: an unclosed ["));
            out.push(Segment::Index(index.parse().unwrap_or_else(|_| {
                panic!("path {path:?}: {index:?} is not an index")
            })));
            rest = after.strip_prefix('[').unwrap_or(after);
            assert!(
                after.is_empty() || after.starts_with('['),
                "path {path:?}: text after ]"
            );
        }
    }
    out
}

/// A place in the document: a top-level or array-of-tables table, an item, or a value inside
/// an inline array.
enum Node<'a> {
    Table(&'a mut Table),
    Item(&'a mut Item),
    Value(&'a mut Value),
}

fn walk<'a>(mut node: Node<'a>, segments: &[Segment], path: &str) -> Node<'a> {
    for segment in segments {
        node = match (node, segment) {
            (node, Segment::Key(key)) => Node::Item(
                table_like(node, path)
                    .get_mut(key)
                    .unwrap_or_else(|| panic!("path {path:?}: no key {key:?}")),
            ),
            (Node::Item(Item::ArrayOfTables(tables)), Segment::Index(i)) => Node::Table(
                tables
                    .get_mut(*i)
                    .unwrap_or_else(|| panic!("path {path:?}: no element {i}")),
            ),
            (
                Node::Item(Item::Value(Value::Array(array))) | Node::Value(Value::Array(array)),
                Segment::Index(i),
            ) => Node::Value(
                array
                    .get_mut(*i)
                    .unwrap_or_else(|| panic!("path {path:?}: no element {i}")),
            ),
            (_, Segment::Index(i)) => panic!("path {path:?}: [{i}] of something not an array"),
        };
    }
    node
}

fn table_like<'a>(node: Node<'a>, path: &str) -> &'a mut dyn TableLike {
    let table: Option<&'a mut dyn TableLike> = match node {
        Node::Table(table) => Some(table),
        Node::Item(item) => item.as_table_like_mut(),
        Node::Value(value) => value.as_inline_table_mut().map(|t| t as &mut dyn TableLike),
    };
    table.unwrap_or_else(|| panic!("path {path:?}: a key of something not a table"))
}

/// `value` rounded to `digits` significant decimal digits, for golden figures in snapshots:
/// the nearest `f64` to the rounded decimal, so that it prints as that decimal.
#[must_use]
pub fn significant(value: f64, digits: usize) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    format!("{value:.*e}", digits.saturating_sub(1))
        .parse()
        .expect("a float")
}

/// A completed run of path 0 with its measures.
pub struct Run {
    /// The world that ran.
    pub world: Arc<World>,
    /// Every event of the run, in order.
    pub events: Vec<Event>,
    /// The run's summary (summary.json).
    pub summary: Summary,
    /// The run's timeline (timeline.csv).
    pub timeline: Timeline,
}

impl Run {
    /// The timeline column `name`, one value per step (step 0 included).
    #[must_use]
    pub fn column(&self, name: &str) -> Vec<f64> {
        let c = self
            .timeline
            .columns
            .iter()
            .position(|column| column == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.timeline.columns));
        self.timeline.rows.iter().map(|row| row[c]).collect()
    }
}

/// Runs a validated scenario on path 0 (`cascade_engine::trail`) and folds its events.
#[must_use]
pub fn run(scenario: Scenario) -> Run {
    let info = RunInfo {
        hash: scenario.hash.clone(),
        description: scenario.description.clone(),
        warnings: scenario.warnings.clone(),
        ..RunInfo::default()
    };
    let world = Arc::new(scenario.world);
    let events = cascade_engine::trail(&world, 0);
    let summary = summarize(&world, &info, &events);
    let timeline = timeline(&world, &events);
    Run {
        world,
        events,
        summary,
        timeline,
    }
}

/// Parses and validates scenario text, as it stands, named `test.toml`; data files relative to
/// the repository root. Unlike [`Fixture::from_text`] the text need not be TOML.
///
/// # Errors
/// The scenario's problems.
pub fn load_str(text: &str) -> Result<Scenario, ScenarioError> {
    cascade_scenario::from_str(text, Path::new("test.toml"), &repo())
}

/// Loads scenario text and runs it, panicking with the problems if it is invalid.
#[must_use]
pub fn run_str(text: &str) -> Run {
    run(load_str(text).unwrap_or_else(|e| panic!("scenario invalid:\n{e}")))
}

/// Loads `examples/<name>.toml` exactly as `cascade run` does (`cascade_scenario::load`).
#[must_use]
pub fn load_example(name: &str) -> Scenario {
    let path = repo()
        .join("examples")
        .join(Path::new(name).with_extension("toml"));
    cascade_scenario::load(&path).unwrap_or_else(|e| panic!("{name} does not validate:\n{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crate_example_runs() {
        let run = Fixture::example("uniform-wall")
            .set("simulation.steps", 3)
            .set_raw(
                "venues[0].impact",
                r#"{ model = "linear", usd_per_unit = 0.02 }"#,
            )
            .run();
        assert_eq!(run.timeline.rows.len(), 4);
        assert_eq!(run.column("step"), [0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn an_unedited_example_is_its_file_and_loads_as_the_command_loads_it() {
        let fixture = Fixture::example("order-book-file.toml");
        let file = repo().join("examples/order-book-file.toml");
        assert_eq!(fixture.text(), fs::read_to_string(&file).expect("readable"));
        assert_eq!(
            fixture.scenario().hash,
            load_example("order-book-file").hash
        );
    }

    #[test]
    fn edits_reach_tables_arrays_of_tables_inline_tables_and_arrays() {
        let text = Fixture::from_text(
            "[simulation]\nsteps = 4 # four\n\n[[assets]]\nsymbol = \"ETH\"\n\
             driver = { model = \"path\", points = [[0, 1.0], [60, 2.0]] }\n\n\
             [[assets]]\nsymbol = \"USDC\"\n",
        )
        .set("simulation.steps", 5)
        .set("simulation.seed", 9_u64)
        .set("assets[0].driver.points[1][1]", 3.5)
        .set("assets[0].driver.model", "path")
        .set_raw("assets[1].price", "1.0")
        .remove("assets[0].driver.points[0]")
        .append("[[shocks]]\nasset = \"ETH\"\nstep = 1\ndrop = 0.1")
        .text();
        let parsed: toml_edit::DocumentMut = text.parse().expect("TOML");
        assert_eq!(parsed["simulation"]["steps"].as_integer(), Some(5));
        assert_eq!(parsed["simulation"]["seed"].as_integer(), Some(9));
        assert!(text.contains("steps = 5 # four"), "{text}");
        assert!(text.contains("points = [[60, 3.5]]"), "{text}");
        assert_eq!(parsed["assets"][1]["price"].as_float(), Some(1.0));
        assert_eq!(parsed["shocks"][0]["drop"].as_float(), Some(0.1));
        let removed = Fixture::from_text(&text)
            .remove("assets[1]")
            .remove("simulation.seed");
        let parsed: toml_edit::DocumentMut = removed.text().parse().expect("TOML");
        assert_eq!(
            parsed["assets"].as_array_of_tables().map(|a| a.len()),
            Some(1)
        );
        assert!(parsed["simulation"].get("seed").is_none());
    }

    #[test]
    fn significant_digits_print_as_written() {
        assert_eq!(
            significant(6_712_158.433_140_815, 9).to_string(),
            "6712158.43"
        );
        assert_eq!(
            significant(100.282_913_362_752_67, 9).to_string(),
            "100.282913"
        );
        assert_eq!(
            significant(100.282_913_562_752_67, 9).to_string(),
            "100.282914"
        );
        assert_eq!(
            significant(-0.000_123_456_789_12, 3).to_string(),
            "-0.000123"
        );
        assert_eq!(significant(0.0, 9), 0.0);
    }

    #[test]
    #[should_panic(expected = "no key \"nowhere\"")]
    fn an_edit_of_a_missing_table_is_a_mistake_of_the_test() {
        let _ = Fixture::example("uniform-wall").set("nowhere.steps", 1);
    }

    #[test]
    fn every_named_fixture_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut names: Vec<String> = fs::read_dir(&dir)
            .expect("fixtures/")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| {
                p.file_stem()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        assert!(!names.is_empty());
        for name in names {
            let fixture = Fixture::named(&name);
            assert!(fixture.text().starts_with("# "), "{name}: say what it is");
            let _ = fixture.scenario();
        }
    }
}
