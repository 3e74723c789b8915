//! Countries: ISO 3166-1 alpha-2 codes, and which of them are in the European Union.

use std::fmt;

/// An official ISO 3166-1 alpha-2 country, e.g. `FR`: a viewer's location, or a `country`
/// answer of the gate form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Country(&'static str);

/// The 27 member states of the European Union. Greece is `GR` in ISO 3166-1 (the EU's own
/// `EL` is not an ISO code). Territories with codes of their own (Åland `AX`, Réunion `RE`,
/// French Guiana `GF`, …) are not listed: a viewer there counts as outside the EU. Codes are
/// byte pairs, so a lookup is at most 27 two-byte comparisons.
const EU_MEMBER_STATES: [[u8; 2]; 27] = [
    *b"AT", *b"BE", *b"BG", *b"CY", *b"CZ", *b"DE", *b"DK", *b"EE", *b"ES", *b"FI", *b"FR", *b"GR",
    *b"HR", *b"HU", *b"IE", *b"IT", *b"LT", *b"LU", *b"LV", *b"MT", *b"NL", *b"PL", *b"PT", *b"RO",
    *b"SE", *b"SI", *b"SK",
];

impl Country {
    /// The country of an alpha-2 code in either case; `None` for anything that is not an
    /// officially assigned code (`UK`, `EU`, `XK`, `FRA`, …).
    pub fn parse(code: &str) -> Option<Country> {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        rust_iso3166::from_alpha2(&code.to_ascii_uppercase()).map(|country| Country(country.alpha2))
    }

    /// The upper-case alpha-2 code.
    pub fn code(self) -> &'static str {
        self.0
    }

    /// Whether the country is a member state of the European Union.
    pub fn is_eu_member(self) -> bool {
        EU_MEMBER_STATES
            .iter()
            .any(|member| member == self.0.as_bytes())
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_in_either_case_and_kept_in_upper_case() {
        assert_eq!(Country::parse("FR").unwrap().code(), "FR");
        assert_eq!(Country::parse("fr"), Country::parse("FR"));
        assert_eq!(Country::parse("Ax").unwrap().to_string(), "AX");
    }

    #[test]
    fn anything_but_an_official_alpha2_code_is_no_country() {
        for code in [
            "XK", "UK", "EU", "EL", "ZZ", "F", "FRA", "", "F1", " FR", "ﬀ", "é",
        ] {
            assert_eq!(Country::parse(code), None, "{code:?}");
        }
    }

    #[test]
    fn the_27_eu_member_states_are_official_codes_and_in_the_eu() {
        for member in EU_MEMBER_STATES {
            let code = std::str::from_utf8(&member).unwrap();
            let country = Country::parse(code).unwrap_or_else(|| panic!("{code} is not ISO"));
            assert!(country.is_eu_member(), "{code}");
        }
        let unique: std::collections::HashSet<_> = EU_MEMBER_STATES.iter().collect();
        assert_eq!(unique.len(), 27);
    }

    #[test]
    fn european_countries_outside_the_union_and_the_rest_of_the_world_are_not_in_the_eu() {
        for code in ["GB", "CH", "NO", "IS", "LI", "UA", "TR", "US", "CN"] {
            assert!(!Country::parse(code).unwrap().is_eu_member(), "{code}");
        }
    }
}
