//! The `///` comments of the raw structs' fields, read from the text of
//! `raw.rs` itself: they are the one place a key is described, and reading
//! them here (rather than copying them into a table) means a key added there
//! arrives documented, with nothing else to edit.

/// The source of `raw.rs`, compiled in.
const RAW_SOURCE: &str = include_str!("../raw.rs");

/// Each field of `struct_name` (as declared in `raw.rs`) with its `///`
/// comment joined into one paragraph; a field without one gets an empty text.
pub(super) fn field_docs(struct_name: &str) -> Vec<(&'static str, String)> {
    let mut lines = RAW_SOURCE.lines().map(str::trim);
    let header = format!("struct {struct_name} {{");
    if !lines.any(|line| line.ends_with(&header)) {
        return Vec::new();
    }
    let mut fields = Vec::new();
    let mut comment: Vec<&str> = Vec::new();
    for line in lines.take_while(|line| *line != "}") {
        if let Some(text) = line.strip_prefix("///") {
            comment.push(text.trim());
        } else if let Some(name) = field_name(line) {
            fields.push((name, comment.join(" ")));
            comment.clear();
        } else if !line.starts_with("#[") {
            comment.clear();
        }
    }
    fields
}

/// `output_dir` for `pub(super) output_dir: Option<…>,`.
fn field_name(line: &'static str) -> Option<&'static str> {
    let rest = line.strip_prefix("pub")?;
    let rest = rest.strip_prefix("(super)").unwrap_or(rest).trim_start();
    let (name, _) = rest.split_once(':')?;
    let is_ident = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_ident.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_over_several_lines_and_an_attribute_is_one_paragraph() {
        let docs = field_docs("RawConfig");
        let names: Vec<&str> = docs.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["daemon", "feed", "source"]);
        assert_eq!(
            docs[1].1,
            "`[[feed]]`: merged outputs. Without any, one feed named `all` (\"All sources\") merges every source."
        );
    }

    #[test]
    fn an_unknown_struct_has_no_fields() {
        assert!(field_docs("RawNothing").is_empty());
    }

    #[test]
    fn field_lines_are_told_from_other_lines() {
        assert_eq!(
            field_name("pub(super) max_body: Option<Spanned<String>>,"),
            Some("max_body")
        );
        assert_eq!(field_name("pub id: String,"), Some("id"));
        assert_eq!(field_name("#[serde(default)]"), None);
        assert_eq!(field_name("pub(super) struct RawFeed {"), None);
    }
}
