//! Page numbers of paged lists (the history), checked before any arithmetic uses them.

/// The highest page number asked for: 10,000 pages of history is far more than anyone keeps, and
/// keeps every offset computed from a page far from overflowing.
pub const MAX_PAGE: i64 = 10_000;

/// `page` if it is between 1 and [`MAX_PAGE`], else a message saying which pages exist.
pub fn check_page(page: i64) -> Result<i64, String> {
    if (1..=MAX_PAGE).contains(&page) {
        Ok(page)
    } else {
        Err(format!(
            "There is no page {page}; pages are numbered from 1 to {MAX_PAGE}."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_outside_the_range_are_refused_with_words() {
        assert_eq!(check_page(1), Ok(1));
        assert_eq!(check_page(MAX_PAGE), Ok(MAX_PAGE));
        for page in [0, -1, MAX_PAGE + 1, i64::MAX, i64::MIN] {
            let message = check_page(page).unwrap_err();
            assert!(message.contains(&page.to_string()), "{message}");
            assert!(message.contains("from 1 to 10000"), "{message}");
        }
    }
}
