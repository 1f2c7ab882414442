//! The tree itself: which categories each place offers and the problems in each.

use super::{Category, Kind, Place, Problem};

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
