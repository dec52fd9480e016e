//! Which outside URLs may be shown as links: absolute http(s) only, so a `javascript:`,
//! `data:` or `file:` link from the upstream is never clickable.

/// True when `url` is an absolute `http://` or `https://` link with a host, without spaces or
/// control characters.
pub fn is_web_link(url: &str) -> bool {
    if url.is_empty() || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    let rest = ["https://", "http://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    });
    rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with(['/', '\\', '@', ':']))
}

#[cfg(test)]
mod tests {
    use super::is_web_link;

    #[test]
    fn only_absolute_web_links_pass() {
        for good in [
            "https://cdn.example.com/a.mp4",
            "HTTPS://cdn.example.com/a.mp4?sig=1",
            "http://127.0.0.1:4010/results/a.mp4",
        ] {
            assert!(is_web_link(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "vbscript:msgbox(1)",
            "//evil.example/a.mp4",
            "https:///a.mp4",
            "https:\\\\evil.example",
            "/relative/path",
            "",
            "https://",
        ] {
            assert!(!is_web_link(bad), "{bad:?}");
        }
    }
}
