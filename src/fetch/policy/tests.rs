//! The policy's one decision, as a table: each row a URL, the policy asked
//! and the expected answer.

use std::path::Path;

use super::*;
use crate::config::Config;

fn url(text: &str) -> Url {
    Url::parse(text).expect("url")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

fn source(url: &str, article: &str) -> Source {
    let toml = format!("[[source]]\nid = \"s\"\nurl = \"{url}\"\nitem = \"li\"\n{article}");
    let mut config = Config::parse(&toml, Path::new("t.toml")).expect("valid config");
    config.sources.remove(0)
}

/// Checks every row and reports all mismatches at once.
fn assert_table(policy: &FetchPolicy, rows: &[(&str, Result<(), Refused>)]) {
    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|(link, expected)| {
            let got = policy.allowed(link).map(|_| ());
            (&got != expected).then(|| format!("{link}: expected {expected:?}, got {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_public_sources_article_pages_stay_on_its_site_and_allow_hosts() {
    let source = source(
        "https://montsame.mn/mn/more/8",
        "[source.article]\ncontent = \"p\"\nallow_hosts = [\"cdn.montsame.mn\", \"media.example.mn:8443\"]\n",
    );
    let policy = FetchPolicy::articles(&source);
    let host = |h: &str| Err(Refused::Host(h.to_string()));
    let port = |h: &str, p: u16| {
        Err(Refused::Port {
            host: h.to_string(),
            port: p,
        })
    };
    assert_table(
        &policy,
        &[
            ("https://montsame.mn/mn/read/1", Ok(())),
            ("https://www.montsame.mn/mn/read/1", Ok(())),
            ("https://MONTSAME.MN./mn/read/1", Ok(())),
            ("http://montsame.mn/mn/read/1", Ok(())),
            ("https://montsame.mn:443/x", Ok(())),
            ("http://montsame.mn:80/x", Ok(())),
            ("https://montsame.mn:8443/x", port("montsame.mn", 8443)),
            ("http://montsame.mn:443/x", port("montsame.mn", 443)),
            ("https://www.www.montsame.mn/x", host("www.www.montsame.mn")),
            (
                "https://montsame.mn.evil.example/x",
                host("montsame.mn.evil.example"),
            ),
            ("https://evilmontsame.mn/x", host("evilmontsame.mn")),
            ("https://cdn.montsame.mn/a", Ok(())),
            ("https://www.cdn.montsame.mn/a", Ok(())),
            (
                "https://cdn.montsame.mn:8080/a",
                port("cdn.montsame.mn", 8080),
            ),
            ("https://media.example.mn:8443/a", Ok(())),
            ("http://media.example.mn:8443/a", Ok(())),
            ("https://media.example.mn/a", port("media.example.mn", 443)),
            ("https://user:pw@montsame.mn/x", Err(Refused::Credentials)),
            ("https://user@montsame.mn/x", Err(Refused::Credentials)),
            ("https://:pw@montsame.mn/x", Err(Refused::Credentials)),
            ("ftp://montsame.mn/x", Err(Refused::Scheme("ftp".into()))),
            ("file:///etc/passwd", Err(Refused::Scheme("file".into()))),
            (
                "javascript:alert(1)",
                Err(Refused::Scheme("javascript".into())),
            ),
            ("data:text/html,hi", Err(Refused::Scheme("data".into()))),
            ("/relative/link", Err(Refused::NotAUrl)),
            (
                "http://169.254.169.254/latest/meta-data/",
                host("169.254.169.254"),
            ),
            ("http://localhost/", host("localhost")),
        ],
    );
    assert_eq!(policy.private_addresses, PrivateAddresses::Refused);
}

#[test]
fn internal_addresses_are_refused_even_when_allowed_by_host() {
    let internal = [
        "127.0.0.1",
        "127.1.2.3",
        "0.0.0.0",
        "10.0.0.5",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "255.255.255.255",
        "[::1]",
        "[::]",
        "[fd00::1]",
        "[fc00::1]",
        "[fe80::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[::ffff:10.0.0.1]",
        "[::127.0.0.1]",
        "[64:ff9b::a9fe:a9fe]",
    ];
    let allow: Vec<String> = internal.iter().map(|h| (*h).to_string()).collect();
    let policy = FetchPolicy::articles_for(&url("https://montsame.mn/"), &allow);
    for host in internal {
        let link = format!("http://{host}/x");
        assert!(
            matches!(policy.allowed(&link), Err(Refused::Address { .. })),
            "{link}: {:?}",
            policy.allowed(&link)
        );
    }
    let public = FetchPolicy::articles_for(
        &url("https://montsame.mn/"),
        &[
            "93.184.216.34".into(),
            "100.128.0.1".into(),
            "[2606:2800:220:1::1]".into(),
        ],
    );
    for link in [
        "http://93.184.216.34/",
        "http://100.128.0.1/",
        "http://[2606:2800:220:1::1]/",
    ] {
        assert_eq!(public.allowed(link).map(|_| ()), Ok(()), "{link}");
    }
}

#[test]
fn obfuscated_literals_are_read_as_the_addresses_they_are() {
    let policy = FetchPolicy::articles_for(
        &url("https://montsame.mn/"),
        &["127.0.0.1".into(), "169.254.169.254".into()],
    );
    let loopback = Err(Refused::Address {
        ip: ip("127.0.0.1"),
        kind: AddressKind::Loopback,
    });
    let metadata = Err(Refused::Address {
        ip: ip("169.254.169.254"),
        kind: AddressKind::LinkLocal,
    });
    assert_table(
        &policy,
        &[
            ("http://2130706433/", loopback.clone()),
            ("http://0x7f.1/", loopback.clone()),
            ("http://0177.0.0.1/", loopback),
            ("http://0xa9fea9fe/", metadata.clone()),
            ("http://169.254.43518/", metadata),
        ],
    );
}

#[test]
fn address_kinds_cover_every_internal_range_and_its_mapped_forms() {
    let rows = [
        ("0.1.2.3", Some(AddressKind::Unspecified)),
        ("127.0.0.1", Some(AddressKind::Loopback)),
        ("10.255.0.1", Some(AddressKind::Private)),
        ("172.16.5.4", Some(AddressKind::Private)),
        ("172.32.0.1", None),
        ("192.168.0.1", Some(AddressKind::Private)),
        ("169.254.169.254", Some(AddressKind::LinkLocal)),
        ("100.64.0.1", Some(AddressKind::Shared)),
        ("100.63.255.255", None),
        ("255.255.255.255", Some(AddressKind::Broadcast)),
        ("224.0.0.1", Some(AddressKind::Multicast)),
        ("8.8.8.8", None),
        ("::", Some(AddressKind::Unspecified)),
        ("::1", Some(AddressKind::Loopback)),
        ("fc00::1", Some(AddressKind::UniqueLocal)),
        ("fdff:ffff::1", Some(AddressKind::UniqueLocal)),
        ("fe80::1", Some(AddressKind::LinkLocal)),
        ("febf::1", Some(AddressKind::LinkLocal)),
        ("fec0::1", Some(AddressKind::Private)),
        ("ff02::1", Some(AddressKind::Multicast)),
        ("::ffff:127.0.0.1", Some(AddressKind::Loopback)),
        ("::ffff:192.168.1.1", Some(AddressKind::Private)),
        ("::ffff:169.254.169.254", Some(AddressKind::LinkLocal)),
        ("::ffff:100.64.0.1", Some(AddressKind::Shared)),
        ("::ffff:8.8.8.8", None),
        ("::10.0.0.1", Some(AddressKind::Private)),
        ("64:ff9b::7f00:1", Some(AddressKind::Loopback)),
        ("64:ff9b::808:808", None),
        ("2001:4860:4860::8888", None),
    ];
    for (address, expected) in rows {
        assert_eq!(internal_kind(ip(address)), expected, "{address}");
    }
}

#[test]
fn a_source_on_an_internal_address_may_read_its_own_pages_but_no_other_port() {
    let source = source(
        "http://127.0.0.1:8080/list",
        "[source.article]\ncontent = \"p\"\n",
    );
    let policy = FetchPolicy::articles(&source);
    assert_eq!(policy.private_addresses, PrivateAddresses::Allowed);
    assert_table(
        &policy,
        &[
            ("http://127.0.0.1:8080/read/1", Ok(())),
            ("https://127.0.0.1:8080/read/1", Ok(())),
            (
                "http://127.0.0.1:9090/admin",
                Err(Refused::Port {
                    host: "127.0.0.1".into(),
                    port: 9090,
                }),
            ),
            (
                "http://127.0.0.1/",
                Err(Refused::Port {
                    host: "127.0.0.1".into(),
                    port: 80,
                }),
            ),
            (
                "http://localhost:8080/",
                Err(Refused::Host("localhost".into())),
            ),
            ("http://[::1]:8080/", Err(Refused::Host("[::1]".into()))),
        ],
    );
    for (listing, internal) in [
        ("http://localhost:3000/", true),
        ("http://news.localhost/", true),
        ("http://[::1]/", true),
        ("http://10.1.1.1/", true),
        ("https://montsame.mn/", false),
        ("http://93.184.216.34/", false),
    ] {
        let expected = if internal {
            PrivateAddresses::Allowed
        } else {
            PrivateAddresses::Refused
        };
        assert_eq!(
            FetchPolicy::articles_for(&url(listing), &[]).private_addresses,
            expected,
            "{listing}"
        );
    }
}

#[test]
fn a_listing_may_redirect_within_its_site_and_keep_its_own_credentials() {
    let source = source("http://reader:s3cret@www.gogo.mn/i/2", "");
    let policy = FetchPolicy::listing(&source);
    assert_eq!(policy.private_addresses, PrivateAddresses::Allowed);
    assert_table(
        &policy,
        &[
            ("https://gogo.mn/i/2", Ok(())),
            ("https://www.gogo.mn/i/2", Ok(())),
            ("http://reader:s3cret@gogo.mn/i/2?page=1", Ok(())),
            ("http://reader:other@gogo.mn/i/2", Err(Refused::Credentials)),
            ("http://admin:s3cret@gogo.mn/i/2", Err(Refused::Credentials)),
            (
                "https://news.gogo.mn/i/2",
                Err(Refused::Host("news.gogo.mn".into())),
            ),
            (
                "https://gogo.mn:8443/",
                Err(Refused::Port {
                    host: "gogo.mn".into(),
                    port: 8443,
                }),
            ),
        ],
    );
}

#[test]
fn allow_hosts_entries_that_are_not_hosts_match_nothing() {
    for entry in [
        "",
        "http://cdn.example.mn",
        "cdn.example.mn/path",
        "user@cdn.example.mn",
        "a b",
    ] {
        assert_eq!(Site::parse(entry), None, "{entry:?}");
    }
    assert_eq!(
        Site::parse(" WWW.Cdn.Example.MN "),
        Some(Site {
            host: "cdn.example.mn".into(),
            port: Port::Default
        })
    );
}
