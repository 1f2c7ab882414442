//! Why a reading was refused (or needs the resident's confirmation): a stable code for the
//! screen and the tests, a Russian message for the resident.

use serde::Serialize;
use time::Date;

/// Every rule that can stop a reading.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadingError {
    #[error("Счётчик не найден")]
    MeterNotFound,
    #[error("Этот счётчик указан в запросе дважды")]
    MeterRepeated,
    #[error("Счётчик снят с учёта: показания по нему не принимаются")]
    MeterArchived,
    #[error("Показания этого счётчика передаются автоматически")]
    MeterAutomatic,
    #[error(
        "Срок поверки счётчика истёк {}: показания не принимаются, закажите поверку",
        ru_date(*.0)
    )]
    VerificationExpired(Date),
    #[error("Для этого счётчика нужно {expected} {}, передано {got}", values_word(*.expected))]
    WrongTariffCount { expected: u8, got: usize },
    #[error("Введите число: до 15 цифр, дробная часть до 7 цифр после запятой")]
    InvalidValue,
    #[error("У этого счётчика не больше {0} цифр до запятой")]
    TooManyDigits(u8),
    #[error("Дата показаний не может быть в будущем")]
    FutureDate,
    #[error("Дата раньше последних переданных показаний ({})", ru_date(*.0))]
    BeforeLastReading(Date),
    #[error("Показания принимаются с {from} по {to} число месяца")]
    OutsideWindow { from: u8, to: u8 },
    #[error("Значение меньше предыдущего ({0}): проверьте цифры")]
    LowerThanPrevious(String),
    #[error(
        "Расход {consumption} намного больше обычного (в среднем {average} в месяц). \
         Проверьте цифры и подтвердите, если всё верно"
    )]
    ImplausibleJump {
        consumption: String,
        average: String,
    },
}

impl ReadingError {
    /// The stable code the screen and the tests rely on.
    pub fn code(&self) -> &'static str {
        match self {
            ReadingError::MeterNotFound => "meter_not_found",
            ReadingError::MeterRepeated => "meter_repeated",
            ReadingError::MeterArchived => "meter_archived",
            ReadingError::MeterAutomatic => "meter_automatic",
            ReadingError::VerificationExpired(_) => "verification_expired",
            ReadingError::WrongTariffCount { .. } => "wrong_tariff_count",
            ReadingError::InvalidValue => "invalid_value",
            ReadingError::TooManyDigits(_) => "too_many_digits",
            ReadingError::FutureDate => "future_date",
            ReadingError::BeforeLastReading(_) => "before_last_reading",
            ReadingError::OutsideWindow { .. } => "outside_window",
            ReadingError::LowerThanPrevious(_) => "lower_than_previous",
            ReadingError::ImplausibleJump { .. } => "implausible_jump",
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            code: self.code(),
            message: self.to_string(),
            tariff: None,
        }
    }

    /// The problem, pointing at one tariff field (1-based).
    pub fn at_tariff(&self, index: usize) -> Problem {
        Problem {
            tariff: u8::try_from(index + 1).ok(),
            ..self.problem()
        }
    }
}

/// What the resident sees about one meter: code, Russian message, and the tariff field it
/// concerns (1 = День/T1, 2 = Ночь/T2, 3 = Пик/T3) when it concerns one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tariff: Option<u8>,
}

fn values_word(n: u8) -> &'static str {
    if n == 1 {
        "значение"
    } else {
        "значения"
    }
}

/// `3 декабря 2026`.
pub(crate) fn ru_date(date: Date) -> String {
    const MONTHS: [&str; 12] = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    let month = MONTHS
        .get(usize::from(u8::from(date.month())) - 1)
        .copied()
        .unwrap_or("");
    format!("{} {} {}", date.day(), month, date.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_messages_russian() {
        let date = time::macros::date!(2026 - 12 - 03);
        let all = [
            ReadingError::MeterNotFound,
            ReadingError::MeterRepeated,
            ReadingError::MeterArchived,
            ReadingError::MeterAutomatic,
            ReadingError::VerificationExpired(date),
            ReadingError::WrongTariffCount {
                expected: 2,
                got: 1,
            },
            ReadingError::InvalidValue,
            ReadingError::TooManyDigits(5),
            ReadingError::FutureDate,
            ReadingError::BeforeLastReading(date),
            ReadingError::OutsideWindow { from: 20, to: 25 },
            ReadingError::LowerThanPrevious("1".into()),
            ReadingError::ImplausibleJump {
                consumption: "1".into(),
                average: "1".into(),
            },
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), all.len());
        for e in &all {
            assert!(
                e.to_string().chars().any(|c| ('а'..='я').contains(&c)),
                "{e}"
            );
        }
        assert_eq!(
            ReadingError::VerificationExpired(date).to_string(),
            "Срок поверки счётчика истёк 3 декабря 2026: показания не принимаются, закажите поверку"
        );
    }
}
