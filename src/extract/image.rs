//! The real image of an `<img>` as sites lazy-load it: a `srcset` (or
//! `data-srcset`) candidate list, a lazy attribute, a `<picture>`'s
//! `<source>`, or the `<noscript>` copy, never the 1-pixel stand-in in `src`.

use scraper::ElementRef;

/// Attributes lazy-loading scripts read the real URL from, most specific first.
const LAZY_SOURCES: &[&str] = &[
    "data-src",
    "data-lazy-src",
    "data-original",
    "data-lazy",
    "data-url",
];

/// Attributes holding a candidate list, the lazy ones first.
const SRCSETS: &[&str] = &["data-srcset", "data-lazy-srcset", "srcset"];

/// Words in a file name that mark a stand-in image.
const PLACEHOLDER_WORDS: &[&str] = &[
    "1px",
    "1x1",
    "blank",
    "spacer",
    "pixel",
    "placeholder",
    "loading",
    "lazy",
    "transparent",
    "empty",
];

/// The image URL (unresolved) an element shows: the element itself if it is
/// an `<img>`, else its first `<img>` (or a `<noscript>`'s), else a
/// `style="background-image: url(…)"` on it.
pub fn image_source(element: ElementRef<'_>) -> Option<String> {
    let img = if element.value().name() == "img" {
        Some(element)
    } else {
        element
            .descendants()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().name() == "img")
    };
    if let Some(found) = img.and_then(img_source) {
        return Some(found);
    }
    // A stand-in `<img>` usually sits next to its `<noscript>` copy.
    let scope = match img.filter(|i| *i == element) {
        Some(img) => img.parent().and_then(ElementRef::wrap).unwrap_or(element),
        None => element,
    };
    if let Some(found) = noscript_image(scope) {
        return Some(found);
    }
    element
        .value()
        .attr("style")
        .and_then(super::css_url)
        .map(str::to_string)
}

/// An `<img>`'s real source: the best `srcset` candidate, a lazy attribute,
/// `src` unless it is a placeholder, then its `<picture>`'s `<source>`s.
fn img_source(img: ElementRef<'_>) -> Option<String> {
    let attrs = img.value();
    let stand_in = declared_tiny(img);
    SRCSETS
        .iter()
        .filter_map(|name| attrs.attr(name))
        .find_map(best_candidate)
        .or_else(|| {
            LAZY_SOURCES
                .iter()
                .filter_map(|name| attrs.attr(name))
                .map(str::trim)
                .find(|v| !v.is_empty() && !is_placeholder(v))
                .map(str::to_string)
        })
        .or_else(|| {
            attrs
                .attr("src")
                .map(str::trim)
                .filter(|src| !stand_in && !is_placeholder(src))
                .map(str::to_string)
        })
        .or_else(|| picture_source(img))
}

/// The best candidate of a `<picture>`'s `<source srcset>`s around `img`.
fn picture_source(img: ElementRef<'_>) -> Option<String> {
    let picture = img
        .parent()
        .and_then(ElementRef::wrap)
        .filter(|p| p.value().name() == "picture")?;
    picture
        .children()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == "source")
        .find_map(|source| {
            SRCSETS
                .iter()
                .filter_map(|name| source.value().attr(name))
                .find_map(best_candidate)
        })
}

/// The `<img>` inside a `<noscript>` (kept as text by the parser, which runs
/// as if scripts were on): the copy sites leave for readers without scripts.
fn noscript_image(element: ElementRef<'_>) -> Option<String> {
    element.select(selector!("noscript")).find_map(|n| {
        let markup: String = n.text().collect();
        let fragment = super::parse_fragment(&markup);
        fragment.select(selector!("img")).find_map(img_source)
    })
}

/// The widest candidate of a `srcset` (`a.jpg 420w, b.jpg 800w`), else the
/// highest density (`1x, 2x`), else the last; `None` when every candidate
/// is a placeholder.
pub fn best_candidate(srcset: &str) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in split_candidates(srcset) {
        let mut parts = candidate.split_whitespace();
        let Some(url) = parts.next().filter(|u| !is_placeholder(u)) else {
            continue;
        };
        let weight = parts.next().map_or(1.0, descriptor_weight);
        if best.is_none_or(|(w, _)| weight >= w) {
            best = Some((weight, url));
        }
    }
    best.map(|(_, url)| url.to_string())
}

/// Candidates are separated by commas that end a URL: a comma followed by
/// white space, or one after a descriptor. A comma inside a URL
/// (`/resize/w=420,h=280/x.jpg`) is not a separator.
fn split_candidates(srcset: &str) -> Vec<&str> {
    let mut candidates = Vec::new();
    let mut start = 0;
    let bytes = srcset.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b',' {
            continue;
        }
        let before = srcset[start..i].trim();
        let after_space = bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace);
        let after_descriptor = before.split_whitespace().count() > 1;
        if after_space || after_descriptor {
            candidates.push(before);
            start = i + 1;
        }
    }
    candidates.push(srcset[start..].trim());
    candidates.retain(|c| !c.is_empty());
    candidates
}

/// `800w` → 800, `2x` → 2 (widths outrank densities only within one list,
/// which uses one kind); anything else counts as 1.
fn descriptor_weight(descriptor: &str) -> f64 {
    let (number, _) = descriptor.split_at(descriptor.len().saturating_sub(1));
    match descriptor.chars().last() {
        Some('w' | 'x') => number.parse().unwrap_or(1.0),
        _ => 1.0,
    }
}

/// A `src` that only stands in until a script loads the real image: empty,
/// a `data:` URI, or a file named like a spacer (`1px.png`, `blank.gif`,
/// `placeholder.svg`, `lazy-load.png`…).
pub fn is_placeholder(src: &str) -> bool {
    let src = src.trim();
    if src.is_empty() || src.starts_with("data:") {
        return true;
    }
    let path = src.split(['?', '#']).next().unwrap_or(src);
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| PLACEHOLDER_WORDS.contains(&word))
}

/// Declared `width`/`height` of 1 or 2 pixels: a tracking pixel or spacer.
fn declared_tiny(img: ElementRef<'_>) -> bool {
    ["width", "height"].iter().any(|name| {
        img.value()
            .attr(name)
            .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
            .is_some_and(|n| n <= 2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(html: &str) -> Option<String> {
        let document = scraper::Html::parse_fragment(html);
        let element = document
            .root_element()
            .children()
            .find_map(ElementRef::wrap)?;
        image_source(element)
    }

    #[test]
    fn srcset_candidates_pick_the_widest_or_the_densest() {
        let cases = [
            ("a.jpg 420w, b.jpg 800w, c.jpg 600w", Some("b.jpg")),
            ("/420/x.jpg 1x, /600/x.jpg 2x", Some("/600/x.jpg")),
            ("one.jpg", Some("one.jpg")),
            (
                "/r/w=420,h=280/x.jpg 420w, /r/w=840,h=560/x.jpg 840w",
                Some("/r/w=840,h=560/x.jpg"),
            ),
            ("/img/1px.png 1x", None),
            ("", None),
        ];
        for (srcset, expected) in cases {
            assert_eq!(best_candidate(srcset).as_deref(), expected, "{srcset}");
        }
    }

    #[test]
    fn placeholders_are_known_by_name_and_shape() {
        for src in [
            "",
            "data:image/gif;base64,R0lGOD",
            "/static/1px.aaaf049e.png",
            "/img/blank.gif",
            "/spacer.gif",
            "/assets/placeholder.svg",
            "/i/lazy-load.png",
            "/loading.gif",
            "/pixel.png?v=2",
        ] {
            assert!(is_placeholder(src), "{src}");
        }
        for src in [
            "/news/2025/10/331204-uih.jpg",
            "/uploads/pixelart-exhibition.jpg",
            "/images/loader-crane.jpg",
        ] {
            assert!(!is_placeholder(src), "{src}");
        }
    }

    #[test]
    fn the_lazy_source_wins_over_a_stand_in() {
        let cases = [
            (
                r#"<img src="/1px.aaaf049e.png" data-srcset="/420/x.jpg 1x, /600/x.jpg 2x">"#,
                Some("/600/x.jpg"),
            ),
            (
                r#"<img src="/blank.gif" data-src="/real.jpg">"#,
                Some("/real.jpg"),
            ),
            (r#"<img src="/thumb.jpg">"#, Some("/thumb.jpg")),
            (r#"<img src="/t.jpg" width="1" height="1">"#, None),
            (
                r#"<img src="/small.jpg" srcset="/small.jpg 300w, /large.jpg 1200w">"#,
                Some("/large.jpg"),
            ),
            (
                r#"<picture><source type="image/webp" srcset="/a.webp 1x, /a@2x.webp 2x"><img src="data:,"></picture>"#,
                Some("/a@2x.webp"),
            ),
            (
                r#"<div><img src="/placeholder.png" class="lazy"><noscript><img src="/real-from-noscript.jpg"></noscript></div>"#,
                Some("/real-from-noscript.jpg"),
            ),
            (
                r#"<div style="background-image: url('/bg.jpg')"></div>"#,
                Some("/bg.jpg"),
            ),
        ];
        for (html, expected) in cases {
            assert_eq!(first(html).as_deref(), expected, "{html}");
        }
    }
}
