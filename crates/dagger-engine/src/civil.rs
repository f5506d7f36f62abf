//! Dates of the proleptic Gregorian calendar as days since 1970-01-01 and back (H. Hinnant,
//! "chrono-Compatible Low-Level Date Algorithms": `days_from_civil`, `civil_from_days`), for
//! timestamps written without a date library.
//!
//! ```
//! use dagger_engine::civil::{civil_from_days, days_from_civil};
//! assert_eq!(days_from_civil(1970, 1, 1), 0);
//! assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
//! assert_eq!(civil_from_days(-1), (1969, 12, 31));
//! ```

/// Days from 1970-01-01 to `year-month-day` (negative before it).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` that is `days` after 1970-01-01 (the inverse of
/// [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_over_four_centuries() {
        for days in (days_from_civil(1900, 1, 1)..days_from_civil(2300, 1, 1)).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(
            civil_from_days(days_from_civil(2000, 3, 1) - 1),
            (2000, 2, 29)
        );
        assert_eq!(
            civil_from_days(days_from_civil(1900, 3, 1) - 1),
            (1900, 2, 28)
        );
    }
}
