//! `gosdom user add|list|disable|password`: staff accounts of the operator console,
//! managed from the server's shell. Passwords come from standard input or a file, never
//! from the command line (it would show in `ps` and the shell history).

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::{bail, Context};
use serde_json::json;

use crate::cli::{RoleArg, UserCommand};
use crate::config::Config;
use crate::domain::console::staff::{self, NewAccount};
use crate::domain::console::{audit, Role, Scope};
use crate::server::store_options;
use crate::store::Store;

/// How the audit log names the server's shell.
const ACTOR: &str = "cli";

pub fn run(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let store = Store::open(&store_options(config))?;
    let now = time::OffsetDateTime::now_utc();
    match command {
        UserCommand::Add {
            login,
            role,
            organisation,
            password_file,
        } => {
            let account = NewAccount {
                login: staff::normalise_login(&login)?,
                role: match role {
                    RoleArg::Operator => Role::Operator,
                    RoleArg::Admin => Role::Admin,
                },
                organisation_id: organisation,
            };
            let password = read_password(password_file.as_deref())?;
            let hash = staff::hash_password(&password)?;
            let id = store.write_blocking(|tx| {
                let added = staff::add(tx, None, &account, &hash, now);
                if let Ok(id) = added {
                    let detail = json!({
                        "role": account.role.as_str(),
                        "organisation_id": account.organisation_id,
                    });
                    audit::record(
                        tx,
                        ACTOR,
                        "user.add",
                        &format!("console_user:{id}"),
                        detail,
                        now,
                    )?;
                }
                Ok(added)
            })??;
            let scope = match account.organisation_id {
                Some(org) => format!("organisation {org}"),
                None => "every organisation (regional admin)".into(),
            };
            crate::output::line(format_args!(
                "added {} as {} for {scope} (id {id})",
                account.login,
                account.role.as_str()
            ))?;
        }
        UserCommand::List => {
            let conn = store.conn()?;
            let accounts = staff::list(Scope::Region, &conn)?;
            crate::output::line(format_args!(
                "{:<6} {:<24} {:<9} {:<9} organisation",
                "id", "login", "role", "state"
            ))?;
            for a in accounts {
                let org = match (a.organisation_id, a.organisation_name) {
                    (Some(id), Some(name)) => format!("{id} {name}"),
                    _ => "- (regional admin)".into(),
                };
                let state = if a.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                crate::output::line(format_args!(
                    "{:<6} {:<24} {:<9} {state:<9} {org}",
                    a.id,
                    a.login,
                    a.role.as_str()
                ))?;
            }
        }
        UserCommand::Disable { login } => {
            let login = store.write_blocking(|tx| {
                let done = staff::id_of(tx, &login).and_then(|id| {
                    staff::disable(Scope::Region, tx, id, None, now).map(|l| (id, l))
                });
                if let Ok((id, _)) = &done {
                    audit::record(
                        tx,
                        ACTOR,
                        "user.disable",
                        &format!("console_user:{id}"),
                        json!({}),
                        now,
                    )?;
                }
                Ok(done)
            })??;
            crate::output::line(format_args!("disabled {}", login.1))?;
        }
        UserCommand::Password {
            login,
            password_file,
        } => {
            let password = read_password(password_file.as_deref())?;
            let hash = staff::hash_password(&password)?;
            store.write_blocking(|tx| {
                let done = staff::id_of(tx, &login)
                    .and_then(|id| staff::set_password(tx, id, &hash, now).map(|()| id));
                if let Ok(id) = &done {
                    audit::record(
                        tx,
                        ACTOR,
                        "user.password",
                        &format!("console_user:{id}"),
                        json!({}),
                        now,
                    )?;
                }
                Ok(done)
            })??;
            crate::output::line(format_args!(
                "password changed; the account's sessions ended"
            ))?;
        }
    }
    Ok(())
}

/// The password from `file`, else asked twice on a terminal, else one line of stdin.
fn read_password(file: Option<&Path>) -> anyhow::Result<String> {
    let password = if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the password file {}", path.display()))?;
        text.lines().next().unwrap_or_default().to_string()
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("password again: ")?;
        if first != again {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if password.is_empty() {
        bail!("no password given: pipe it to standard input or use --password-file");
    }
    Ok(password)
}
