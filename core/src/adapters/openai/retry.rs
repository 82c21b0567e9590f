//! How long to wait before the next attempt: the server's own hint (`retry-after-ms`,
//! `Retry-After` in seconds or as an HTTP date) when it gives one, else exponential backoff with
//! jitter; always capped.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// The wait before retry number `retry` (1 for the first retry): `initial * 2^(retry-1)`, capped at
/// `cap`, then jittered into its upper half (`[base/2, base]`) so that clients that failed together
/// do not retry together, while each wait still grows.
pub(crate) fn backoff(initial: Duration, cap: Duration, retry: u32) -> Duration {
    let exponent = retry.saturating_sub(1).min(30);
    let base = initial
        .checked_mul(1u32 << exponent)
        .unwrap_or(cap)
        .min(cap);
    let base_ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
    let half = base_ms / 2;
    Duration::from_millis(half + fastrand::u64(0..=base_ms - half))
}

/// The wait the server asked for, if any: `retry-after-ms` (milliseconds, as OpenAI sends it)
/// first, then `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3). A date in the
/// past is a wait of zero. `now` is passed in so tests can fix it.
pub(crate) fn server_hint(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|value| value.to_str().ok())
        .and_then(parse_whole_number)
    {
        return Some(Duration::from_millis(ms));
    }
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    if let Some(seconds) = parse_whole_number(value) {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value.trim()).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A non-negative number of units, rounded up when it has a fraction (`1.5` -> 2): servers send
/// both, and waiting slightly longer than asked is always safe. `None` for anything else.
fn parse_whole_number(text: &str) -> Option<u64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let round_up = fraction.bytes().any(|b| b != b'0');
    whole.checked_add(u64::from(round_up))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let initial = Duration::from_millis(500);
        let cap = Duration::from_secs(8);
        for _ in 0..100 {
            let first = backoff(initial, cap, 1);
            assert!(
                first >= Duration::from_millis(250) && first <= initial,
                "{first:?}"
            );
            let third = backoff(initial, cap, 3);
            assert!(third >= Duration::from_secs(1) && third <= Duration::from_secs(2));
            let late = backoff(initial, cap, 40);
            assert!(late >= Duration::from_secs(4) && late <= cap, "{late:?}");
        }
        assert_eq!(backoff(Duration::ZERO, cap, 3), Duration::ZERO);
    }

    #[test]
    fn retry_after_seconds_milliseconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            server_hint(&headers(&[("retry-after", "3")]), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            server_hint(&headers(&[("retry-after", "1.5")]), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            server_hint(
                &headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:20 GMT")]),
                now
            ),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            server_hint(
                &headers(&[("retry-after", "Wed, 21 Oct 2015 07:00:00 GMT")]),
                now
            ),
            Some(Duration::ZERO)
        );
        // retry-after-ms wins over Retry-After.
        assert_eq!(
            server_hint(
                &headers(&[("retry-after-ms", "250"), ("retry-after", "9")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            server_hint(&headers(&[("retry-after-ms", "20.25")]), now),
            Some(Duration::from_millis(21))
        );
        assert_eq!(server_hint(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(server_hint(&headers(&[("retry-after", "-3")]), now), None);
        assert_eq!(server_hint(&headers(&[]), now), None);
    }
}
