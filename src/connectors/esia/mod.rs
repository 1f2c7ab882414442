//! ЕСИА (Gosuslugi) sign-in: the OAuth 2.0 authorisation code flow `v2/ac` + `v3/te` with
//! GOST-signed requests, the token checked, and the person read from `/rs/prns/{oid}`.
//!
//! [`Esia`] is the trait; [`client::EsiaClient`] is the real client (ureq, blocking: call it
//! off the async runtime); `crate::sandbox::esia` simulates ЕСИА in sandbox mode.
//! Errors are [`EsiaError`]: `code()` and `message()` are what the resident sees.

pub mod client;
pub mod jwt;

use std::sync::Arc;

use time::OffsetDateTime;

use crate::app::App;
use crate::connectors::signer::{self, SignerError};

/// One round trip to ЕСИА.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    /// The fresh UUID sent with the authorisation request and checked on return.
    pub state: String,
    /// `<public_url>/auth/esia/callback`, identical in both requests.
    pub redirect_uri: String,
}

/// The address ЕСИА holds for the person, as far as it helps to find the house.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EsiaAddress {
    /// FIAS/ГАР GUID of the house.
    pub house_guid: Option<String>,
    pub flat: Option<String>,
}

/// The signed-in person, as ЕСИА describes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EsiaPerson {
    pub oid: String,
    /// A confirmed account.
    pub trusted: bool,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    pub snils: Option<String>,
    pub address: Option<EsiaAddress>,
}

impl EsiaPerson {
    /// «Фамилия Имя Отчество».
    pub fn full_name(&self) -> String {
        [&self.last_name, &self.first_name, &self.middle_name]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A way to sign people in through ЕСИА.
pub trait Esia: Send + Sync {
    /// Where to send the resident's browser. Blocking (it signs).
    fn authorization_url(
        &self,
        request: &AuthRequest,
        now: OffsetDateTime,
    ) -> Result<String, EsiaError>;

    /// Exchanges the code from the callback for the person. Blocking.
    fn sign_in(
        &self,
        code: &str,
        request: &AuthRequest,
        now: OffsetDateTime,
    ) -> Result<EsiaPerson, EsiaError>;
}

#[derive(Debug, thiserror::Error)]
pub enum EsiaError {
    /// ЕСИА answered with an `ESIA-00xxxx` error.
    #[error("ЕСИА error {code}: {description}")]
    Esia { code: String, description: String },
    /// An error without an ESIA code (`access_denied` and the like).
    #[error("ЕСИА refused: {0}")]
    Refused(String),
    #[error("the account is not confirmed")]
    NotTrusted,
    #[error("the sign-in link is unknown, used or expired")]
    State,
    #[error("token rejected: {0}")]
    Token(String),
    #[error("ЕСИА unreachable: {0}")]
    Unavailable(String),
    #[error("unexpected answer from ЕСИА: {0}")]
    Protocol(String),
    #[error("signer: {0}")]
    Signer(#[from] SignerError),
    #[error("ЕСИА is not configured: {0}")]
    NotConfigured(String),
}

/// What an unconfirmed account must do.
pub const CONFIRM_ACCOUNT: &str = "Ваша учётная запись на Госуслугах не подтверждена, поэтому \
    войти с ней нельзя. Подтвердите личность одним из способов: в приложении «Госуслуги» \
    (по биометрическому загранпаспорту), в онлайн-банке (Сбербанк, ВТБ, Т-Банк и другие) или \
    в центре обслуживания (МФЦ) с паспортом и СНИЛС. Затем вернитесь сюда и снова нажмите \
    «Войти через Госуслуги».";

impl EsiaError {
    /// The `ESIA-007xxx` number, if any.
    fn esia_code(&self) -> Option<&str> {
        match self {
            EsiaError::Esia { code, .. } => Some(code.as_str()),
            _ => None,
        }
    }

    /// Stable code for the resident-facing error.
    pub fn code(&self) -> &'static str {
        match (self, self.esia_code()) {
            (EsiaError::NotTrusted, _) | (_, Some("ESIA-007055")) => "esia_not_confirmed",
            (_, Some("ESIA-007004")) | (EsiaError::Refused(_), _) => "esia_denied",
            (_, Some("ESIA-007007" | "ESIA-007008")) | (EsiaError::Unavailable(_), _) => {
                "esia_unavailable"
            }
            (_, Some("ESIA-007011" | "ESIA-007012")) | (EsiaError::State, _) => "esia_expired",
            (EsiaError::Esia { .. }, _) => "esia_rejected",
            (EsiaError::Token(_) | EsiaError::Protocol(_), _) => "esia_bad_answer",
            (EsiaError::Signer(_) | EsiaError::NotConfigured(_), _) => "esia_not_available",
        }
    }

    /// Russian text that tells the resident what happened and what to do.
    pub fn message(&self) -> String {
        match self.code() {
            "esia_not_confirmed" => CONFIRM_ACCOUNT.into(),
            "esia_denied" => "Вход отменён: вы не разрешили передать данные с Госуслуг. Чтобы \
                войти, нажмите «Войти через Госуслуги» ещё раз и разрешите доступ к ФИО, дате \
                рождения и СНИЛС — по ним мы находим ваши помещения."
                .into(),
            "esia_unavailable" => "Госуслуги сейчас не отвечают. Попробуйте войти через \
                несколько минут."
                .into(),
            "esia_expired" => "Время на вход истекло или ссылка уже использована. Вернитесь \
                в приложение и нажмите «Войти через Госуслуги» ещё раз."
                .into(),
            "esia_rejected" => format!(
                "Госуслуги отклонили запрос на вход ({}). Попробуйте позже; если ошибка \
                 повторяется, сообщите её код в вашу управляющую организацию.",
                self.esia_code().unwrap_or("ESIA")
            ),
            "esia_bad_answer" => "Не удалось проверить ответ Госуслуг. Попробуйте войти ещё \
                раз через минуту."
                .into(),
            _ => "Вход через Госуслуги сейчас недоступен. Попробуйте позже или обратитесь в \
                управляющую организацию."
                .into(),
        }
    }

    /// Whether the operator must fix something (logged as a warning, with detail).
    pub fn is_operator_problem(&self) -> bool {
        matches!(
            self.code(),
            "esia_rejected" | "esia_bad_answer" | "esia_not_available" | "esia_unavailable"
        )
    }
}

/// Finds `ESIA-007xxx` in an error description; otherwise the error is [`EsiaError::Refused`].
pub fn error_from(error: &str, description: &str) -> EsiaError {
    let code = description
        .find("ESIA-")
        .map(|at| &description[at..])
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .filter(|c| c.len() > 5);
    match code {
        Some(code) => EsiaError::Esia {
            code,
            description: description.chars().take(200).collect(),
        },
        None => EsiaError::Refused(format!(
            "{error}: {}",
            description.chars().take(200).collect::<String>()
        )),
    }
}

/// The ЕСИА the config asks for: the real client when `esia.base_url` is set, the sandbox
/// ЕСИА in sandbox mode without it.
pub fn from_app(app: &App) -> Result<Arc<dyn Esia>, EsiaError> {
    let config = &app.config.esia;
    if config.base_url.is_empty() {
        if app.config.is_sandbox() {
            return Ok(Arc::new(crate::sandbox::esia::SandboxEsia::new(app)));
        }
        return Err(EsiaError::NotConfigured("set esia.base_url".into()));
    }
    let signer = signer::from_config(&config.signer, "esia.signer")?;
    Ok(Arc::new(client::EsiaClient::new(config, signer)?))
}

/// `<public_url>/auth/esia/callback`.
pub fn redirect_uri(app: &App) -> String {
    format!("{}/auth/esia/callback", app.config.public_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esia_codes_become_clear_messages() {
        let unconfirmed = error_from("access_denied", "ESIA-007055: Вход в систему ...");
        assert_eq!(unconfirmed.code(), "esia_not_confirmed");
        assert!(unconfirmed.message().contains("Подтвердите личность"));
        assert_eq!(EsiaError::NotTrusted.message(), unconfirmed.message());

        let denied = error_from("access_denied", "ESIA-007004: Владелец ресурса отказал");
        assert_eq!(denied.code(), "esia_denied");
        let odd = error_from("invalid_request", "ESIA-007014: нет параметра");
        assert_eq!(odd.code(), "esia_rejected");
        assert!(odd.message().contains("ESIA-007014"), "{}", odd.message());
        assert_eq!(error_from("access_denied", "no code").code(), "esia_denied");
    }

    #[test]
    fn full_name_skips_missing_parts() {
        let p = EsiaPerson {
            last_name: "Иванов".into(),
            first_name: "Олег".into(),
            ..Default::default()
        };
        assert_eq!(p.full_name(), "Иванов Олег");
    }
}
