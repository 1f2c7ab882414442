//! Staff accounts: who may sign in to the console, with which role, for which УО.
//! Passwords are kept as argon2id PHC strings only.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use super::{stamp, Scope};
use crate::store::StoreError;

/// Shortest password accepted for a staff account.
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("a login is 2 to 64 characters: latin letters, digits, '.', '_' or '-'")]
    InvalidLogin,
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("an operator must belong to an organisation (--organisation <id>)")]
    OrganisationRequired,
    #[error("organisation {0} does not exist")]
    UnknownOrganisation(i64),
    #[error("the login {0} is taken")]
    LoginTaken(String),
    #[error("no such staff account")]
    NotFound,
    #[error("an account cannot disable itself")]
    SelfDisable,
    #[error("this account may not manage that one")]
    OutOfScope,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for StaffError {
    fn from(e: rusqlite::Error) -> Self {
        StaffError::Store(e.into())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works requests, readings and announcements of one УО.
    Operator,
    /// Also manages staff accounts, houses, chats and the exchange.
    Admin,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A staff member as the console knows them after sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: i64,
    pub login: String,
    pub role: Role,
    /// `None` for a regional admin.
    pub organisation_id: Option<i64>,
}

impl StaffMember {
    /// The data this member may see.
    pub fn scope(&self) -> Scope {
        match self.organisation_id {
            Some(id) => Scope::Organisation(id),
            None => Scope::Region,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// How the audit log names this member.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.id)
    }
}

/// A staff account as listed for admins.
#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub id: i64,
    pub login: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    pub disabled_at: Option<String>,
    pub created_at: String,
}

/// What it takes to add an account.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub login: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
}

/// Lower-cases and checks a login.
pub fn normalise_login(login: &str) -> Result<String, StaffError> {
    let login = login.trim().to_lowercase();
    let fine = (2..=64).contains(&login.len())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if fine {
        Ok(login)
    } else {
        Err(StaffError::InvalidLogin)
    }
}

/// Hashes a password with argon2id and a fresh salt (slow on purpose: call off the
/// async runtime).
pub fn hash_password(password: &str) -> Result<String, StaffError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StaffError::WeakPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StaffError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string.
pub fn password_matches(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of one verification against a hash nobody has, so that an unknown
/// login takes as long to refuse as a wrong password.
pub fn waste_verification(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| {
        let random: [u8; 16] = rand::random();
        hash_password(&hex::encode(random)).unwrap_or_default()
    });
    let _ = password_matches(password, stored);
}

/// Adds an account; `by` limits what a УО admin may create (`None`: the command line).
pub fn add(
    conn: &Connection,
    by: Option<&StaffMember>,
    account: &NewAccount,
    password_hash: &str,
    now: OffsetDateTime,
) -> Result<i64, StaffError> {
    let login = normalise_login(&account.login)?;
    if account.role == Role::Operator && account.organisation_id.is_none() {
        return Err(StaffError::OrganisationRequired);
    }
    if let Some(by) = by {
        if !by.scope().covers(account.organisation_id) {
            return Err(StaffError::OutOfScope);
        }
    }
    if let Some(org) = account.organisation_id {
        let exists: Option<i64> = conn
            .query_row("SELECT id FROM organisations WHERE id = ?1", [org], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_none() {
            return Err(StaffError::UnknownOrganisation(org));
        }
    }
    let taken: Option<i64> = conn
        .query_row(
            "SELECT id FROM console_users WHERE login = ?1",
            [&login],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(StaffError::LoginTaken(login));
    }
    conn.execute(
        "INSERT INTO console_users (login, password_hash, role, organisation_id, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![
            login,
            password_hash,
            account.role.as_str(),
            account.organisation_id,
            stamp(now)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The accounts inside `scope`, by login.
pub fn list(scope: Scope, conn: &Connection) -> Result<Vec<Account>, StaffError> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.login, u.role, u.organisation_id, o.name, u.disabled_at, u.created_at \
         FROM console_users u LEFT JOIN organisations o ON o.id = u.organisation_id \
         WHERE (?1 IS NULL OR u.organisation_id = ?1) ORDER BY u.login",
    )?;
    let rows = stmt.query_map([scope.organisation()], |r| {
        let role: String = r.get(2)?;
        Ok(Account {
            id: r.get(0)?,
            login: r.get(1)?,
            role: Role::parse(&role).unwrap_or(Role::Operator),
            organisation_id: r.get(3)?,
            organisation_name: r.get(4)?,
            disabled_at: r.get(5)?,
            created_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// An enabled account with its stored password hash, for sign-in.
pub fn for_sign_in(
    conn: &Connection,
    login: &str,
) -> Result<Option<(StaffMember, String)>, StoreError> {
    let Ok(login) = normalise_login(login) else {
        return Ok(None);
    };
    Ok(conn
        .query_row(
            "SELECT id, login, role, organisation_id, password_hash FROM console_users \
             WHERE login = ?1 AND disabled_at IS NULL",
            [login],
            |r| {
                let role: String = r.get(2)?;
                Ok((
                    StaffMember {
                        id: r.get(0)?,
                        login: r.get(1)?,
                        role: Role::parse(&role).unwrap_or(Role::Operator),
                        organisation_id: r.get(3)?,
                    },
                    r.get(4)?,
                ))
            },
        )
        .optional()?)
}

/// Disables the account `id` inside `scope` and ends its sessions. Returns its login.
pub fn disable(
    scope: Scope,
    conn: &Connection,
    id: i64,
    by: Option<&StaffMember>,
    now: OffsetDateTime,
) -> Result<String, StaffError> {
    if by.is_some_and(|b| b.id == id) {
        return Err(StaffError::SelfDisable);
    }
    let found: Option<(String, Option<i64>)> = conn
        .query_row(
            "SELECT login, organisation_id FROM console_users \
             WHERE id = ?1 AND (?2 IS NULL OR organisation_id = ?2)",
            params![id, scope.organisation()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((login, _)) = found else {
        return Err(StaffError::NotFound);
    };
    conn.execute(
        "UPDATE console_users SET disabled_at = COALESCE(disabled_at, ?2), updated_at = ?2 \
         WHERE id = ?1",
        params![id, stamp(now)],
    )?;
    super::sessions::end_all(conn, id)?;
    Ok(login)
}

/// The id of the account with `login`, whatever its state.
pub fn id_of(conn: &Connection, login: &str) -> Result<i64, StaffError> {
    let login = normalise_login(login)?;
    conn.query_row(
        "SELECT id FROM console_users WHERE login = ?1",
        [login],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StaffError::NotFound)
}

/// Sets a new password hash and ends the account's sessions.
pub fn set_password(
    conn: &Connection,
    id: i64,
    password_hash: &str,
    now: OffsetDateTime,
) -> Result<(), StaffError> {
    let changed = conn.execute(
        "UPDATE console_users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, password_hash, stamp(now)],
    )?;
    if changed == 0 {
        return Err(StaffError::NotFound);
    }
    super::sessions::end_all(conn, id)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_lower_case_and_plain() {
        assert_eq!(normalise_login(" Dispatcher.1 ").unwrap(), "dispatcher.1");
        assert!(normalise_login("a").is_err());
        assert!(normalise_login("иван").is_err());
        assert!(normalise_login("a b").is_err());
    }

    #[test]
    fn passwords_hash_and_verify() {
        assert!(matches!(
            hash_password("short"),
            Err(StaffError::WeakPassword)
        ));
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &hash));
        assert!(!password_matches("correct horse batterY", &hash));
        assert!(!password_matches("anything", "not a hash"));
    }
}
