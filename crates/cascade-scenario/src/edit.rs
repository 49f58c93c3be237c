//! Edits of a scenario file's text by field path, for `cascade stress`: the value at
//! `protocols.lender.liquidation.bonus` or `shocks[0].drop` replaced, the rest of the file (its
//! comments, layout and every other value) kept as written.
//!
//! A path is the one validation messages print (`protocols[0].liquidation.bonus`), where an
//! element of an array of named sections may also be named instead of numbered
//! (`protocols.lender`, `venues.spot`, `oracles.eth-usd`; assets by `symbol`). The path must lead
//! through sections and tables that exist; its last key may be new (an optional key the file
//! leaves out), which validation of the edited file then accepts or rejects by the schema.

use toml_edit::{DocumentMut, Item, Table, Value};

/// Why an edit could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct EditError {
    /// The path as given.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Why `KEY=VALUE` overrides (`cascade run --set`, `set=` from Python) could not be written into
/// a scenario's text.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SetError {
    /// The text is not TOML.
    #[error("{0}")]
    Syntax(toml_edit::TomlError),
    /// An override without `=`.
    #[error("--set {0:?}: expected KEY=VALUE (a field path, then its value)")]
    NotKeyValue(String),
    /// An override with an empty key or value.
    #[error("--set {0:?}: a key and a value are needed")]
    Empty(String),
    /// A key that does not lead through the file's sections and tables.
    #[error("--set {key}={value}: {reason}")]
    Edit {
        /// The field path, trimmed.
        key: String,
        /// The value as written, trimmed.
        value: String,
        /// What is wrong with the path.
        reason: String,
    },
}

/// `text` with each `KEY=VALUE` of `sets` written in, in order (the field paths of
/// [`ScenarioText::set`]); the rest of the file as written.
///
/// # Errors
/// The first override that cannot be made, or a text that is not TOML.
pub fn with_sets(text: &str, sets: &[String]) -> Result<String, SetError> {
    let mut document = ScenarioText::parse(text).map_err(SetError::Syntax)?;
    for set in sets {
        let Some((key, value)) = set.split_once('=') else {
            return Err(SetError::NotKeyValue(set.clone()));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || value.is_empty() {
            return Err(SetError::Empty(set.clone()));
        }
        document.set(key, value).map_err(|e| SetError::Edit {
            key: key.to_string(),
            value: value.to_string(),
            reason: e.reason,
        })?;
    }
    Ok(document.text())
}

/// One step of a path: a key, or an element of an array by number.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// A scenario file's text, parsed for editing.
#[derive(Clone, Debug)]
pub struct ScenarioText {
    document: DocumentMut,
}

impl ScenarioText {
    /// Parses `text`.
    ///
    /// # Errors
    /// TOML syntax errors, as the parser reports them.
    pub fn parse(text: &str) -> Result<Self, toml_edit::TomlError> {
        Ok(Self {
            document: text.parse()?,
        })
    }

    /// Sets the value at `path` to `value`, written as in a TOML file (`0.05`, `true`,
    /// `"last"`, `[1, 2]`); a bare word that is not TOML (`last`) is taken as a string. A whole
    /// number replacing a decimal is written as a decimal, so `bonus=0` edits `bonus = 0.05`.
    ///
    /// # Errors
    /// A path that does not lead through the file's sections and tables, naming the segment.
    pub fn set(&mut self, path: &str, value: &str) -> Result<(), EditError> {
        let fail = |reason: String| EditError {
            path: path.to_string(),
            reason,
        };
        let segments = segments(path).map_err(fail)?;
        let (last, parents) = segments
            .split_last()
            .ok_or_else(|| fail("an empty path".into()))?;
        let Segment::Key(key) = last else {
            return Err(fail(
                "a path must end with a key, not an element number".into(),
            ));
        };
        let mut node = Node::Table(self.document.as_table_mut());
        let mut walked = String::new();
        for segment in parents {
            node = node
                .child(segment)
                .map_err(|reason| fail(format!("{reason} {}", where_(&walked))))?;
            walked.push_str(&render(segment, walked.is_empty()));
        }
        node.set(key, parse_value(value))
            .map_err(|reason| fail(format!("{reason} {}", where_(&walked))))
    }

    /// The edited text.
    #[must_use]
    pub fn text(&self) -> String {
        self.document.to_string()
    }
}

fn where_(walked: &str) -> String {
    if walked.is_empty() {
        "at the top of the file".into()
    } else {
        format!("under {walked}")
    }
}

fn render(segment: &Segment<'_>, first: bool) -> String {
    match segment {
        Segment::Key(k) if first => (*k).to_string(),
        Segment::Key(k) => format!(".{k}"),
        Segment::Index(i) => format!("[{i}]"),
    }
}

/// Splits `a.b[2].c` into keys and element numbers.
fn segments(path: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() {
            return Err(format!("an empty key in {path:?}"));
        }
        out.push(Segment::Key(key));
        while !rest.is_empty() {
            let end = rest
                .find(']')
                .filter(|_| rest.starts_with('['))
                .ok_or_else(|| format!("{part:?} is not a key followed by [number]s"))?;
            let index = rest[1..end]
                .parse()
                .map_err(|_| format!("{:?} is not an element number", &rest[1..end]))?;
            out.push(Segment::Index(index));
            rest = &rest[end + 1..];
        }
    }
    Ok(out)
}

/// A TOML value from its text; a bare word that does not parse is a string.
fn parse_value(text: &str) -> Value {
    text.trim()
        .parse::<Value>()
        .unwrap_or_else(|_| Value::from(text.trim()))
}

/// Where a path has got to: a table (a section or an inline table) or an array.
enum Node<'a> {
    Table(&'a mut Table),
    Inline(&'a mut toml_edit::InlineTable),
    Tables(&'a mut toml_edit::ArrayOfTables),
    Array(&'a mut toml_edit::Array),
}

impl<'a> Node<'a> {
    fn of_item(item: &'a mut Item) -> Result<Self, String> {
        match item {
            Item::Table(t) => Ok(Node::Table(t)),
            Item::ArrayOfTables(a) => Ok(Node::Tables(a)),
            Item::Value(v) => Node::of_value(v),
            Item::None => Err("nothing".into()),
        }
    }

    fn of_value(value: &'a mut Value) -> Result<Self, String> {
        match value {
            Value::InlineTable(t) => Ok(Node::Inline(t)),
            Value::Array(a) => Ok(Node::Array(a)),
            other => Err(format!("a value ({}), not a table", other.type_name())),
        }
    }

    /// The child at `segment`: a key of a table, an element by number, or the element of an
    /// array of named sections whose `name` (or `symbol`) is the key.
    fn child(self, segment: &Segment<'_>) -> Result<Node<'a>, String> {
        match (self, segment) {
            (Node::Table(t), Segment::Key(k)) => {
                let item = t.get_mut(k).ok_or_else(|| format!("no key {k:?}"))?;
                Node::of_item(item).map_err(|e| format!("{k:?} is {e}"))
            }
            (Node::Inline(t), Segment::Key(k)) => {
                let value = t.get_mut(k).ok_or_else(|| format!("no key {k:?}"))?;
                Node::of_value(value).map_err(|e| format!("{k:?} is {e}"))
            }
            (Node::Tables(a), Segment::Index(i)) => {
                let len = a.len();
                a.get_mut(*i)
                    .map(Node::Table)
                    .ok_or_else(|| format!("no element [{i}] (there are {len})"))
            }
            (Node::Tables(a), Segment::Key(name)) => {
                let names: Vec<String> = a.iter().filter_map(label).collect();
                a.iter_mut()
                    .find(|t| label(t).as_deref() == Some(*name))
                    .map(Node::Table)
                    .ok_or_else(|| {
                        format!("no element named {name:?} (names: {})", names.join(", "))
                    })
            }
            (Node::Array(a), Segment::Index(i)) => {
                let len = a.len();
                let value = a
                    .get_mut(*i)
                    .ok_or_else(|| format!("no element [{i}] (there are {len})"))?;
                Node::of_value(value).map_err(|e| format!("[{i}] is {e}"))
            }
            (Node::Array(_), Segment::Key(k)) => Err(format!(
                "{k:?}: an array's elements are numbered ([0], [1], …)"
            )),
            (Node::Table(_) | Node::Inline(_), Segment::Index(i)) => {
                Err(format!("[{i}]: a table's entries are named, not numbered"))
            }
        }
    }

    /// Sets `key` of this table to `value`.
    fn set(self, key: &str, mut value: Value) -> Result<(), String> {
        match self {
            Node::Table(t) => {
                like(&mut value, t.get(key).and_then(Item::as_value));
                t[key] = Item::Value(value);
            }
            Node::Inline(t) => {
                like(&mut value, t.get(key));
                t.insert(key, value);
            }
            Node::Tables(_) | Node::Array(_) => {
                return Err(format!(
                    "{key:?}: an array's elements are numbered ([0], [1], …)"
                ));
            }
        }
        Ok(())
    }
}

/// Gives `value` the old value's decor (spacing, a trailing comment) and, for a whole number
/// replacing a decimal, the decimal point.
fn like(value: &mut Value, old: Option<&Value>) {
    let Some(old) = old else { return };
    if let (Value::Float(_), Value::Integer(n)) = (old, &*value) {
        *value = Value::from(*n.value() as f64);
    }
    *value.decor_mut() = old.decor().clone();
}

/// The name an element of an array of sections goes by: its `name`, else its `symbol`.
fn label(table: &Table) -> Option<String> {
    ["name", "symbol"]
        .iter()
        .find_map(|k| table.get(k).and_then(Item::as_str).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# a comment
[simulation]
name = "t"

[[venues]]
name = "spot"
impact = { model = "linear", usd_per_unit = 0.5 } # depth

[[protocols]]
name = "lender"
liquidation = { mechanism = "fixed_spread", bonus = 0.05 }

[[shocks]]
asset = "ETH"
drop = 0.3
"#;

    fn edited(path: &str, value: &str) -> Result<String, EditError> {
        let mut t = ScenarioText::parse(TEXT).unwrap();
        t.set(path, value)?;
        Ok(t.text())
    }

    #[test]
    fn sets_by_name_and_by_number_keeping_the_rest() {
        let by_name = edited("protocols.lender.liquidation.bonus", "0.08").unwrap();
        let by_number = edited("protocols[0].liquidation.bonus", "0.08").unwrap();
        assert_eq!(by_name, by_number);
        assert_eq!(by_name, TEXT.replace("bonus = 0.05", "bonus = 0.08"));
        let text = edited("venues.spot.impact.usd_per_unit", "2").unwrap();
        assert_eq!(
            text,
            TEXT.replace("usd_per_unit = 0.5", "usd_per_unit = 2.0")
        );
        let text = edited("shocks[0].drop", "0.45").unwrap();
        assert_eq!(text, TEXT.replace("drop = 0.3", "drop = 0.45"));
        let text = edited("simulation.name", "other").unwrap();
        assert!(text.contains("name = \"other\""), "{text}");
    }

    #[test]
    fn a_missing_last_key_is_added() {
        let text = edited("shocks[0].at_step", "3").unwrap();
        assert!(text.contains("at_step = 3"), "{text}");
    }

    #[test]
    fn a_path_that_does_not_lead_anywhere_names_where_it_stops() {
        let e = edited("protocols.lendr.liquidation.bonus", "0.1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "protocols.lendr.liquidation.bonus: no element named \"lendr\" (names: lender) under protocols"
        );
        let e = edited("shocks[3].drop", "0.1").unwrap_err();
        assert!(e.reason.contains("no element [3] (there are 1)"), "{e}");
        let e = edited("simulaton.seed", "1").unwrap_err();
        assert!(e.reason.contains("no key \"simulaton\" at the top"), "{e}");
        let e = edited("shocks[0].drop.x", "1").unwrap_err();
        assert!(
            e.reason
                .contains("\"drop\" is a value (float), not a table"),
            "{e}"
        );
        assert!(edited("shocks[0]", "1").is_err());
        assert!(edited("shocks[x].drop", "1").is_err());
        assert!(edited("", "1").is_err());
    }
}
