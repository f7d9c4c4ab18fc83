use std::path::Path;

use super::*;
use crate::config::{Config, ConfigError};

/// A config that is valid on its own, with `line` added to the table at `path`.
fn config_with(path: &str, line: &str) -> String {
    let source = "[[source]]\nid = \"a\"\nurl = \"https://a.mn/\"\nitem = \"li\"\n";
    match path {
        "" => format!("{line}\n{source}"),
        "daemon" => format!("[daemon]\n{line}\n{source}"),
        "feed" => format!("{source}[[feed]]\nname = \"f\"\n{line}\n"),
        "source" => format!("{source}{line}\n"),
        "source.article" => format!("{source}[source.article]\n{line}\n"),
        other => panic!("no sample config for table {other:?}"),
    }
}

fn parse(text: &str) -> Result<Config, Vec<String>> {
    Config::parse(text, Path::new("schema.toml")).map_err(|e| match e {
        ConfigError::Invalid(list) => list.into_iter().map(|d| d.message).collect(),
        other => vec![other.to_string()],
    })
}

fn all_keys() -> Vec<(&'static str, Key)> {
    tables()
        .into_iter()
        .flat_map(|t| t.keys.into_iter().map(move |k| (t.path, k)))
        .collect()
}

#[test]
fn every_key_has_a_type_and_a_description() {
    let keys = all_keys();
    assert!(keys.len() >= 40, "{}", keys.len());
    for (path, key) in keys {
        assert!(key.shape.is_some(), "{path}.{}: no type", key.name);
        assert!(
            key.description.len() > 10,
            "{path}.{}: no /// comment in raw.rs",
            key.name
        );
    }
}

/// A table-valued key whose table is not in `tables()` would be an object
/// with no keys declared, accepting anything.
#[test]
fn every_table_valued_key_has_its_table_listed() {
    let tables = tables();
    for (path, key) in all_keys() {
        let holds_table = matches!(&key.shape, Some(Shape::Table))
            || matches!(&key.shape, Some(Shape::Array(item)) if **item == Shape::Table);
        if holds_table {
            let child = child_path(path, key.name);
            assert!(
                tables.iter().any(|t| t.path == child),
                "{child} is missing from tables()"
            );
        }
    }
}

#[test]
fn the_required_keys_are_the_ones_check_demands() {
    let required: Vec<String> = all_keys()
        .into_iter()
        .filter(|(_, k)| k.required)
        .map(|(path, k)| format!("{path}.{}", k.name))
        .collect();
    assert_eq!(required, ["feed.name", "source.id", "source.url"]);
}

#[test]
fn every_listed_default_constraint_names_a_key() {
    let keys: Vec<(&str, &str)> = all_keys().iter().map(|(p, k)| (*p, k.name)).collect();
    let listed = defaults()
        .into_iter()
        .map(|(p, k, _)| (p, k))
        .chain(enums().into_iter().map(|(p, k, _)| (p, k)))
        .chain(AT_LEAST_ONE);
    for (path, key) in listed {
        assert!(keys.contains(&(path, key)), "{path}.{key} is not a key");
    }
}

/// Writing a key's documented default gives the same config as leaving it out.
#[test]
fn every_default_is_what_check_uses_without_the_key() {
    for (path, key, value) in defaults() {
        let without = parse(&config_with(path, "")).expect("base config is valid");
        let text = config_with(path, &format!("{key} = {value}"));
        let with = parse(&text).unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        assert_eq!(format!("{with:?}"), format!("{without:?}"), "{path}.{key}");
    }
}

#[test]
fn the_enum_and_minimum_agree_with_check() {
    let extra = |kind: &str| match kind {
        "json" => "title = \"/t\"\nlink = \"/l\"\nitem = \"/items\"",
        "feed" => "",
        _ => "item = \"li\"",
    };
    for kind in SOURCE_KINDS {
        let text = format!(
            "[[source]]\nid = \"a\"\nurl = \"https://a.mn/\"\nkind = \"{kind}\"\n{}\n",
            extra(kind)
        );
        assert!(parse(&text).is_ok(), "{text}");
    }
    let text = config_with("source", "kind = \"xml\"").replace("item = \"li\"\n", "");
    assert!(parse(&text).is_err(), "{text}");
    for (path, key) in AT_LEAST_ONE {
        assert!(
            parse(&config_with(path, &format!("{key} = 1"))).is_ok(),
            "{key}"
        );
        assert!(
            parse(&config_with(path, &format!("{key} = 0"))).is_err(),
            "{key}"
        );
    }
}

#[test]
fn the_schema_names_every_table_and_rejects_other_keys() {
    let schema = json_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["additionalProperties"], false);
    let source = &schema["properties"]["source"]["items"];
    assert_eq!(source["additionalProperties"], false);
    assert_eq!(source["required"], json!(["id", "url"]));
    let article = &source["properties"]["article"];
    assert_eq!(article["additionalProperties"], false);
    assert_eq!(
        article["properties"]["allow_hosts"]["items"]["type"],
        "string"
    );
    let daemon = &schema["properties"]["daemon"]["properties"];
    assert_eq!(daemon["max_body"]["default"], "10MiB");
    assert_eq!(daemon["concurrency"]["type"], "integer");
    assert_eq!(daemon["concurrency"]["minimum"], 1);
}

/// Where the generated reference sits in README.md.
const BEGIN: &str =
    "<!-- config reference: generated from src/config/raw.rs, see `medee schema` -->\n";
const END: &str = "<!-- end of config reference -->\n";

/// The README's configuration reference is the schema's text: the same
/// keys, types, defaults and descriptions. After changing a key, rewrite it
/// with `UPDATE_README=1 cargo test --lib config::schema` and review the diff.
#[test]
fn the_readme_reference_is_the_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme.find(BEGIN).expect("README has the begin marker") + BEGIN.len();
    let end = readme.find(END).expect("README has the end marker");
    let expected = reference_markdown();
    if readme[start..end] == expected {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).expect("README.md written");
        return;
    }
    panic!(
        "README.md's configuration reference differs from the schema; run \
         UPDATE_README=1 cargo test --lib config::schema, or paste:\n{expected}"
    );
}
