//! UTC offset segments of a time zone: the pieces of a UTC range over which the zone's offset is
//! constant.
//!
//! SQLite has no time zone database, so a usage query is given these segments and finds each row's
//! local weekday from them. chrono-tz has no public list of transitions, so they are found by
//! probing the offset every [`PROBE_STEP_SECONDS`] and bisecting each change to the second. Each
//! (zone, UTC year) is probed once per process and cached, so renewals after the first are cheap.
//!
//! Two transitions less than [`PROBE_STEP_SECONDS`] apart that return to the first offset would be
//! missed; no zone in the IANA database has such a pair.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How far apart the offset is probed while looking for transitions (6 hours).
pub const PROBE_STEP_SECONDS: i64 = 6 * 3600;

/// A UTC range `[from, to)` (unix seconds) over which a zone's UTC offset is `offset_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OffsetSegment {
    /// First instant, unix seconds UTC, inclusive.
    pub from: i64,
    /// End, unix seconds UTC, exclusive.
    pub to: i64,
    /// Local time minus UTC, in seconds, throughout the segment.
    pub offset_seconds: i32,
}

/// The segments of constant UTC offset of `tz` covering `[from, to)`, in order, adjacent, each
/// with an offset different from the one before. Sub-second bounds are widened to whole seconds
/// (`from` rounded down, `to` rounded up). An empty range gives no segments.
pub fn offset_segments(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<OffsetSegment> {
    let to_seconds = to.timestamp() + i64::from(to.timestamp_subsec_nanos() > 0);
    offset_segments_unix(tz, from.timestamp(), to_seconds)
}

/// [`offset_segments`] over unix seconds `[from, to)`. Instants beyond chrono's range take the
/// offset at the end of the range.
pub fn offset_segments_unix(tz: Tz, from: i64, to: i64) -> Vec<OffsetSegment> {
    if from >= to {
        return Vec::new();
    }
    let mut segments = Vec::new();
    let mut start = from;
    let mut offset = offset_at(tz, from);
    for year in year_of(from)..=year_of(to - 1) {
        for &(at, next_offset) in year_transitions(tz, year).iter() {
            if at > from && at < to && next_offset != offset {
                segments.push(OffsetSegment {
                    from: start,
                    to: at,
                    offset_seconds: offset,
                });
                start = at;
                offset = next_offset;
            }
        }
    }
    segments.push(OffsetSegment {
        from: start,
        to,
        offset_seconds: offset,
    });
    segments
}

/// The UTC offset (local minus UTC, seconds) of `tz` at unix second `unix`, clamped to chrono's
/// range.
pub fn offset_at(tz: Tz, unix: i64) -> i32 {
    let utc = DateTime::from_timestamp(unix.clamp(min_unix(), max_unix()), 0).unwrap_or_default();
    tz.offset_from_utc_datetime(&utc.naive_utc())
        .fix()
        .local_minus_utc()
}

fn min_unix() -> i64 {
    DateTime::<Utc>::MIN_UTC.timestamp()
}

fn max_unix() -> i64 {
    DateTime::<Utc>::MAX_UTC.timestamp()
}

fn year_of(unix: i64) -> i32 {
    DateTime::from_timestamp(unix.clamp(min_unix(), max_unix()), 0)
        .unwrap_or_default()
        .year()
}

/// Unix second of Jan 1 00:00 UTC of `year`, clamped to chrono's range.
fn year_start(year: i32) -> i64 {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc().timestamp())
        .unwrap_or(if year < 1970 {
            min_unix()
        } else {
            max_unix() + 1
        })
        .max(min_unix())
}

type TransitionCache = Mutex<HashMap<(&'static str, i32), Arc<[(i64, i32)]>>>;

fn cache() -> &'static TransitionCache {
    static CACHE: OnceLock<TransitionCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The transitions of `tz` in UTC year `year`: `(instant, offset from that instant on)`, where the
/// offset at `instant` differs from the offset one second before. Cached per (zone, year).
fn year_transitions(tz: Tz, year: i32) -> Arc<[(i64, i32)]> {
    let key = (tz.name(), year);
    if let Some(found) = cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Arc::clone(found);
    }
    // Probed outside the lock: two threads may both probe a year, and both find the same answer.
    let found: Arc<[(i64, i32)]> = probe_year(tz, year).into();
    cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_insert(found)
        .clone()
}

fn probe_year(tz: Tz, year: i32) -> Vec<(i64, i32)> {
    let start = year_start(year);
    let end = year_start(year.saturating_add(1)).min(max_unix() + 1);
    let mut transitions = Vec::new();
    let mut current = offset_at(tz, start);
    if start > min_unix() && offset_at(tz, start - 1) != current {
        transitions.push((start, current));
    }
    let mut low = start;
    while low < end - 1 {
        let high = (low + PROBE_STEP_SECONDS).min(end - 1);
        let high_offset = offset_at(tz, high);
        if high_offset == current {
            low = high;
            continue;
        }
        // offset_at(lo) == current, offset_at(hi) != current: bisect to the first changed second.
        let (mut lo, mut hi) = (low, high);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if offset_at(tz, mid) == current {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        current = offset_at(tz, hi);
        transitions.push((hi, current));
        low = hi;
    }
    transitions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn unix(text: &str) -> i64 {
        at(text).timestamp()
    }

    /// Every segment's offset is the zone's at both of its ends, and they tile the range.
    fn assert_consistent(tz: Tz, from: i64, to: i64, segments: &[OffsetSegment]) {
        assert_eq!(segments.first().unwrap().from, from);
        assert_eq!(segments.last().unwrap().to, to);
        for pair in segments.windows(2) {
            assert_eq!(pair[0].to, pair[1].from);
            assert_ne!(pair[0].offset_seconds, pair[1].offset_seconds);
        }
        for segment in segments {
            assert!(segment.from < segment.to);
            assert_eq!(
                offset_at(tz, segment.from),
                segment.offset_seconds,
                "{segment:?}"
            );
            assert_eq!(
                offset_at(tz, segment.to - 1),
                segment.offset_seconds,
                "{segment:?}"
            );
        }
    }

    #[test]
    fn new_york_2026_has_both_transitions_to_the_second() {
        let tz = chrono_tz::America::New_York;
        let segments = offset_segments(tz, at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"));
        assert_eq!(
            segments,
            vec![
                OffsetSegment {
                    from: unix("2026-01-01T00:00:00Z"),
                    to: unix("2026-03-08T07:00:00Z"),
                    offset_seconds: -5 * 3600,
                },
                OffsetSegment {
                    from: unix("2026-03-08T07:00:00Z"),
                    to: unix("2026-11-01T06:00:00Z"),
                    offset_seconds: -4 * 3600,
                },
                OffsetSegment {
                    from: unix("2026-11-01T06:00:00Z"),
                    to: unix("2027-01-01T00:00:00Z"),
                    offset_seconds: -5 * 3600,
                },
            ]
        );
    }

    #[test]
    fn london_2026() {
        let tz = chrono_tz::Europe::London;
        let (from, to) = (unix("2026-02-01T00:00:00Z"), unix("2026-12-01T00:00:00Z"));
        let segments = offset_segments_unix(tz, from, to);
        let bounds: Vec<_> = segments.iter().map(|s| (s.to, s.offset_seconds)).collect();
        assert_eq!(
            bounds,
            vec![
                (unix("2026-03-29T01:00:00Z"), 0),
                (unix("2026-10-25T01:00:00Z"), 3600),
                (to, 0),
            ]
        );
        assert_consistent(tz, from, to, &segments);
    }

    #[test]
    fn utc_is_one_segment_over_years() {
        let (from, to) = (unix("1999-06-01T00:00:00Z"), unix("2031-06-01T00:00:00Z"));
        assert_eq!(
            offset_segments_unix(chrono_tz::UTC, from, to),
            vec![OffsetSegment {
                from,
                to,
                offset_seconds: 0
            }]
        );
    }

    #[test]
    fn lord_howe_shifts_by_thirty_minutes() {
        let tz = chrono_tz::Australia::Lord_Howe;
        let (from, to) = (unix("2026-01-01T00:00:00Z"), unix("2027-01-01T00:00:00Z"));
        let segments = offset_segments_unix(tz, from, to);
        let offsets: Vec<_> = segments.iter().map(|s| s.offset_seconds).collect();
        assert_eq!(offsets, vec![11 * 3600, 10 * 3600 + 1800, 11 * 3600]);
        // 2026-04-05 02:00 local (+11) -> 01:30 (+10:30); 2026-10-04 02:00 local (+10:30) -> 02:30.
        assert_eq!(segments[0].to, unix("2026-04-04T15:00:00Z"));
        assert_eq!(segments[1].to, unix("2026-10-03T15:30:00Z"));
        assert_consistent(tz, from, to, &segments);
    }

    #[test]
    fn ranges_inside_one_offset_and_empty_ranges() {
        let tz = chrono_tz::America::New_York;
        let (from, to) = (unix("2026-03-08T07:00:00Z"), unix("2026-03-09T00:00:00Z"));
        assert_eq!(
            offset_segments_unix(tz, from, to),
            vec![OffsetSegment {
                from,
                to,
                offset_seconds: -4 * 3600
            }]
        );
        // One second before the change is still standard time.
        assert_eq!(
            offset_segments_unix(tz, from - 1, from)[0].offset_seconds,
            -5 * 3600
        );
        assert!(offset_segments_unix(tz, to, to).is_empty());
        assert!(offset_segments_unix(tz, to, from).is_empty());
    }

    #[test]
    fn sub_second_bounds_widen_to_whole_seconds() {
        let segments = offset_segments(
            chrono_tz::UTC,
            at("2026-01-01T00:00:00.5Z"),
            at("2026-01-02T00:00:00.25Z"),
        );
        assert_eq!(segments[0].from, unix("2026-01-01T00:00:00Z"));
        assert_eq!(segments[0].to, unix("2026-01-02T00:00:01Z"));
    }

    #[test]
    fn many_zones_and_years_agree_with_chrono_tz() {
        let (from, to) = (unix("1965-01-01T00:00:00Z"), unix("2040-01-01T00:00:00Z"));
        for tz in [
            chrono_tz::America::New_York,
            chrono_tz::Europe::London,
            chrono_tz::Asia::Kolkata,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::America::Sao_Paulo,
            chrono_tz::Pacific::Chatham,
            chrono_tz::Africa::Casablanca,
        ] {
            let segments = offset_segments_unix(tz, from, to);
            assert_consistent(tz, from, to, &segments);
            // Spot-check every 5 days that the segment holding the instant has its offset.
            let mut t = from;
            let mut index = 0;
            while t < to {
                while segments[index].to <= t {
                    index += 1;
                }
                assert_eq!(
                    segments[index].offset_seconds,
                    offset_at(tz, t),
                    "{tz} at {t}"
                );
                t += 5 * 86400 + 3607;
            }
        }
    }

    #[test]
    fn years_are_cached() {
        let tz = chrono_tz::Europe::Paris;
        let first = year_transitions(tz, 2031);
        let second = year_transitions(tz, 2031);
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(first.len(), 2);
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let tz = chrono_tz::America::New_York;
        let max = DateTime::<Utc>::MAX_UTC.timestamp();
        let segments = offset_segments_unix(tz, max - 86400, max + 1);
        assert_eq!(segments.last().unwrap().to, max + 1);
        let min = DateTime::<Utc>::MIN_UTC.timestamp();
        assert!(!offset_segments_unix(tz, min, min + 86400).is_empty());
    }
}
