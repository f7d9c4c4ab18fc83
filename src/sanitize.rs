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
pub fn sanitize_html(html: &str, base: &Url) -> String {
    // Most teasers are plain text; serialised HTML text is already escaped, so
    // without a tag there is nothing to sanitise (and no HTML parse to pay for).
    if !html.contains('<') {
        return escape_bare_ampersands(&xml_safe(html)).replace("]]>", "]]&gt;");
    }
    let clean = ammonia::Builder::default()
        .url_relative(UrlRelative::RewriteWithBase(base.clone()))
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&xml_safe(html))
        .to_string();
    clean.replace("]]>", "]]&gt;")
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
    let fragment = scraper::Html::parse_fragment(html);
    collapse_whitespace(&fragment.root_element().text().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
