//! Charset detection: a page's bytes become text the way browsers read them.

use std::sync::LazyLock;

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;

static META_CHARSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i-u)<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#)
        .expect("valid meta charset regex")
});

/// Decodes a body: BOM, then the HTTP header's charset, then `<meta charset>` /
/// `http-equiv` in the first 4 KiB, then valid UTF-8, then statistical detection.
/// Malformed sequences become U+FFFD rather than failing the page.
pub fn decode(
    body: &[u8],
    content_type: Option<&str>,
    host: Option<&str>,
) -> (String, &'static Encoding) {
    let encoding = Encoding::for_bom(body)
        .map(|(e, _)| e)
        .or_else(|| content_type.and_then(header_charset))
        .or_else(|| meta_charset(body))
        .unwrap_or_else(|| detect(body, host));
    let (text, used, _) = encoding.decode(body);
    (text.into_owned(), used)
}

fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes()))
            .flatten()
    })
}

fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(4096)];
    let label = META_CHARSET.captures(head)?.get(1)?.as_bytes();
    let encoding = Encoding::for_label(label)?;
    // A page that reached us as bytes cannot really be UTF-16 (HTML spec, "prescan").
    Some(
        if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
            UTF_8
        } else {
            encoding
        },
    )
}

fn detect(body: &[u8], host: Option<&str>) -> &'static Encoding {
    if std::str::from_utf8(body).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(body, true);
    let tld = host.and_then(|h| h.rsplit('.').next()).map(str::as_bytes);
    detector.guess(tld, chardetng::Utf8Detection::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONGOLIAN: &str = "Монгол Улсын Их Хурал чуулганаа эхэллээ";

    fn cp1251(text: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1251.encode(text).0.into_owned()
    }

    #[test]
    fn header_charset_wins() {
        let (text, enc) = decode(
            &cp1251(MONGOLIAN.split(' ').next().unwrap_or_default()),
            Some("text/html; charset=windows-1251"),
            None,
        );
        assert_eq!(enc, encoding_rs::WINDOWS_1251);
        assert_eq!(text, "Монгол");
    }

    #[test]
    fn meta_charset_is_used_without_a_header() {
        let mut page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\"></head><body>".to_vec();
        page.extend(cp1251("Улаанбаатар"));
        let (text, enc) = decode(&page, Some("text/html"), None);
        assert_eq!(enc, encoding_rs::WINDOWS_1251);
        assert!(text.contains("Улаанбаатар"), "{text}");
    }

    #[test]
    fn undeclared_cyrillic_is_detected() {
        let sentence = "Монгол Улсын Засгийн газрын ээлжит хуралдаанаар төсвийн тодотголыг хэлэлцэж, нүүрсний экспортын асуудлыг авч үзлээ. ".repeat(4);
        let page = cp1251(&format!("<html><body><p>{sentence}</p></body></html>"));
        let (text, _) = decode(&page, None, Some("olloo.mn"));
        assert!(text.contains("Засгийн газрын"), "{text}");
    }

    #[test]
    fn utf8_without_declaration_and_invalid_bytes_survive() {
        let (text, enc) = decode(MONGOLIAN.as_bytes(), None, None);
        assert_eq!((text.as_str(), enc), (MONGOLIAN, UTF_8));
        let (text, _) = decode(b"ok \xff\xfe bad", Some("text/html; charset=utf-8"), None);
        assert!(
            text.starts_with("ok ") && text.contains('\u{FFFD}'),
            "{text}"
        );
    }
}
