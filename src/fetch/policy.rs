//! Which URLs medee may fetch: one decision, [`FetchPolicy::check`], made for
//! a source's listing, for every article page and again for every redirect hop.
//!
//! A listing page is written by the site, so it must not be able to send
//! medee anywhere the operator did not configure: not to another host or
//! port, not to a URL carrying someone's credentials, and (for article pages)
//! not to the machine's own or its network's internal addresses, where a
//! cloud metadata endpoint or an admin port would be published in the feeds.
//!
//! What counts as the source's own site, for the listing and its redirects
//! alike: its host with or without one leading `www.`, over http or https,
//! on its configured port. A source on its scheme's default port is reached
//! on the default port of either scheme (80 for http, 443 for https), because
//! sites commonly redirect `http://example.mn/` to `https://www.example.mn/`;
//! a source on an explicit port stays on that port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::config::Source;

/// Why a URL is not fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The link is not a URL at all.
    #[error("not a URL")]
    NotAUrl,
    /// Only http and https are fetched.
    #[error("scheme \"{0}\" is not http or https")]
    Scheme(String),
    /// A user name or password other than the source's own configured one.
    #[error("the URL carries credentials")]
    Credentials,
    /// The host is neither the source's own (± `www.`) nor in `allow_hosts`.
    #[error("host {0} is neither the source's own (with or without www.) nor in allow_hosts")]
    Host(String),
    /// The host is allowed, but not on this port.
    #[error("port {port} is not the configured port of {host}")]
    Port {
        /// The host, as in the URL.
        host: String,
        /// The port the URL asks for.
        port: u16,
    },
    /// The host is an IP address inside the machine or its networks.
    #[error("{ip} is a {kind} address")]
    Address {
        /// The address in the URL.
        ip: IpAddr,
        /// Which kind of internal address it is.
        kind: AddressKind,
    },
    /// The host's name resolved only to internal addresses (checked when
    /// connecting, so a DNS answer that changes between checks cannot slip past).
    #[error("{host} resolves to {ip}, a {kind} address")]
    Resolved {
        /// The host name.
        host: String,
        /// One of the addresses it resolved to.
        ip: IpAddr,
        /// Which kind of internal address that is.
        kind: AddressKind,
    },
}

/// The kinds of address that lead inside the machine or its networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressKind {
    /// `0.0.0.0/8`, `::`.
    #[error("unspecified")]
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    #[error("loopback")]
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`; also the old IPv6 site-local `fec0::/10`.
    #[error("private")]
    Private,
    /// `169.254/16` (with the cloud metadata address 169.254.169.254), `fe80::/10`.
    #[error("link-local")]
    LinkLocal,
    /// Carrier-grade NAT, `100.64/10`.
    #[error("shared (CGNAT)")]
    Shared,
    /// `255.255.255.255`.
    #[error("broadcast")]
    Broadcast,
    /// `224/4`, `ff00::/8`.
    #[error("multicast")]
    Multicast,
    /// `fc00::/7`.
    #[error("unique-local")]
    UniqueLocal,
}

/// Whether a policy lets medee connect to internal addresses ([`AddressKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateAddresses {
    /// Any address the host is on.
    Allowed,
    /// Only public addresses: IP literals are checked by [`FetchPolicy::check`],
    /// names when they are resolved for the connection.
    Refused,
}

/// The port a [`Site`] is reached on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// The default port of whichever scheme the URL uses (80 or 443): a site on
    /// its default port is the same site over http and https.
    Default,
    /// Exactly this port, under either scheme.
    Exactly(u16),
}

/// One host (and port) a policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Lower-case, without one leading `www.` or a trailing dot; an IPv6
    /// address in brackets.
    pub host: String,
    /// The port it is reached on.
    pub port: Port,
}

impl Site {
    /// The site a URL is on, or `None` for a URL without a host.
    pub fn of(url: &Url) -> Option<Self> {
        Some(Self {
            host: site_host(&url.host()?),
            port: url.port().map_or(Port::Default, Port::Exactly),
        })
    }

    /// An `allow_hosts` entry: `host` (default ports) or `host:port`.
    /// An entry that is not a host matches nothing.
    pub fn parse(entry: &str) -> Option<Self> {
        Url::parse(&format!("http://{}/", entry.trim()))
            .ok()
            .filter(|url| url.path() == "/" && url.username().is_empty())
            .and_then(|url| Self::of(&url))
    }

    fn admits_port(&self, url: &Url) -> bool {
        match self.port {
            Port::Default => url.port().is_none(),
            Port::Exactly(port) => url.port_or_known_default() == Some(port),
        }
    }
}

/// Everything that decides whether medee may fetch a URL for one purpose.
/// Plain data: built from a source by [`FetchPolicy::listing`] or
/// [`FetchPolicy::articles`], and consulted through [`FetchPolicy::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// The hosts and ports that may be fetched.
    pub sites: Vec<Site>,
    /// The user name and password of the configured URL (HTTP basic auth):
    /// the only credentials a fetched URL may carry.
    pub credentials: Option<(String, Option<String>)>,
    /// Whether internal addresses may be connected to.
    pub private_addresses: PrivateAddresses,
}

impl FetchPolicy {
    /// What a URL the operator typed may lead to: its own site (see the module
    /// docs), at any address, since the operator chose it.
    pub fn site(url: &Url) -> Self {
        Self {
            sites: Site::of(url).into_iter().collect(),
            credentials: credentials(url),
            private_addresses: PrivateAddresses::Allowed,
        }
    }

    /// A source's listing page and its redirects.
    pub fn listing(source: &Source) -> Self {
        Self::site(&source.url)
    }

    /// A source's article pages and their redirects: its own site and
    /// `[source.article] allow_hosts`, at public addresses only, unless the
    /// source itself is on an internal address.
    pub fn articles(source: &Source) -> Self {
        let allow_hosts = source
            .article
            .as_ref()
            .map_or(&[][..], |a| a.allow_hosts.as_slice());
        Self::articles_for(&source.url, allow_hosts)
    }

    /// [`FetchPolicy::articles`] for a listing at `url` with these `allow_hosts`.
    pub fn articles_for(url: &Url, allow_hosts: &[String]) -> Self {
        let mut policy = Self::site(url);
        policy
            .sites
            .extend(allow_hosts.iter().filter_map(|h| Site::parse(h)));
        policy.private_addresses = if on_internal_address(url) {
            PrivateAddresses::Allowed
        } else {
            PrivateAddresses::Refused
        };
        policy
    }

    /// The one decision: may medee request `url`?
    pub fn check(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme(url.scheme().to_string()));
        }
        let given = credentials(url);
        if given.is_some() && given != self.credentials {
            return Err(Refused::Credentials);
        }
        let host = url.host().ok_or(Refused::NotAUrl)?;
        let name = site_host(&host);
        let mut same_host = self.sites.iter().filter(|s| s.host == name).peekable();
        if same_host.peek().is_none() {
            return Err(Refused::Host(host.to_string()));
        }
        if !same_host.any(|site| site.admits_port(url)) {
            return Err(Refused::Port {
                host: host.to_string(),
                port: url.port_or_known_default().unwrap_or_default(),
            });
        }
        if self.private_addresses == PrivateAddresses::Refused
            && let Some(ip) = host_ip(&host)
            && let Some(kind) = internal_kind(ip)
        {
            return Err(Refused::Address { ip, kind });
        }
        Ok(())
    }

    /// Parses a link found on a page and checks it.
    pub fn allowed(&self, link: &str) -> Result<Url, Refused> {
        let url = Url::parse(link).map_err(|_| Refused::NotAUrl)?;
        self.check(&url).map(|()| url)
    }
}

/// A URL's user name and password, if it has any.
fn credentials(url: &Url) -> Option<(String, Option<String>)> {
    (!url.username().is_empty() || url.password().is_some()).then(|| {
        (
            url.username().to_string(),
            url.password().map(str::to_string),
        )
    })
}

/// The host as sites are compared: lower-case (the URL parser does that),
/// without a trailing dot or one leading `www.`.
fn site_host(host: &Host<&str>) -> String {
    match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.');
            name.strip_prefix("www.")
                .unwrap_or(name)
                .to_ascii_lowercase()
        }
        other => other.to_string(),
    }
}

fn host_ip(host: &Host<&str>) -> Option<IpAddr> {
    match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
        Host::Domain(_) => None,
    }
}

/// Whether a configured URL is itself on an internal address: an IP literal
/// in an internal range, or `localhost`. (A name that resolves to one cannot be
/// told apart from a site whose DNS was turned against medee.)
fn on_internal_address(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(host) => host_ip(&host).and_then(internal_kind).is_some(),
        None => false,
    }
}

/// Which kind of internal address `ip` is, or `None` for a public one.
pub fn internal_kind(ip: IpAddr) -> Option<AddressKind> {
    match ip {
        IpAddr::V4(ip) => v4_kind(ip),
        IpAddr::V6(ip) => v6_kind(ip),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<AddressKind> {
    let [a, b, ..] = ip.octets();
    if a == 0 {
        Some(AddressKind::Unspecified)
    } else if ip.is_loopback() {
        Some(AddressKind::Loopback)
    } else if ip.is_private() {
        Some(AddressKind::Private)
    } else if ip.is_link_local() {
        Some(AddressKind::LinkLocal)
    } else if a == 100 && b & 0xc0 == 64 {
        Some(AddressKind::Shared)
    } else if ip.is_broadcast() {
        Some(AddressKind::Broadcast)
    } else if ip.is_multicast() {
        Some(AddressKind::Multicast)
    } else {
        None
    }
}

/// IPv6, including the forms that carry an IPv4 address: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`).
fn v6_kind(ip: Ipv6Addr) -> Option<AddressKind> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        Some(AddressKind::Unspecified)
    } else if ip.is_loopback() {
        Some(AddressKind::Loopback)
    } else if let Some(v4) = embedded_v4(ip) {
        v4_kind(v4)
    } else if segments[0] & 0xfe00 == 0xfc00 {
        Some(AddressKind::UniqueLocal)
    } else if segments[0] & 0xffc0 == 0xfe80 {
        Some(AddressKind::LinkLocal)
    } else if segments[0] & 0xffc0 == 0xfec0 {
        Some(AddressKind::Private)
    } else if ip.is_multicast() {
        Some(AddressKind::Multicast)
    } else {
        None
    }
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let [.., a, b, c, d] = ip.octets();
    let compatible = s[..6] == [0; 6];
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    ip.to_ipv4_mapped()
        .or_else(|| (compatible || nat64).then(|| Ipv4Addr::new(a, b, c, d)))
}

#[cfg(test)]
mod tests;
