//! The JSON Schema of the scenario file (`cascade schema`): the committed copy,
//! docs/scenario.schema.json, is what the types generate, and every scenario of the repository
//! (examples, benchmarks, test fixtures) validates against it, as an editor would check it.
//!
//! The check is a validator of the keywords the generated schema uses, written here rather than
//! taken from a crate (a full validator adds some 30 crates and 45 s to a test build on two
//! cores); a test fails if the schema starts using a keyword it does not know.

use std::fs;
use std::path::PathBuf;

use serde_json::{Map, Value};

fn repo() -> PathBuf {
    cascade_test_support::repo()
}

/// The schema `cascade schema` prints, parsed.
fn schema() -> Value {
    serde_json::from_str(&cascade_scenario::json_schema()).expect("the schema is JSON")
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let committed = fs::read_to_string(repo().join("docs/scenario.schema.json"))
        .expect("docs/scenario.schema.json");
    assert!(
        committed == cascade_scenario::json_schema(),
        "docs/scenario.schema.json is stale: regenerate it with \
         `cargo run --bin cascade -- schema --out docs/scenario.schema.json`"
    );
}

#[test]
fn the_schema_describes_the_file() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["required"], serde_json::json!(["simulation"]));
    assert_eq!(schema["additionalProperties"], false);
    let simulation = &schema["$defs"]["SimulationSection"];
    assert_eq!(
        simulation["required"],
        serde_json::json!(["name", "seed", "steps", "step_seconds"])
    );
    assert_eq!(
        simulation["properties"]["start_time"]["format"],
        "date-time"
    );
    // Every key of every table has a description, on one line.
    let mut keys = 0;
    for (name, definition) in schema["$defs"].as_object().expect("$defs") {
        for (key, property) in definition["properties"].as_object().into_iter().flatten() {
            let description = property["description"].as_str();
            assert!(
                description.is_some_and(|d| !d.is_empty() && !d.contains('\n')),
                "{name}.{key} has no one-line description"
            );
            keys += 1;
        }
    }
    assert!(keys > 200, "{keys} keys");
}

/// Every scenario file of the repository.
fn scenarios() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [
        "examples",
        "benches",
        "crates/cascade-test-support/fixtures",
    ] {
        for entry in fs::read_dir(repo().join(dir)).expect("a directory") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A TOML document as the JSON an editor's validator sees: a date-time as its text.
fn as_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(t) => Value::String(t.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(as_json).collect()),
        toml::Value::Table(table) => {
            Value::Object(table.into_iter().map(|(k, v)| (k, as_json(v))).collect())
        }
    }
}

#[test]
fn every_scenario_of_the_repository_validates() {
    let schema = schema();
    let files = scenarios();
    assert!(files.len() > 25, "{} files", files.len());
    for file in &files {
        let text = fs::read_to_string(file).expect("readable");
        let document: toml::Value = toml::from_str(&text).expect("TOML");
        let mut problems = Vec::new();
        validate(&schema, &schema, &as_json(document), "", &mut problems);
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            file.display(),
            problems.join("\n")
        );
    }
}

#[test]
fn the_validator_finds_what_an_editor_would_flag() {
    let schema = schema();
    let text = fs::read_to_string(repo().join("examples/uniform-wall.toml")).expect("readable");
    for (edit, expected) in [
        (
            ("steps = 10", "steps = \"ten\""),
            "/simulation/steps: expected integer",
        ),
        (
            ("steps = 10", "steps = 10\ncolour = 1"),
            "/simulation: unknown key colour",
        ),
        (("seed = 7\n", ""), "/simulation: missing seed"),
        (
            ("sell_on = \"spot\"", "sell_on = 3"),
            "/keepers/0/sell_on: no option matches",
        ),
    ] {
        let edited = text.replacen(edit.0, edit.1, 1);
        assert_ne!(edited, text, "{edit:?}");
        let document: toml::Value = toml::from_str(&edited).expect("TOML");
        let mut problems = Vec::new();
        validate(&schema, &schema, &as_json(document), "", &mut problems);
        assert!(
            problems.iter().any(|p| p == expected),
            "{edit:?}: {problems:?}"
        );
    }
}

/// The keywords [`validate`] checks, and those that only describe.
const CHECKED: [&str; 10] = [
    "$ref",
    "type",
    "properties",
    "additionalProperties",
    "required",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "anyOf",
];
const DESCRIBING: [&str; 8] = [
    "$schema",
    "$defs",
    "title",
    "description",
    "format",
    "examples",
    "minimum",
    "default",
];

#[test]
fn the_validator_knows_every_keyword_of_the_schema() {
    fn walk(schema: &Value, path: &str) {
        let Some(object) = schema.as_object() else {
            return;
        };
        for (key, value) in object {
            assert!(
                CHECKED.contains(&key.as_str()) || DESCRIBING.contains(&key.as_str()),
                "{path}: keyword {key} is not checked by this test's validator"
            );
            match key.as_str() {
                "properties" | "$defs" => {
                    for (name, sub) in value.as_object().into_iter().flatten() {
                        walk(sub, &format!("{path}/{key}/{name}"));
                    }
                }
                "anyOf" | "prefixItems" => {
                    for (i, sub) in value.as_array().into_iter().flatten().enumerate() {
                        walk(sub, &format!("{path}/{key}/{i}"));
                    }
                }
                "items" | "additionalProperties" => walk(value, &format!("{path}/{key}")),
                _ => {}
            }
        }
    }
    // `minimum` is only ever 0, on whole numbers, which the parser enforces as well.
    walk(&schema(), "");
}

/// Checks `value` against `schema` (its `$ref`s resolved in `root`), adding a line per problem.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference
            .strip_prefix("#/$defs/")
            .expect("a local reference");
        validate(root, &root["$defs"][name], value, at, problems);
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        let fits = match ty {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            other => panic!("type {other}"),
        };
        if !fits {
            problems.push(format!("{at}: expected {ty}"));
            return;
        }
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let matches = options.iter().any(|option| {
            let mut found = Vec::new();
            validate(root, option, value, at, &mut found);
            found.is_empty()
        });
        if !matches {
            problems.push(format!("{at}: no option matches"));
        }
    }
    if let Value::Object(table) = value {
        validate_table(root, schema, table, at, problems);
    }
    if let Value::Array(items) = value {
        let count = |key: &str| schema.get(key).and_then(Value::as_u64);
        if count("minItems").is_some_and(|n| (items.len() as u64) < n)
            || count("maxItems").is_some_and(|n| (items.len() as u64) > n)
        {
            problems.push(format!("{at}: {} items", items.len()));
        }
        let prefix = schema.get("prefixItems").and_then(Value::as_array);
        for (i, item) in items.iter().enumerate() {
            let item_schema = prefix
                .and_then(|p| p.get(i))
                .or_else(|| schema.get("items"));
            if let Some(item_schema) = item_schema {
                validate(root, item_schema, item, &format!("{at}/{i}"), problems);
            }
        }
    }
}

/// The keys of a table: each known one against its schema, the others against
/// `additionalProperties`, and the required ones present.
fn validate_table(
    root: &Value,
    schema: &Map<String, Value>,
    table: &Map<String, Value>,
    at: &str,
    problems: &mut Vec<String>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    for (key, item) in table {
        let path = format!("{at}/{key}");
        match (
            properties.and_then(|p| p.get(key)),
            schema.get("additionalProperties"),
        ) {
            (Some(property), _) => validate(root, property, item, &path, problems),
            (None, Some(Value::Bool(false))) => problems.push(format!("{at}: unknown key {key}")),
            (None, Some(other)) => validate(root, other, item, &path, problems),
            (None, None) => {}
        }
    }
    for key in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !table.contains_key(key) {
            problems.push(format!("{at}: missing {key}"));
        }
    }
}
