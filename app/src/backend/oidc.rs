//! Sign-in with the team's identity provider (OpenID Connect): the authorization code flow with
//! PKCE and a nonce, the state kept in the session, the ID token validated by `openidconnect`
//! against the provider's discovered keys. A member is found again by the provider's subject;
//! a first sign-in creates the member only when the email's domain is allowed or an invite
//! names that email. Disabled members stay out.

use std::fmt;

use base64::Engine as _;
use openidconnect::{
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use tower_sessions::Session;

use super::{
    accounts::{self, random_token},
    audit::{Actor, Origin},
    now_unix,
    store::{NewUser, OidcIdentity, UserRecord},
    AppState, BackendError,
};
use crate::model::Role;
use crate::rules::{accounts as rules, audit::AuditAction};

/// Where the provider sends people back to, under Kinema's public address.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";

const PENDING_KEY: &str = "kinema.oidc_pending";

/// How long a started sign-in may take at the provider.
const PENDING_MAX_AGE_SECS: i64 = 15 * 60;

/// The provider's settings, as configured.
#[derive(Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Email domains (lower case) whose people may join on their first sign-in.
    pub allowed_domains: Vec<String>,
    /// Members of this group (in `groups_claim`) join as admins.
    pub admin_group: Option<String>,
    pub groups_claim: String,
    /// The name on the sign-in button.
    pub provider_name: String,
}

impl fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("allowed_domains", &self.allowed_domains)
            .field("admin_group", &self.admin_group)
            .field("groups_claim", &self.groups_claim)
            .field("provider_name", &self.provider_name)
            .finish()
    }
}

/// The configured provider, its metadata discovered on first use (so Kinema starts while the
/// provider is down) and kept.
pub struct Oidc {
    settings: OidcSettings,
    http: reqwest::Client,
    metadata: OnceCell<CoreProviderMetadata>,
}

/// A started sign-in, kept in the session until the provider sends the person back.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    started_at: i64,
}

impl Oidc {
    /// The provider with `settings`. The HTTP client follows no redirects (the token and keys
    /// endpoints must answer themselves).
    pub fn new(settings: OidcSettings) -> Result<Oidc, BackendError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|err| BackendError::Internal(format!("OIDC HTTP client: {err}")))?;
        Ok(Oidc {
            settings,
            http,
            metadata: OnceCell::new(),
        })
    }

    /// The name on the sign-in button.
    pub fn provider_name(&self) -> &str {
        &self.settings.provider_name
    }

    /// The issuer members' identities are recorded under.
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    async fn client(
        &self,
        public_url: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        BackendError,
    > {
        let metadata = self
            .metadata
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.settings.issuer.clone())
                    .map_err(|err| unreachable_provider(format!("issuer URL: {err}")))?;
                CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|err| unreachable_provider(format!("discovery: {err}")))
            })
            .await?
            .clone();
        let redirect = RedirectUrl::new(format!("{public_url}{CALLBACK_PATH}"))
            .map_err(|err| BackendError::Internal(format!("OIDC redirect URL: {err}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }
}

fn unreachable_provider(detail: String) -> BackendError {
    BackendError::Internal(format!("the identity provider cannot be used: {detail}"))
}

fn refused(message: impl Into<String>) -> BackendError {
    BackendError::Invalid(message.into())
}

fn oidc(state: &AppState) -> Result<&Oidc, BackendError> {
    state.oidc().ok_or(BackendError::NotFound)
}

/// Starts a sign-in: remembers state, nonce and PKCE verifier in the session and returns the
/// provider's authorization URL to send the browser to. `next` is where to go afterwards (a
/// local path, checked by the caller).
pub async fn start(
    state: &AppState,
    session: &Session,
    next: &str,
) -> Result<String, BackendError> {
    let oidc = oidc(state)?;
    let client = oidc.client(state.public_url()).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: next.to_string(),
        started_at: now_unix(),
    };
    session
        .insert(PENDING_KEY, pending)
        .await
        .map_err(|err| BackendError::Internal(format!("session store: {err}")))?;
    Ok(url.to_string())
}

/// What the ID token says about the person.
struct Claims {
    subject: String,
    email: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
    groups: Vec<String>,
}

/// Reads a claim Kinema's typed claims do not cover (the groups) from the token's payload. The
/// token was validated (signature, issuer, audience, expiry, nonce) before this is called.
fn extra_claim(id_token: &str, claim: &str) -> Vec<String> {
    let Some(payload) = id_token.split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    match &json[claim] {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        serde_json::Value::String(one) => vec![one.clone()],
        _ => Vec::new(),
    }
}

async fn claims(
    state: &AppState,
    oidc: &Oidc,
    pending: &Pending,
    code: &str,
) -> Result<Claims, BackendError> {
    let client = oidc.client(state.public_url()).await?;
    let request = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|err| unreachable_provider(format!("token endpoint: {err}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()));
    let response = request.request_async(&oidc.http).await.map_err(|err| {
        tracing::warn!(error = %err, "OIDC code exchange failed");
        refused("The identity provider did not confirm this sign-in. Try again.")
    })?;
    let id_token = response
        .id_token()
        .ok_or_else(|| refused("The identity provider sent no ID token. Try again."))?;
    let verified = id_token
        .claims(
            &client.id_token_verifier(),
            &Nonce::new(pending.nonce.clone()),
        )
        .map_err(|err| {
            tracing::warn!(error = %err, "OIDC ID token refused");
            refused("The identity provider's answer could not be verified. Try again.")
        })?;
    Ok(Claims {
        subject: verified.subject().as_str().to_string(),
        email: verified
            .email()
            .map(|email| email.as_str().trim().to_lowercase()),
        email_verified: verified.email_verified(),
        name: verified
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.as_str().to_string()),
        groups: extra_claim(&id_token.to_string(), &oidc.settings.groups_claim),
    })
}

/// A free username made from the email's local part (or the subject).
async fn free_username(state: &AppState, claims: &Claims) -> Result<String, BackendError> {
    let seed = claims
        .email
        .as_deref()
        .and_then(|email| email.split('@').next())
        .unwrap_or(&claims.subject);
    let mut base: String = rules::normalize_username(seed)
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(rules::USERNAME_MAX_CHARS - 4)
        .collect();
    while base.chars().count() < rules::USERNAME_MIN_CHARS {
        base.push('0');
    }
    for n in 0..100 {
        let candidate = if n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        if state.store().user_by_username(&candidate).await?.is_none() {
            return Ok(candidate);
        }
    }
    Ok(format!("{base}-{}", &random_token()[..3]))
}

/// Finishes a sign-in the provider sent back: checks the state, exchanges the code, validates
/// the ID token, then finds or (when allowed) creates the member. Every outcome is recorded in
/// the audit log. The caller signs the session in.
pub async fn finish(
    state: &AppState,
    session: &Session,
    code: &str,
    returned_state: &str,
    origin: &Origin,
) -> Result<(UserRecord, String), BackendError> {
    let oidc = oidc(state)?;
    let pending: Option<Pending> = session
        .remove(PENDING_KEY)
        .await
        .map_err(|err| BackendError::Internal(format!("session store: {err}")))?;
    let Some(pending) = pending
        .filter(|p| p.state == returned_state && now_unix() - p.started_at < PENDING_MAX_AGE_SECS)
    else {
        return Err(refused(
            "This sign-in was not started here, or took too long. Sign in again below.",
        ));
    };
    let method = format!("single sign-on ({})", oidc.provider_name());
    let claims = claims(state, oidc, &pending, code).await?;
    let tried = claims
        .email
        .clone()
        .unwrap_or_else(|| claims.subject.clone());
    let (tried, method) = (&tried, &method);
    let fail = |why: String| async move {
        accounts::audit_sign_in(state, origin, Err((tried, &why)), method).await?;
        Err::<(UserRecord, String), BackendError>(refused(why))
    };
    let issuer = &oidc.settings.issuer;
    if let Some(user) = state
        .store()
        .user_by_oidc_subject(issuer, &claims.subject)
        .await?
    {
        if user.disabled {
            return fail("Your Kinema account is disabled. Ask your admin.".into()).await;
        }
        accounts::audit_sign_in(state, origin, Ok(&user), method).await?;
        return Ok((user, pending.next));
    }
    let Some(email) = claims
        .email
        .clone()
        .filter(|_| claims.email_verified != Some(false))
    else {
        return fail(format!(
            "{} gave no verified email address, so Kinema cannot tell whether you may join.",
            oidc.provider_name()
        ))
        .await;
    };
    let domain = email.rsplit('@').next().unwrap_or_default().to_string();
    let allowed = oidc.settings.allowed_domains.contains(&domain);
    let invite = state
        .store()
        .open_invite_for_email(&email, now_unix())
        .await?;
    if !allowed && invite.is_none() {
        return fail(format!(
            "{email} may not join this team: addresses at {domain} are not allowed and there is no invite for {email}. Ask your admin for an invite."
        ))
        .await;
    }
    let is_admin = oidc
        .settings
        .admin_group
        .as_ref()
        .is_some_and(|group| claims.groups.iter().any(|g| g == group));
    let role = if is_admin {
        Role::Admin
    } else {
        invite
            .as_ref()
            .and_then(|invite| Role::parse(&invite.role))
            .unwrap_or(Role::Member)
    };
    let username = free_username(state, &claims).await?;
    let display_name: String = claims
        .name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| email.clone())
        .trim()
        .chars()
        .take(rules::DISPLAY_NAME_MAX_CHARS)
        .collect();
    // Nobody knows this password: the member signs in through the provider.
    let hash = state.passwords().hash(random_token()).await?;
    let entry = Actor::unknown(&username, origin).entry(
        AuditAction::MemberJoined,
        "",
        "",
        state.clock().now_ms(),
    );
    let created = state
        .store()
        .create_oidc_member(
            &NewUser {
                username: &username,
                display_name: &display_name,
                password_hash: &hash,
                role,
                created_at: now_unix(),
            },
            &OidcIdentity {
                issuer,
                subject: &claims.subject,
                email: Some(&email),
            },
            invite.map(|invite| invite.id),
            now_unix(),
            &entry,
        )
        .await?;
    let Some(user) = created else {
        return fail(
            "Your invite was used or revoked meanwhile. Ask your admin for a new one.".into(),
        )
        .await;
    };
    accounts::audit_sign_in(state, origin, Ok(&user), method).await?;
    Ok((user, pending.next))
}
