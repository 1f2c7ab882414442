//! The sandbox ЕСИА: a login page at `/dev/esia/login` listing the demo people (one of them
//! with an unconfirmed account), and an [`Esia`] that trusts the codes that page hands out.
//! Used in sandbox mode when `esia.base_url` is empty.

use hmac::{Hmac, Mac};
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, State};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::app::App;
use crate::config::Secret;
use crate::connectors::esia::{AuthRequest, Esia, EsiaAddress, EsiaError, EsiaPerson};
use crate::sandbox::demo::{house_fias, DemoPerson, DEMO_PEOPLE};

pub struct SandboxEsia {
    key: Secret,
}

impl SandboxEsia {
    pub fn new(app: &App) -> Self {
        SandboxEsia {
            key: app.bot_token.clone(),
        }
    }
}

fn code_mac(key: &Secret, state: &str, oid: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(format!("sandbox-esia|{state}|{oid}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn demo_person(demo: &DemoPerson) -> EsiaPerson {
    let mut parts = demo.name.split_whitespace();
    let last_name = parts.next().unwrap_or("").to_string();
    let first_name = parts.next().unwrap_or("").to_string();
    let middle_name = parts.next().unwrap_or("").to_string();
    let address = demo.owns.first().map(|(house, flat)| EsiaAddress {
        house_guid: house_fias(*house).map(str::to_string),
        flat: Some((*flat).to_string()),
    });
    EsiaPerson {
        oid: demo.oid.into(),
        trusted: demo.trusted,
        last_name,
        first_name,
        middle_name,
        birth_date: Some(demo.birth_date.into()),
        snils: Some(demo.snils.into()),
        address,
    }
}

impl Esia for SandboxEsia {
    fn authorization_url(
        &self,
        request: &AuthRequest,
        _: OffsetDateTime,
    ) -> Result<String, EsiaError> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("state", &request.state)
            .finish();
        Ok(format!("/dev/esia/login?{query}"))
    }

    fn sign_in(
        &self,
        code: &str,
        request: &AuthRequest,
        _: OffsetDateTime,
    ) -> Result<EsiaPerson, EsiaError> {
        let (oid, mac) = code
            .split_once('.')
            .ok_or_else(|| error("ESIA-007011", "неверный код"))?;
        if mac != code_mac(&self.key, &request.state, oid) {
            return Err(error("ESIA-007011", "неверный код"));
        }
        let demo = DEMO_PEOPLE
            .iter()
            .find(|p| p.oid == oid)
            .ok_or_else(|| error("ESIA-007011", "нет такого человека"))?;
        let person = demo_person(demo);
        if !person.trusted {
            return Err(EsiaError::NotTrusted);
        }
        Ok(person)
    }
}

fn error(code: &str, description: &str) -> EsiaError {
    EsiaError::Esia {
        code: code.into(),
        description: description.into(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f1f4f9;margin:0;\
color:#0b1f33}main{max-width:480px;margin:0 auto;padding:24px 16px}h1{font-size:22px}\
.card{background:#fff;border-radius:12px;padding:16px;margin:12px 0;\
box-shadow:0 1px 4px rgba(11,31,51,.12)}button{font:inherit;border:0;border-radius:8px;\
padding:10px 16px;background:#0d4cd3;color:#fff;cursor:pointer}button.secondary{\
background:#e4ecfd;color:#0d4cd3}.note{color:#66727f;font-size:14px}.badge{display:inline-block;\
font-size:12px;padding:2px 8px;border-radius:10px;background:#fde8e8;color:#b00020}";

/// The sandbox ЕСИА login page.
#[get("/dev/esia/login?<state>")]
pub fn login_page(app: &State<App>, state: &str) -> Result<RawHtml<String>, Status> {
    if !app.config.is_sandbox() {
        return Err(Status::NotFound);
    }
    let state = escape(state);
    let mut people = String::new();
    for person in DEMO_PEOPLE {
        let badge = if person.trusted {
            String::new()
        } else {
            "<span class=\"badge\">учётная запись не подтверждена</span>".into()
        };
        people.push_str(&format!(
            "<form class=\"card\" method=\"post\" action=\"/dev/esia/login\">\
             <input type=\"hidden\" name=\"state\" value=\"{state}\">\
             <input type=\"hidden\" name=\"oid\" value=\"{oid}\">\
             <p><strong>{name}</strong> {badge}</p>\
             <p class=\"note\">Дата рождения {birth}, СНИЛС {snils}</p>\
             <button type=\"submit\" name=\"decision\" value=\"allow\">Войти как {first}</button> \
             <button class=\"secondary\" type=\"submit\" name=\"decision\" value=\"deny\">\
             Отказать в доступе</button></form>",
            oid = escape(person.oid),
            name = escape(person.name),
            birth = escape(person.birth_date),
            snils = escape(person.snils),
            first = escape(person.name.split_whitespace().nth(1).unwrap_or(person.name)),
        ));
    }
    Ok(RawHtml(format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Госуслуги — песочница</title><style>{STYLE}</style></head><body><main>\
         <h1>Вход через Госуслуги (песочница)</h1>\
         <p class=\"note\">Это имитация ЕСИА для демонстрации: данные людей вымышлены. \
         Выберите, кем войти.</p>{people}</main></body></html>"
    )))
}

#[derive(FromForm)]
pub struct LoginForm<'r> {
    state: &'r str,
    oid: &'r str,
    decision: &'r str,
}

/// The person chose: back to the callback with a code, or with ЕСИА's refusal.
#[post("/dev/esia/login", data = "<form>")]
pub fn login_submit(app: &State<App>, form: Form<LoginForm<'_>>) -> Result<Redirect, Status> {
    if !app.config.is_sandbox() {
        return Err(Status::NotFound);
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    if form.decision == "allow" {
        let code = format!(
            "{}.{}",
            form.oid,
            code_mac(&app.bot_token, form.state, form.oid)
        );
        query.append_pair("code", &code);
    } else {
        query.append_pair("error", "access_denied");
        query.append_pair(
            "error_description",
            "ESIA-007004: Владелец ресурса отказал в доступе к ресурсу",
        );
    }
    query.append_pair("state", form.state);
    Ok(Redirect::to(format!(
        "/auth/esia/callback?{}",
        query.finish()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_bound_to_their_state() {
        let esia = SandboxEsia {
            key: Secret::new("k"),
        };
        let request = AuthRequest {
            state: "s1".into(),
            redirect_uri: String::new(),
        };
        let now = OffsetDateTime::now_utc();
        let code = format!("1000000001.{}", code_mac(&esia.key, "s1", "1000000001"));
        let person = esia.sign_in(&code, &request, now).unwrap();
        assert_eq!(person.full_name(), "Смирнова Анна Викторовна");
        let other = AuthRequest {
            state: "s2".into(),
            ..request.clone()
        };
        assert!(esia.sign_in(&code, &other, now).is_err());
        let unconfirmed = format!("1000000003.{}", code_mac(&esia.key, "s1", "1000000003"));
        assert_eq!(
            esia.sign_in(&unconfirmed, &request, now)
                .unwrap_err()
                .code(),
            "esia_not_confirmed"
        );
    }
}
