//! `medee schema` from the real binary, checked by an independent JSON Schema
//! validator (the jsonschema crate): the shipped configs pass, an unknown key
//! or a value of the wrong type fails in every table (as `medee check` fails
//! it), and each table lists exactly the keys `medee check` accepts.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use jsonschema::Validator;
use serde_json::Value;

/// The tables of the file, each with a config that `check` accepts and that
/// ends inside that table, so a line appended to it lands there.
const TABLES: [(&str, &str); 5] = [
    ("", "# top level\n"),
    ("daemon", "[daemon]\n"),
    (
        "feed",
        "[[source]]\nid = \"a\"\nurl = \"https://a.mn/\"\nitem = \"li\"\n[[feed]]\nname = \"f\"\n",
    ),
    (
        "source",
        "[[source]]\nid = \"a\"\nurl = \"https://a.mn/\"\nitem = \"li\"\n",
    ),
    (
        "source.article",
        "[[source]]\nid = \"a\"\nurl = \"https://a.mn/\"\nitem = \"li\"\n[source.article]\n",
    ),
];

/// The printed schema, from a directory without any config.
fn schema() -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::cargo_bin("medee")
        .expect("binary built")
        .current_dir(dir.path())
        .env_remove("MEDEE_CONFIG")
        .arg("schema")
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("medee schema prints JSON")
}

fn validator(schema: &Value) -> Validator {
    jsonschema::draft7::new(schema).expect("the schema compiles")
}

/// A TOML document as the JSON value an editor validates.
fn as_json(toml_text: &str) -> Value {
    let value: toml::Value = toml::from_str(toml_text).expect("TOML");
    serde_json::to_value(value).expect("JSON")
}

fn errors(validator: &Validator, toml_text: &str) -> Vec<String> {
    let instance = as_json(toml_text);
    validator
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect()
}

/// `medee check` on `text`: its exit code and stderr.
fn check(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("medee.toml");
    std::fs::write(&path, text).expect("config written");
    let output = Command::cargo_bin("medee")
        .expect("binary built")
        .arg("--config")
        .arg(&path)
        .arg("check")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

/// The object schema of the table at `path` (`source.article`).
fn table<'a>(schema: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .filter(|part| !part.is_empty())
        .fold(schema, |node, part| {
            let child = &node["properties"][part];
            if child["type"] == "array" {
                &child["items"]
            } else {
                child
            }
        })
}

fn shipped_configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("config/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn the_schema_is_a_valid_draft_7_schema() {
    let schema = schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(jsonschema::draft7::meta::is_valid(&schema), "{schema:#}");
}

#[test]
fn the_shipped_configs_are_valid() {
    let validator = validator(&schema());
    let paths = shipped_configs();
    assert!(paths.len() >= 2, "{paths:?}");
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("config read");
        let found = errors(&validator, &text);
        assert!(found.is_empty(), "{}: {found:#?}", path.display());
    }
}

#[test]
fn an_unknown_key_is_rejected_in_every_table_as_check_rejects_it() {
    let validator = validator(&schema());
    for (path, base) in TABLES {
        assert!(errors(&validator, base).is_empty(), "{base}");
        assert_eq!(check(base).0, 0, "{base}");
        let text = format!("{base}not_a_key = 1\n");
        let found = errors(&validator, &text);
        assert!(
            found.iter().any(|e| e.contains("not_a_key")),
            "{path}: {found:?}"
        );
        assert_eq!(check(&text).0, 2, "{text}");
    }
}

/// `check` lists the keys it accepts when it meets an unknown one; the schema
/// lists exactly those, so a key cannot be accepted and missing from it.
#[test]
fn every_table_lists_exactly_the_keys_check_accepts() {
    let schema = schema();
    for (path, base) in TABLES {
        let (code, stderr) = check(&format!("{base}not_a_key = 1\n"));
        assert_eq!(code, 2, "{stderr}");
        let listed = stderr
            .lines()
            .find_map(|line| line.split_once("; expected one of ").map(|(_, keys)| keys))
            .unwrap_or_else(|| panic!("no key list in: {stderr}"));
        let mut accepted: Vec<&str> = listed.split(", ").collect();
        accepted.sort_unstable();
        let properties = table(&schema, path)["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no table {path:?} in the schema"));
        let in_schema: Vec<&str> = properties.keys().map(String::as_str).collect();
        assert_eq!(in_schema, accepted, "table {path:?}");
    }
}

/// `base` with `key = value` in its last table, replacing the key's line if it has one.
fn with_value(base: &str, key: &str, value: &str) -> String {
    let line = format!("{key} = {value}");
    let head_end = base.rfind("\n[").map_or(0, |i| i + 1);
    let (head, last) = base.split_at(head_end);
    let prefix = format!("{key} = ");
    if last.lines().any(|l| l.starts_with(&prefix)) {
        let replaced: Vec<String> = last
            .lines()
            .map(|l| {
                if l.starts_with(&prefix) {
                    line.clone()
                } else {
                    l.to_string()
                }
            })
            .collect();
        format!("{head}{}\n", replaced.join("\n"))
    } else {
        format!("{base}{line}\n")
    }
}

/// A value of another TOML type, for each schema type.
fn wrong_value(schema_type: &str) -> &'static str {
    match schema_type {
        "string" => "1",
        _ => "\"text\"",
    }
}

/// Each key's type: a value of another type fails the validator and `check`.
#[test]
fn a_value_of_the_wrong_type_is_rejected_for_every_key() {
    let schema = schema();
    let validator = validator(&schema);
    let mut tried = 0;
    for (path, base) in TABLES {
        let properties = table(&schema, path)["properties"]
            .as_object()
            .expect("properties");
        for (key, property) in properties {
            let Some(kind) = property["type"].as_str() else {
                continue;
            };
            if kind == "object" || (kind == "array" && property["items"]["type"] == "object") {
                continue;
            }
            let text = with_value(base, key, wrong_value(kind));
            assert!(!errors(&validator, &text).is_empty(), "{text}");
            assert_eq!(check(&text).0, 2, "{text}");
            tried += 1;
        }
    }
    assert!(tried >= 40, "{tried}");
}
