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

const fn p(code: &'static str, title: &'static str, kind: Kind, kw: &'static str) -> Problem {
    Problem {
        code,
        title,
        kind,
        keywords: kw,
    }
}

use Kind::{Emergency as E, Ordinary as O, Query as Q};

static WATER: Category = Category {
    code: "water",
    title: "Водоснабжение",
    problems: &[
        p(
            "water.leak",
            "Течь трубы, протечка",
            E,
            "течёт капает протекает вода залив",
        ),
        p(
            "water.flooding",
            "Затопление",
            E,
            "топит заливает потоп соседи сверху",
        ),
        p("water.no_cold", "Нет холодной воды", O, "отключили воду"),
        p("water.no_hot", "Нет горячей воды", O, "отключили гвс"),
        p("water.pressure", "Слабый напор воды", O, "напор давление"),
        p(
            "water.temperature",
            "Горячая вода недостаточно горячая",
            O,
            "еле тёплая гвс",
        ),
        p(
            "water.quality",
            "Ржавая или мутная вода",
            O,
            "грязная вода запах",
        ),
    ],
};

static SEWAGE: Category = Category {
    code: "sewage",
    title: "Канализация",
    problems: &[
        p(
            "sewage.blockage",
            "Засор канализации",
            E,
            "засор стояк унитаз раковина",
        ),
        p(
            "sewage.overflow",
            "Разлив стоков",
            E,
            "стоки фекалии затопило",
        ),
        p("sewage.smell", "Запах канализации", O, "вонь запах"),
    ],
};

static HEATING: Category = Category {
    code: "heating",
    title: "Отопление",
    problems: &[
        p(
            "heating.none",
            "Нет отопления",
            E,
            "холодно батареи холодные",
        ),
        p(
            "heating.leak",
            "Течь батареи или трубы отопления",
            E,
            "радиатор течёт",
        ),
        p("heating.weak", "Батареи еле тёплые", O, "холодно радиатор"),
        p(
            "heating.air",
            "Завоздушивание батареи",
            O,
            "воздух стравить",
        ),
    ],
};

static ELECTRICITY: Category = Category {
    code: "electricity",
    title: "Электроснабжение",
    problems: &[
        p(
            "electricity.none",
            "Нет электричества",
            E,
            "свет отключили электроэнергия",
        ),
        p(
            "electricity.sparks",
            "Искрит проводка, запах гари",
            E,
            "щиток замыкание дым",
        ),
        p(
            "electricity.lighting",
            "Не горит свет",
            O,
            "лампочка освещение темно",
        ),
        p(
            "electricity.meter",
            "Неисправен электросчётчик",
            O,
            "счётчик",
        ),
    ],
};

static GAS: Category = Category {
    code: "gas",
    title: "Газоснабжение",
    problems: &[
        p("gas.smell", "Запах газа", E, "утечка газ плита пахнет"),
        p("gas.none", "Нет газа", O, "плита не горит"),
    ],
};

static VENTILATION: Category = Category {
    code: "ventilation",
    title: "Вентиляция",
    problems: &[
        p(
            "ventilation.draft",
            "Нет тяги в вентиляции",
            O,
            "вытяжка духота",
        ),
        p(
            "ventilation.smell",
            "Посторонние запахи из вентиляции",
            O,
            "запах",
        ),
    ],
};

static INTERCOM: Category = Category {
    code: "intercom",
    title: "Домофон и двери",
    problems: &[
        p("intercom.broken", "Домофон не работает", O, "трубка звонок"),
        p("intercom.key", "Нужен ключ от домофона", O, "чип таблетка"),
        p(
            "intercom.door",
            "Не закрывается входная дверь",
            O,
            "доводчик замок",
        ),
    ],
};

static CLEANING: Category = Category {
    code: "cleaning",
    title: "Уборка",
    problems: &[
        p(
            "cleaning.dirty",
            "Грязно, не убрано",
            O,
            "уборка мусор грязь",
        ),
        p(
            "cleaning.snow",
            "Не убран снег или наледь",
            O,
            "гололёд скользко",
        ),
        p(
            "cleaning.icicles",
            "Сосульки, снег на крыше",
            E,
            "сосулька свисает",
        ),
        p(
            "cleaning.pests",
            "Насекомые или грызуны",
            O,
            "тараканы крысы мыши дезинсекция",
        ),
    ],
};

static WASTE: Category = Category {
    code: "waste",
    title: "Вывоз мусора",
    problems: &[
        p(
            "waste.not_collected",
            "Не вывезен мусор",
            O,
            "контейнер переполнен",
        ),
        p("waste.chute", "Засор мусоропровода", O, "мусоропровод"),
        p(
            "waste.bulky",
            "Вывоз крупногабаритного мусора",
            O,
            "мебель строительный",
        ),
    ],
};

static REPAIRS: Category = Category {
    code: "repairs",
    title: "Ремонт",
    problems: &[
        p(
            "repairs.roof_leak",
            "Протекает крыша",
            E,
            "кровля течёт капает",
        ),
        p(
            "repairs.windows",
            "Разбиты или не закрываются окна",
            O,
            "стекло окно",
        ),
        p("repairs.doors", "Сломана дверь", O, "дверь замок"),
        p(
            "repairs.walls",
            "Трещины, осыпается штукатурка",
            O,
            "стена потолок",
        ),
        p(
            "repairs.stairs",
            "Повреждены лестницы или перила",
            O,
            "ступени",
        ),
        p(
            "repairs.playground",
            "Сломано оборудование площадки",
            O,
            "качели детская",
        ),
        p("repairs.mailbox", "Сломан почтовый ящик", O, "почта"),
    ],
};

static LIFT: Category = Category {
    code: "lift",
    title: "Лифт",
    problems: &[
        p(
            "lift.stuck",
            "Застрял человек в лифте",
            E,
            "застряли кабина",
        ),
        p("lift.stopped", "Лифт не работает", O, "стоит не едет"),
        p(
            "lift.noise",
            "Шум, рывки при движении",
            O,
            "дёргается скрипит",
        ),
        p(
            "lift.button",
            "Не работает кнопка или свет в кабине",
            O,
            "кнопка",
        ),
    ],
};

static ACCRUALS: Category = Category {
    code: "accruals",
    title: "Начисления и оплата",
    problems: &[
        p(
            "accruals.wrong",
            "Неверное начисление",
            Q,
            "квитанция счёт сумма",
        ),
        p(
            "accruals.recalc",
            "Перерасчёт",
            Q,
            "некачественная услуга отсутствие",
        ),
        p("accruals.payment", "Оплата не учтена", Q, "платёж долг"),
        p(
            "accruals.readings",
            "Показания учтены неверно",
            Q,
            "счётчик показания",
        ),
    ],
};

static DOCUMENTS: Category = Category {
    code: "documents",
    title: "Документы",
    problems: &[
        p(
            "documents.certificate",
            "Справка или выписка",
            Q,
            "справка выписка",
        ),
        p(
            "documents.contract",
            "Копия договора управления или протокола",
            Q,
            "договор",
        ),
        p(
            "documents.report",
            "Отчёт управляющей организации",
            Q,
            "отчёт смета",
        ),
        p(
            "documents.query",
            "Другой письменный запрос",
            Q,
            "запрос информация",
        ),
    ],
};

static OTHER: Category = Category {
    code: "other",
    title: "Другое",
    problems: &[p("other.other", "Другое", O, "прочее")],
};

/// The whole tree, in the order the mini-app shows it.
pub static PLACES: &[Place] = &[
    Place {
        code: "flat",
        title: "Квартира",
        premise: true,
        categories: &[
            &WATER,
            &SEWAGE,
            &HEATING,
            &ELECTRICITY,
            &GAS,
            &VENTILATION,
            &INTERCOM,
            &ACCRUALS,
            &DOCUMENTS,
            &OTHER,
        ],
    },
    Place {
        code: "entrance",
        title: "Подъезд",
        premise: false,
        categories: &[
            &ELECTRICITY,
            &HEATING,
            &CLEANING,
            &INTERCOM,
            &REPAIRS,
            &WASTE,
            &VENTILATION,
            &OTHER,
        ],
    },
    Place {
        code: "yard",
        title: "Двор",
        premise: false,
        categories: &[&CLEANING, &WASTE, &REPAIRS, &ELECTRICITY, &OTHER],
    },
    Place {
        code: "roof",
        title: "Крыша",
        premise: false,
        categories: &[&REPAIRS, &CLEANING, &OTHER],
    },
    Place {
        code: "basement",
        title: "Подвал",
        premise: false,
        categories: &[&WATER, &SEWAGE, &HEATING, &ELECTRICITY, &CLEANING, &OTHER],
    },
    Place {
        code: "lift",
        title: "Лифт",
        premise: false,
        categories: &[&LIFT, &OTHER],
    },
];

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
