//! How the report writes numbers: whole USD with thousands separators, percentages to two
//! decimals, and compact axis ticks (1.5M, 250k). A figure the page shows in full is the JSON's
//! value rounded to the digits shown, which the browser test checks.

/// `value` with thousands separators and `decimals` decimals (`-0` is written `0`).
pub(crate) fn grouped(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    let zero = text.chars().all(|c| c == '0' || c == '.');
    if value < 0.0 && !zero {
        out.insert(0, '-');
    }
    out
}

/// Whole USD: `1,234,567 USD`.
pub(crate) fn usd(value: f64) -> String {
    format!("{} USD", grouped(value, 0))
}

/// A fraction as a percentage: `12.35%`.
pub(crate) fn percent(fraction: f64) -> String {
    format!("{}%", grouped(fraction * 100.0, 2))
}

/// A price or ratio: two decimals below 1,000 and above 0.01, whole above; more decimals for
/// small values.
pub(crate) fn price(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = if magnitude >= 1000.0 || magnitude == 0.0 {
        2
    } else if magnitude >= 0.01 {
        3
    } else {
        6
    };
    grouped(value, decimals)
}

/// A count: whole, with separators.
pub(crate) fn count(value: f64) -> String {
    grouped(value, 0)
}

/// An axis tick: three significant digits with k, M or B.
pub(crate) fn compact(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e9 {
        (value / 1e9, "B")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e3 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let digits = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else if scaled.abs() >= 0.01 || scaled == 0.0 {
        2
    } else {
        4
    };
    let text = format!("{scaled:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    let text = if text == "-0" { "0".to_string() } else { text };
    format!("{text}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_shares_are_written_in_full() {
        assert_eq!(usd(244_413_086.18), "244,413,086 USD");
        assert_eq!(usd(-3_840_000.4), "-3,840,000 USD");
        assert_eq!(usd(-0.2), "0 USD");
        assert_eq!(percent(0.247_223), "24.72%");
        assert_eq!(price(2998.5), "2,998.50");
        assert_eq!(price(0.95), "0.950");
        assert_eq!(count(15673.0), "15,673");
    }

    #[test]
    fn ticks_are_compact() {
        assert_eq!(compact(1_500_000.0), "1.5M");
        assert_eq!(compact(250_000.0), "250k");
        assert_eq!(compact(2998.5), "3k");
        assert_eq!(compact(0.126), "0.13");
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(-2.0e9), "-2B");
    }
}
