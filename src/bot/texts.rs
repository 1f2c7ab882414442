//! What the bot says, and the rules for saying it within MAX's limits: texts over 4000
//! characters are split, text from users is escaped for the HTML format.

use crate::connectors::max::api::{Button, NewMessage, TextFormat};

/// MAX refuses message texts longer than this (in characters).
pub const MAX_TEXT_CHARS: usize = 4000;

/// The payload of the «Помощь» button.
pub const HELP_PAYLOAD: &str = "help";

/// Who the bot is, for its buttons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BotIdentity {
    /// The bot's MAX user id (`contact_id` of the «Открыть» button), when known.
    pub id: Option<i64>,
    pub username: String,
}

/// Escapes text for `format: "html"`.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Splits `text` into parts of at most [`MAX_TEXT_CHARS`] characters, preferring a
/// paragraph break, then a line break, then a space.
pub fn split(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.chars().count() > MAX_TEXT_CHARS {
        // Byte offset just past the limit'th character.
        let limit = rest
            .char_indices()
            .nth(MAX_TEXT_CHARS)
            .map_or(rest.len(), |(i, _)| i);
        let window = &rest[..limit];
        let cut = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| {
                window
                    .rfind(sep)
                    .filter(|at| *at > limit / 2)
                    .map(|at| at + sep.len())
            })
            .unwrap_or(limit);
        let (head, tail) = rest.split_at(cut);
        parts.push(head.trim_end().to_string());
        rest = tail.trim_start_matches('\n');
    }
    if !rest.trim().is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

/// `https://max.ru/<bot>?startapp`: opens the mini-app where the button cannot.
pub fn app_link(bot: &BotIdentity) -> String {
    format!("https://max.ru/{}?startapp", bot.username)
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The buttons under the welcome and help messages.
///
/// `start_param` (a deep link's payload, e.g. `readings`) is handed to the mini-app, which
/// opens at that section.
pub fn app_buttons(
    bot: &BotIdentity,
    with_help: bool,
    start_param: Option<&str>,
) -> Vec<Vec<Button>> {
    let open = Button::OpenApp {
        text: "Открыть".into(),
        contact_id: bot.id,
        // Without a known id, MAX finds the bot by its name.
        web_app: bot.id.is_none().then(|| bot.username.clone()),
        payload: start_param.map(str::to_string),
    };
    let mut rows = vec![
        vec![open],
        vec![Button::Link {
            text: "Открыть по ссылке".into(),
            url: match start_param {
                Some(param) => format!("{}={}", app_link(bot), encode(param)),
                None => app_link(bot),
            },
        }],
    ];
    if with_help {
        rows.push(vec![Button::Callback {
            text: "Помощь".into(),
            payload: HELP_PAYLOAD.into(),
        }]);
    }
    rows
}

const NEVER_SHARE_CODES: &str = "<b>Важно:</b> никому не сообщайте коды из сообщений \
Госуслуг — ни в этом чате, ни по телефону, ни «сотруднику управляющей компании». \
Мы никогда их не спрашиваем.";

/// The first message after `bot_started`.
pub fn welcome(first_name: &str) -> String {
    let greeting = if first_name.trim().is_empty() {
        "Здравствуйте!".to_string()
    } else {
        format!("Здравствуйте, {}!", escape_html(first_name.trim()))
    };
    format!(
        "{greeting} Это «Госуслуги Дом» — сервис для жителей многоквартирных домов.\n\n\
         В приложении можно:\n\
         • увидеть свои квартиры и лицевые счета;\n\
         • передать показания счётчиков;\n\
         • подать заявку в управляющую организацию и следить за её выполнением;\n\
         • открыть чат своего дома.\n\n\
         Нажмите «Открыть». Вход — через подтверждённую учётную запись Госуслуг.\n\n\
         {NEVER_SHARE_CODES}"
    )
}

/// The answer to `/start`, `/help` and any other text.
pub fn help() -> String {
    format!(
        "Я помогаю передавать показания счётчиков, подавать заявки в управляющую \
         организацию и следить за ними. Всё это — в приложении: нажмите «Открыть».\n\n\
         Если кнопка не работает, обновите MAX или нажмите «Открыть по ссылке».\n\n\
         {NEVER_SHARE_CODES}"
    )
}

/// The notification for a pressed button the bot no longer knows.
pub const STALE_BUTTON: &str = "Эта кнопка устарела. Нажмите «Открыть».";

/// The notification for «Помощь».
pub const HELP_SHOWN: &str = "Подсказка — ниже в чате.";

/// A text (split when long) with the keyboard under its last part.
pub fn messages(
    text: &str,
    format: Option<TextFormat>,
    keyboard: Vec<Vec<Button>>,
) -> Vec<NewMessage> {
    let parts = split(text);
    let last = parts.len().saturating_sub(1);
    let mut keyboard = Some(keyboard).filter(|k| !k.is_empty());
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let message = NewMessage::text(part, format);
            match keyboard.take_if(|_| i == last) {
                Some(rows) => message.with_keyboard(rows),
                None => message,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped() {
        assert_eq!(
            escape_html("<b>Вася & Co</b>"),
            "&lt;b&gt;Вася &amp; Co&lt;/b&gt;"
        );
        assert!(welcome("<script>").contains("&lt;script&gt;"));
        assert!(!welcome("<script>").contains("<script>"));
    }

    #[test]
    fn long_texts_are_split_within_the_limit_and_nothing_is_lost() {
        let paragraph = "Показания принимаются с 20 по 25 число. ".repeat(30);
        let text = vec![paragraph; 12].join("\n\n");
        assert!(text.chars().count() > 2 * MAX_TEXT_CHARS);
        let parts = split(&text);
        assert!(parts.len() >= 3);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_TEXT_CHARS));
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(&parts.join(" ")), words(&text));

        let solid = "я".repeat(MAX_TEXT_CHARS * 2 + 5);
        let parts = split(&solid);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), solid);
        assert_eq!(split("коротко"), vec!["коротко".to_string()]);
    }

    #[test]
    fn the_keyboard_goes_under_the_last_part_only() {
        let bot = BotIdentity {
            id: Some(5),
            username: "dom_bot".into(),
        };
        let text = "слово ".repeat(1500);
        let list = messages(&text, None, app_buttons(&bot, false, None));
        assert_eq!(list.len(), 3);
        assert!(list[..2].iter().all(|m| m.attachments.is_none()));
        assert!(list[2].attachments.is_some());
    }

    #[test]
    fn buttons_open_the_app_by_id_and_by_link() {
        let bot = BotIdentity {
            id: Some(5),
            username: "dom_bot".into(),
        };
        let rows = app_buttons(&bot, true, None);
        assert!(matches!(
            &rows[0][0],
            Button::OpenApp { text, contact_id: Some(5), web_app: None, .. } if text == "Открыть"
        ));
        assert!(matches!(
            &rows[1][0],
            Button::Link { url, .. } if url == "https://max.ru/dom_bot?startapp"
        ));
        let deep = app_buttons(&bot, false, Some("readings"));
        assert!(matches!(
            &deep[0][0],
            Button::OpenApp { payload: Some(p), .. } if p == "readings"
        ));
        assert!(matches!(
            &deep[1][0],
            Button::Link { url, .. } if url == "https://max.ru/dom_bot?startapp=readings"
        ));
    }
}
