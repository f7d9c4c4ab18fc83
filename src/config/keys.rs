//! Which keys each table accepts, read from the raw structs' own serde
//! derive, and the walk of the spanned document that reports every other key
//! with the table it sits in and the nearest valid key.
//!
//! serde ignores keys a struct does not declare, so without this walk a typo
//! such as `itme` would silently drop a selector.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use toml::de::{DeTable, DeValue};

use super::diagnostics::Diagnostics;
use super::raw::{RawArticle, RawConfig, RawDaemon, RawFeed, RawSource};

/// The keys a raw struct reads, in declaration order: serde's derive hands
/// its field names to `deserialize_struct` before reading anything, and
/// [`FieldNames`] keeps them and stops. Empty for a type that is not a struct.
pub(super) fn keys_of<T: DeserializeOwned>() -> &'static [&'static str] {
    match T::deserialize(FieldNames) {
        Err(Stop::Fields(fields)) => fields,
        _ => &[],
    }
}

/// A deserializer with no data that only answers "which fields?".
struct FieldNames;

/// How reading from [`FieldNames`] ends: always early, with the fields when asked for a struct.
#[derive(Debug)]
enum Stop {
    /// The field names serde passed to `deserialize_struct`.
    Fields(&'static [&'static str]),
    /// Anything else was asked for.
    NotAStruct,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Fields(fields) => write!(f, "fields: {}", fields.join(", ")),
            Stop::NotAStruct => f.write_str("not a struct"),
        }
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop::NotAStruct
    }
}

impl<'de> Deserializer<'de> for FieldNames {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop::NotAStruct)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        Err(Stop::Fields(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// Reports keys the schema does not know, naming the table and the nearest valid key.
pub(super) fn check_keys(doc: &DeTable<'_>, diags: &mut Diagnostics<'_>) {
    let top = keys_of::<RawConfig>();
    for (key, value) in doc {
        let name = key.get_ref().as_ref();
        match (name, value.get_ref()) {
            ("daemon", DeValue::Table(t)) => {
                unknown_keys(t, keys_of::<RawDaemon>(), "[daemon]", diags);
            }
            ("feed", DeValue::Array(items)) => {
                for item in items.iter() {
                    if let DeValue::Table(t) = item.get_ref() {
                        let context = table_context("[[feed]]", t, "name");
                        unknown_keys(t, keys_of::<RawFeed>(), &context, diags);
                    }
                }
            }
            ("source", DeValue::Array(items)) => {
                for item in items.iter() {
                    if let DeValue::Table(t) = item.get_ref() {
                        check_source_keys(t, diags);
                    }
                }
            }
            _ if !top.contains(&name) => {
                diags.at(key.span(), unknown_key_message(name, "the top level", top))
            }
            _ => {}
        }
    }
}

fn check_source_keys(table: &DeTable<'_>, diags: &mut Diagnostics<'_>) {
    let context = table_context("[[source]]", table, "id");
    unknown_keys(table, keys_of::<RawSource>(), &context, diags);
    let article = table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == "article");
    if let Some((_, value)) = article
        && let DeValue::Table(t) = value.get_ref()
    {
        unknown_keys(
            t,
            keys_of::<RawArticle>(),
            &format!("{context} [source.article]"),
            diags,
        );
    }
}

/// `[[source]] "gogo-mn"` when the table has an id, else just the header.
fn table_context(header: &str, table: &DeTable<'_>, id_key: &str) -> String {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == id_key)
        .and_then(|(_, v)| match v.get_ref() {
            DeValue::String(s) => Some(format!("{header} \"{s}\"")),
            _ => None,
        })
        .unwrap_or_else(|| header.to_string())
}

fn unknown_keys(table: &DeTable<'_>, known: &[&str], context: &str, diags: &mut Diagnostics<'_>) {
    for key in table.keys() {
        let name = key.get_ref().as_ref();
        if !known.contains(&name) {
            diags.at(key.span(), unknown_key_message(name, context, known));
        }
    }
}

fn unknown_key_message(name: &str, context: &str, known: &[&str]) -> String {
    let suggestion = known
        .iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default();
    format!(
        "unknown key \"{name}\" in {context}{suggestion}; expected one of {}",
        known.join(", ")
    )
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, ConfigError};

    /// The keys of each table, and a config prefix that puts a key of that table in place.
    /// `required` are the table's mandatory keys (with values), left out when they are the key tried.
    fn tables() -> [(
        &'static [&'static str],
        &'static str,
        &'static [&'static str],
    ); 5] {
        [
            (keys_of::<RawConfig>(), "", &[]),
            (keys_of::<RawDaemon>(), "[daemon]\n", &[]),
            (keys_of::<RawFeed>(), "[[feed]]\n", &["name = \"x\""]),
            (
                keys_of::<RawSource>(),
                "[[source]]\n",
                &["id = \"a\"", "url = \"https://a.mn/\""],
            ),
            (
                keys_of::<RawArticle>(),
                "[[source]]\nid = \"a\"\nurl = \"https://a.mn/\"\n[source.article]\n",
                &[],
            ),
        ]
    }

    fn errors(text: &str) -> Vec<String> {
        match Config::parse(text, Path::new("k.toml")) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid(list)) => list.iter().map(|d| d.message.clone()).collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn the_derived_lists_keep_the_order_messages_have_always_listed() {
        assert_eq!(keys_of::<RawConfig>(), ["daemon", "feed", "source"]);
        assert_eq!(
            keys_of::<RawSource>(),
            [
                "id",
                "name",
                "url",
                "kind",
                "language",
                "schedule",
                "item",
                "script",
                "title",
                "link",
                "date",
                "date_format",
                "timezone",
                "summary",
                "image",
                "include",
                "exclude",
                "on_break",
                "article",
            ]
        );
        assert_eq!(
            keys_of::<RawFeed>(),
            [
                "name",
                "title",
                "sources",
                "languages",
                "max_items",
                "cluster",
                "prefer"
            ]
        );
        assert_eq!(
            keys_of::<RawArticle>(),
            ["content", "date", "author", "allow_hosts", "auto"]
        );
        assert_eq!(
            keys_of::<RawDaemon>()[..11],
            [
                "output_dir",
                "database",
                "schedule",
                "concurrency",
                "per_host_delay",
                "timeout",
                "max_body",
                "user_agent",
                "retention",
                "listen",
                "base_url",
            ]
        );
    }

    /// Keys whose values are booleans.
    const BOOLEAN_KEYS: &[&str] = &["cluster", "health_entries", "auto"];

    /// Round trip: every listed key, given a value of the wrong type, passes the
    /// unknown-key walk and is then read by serde (which rejects the type), so
    /// the list names exactly keys the structs read.
    #[test]
    fn every_listed_key_is_read_by_its_struct() {
        for (keys, prefix, required) in tables() {
            assert!(!keys.is_empty(), "{prefix:?}");
            for key in keys {
                let mut text = prefix.to_string();
                for line in required
                    .iter()
                    .filter(|l| !l.starts_with(&format!("{key} ")))
                {
                    text.push_str(line);
                    text.push('\n');
                }
                // A boolean key is given a string; every other key a boolean.
                let wrong = if BOOLEAN_KEYS.contains(key) {
                    "\"yes\""
                } else {
                    "true"
                };
                text.push_str(&format!("{key} = {wrong}\n"));
                let errs = errors(&text);
                assert_eq!(errs.len(), 1, "{text}\n{errs:?}");
                assert!(errs[0].contains("invalid type"), "{text}\n{errs:?}");
            }
        }
    }

    #[test]
    fn a_key_not_listed_is_reported_in_each_table() {
        for (_, prefix, required) in tables() {
            let text = format!("{prefix}{}\nnot_a_key = 1\n", required.join("\n"));
            let errs = errors(&text);
            assert!(
                errs.iter()
                    .any(|e| e.starts_with("unknown key \"not_a_key\" in ")),
                "{text}\n{errs:?}"
            );
        }
    }

    #[test]
    fn a_type_that_is_not_a_struct_has_no_keys() {
        assert!(keys_of::<String>().is_empty());
        assert!(keys_of::<Vec<RawFeed>>().is_empty());
    }

    #[test]
    fn suggestions_are_within_two_edits() {
        let known = keys_of::<RawFeed>();
        let near = unknown_key_message("max_itmes", "[[feed]]", known);
        assert_eq!(
            near,
            "unknown key \"max_itmes\" in [[feed]] (did you mean \"max_items\"?); expected one of name, title, sources, languages, max_items, cluster, prefer"
        );
        let far = unknown_key_message("colour", "[[feed]]", known);
        assert!(!far.contains("did you mean"), "{far}");
    }
}
