//! What a `kind = "json"` source's config values mean: JSON Pointers (RFC 6901)
//! and link templates, checked once at config load so a run never meets a
//! malformed one.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// A JSON Pointer (RFC 6901): `""` for the whole value, else `/`-separated
/// reference tokens in which `~0` is `~` and `~1` is `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPointer(String);

impl JsonPointer {
    /// Checks the pointer syntax; the error says what is wrong and, for a
    /// value that is a key name or CSS, what was probably meant.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.is_empty() && !text.starts_with('/') {
            return Err(not_a_pointer(text));
        }
        if let Some(at) = bad_escape(text) {
            return Err(format!(
                "\"{text}\" is not a valid JSON Pointer: '~' at character {} must be followed by 0 (for '~') or 1 (for '/')",
                at + 1
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// The pointer as written, for messages.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value this pointer designates within `value`, if any.
    pub fn find<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        value.pointer(&self.0)
    }

    /// The pointers to the enclosing values, innermost first, ending with `""`:
    /// what a message can describe when this one designates nothing.
    pub fn ancestors(&self) -> impl Iterator<Item = &str> {
        let text = self.0.as_str();
        text.char_indices()
            .rev()
            .filter(|&(_, c)| c == '/')
            .map(move |(at, _)| &text[..at])
    }
}

/// Where a `~` is not followed by `0` or `1`, as a character index.
fn bad_escape(text: &str) -> Option<usize> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .find(|&(at, &c)| c == '~' && !matches!(chars.get(at + 1), Some('0' | '1')))
        .map(|(at, _)| at)
}

/// The message for a value that does not start with `/`: a bare key gets the
/// pointer it names, CSS gets told that json sources do not read CSS.
fn not_a_pointer(text: &str) -> String {
    let is_key = text
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$' | '@'));
    if is_key {
        format!(
            "\"{text}\" is not a JSON Pointer; a pointer starts with '/': did you mean \"/{text}\"?"
        )
    } else {
        format!(
            "\"{text}\" is not a JSON Pointer (it looks like a CSS selector); with kind = \"json\" every field is a pointer such as \"/title\" or \"/data/0/name\" (\"\" for the whole document); drop kind = \"json\" to scrape HTML with CSS selectors"
        )
    }
}

/// How an item's link is found: at a pointer, or by filling a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkSpec {
    /// `link = "/url"`: the value at this pointer.
    Pointer(JsonPointer),
    /// `link = "https://gogo.mn/r/{id}"`: text with item fields filled in.
    Template(LinkTemplate),
}

impl LinkSpec {
    /// A value with braces is a template, one starting with `/` a pointer.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.contains(['{', '}']) {
            return LinkTemplate::parse(text).map(Self::Template);
        }
        if text.starts_with('/') {
            return JsonPointer::parse(text).map(Self::Pointer);
        }
        Err(format!(
            "link \"{text}\" is neither a JSON Pointer (\"/url\") nor a template over item fields (\"https://example.mn/r/{{id}}\"); with kind = \"json\", fields are read from JSON, not with CSS selectors"
        ))
    }

    /// The link text for one item, unresolved; `None` when a field it needs is missing.
    pub fn value(&self, item: &Value) -> Option<String> {
        match self {
            Self::Pointer(pointer) => pointer.find(item).and_then(scalar_text),
            Self::Template(template) => template.fill(item),
        }
    }
}

/// A link template: literal text and `{field}` placeholders, where `field` is
/// a pointer within the item with or without its leading `/` (`{id}`,
/// `{meta/slug}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// A field; `verbatim` for one that starts the template (a base URL or a
    /// path), which is inserted as it is rather than encoded.
    Field {
        pointer: JsonPointer,
        verbatim: bool,
    },
}

/// Everything but RFC 3986's unreserved characters is encoded, so a value
/// fills one path segment or query value whatever it holds (`/`, `?`, `#`,
/// spaces, Cyrillic).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl LinkTemplate {
    /// Splits the template into literals and fields; braces always delimit a field.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while !rest.is_empty() {
            let open = rest.find(['{', '}']).unwrap_or(rest.len());
            if rest[open..].starts_with('}') {
                return Err(template_error(text, offset + open, "a '}' without its '{'"));
            }
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            if open == rest.len() {
                break;
            }
            let after = &rest[open + 1..];
            let Some(close) = after
                .find(['{', '}'])
                .filter(|&c| after[c..].starts_with('}'))
            else {
                return Err(template_error(text, offset + open, "an unclosed '{'"));
            };
            parts.push(Part::Field {
                pointer: field_pointer(&after[..close], text, offset + open)?,
                verbatim: parts.is_empty(),
            });
            offset += open + close + 2;
            rest = &after[close + 1..];
        }
        if !parts.iter().any(|p| matches!(p, Part::Field { .. })) {
            return Err(format!("link template \"{text}\" has no {{field}}"));
        }
        Ok(Self { parts })
    }

    /// The template filled from `item`; `None` when a field is missing or empty.
    pub fn fill(&self, item: &Value) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Field { pointer, verbatim } => {
                    let value = pointer.find(item).and_then(scalar_text)?;
                    let value = value.trim();
                    if value.is_empty() {
                        return None;
                    }
                    if *verbatim {
                        out.push_str(value);
                    } else {
                        out.extend(utf8_percent_encode(value, COMPONENT));
                    }
                }
            }
        }
        Some(out)
    }
}

/// `{id}` and `{/id}` both name the pointer `/id`.
fn field_pointer(name: &str, template: &str, at: usize) -> Result<JsonPointer, String> {
    if name.trim().is_empty() {
        return Err(template_error(template, at, "an empty {}"));
    }
    let pointer = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    };
    JsonPointer::parse(&pointer).map_err(|e| format!("in link template \"{template}\": {e}"))
}

fn template_error(template: &str, byte: usize, what: &str) -> String {
    let at = template[..byte].chars().count() + 1;
    format!("link template \"{template}\" has {what} at character {at}")
}

/// A string as it is, a number as written; anything else is no value.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_follow_rfc_6901() {
        let doc = json!({"a/b": {"m~n": [10, 20]}, "": 1});
        let find = |p: &str| JsonPointer::parse(p).expect("valid").find(&doc).cloned();
        assert_eq!(find("/a~1b/m~0n/1"), Some(json!(20)));
        assert_eq!(find(""), Some(doc.clone()));
        assert_eq!(find("/"), Some(json!(1)));
        assert_eq!(find("/missing"), None);
    }

    #[test]
    fn bad_pointers_say_what_was_meant() {
        let err = JsonPointer::parse("title").expect_err("bare key");
        assert!(err.contains("did you mean \"/title\""), "{err}");
        let err = JsonPointer::parse("div.news a").expect_err("css");
        assert!(err.contains("looks like a CSS selector"), "{err}");
        let err = JsonPointer::parse("/a~2b").expect_err("bad escape");
        assert!(err.contains("'~' at character 3"), "{err}");
        assert!(JsonPointer::parse("/a~").is_err());
    }

    #[test]
    fn ancestors_run_from_the_parent_to_the_root() {
        let pointer = JsonPointer::parse("/props/pageProps/news").expect("valid");
        let ancestors: Vec<&str> = pointer.ancestors().collect();
        assert_eq!(ancestors, ["/props/pageProps", "/props", ""]);
    }

    #[test]
    fn templates_fill_fields_encoded_as_path_segments() {
        let item = json!({"id": 331204, "slug": "уих хурал/2", "meta": {"cat": "a?b"}});
        let template = LinkTemplate::parse("/r/{id}/{slug}?c={meta/cat}").expect("valid");
        assert_eq!(
            template.fill(&item).as_deref(),
            Some("/r/331204/%D1%83%D0%B8%D1%85%20%D1%85%D1%83%D1%80%D0%B0%D0%BB%2F2?c=a%3Fb")
        );
        let leading = LinkTemplate::parse("{base}/r/{/id}").expect("valid");
        let item = json!({"base": "https://gogo.mn", "id": "x1"});
        assert_eq!(leading.fill(&item).as_deref(), Some("https://gogo.mn/r/x1"));
        assert_eq!(leading.fill(&json!({"base": "https://gogo.mn"})), None);
        assert_eq!(leading.fill(&json!({"base": "h", "id": " "})), None);
    }

    #[test]
    fn malformed_templates_are_refused_with_the_position() {
        let err = LinkTemplate::parse("https://gogo.mn/r/{id").expect_err("unclosed");
        assert!(err.contains("an unclosed '{' at character 19"), "{err}");
        let err = LinkTemplate::parse("/r/{a{b}").expect_err("nested");
        assert!(err.contains("unclosed"), "{err}");
        let err = LinkTemplate::parse("/r/id}").expect_err("stray close");
        assert!(
            err.contains("a '}' without its '{' at character 6"),
            "{err}"
        );
        let err = LinkTemplate::parse("/r/{}").expect_err("empty");
        assert!(err.contains("an empty {}"), "{err}");
        assert!(LinkTemplate::parse("/r/{a~x}").is_err());
    }

    #[test]
    fn a_link_is_a_pointer_or_a_template_never_css() {
        assert!(matches!(LinkSpec::parse("/url"), Ok(LinkSpec::Pointer(_))));
        assert!(matches!(
            LinkSpec::parse("https://gogo.mn/r/{id}"),
            Ok(LinkSpec::Template(_))
        ));
        let err = LinkSpec::parse("a @href").expect_err("css");
        assert!(err.contains("neither a JSON Pointer"), "{err}");
        let item = json!({"url": "/a/1", "n": 5, "flag": true});
        let value = |spec: &str| LinkSpec::parse(spec).expect("valid").value(&item);
        assert_eq!(value("/url").as_deref(), Some("/a/1"));
        assert_eq!(value("/n").as_deref(), Some("5"));
        assert_eq!(value("/flag"), None);
    }
}
