//! Text hygiene shared by extraction and rendering: whitespace, HTML sanitising,
//! and the characters XML cannot carry.

use ammonia::UrlRelative;
use url::Url;

/// Collapses every run of whitespace to one space and trims the ends.
pub fn collapse_whitespace(text: &str) -> String {
    if is_collapsed(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `text` certainly needs no collapsing: single ASCII spaces between
/// words and no byte that could start other whitespace (ASCII controls, or
/// the lead bytes of U+0085, U+00A0 and the U+1680–U+3000 spaces). A byte
/// scan, much cheaper than decoding, and true for most scraped headlines.
fn is_collapsed(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return false;
    }
    let mut after_space = false;
    for &b in bytes {
        match b {
            b' ' if after_space => return false,
            b' ' => after_space = true,
            0x09..=0x0D | 0xC2 | 0xE1..=0xE3 => return false,
            _ => after_space = false,
        }
    }
    true
}

/// Removes characters XML 1.0 forbids or validators reject (C0 and C1 controls
/// but tab/newline/CR, and U+FFFE/U+FFFF), so scraped text can never break a feed.
pub fn xml_safe(text: &str) -> String {
    if !text.bytes().any(may_be_non_xml) {
        return text.to_string();
    }
    text.chars().filter(|&c| is_xml_char(c)).collect()
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (!c.is_control() && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Escapes text for HTML and XML attribute or element content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut rest = text;
    // Copies the runs between special characters whole: most text has none.
    while let Some(at) = rest.bytes().position(may_need_escaping) {
        out.push_str(&rest[..at]);
        let Some(c) = rest[at..].chars().next() else {
            break;
        };
        out.push_str(match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            c if !is_xml_char(c) => "",
            _ => &rest[at..at + c.len_utf8()],
        });
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// Whether a byte may begin a character [`xml_safe`] drops: ASCII controls
/// (tab, newline and CR aside), and the lead bytes of C1 controls and of
/// U+FFFE/U+FFFF. A cheap test; the character itself is checked after.
fn may_be_non_xml(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F | 0x7F | 0xC2 | 0xEF)
}

/// Whether a byte may begin a character [`escape`] changes: markup, quotes,
/// or what [`may_be_non_xml`] flags.
fn may_need_escaping(b: u8) -> bool {
    matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'') || may_be_non_xml(b)
}

/// Sanitises scraped HTML for a feed reader: no scripts, handlers or styles,
/// every URL made absolute against `base`, and no `]]>` that could end a CDATA section.
///
/// ammonia parses with html5ever itself, unbounded, so it is given markup
/// whose nesting stays within [`crate::extract::MAX_DEPTH`]: deeper markup is
/// flattened first, and markup that cannot be made shallow is reduced to its text.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    // Most teasers are plain text; serialised HTML text is already escaped, so
    // without a tag there is nothing to sanitise (and no HTML parse to pay for).
    if !html.contains('<') {
        return escape_bare_ampersands(&xml_safe(html)).replace("]]>", "]]&gt;");
    }
    let safe = xml_safe(html);
    let Some(shallow) = crate::extract::shallow_markup(&safe) else {
        return escape(&html_to_text(&safe)).replace("]]>", "]]&gt;");
    };
    let shallow = match with_real_image_sources(&shallow) {
        Some(rewritten) => std::borrow::Cow::Owned(rewritten),
        None => shallow,
    };
    let clean = ammonia::Builder::default()
        .url_relative(UrlRelative::RewriteWithBase(base.clone()))
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&shallow)
        .to_string();
    clean.replace("]]>", "]]&gt;")
}

/// The markup with every lazy-loaded `<img>`'s real source moved into
/// `src` (sanitising keeps only `src`, so a `data-srcset` would be lost and
/// the reader shown the 1-pixel stand-in); `None` when nothing changes.
fn with_real_image_sources(markup: &str) -> Option<String> {
    if !markup.contains("<img") {
        return None;
    }
    let mut fragment = crate::extract::parse_fragment(markup);
    let fixes: Vec<(ego_tree::NodeId, String)> = fragment
        .select(crate::extract::selector!("img"))
        .filter_map(|img| {
            let real = crate::extract::image_source(img)?;
            (img.value().attr("src") != Some(real.as_str())).then(|| (img.id(), real))
        })
        .collect();
    if fixes.is_empty() {
        return None;
    }
    for (id, src) in fixes {
        if let Some(mut node) = fragment.tree.get_mut(id)
            && let scraper::Node::Element(element) = node.value()
        {
            element.attrs.retain(|(name, _)| &*name.local != "src");
            element.attrs.push((
                html5ever::QualName::new(None, html5ever::ns!(), html5ever::local_name!("src")),
                src.as_str().into(),
            ));
        }
    }
    Some(fragment.root_element().inner_html())
}

/// Shortens `text` to at most `max` bytes on a character boundary; true if it was cut.
pub fn cut_text(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    text.truncate(floor_char_boundary(text, max));
    true
}

/// The largest character boundary of `text` at or before `index`.
pub(crate) fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    (0..=index)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// Sanitised HTML (or escaped text) shortened to at most `max` bytes and
/// still well-formed: cut between tags, never inside one or inside an
/// entity, and the elements left open closed. `None` when it fits already.
///
/// Along the markup, the bytes so far plus the end tags still owed never
/// decrease (an end tag moves its own length from one to the other), so the
/// cut is where that sum would first pass `max`.
pub fn cut_html(html: &str, max: usize) -> Option<String> {
    if html.len() <= max {
        return None;
    }
    let mut open: Vec<&str> = Vec::new();
    let mut owed = 0;
    let mut at = 0;
    while at < html.len() {
        let rest = &html[at..];
        let piece = Piece::next(rest);
        let owed_after = match piece {
            Piece::Start(name) => owed + name.len() + 3,
            Piece::End(name) if open.last() == Some(&name) => owed - (name.len() + 3),
            _ => owed,
        };
        if at + piece.len(rest) + owed_after > max {
            if let Piece::Text(_) = piece {
                at += floor_char_boundary(rest, max - owed - at);
            }
            break;
        }
        match piece {
            Piece::Start(name) => open.push(name),
            Piece::End(name) if open.last() == Some(&name) => {
                open.pop();
            }
            _ => {}
        }
        owed = owed_after;
        at += piece.len(rest);
    }
    let mut out = String::with_capacity(at + owed);
    out.push_str(&html[..at]);
    for name in open.iter().rev() {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    Some(out)
}

/// One step along serialised HTML, for [`cut_html`].
#[derive(Debug, Clone, Copy)]
enum Piece<'a> {
    /// A start tag that an end tag will close: its element name.
    Start(&'a str),
    /// An end tag's element name.
    End(&'a str),
    /// A void element's tag, a comment or a doctype, `len` bytes.
    Other(usize),
    /// An entity such as `&amp;`, `len` bytes, never to be cut.
    Entity(usize),
    /// Text up to the next tag or entity, `len` bytes, cut anywhere between characters.
    Text(usize),
}

impl<'a> Piece<'a> {
    fn next(rest: &'a str) -> Self {
        let bytes = rest.as_bytes();
        match bytes.first() {
            Some(b'<') => {
                let len = tag_len(rest);
                let body = &rest[1..len];
                let (end, name_start) = match body.strip_prefix('/') {
                    Some(after) => (true, after),
                    None => (false, body),
                };
                let name_len = name_start
                    .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
                    .unwrap_or(name_start.len());
                let name = &name_start[..name_len];
                if name.is_empty() || name.starts_with('!') || name.starts_with('?') {
                    Piece::Other(len)
                } else if end {
                    Piece::End(name)
                } else if is_void_element(name) {
                    Piece::Other(len)
                } else {
                    Piece::Start(name)
                }
            }
            Some(b'&') => match rest[1..].find(';').filter(|&e| e <= 32) {
                Some(e) => Piece::Entity(e + 2),
                None => Piece::Text(1),
            },
            _ => Piece::Text(rest.find(['<', '&']).unwrap_or(rest.len())),
        }
    }

    /// How many bytes of `rest` (the markup it was read from) this piece takes.
    fn len(self, rest: &str) -> usize {
        match self {
            Piece::Start(_) | Piece::End(_) => tag_len(rest),
            Piece::Other(len) | Piece::Entity(len) | Piece::Text(len) => len,
        }
    }
}

/// The length of the tag `rest` starts with: up to the first `>` outside a
/// double-quoted attribute value (the serialiser quotes every value so).
fn tag_len(rest: &str) -> usize {
    let mut quoted = false;
    for (i, b) in rest.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'>' if !quoted => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

/// Elements that never have an end tag (html5ever's serialiser writes none).
pub fn is_void_element(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "basefont"
            | "bgsound"
            | "br"
            | "col"
            | "embed"
            | "frame"
            | "hr"
            | "image"
            | "img"
            | "input"
            | "keygen"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// `AT&T` → `AT&amp;T`, leaving entities (`&amp;`, `&#1234;`, `&#x4E2D;`) alone:
/// text from a feed may carry a bare `&`, which is not valid HTML.
fn escape_bare_ampersands(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if c == '&' && !starts_entity(&text[i + 1..]) {
            out.push_str("&amp;");
        } else {
            out.push(c);
        }
    }
    out
}

fn starts_entity(rest: &str) -> bool {
    let Some(end) = rest.find(';').filter(|&e| e > 0 && e <= 32) else {
        return false;
    };
    let name = &rest[..end];
    match name.strip_prefix('#') {
        Some(code) => match code.strip_prefix(['x', 'X']) {
            Some(hex) => !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            None => !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()),
        },
        None => name.bytes().all(|b| b.is_ascii_alphanumeric()),
    }
}

/// Plain text of an HTML fragment, for filters and the digest page.
pub fn html_to_text(html: &str) -> String {
    let fragment = crate::extract::parse_fragment(html);
    collapse_whitespace(&fragment.root_element().text().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_images_in_html_keep_their_real_source() {
        let base = Url::parse("https://gogo.mn/").expect("url");
        let teaser = r#"<p>Мэдээ <img src="/static/1px.aaaf049e.png" data-srcset="/420/x.jpg 1x, /600/x.jpg 2x"> ба <img src="/real.jpg"></p>"#;
        let clean = sanitize_html(teaser, &base);
        assert!(
            clean.contains(r#"src="https://gogo.mn/600/x.jpg""#),
            "{clean}"
        );
        assert!(
            clean.contains(r#"src="https://gogo.mn/real.jpg""#),
            "{clean}"
        );
        assert!(!clean.contains("1px"), "{clean}");
        assert!(clean.contains("Мэдээ"), "{clean}");
    }

    #[test]
    fn collapses_all_whitespace_kinds() {
        assert_eq!(collapse_whitespace("  a\n\t b\u{a0} c "), "a b c");
    }

    #[test]
    fn collapse_keeps_clean_text_and_fixes_every_kind_of_space() {
        assert_eq!(collapse_whitespace("Монгол Улс"), "Монгол Улс");
        assert_eq!(collapse_whitespace("a  b"), "a b");
        assert_eq!(collapse_whitespace(" a"), "a");
        assert_eq!(collapse_whitespace("a\u{3000}b\u{2009}c\u{85}d"), "a b c d");
        assert_eq!(collapse_whitespace("№ ½ é"), "№ ½ é");
        assert_eq!(collapse_whitespace(""), "");
    }

    #[test]
    fn escape_covers_markup_quotes_and_controls() {
        assert_eq!(escape("\u{85}a\u{9f}½\u{FFFE}\u{FFFD}\t"), "a½\u{FFFD}\t");
        assert_eq!(
            escape("a<b>&\"'\u{1}Монгол ]]>\u{FFFF}"),
            "a&lt;b&gt;&amp;&quot;&#39;Монгол ]]&gt;"
        );
        assert_eq!(escape("plain Улаанбаатар"), "plain Улаанбаатар");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn xml_safe_drops_controls_but_keeps_text() {
        assert_eq!(xml_safe("a\u{0}b\u{1b}c\td\u{FFFF}"), "abc\td");
        assert_eq!(xml_safe("Монгол ]]>"), "Монгол ]]>");
    }

    #[test]
    fn plain_text_takes_the_fast_path_unchanged_but_safe() {
        let base = Url::parse("https://x.mn/").expect("url");
        assert_eq!(
            sanitize_html("Coal &amp; copper ]]&gt; up", &base),
            "Coal &amp; copper ]]&gt; up"
        );
        assert_eq!(sanitize_html("a ]]> b\u{1}", &base), "a ]]&gt; b");
        assert_eq!(
            sanitize_html("AT&T &amp; &#1234; &#x4E2D; &nbsp; & done", &base),
            "AT&amp;T &amp; &#1234; &#x4E2D; &nbsp; &amp; done"
        );
    }

    #[test]
    fn sanitised_html_has_no_cdata_end_and_absolute_urls() {
        let base = Url::parse("https://montsame.mn/mn/more/10").expect("url");
        let out = sanitize_html(r#"<a href="/mn/read/1" title="]]>">x</a> ]]>"#, &base);
        assert!(!out.contains("]]>"), "{out}");
        assert!(out.contains("https://montsame.mn/mn/read/1"), "{out}");
    }

    /// Whether every start tag in `html` is closed in order (void elements aside).
    fn balanced(html: &str) -> bool {
        let mut open = Vec::new();
        let mut rest = html;
        while let Some(at) = rest.find('<') {
            rest = &rest[at..];
            let piece = Piece::next(rest);
            match piece {
                Piece::Start(name) => open.push(name),
                Piece::End(name) if open.pop() != Some(name) => return false,
                _ => {}
            }
            rest = &rest[piece.len(rest)..];
        }
        open.is_empty()
    }

    #[test]
    fn cut_text_stops_on_a_character_boundary() {
        let mut text = "Улаанбаатар".to_string(); // 22 bytes
        assert!(!cut_text(&mut text, 22));
        assert!(cut_text(&mut text, 21));
        assert_eq!(text, "Улаанбаата");
        assert!(cut_text(&mut text, 1));
        assert_eq!(text, "");
    }

    #[test]
    fn cut_html_is_well_formed_at_every_length() {
        let base = Url::parse("https://x.mn/").expect("url");
        let html = sanitize_html(
            "<p>Монгол <b>Улсын <i>Их</i> Хурал</b> &amp; &lt;Засаг&gt;<br>\
             <a href=\"/a?b=1&amp;c=2\" title=\"x > y\">холбоос</a></p><ul><li>нэг</li><li>хоёр</li></ul>",
            &base,
        );
        let text = html_to_text(&html);
        assert_eq!(cut_html(&html, html.len()), None);
        for max in 0..html.len() {
            let cut = cut_html(&html, max).expect("cut");
            assert!(cut.len() <= max, "{max}: {cut}");
            assert!(balanced(&cut), "{max}: {cut}");
            assert_eq!(
                sanitize_html(&cut, &base),
                cut,
                "{max}: well-formed and sanitised"
            );
            assert!(text.starts_with(&html_to_text(&cut)), "{max}: {cut}");
        }
        assert_eq!(cut_html(&html, 13).as_deref(), Some("<p>Мон</p>"));
        assert_eq!(cut_html(&html, 12).as_deref(), Some("<p>Мо</p>"));
    }

    #[test]
    fn cut_escaped_text_never_splits_an_entity() {
        let text = escape("a&b<c>d\"e'f");
        assert_eq!(text, "a&amp;b&lt;c&gt;d&quot;e&#39;f");
        let cuts: Vec<String> = (0..text.len())
            .filter_map(|max| cut_html(&text, max))
            .collect();
        assert!(cuts.contains(&"a&amp;b".to_string()));
        for cut in cuts {
            assert_eq!(escape(&html_to_text(&cut)), cut, "{cut}");
        }
    }

    #[test]
    fn deep_markup_is_sanitised_within_the_bound() {
        let base = Url::parse("https://x.mn/").expect("url");
        let deep = format!(
            "{}<b>deep</b> <script>x()</script>text{}",
            "<div><span>".repeat(50_000),
            "</span></div>".repeat(50_000)
        );
        let clean = sanitize_html(&deep, &base);
        assert!(
            clean.contains(">deep text<"),
            "{}",
            &clean[clean.len() - 100..]
        );
        assert!(!clean.contains("script") && !clean.contains("x()"));
        assert!(clean.matches("<div>").count() < crate::extract::MAX_DEPTH);
    }
}
