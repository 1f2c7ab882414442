//! Finding problems by the words a resident types.

use serde::Serialize;

use super::{Kind, PLACES};

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('ё', "е")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A crude Russian stem: words lose their ending, so «батареи» finds «батарея», «газом»
/// finds «газ» and «течёт» finds «течь».
fn stem(word: &str) -> String {
    let n = word.chars().count();
    let keep = match n {
        0..=3 => n,
        4 => 3,
        5 | 6 => n - 2,
        _ => n - 3,
    };
    word.chars().take(keep).collect()
}

/// One search hit.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Hit {
    pub place: &'static str,
    pub place_title: &'static str,
    pub category: &'static str,
    pub category_title: &'static str,
    pub problem: &'static str,
    pub problem_title: &'static str,
    pub emergency: bool,
}

/// Problems whose titles or keywords match words of `query` (by stem): those matching
/// the most words first, emergencies first among equals. An empty query finds nothing.
pub fn search(query: &str) -> Vec<Hit> {
    let stems: Vec<String> = words(query)
        .iter()
        .filter(|w| w.chars().count() >= 2)
        .map(|w| stem(w))
        .collect();
    if stems.is_empty() {
        return Vec::new();
    }
    let mut scored = Vec::new();
    for place in PLACES {
        for category in place.categories {
            for problem in category.problems {
                let haystack = words(&format!(
                    "{} {} {} {}",
                    place.title, category.title, problem.title, problem.keywords
                ));
                let score = stems
                    .iter()
                    .filter(|s| haystack.iter().any(|w| w.starts_with(s.as_str())))
                    .count();
                if score > 0 {
                    let hit = Hit {
                        place: place.code,
                        place_title: place.title,
                        category: category.code,
                        category_title: category.title,
                        problem: problem.code,
                        problem_title: problem.title,
                        emergency: problem.kind == Kind::Emergency,
                    };
                    scored.push((score, hit));
                }
            }
        }
    }
    // Stable: the tree's order stays among equals.
    scored.sort_by_key(|(score, hit)| (std::cmp::Reverse(*score), !hit.emergency));
    scored.into_iter().map(|(_, hit)| hit).collect()
}
