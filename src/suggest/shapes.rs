//! Article URL shapes learned from the page itself.
//!
//! Sites spell article addresses in many ways (`/a/246894`, `/n/3kxa`,
//! `content.php?id=2845130`, `/2024/07/05/%D0%B1…-slug/`), so no fixed rule
//! fits them all. Instead every same-site link is reduced to a shape (its
//! leading segments with numbers generalised, and the kind of its last segment
//! or numeric query value), and a shape is taken as the site's article shape
//! when several distinct links of that shape carry headline-length text. Links
//! under category, tag, author, user, page or search paths never count.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use scraper::{ElementRef, Html};
use url::Url;

use crate::extract::{element_text, resolve_http_url};

use super::ANCHORS;

/// Distinct headline-bearing links a shape needs to count as the article shape.
const MIN_LINKS_PER_SHAPE: usize = 3;

/// Path words that mark listing, taxonomy or account pages, never articles.
const LISTING_WORDS: &[&str] = &[
    "category",
    "categories",
    "tag",
    "tags",
    "author",
    "authors",
    "user",
    "users",
    "profile",
    "member",
    "members",
    "page",
    "search",
    "login",
    "register",
    "feed",
    "rss",
    "about",
    "contact",
    "angilal",
];

/// The page's base URL and the article shapes learned from its links.
pub(crate) struct Site {
    /// The page's URL: relative links resolve against it.
    pub(crate) url: Url,
    shapes: HashSet<String>,
    /// What each anchor links to: ranking asks many times, and each answer parses URLs.
    pub(crate) links: Memo<Option<(String, String)>>,
    /// Each block's headline, asked for as often.
    pub(crate) headlines: Memo<Option<String>>,
}

/// Answers per element of one page, computed once.
pub(crate) type Memo<T> = RefCell<HashMap<ego_tree::NodeId, T>>;

impl Site {
    /// Learns the article shapes from every same-site link of `document`.
    pub(crate) fn learn(document: &Html, url: &Url) -> Self {
        let mut by_shape: HashMap<String, HashSet<String>> = HashMap::new();
        for anchor in document.select(&ANCHORS) {
            let Some(target) = same_site_target(anchor, url) else {
                continue;
            };
            if !is_headline_text(&link_text(anchor)) {
                continue;
            }
            let key = target.path().to_string() + target.query().unwrap_or("");
            for shape in shapes_of(&target) {
                by_shape.entry(shape).or_default().insert(key.clone());
            }
        }
        let shapes = by_shape
            .into_iter()
            .filter(|(_, links)| links.len() >= MIN_LINKS_PER_SHAPE)
            .map(|(shape, _)| shape)
            .collect();
        Self {
            url: url.clone(),
            shapes,
            links: Memo::default(),
            headlines: Memo::default(),
        }
    }

    /// Whether a link to `url` reading `text` is an article: it has one of the
    /// page's article shapes. A plain word under an article prefix
    /// (`/articles/tugsugchid`) must also read as a headline, since author and
    /// section pages share such prefixes (`/sites/johnsmith`).
    pub(crate) fn is_article(&self, url: &Url, text: &str) -> bool {
        shapes_of(url)
            .iter()
            .any(|s| self.shapes.contains(s) && (!s.ends_with("/Name") || is_headline_text(text)))
    }
}

/// The link's target when it is on the page's site (with or without `www.`) and not the page itself.
pub(crate) fn same_site_target(anchor: ElementRef<'_>, page: &Url) -> Option<Url> {
    let href = anchor.value().attr("href")?;
    let mut url = Url::parse(&resolve_http_url(page, href)?).ok()?;
    let bare = |h: &str| h.trim_start_matches("www.").to_ascii_lowercase();
    if url.host_str().map(bare) != page.host_str().map(bare) {
        return None;
    }
    url.set_fragment(None);
    let mut here = page.clone();
    here.set_fragment(None);
    (url != here).then_some(url)
}

/// The anchor's text, else its `title` or an image's `alt` (image-only cards).
pub(crate) fn link_text(anchor: ElementRef<'_>) -> String {
    let text = element_text(anchor);
    if !text.is_empty() {
        return text;
    }
    anchor
        .value()
        .attr("title")
        .map(str::to_string)
        .or_else(|| {
            anchor
                .descendants()
                .filter_map(ElementRef::wrap)
                .find_map(|e| e.value().attr("alt").map(str::to_string))
        })
        .unwrap_or_default()
}

/// Menus and section links are one or two words; headlines are longer.
pub(super) fn is_headline_text(text: &str) -> bool {
    text.split_whitespace().count() >= 3 && text.chars().count() >= 15
}

/// The exact shape and the same shape with every leading segment generalised
/// (`news/Slug` and `*/Slug`), so that one article shape spread over several
/// sections (`/news/…`, `/sport/…`, `/uk/…`) is learned too.
fn shapes_of(url: &Url) -> Vec<String> {
    let Some(exact) = shape_of(url) else {
        return Vec::new();
    };
    let (path, query) = exact
        .split_once('?')
        .map_or((exact.as_str(), None), |(p, q)| (p, Some(q)));
    let mut segments: Vec<&str> = path.split('/').collect();
    let last = segments.pop().unwrap_or("");
    let mut generic = vec!["*"; segments.len()];
    generic.push(last);
    let generic = generic.join("/") + &query.map(|q| format!("?{q}")).unwrap_or_default();
    if last == "Name" {
        return vec![exact];
    }
    let mut shapes = vec![exact.clone()];
    if generic != exact {
        shapes.push(generic);
    }
    // A slug and a plain word under one prefix name articles alike
    // (`/articles/free-bus-route`, `/articles/tugsugchid`).
    if last == "Slug" && query.is_none() && !segments.is_empty() {
        shapes.push(format!("{}/Name", segments.join("/")));
    }
    shapes
}

/// `a/#id`, `n/#code`, `#/#/#/#slug`, `content.php?id=#`; `None` for taxonomy,
/// account and home links and for plain words (`/about`, `/politics`).
fn shape_of(url: &Url) -> Option<String> {
    let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| is_listing_word(s)) {
        return None;
    }
    let numeric_query = url
        .query_pairs()
        .find(|(_, v)| is_number(v) && v.len() >= 2);
    let (last, leading) = match segments.split_last() {
        Some((last, leading)) => (Some(*last), leading),
        None => (None, &[][..]),
    };
    let mut shape: Vec<String> = leading
        .iter()
        .map(|s| {
            if is_number(s) {
                "#".to_string()
            } else {
                (*s).to_string()
            }
        })
        .collect();
    match (last.map(segment_kind), numeric_query) {
        (_, Some((key, _))) => {
            shape.push(last.unwrap_or("").to_string());
            Some(format!("{}?{key}=#", shape.join("/")))
        }
        // A plain word is an article name only under a fixed prefix (`/articles/city-bond`,
        // `/articles/tugsugchid`), and only when many headlines share that prefix.
        (Some(Kind::Word), None) if !leading.is_empty() => {
            shape.push("Name".to_string());
            Some(shape.join("/"))
        }
        (Some(Kind::Word) | None, None) => None,
        (Some(kind), None) => {
            shape.push(format!("{kind:?}"));
            Some(shape.join("/"))
        }
    }
}

/// Whether a path segment names a listing, taxonomy or account page
/// (`category`, `tag`, `users`, `page`…), never an article.
pub fn is_listing_word(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    LISTING_WORDS.contains(&lower.as_str())
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// What the last path segment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Digits, optionally with an extension: `246894`, `3411.html`.
    Number,
    /// A short mixed code: `3kxa`, `n7k2qa`.
    Code,
    /// Words joined by `-`/`_` (8 characters or more), or percent-encoded text: `uul-uurhai`.
    Slug,
    /// One plain word: `politics`, `index.php`.
    Word,
}

fn segment_kind(segment: &str) -> Kind {
    let stem = segment
        .rsplit_once('.')
        .filter(|(_, ext)| matches!(*ext, "html" | "htm" | "php" | "aspx" | "shtml"))
        .map_or(segment, |(stem, _)| stem);
    let digits = stem.bytes().filter(u8::is_ascii_digit).count();
    let alnum = stem.bytes().all(|b| b.is_ascii_alphanumeric());
    if is_number(stem) {
        Kind::Number
    } else if alnum && digits >= 1 && stem.len() <= 12 {
        Kind::Code
    } else if stem.contains('%') || (stem.contains(['-', '_']) && stem.len() >= 8) || digits >= 4 {
        Kind::Slug
    } else {
        Kind::Word
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(url: &str) -> Option<String> {
        shape_of(&Url::parse(url).expect("url"))
    }

    #[test]
    fn ids_codes_slugs_and_query_ids_have_shapes() {
        assert_eq!(shape("https://x.mn/a/246894").as_deref(), Some("a/Number"));
        assert_eq!(shape("https://x.mn/n/3kxa").as_deref(), Some("n/Code"));
        assert_eq!(
            shape("https://x.mn/content.php?id=2845130").as_deref(),
            Some("content.php?id=#")
        );
        assert_eq!(
            shape("https://x.mn/2024/07/05/%D0%B1%D0%B0-slug/").as_deref(),
            Some("#/#/#/Slug")
        );
    }

    #[test]
    fn a_word_under_a_prefix_has_a_shape_of_its_own() {
        assert_eq!(
            shapes_of(&Url::parse("https://x.mn/articles/tugsugchid").expect("url")),
            vec!["articles/Name".to_string()]
        );
    }

    #[test]
    fn taxonomy_account_and_word_links_have_none() {
        for url in [
            "https://x.mn/users/23",
            "https://x.mn/category/politics/",
            "https://x.mn/tag/coal",
            "https://x.mn/page/2",
            "https://x.mn/search?q=coal",
            "https://x.mn/politics",
            "https://x.mn/",
        ] {
            assert_eq!(shape(url), None, "{url}");
        }
    }
}
