//! The TOML type of each key, and whether it is required, found by handing
//! sample values to the same serde derive `Config::parse` uses: the raw
//! structs' field types are the declaration, so a key's type in the schema
//! cannot drift from what `check` accepts.

use serde::de::DeserializeOwned;

/// The type of a key's value, as TOML (and so the schema) sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shape {
    /// A string.
    String,
    /// A whole number.
    Integer,
    /// A floating-point number.
    Float,
    /// `true` or `false`.
    Boolean,
    /// A table, whose keys another raw struct declares.
    Table,
    /// An array of values of one shape.
    Array(Box<Shape>),
}

/// The sample values tried, each with the shape it proves when it is read.
fn samples() -> [(&'static str, Shape); 9] {
    let array = |shape| Shape::Array(Box::new(shape));
    [
        ("\"text\"", Shape::String),
        // A float field reads `1` too, so the float sample goes first.
        ("1.5", Shape::Float),
        ("1", Shape::Integer),
        ("true", Shape::Boolean),
        ("{}", Shape::Table),
        ("[\"text\"]", array(Shape::String)),
        ("[1]", array(Shape::Integer)),
        ("[true]", array(Shape::Boolean)),
        ("[{}]", array(Shape::Table)),
    ]
}

/// The shape of `key` in the struct `T`; `None` when no sample is read (a
/// type this module does not know yet).
pub(super) fn shape_of<T: DeserializeOwned>(key: &str) -> Option<Shape> {
    samples()
        .into_iter()
        .find(|(sample, _)| reads::<T>(&format!("{key} = {sample}\n")))
        .map(|(_, shape)| shape)
}

/// A value of `shape` that reads whatever it holds: arrays are empty, so a
/// required array of tables does not ask for its tables' own keys.
fn filler(shape: &Shape) -> &'static str {
    match shape {
        Shape::String => "\"text\"",
        Shape::Integer => "1",
        Shape::Float => "1.5",
        Shape::Boolean => "true",
        Shape::Table => "{}",
        Shape::Array(_) => "[]",
    }
}

/// The keys `T` cannot do without: serde names the first missing one, which
/// is then given a sample value, until the struct reads.
pub(super) fn required_keys<T: DeserializeOwned>(keys: &[&'static str]) -> Vec<&'static str> {
    let mut text = String::new();
    let mut required = Vec::new();
    while let Err(e) = toml::from_str::<T>(&text) {
        let Some(key) = missing_field(e.message())
            .and_then(|name| keys.iter().copied().find(|k| *k == name))
            .filter(|key| !required.contains(key))
        else {
            break;
        };
        let Some(shape) = shape_of::<T>(key) else {
            break;
        };
        required.push(key);
        text.push_str(&format!("{key} = {}\n", filler(&shape)));
    }
    required
}

/// True when `text` reads into `T` apart from keys it leaves out: the sample's
/// own type was accepted.
fn reads<T: DeserializeOwned>(text: &str) -> bool {
    match toml::from_str::<T>(text) {
        Ok(_) => true,
        Err(e) => missing_field(e.message()).is_some(),
    }
}

/// The field named by serde's "missing field `name`" message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        word: String,
        count: Option<toml::Spanned<i64>>,
        ratio: f64,
        on: Option<bool>,
        #[serde(default)]
        words: Vec<String>,
        many: Vec<Inner>,
        nested: Option<Inner>,
        last: String,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[test]
    fn each_type_is_told_by_the_sample_it_reads() {
        let shape = shape_of::<Sample>;
        assert_eq!(shape("word"), Some(Shape::String));
        assert_eq!(shape("count"), Some(Shape::Integer));
        assert_eq!(shape("ratio"), Some(Shape::Float));
        assert_eq!(shape("on"), Some(Shape::Boolean));
        assert_eq!(shape("words"), Some(Shape::Array(Box::new(Shape::String))));
        assert_eq!(shape("nested"), Some(Shape::Table));
        assert_eq!(shape("many"), Some(Shape::Array(Box::new(Shape::Table))));
    }

    #[test]
    fn required_keys_are_those_without_option_or_default() {
        let keys = [
            "word", "count", "ratio", "on", "words", "many", "nested", "last",
        ];
        assert_eq!(
            required_keys::<Sample>(&keys),
            ["word", "ratio", "many", "last"]
        );
    }

    #[test]
    fn only_serde_missing_field_messages_name_a_field() {
        assert_eq!(missing_field("missing field `name`"), Some("name"));
        assert_eq!(
            missing_field("invalid type: string \"x\", expected i64"),
            None
        );
    }
}
