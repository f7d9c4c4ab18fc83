//! When a site changes: telling that a source broke, proposing its fix, and
//! applying it.
//!
//! ```text
//! run's counts ──▶ detect (collapse against the last runs) ──▶ propose (suggest's detection
//!                                                               on the page just fetched)
//!     store (proposal, failure streak) ──▶ notice (an entry atop the feeds) · `medee repair`
//!                                          (TOML diff, preview, `--write` through edit)
//! ```
//!
//! Everything here is pure: counts, page text and config text in; verdicts,
//! proposals, feed entries and config text out. The pipeline calls
//! [`detect::detect`] and [`propose::propose`] during a run, the publish snapshot
//! [`notice::notice`], and `medee repair` [`edit::rewrite_selectors`].

pub mod detect;
pub mod edit;
pub mod notice;
pub mod propose;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::extract::{FieldSelector, ItemSelectors, parse_css};

/// The selector values of an html source, as written in the config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectorSet {
    /// `item`.
    pub item: String,
    /// `title`.
    pub title: Option<String>,
    /// `link`.
    pub link: Option<String>,
    /// `date`.
    pub date: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `image`.
    pub image: Option<String>,
}

impl SelectorSet {
    /// The values a compiled source was written with.
    pub fn of(selectors: &ItemSelectors) -> Self {
        let text = |f: &Option<FieldSelector>| f.as_ref().map(|f| f.as_str().to_string());
        Self {
            item: selectors.item_source.clone(),
            title: text(&selectors.title),
            link: text(&selectors.link),
            date: text(&selectors.date),
            summary: text(&selectors.summary),
            image: text(&selectors.image),
        }
    }

    /// Each config key with its value, in the order they are shown.
    pub fn values(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("item", Some(self.item.as_str())),
            ("title", self.title.as_deref()),
            ("link", self.link.as_deref()),
            ("date", self.date.as_deref()),
            ("summary", self.summary.as_deref()),
            ("image", self.image.as_deref()),
        ]
    }

    /// One string naming these values, under which runs' counts are kept:
    /// a run is only compared with runs read by the same selectors.
    pub fn key(&self) -> String {
        self.values()
            .iter()
            .map(|(key, value)| format!("{key}={}", value.unwrap_or("")))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Compiles the values as the config would; the error names the key.
    pub fn compile(&self) -> Result<ItemSelectors, String> {
        let field = |key: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| FieldSelector::parse(v).map_err(|e| format!("{key}: {e}")))
                .transpose()
        };
        Ok(ItemSelectors {
            item: parse_css(&self.item).map_err(|e| format!("item: {e}"))?,
            item_source: self.item.clone(),
            title: field("title", &self.title)?,
            link: field("link", &self.link)?,
            date: field("date", &self.date)?,
            summary: field("summary", &self.summary)?,
            image: field("image", &self.image)?,
        })
    }
}

/// Replacement selectors found on a broken source's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The proposed values.
    pub selectors: SelectorSet,
    /// When the page they were found on was fetched.
    pub at: DateTime<Utc>,
    /// Items they extract from that page.
    pub items: usize,
    /// Their first headlines, to recognise the list.
    pub sample: Vec<String>,
    /// Why they fail the quality checks an adoption needs; empty when they pass.
    pub problems: Vec<String>,
}

impl Proposal {
    /// Whether the proposal passes the quality checks (`on_break = "adopt"` needs that).
    pub fn passes(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What an `on_break = "adopt"` source extracts with, and the configured
/// selectors it stands in for: once the config's selectors differ from
/// `replaces`, the config wins again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adoption {
    /// The proposal in use.
    pub proposal: Proposal,
    /// The configured selectors when it was adopted.
    pub replaces: SelectorSet,
}

impl Adoption {
    /// Whether the source still stands where it was adopted: `on_break =
    /// "adopt"` and the config's selectors those the proposal replaced. A
    /// config that changed since (a `repair --write`) wins again.
    pub fn in_force(&self, source: &crate::config::Source) -> bool {
        match &source.kind {
            crate::config::SourceKind::Html(selectors) => {
                source.on_break == crate::config::OnBreak::Adopt
                    && SelectorSet::of(selectors) == self.replaces
            }
            _ => false,
        }
    }
}
