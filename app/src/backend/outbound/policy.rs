//! Which URLs that came from outside (the upstream's result links) Kinema may fetch, decided
//! before any connection: https to a public host, or anything on an origin the admin configured
//! (the EvoLink API base, which in sandbox mode is the loopback simulator).

use std::net::{IpAddr, SocketAddr};

use url::{Host, Url};

use super::address::is_public;

/// Why a URL may not be fetched. Final: fetching it again will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the link is not a URL")]
    NotAUrl,
    #[error("the link is not https (it uses `{0}:`)")]
    NotHttps(String),
    #[error("the link has no host")]
    NoHost,
    #[error("the link carries a user name or password")]
    Credentials,
    #[error("the link points at a private or reserved address")]
    PrivateAddress,
    #[error("the link's host name leads to a private or reserved address")]
    PrivateName,
    #[error("the link's host name does not resolve")]
    Unresolved,
    #[error("the link redirected too often")]
    TooManyRedirects,
}

/// Where outbound fetches of URLs from outside may go. The default trusts nothing: https to
/// public addresses only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Origins configured by the admin (scheme, host and port): plain http is allowed to them
    /// and their addresses are not filtered.
    trusted: Vec<url::Origin>,
}

impl UrlPolicy {
    /// https to public addresses only.
    pub fn public_only() -> UrlPolicy {
        UrlPolicy::default()
    }

    /// Also trusts the origin of `base_url` (a configured upstream such as the EvoLink API base;
    /// in sandbox mode the loopback simulator). An unparsable URL adds nothing.
    pub fn trusting(mut self, base_url: &str) -> UrlPolicy {
        if let Ok(url) = Url::parse(base_url) {
            let origin = url.origin();
            if origin.is_tuple() && !self.trusted.contains(&origin) {
                self.trusted.push(origin);
            }
        }
        self
    }

    /// Checks `url` before anything is sent: scheme, credentials and, for literal IP hosts, the
    /// address. Host names are checked again when they are resolved ([`UrlPolicy::screen`]).
    pub fn check(&self, url: &str) -> Result<Url, Refusal> {
        let parsed = Url::parse(url.trim()).map_err(|_| Refusal::NotAUrl)?;
        if self.trusted.contains(&parsed.origin()) {
            return Ok(parsed);
        }
        if parsed.scheme() != "https" {
            return Err(Refusal::NotHttps(parsed.scheme().to_string()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Refusal::Credentials);
        }
        match parsed.host() {
            None => Err(Refusal::NoHost),
            Some(Host::Ipv4(ip)) if !is_public(IpAddr::V4(ip)) => Err(Refusal::PrivateAddress),
            Some(Host::Ipv6(ip)) if !is_public(IpAddr::V6(ip)) => Err(Refusal::PrivateAddress),
            Some(_) => Ok(parsed),
        }
    }

    /// The addresses `host` resolved to, if it may be connected to: every one of them must be
    /// public (one private answer refuses all, so a mixed answer cannot slip through), unless
    /// the host is a trusted origin's.
    pub fn screen(
        &self,
        host: &str,
        addresses: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        if addresses.is_empty() {
            return Err(Refusal::Unresolved);
        }
        if self.trusts_host(host) || addresses.iter().all(|a| is_public(a.ip())) {
            Ok(addresses)
        } else {
            Err(Refusal::PrivateName)
        }
    }

    /// True when `host` is the host of a trusted origin. Only ever asked after [`check`]
    /// passed, which compares whole origins, port included.
    ///
    /// [`check`]: UrlPolicy::check
    fn trusts_host(&self, host: &str) -> bool {
        self.trusted.iter().any(|origin| match origin {
            url::Origin::Tuple(_, Host::Domain(domain), _) => domain.eq_ignore_ascii_case(host),
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_passes_by_default() {
        let policy = UrlPolicy::public_only();
        assert!(policy.check("https://cdn.example.com/a.mp4").is_ok());
        for (url, refusal) in [
            (
                "http://cdn.example.com/a.mp4",
                Refusal::NotHttps("http".into()),
            ),
            (
                "javascript:alert(1)",
                Refusal::NotHttps("javascript".into()),
            ),
            ("file:///etc/passwd", Refusal::NotHttps("file".into())),
            (
                "data:video/mp4;base64,AAAA",
                Refusal::NotHttps("data".into()),
            ),
            ("not a url", Refusal::NotAUrl),
            ("https://127.0.0.1/a.mp4", Refusal::PrivateAddress),
            ("https://2130706433/a.mp4", Refusal::PrivateAddress),
            ("https://0x7f.1/a.mp4", Refusal::PrivateAddress),
            ("https://10.0.0.1/a.mp4", Refusal::PrivateAddress),
            ("https://169.254.169.254/latest", Refusal::PrivateAddress),
            ("https://[::ffff:127.0.0.1]/a.mp4", Refusal::PrivateAddress),
            ("https://[::1]/a.mp4", Refusal::PrivateAddress),
            (
                "https://user:pw@cdn.example.com/a.mp4",
                Refusal::Credentials,
            ),
        ] {
            assert_eq!(policy.check(url), Err(refusal), "{url}");
        }
    }

    #[test]
    fn a_trusted_origin_passes_whole_but_only_itself() {
        let policy = UrlPolicy::public_only().trusting("http://127.0.0.1:4010/");
        assert!(policy.check("http://127.0.0.1:4010/results/a.mp4").is_ok());
        assert!(policy.check("http://127.0.0.1:4011/results/a.mp4").is_err());
        assert!(policy
            .check("https://127.0.0.1:4010/results/a.mp4")
            .is_err());
        assert!(policy.check("http://localhost:4010/results/a.mp4").is_err());
    }

    #[test]
    fn resolved_names_are_screened_address_by_address() {
        let policy = UrlPolicy::public_only().trusting("http://sim.local:4010");
        let public: SocketAddr = "93.184.216.34:0".parse().unwrap();
        let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:0".parse().unwrap();
        assert_eq!(
            policy.screen("cdn.example.com", vec![public]),
            Ok(vec![public])
        );
        assert_eq!(
            policy.screen("cdn.example.com", vec![public, loopback]),
            Err(Refusal::PrivateName)
        );
        assert_eq!(
            policy.screen("evil.example", vec![mapped]),
            Err(Refusal::PrivateName)
        );
        assert_eq!(
            policy.screen("cdn.example.com", vec![]),
            Err(Refusal::Unresolved)
        );
        assert_eq!(
            policy.screen("SIM.local", vec![loopback]),
            Ok(vec![loopback])
        );
    }
}
