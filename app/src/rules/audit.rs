//! The audit log's vocabulary: what an entry records, and the filters of the admin's view.

use super::vocab::text_enum;

text_enum! {
    /// What an audit entry records: an action that used the team's EvoLink key or changed the
    /// team.
    pub enum AuditAction {
        /// A task was submitted (it will use the team key).
        TaskSubmitted = "task_submitted",
        /// A running task was cancelled.
        TaskCancelled = "task_cancelled",
        /// A task was deleted from its owner's history.
        TaskDeleted = "task_deleted",
        /// A task's archived result was downloaded.
        ResultDownloaded = "result_downloaded",
        /// A custom element was created (its creation task submitted).
        ElementCreated = "element_created",
        /// A custom element's description was edited.
        ElementEdited = "element_edited",
        /// A custom element was removed from the library.
        ElementRemoved = "element_removed",
        /// A member's or the team's monthly budget was set or removed.
        BudgetSet = "budget_set",
        /// An admin adjusted a member's credits.
        CreditsAdjusted = "credits_adjusted",
        /// An admin created an invite link.
        MemberInvited = "member_invited",
        /// Someone joined through an invite (or through single sign-on).
        MemberJoined = "member_joined",
        /// An admin disabled a member.
        MemberDisabled = "member_disabled",
        /// An admin re-enabled a member.
        MemberEnabled = "member_enabled",
        /// An admin changed a member's role.
        RoleChanged = "role_changed",
        /// An admin revoked an unused invite.
        InviteRevoked = "invite_revoked",
        /// A member created an API token.
        TokenCreated = "token_created",
        /// A member or an admin revoked an API token.
        TokenRevoked = "token_revoked",
        /// A member made a share link to a completed task.
        ShareCreated = "share_created",
        /// A member or an admin revoked a share link.
        ShareRevoked = "share_revoked",
        /// Someone signed in.
        SignInSucceeded = "sign_in_succeeded",
        /// A sign-in was refused (the name tried is kept).
        SignInFailed = "sign_in_failed",
        /// An admin changed a team setting.
        SettingsChanged = "settings_changed",
        /// An admin changed the single sign-on settings.
        SsoChanged = "sso_changed",
    }
}

impl AuditAction {
    /// The action in words, for people.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::TaskSubmitted => "Task submitted",
            AuditAction::TaskCancelled => "Task cancelled",
            AuditAction::TaskDeleted => "Task deleted",
            AuditAction::ResultDownloaded => "Result downloaded",
            AuditAction::ElementCreated => "Element created",
            AuditAction::ElementEdited => "Element edited",
            AuditAction::ElementRemoved => "Element removed",
            AuditAction::BudgetSet => "Budget set",
            AuditAction::CreditsAdjusted => "Credits adjusted",
            AuditAction::MemberInvited => "Member invited",
            AuditAction::MemberJoined => "Member joined",
            AuditAction::MemberDisabled => "Member disabled",
            AuditAction::MemberEnabled => "Member enabled",
            AuditAction::RoleChanged => "Role changed",
            AuditAction::InviteRevoked => "Invite revoked",
            AuditAction::TokenCreated => "API token created",
            AuditAction::TokenRevoked => "API token revoked",
            AuditAction::ShareCreated => "Share link created",
            AuditAction::ShareRevoked => "Share link revoked",
            AuditAction::SignInSucceeded => "Signed in",
            AuditAction::SignInFailed => "Sign-in failed",
            AuditAction::SettingsChanged => "Settings changed",
            AuditAction::SsoChanged => "Single sign-on changed",
        }
    }
}

/// Entries shown per page of the audit log.
pub const AUDIT_PAGE_SIZE: i64 = 50;

/// Checks an optional `YYYY-MM-DD` date of a filter; empty means no bound.
pub fn check_date(text: &str) -> Result<Option<(i16, i8, i8)>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || format!("'{text}' is not a date; use the form YYYY-MM-DD, e.g. 2026-11-26.");
    let mut parts = text.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let year: i16 = y.parse().map_err(|_| bad())?;
    let month: i8 = m.parse().map_err(|_| bad())?;
    let day: i8 = d.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || year < 1970 {
        return Err(bad());
    }
    Ok(Some((year, month, day)))
}

/// `value` for a URL query: every byte outside `A-Za-z0-9-_.` percent-encoded.
pub fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The audit filters as a URL query (`member=3&action=budget_set&from=…&to=…`), leaving out
/// empty ones.
pub fn filter_query(member: &str, action: &str, from: &str, to: &str) -> String {
    [
        ("member", member),
        ("action", action),
        ("from", from),
        ("to", to),
    ]
    .iter()
    .filter(|(_, value)| !value.trim().is_empty())
    .map(|(name, value)| format!("{name}={}", query_value(value.trim())))
    .collect::<Vec<_>>()
    .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_word() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(*action));
            assert!(!action.label().is_empty());
        }
        assert_eq!(AuditAction::parse("sign_in"), None);
    }

    #[test]
    fn filter_queries_leave_out_empty_filters_and_encode_the_rest() {
        assert_eq!(filter_query("", "", "", ""), "");
        assert_eq!(
            filter_query("3", "budget_set", "2026-11-01", " "),
            "member=3&action=budget_set&from=2026-11-01"
        );
        assert_eq!(filter_query("", "", "a&b=c", ""), "from=a%26b%3Dc");
    }

    #[test]
    fn dates_are_checked_in_words() {
        assert_eq!(check_date(""), Ok(None));
        assert_eq!(check_date(" 2026-11-26 "), Ok(Some((2026, 11, 26))));
        for bad in [
            "2026-13-01",
            "26-11-01",
            "2026/11/01",
            "yesterday",
            "2026-11-26-1",
        ] {
            let message = check_date(bad).unwrap_err();
            assert!(message.contains("YYYY-MM-DD"), "{bad}: {message}");
        }
    }
}
