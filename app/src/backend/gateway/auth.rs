//! Who is calling: the bearer token, checked on every request, and its rate limit.

use crate::backend::{
    audit::{Actor, Origin},
    store::{ApiTokenRecord, Budget, Reservation, UserRecord},
    tokens::{authenticate, TokenRefusal},
    AppState,
};

use super::{Gateway, GatewayError};

/// The member a request acts for, and the token it came with.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRecord,
    pub token: ApiTokenRecord,
}

impl Caller {
    /// The member acting through this token from `origin`, for the audit log: the entries it
    /// writes name the token.
    pub fn actor(&self, origin: &Origin) -> Actor {
        Actor::member(
            &self.user,
            &Origin {
                token_id: Some(self.token.id),
                ..origin.clone()
            },
        )
    }
}

/// The token from an `Authorization` header value (`Bearer kin_…`).
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Checks the token (known, not revoked or expired, member enabled), then counts the request
/// against the token's per-minute limit. Every refusal of the token answers 401.
pub async fn caller(
    state: &AppState,
    gateway: &Gateway,
    authorization: Option<&str>,
) -> Result<Caller, GatewayError> {
    let checked = authenticate(state, bearer(authorization))
        .await
        .map_err(|err| GatewayError::internal("checking a token", err))?;
    let (user, token) = match checked {
        Ok(found) => found,
        Err(TokenRefusal::Missing) => {
            return Err(GatewayError::unauthorized(
                "Send a Kinema API token as 'Authorization: Bearer kin_…'; create one on the API tokens page.",
            ))
        }
        Err(TokenRefusal::Invalid) => {
            return Err(GatewayError::unauthorized(
                "This API token is unknown, revoked or expired.",
            ))
        }
        Err(TokenRefusal::OwnerDisabled) => {
            return Err(GatewayError::unauthorized(
                "The member this API token belongs to is disabled.",
            ))
        }
    };
    let now = state.clock().now();
    let budget = Budget {
        key: format!("token:{}", token.id),
        limit: gateway.requests_per_minute,
    };
    match state
        .store()
        .reserve_attempt(std::slice::from_ref(&budget), now, 60)
        .await
        .map_err(|err| GatewayError::internal("counting a request", err))?
    {
        Reservation::Granted { .. } => Ok(Caller { user, token }),
        Reservation::Refused { retry_at } => Err(GatewayError::rate_limited(
            u64::try_from(retry_at.saturating_sub(now)).unwrap_or(1),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_case_insensitively() {
        assert_eq!(bearer(Some("Bearer kin_abc")), Some("kin_abc"));
        assert_eq!(bearer(Some("bearer  kin_abc ")), Some("kin_abc"));
        assert_eq!(bearer(Some("Basic a2luX2FiYw==")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }
}
