//! The reverse proxies whose `X-Forwarded-For` is believed, and how a request's client address is
//! found with them.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

use super::{invalid, ConfigError};

/// Address ranges (CIDRs) of the reverse proxies in front of Kinema. Empty: no proxy is
/// trusted and the client address is always the socket peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of CIDRs or single addresses (`10.0.0.0/8, ::1`).
    pub fn parse(list: &str) -> Result<TrustedProxies, ConfigError> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(address) => IpNet::from(address),
                    Err(_) => {
                        return Err(invalid(
                            "KINEMA_TRUSTED_PROXIES",
                            format!("'{item}' is not an address or a CIDR like 10.0.0.0/8"),
                        ))
                    }
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    /// True when `address` lies in one of the ranges (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address: the socket peer, unless the peer is a trusted proxy; then the
    /// `X-Forwarded-For` list is read from the right (the entries the trusted proxies appended),
    /// skipping trusted addresses, and the first other address is the client. An unreadable entry
    /// ends the walk at the last trusted hop, so a forged entry can never be chosen.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for entry in entries.iter().rev() {
            let Some(address) = parse_forwarded(entry) else {
                break;
            };
            client = address;
            if !self.contains(address) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<std::net::SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn lists_parse_and_bad_entries_name_the_variable() {
        let proxies = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.1 ,fd00::/8,").unwrap();
        assert!(proxies.contains(ip("10.1.2.3")));
        assert!(proxies.contains(ip("192.168.1.1")));
        assert!(!proxies.contains(ip("192.168.1.2")));
        assert!(proxies.contains(ip("fd12::1")));
        assert!(proxies.contains(ip("::ffff:10.9.9.9")));
        assert_eq!(
            TrustedProxies::parse("").unwrap(),
            TrustedProxies::default()
        );
        let err = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert_eq!(err.variable, "KINEMA_TRUSTED_PROXIES");
        assert!(err.message.contains("'proxy.local'"));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn the_client_address_follows_only_trusted_proxies() {
        let none = TrustedProxies::default();
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let forged = headers(&["6.6.6.6, 203.0.113.9"]);
        // No proxies trusted, or a peer that is not one: the header is ignored.
        assert_eq!(none.client_address(ip("10.0.0.2"), &forged), ip("10.0.0.2"));
        assert_eq!(
            proxies.client_address(ip("198.51.100.4"), &forged),
            ip("198.51.100.4")
        );
        // A trusted peer: the rightmost address that is not a trusted proxy.
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &forged),
            ip("203.0.113.9")
        );
        let chain = headers(&["6.6.6.6, 203.0.113.9", "10.0.0.5"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &chain),
            ip("203.0.113.9")
        );
        let with_port = headers(&["[2001:db8::7]:443"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &with_port),
            ip("2001:db8::7")
        );
        // Garbage stops the walk at the last trusted hop; no header means the proxy itself.
        let garbage = headers(&["203.0.113.9, unknown, 10.0.0.5"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &garbage),
            ip("10.0.0.5")
        );
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        // Every hop trusted: the leftmost.
        let all_trusted = headers(&["10.0.0.9, 10.0.0.5"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.2"), &all_trusted),
            ip("10.0.0.9")
        );
    }
}
