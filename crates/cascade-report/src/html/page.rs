//! The page: a header (what was run, with seed, hash and version), a contents list, sections of
//! facts, charts and tables, written as one HTML file with its style inline and no script. A
//! Content-Security-Policy forbids every fetch, so the page provably opens offline.
//!
//! Every number that comes from an output file carries where it came from: `data-source` (the
//! file), `data-pointer` (an RFC 6901 JSON pointer into it, or `row/column` for a CSV) and
//! `data-value` (the exact value, shortest round-trip form). The browser test reads them back
//! and checks the page against the files.

use std::fmt::Write as _;

use super::chart::Chart;

/// Where a shown number comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Source {
    /// The output file, relative to the report's folder (`summary.json`).
    pub file: String,
    /// A JSON pointer into it (`/bad_debt_usd`).
    pub pointer: String,
    /// The value there.
    pub value: f64,
}

/// A value as the page shows it, with its source when it is one of the files' numbers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Shown {
    pub text: String,
    pub source: Option<Source>,
}

impl Shown {
    /// Text with no source (a name, a label, a derived figure).
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            source: None,
        }
    }

    /// `value` of `file` at `pointer`, written by `format`.
    pub fn number(file: &str, pointer: &str, value: f64, format: fn(f64) -> String) -> Self {
        Self {
            text: format(value),
            source: Some(Source {
                file: file.to_string(),
                pointer: pointer.to_string(),
                value,
            }),
        }
    }
}

/// A labelled headline figure.
#[derive(Clone, Debug)]
pub(crate) struct Fact {
    pub label: String,
    pub shown: Shown,
    /// Drawn as an alarm (bad debt above zero, a spiral).
    pub alarm: bool,
}

/// A table with a header row.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Row>,
}

/// A table row, with an anchor when other parts of the page link to it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Row {
    pub id: Option<String>,
    pub cells: Vec<Shown>,
}

/// A block of a section.
#[derive(Clone, Debug)]
pub(crate) enum Block {
    /// A paragraph.
    Text(String),
    /// A paragraph drawn as a warning.
    Warning(String),
    /// Headline figures.
    Facts(Vec<Fact>),
    /// A chart with a caption saying how to read it.
    Chart { chart: Chart, caption: String },
    /// A table.
    Table(Table),
    /// A command to copy (a replay of a path).
    Code(String),
}

/// A section with an anchor.
#[derive(Clone, Debug)]
pub(crate) struct Section {
    pub id: String,
    pub heading: String,
    pub blocks: Vec<Block>,
}

impl Section {
    pub fn new(id: &str, heading: &str) -> Self {
        Self {
            id: id.to_string(),
            heading: heading.to_string(),
            blocks: Vec::new(),
        }
    }

    pub fn push(&mut self, block: Block) -> &mut Self {
        self.blocks.push(block);
        self
    }
}

/// A whole page.
#[derive(Clone, Debug, Default)]
pub(crate) struct Page {
    pub title: String,
    /// What kind of output this is ("Scenario run", "Monte Carlo", …).
    pub kind: String,
    /// The header's facts: scenario, seed, hash, version.
    pub header: Vec<(String, Shown)>,
    pub sections: Vec<Section>,
}

const STYLE: &str = "
:root{--ink:#1d2433;--muted:#5b6475;--line:#d9dde5;--alarm:#b42318;--accent:#0072b2;--bg:#fafbfc}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:24px 40px}
header h1{margin:0 0 2px;font-size:26px}
header .kind{margin:0 0 12px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-size:12px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0;font-size:13px}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
nav{padding:10px 40px;background:#fff;border-bottom:1px solid var(--line);font-size:13px}
nav a{color:var(--accent);margin-right:14px;text-decoration:none}
main{max-width:1100px;margin:0 auto;padding:8px 40px 40px}
section{margin-top:28px}
h2{font-size:20px;border-bottom:2px solid var(--ink);padding-bottom:4px}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px}
.fact{background:#fff;border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.fact .label{font-size:12px;color:var(--muted)}
.fact .value{font-size:19px;font-weight:600;font-variant-numeric:tabular-nums}
.fact.alarm .value{color:var(--alarm)}
figure.chart{background:#fff;border:1px solid var(--line);border-radius:6px;margin:14px 0;padding:12px}
figure.chart figcaption{font-weight:600;margin-bottom:6px}
figure.chart svg{display:block;width:100%;max-width:980px;height:auto}
figure.chart p{margin:6px 0 0;color:var(--muted);font-size:13px}
.table{overflow-x:auto}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:10px 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#f0f2f5}th:first-child,td:first-child{text-align:left}
tr:target{background:#fff4cc}
.warning{border-left:4px solid var(--alarm);background:#fff;padding:8px 12px}
pre{background:#fff;border:1px solid var(--line);padding:8px 12px;overflow-x:auto}
footer{max-width:1100px;margin:0 auto;padding:0 40px 40px;color:var(--muted);font-size:12px}
@media print{nav{display:none}header,main,footer{padding-left:0;padding-right:0}figure.chart,.fact,table{break-inside:avoid}}
";

/// `text` escaped for HTML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The attributes that say where a shown number comes from (empty without a source).
fn source_attributes(shown: &Shown) -> String {
    match &shown.source {
        Some(s) => format!(
            " data-source=\"{}\" data-pointer=\"{}\" data-value=\"{}\"",
            escape(&s.file),
            escape(&s.pointer),
            s.value
        ),
        None => String::new(),
    }
}

fn write_facts(out: &mut String, facts: &[Fact]) {
    out.push_str("<div class=\"facts\">");
    for fact in facts {
        let _ = write!(
            out,
            "<div class=\"fact{}\"><div class=\"label\">{}</div><div class=\"value\"{}>{}</div></div>",
            if fact.alarm { " alarm" } else { "" },
            escape(&fact.label),
            source_attributes(&fact.shown),
            escape(&fact.shown.text)
        );
    }
    out.push_str("</div>\n");
}

fn write_table(out: &mut String, table: &Table) {
    out.push_str("<div class=\"table\"><table><thead><tr>");
    for head in &table.head {
        let _ = write!(out, "<th>{}</th>", escape(head));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &table.rows {
        match &row.id {
            Some(id) => {
                let _ = write!(out, "<tr id=\"{}\">", escape(id));
            }
            None => out.push_str("<tr>"),
        }
        for cell in &row.cells {
            let _ = write!(
                out,
                "<td{}>{}</td>",
                source_attributes(cell),
                escape(&cell.text)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

fn write_block(out: &mut String, block: &Block) {
    match block {
        Block::Text(text) => {
            let _ = writeln!(out, "<p>{}</p>", escape(text));
        }
        Block::Warning(text) => {
            let _ = writeln!(out, "<p class=\"warning\">{}</p>", escape(text));
        }
        Block::Facts(facts) => write_facts(out, facts),
        Block::Chart { chart, caption } => {
            let _ = writeln!(
                out,
                "<figure class=\"chart\" data-chart=\"{}\"><figcaption>{}</figcaption>{}<p>{}</p></figure>",
                escape(&chart.name),
                escape(&chart.title),
                chart.svg,
                escape(caption)
            );
        }
        Block::Table(table) => write_table(out, table),
        Block::Code(code) => {
            let _ = writeln!(out, "<pre><code>{}</code></pre>", escape(code));
        }
    }
}

impl Page {
    /// The whole HTML document.
    pub fn html(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
             <meta name=\"generator\" content=\"{tool} {version} (output schema {schema})\">\n\
             <title>{title} — cascade</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            tool = crate::PRODUCER.tool,
            version = crate::PRODUCER.version,
            schema = crate::PRODUCER.schema,
            title = escape(&self.title),
        );
        let _ = write!(
            out,
            "<header><p class=\"kind\">{}</p><h1>{}</h1><dl class=\"meta\">",
            escape(&self.kind),
            escape(&self.title)
        );
        for (label, shown) in &self.header {
            let _ = write!(
                out,
                "<dt>{}</dt><dd{}>{}</dd>",
                escape(label),
                source_attributes(shown),
                escape(&shown.text)
            );
        }
        out.push_str("</dl></header>\n<nav>");
        for section in &self.sections {
            let _ = write!(
                out,
                "<a href=\"#{}\">{}</a>",
                escape(&section.id),
                escape(&section.heading)
            );
        }
        out.push_str("</nav>\n<main>\n");
        for section in &self.sections {
            let _ = writeln!(
                out,
                "<section id=\"{}\"><h2>{}</h2>",
                escape(&section.id),
                escape(&section.heading)
            );
            for block in &section.blocks {
                write_block(&mut out, block);
            }
            out.push_str("</section>\n");
        }
        let _ = write!(
            out,
            "</main>\n<footer>Written by {} {} (output schema {}) from the output files in this \
             folder. Every chart is also an SVG file with <code>--charts DIR</code>.</footer>\n\
             </body>\n</html>\n",
            crate::PRODUCER.tool,
            crate::PRODUCER.version,
            crate::PRODUCER.schema
        );
        out
    }

    /// Every chart of the page, in page order.
    pub fn charts(&self) -> impl Iterator<Item = &Chart> {
        self.sections
            .iter()
            .flat_map(|s| s.blocks.iter())
            .filter_map(|b| match b {
                Block::Chart { chart, .. } => Some(chart),
                Block::Text(_)
                | Block::Warning(_)
                | Block::Facts(_)
                | Block::Table(_)
                | Block::Code(_) => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_numbers_carry_their_source() {
        let mut section = Section::new("losses", "Losses <&>");
        section.push(Block::Facts(vec![Fact {
            label: "Bad debt".into(),
            shown: Shown::number(
                "summary.json",
                "/bad_debt_usd",
                1234.6,
                super::super::format::usd,
            ),
            alarm: true,
        }]));
        let page = Page {
            title: "a \"crash\"".into(),
            kind: "Scenario run".into(),
            header: vec![],
            sections: vec![section],
        };
        let html = page.html();
        assert!(html.contains("Losses &lt;&amp;&gt;"));
        assert!(html.contains("a &quot;crash&quot;"));
        assert!(html.contains(
            "data-source=\"summary.json\" data-pointer=\"/bad_debt_usd\" data-value=\"1234.6\">1,235 USD<"
        ));
        assert!(html.contains("default-src 'none'"));
        assert!(!html.contains("<script"));
    }
}
