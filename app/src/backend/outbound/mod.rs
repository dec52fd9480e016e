//! The one client for fetching URLs that came from outside (the upstream's result links). A URL
//! is checked before anything is sent ([`UrlPolicy::check`]); host names are resolved by
//! [`GuardedResolver`], which refuses private answers at connect time (so a name cannot be
//! re-pointed after the check); every redirect is checked the same way; proxies are not used.

mod address;
mod policy;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

pub use address::is_public;
pub use policy::{Refusal, UrlPolicy};

/// The most redirects a download follows.
const MAX_REDIRECTS: usize = 3;

/// Resolves host names and hands reqwest only addresses the policy allows.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<UrlPolicy>,
}

impl GuardedResolver {
    /// A resolver that screens with `policy`.
    pub fn new(policy: Arc<UrlPolicy>) -> GuardedResolver {
        GuardedResolver { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Refusal::Unresolved)?
                .collect();
            let allowed = policy.screen(&host, found)?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Why a download did not start.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The policy refused the URL, a name it resolved to, or a redirect: final.
    #[error("{0}")]
    Refused(Refusal),
    /// The network failed; another try may work.
    #[error("{0}")]
    Failed(String),
}

/// The guarded download client.
#[derive(Debug, Clone)]
pub struct Downloader {
    policy: Arc<UrlPolicy>,
    client: reqwest::Client,
}

impl Downloader {
    /// A client that fetches only what `policy` allows.
    pub fn new(policy: UrlPolicy) -> Downloader {
        let policy = Arc::new(policy);
        let redirects = policy.clone();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(15 * 60))
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(policy.clone())))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > MAX_REDIRECTS {
                    return attempt.error(Refusal::TooManyRedirects);
                }
                match redirects.check(attempt.url().as_str()) {
                    Ok(_) => attempt.follow(),
                    Err(refusal) => attempt.error(refusal),
                }
            }))
            .build()
            .unwrap_or_default();
        Downloader { policy, client }
    }

    /// The policy in force.
    pub fn policy(&self) -> &UrlPolicy {
        &self.policy
    }

    /// Starts a GET of `url`; only the answer's status and headers have arrived when it returns.
    pub async fn get(&self, url: &str) -> Result<reqwest::Response, FetchError> {
        let checked = self.policy.check(url).map_err(FetchError::Refused)?;
        self.client
            .get(checked)
            .send()
            .await
            .map_err(|err| match refusal_in(&err) {
                Some(refusal) => FetchError::Refused(refusal),
                None => FetchError::Failed(err.without_url().to_string()),
            })
    }
}

/// The policy's refusal somewhere in a transport error's causes, if it is there.
fn refusal_in(err: &reqwest::Error) -> Option<Refusal> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = cause {
        if let Some(refusal) = current.downcast_ref::<Refusal>() {
            return Some(refusal.clone());
        }
        cause = current.source();
    }
    None
}

#[cfg(test)]
mod tests;
