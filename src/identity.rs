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

/// What a redacted value reads as.
const REDACTED: &str = "REDACTED";

/// Words that, as a whole parameter name or one word of it, mark its value as a secret.
const SECRET_WORDS: &[&str] = &[
    "key",
    "auth",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "pass",
    "sig",
    "signature",
    "session",
    "sessionid",
    "sid",
    "credential",
    "credentials",
    "jwt",
    "bearer",
    "otp",
    "hmac",
];

/// Word endings that mark a secret even when the name runs words together (`apikey`, `authtoken`).
const SECRET_SUFFIXES: &[&str] = &[
    "apikey",
    "appkey",
    "accesskey",
    "secretkey",
    "privatekey",
    "authkey",
    "token",
    "secret",
    "password",
    "passwd",
    "signature",
    "sessionid",
];

/// `url` without user name and password.
pub fn without_credentials(url: &Url) -> Url {
    let mut clean = url.clone();
    // Only URLs that cannot be a base refuse these, and those carry no credentials.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean
}

/// A URL as it may be shown anywhere outside the config (feeds, OPML, the
/// digest page, `status`, logs): without `user:password@`, and with the value
/// of every query (or fragment) parameter whose name looks secret replaced by
/// `REDACTED`. Sources often carry an API key or token in their URL; readers
/// of the public outputs must never learn it. Other parameters are kept
/// byte for byte, so the URL still says which page it is.
pub fn redact_url(url: &Url) -> String {
    let mut shown = without_credentials(url);
    if let Some(query) = url.query() {
        shown.set_query(Some(&redact_pairs(query)));
    }
    if let Some(fragment) = url.fragment() {
        shown.set_fragment(Some(&redact_pairs(fragment)));
    }
    shown.to_string()
}

/// `text` (an error message, a log line) with every secret of `url` masked:
/// the URL itself as [`redact_url`] shows it, then any password, user name
/// or secret parameter value that still appears on its own (an HTTP
/// library may print a URL its own way).
pub fn redact_secrets(text: &str, url: &Url) -> String {
    let mut shown = text.replace(url.as_str(), &redact_url(url));
    let mut secrets: Vec<String> = [url.password(), Some(url.username())]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    for pairs in [url.query(), url.fragment()].into_iter().flatten() {
        secrets.extend(
            pairs
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .filter(|(name, value)| is_secret_name(name) && !value.is_empty())
                .map(|(_, value)| value.to_string()),
        );
    }
    for secret in secrets {
        shown = shown.replace(&secret, REDACTED);
    }
    shown
}

/// `a=1&api_key=x` → `a=1&api_key=REDACTED`; every other byte unchanged.
fn redact_pairs(pairs: &str) -> String {
    pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(name) => format!("{name}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether a (still percent-encoded) parameter name looks like it carries a
/// secret: `api_key`, `apiKey`, `X-Amz-Signature`, `access_token`, `sessionid`…
/// Matched by word, so `keyword` or `monkey` stay visible.
fn is_secret_name(name: &str) -> bool {
    let decoded: String = url::form_urlencoded::parse(format!("{name}=").as_bytes())
        .next()
        .map_or_else(|| name.to_string(), |(n, _)| n.into_owned());
    name_words(&decoded).iter().any(|word| {
        SECRET_WORDS.contains(&word.as_str())
            || SECRET_SUFFIXES.iter().any(|suffix| word.ends_with(suffix))
    })
}

/// A name split into lower-case words at separators and camelCase humps:
/// `X-Amz-Signature` → `x amz signature`, `apiKey` → `api key`.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut word));
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase() || c.is_numeric();
        word.extend(c.to_lowercase());
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words
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
    #[test]
    fn redact_secrets_masks_the_url_and_its_secrets_wherever_they_appear() {
        let url = Url::parse("https://bot:hunter2@news.mn/api?page=2&token=s3cr3t").expect("url");
        let message = format!(
            "{url}: HTTP 401; error sending request for url (https://news.mn/api?page=2&token=s3cr3t) as hunter2"
        );
        let shown = redact_secrets(&message, &url);
        for secret in ["hunter2", "s3cr3t", "bot:"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.starts_with("https://news.mn/api?page=2&token=REDACTED: HTTP 401"),
            "{shown}"
        );
    }

    #[test]
    fn redact_url_drops_credentials_and_masks_secret_parameters() {
        let cases = [
            ("https://user:pw@example.mn/list", "https://example.mn/list"),
            ("https://user@example.mn/list", "https://example.mn/list"),
            (
                "https://example.mn/news?api_key=SECRET&page=2",
                "https://example.mn/news?api_key=REDACTED&page=2",
            ),
            (
                "https://example.mn/?apiKey=S&token=S&access_token=S&auth=S&password=S&passwd=S",
                "https://example.mn/?apiKey=REDACTED&token=REDACTED&access_token=REDACTED&auth=REDACTED&password=REDACTED&passwd=REDACTED",
            ),
            (
                "https://example.mn/?APIKEY=S&Secret=S&sig=S&X-Amz-Signature=S&sessionid=S&client_secret=S",
                "https://example.mn/?APIKEY=REDACTED&Secret=REDACTED&sig=REDACTED&X-Amz-Signature=REDACTED&sessionid=REDACTED&client_secret=REDACTED",
            ),
            (
                "https://example.mn/?key=S&authToken=S&session=S",
                "https://example.mn/?key=REDACTED&authToken=REDACTED&session=REDACTED",
            ),
            (
                "https://example.mn/search?keyword=coal&q=a%20b&monkey=1&design=2",
                "https://example.mn/search?keyword=coal&q=a%20b&monkey=1&design=2",
            ),
            (
                "https://example.mn/?api%5Fkey=S&flag&=x",
                "https://example.mn/?api%5Fkey=REDACTED&flag&=x",
            ),
            (
                "https://example.mn/cb#access_token=S&state=ok",
                "https://example.mn/cb#access_token=REDACTED&state=ok",
            ),
            ("http://127.0.0.1:8080/a?b=c", "http://127.0.0.1:8080/a?b=c"),
        ];
        for (input, expected) in cases {
            let url = Url::parse(input).expect("test URL parses");
            assert_eq!(redact_url(&url), expected, "{input}");
        }
    }

    #[test]
    fn redact_url_output_never_contains_the_secret() {
        let url = Url::parse("https://bob:hunter2@example.mn/feed?Api-Key=SECRET%3D%3D&x=1")
            .expect("test URL parses");
        let shown = redact_url(&url);
        for secret in ["bob", "hunter2", "SECRET"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(Url::parse(&shown).is_ok(), "{shown}");
    }
}
