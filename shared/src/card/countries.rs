//! The countries a `country` field offers: the full ISO 3166-1 alpha-2 list.

use std::sync::LazyLock;

use crate::domain::Country;

static BY_NAME: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    let mut countries: Vec<_> = rust_iso3166::ALL
        .iter()
        .map(|country| (country.alpha2, country.name))
        .collect();
    countries.sort_by_cached_key(|&(_, name)| sort_key(name));
    countries
});

/// Every ISO 3166-1 country as `(alpha-2 code, English short name)`, sorted by name, for the
/// form's dropdown.
pub fn countries() -> impl Iterator<Item = (&'static str, &'static str)> {
    BY_NAME.iter().copied()
}

/// The official upper-case alpha-2 code for `code`, which may be written in lower case.
pub(super) fn alpha2(code: &str) -> Option<&'static str> {
    Country::parse(code).map(Country::code)
}

/// Names such as "Åland Islands" and "Côte d'Ivoire" sort under their base letter, as in the
/// ISO list, instead of after "Zimbabwe".
fn sort_key(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à'..='å' => 'a',
            'ç' => 'c',
            'è'..='ë' => 'e',
            'ì'..='ï' => 'i',
            'ñ' => 'n',
            'ò'..='ö' => 'o',
            'ù'..='ü' => 'u',
            'ý' | 'ÿ' => 'y',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_list_has_all_249_official_codes_once() {
        let codes: HashSet<_> = countries().map(|(code, _)| code).collect();
        assert_eq!(countries().count(), 249);
        assert_eq!(codes.len(), 249);
        assert!(
            codes
                .iter()
                .all(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
        );
    }

    #[test]
    fn the_list_is_sorted_by_name() {
        let names: Vec<_> = countries().map(|(_, name)| name).collect();
        assert!(
            names
                .windows(2)
                .all(|pair| sort_key(pair[0]) <= sort_key(pair[1]))
        );
        assert_eq!(names[0], "Afghanistan");
        assert_eq!(names[1], "Åland Islands");
        assert_eq!(countries().last(), Some(("ZW", "Zimbabwe")));
        assert!(countries().any(|country| country == ("FR", "France")));
    }

    #[test]
    fn codes_are_normalised_to_upper_case() {
        assert_eq!(alpha2("FR"), Some("FR"));
        assert_eq!(alpha2("fr"), Some("FR"));
        assert_eq!(alpha2("Ax"), Some("AX"));
    }

    #[test]
    fn codes_outside_the_official_list_are_refused() {
        for code in ["XK", "UK", "EU", "ZZ", "F", "FRA", "", "F1", "ﬀ"] {
            assert_eq!(alpha2(code), None, "{code}");
        }
    }
}
