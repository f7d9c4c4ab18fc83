//! `medee repair ID --write`: the config file with one source's selector
//! lines replaced and every other byte (comments, blank lines, key order,
//! quoting of the rest) as it was, through `toml_edit`'s format-preserving
//! document.

use toml_edit::{DocumentMut, Item, Table, Value};

use super::SelectorSet;

/// Why the file could not be rewritten.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The file is not TOML.
    #[error("not valid TOML: {0}")]
    Parse(#[from] toml_edit::TomlError),
    /// No `[[source]]` table has this id.
    #[error("no [[source]] table with id = \"{0}\"")]
    NoSource(String),
}

/// `text` with the `[[source]]` whose id is `id` given exactly `proposed`'s
/// selectors: changed values keep their line's comment and spacing, keys
/// the proposal lacks are removed, new ones are added to that table.
pub fn rewrite_selectors(
    text: &str,
    id: &str,
    proposed: &SelectorSet,
) -> Result<String, EditError> {
    let mut doc: DocumentMut = text.parse()?;
    let table = source_table(&mut doc, id).ok_or_else(|| EditError::NoSource(id.to_string()))?;
    for (key, value) in proposed.values() {
        match value {
            Some(value) => set_keeping_decor(table, key, value),
            None => {
                table.remove(key);
            }
        }
    }
    Ok(doc.to_string())
}

fn source_table<'d>(doc: &'d mut DocumentMut, id: &str) -> Option<&'d mut Table> {
    doc.get_mut("source")?
        .as_array_of_tables_mut()?
        .iter_mut()
        .find(|t| t.get("id").and_then(Item::as_str) == Some(id))
}

/// Sets `key` to the string `value`; an existing value's surrounding
/// whitespace and trailing comment stay.
fn set_keeping_decor(table: &mut Table, key: &str, value: &str) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) if old.as_str() == Some(value) => {}
        Some(old) => {
            let decor = old.decor().clone();
            let mut new = Value::from(value);
            *new.decor_mut() = decor;
            *old = new;
        }
        None => {
            table.insert(key, toml_edit::value(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"# medee config
[daemon]
output_dir = "feeds"   # served

[[source]]
id = "gogo"
url = "https://gogo.mn/"
# the listing
item = "div.news-box"     # each story
title = ".title"
summary = ".body"   # teaser

[source.article]
content = ".news-body"

[[source]]
id = "other"
item = "div.news-box"
title = ".title"
"#;

    #[test]
    fn only_the_sources_selector_lines_change() {
        let proposed = SelectorSet {
            item: "article.card".to_string(),
            title: Some("h3 a".to_string()),
            link: Some("h3 a @href".to_string()),
            ..SelectorSet::default()
        };
        let out = rewrite_selectors(CONFIG, "gogo", &proposed).expect("rewrites");
        let expected = CONFIG
            .replace(
                "item = \"div.news-box\"     # each story\ntitle = \".title\"\nsummary = \".body\"   # teaser\n",
                "item = \"article.card\"     # each story\ntitle = \"h3 a\"\nlink = \"h3 a @href\"\n",
            );
        assert_eq!(out, expected);
    }

    #[test]
    fn an_unknown_id_is_an_error() {
        let err =
            rewrite_selectors(CONFIG, "nope", &SelectorSet::default()).expect_err("no source");
        assert!(err.to_string().contains("id = \"nope\""), "{err}");
    }
}
