//! The JSON Schema of the scenario file: `cascade schema` prints it and docs/scenario.schema.json
//! is a copy (a test keeps them equal). It is generated from the serde types of [`crate::schema`],
//! so it has their keys, types and required keys, and their doc comments as descriptions; editors
//! with a TOML language server (Taplo) use it for completion, hover and checks as one types.
//!
//! The schema is of the file's shape only: ranges, the keys a model takes, and references between
//! sections are the builder's checks (`cascade validate`).

use schemars::Schema;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use serde_json::Value;

use crate::schema::ScenarioFile;

/// The schema's title.
const TITLE: &str = "cascade scenario";

/// The schema's description, shown by editors for the file as a whole.
const DESCRIPTION: &str = "A liquidation-cascade scenario for cascade (docs/scenario.md): the \
assets and their price drivers, venues, oracles, lending protocols and perp exchanges, positions, \
keepers, shocks and an optional chain. `cascade validate FILE` checks what the schema cannot: \
ranges, the keys each model takes, and names that refer to other sections.";

/// The JSON Schema (draft 2020-12) of the scenario file, pretty-printed and newline-terminated.
pub fn json_schema() -> String {
    let generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings
                .transforms
                .push(Box::new(RecursiveTransform(without_null)));
        })
        .into_generator();
    let mut schema = generator.into_root_schema_for::<ScenarioFile>();
    schema.insert("title".to_string(), TITLE.into());
    schema.insert("description".to_string(), DESCRIPTION.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Removes what an optional key's schema says about `null`: TOML has no null, an optional key is
/// absent. `"type": ["number", "null"]` becomes `"type": "number"`, an `anyOf` of a table and
/// null the table's schema, and a `"default": null` goes. Descriptions become one line each.
fn without_null(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            object.insert("type".to_string(), only);
        }
    }
    if let Some(Value::Array(options)) = object.get_mut("anyOf") {
        options.retain(|o| o.get("type") != Some(&Value::from("null")));
        if options.len() == 1 {
            let only = options.remove(0);
            object.remove("anyOf");
            if let Value::Object(only) = only {
                for (key, value) in only {
                    object.entry(key).or_insert(value);
                }
            }
        }
    }
    if object.get("default") == Some(&Value::Null) {
        object.remove("default");
    }
    // A doc comment's lines, wrapped at 100 columns in the source, are one paragraph.
    if let Some(Value::String(description)) = object.get_mut("description") {
        *description = description.replace('\n', " ");
    }
}
