//! Name resolution that keeps internal addresses out of reach.
//!
//! Checking a host name's addresses before the request would leave a gap: a
//! site's DNS can answer with a public address for the check and an internal
//! one for the connection (DNS rebinding). Filtering inside the client's own
//! resolver closes it, because the addresses checked are the ones connected to.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::policy::{AddressKind, Refused, internal_kind};

/// A resolver that returns only a name's public addresses, and fails when it
/// has none (IP literals never reach a resolver: [`super::FetchPolicy::check`]
/// handles those).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct PublicOnly;

/// A name that resolved to internal addresses only.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to internal addresses ({ip} is {kind})")]
pub(super) struct InternalOnly {
    host: String,
    ip: IpAddr,
    kind: AddressKind,
}

impl InternalOnly {
    /// The policy's reason, for the fetch error.
    pub(super) fn reason(&self) -> Refused {
        Refused::Resolved {
            host: self.host.clone(),
            ip: self.ip,
            kind: self.kind,
        }
    }
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs = public_only(&host, resolved)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The public addresses among `resolved`; an error naming an internal one
/// when there are addresses but none is public.
fn public_only(host: &str, resolved: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, InternalOnly> {
    let mut internal = None;
    let public: Vec<SocketAddr> = resolved
        .into_iter()
        .filter(|addr| match internal_kind(addr.ip()) {
            Some(kind) => {
                internal.get_or_insert((addr.ip(), kind));
                false
            }
            None => true,
        })
        .collect();
    match internal {
        Some((ip, kind)) if public.is_empty() => Err(InternalOnly {
            host: host.to_string(),
            ip,
            kind,
        }),
        _ => Ok(public),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().expect("ip"), 0)
    }

    #[test]
    fn internal_addresses_are_dropped_and_public_ones_kept() {
        let mixed = vec![
            addr("10.1.2.3"),
            addr("93.184.216.34"),
            addr("::ffff:169.254.169.254"),
            addr("2606:2800:220:1::1"),
        ];
        assert_eq!(
            public_only("example.mn", mixed).expect("has public addresses"),
            [addr("93.184.216.34"), addr("2606:2800:220:1::1")]
        );
        assert_eq!(
            public_only("example.mn", Vec::new()).expect("nothing to refuse"),
            []
        );
    }

    #[test]
    fn a_name_with_only_internal_addresses_is_refused_with_the_reason() {
        let error = public_only(
            "evil.example",
            vec![addr("169.254.169.254"), addr("fd00::1")],
        )
        .expect_err("only internal addresses");
        assert_eq!(
            error.reason(),
            Refused::Resolved {
                host: "evil.example".to_string(),
                ip: "169.254.169.254".parse().expect("ip"),
                kind: AddressKind::LinkLocal,
            }
        );
    }

    #[tokio::test]
    async fn localhost_resolves_to_nothing_usable() {
        let name: Name = "localhost".parse().expect("a valid name");
        let error = match PublicOnly.resolve(name).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(error) => error,
        };
        let refused = error
            .downcast_ref::<InternalOnly>()
            .map(InternalOnly::reason);
        assert!(
            matches!(
                refused,
                Some(Refused::Resolved {
                    kind: AddressKind::Loopback,
                    ..
                })
            ),
            "{error}"
        );
    }
}
