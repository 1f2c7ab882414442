//! House chats in MAX: binding a group chat to a house (a one-time code sent as
//! `/bind <code>` in the chat, or an admin's choice in the console), unbinding, what the
//! bot's removal from a chat does, the chat's invite link, and residents asking the УО
//! for a chat. One chat per house and one house per chat (`houses.max_chat_id` is unique).

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::jobs::{self, NewJob};
use crate::store::{self, parse_ts, ts};

/// How long a binding code works.
pub const CODE_LIFETIME: Duration = Duration::hours(24);
/// Code characters: no 0/O, 1/I/L, so a code read aloud or retyped survives.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_CHARS: usize = 8;

/// Job kind: fetch one chat's invite link (`{"chat_id": ..}`).
pub const REFRESH_LINK: &str = "chats.refresh_link";
/// Job kind: refresh every bound chat's link, daily (one row that lives for ever).
pub const REFRESH_LINKS: &str = "chats.refresh_links";

/// A fresh binding code, as the admin sees it once.
#[derive(Clone, Debug, Serialize)]
pub struct NewCode {
    pub code: String,
    pub expires_at: String,
}

/// Upper case without spaces and dashes: `k7m2-q9xd` and `K7M2Q9XD` are one code. Cyrillic
/// letters that look like Latin ones (a code retyped on a Russian keyboard layout) count as
/// those.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .flat_map(char::to_uppercase)
        .map(latin_twin)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// The Latin letter a Cyrillic capital looks like, or the character itself.
fn latin_twin(c: char) -> char {
    match c {
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'У' => 'Y',
        other => other,
    }
}

fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(normalise_code(code).as_bytes()))
}

/// Makes a code for `house_id`; earlier unused codes of the house stop working.
pub fn make_code(
    tx: &Connection,
    house_id: i64,
    actor: &str,
    now: OffsetDateTime,
) -> store::Result<NewCode> {
    let code: String = (0..CODE_CHARS)
        .map(|_| {
            let i = rand::random_range(0..CODE_ALPHABET.len());
            char::from(CODE_ALPHABET[i])
        })
        .collect();
    let expires = now + CODE_LIFETIME;
    tx.execute(
        "UPDATE chat_bind_codes SET expires_at = ?2 WHERE house_id = ?1 AND used_at IS NULL \
         AND expires_at > ?2",
        params![house_id, ts(now)],
    )?;
    tx.execute(
        "INSERT INTO chat_bind_codes (house_id, code_hash, created_by, expires_at, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![house_id, code_hash(&code), actor, ts(expires), ts(now)],
    )?;
    Ok(NewCode {
        code: format!("{}-{}", &code[..4], &code[4..]),
        expires_at: ts(expires),
    })
}

/// What `/bind <code>` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindOutcome {
    Bound {
        house_id: i64,
        address: String,
    },
    /// Wrong, used or expired: the chat is told the same for all three.
    BadCode,
    /// The chat is already bound to another house; unbind it in the console first.
    ChatTaken {
        address: String,
    },
    /// The bot was removed from the chat (a late message): nothing is bound, and the bot
    /// cannot answer there.
    BotRemoved,
    /// A channel, where residents cannot write: only a group chat is a house chat. The code
    /// stays unused.
    Channel,
}

/// Binds `chat_id` with a code sent in it.
pub fn bind_by_code(
    tx: &Connection,
    chat_id: i64,
    code: &str,
    now: OffsetDateTime,
) -> store::Result<BindOutcome> {
    let found: Option<(i64, i64, String)> = tx
        .query_row(
            "SELECT c.id, h.id, h.address FROM chat_bind_codes c \
             JOIN houses h ON h.id = c.house_id \
             WHERE c.code_hash = ?1 AND c.used_at IS NULL AND c.expires_at > ?2 \
             AND h.removed_at IS NULL",
            params![code_hash(code), ts(now)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((code_id, house_id, address)) = found else {
        return Ok(BindOutcome::BadCode);
    };
    let removed = tx
        .query_row(
            "SELECT 1 FROM max_chats WHERE chat_id = ?1 AND status = 'removed'",
            [chat_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if removed {
        return Ok(BindOutcome::BotRemoved);
    }
    let channel = tx
        .query_row(
            "SELECT 1 FROM max_chats WHERE chat_id = ?1 AND is_channel = 1",
            [chat_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if channel {
        return Ok(BindOutcome::Channel);
    }
    if let Some((other, other_address)) = house_of_chat(tx, chat_id)? {
        if other != house_id {
            return Ok(BindOutcome::ChatTaken {
                address: other_address,
            });
        }
    }
    tx.execute(
        "UPDATE chat_bind_codes SET used_at = ?2, used_chat_id = ?3 WHERE id = ?1",
        params![code_id, ts(now), chat_id],
    )?;
    bind(tx, house_id, chat_id, now)?;
    Ok(BindOutcome::Bound { house_id, address })
}

/// The house a chat is bound to: (id, address).
pub fn house_of_chat(conn: &Connection, chat_id: i64) -> store::Result<Option<(i64, String)>> {
    Ok(conn
        .query_row(
            "SELECT id, address FROM houses WHERE max_chat_id = ?1",
            [chat_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Binds the chat to the house (replacing the house's previous chat) and queues fetching
/// its invite link. The caller checked that the chat is not another house's.
pub fn bind(
    tx: &Connection,
    house_id: i64,
    chat_id: i64,
    now: OffsetDateTime,
) -> store::Result<()> {
    // A chat the bot never heard `bot_added` for is still a chat it is in.
    tx.execute(
        "INSERT INTO max_chats (chat_id, status, created_at, updated_at) \
         VALUES (?1, 'active', ?2, ?2) ON CONFLICT (chat_id) DO NOTHING",
        params![chat_id, ts(now)],
    )?;
    tx.execute(
        "UPDATE houses SET max_chat_id = ?2, chat_removed_at = NULL, chat_removed_id = NULL, \
         updated_at = ?3 WHERE id = ?1",
        params![house_id, chat_id, ts(now)],
    )?;
    queue_link_refresh(tx, chat_id, now)?;
    Ok(())
}

/// Unbinds the house's chat; true when there was one.
pub fn unbind(tx: &Connection, house_id: i64, now: OffsetDateTime) -> store::Result<bool> {
    Ok(tx.execute(
        "UPDATE houses SET max_chat_id = NULL, chat_removed_at = NULL, chat_removed_id = NULL, \
         updated_at = ?2 WHERE id = ?1 AND max_chat_id IS NOT NULL",
        params![house_id, ts(now)],
    )? == 1)
}

/// `bot_removed`: the chat is no longer the house's; the console says the bot was removed.
/// Returns the house it was bound to.
pub fn bot_removed(
    tx: &Connection,
    chat_id: i64,
    now: OffsetDateTime,
) -> store::Result<Option<i64>> {
    let house: Option<i64> = tx
        .query_row(
            "UPDATE houses SET max_chat_id = NULL, chat_removed_at = ?2, chat_removed_id = ?1, \
             updated_at = ?2 WHERE max_chat_id = ?1 RETURNING id",
            params![chat_id, ts(now)],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(house) = house {
        crate::domain::console::audit::record(
            tx,
            "max",
            "chat.bot_removed",
            &format!("house:{house}"),
            serde_json::json!({ "chat_id": chat_id }),
            now,
        )?;
    }
    Ok(house)
}

/// Queues fetching the chat's invite link now.
pub fn queue_link_refresh(
    tx: &Connection,
    chat_id: i64,
    now: OffsetDateTime,
) -> store::Result<bool> {
    let job = NewJob::new(
        REFRESH_LINK,
        format!("{REFRESH_LINK}:{chat_id}:{}", ts(now)),
        serde_json::json!({ "chat_id": chat_id }),
    )
    .max_attempts(8);
    jobs::enqueue(tx, &job, now)
}

/// Queues the daily refresh of every bound chat's link (once: the key is fixed).
pub fn schedule_daily_refresh(tx: &Connection, now: OffsetDateTime) -> store::Result<bool> {
    let job = NewJob::new(REFRESH_LINKS, REFRESH_LINKS, serde_json::json!({}));
    jobs::enqueue(tx, &job, now)
}

/// Chats bound to a house now.
pub fn bound_chats(conn: &Connection) -> store::Result<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT max_chat_id FROM houses WHERE max_chat_id IS NOT NULL")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Stores what `GET /chats/{id}` said: the link (may be absent) and the title.
pub fn store_chat_info(
    tx: &Connection,
    chat_id: i64,
    link: Option<&str>,
    title: Option<&str>,
    now: OffsetDateTime,
) -> store::Result<()> {
    tx.execute(
        "UPDATE max_chats SET link = ?2, link_checked_at = ?4, \
         title = CASE WHEN ?3 IS NOT NULL AND ?3 <> '' THEN ?3 ELSE title END, updated_at = ?4 \
         WHERE chat_id = ?1",
        params![chat_id, link, title, ts(now)],
    )?;
    Ok(())
}

/// A chat the bot is in and that no house has: what an admin may bind in the console.
#[derive(Clone, Debug, Serialize)]
pub struct FreeChat {
    pub chat_id: i64,
    pub title: String,
    pub added_at: String,
}

pub fn free_chats(conn: &Connection) -> store::Result<Vec<FreeChat>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.chat_id, c.title, c.updated_at FROM max_chats c \
         WHERE c.status = 'active' AND c.is_channel = 0 \
         AND NOT EXISTS (SELECT 1 FROM houses h WHERE h.max_chat_id = c.chat_id) \
         ORDER BY c.updated_at DESC LIMIT 200",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(FreeChat {
            chat_id: r.get(0)?,
            title: r.get(1)?,
            added_at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Whether the chat is one the bot is in and no house has.
pub fn is_free(conn: &Connection, chat_id: i64) -> store::Result<bool> {
    // Asked of the chat itself: the console's list stops at 200 chats.
    Ok(conn
        .query_row(
            "SELECT 1 FROM max_chats c WHERE c.chat_id = ?1 AND c.status = 'active' \
             AND c.is_channel = 0 \
             AND NOT EXISTS (SELECT 1 FROM houses h WHERE h.max_chat_id = c.chat_id)",
            [chat_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// A resident asks the УО for a house chat; true when the wish is new.
pub fn wish(
    tx: &Connection,
    house_id: i64,
    person_id: i64,
    now: OffsetDateTime,
) -> store::Result<bool> {
    Ok(tx.execute(
        "INSERT INTO house_chat_wishes (house_id, person_id, created_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (house_id, person_id) DO NOTHING",
        params![house_id, person_id, ts(now)],
    )? == 1)
}

pub fn wished(conn: &Connection, house_id: i64, person_id: i64) -> store::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM house_chat_wishes WHERE house_id = ?1 AND person_id = ?2",
            params![house_id, person_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The unused code of a house that still works: when it expires.
pub fn live_code_expiry(
    conn: &Connection,
    house_id: i64,
    now: OffsetDateTime,
) -> store::Result<Option<OffsetDateTime>> {
    let at: Option<String> = conn
        .query_row(
            "SELECT MAX(expires_at) FROM chat_bind_codes WHERE house_id = ?1 \
             AND used_at IS NULL AND expires_at > ?2",
            params![house_id, ts(now)],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(at.as_deref().and_then(parse_ts))
}

/// `/bind <code>` or `/bind@bot <code>` in a message: the code, or `Some("")` for a bare
/// `/bind`.
pub fn bind_command(text: &str) -> Option<&str> {
    let text = text.trim();
    // `/Bind` as a phone keyboard may capitalise it.
    let rest = text
        .get(..5)
        .filter(|command| command.eq_ignore_ascii_case("/bind"))
        .map(|_| &text[5..])?;
    let rest = match rest.strip_prefix('@') {
        Some(named) => named.split_once(char::is_whitespace).map_or("", |(_, r)| r),
        None if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest,
        None => return None,
    };
    Some(rest.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bind_command_is_read_in_its_forms() {
        assert_eq!(bind_command("/bind K7M2-Q9XD"), Some("K7M2-Q9XD"));
        assert_eq!(
            bind_command("  /bind@dom_bot   k7m2q9xd "),
            Some("k7m2q9xd")
        );
        assert_eq!(bind_command("/bind"), Some(""));
        assert_eq!(bind_command("/binding 1"), None);
        assert_eq!(bind_command("привет"), None);
    }

    #[test]
    fn codes_compare_without_case_and_dashes() {
        assert_eq!(code_hash("k7m2-q9xd"), code_hash("K7M2Q9XD"));
        assert_ne!(code_hash("K7M2Q9XE"), code_hash("K7M2Q9XD"));
    }
}
