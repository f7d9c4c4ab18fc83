//! A `kind = "json"` source's pointers, link template and optional `script` selector.

use toml::Spanned;

use crate::config::diagnostics::Diagnostics;
use crate::config::raw::RawSource;
use crate::json_items::{JsonPointer, JsonSelectors, LinkSpec, ScriptSelector};

/// Compiles a json source's pointers; `None` (with the errors recorded) when
/// any is invalid or `item`, `title` or `link` is missing.
pub(super) fn json_selectors(
    raw: &RawSource,
    id: &str,
    diags: &mut Diagnostics<'_>,
) -> Option<JsonSelectors> {
    let before = diags.count();
    let item = compile(raw.item.as_ref(), id, diags, JsonPointer::parse);
    let title = compile(raw.title.as_ref(), id, diags, JsonPointer::parse);
    let link = compile(raw.link.as_ref(), id, diags, LinkSpec::parse);
    let date = compile(raw.date.as_ref(), id, diags, JsonPointer::parse);
    let summary = compile(raw.summary.as_ref(), id, diags, JsonPointer::parse);
    let image = compile(raw.image.as_ref(), id, diags, JsonPointer::parse);
    let script = compile(raw.script.as_ref(), id, diags, ScriptSelector::parse);
    for (key, present, example) in [
        (
            "item",
            raw.item.is_some(),
            "item = \"/data/items\" (\"\" when the document is the array)",
        ),
        ("title", raw.title.is_some(), "title = \"/title\""),
        (
            "link",
            raw.link.is_some(),
            "link = \"/url\" or a template such as link = \"https://example.mn/news/{id}\"",
        ),
    ] {
        if !present {
            diags.at(
                raw.id.span(),
                format!("[[source]] \"{id}\" has kind = \"json\" but no \"{key}\"; add {example}"),
            );
        }
    }
    if diags.count() > before {
        return None;
    }
    Some(JsonSelectors {
        item: item?,
        script,
        title: title?,
        link: link?,
        date,
        summary,
        image,
    })
}

/// One value compiled by `parse`, its error recorded at the value's position.
fn compile<T>(
    value: Option<&Spanned<String>>,
    id: &str,
    diags: &mut Diagnostics<'_>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    let value = value?;
    parse(value.get_ref())
        .map_err(|e| diags.at(value.span(), format!("in [[source]] \"{id}\": {e}")))
        .ok()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError, SourceKind};

    fn errors(text: &str) -> Vec<String> {
        match Config::parse(text, Path::new("medee.toml")) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid(list)) => list.iter().map(ToString::to_string).collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    const GOGO: &str =
        "[[source]]\nid = \"gogo\"\nurl = \"https://gogo.mn/news/shinemedee\"\nkind = \"json\"\n";

    #[test]
    fn a_json_source_compiles_its_pointers_and_template() {
        let text = format!(
            "{GOGO}item = \"/shinemedee_list\"\ntitle = \"/title\"\nlink = \"https://gogo.mn/r/{{id}}\"\n\
             date = \"/publish_date\"\nsummary = \"/head_line\"\nscript = \"script#__NEXT_DATA__\"\n"
        );
        let config = Config::parse(&text, Path::new("medee.toml")).expect("valid");
        let SourceKind::Json(selectors) = &config.sources[0].kind else {
            panic!("not a json source: {:?}", config.sources[0].kind);
        };
        assert_eq!(selectors.item.as_str(), "/shinemedee_list");
        assert_eq!(
            selectors.date.as_ref().map(|p| p.as_str()),
            Some("/publish_date")
        );
        assert_eq!(selectors.image, None);
        assert_eq!(
            selectors.script.as_ref().map(|s| s.as_str()),
            Some("script#__NEXT_DATA__")
        );
        let top_level = format!("{GOGO}item = \"\"\ntitle = \"/t\"\nlink = \"/u\"\n");
        assert_eq!(errors(&top_level), Vec::<String>::new());
    }

    #[test]
    fn bad_pointers_and_templates_are_reported_where_they_are_written() {
        let text = format!(
            "{GOGO}item = \"shinemedee_list\"\ntitle = \"h2.title\"\nlink = \"https://gogo.mn/r/{{id\"\ndate = \"/a~2\"\n"
        );
        let errs = errors(&text);
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(
            errs[0].starts_with(
                "medee.toml:5:8: in [[source]] \"gogo\": \"shinemedee_list\" is not a JSON Pointer"
            ),
            "{errs:?}"
        );
        assert!(
            errs[0].contains("did you mean \"/shinemedee_list\""),
            "{errs:?}"
        );
        assert!(errs[1].starts_with("medee.toml:6:9:"), "{errs:?}");
        assert!(errs[1].contains("looks like a CSS selector"), "{errs:?}");
        assert!(errs[2].starts_with("medee.toml:7:8:"), "{errs:?}");
        assert!(
            errs[2].contains("an unclosed '{' at character 19"),
            "{errs:?}"
        );
        assert!(errs[3].starts_with("medee.toml:8:8:"), "{errs:?}");
    }

    #[test]
    fn item_title_and_link_are_required() {
        let errs = errors(GOGO);
        assert_eq!(errs.len(), 3, "{errs:?}");
        for (err, key) in errs.iter().zip(["item", "title", "link"]) {
            assert!(
                err.starts_with(&format!(
                    "medee.toml:2:6: [[source]] \"gogo\" has kind = \"json\" but no \"{key}\""
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn script_belongs_to_json_sources_and_pointers_to_json_kind() {
        let html = "[[source]]\nid = \"h\"\nurl = \"https://a.mn/\"\nitem = \"/list\"\nscript = \"script\"\n";
        let errs = errors(html);
        assert!(
            errs.iter()
                .any(|e| e.contains("sets \"script\", which only a kind = \"json\" source reads")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("looks like a JSON Pointer: add kind = \"json\"")),
            "{errs:?}"
        );
        let feed = "[[source]]\nid = \"f\"\nurl = \"https://a.mn/rss\"\nkind = \"feed\"\nscript = \"script\"\n";
        assert!(
            errors(feed)
                .iter()
                .any(|e| e.contains("sets the selector \"script\""))
        );
        let bad_css =
            format!("{GOGO}item = \"\"\ntitle = \"/t\"\nlink = \"/u\"\nscript = \"script[\"\n");
        let errs = errors(&bad_css);
        assert!(
            errs.len() == 1 && errs[0].starts_with("medee.toml:8:10:"),
            "{errs:?}"
        );
    }
}
