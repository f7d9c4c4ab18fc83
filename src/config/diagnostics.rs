//! Config mistakes as `file:line:column: message`, collected rather than
//! returned one at a time, so that a user sees every mistake in one run.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::sanitize::floor_char_boundary;

/// One problem in a config file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The config file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read config: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file has one or more mistakes.
    #[error("{}", DiagnosticList(.0))]
    Invalid(Vec<Diagnostic>),
}

struct DiagnosticList<'a>(&'a [Diagnostic]);

impl fmt::Display for DiagnosticList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics, turning byte spans into line and column.
pub(super) struct Diagnostics<'a> {
    text: &'a str,
    path: &'a Path,
    list: Vec<(usize, Diagnostic)>,
}

impl<'a> Diagnostics<'a> {
    /// A collector for the config `text` read from `path`.
    pub(super) fn new(text: &'a str, path: &'a Path) -> Self {
        Self {
            text,
            path,
            list: Vec::new(),
        }
    }

    /// The config text, for errors about values whose spans serde does not keep.
    pub(super) fn text(&self) -> &'a str {
        self.text
    }

    /// The config file, for messages and the validated config.
    pub(super) fn path(&self) -> &'a Path {
        self.path
    }

    /// How many mistakes were recorded so far: a validator compares counts
    /// before and after a part to know whether that part was valid.
    pub(super) fn count(&self) -> usize {
        self.list.len()
    }

    /// Records `message` at the start of `span` (a byte range of the text).
    pub(super) fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let offset = span.start.min(self.text.len());
        // A span from the TOML parser may point inside a multi-byte character.
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        self.list.push((
            offset,
            Diagnostic {
                path: self.path.to_path_buf(),
                line,
                column,
                message: message.into(),
            },
        ));
    }

    /// Records a TOML syntax or type error at its span.
    pub(super) fn toml_error(&mut self, e: &toml::de::Error) {
        let message = e.message().trim().to_string();
        self.at(e.span().unwrap_or(0..0), message);
    }

    /// The recorded mistakes in file order, or `Ok` when there are none.
    pub(super) fn finish(self) -> Result<(), ConfigError> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    /// The recorded mistakes in file order.
    pub(super) fn into_error(mut self) -> ConfigError {
        self.list.sort_by_key(|(offset, _)| *offset);
        ConfigError::Invalid(self.list.into_iter().map(|(_, d)| d).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(text: &str, offset: usize) -> (usize, usize) {
        let mut diags = Diagnostics::new(text, Path::new("m.toml"));
        diags.at(offset..offset + 1, "x");
        match diags.into_error() {
            ConfigError::Invalid(list) => (list[0].line, list[0].column),
            ConfigError::Read { .. } => (0, 0),
        }
    }

    #[test]
    fn columns_count_characters_and_lines_start_at_one() {
        assert_eq!(located("abc", 0), (1, 1));
        assert_eq!(located("ab\ncd", 4), (2, 2));
        assert_eq!(located("ёё = 1", 4), (1, 3), "two-byte letters count once");
        assert_eq!(located("ё", 1), (1, 1), "inside a character: its start");
        assert_eq!(located("ab", 99), (1, 3), "past the end: the end");
    }

    #[test]
    fn mistakes_come_out_in_file_order_one_per_line() {
        let mut diags = Diagnostics::new("a\nb\n", Path::new("m.toml"));
        diags.at(2..3, "second");
        diags.at(0..1, "first");
        assert_eq!(diags.count(), 2);
        let shown = diags.into_error().to_string();
        assert_eq!(shown, "m.toml:1:1: first\nm.toml:2:1: second");
        assert!(Diagnostics::new("", Path::new("m.toml")).finish().is_ok());
    }
}
