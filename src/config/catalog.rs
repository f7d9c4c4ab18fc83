//! The catalogue of ready sources: one checked `[[source]]` per site, kept in
//! `config/catalog/` and compiled into the binary so `medee add` works from
//! an installed package with no repository beside it.
//!
//! Pure: entries are read from the compiled-in text, and adding them turns a
//! config file's text into a longer text; the command does the I/O.

use std::collections::HashSet;

use toml_edit::{DocumentMut, Item};

/// One catalogue file, as compiled in.
macro_rules! entry {
    ($id:literal) => {
        (
            $id,
            include_str!(concat!("../../config/catalog/", $id, ".toml")),
        )
    };
}

/// Every catalogue file (id, text), in id order.
const FILES: &[(&str, &str)] = &[
    entry!("24tsag-mn"),
    entry!("dobu-mn"),
    entry!("elch-mn"),
    entry!("ergelt-mn"),
    entry!("esight-mn"),
    entry!("gogo-mn"),
    entry!("gogo-mn-latest"),
    entry!("ikon-mn"),
    entry!("imedee-com"),
    entry!("isee-mn"),
    entry!("itoim-mn"),
    entry!("mass-mn"),
    entry!("mnb-mn"),
    entry!("mongolia-focus"),
    entry!("montsame-en"),
    entry!("montsame-mn"),
    entry!("newmm-mn"),
    entry!("nknews"),
    entry!("sonin-mn"),
];

/// A ready source: what `medee catalog` lists and `medee add` appends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The source id (also the file name).
    pub id: &'static str,
    /// The source's `name`.
    pub name: String,
    /// The source's `language`.
    pub language: String,
    /// `url`: the listing page, feed or JSON endpoint.
    pub url: String,
    /// What the entry was checked against and when, from its comment.
    pub checked: String,
    /// The whole file: comments, `[[source]]` and any `[source.article]`.
    pub text: &'static str,
}

/// Every entry of the catalogue, in id order.
pub fn entries() -> Vec<Entry> {
    FILES.iter().map(|&(id, text)| entry(id, text)).collect()
}

/// One entry's fields. A catalogue file that does not parse is a build
/// mistake the catalogue tests catch, so fields that cannot be read are left empty.
fn entry(id: &'static str, text: &'static str) -> Entry {
    let doc = text.parse::<DocumentMut>().unwrap_or_default();
    let field = |key: &str| {
        doc.get("source")
            .and_then(Item::as_array_of_tables)
            .and_then(|sources| sources.get(0))
            .and_then(|source| source.get(key))
            .and_then(Item::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Entry {
        id,
        name: field("name"),
        language: field("language"),
        url: field("url"),
        checked: checked_against(text),
        text,
    }
}

/// The comment that starts `# Checked against:`, its lines joined.
fn checked_against(text: &str) -> String {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("# Checked against:"));
    let Some(first) = lines.next() else {
        return String::new();
    };
    let rest = lines.map_while(|l| l.strip_prefix('#'));
    std::iter::once(first.trim_start_matches("# Checked against:"))
        .chain(rest)
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why entries cannot be added to a config file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddError {
    /// No entry has this id.
    #[error("no catalogue entry \"{id}\"; `medee catalog` lists them: {known}")]
    Unknown {
        /// The id asked for.
        id: String,
        /// Every id of the catalogue, comma-separated.
        known: String,
    },
    /// The config already has a source with this id.
    #[error("the config already has a [[source]] with id \"{0}\"; nothing was added")]
    Present(String),
    /// The id was given twice.
    #[error("\"{0}\" is named twice")]
    Repeated(String),
    /// The config file is not TOML, so its sources cannot be told.
    #[error("the config is not valid TOML ({0}); nothing was added")]
    NotToml(String),
}

/// The config text with the entries `ids` appended, in that order. Every
/// byte of `config` is kept (comments, layout, order); each entry follows
/// after a blank line, with its own comment saying what it was checked
/// against. The result is not validated here: the caller checks it as a
/// whole config before writing it.
pub fn append(config: &str, ids: &[String]) -> Result<String, AddError> {
    let catalogue = entries();
    let present = source_ids(config)?;
    let mut named = HashSet::new();
    let mut text = config.to_string();
    for id in ids {
        let entry = catalogue
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| AddError::Unknown {
                id: id.clone(),
                known: catalogue
                    .iter()
                    .map(|e| e.id)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if present.contains(id) {
            return Err(AddError::Present(id.clone()));
        }
        if !named.insert(id) {
            return Err(AddError::Repeated(id.clone()));
        }
        if !text.is_empty() {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
        }
        text.push_str(entry.text);
    }
    Ok(text)
}

/// The ids of the `[[source]]` tables a config text already has.
fn source_ids(config: &str) -> Result<HashSet<String>, AddError> {
    let doc = config
        .parse::<DocumentMut>()
        .map_err(|e| AddError::NotToml(e.to_string().trim().replace('\n', " ")))?;
    Ok(doc
        .get("source")
        .and_then(Item::as_array_of_tables)
        .map(|sources| {
            sources
                .iter()
                .filter_map(|s| s.get("id").and_then(Item::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, SourceKind};

    #[test]
    fn every_file_in_config_catalog_is_compiled_in_and_in_id_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/catalog");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("config/catalog")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".toml").map(str::to_string))
            .collect();
        on_disk.sort();
        let compiled: Vec<&str> = entries().iter().map(|e| e.id).collect();
        assert_eq!(compiled, on_disk);
        assert!(compiled.len() >= 15, "{compiled:?}");
    }

    #[test]
    fn every_entry_is_a_valid_source_with_its_file_name_as_id_and_a_checked_comment() {
        for entry in entries() {
            let config = Config::parse(entry.text, Path::new(entry.id))
                .unwrap_or_else(|e| panic!("{}: {e}", entry.id));
            assert_eq!(config.sources.len(), 1, "{}", entry.id);
            let source = &config.sources[0];
            assert_eq!(source.id, entry.id);
            assert_eq!(source.name, entry.name, "{}", entry.id);
            assert_eq!(source.language, entry.language, "{}", entry.id);
            assert!(
                entry.checked.len() > 20 && entry.checked.contains("2026"),
                "{}: {:?}",
                entry.id,
                entry.checked
            );
            assert!(
                matches!(source.language.as_str(), "mn" | "en"),
                "{}",
                entry.id
            );
            if let SourceKind::Html(_) = source.kind {
                assert!(entry.text.contains("item = "), "{}", entry.id);
            }
        }
    }

    #[test]
    fn the_shipped_sources_are_in_the_catalogue_as_shipped() {
        let sources = |text: &str| -> Vec<toml::Value> {
            let table: toml::Table = toml::from_str(text).expect("TOML");
            table["source"].as_array().expect("sources").clone()
        };
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/medee.toml"),
        )
        .expect("shipped config");
        for source in sources(&shipped) {
            let id = source["id"].as_str().expect("id").to_string();
            let entry = entries()
                .into_iter()
                .find(|e| e.id == id)
                .unwrap_or_else(|| panic!("{id} is not in the catalogue"));
            assert_eq!(sources(entry.text), [source], "{id}");
        }
    }

    #[test]
    fn appending_keeps_every_byte_and_adds_the_entries_in_order() {
        let config = "# my sources\n[daemon]\noutput_dir = \"out\" # here\n\n[[source]]\nid = \"mine\"\nurl = \"https://a.example/\"\nitem = \"li\"";
        let ids = ["sonin-mn".to_string(), "ikon-mn".to_string()];
        let text = append(config, &ids).expect("appended");
        assert!(text.starts_with(config), "{text}");
        let sonin = text.find("id = \"sonin-mn\"").expect("sonin");
        let ikon = text.find("id = \"ikon-mn\"").expect("ikon");
        assert!(sonin < ikon);
        assert!(text.contains("# Checked against:"));
        let parsed = Config::parse(&text, Path::new("medee.toml")).expect("valid");
        let ids: Vec<&str> = parsed.sources.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["mine", "sonin-mn", "ikon-mn"]);
    }

    #[test]
    fn unknown_present_repeated_ids_and_broken_files_are_refused() {
        let config =
            "[[source]]\nid = \"sonin-mn\"\nurl = \"https://www.sonin.mn/\"\nitem = \"li\"\n";
        assert!(matches!(
            append(config, &["nope".into()]),
            Err(AddError::Unknown { .. })
        ));
        assert_eq!(
            append(config, &["sonin-mn".into()]),
            Err(AddError::Present("sonin-mn".into()))
        );
        assert_eq!(
            append("", &["ikon-mn".into(), "ikon-mn".into()]),
            Err(AddError::Repeated("ikon-mn".into()))
        );
        assert!(matches!(
            append("[[source]\nid = 1", &["ikon-mn".into()]),
            Err(AddError::NotToml(_))
        ));
        assert_eq!(
            append("", &["ikon-mn".into()]).as_deref(),
            Ok(entries()
                .into_iter()
                .find(|e| e.id == "ikon-mn")
                .expect("ikon")
                .text)
        );
    }
}
