//! Sign-in with the team's identity provider (OpenID Connect): issuer, client and secret
//! (all three or none), which email domains may join, and which group makes admins.

use super::{check_http_url, invalid, ConfigError, Secret, Settings};

/// The provider's validated settings.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// The issuer, without a trailing slash; its discovery document is read from it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Lower-case email domains whose people may join on their first sign-in.
    pub allowed_domains: Vec<String>,
    pub admin_group: Option<String>,
    pub groups_claim: String,
    /// The name on the sign-in button.
    pub provider_name: String,
}

impl OidcConfig {
    /// What the app's sign-in flow needs (the secret leaves its wrapper only here).
    pub fn app_settings(&self) -> app::backend::oidc::OidcSettings {
        app::backend::oidc::OidcSettings {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.expose().to_string(),
            allowed_domains: self.allowed_domains.clone(),
            admin_group: self.admin_group.clone(),
            groups_claim: self.groups_claim.clone(),
            provider_name: self.provider_name.clone(),
        }
    }
}

fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Reads the provider's settings; `None` when no issuer is set.
pub(super) fn from_settings(settings: &Settings) -> Result<Option<OidcConfig>, ConfigError> {
    let issuer = given(&settings.oidc_issuer);
    let client_id = given(&settings.oidc_client_id);
    let secret = given(&settings.oidc_client_secret);
    let (issuer, client_id, secret) = match (issuer, client_id, secret) {
        (None, None, None) => return Ok(None),
        (Some(issuer), Some(id), Some(secret)) => (issuer, id, secret),
        (None, _, _) => {
            return Err(invalid(
                "KINEMA_OIDC_ISSUER",
                "must be set with KINEMA_OIDC_CLIENT_ID and KINEMA_OIDC_CLIENT_SECRET",
            ))
        }
        (_, None, _) => {
            return Err(invalid(
                "KINEMA_OIDC_CLIENT_ID",
                "must be set with KINEMA_OIDC_ISSUER",
            ))
        }
        (_, _, None) => {
            return Err(invalid(
                "KINEMA_OIDC_CLIENT_SECRET",
                "must be set with KINEMA_OIDC_ISSUER",
            ))
        }
    };
    let issuer = check_http_url("KINEMA_OIDC_ISSUER", &issuer)?;
    let allowed_domains = given(&settings.oidc_allowed_domains)
        .map(|list| {
            list.split(',')
                .map(|d| d.trim().trim_start_matches('@').to_lowercase())
                .filter(|d| !d.is_empty())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if let Some(bad) = allowed_domains
        .iter()
        .find(|d| d.contains(['@', '/', ' ']) || !d.contains('.'))
    {
        return Err(invalid(
            "KINEMA_OIDC_ALLOWED_DOMAINS",
            format!("'{bad}' is not a domain like example.com"),
        ));
    }
    let provider_name = given(&settings.oidc_provider_name).unwrap_or_else(|| {
        url::Url::parse(&issuer)
            .ok()
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_else(|| "your identity provider".into())
    });
    Ok(Some(OidcConfig {
        issuer,
        client_id,
        client_secret: Secret::new(secret),
        allowed_domains,
        admin_group: given(&settings.oidc_admin_group),
        groups_claim: given(&settings.oidc_groups_claim).unwrap_or_else(|| "groups".into()),
        provider_name,
    }))
}
