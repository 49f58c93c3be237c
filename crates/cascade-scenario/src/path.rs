//! Field paths (`protocols[0].collateral.ETH.ltv`) and where they are in the TOML text.

use std::fmt;

/// One segment of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A path to a field of the scenario file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// A child key.
    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_string()));
        next
    }

    /// An array element.
    pub fn at(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Finds the line of a field in the TOML text, for errors found after parsing.
pub struct Locator<'a> {
    text: &'a str,
    document: Option<toml_edit::Document<&'a str>>,
}

/// A position in the parsed document: toml_edit keeps tables of arrays, items and values apart.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a toml_edit::Item),
    Table(&'a toml_edit::Table),
    Value(&'a toml_edit::Value),
}

impl<'a> Node<'a> {
    fn span(self) -> Option<std::ops::Range<usize>> {
        match self {
            Node::Item(i) => i.span(),
            Node::Table(t) => t.span(),
            Node::Value(v) => v.span(),
        }
    }

    fn child(self, segment: &Segment) -> Option<Node<'a>> {
        match segment {
            Segment::Key(k) => {
                let table: &dyn toml_edit::TableLike = match self {
                    Node::Item(i) => i.as_table_like()?,
                    Node::Table(t) => t,
                    Node::Value(v) => v.as_inline_table()?,
                };
                table.get(k).map(Node::Item)
            }
            Segment::Index(n) => match self {
                Node::Item(toml_edit::Item::ArrayOfTables(a)) => a.get(*n).map(Node::Table),
                Node::Item(toml_edit::Item::Value(toml_edit::Value::Array(a)))
                | Node::Value(toml_edit::Value::Array(a)) => a.get(*n).map(Node::Value),
                _ => None,
            },
        }
    }
}

impl<'a> Locator<'a> {
    /// A locator over `text`.
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            document: toml_edit::Document::parse(text).ok(),
        }
    }

    /// The 1-based line of `path`, or of its nearest ancestor that has a position.
    pub fn line(&self, path: &FieldPath) -> Option<usize> {
        let document = self.document.as_ref()?;
        let mut node = Node::Item(document.as_item());
        let mut best = None;
        for segment in &path.0 {
            match node.child(segment) {
                Some(next) => {
                    node = next;
                    if let Some(span) = node.span() {
                        best = Some(span.start);
                    }
                }
                None => break,
            }
        }
        best.map(|offset| self.line_of(offset))
    }

    /// The value at `path` as written in the text, when `path` names a value (not a table) that
    /// fits on one short line.
    pub fn value_text(&self, path: &FieldPath) -> Option<&'a str> {
        let document = self.document.as_ref()?;
        let mut node = Node::Item(document.as_item());
        for segment in &path.0 {
            node = node.child(segment)?;
        }
        if !matches!(node, Node::Value(_) | Node::Item(toml_edit::Item::Value(_))) {
            return None;
        }
        let text = self.text.get(node.span()?)?.trim();
        (!text.is_empty() && text.len() <= 80 && !text.contains('\n')).then_some(text)
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_fields_in_tables_arrays_and_inline_tables() {
        let text = "[simulation]\nname = \"x\"\n\n[[venues]]\nname = \"a\"\n\n[[venues]]\nname = \"b\"\nimpact = { model = \"linear\", usd_per_unit = 1 }\nlevels = [[1, 2],\n  [3, 4]]\n";
        let locator = Locator::new(text);
        let root = FieldPath::root();
        assert_eq!(locator.line(&root.key("simulation").key("name")), Some(2));
        assert_eq!(locator.line(&root.key("venues").at(1).key("name")), Some(8));
        assert_eq!(
            locator.line(&root.key("venues").at(1).key("impact").key("usd_per_unit")),
            Some(9)
        );
        assert_eq!(
            locator.line(&root.key("venues").at(1).key("levels").at(1)),
            Some(11)
        );
        // A missing field falls back to its nearest ancestor.
        assert_eq!(
            locator.line(&root.key("venues").at(1).key("impact").key("fee")),
            Some(9)
        );
        assert_eq!(
            locator.value_text(&root.key("venues").at(1).key("impact").key("usd_per_unit")),
            Some("1")
        );
        assert_eq!(
            locator.value_text(&root.key("venues").at(1).key("levels").at(0)),
            Some("[1, 2]")
        );
        // Tables, multi-line values and missing fields have no value text.
        assert_eq!(locator.value_text(&root.key("simulation")), None);
        assert_eq!(
            locator.value_text(&root.key("venues").at(1).key("levels")),
            None
        );
        assert_eq!(
            locator.value_text(&root.key("venues").at(1).key("fee")),
            None
        );
        assert_eq!(
            root.key("venues").at(1).key("impact").to_string(),
            "venues[1].impact"
        );
    }
}
