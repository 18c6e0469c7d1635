//! Timestamps: RFC 3339 in UTC on the wire, Unix seconds for TTL and expiry arithmetic.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Now, as RFC 3339: the form every record's `created_at`/`updated_at` takes.
pub fn now_rfc3339() -> String {
    rfc3339(now())
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    // Formatting a UTC OffsetDateTime as RFC 3339 only fails for years outside 0..=9999.
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// RFC 3339 of a Unix time in seconds (empty when out of range).
pub fn rfc3339_of_unix(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(rfc3339)
        .unwrap_or_default()
}

pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let at = time::macros::datetime!(2026-11-25 13:14:57 UTC);
        assert_eq!(rfc3339(at), "2026-11-25T13:14:57Z");
        assert_eq!(parse_rfc3339("2026-11-25T13:14:57Z"), Some(at));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
