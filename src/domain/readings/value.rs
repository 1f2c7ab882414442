//! A meter value as ГИС ЖКХ accepts it: `\d{1,15}(\.\d{1,7})?`, exact.
//!
//! Values are [`rust_decimal::Decimal`]s: 22 significant digits fit its 96-bit mantissa,
//! so comparison, subtraction and the averages of the jump check are exact, which floats
//! are not (0.1 + 0.2 ≠ 0.3) and digit strings cannot do arithmetic.

use std::fmt;

use rust_decimal::Decimal;

use super::problem::ReadingError;

const MAX_INTEGER_DIGITS: usize = 15;
const MAX_FRACTION_DIGITS: usize = 7;

/// A checked value; its text is the canonical form that is stored and sent
/// (no leading zeros, no trailing fractional zeros, a point as separator).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Value(Decimal);

impl Value {
    /// Parses what a resident typed: spaces around are ignored and a comma (the decimal
    /// key of a Russian keypad) is read as a point.
    pub fn parse(typed: &str) -> Result<Value, ReadingError> {
        let text = typed.trim().replace(',', ".");
        let (integer, fraction) = match text.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (text.as_str(), None),
        };
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(integer, MAX_INTEGER_DIGITS)
            || fraction.is_some_and(|f| !digits(f, MAX_FRACTION_DIGITS))
        {
            return Err(ReadingError::InvalidValue);
        }
        Decimal::from_str_exact(&text)
            .map(|d| Value(d.normalize()))
            .map_err(|_| ReadingError::InvalidValue)
    }

    /// A value read back from the store (written by [`Value::parse`] or an import).
    pub fn stored(text: &str) -> Option<Value> {
        Value::parse(text).ok()
    }

    /// How many digits the integer part has (0 counts as one digit).
    pub fn integer_digits(&self) -> usize {
        self.0.trunc().abs().to_string().len()
    }

    pub fn decimal(&self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_gis_accepts_and_normalises() {
        let cases = [
            ("123", "123"),
            ("123.4567891", "123.4567891"),
            ("123,45", "123.45"),
            (" 00123,450 ", "123.45"),
            ("0", "0"),
            ("0,0", "0"),
            ("999999999999999.9999999", "999999999999999.9999999"),
        ];
        for (typed, stored) in cases {
            assert_eq!(Value::parse(typed).unwrap().to_string(), stored, "{typed}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for typed in [
            "",
            " ",
            "-1",
            "+1",
            "1e3",
            "12.",
            ".5",
            "1.2.3",
            "1,2,3",
            "1 234",
            "12.34567890",
            "1234567890123456",
            "abc",
            "١٢٣",
            "NaN",
        ] {
            assert_eq!(
                Value::parse(typed),
                Err(ReadingError::InvalidValue),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn compares_exactly() {
        let a = Value::parse("0.1000001").unwrap();
        let b = Value::parse("0,1000002").unwrap();
        assert!(a < b);
        assert_eq!(
            Value::parse("12.50").unwrap(),
            Value::parse("12,5").unwrap()
        );
        let big = Value::parse("999999999999999.9999998").unwrap();
        let bigger = Value::parse("999999999999999.9999999").unwrap();
        assert!(big < bigger, "a float would call these equal");
    }

    #[test]
    fn counts_integer_digits() {
        assert_eq!(Value::parse("00012.5").unwrap().integer_digits(), 2);
        assert_eq!(Value::parse("0.5").unwrap().integer_digits(), 1);
        assert_eq!(Value::parse("123456").unwrap().integer_digits(), 6);
    }
}
