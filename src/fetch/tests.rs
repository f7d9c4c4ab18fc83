//! The fetcher against real loopback servers: redirects checked hop by hop,
//! conditional headers on the first request only, names resolved to internal
//! addresses refused before any connection.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::*;
use crate::config::Config;
use crate::fetch::policy::AddressKind;

/// One request as the server saw it: path and headers (lower-case names).
type Request = (String, Vec<(String, String)>);

/// A loopback HTTP/1.1 server answering each path with a fixed raw response
/// head (a 200 with a small body when the head is `"200"`).
struct Loopback {
    port: u16,
    /// Each request, in order.
    seen: Arc<Mutex<Vec<Request>>>,
    /// Connections accepted, including ones that sent nothing.
    connections: Arc<Mutex<usize>>,
}

impl Loopback {
    fn start(routes: &[(&str, &str)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let routes: HashMap<String, String> = routes
            .iter()
            .map(|(path, head)| ((*path).to_string(), (*head).to_string()))
            .collect();
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let connections: Arc<Mutex<usize>> = Arc::default();
        let (thread_seen, thread_connections) = (Arc::clone(&seen), Arc::clone(&connections));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                *thread_connections.lock().expect("count") += 1;
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut lines = Vec::new();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    lines.push(line.trim_end().to_string());
                    line.clear();
                }
                let path = lines
                    .first()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .unwrap_or("/")
                    .to_string();
                let headers = lines
                    .iter()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let head = routes.get(&path).map_or("HTTP/1.1 404 X", String::as_str);
                let response = match head {
                    "200" => "HTTP/1.1 200 OK\r\nETag: \"new\"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_string(),
                    head => format!("{head}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                };
                thread_seen.lock().expect("seen").push((path, headers));
                let mut stream = stream;
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self {
            port,
            seen,
            connections,
        }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn paths(&self) -> Vec<String> {
        let seen = self.seen.lock().expect("seen");
        seen.iter().map(|(path, _)| path.clone()).collect()
    }

    fn header(&self, index: usize, name: &str) -> Option<String> {
        let seen = self.seen.lock().expect("seen");
        seen[index]
            .1
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

fn fetcher() -> Fetcher {
    let config = Config::parse("[daemon]\nper_host_delay = \"0s\"\n", Path::new("t.toml"))
        .expect("valid config");
    Fetcher::new(&config.daemon).expect("client")
}

fn url(text: &str) -> Url {
    Url::parse(text).expect("url")
}

#[tokio::test]
async fn a_redirect_is_followed_on_the_same_site_and_refused_off_it() {
    let other = Loopback::start(&[("/secret", "200")]);
    let redirect_away = format!("HTTP/1.1 302 Found\r\nLocation: {}/secret", other.origin());
    let site = Loopback::start(&[
        ("/start", "HTTP/1.1 301 Moved\r\nLocation: /next"),
        ("/next", redirect_away.as_str()),
    ]);
    let start = url(&format!("{}/start", site.origin()));
    let error = fetcher()
        .get(&start, &FetchPolicy::site(&start), HostUse::Last)
        .await
        .expect_err("the second redirect leaves the site");
    match &error {
        FetchError::RedirectRefused { from, to, reason } => {
            assert_eq!(from, &format!("{}/next", site.origin()));
            assert_eq!(to, &format!("{}/secret", other.origin()));
            assert_eq!(
                reason,
                &Refused::Port {
                    host: "127.0.0.1".to_string(),
                    port: other.port
                }
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(site.paths(), ["/start", "/next"]);
    assert_eq!(*other.connections.lock().expect("count"), 0);
}

#[tokio::test]
async fn validators_go_with_the_first_request_only_and_the_page_has_the_final_url() {
    let site = Loopback::start(&[
        ("/old", "HTTP/1.1 308 Permanent\r\nLocation: /new"),
        ("/new", "200"),
    ]);
    let old = url(&format!("{}/old", site.origin()));
    let validators = Validators {
        etag: Some("\"v1\"".to_string()),
        last_modified: Some("Mon, 01 Jul 2024 09:30:00 GMT".to_string()),
    };
    let fetched = fetcher()
        .get_conditional(&old, &FetchPolicy::site(&old), &validators, HostUse::More)
        .await
        .expect("same-site redirect followed");
    let Fetched::Page(page, new) = fetched else {
        panic!("a 200 is a page");
    };
    assert_eq!(page.url.as_str(), format!("{}/new", site.origin()));
    assert_eq!(page.body, b"ok");
    assert_eq!(new.etag.as_deref(), Some("\"new\""));
    assert_eq!(site.paths(), ["/old", "/new"]);
    assert_eq!(site.header(0, "if-none-match").as_deref(), Some("\"v1\""));
    assert!(site.header(0, "if-modified-since").is_some());
    assert_eq!(site.header(1, "if-none-match"), None);
    assert_eq!(site.header(1, "if-modified-since"), None);
}

#[tokio::test]
async fn a_name_on_internal_addresses_is_refused_before_connecting() {
    let site = Loopback::start(&[("/", "200")]);
    let by_name = url(&format!("http://localhost:{}/", site.port));
    let mut policy = FetchPolicy::site(&by_name);
    policy.private_addresses = PrivateAddresses::Refused;
    let error = fetcher()
        .get(&by_name, &policy, HostUse::Last)
        .await
        .expect_err("localhost is loopback");
    assert!(
        matches!(
            &error,
            FetchError::Refused {
                reason: Refused::Resolved {
                    kind: AddressKind::Loopback,
                    ..
                },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(*site.connections.lock().expect("count"), 0);
    policy.private_addresses = PrivateAddresses::Allowed;
    let page = fetcher()
        .get(&by_name, &policy, HostUse::Last)
        .await
        .expect("allowed when the policy allows internal addresses");
    assert_eq!(page.body, b"ok");
}

#[tokio::test]
async fn credentials_other_than_the_sources_are_refused_and_never_shown() {
    let site = Loopback::start(&[("/", "200")]);
    let configured = url(&format!("http://reader:s3cret@127.0.0.1:{}/", site.port));
    let policy = FetchPolicy::site(&configured);
    let page = fetcher()
        .get(&configured, &policy, HostUse::Last)
        .await
        .expect("the configured credentials are the operator's");
    assert!(
        site.header(0, "authorization").is_some(),
        "sent as basic auth"
    );
    assert_eq!(page.url.as_str(), format!("{}/", site.origin()));
    let stranger = url(&format!("http://admin:hunter2@127.0.0.1:{}/", site.port));
    let error = fetcher()
        .get(&stranger, &policy, HostUse::Last)
        .await
        .expect_err("someone else's credentials");
    assert!(
        matches!(
            &error,
            FetchError::Refused {
                reason: Refused::Credentials,
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert_eq!(site.paths().len(), 1);
}

#[test]
fn a_relative_location_resolves_against_the_hop_and_garbage_is_reported() {
    let from = url("https://www.montsame.mn/mn/more/8");
    let policy = FetchPolicy::site(&url("http://montsame.mn/mn/more/8"));
    assert_eq!(
        next_hop(&from, "../read/1?x=1", &policy)
            .expect("same site")
            .as_str(),
        "https://www.montsame.mn/mn/read/1?x=1"
    );
    assert!(matches!(
        next_hop(&from, "http://[::1", &policy),
        Err(FetchError::BadRedirect { .. })
    ));
    assert!(matches!(
        next_hop(&from, "//evil.example/x", &policy),
        Err(FetchError::RedirectRefused {
            reason: Refused::Host(_),
            ..
        })
    ));
}
