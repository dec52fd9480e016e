//! Limits for account names and passwords.

/// Shortest accepted password.
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Longest accepted password (argon2 input stays bounded).
pub const PASSWORD_MAX_CHARS: usize = 200;
/// Shortest accepted username.
pub const USERNAME_MIN_CHARS: usize = 3;
/// Longest accepted username.
pub const USERNAME_MAX_CHARS: usize = 32;
/// Longest accepted display name.
pub const DISPLAY_NAME_MAX_CHARS: usize = 60;
/// Shortest lifetime of an invite link, in hours.
pub const INVITE_HOURS_MIN: i64 = 1;
/// Longest lifetime of an invite link, in hours (30 days).
pub const INVITE_HOURS_MAX: i64 = 720;
/// The lifetime the invite form suggests, in hours.
pub const INVITE_HOURS_DEFAULT: i64 = 72;

/// Normalises a username for storage and look-up: trimmed and lower case.
pub fn normalize_username(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Checks a (normalised) username: `USERNAME_MIN_CHARS`–`USERNAME_MAX_CHARS` characters of a–z,
/// 0–9, `.`, `_` and `-`.
pub fn check_username(username: &str) -> Result<(), String> {
    let count = username.chars().count();
    if count < USERNAME_MIN_CHARS {
        return Err(format!(
            "Username is {count} characters; it must be at least {USERNAME_MIN_CHARS}."
        ));
    }
    if count > USERNAME_MAX_CHARS {
        return Err(format!(
            "Username is {count} characters; it must be at most {USERNAME_MAX_CHARS}."
        ));
    }
    if let Some(bad) = username
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "Username contains '{bad}'; use only letters, digits, '.', '_' and '-'."
        ));
    }
    Ok(())
}

/// Checks a display name: 1 to `DISPLAY_NAME_MAX_CHARS` characters after trimming.
pub fn check_display_name(name: &str) -> Result<(), String> {
    let count = name.trim().chars().count();
    if count == 0 {
        return Err("Display name is empty; tell your team what to call you.".into());
    }
    if count > DISPLAY_NAME_MAX_CHARS {
        return Err(format!(
            "Display name is {count} characters; it must be at most {DISPLAY_NAME_MAX_CHARS}."
        ));
    }
    Ok(())
}

/// Checks a new password and its confirmation.
pub fn check_new_password(password: &str, confirm: &str) -> Result<(), String> {
    let count = password.chars().count();
    if count < PASSWORD_MIN_CHARS {
        return Err(format!(
            "Password is {count} characters; it must be at least {PASSWORD_MIN_CHARS}."
        ));
    }
    if count > PASSWORD_MAX_CHARS {
        return Err(format!(
            "Password is {count} characters; it must be at most {PASSWORD_MAX_CHARS}."
        ));
    }
    if password != confirm {
        return Err("The two passwords differ; type the same password twice.".into());
    }
    Ok(())
}

/// Checks the lifetime of an invite link in hours: 1 hour to 30 days.
pub fn check_invite_hours(hours: i64) -> Result<(), String> {
    if !(INVITE_HOURS_MIN..=INVITE_HOURS_MAX).contains(&hours) {
        return Err(format!(
            "Invite lifetime is {hours} hours; choose between {INVITE_HOURS_MIN} and \
             {INVITE_HOURS_MAX} ({} days).",
            INVITE_HOURS_MAX / 24
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(normalize_username("  Ada.L "), "ada.l");
        assert!(check_username("ada.l").is_ok());
        assert_eq!(
            check_username("ab").unwrap_err(),
            "Username is 2 characters; it must be at least 3."
        );
        assert!(check_username("ada lovelace").unwrap_err().contains("' '"));
        assert!(check_username(&"a".repeat(33)).is_err());
    }

    #[test]
    fn passwords_need_length_and_confirmation() {
        assert!(check_new_password("short", "short")
            .unwrap_err()
            .contains("at least 10"));
        assert!(check_new_password("long enough pass", "long enough pasS")
            .unwrap_err()
            .contains("differ"));
        assert!(check_new_password("long enough pass", "long enough pass").is_ok());
    }

    #[test]
    fn display_names_and_invite_hours_have_bounds() {
        assert!(check_display_name("   ").is_err());
        assert!(check_display_name("Ada").is_ok());
        assert_eq!(
            check_invite_hours(0).unwrap_err(),
            "Invite lifetime is 0 hours; choose between 1 and 720 (30 days)."
        );
        assert!(check_invite_hours(INVITE_HOURS_DEFAULT).is_ok());
        assert!(check_invite_hours(721).is_err());
        assert!(check_invite_hours(72).is_ok());
    }
}
