//! The category tree a resident picks from: place → category → problem.
//!
//! A request stores the problem's code (`water.leak`) and the place (`flat`). Whether a
//! problem is an emergency, and which deadline rule it follows, comes from here.

use serde::Serialize;

/// Which deadline rule a problem follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Localised within `emergency_minutes`.
    Emergency,
    /// Done within `deadline_days` working days.
    Ordinary,
    /// An owner's written query: answered within `query_days` working days.
    Query,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Emergency => "emergency",
            Kind::Ordinary => "ordinary",
            Kind::Query => "query",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "emergency" => Some(Kind::Emergency),
            "ordinary" => Some(Kind::Ordinary),
            "query" => Some(Kind::Query),
            _ => None,
        }
    }
}

pub struct Problem {
    /// Unique across the tree: `<category>.<problem>`.
    pub code: &'static str,
    pub title: &'static str,
    pub kind: Kind,
    /// More words a resident might type when searching.
    pub keywords: &'static str,
}

pub struct Category {
    pub code: &'static str,
    pub title: &'static str,
    pub problems: &'static [Problem],
}

pub struct Place {
    pub code: &'static str,
    pub title: &'static str,
    /// The place is the resident's own premise; otherwise it is a common area of a house.
    pub premise: bool,
    pub categories: &'static [&'static Category],
}

mod search;
mod tree;

pub use search::{search, Hit};
pub use tree::PLACES;

pub fn place(code: &str) -> Option<&'static Place> {
    PLACES.iter().find(|p| p.code == code)
}

/// The problem and its category, if `code` is one of the place's problems.
pub fn problem_at(place: &Place, code: &str) -> Option<(&'static Category, &'static Problem)> {
    place
        .categories
        .iter()
        .find_map(|c| c.problems.iter().find(|p| p.code == code).map(|p| (*c, p)))
}

/// A problem anywhere in the tree (for requests that came from elsewhere).
pub fn problem(code: &str) -> Option<(&'static Category, &'static Problem)> {
    PLACES.iter().find_map(|place| problem_at(place, code))
}

/// The category's code of a problem code (`water.leak` → `water`).
pub fn category_of(code: &str) -> &str {
    code.split_once('.').map_or(code, |(c, _)| c)
}

/// Lower case, `ё` as `е`, letters and digits only.
#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn problem_codes_are_unique_and_belong_to_their_category() {
        let mut seen = HashSet::new();
        for place in PLACES {
            for c in place.categories {
                for p in c.problems {
                    assert_eq!(category_of(p.code), c.code, "{}", p.code);
                    seen.insert(p.code);
                }
            }
        }
        assert!(seen.len() > 40);
    }

    #[test]
    fn emergencies_are_marked() {
        let (_, gas) = problem("gas.smell").unwrap();
        assert_eq!(gas.kind, Kind::Emergency);
        let (_, key) = problem("intercom.key").unwrap();
        assert_eq!(key.kind, Kind::Ordinary);
        let (_, doc) = problem("documents.certificate").unwrap();
        assert_eq!(doc.kind, Kind::Query);
    }

    #[test]
    fn a_problem_must_fit_its_place() {
        let lift = place("lift").unwrap();
        assert!(problem_at(lift, "lift.stuck").is_some());
        assert!(problem_at(lift, "gas.smell").is_none());
        assert!(place("attic").is_none());
    }

    #[test]
    fn russian_search_finds_problems_by_any_form_of_a_word() {
        let hits = search("Батареи холодные");
        assert_eq!(hits[0].problem, "heating.none", "{hits:?}");
        let hits = search("запах ГАЗА");
        assert_eq!(hits[0].problem, "gas.smell");
        assert!(hits[0].emergency);
        assert!(search("течёт").iter().any(|h| h.problem == "water.leak"));
        assert!(search("лифт застрял")
            .iter()
            .any(|h| h.problem == "lift.stuck"));
        assert!(search("  ").is_empty());
        assert!(search("квазар").is_empty());
    }
}
