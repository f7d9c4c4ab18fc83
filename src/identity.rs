//! Item identity: the canonical link that makes "the same story" one row in the
//! store, and the normalised title that makes it one entry across sources.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};
use url::Url;

/// Query parameters that only track the reader and never select content.
const TRACKING_PARAMS: &[&str] = &["fbclid", "gclid", "yclid", "mc_cid", "mc_eid"];

fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// The canonical form of a link: scheme and host lower-cased, default port and
/// fragment dropped, tracking parameters removed. Unparseable input is returned
/// trimmed, so it still works as a (weaker) identity.
pub fn canonical_link(link: &str) -> String {
    let Ok(mut url) = Url::parse(link.trim()) else {
        return link.trim().to_string();
    };
    url.set_fragment(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| !is_tracking_param(name))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    url.to_string()
}

/// A title reduced to what makes two headlines "the same": Unicode NFKC, case
/// folded, punctuation and quotes removed, whitespace collapsed.
pub fn title_key(title: &str) -> String {
    let mut key = String::with_capacity(title.len());
    let mut fold = |c: char| {
        for lower in c.to_lowercase() {
            if lower.is_alphanumeric() {
                key.push(lower);
            } else if !key.is_empty() && !key.ends_with(' ') {
                key.push(' ');
            }
        }
    };
    // Most headlines are already NFKC: skip the decomposition (and, for
    // ASCII and Cyrillic letters, even the table lookups of the quick check).
    if title.chars().all(is_plainly_nfkc) || is_nfkc_quick(title.chars()) == IsNormalized::Yes {
        title.chars().for_each(&mut fold);
    } else {
        title.nfkc().for_each(&mut fold);
    }
    if key.ends_with(' ') {
        key.pop();
    }
    key
}

/// Printable ASCII and the Cyrillic letters (U+0400–U+0481, U+048A–U+04FF;
/// not the combining marks between), which NFKC leaves as they are.
fn is_plainly_nfkc(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{400}'..='\u{481}' | '\u{48A}'..='\u{4FF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_link_drops_tracking_fragment_and_default_port() {
        assert_eq!(
            canonical_link("HTTPS://Montsame.MN:443/en/read/1?utm_source=fb&utm_medium=x#top"),
            "https://montsame.mn/en/read/1"
        );
        assert_eq!(
            canonical_link("https://gogo.mn/r/abc?id=5&fbclid=Z&gclid=Q"),
            "https://gogo.mn/r/abc?id=5"
        );
        assert_eq!(canonical_link("http://a.mn:80/x"), "http://a.mn/x");
        assert_eq!(canonical_link("http://a.mn:8080/x"), "http://a.mn:8080/x");
        assert_eq!(canonical_link(" not a url "), "not a url");
    }

    #[test]
    fn canonical_link_keeps_content_parameters_in_order() {
        assert_eq!(
            canonical_link("https://x.mn/list?page=2&cat=3&utm_campaign=a"),
            "https://x.mn/list?page=2&cat=3"
        );
    }

    #[test]
    fn title_key_ignores_case_quotes_punctuation_and_width() {
        assert_eq!(
            title_key("«Монгол Улс» – ОХУ-ын хил!"),
            "монгол улс оху ын хил"
        );
        assert_eq!(title_key("Ｍongolia’s  GDP, up 5%"), "mongolia s gdp up 5");
        assert_eq!(title_key("И\u{306}ш Өргөн"), title_key("ЙШ өргөн"));
        assert_eq!(title_key("\"Coal\"  exports"), title_key("coal exports"));
    }
}
