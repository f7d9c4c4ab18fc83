//! `medee schema`: a JSON Schema of the config file, and the README's
//! configuration reference, both built from the declarations in `raw`.
//!
//! Which keys a table has comes from the raw structs' serde derive (as for
//! `check`'s unknown-key walk), each key's type and whether it is required
//! from reading sample values with that same derive (`probe`), and its
//! description from its `///` comment in `raw.rs` (`docs`). So a key added
//! to a raw struct is in the schema and the reference with its type and text
//! without anything else to edit. Only defaults (from `defaults`) and the few
//! value constraints below are listed here.
//!
//! The schema is draft-07 and uses only keywords that draft-04 has too
//! (`type`, `properties`, `required`, `additionalProperties`, `items`,
//! `enum`, `minimum`, `default`, `description`): Taplo, the TOML language
//! server behind Even Better TOML, implements draft-04.

mod docs;
mod probe;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::defaults;
use super::keys::keys_of;
use super::raw::{RawArticle, RawConfig, RawDaemon, RawFeed, RawSource};
use super::units::{format_duration, format_size};
use probe::Shape;

/// One key of a table, as the schema and the reference show it.
#[derive(Debug, Clone)]
struct Key {
    name: &'static str,
    description: String,
    /// `None` for a type `probe` does not know; the key is then accepted with any value.
    shape: Option<Shape>,
    required: bool,
}

/// The keys of one table, where it sits in the file (`""` for the top
/// level, `"source.article"`), in declaration order.
#[derive(Debug, Clone)]
struct Table {
    path: &'static str,
    keys: Vec<Key>,
}

impl Table {
    /// The table whose keys the raw struct `T` declares.
    fn of<T: DeserializeOwned>(path: &'static str) -> Self {
        let names = keys_of::<T>();
        let required = probe::required_keys::<T>(names);
        // `RawDaemon`: the name its fields' comments are found under in raw.rs.
        let struct_name = std::any::type_name::<T>().rsplit("::").next().unwrap_or("");
        let docs = docs::field_docs(struct_name);
        let keys = names
            .iter()
            .map(|&name| Key {
                name,
                description: docs
                    .iter()
                    .find(|(field, _)| *field == name)
                    .map(|(_, text)| text.clone())
                    .unwrap_or_default(),
                shape: probe::shape_of::<T>(name),
                required: required.contains(&name),
            })
            .collect();
        Self { path, keys }
    }
}

/// Every table of the file: the top level first, then each table by the
/// path of the key that holds it. A new table needs its line here (and in
/// `keys::check_keys`); a new key in a listed table needs nothing.
fn tables() -> [Table; 5] {
    [
        Table::of::<RawConfig>(""),
        Table::of::<RawDaemon>("daemon"),
        Table::of::<RawFeed>("feed"),
        Table::of::<RawSource>("source"),
        Table::of::<RawArticle>("source.article"),
    ]
}

/// The default of each key that has one, as it is written in the file.
fn defaults() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("daemon", "output_dir", json!(defaults::OUTPUT_DIR)),
        ("daemon", "database", json!(defaults::DATABASE)),
        ("daemon", "schedule", json!(defaults::SCHEDULE)),
        ("daemon", "concurrency", json!(defaults::CONCURRENCY)),
        (
            "daemon",
            "per_host_delay",
            json!(format_duration(defaults::PER_HOST_DELAY)),
        ),
        (
            "daemon",
            "timeout",
            json!(format_duration(defaults::TIMEOUT)),
        ),
        ("daemon", "max_body", json!(format_size(defaults::MAX_BODY))),
        ("daemon", "user_agent", json!(defaults::USER_AGENT)),
        (
            "daemon",
            "retention",
            json!(format_duration(defaults::RETENTION)),
        ),
        ("daemon", "max_page_items", json!(defaults::MAX_PAGE_ITEMS)),
        ("daemon", "max_field", json!(byte_size(defaults::MAX_FIELD))),
        (
            "daemon",
            "max_content",
            json!(byte_size(defaults::MAX_CONTENT)),
        ),
        (
            "daemon",
            "max_feed_size",
            json!(byte_size(defaults::MAX_FEED_SIZE)),
        ),
        (
            "daemon",
            "oldest_date",
            json!(defaults::OLDEST_DATE.format("%Y-%m-%d").to_string()),
        ),
        (
            "daemon",
            "max_future",
            json!(format_duration(defaults::MAX_FUTURE)),
        ),
        ("daemon", "health_entries", json!(defaults::HEALTH_ENTRIES)),
        ("daemon", "health_after", json!(defaults::HEALTH_AFTER)),
        (
            "daemon",
            "cluster_threshold",
            json!(crate::cluster::StorySettings::default().threshold),
        ),
        (
            "daemon",
            "cluster_window",
            json!(format_duration(
                crate::cluster::StorySettings::default().window
            )),
        ),
        ("feed", "sources", json!([defaults::FEED_SOURCES])),
        ("feed", "languages", json!([])),
        ("feed", "max_items", json!(defaults::FEED_MAX_ITEMS)),
        ("feed", "cluster", json!(true)),
        ("feed", "prefer", json!([])),
        ("source", "kind", json!(SOURCE_KINDS[0])),
        ("source", "language", json!(defaults::LANGUAGE)),
        ("source", "date_format", json!([])),
        ("source", "timezone", json!(defaults::TIMEZONE.name())),
        ("source", "include", json!([])),
        ("source", "exclude", json!([])),
        ("source", "on_break", json!(ON_BREAK[0])),
        ("source.article", "auto", json!(false)),
        ("source.article", "allow_hosts", json!([])),
    ]
}

/// `kind`'s values, the default first (as `validate::source` reads them).
const SOURCE_KINDS: [&str; 3] = ["html", "feed", "json"];

/// `on_break`'s values, the default first.
const ON_BREAK: [&str; 2] = ["report", "adopt"];

/// Keys whose value is one of a few words.
fn enums() -> [(&'static str, &'static str, &'static [&'static str]); 2] {
    [
        ("source", "kind", &SOURCE_KINDS),
        ("source", "on_break", &ON_BREAK),
    ]
}

/// Counts that must be at least 1.
const AT_LEAST_ONE: [(&str, &str); 3] = [
    ("daemon", "concurrency"),
    ("daemon", "max_page_items"),
    ("feed", "max_items"),
];

fn byte_size(bytes: usize) -> String {
    format_size(u64::try_from(bytes).unwrap_or(u64::MAX))
}

fn default_of(path: &str, key: &str) -> Option<Value> {
    defaults()
        .into_iter()
        .find(|(p, k, _)| *p == path && *k == key)
        .map(|(_, _, value)| value)
}

/// The path of the table a key holds: `daemon`, `source.article`.
fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// The JSON Schema of the config file (draft-07), as `medee schema` prints it.
pub fn json_schema() -> Value {
    let tables = tables();
    let mut schema = table_schema(&tables, "");
    schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    schema["title"] = json!("medee config");
    schema["description"] = json!(concat!(
        "The config file of medee ",
        env!("CARGO_PKG_VERSION"),
        ", as `medee check` reads it; printed by `medee schema`."
    ));
    schema
}

/// The object schema of the table at `path`: its keys, the required ones,
/// and no others (`check` rejects unknown keys too).
fn table_schema(tables: &[Table], path: &str) -> Value {
    let Some(table) = tables.iter().find(|t| t.path == path) else {
        return json!({ "type": "object" });
    };
    let properties: Map<String, Value> = table
        .keys
        .iter()
        .map(|key| (key.name.to_string(), key_schema(tables, path, key)))
        .collect();
    let required: Vec<&str> = table
        .keys
        .iter()
        .filter(|k| k.required)
        .map(|k| k.name)
        .collect();
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn key_schema(tables: &[Table], path: &str, key: &Key) -> Value {
    let mut schema = match &key.shape {
        Some(shape) => shape_schema(tables, &child_path(path, key.name), shape),
        None => json!({}),
    };
    schema["description"] = json!(key.description);
    if let Some(value) = default_of(path, key.name) {
        schema["default"] = value;
    }
    if let Some((_, _, words)) = enums()
        .into_iter()
        .find(|(p, k, _)| *p == path && *k == key.name)
    {
        schema["enum"] = json!(words);
    }
    if AT_LEAST_ONE.contains(&(path, key.name)) {
        schema["minimum"] = json!(1);
    }
    schema
}

fn shape_schema(tables: &[Table], path: &str, shape: &Shape) -> Value {
    match shape {
        Shape::String => json!({ "type": "string" }),
        Shape::Integer => json!({ "type": "integer" }),
        Shape::Float => json!({ "type": "number" }),
        Shape::Boolean => json!({ "type": "boolean" }),
        Shape::Table => table_schema(tables, path),
        Shape::Array(item) => json!({
            "type": "array",
            "items": shape_schema(tables, path, item),
        }),
    }
}

/// The README's configuration reference: one Markdown table per TOML table,
/// with each key's type, default and description, in declaration order.
pub fn reference_markdown() -> String {
    let tables = tables();
    let mut out = String::new();
    for table in tables.iter().filter(|t| !t.path.is_empty()) {
        let Some(holder) = holding_key(&tables, table.path) else {
            continue;
        };
        let header = match holder.shape {
            Some(Shape::Array(_)) => format!("[[{}]]", table.path),
            _ => format!("[{}]", table.path),
        };
        out.push_str(&format!("### `{header}`\n\n{}\n\n", holder.description));
        out.push_str("| key | type | default | description |\n|---|---|---|---|\n");
        for key in &table.keys {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                key.name,
                key.shape
                    .as_ref()
                    .map_or_else(|| "any".to_string(), type_words),
                default_cell(table.path, key),
                key.description.replace('|', "\\|"),
            ));
        }
        out.push('\n');
    }
    out
}

/// The key whose value is the table at `path` (`source.article` → `article` of `source`).
fn holding_key<'a>(tables: &'a [Table], path: &str) -> Option<&'a Key> {
    let (parent, name) = path.rsplit_once('.').unwrap_or(("", path));
    tables
        .iter()
        .find(|t| t.path == parent)?
        .keys
        .iter()
        .find(|k| k.name == name)
}

fn type_words(shape: &Shape) -> String {
    match shape {
        Shape::String => "string".into(),
        Shape::Integer => "integer".into(),
        Shape::Float => "number".into(),
        Shape::Boolean => "boolean".into(),
        Shape::Table => "table".into(),
        Shape::Array(item) => format!("array of {}s", type_words(item)),
    }
}

fn default_cell(path: &str, key: &Key) -> String {
    if key.required {
        return "required".into();
    }
    default_of(path, key.name).map_or_else(String::new, |value| format!("`{value}`"))
}

#[cfg(test)]
mod tests;
