//! Phone numbers and their ITU-T E.164 country calling codes (rule F5).
//!
//! F5: a number is `+` or `00`, then the country calling code (1 to 3 digits,
//! looked up in the ITU list, see [`calling_codes`]), then the rest, at most 15
//! digits in all; spaces, dashes and brackets are ignored. A number without a
//! prefix is national: it is in the organisation's `home_country_code`.
//! Anything else is not a number ([`NumberError`], `INVALID_NUMBER`).
//!
//! Precisely, after dropping every space, `-`, `(` and `)`:
//! - `+DIGITS` or `00DIGITS` is international: the calling code is the one
//!   code of the list DIGITS starts with (the codes form a prefix code);
//! - `DIGITS` (not starting with `00`) is national: the calling code is the
//!   home code, and the digits are kept as written (no trunk prefix is
//!   removed: countries differ, and Italy keeps its leading 0);
//! - at least one digit must follow the calling code, and calling code plus
//!   the rest are at most 15 digits (the `+` or `00` does not count);
//! - any other character (letters, dots, `/`, `*`, `#`, a `+` anywhere but
//!   first, non-ASCII digits or dashes, tabs) makes the text no number.
//!
//! Parsing is pure and table-driven: the same text gives the same answer on
//! every host.

use std::fmt;

#[path = "calling_codes.rs"]
pub mod calling_codes;

/// E.164: at most 15 digits, calling code included.
pub const MAX_DIGITS: usize = 15;

/// A number that parsed: its calling code and all its digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// The country calling code, e.g. `"48"`; `"1"` for all of the NANP.
    pub calling_code: &'static str,
    /// Who the ITU list assigns the calling code to.
    pub area: &'static str,
    /// The international number: calling code then the rest, digits only.
    pub digits: String,
}

impl Number {
    /// `+` and the digits, e.g. `+48221131415`.
    pub fn international(&self) -> String {
        format!("+{}", self.digits)
    }
}

/// Why a text is not a phone number (all `INVALID_NUMBER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// Nothing but spaces, dashes and brackets (or nothing at all).
    Empty,
    /// A character that is neither a digit, a space, a dash, a bracket nor a leading `+`.
    BadCharacter(char),
    /// `+` or `00` with no digits after it.
    NoDigits,
    /// The digits start with no assigned calling code.
    UnknownCallingCode(String),
    /// The organisation's home code is not an assigned calling code.
    UnknownHomeCode(String),
    /// The calling code and nothing after it.
    NoSubscriberNumber(&'static str),
    /// More than 15 digits (the count).
    TooLong(usize),
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            NumberError::Empty => write!(f, "no number given"),
            NumberError::BadCharacter(c) => write!(
                f,
                "`{}` is not allowed in a phone number (digits, a leading + or 00, spaces, dashes and brackets only)",
                c.escape_default()
            ),
            NumberError::NoDigits => write!(f, "no digits after the international prefix"),
            NumberError::UnknownCallingCode(digits) => {
                write!(f, "+{digits} starts with no assigned ITU-T E.164 country calling code")
            }
            NumberError::UnknownHomeCode(code) => write!(
                f,
                "the organisation's home_country_code `{code}` is not an assigned calling code, so a national number can't be placed"
            ),
            NumberError::NoSubscriberNumber(code) => write!(f, "only the calling code +{code}, no number after it"),
            NumberError::TooLong(n) => write!(f, "{n} digits: an E.164 number has at most {MAX_DIGITS}"),
        }
    }
}

/// The assigned calling code `digits` starts with, if any, and its assignee.
pub fn calling_code(digits: &str) -> Option<(&'static str, &'static str)> {
    (1..=3).filter(|&n| n <= digits.len() && digits.is_char_boundary(n)).find_map(|n| {
        let prefix = &digits[..n];
        calling_codes::CALLING_CODES
            .binary_search_by(|(code, _)| (*code).cmp(prefix))
            .ok()
            .and_then(|i| calling_codes::CALLING_CODES.get(i))
            .copied()
    })
}

/// Whether `code` is exactly an assigned calling code (e.g. `"48"`, not `"1242"`).
pub fn is_calling_code(code: &str) -> bool {
    calling_codes::CALLING_CODES.binary_search_by(|(c, _)| (*c).cmp(code)).is_ok()
}

/// Rule F5: `text` as typed, national numbers in `home_country_code`.
pub fn parse(text: &str, home_country_code: &str) -> Result<Number, NumberError> {
    let mut kept = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' ' | '-' | '(' | ')' => {}
            '0'..='9' => kept.push(c),
            '+' if kept.is_empty() => kept.push(c),
            other => return Err(NumberError::BadCharacter(other)),
        }
    }
    if kept.is_empty() {
        return Err(NumberError::Empty);
    }
    let (code, area, digits) = if let Some(rest) = kept.strip_prefix('+').or_else(|| kept.strip_prefix("00")) {
        if rest.is_empty() {
            return Err(NumberError::NoDigits);
        }
        let (code, area) = calling_code(rest).ok_or_else(|| NumberError::UnknownCallingCode(rest.to_string()))?;
        (code, area, rest.to_string())
    } else {
        let (code, area) = calling_codes::CALLING_CODES
            .iter()
            .find(|(c, _)| *c == home_country_code)
            .copied()
            .ok_or_else(|| NumberError::UnknownHomeCode(home_country_code.to_string()))?;
        (code, area, format!("{code}{kept}"))
    };
    if digits.len() == code.len() {
        return Err(NumberError::NoSubscriberNumber(code));
    }
    if digits.len() > MAX_DIGITS {
        return Err(NumberError::TooLong(digits.len()));
    }
    Ok(Number { calling_code: code, area, digits })
}

#[cfg(test)]
mod tests {
    use super::calling_codes::CALLING_CODES;
    use super::*;

    fn code(text: &str) -> Result<&'static str, NumberError> {
        parse(text, "48").map(|n| n.calling_code)
    }

    #[test]
    fn the_table_is_sorted_digits_and_a_prefix_code() {
        for pair in CALLING_CODES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "not sorted or duplicated: {} then {}", pair[0].0, pair[1].0);
        }
        for (code, name) in CALLING_CODES {
            assert!((1..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
            assert!(!code.starts_with('0'), "{code}");
            assert!(!name.is_empty());
            for (other, _) in CALLING_CODES {
                assert!(other == code || !other.starts_with(code), "{code} is a prefix of {other}");
            }
        }
    }

    #[test]
    fn the_table_is_the_whole_list() {
        // Zone by zone: the count of codes the list assigns.
        let zone = |z: char| CALLING_CODES.iter().filter(|(c, _)| c.starts_with(z)).count();
        assert_eq!(zone('1'), 1);
        assert_eq!(zone('2'), 61);
        assert_eq!(zone('3'), 36);
        assert_eq!(zone('4'), 12);
        assert_eq!(zone('5'), 28);
        assert_eq!(zone('6'), 28);
        assert_eq!(zone('7'), 1);
        assert_eq!(zone('8'), 19);
        assert_eq!(zone('9'), 32);
        assert_eq!(CALLING_CODES.len(), 218);
        // Every 2-digit code in use, and no 2-digit code hides 3-digit ones.
        let two: Vec<&str> = CALLING_CODES.iter().map(|(c, _)| *c).filter(|c| c.len() == 2).collect();
        assert_eq!(
            two,
            [
                "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
                "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
                "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"
            ]
        );
    }

    #[test]
    fn a_number_from_every_world_zone() {
        let cases = [
            ("+1 212 555 0100", "1"),       // zone 1: United States
            ("+1 416 555 0100", "1"),       // Canada
            ("+20 2 2345 6789", "20"),      // zone 2: Egypt
            ("+27 21 123 4567", "27"),      // South Africa
            ("+234 803 123 4567", "234"),   // Nigeria
            ("+299 32 10 00", "299"),       // Greenland
            ("+33 1 23 45 67 89", "33"),    // zone 3: France
            ("+353 1 234 5678", "353"),     // Ireland
            ("+380 44 123 4567", "380"),    // Ukraine
            ("+383 44 123 456", "383"),     // Kosovo
            ("+44 20 7946 0000", "44"),     // zone 4: United Kingdom
            ("+49 30 123456", "49"),        // Germany
            ("+55 11 91234 5678", "55"),    // zone 5: Brazil
            ("+591 2 123 4567", "591"),     // Bolivia
            ("+61 2 9876 5432", "61"),      // zone 6: Australia
            ("+672 3 12345", "672"),        // Norfolk Island
            ("+7 495 123 45 67", "7"),      // zone 7: Russia
            ("+7 727 123 4567", "7"),       // Kazakhstan
            ("+81 3 1234 5678", "81"),      // zone 8: Japan
            ("+852 2123 4567", "852"),      // Hong Kong
            ("+800 1234 5678", "800"),      // International Freephone
            ("+91 98765 43210", "91"),      // zone 9: India
            ("+971 4 123 4567", "971"),     // United Arab Emirates
            ("+998 71 123 45 67", "998"),   // Uzbekistan
        ];
        for (text, want) in cases {
            assert_eq!(code(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn shared_codes_resolve_to_the_calling_code() {
        // The Bahamas, Jamaica, Puerto Rico are in the NANP: calling code 1.
        assert_eq!(code("+1 242 123 4567"), Ok("1"));
        assert_eq!(code("+1 (876) 555-0100"), Ok("1"));
        assert_eq!(code("+1 787 555 0100"), Ok("1"));
        // Guam moved into the NANP: +671 is spare, +1 671 is Guam.
        assert_eq!(code("+1 671 555 0100"), Ok("1"));
        assert!(matches!(code("+671 555 0100"), Err(NumberError::UnknownCallingCode(_))));
        // Kazakhstan shares +7.
        assert_eq!(code("+7 701 123 4567"), Ok("7"));
        // Identification codes under shared codes are not resolved.
        assert_eq!(code("+881 6 1234 5678"), Ok("881")); // Iridium
        assert_eq!(code("+882 34 1234 5678"), Ok("882"));
        assert_eq!(code("+883 510 012 345"), Ok("883"));
    }

    #[test]
    fn ambiguous_prefixes() {
        // +42x: 42 alone is spare (former Czechoslovakia).
        assert_eq!(code("+420 601 123 456"), Ok("420"));
        assert_eq!(code("+421 2 1234 5678"), Ok("421"));
        assert_eq!(code("+423 234 56 78"), Ok("423"));
        for spare in ["+422 123 456", "+424 123 456", "+429 123 456"] {
            assert!(matches!(code(spare), Err(NumberError::UnknownCallingCode(_))), "{spare}");
        }
        // +88x
        assert_eq!(code("+880 2 1234 5678"), Ok("880"));
        assert_eq!(code("+886 2 1234 5678"), Ok("886"));
        assert_eq!(code("+888 123 456"), Ok("888"));
        for spare in ["+884 123 456", "+885 123 456", "+887 123 456", "+889 123 456", "+89 123 456"] {
            assert!(matches!(code(spare), Err(NumberError::UnknownCallingCode(_))), "{spare}");
        }
        // +80x, +83x, +87x, zone 2 and 9 spares
        assert_eq!(code("+808 1234 5678"), Ok("808"));
        assert_eq!(code("+870 7 1234 5678"), Ok("870"));
        for spare in [
            "+801 123 456", "+83 123 456", "+871 123 456", "+875 123 456", "+210 123 456", "+259 123 456",
            "+28 123 456", "+292 123 456", "+384 123 456", "+693 123 456", "+969 123 456", "+978 123 456",
            "+990 123 456", "+997 123 456", "+999 123 456", "+0 123 456",
        ] {
            assert!(matches!(code(spare), Err(NumberError::UnknownCallingCode(_))), "{spare}");
        }
        // A 2-digit code wins over its own 3-digit-looking digits: +44 1... is the UK.
        assert_eq!(code("+441 234 567"), Ok("44"));
    }

    #[test]
    fn prefixes_and_ignored_characters() {
        let n = parse("0048 (22) 113-14-15", "48").unwrap();
        assert_eq!((n.calling_code, n.digits.as_str()), ("48", "48221131415"));
        assert_eq!(n.international(), "+48221131415");
        assert_eq!(parse("+48 22 113 14 15", "48"), Ok(n.clone()));
        assert_eq!(parse("(+48) 22-113-14-15", "48"), Ok(n.clone()));
        // National: in the home code.
        assert_eq!(parse("22 113 14 15", "48"), Ok(n));
        let uk = parse("20 7946 0000", "44").unwrap();
        assert_eq!((uk.calling_code, uk.digits.as_str()), ("44", "442079460000"));
        // A national number is in the home code even if its digits look like another.
        assert_eq!(parse("420 123 456", "48").unwrap().calling_code, "48");
    }

    #[test]
    fn fifteen_digits_at_most() {
        assert_eq!(parse("+48 123 456 789 012 3", "48").unwrap().digits.len(), 15);
        assert_eq!(parse("+48 123 456 789 012 34", "48"), Err(NumberError::TooLong(16)));
        assert_eq!(parse("0048 123 456 789 012 3", "48").unwrap().digits.len(), 15); // 00 doesn't count
        assert_eq!(parse("+1 242 123 4567 8901", "48").unwrap().digits.len(), 15);
        // National: the home code counts.
        assert_eq!(parse("1234567890123", "48").unwrap().digits.len(), 15);
        assert_eq!(parse("12345678901234", "48"), Err(NumberError::TooLong(16)));
    }

    #[test]
    fn bad_forms() {
        assert_eq!(parse("", "48"), Err(NumberError::Empty));
        assert_eq!(parse("  - ( ) ", "48"), Err(NumberError::Empty));
        assert_eq!(parse("+", "48"), Err(NumberError::NoDigits));
        assert_eq!(parse("00", "48"), Err(NumberError::NoDigits));
        assert_eq!(parse("+48", "48"), Err(NumberError::NoSubscriberNumber("48")));
        assert_eq!(parse("+48 ", "48"), Err(NumberError::NoSubscriberNumber("48")));
        assert_eq!(parse("48 22 + 113", "48"), Err(NumberError::BadCharacter('+')));
        assert_eq!(parse("++48 22 113", "48"), Err(NumberError::BadCharacter('+')));
        assert_eq!(parse("+48.22.113.14.15", "48"), Err(NumberError::BadCharacter('.')));
        assert_eq!(parse("+48 22 113 14 1x", "48"), Err(NumberError::BadCharacter('x')));
        assert_eq!(parse("tel:+48221131415", "48"), Err(NumberError::BadCharacter('t')));
        assert_eq!(parse("*100#", "48"), Err(NumberError::BadCharacter('*')));
        assert_eq!(parse("+48\t22 113", "48"), Err(NumberError::BadCharacter('\t')));
        assert_eq!(parse("+48 22 113 14 1٥", "48"), Err(NumberError::BadCharacter('٥')));
        assert_eq!(parse("+48 22–113", "48"), Err(NumberError::BadCharacter('–')));
        assert_eq!(parse("+0048 22 113", "48"), Err(NumberError::UnknownCallingCode("004822113".into())));
        assert_eq!(parse("000 22 113", "48"), Err(NumberError::UnknownCallingCode("022113".into())));
        // A home code that isn't assigned can't place national numbers.
        assert_eq!(parse("22 113 14 15", "42"), Err(NumberError::UnknownHomeCode("42".into())));
        // Every error has a message for the administrator.
        for e in [NumberError::Empty, NumberError::TooLong(16), NumberError::UnknownCallingCode("4221".into())] {
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn no_text_makes_it_panic() {
        // Every 1- to 3-character text over an alphabet of awkward characters.
        let alphabet = ['+', '0', '4', '8', '1', ' ', '-', '(', ')', 'é', '٥', '\u{0}', '.'];
        let mut texts = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> =
                texts.iter().flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}"))).collect();
            texts.extend(longer);
        }
        for text in &texts {
            for home in ["48", "1", "", "4", "é", "999"] {
                let _ = parse(text, home);
                let _ = calling_code(text);
                let _ = is_calling_code(text);
            }
        }
        assert_eq!(parse(&"9".repeat(10_000), "48"), Err(NumberError::TooLong(10_002)));
    }

    #[test]
    fn exact_calling_codes() {
        assert!(is_calling_code("48") && is_calling_code("1") && is_calling_code("420"));
        assert!(!is_calling_code("1242") && !is_calling_code("42") && !is_calling_code("") && !is_calling_code("+48"));
        assert_eq!(calling_code("4212"), Some(("421", "Slovakia")));
        assert_eq!(calling_code("12425550100"), Some(("1", "North American Numbering Plan")));
        assert_eq!(calling_code("é"), None); // non-ASCII never panics
    }
}
