//! A proposed fix: the detection `medee suggest` uses, run on the page a
//! broken source just fetched, and the quality checks an adoption needs.
//!
//! The checks (also in the README):
//! - at least [`MIN_ITEMS`] (5) items;
//! - every link leads to the site's article pages: the source's host (with
//!   or without `www.`), not the listing itself nor the site's front page,
//!   and no category, tag, author, page, search, user or profile path;
//! - no two items with the same headline (compared as dedupe compares them);
//! - every headline of headline length: [`TITLE_CHARS`] characters (12 to
//!   300) and at least two words.

use std::collections::HashSet;
use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};
use url::Url;

use super::{Proposal, SelectorSet};
use crate::config::Limits;
use crate::extract::{RawItem, extract};
use crate::identity::title_key;

/// Fewest items a proposal must extract to be adopted.
pub const MIN_ITEMS: usize = 5;
/// Characters in a headline.
pub const TITLE_CHARS: RangeInclusive<usize> = 12..=300;
/// Headlines it shows.
const SAMPLE: usize = 5;
/// The best candidate `suggest` finds on `html` (fetched from `page` at
/// `at`), unless it is what the source already has (then there is nothing
/// to propose) or nothing is found.
pub fn propose(
    html: &str,
    page: &Url,
    current: &SelectorSet,
    limits: &Limits,
    at: DateTime<Utc>,
) -> Option<Proposal> {
    let (candidates, _) = crate::suggest::candidates(html, page, at);
    let best = candidates.into_iter().next()?;
    let selectors = SelectorSet {
        item: best.item,
        title: best.fields.title,
        link: best.fields.link,
        date: best.fields.date,
        summary: best.fields.summary,
        image: best.fields.image,
    };
    if &selectors == current {
        return None;
    }
    let compiled = selectors.compile().ok()?;
    let items = extract(html, page, &compiled, limits).items;
    Some(Proposal {
        problems: quality_problems(&items, page),
        items: items.len(),
        sample: items.iter().take(SAMPLE).map(|i| i.title.clone()).collect(),
        selectors,
        at,
    })
}

/// Why `items` (read from `page`) are not good enough to adopt; empty when they are.
pub fn quality_problems(items: &[RawItem], page: &Url) -> Vec<String> {
    let mut problems = Vec::new();
    if items.len() < MIN_ITEMS {
        problems.push(format!("{} items, fewer than {MIN_ITEMS}", items.len()));
    }
    if let Some(off) = items.iter().find(|i| !is_article_link(&i.link, page)) {
        problems.push(format!(
            "a link is not an article page of the site: {}",
            off.link
        ));
    }
    let mut seen = HashSet::new();
    if let Some(twice) = items.iter().find(|i| !seen.insert(title_key(&i.title))) {
        problems.push(format!("two items have the title {:?}", twice.title));
    }
    if let Some(odd) = items.iter().find(|i| !is_headline(&i.title)) {
        problems.push(format!("a title is not headline-length: {:?}", odd.title));
    }
    problems
}

/// A link on the source's own site that is neither the listing, nor the
/// front page, nor a category-like page.
fn is_article_link(link: &str, page: &Url) -> bool {
    let Ok(url) = Url::parse(link) else {
        return false;
    };
    let site = |u: &Url| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_string())
    };
    let path = url.path().trim_end_matches('/');
    site(&url) == site(page)
        && !path.is_empty()
        && path != page.path().trim_end_matches('/')
        && !url
            .path_segments()
            .into_iter()
            .flatten()
            .any(crate::suggest::is_listing_word)
}

fn is_headline(title: &str) -> bool {
    TITLE_CHARS.contains(&title.chars().count()) && title.split_whitespace().count() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(link: &str, title: &str) -> RawItem {
        RawItem {
            title: title.to_string(),
            link: link.to_string(),
            canonical_link: link.to_string(),
            date_text: None,
            summary: None,
            image: None,
        }
    }

    fn page() -> Url {
        Url::parse("https://www.gogo.mn/news/").expect("url")
    }

    fn good(n: usize) -> Vec<RawItem> {
        (0..n)
            .map(|i| {
                item(
                    &format!("https://gogo.mn/r/{i}"),
                    &format!("Засгийн газар хуралдав {i}"),
                )
            })
            .collect()
    }

    #[test]
    fn five_distinct_headlines_linking_to_articles_pass() {
        assert_eq!(quality_problems(&good(5), &page()), Vec::<String>::new());
    }

    #[test]
    fn each_check_names_what_fails() {
        assert!(quality_problems(&good(4), &page())[0].contains("fewer than 5"));
        let cases = [
            (
                item("https://other.mn/r/1", "Засгийн газар хуралдав"),
                "article page",
            ),
            (
                item("https://gogo.mn/category/politics", "Улс төрийн мэдээ"),
                "article page",
            ),
            (
                item("https://gogo.mn/news", "Бүх мэдээ энд байна"),
                "article page",
            ),
            (
                item("https://gogo.mn/r/9", "Засгийн газар хуралдав 0"),
                "two items",
            ),
            (item("https://gogo.mn/r/9", "Мэдээ"), "headline-length"),
        ];
        for (extra, expected) in cases {
            let mut items = good(5);
            items.push(extra);
            let problems = quality_problems(&items, &page());
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains(expected), "{problems:?}");
        }
    }
}
