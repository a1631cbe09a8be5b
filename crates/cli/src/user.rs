//! `barnstorm user …`: accounts from the command line. `user add` takes a password on
//! standard input when one is piped in; otherwise it prints a one-time sign-in link.

use crate::DatabaseArgs;
use anyhow::{Context, bail};
use barnstorm_store::AuditAction;
use barnstorm_store::{StoreError, StoreOptions, now_millis};
use barnstorm_web::auth::{hash_password, hash_secret, new_secret};
use std::io::{IsTerminal, Read};

/// Account commands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum UserCommand {
    /// Create an account. Pipe a password on standard input, or use the printed sign-in link.
    #[command(
        after_help = "Examples:\n  echo 'a long passphrase' | barnstorm user add --email ada@example.org --role admin\n  barnstorm user add --email ada@example.org --name 'Ada Admin' --role admin"
    )]
    Add(AddArgs),
}

/// The account to create.
#[derive(clap::Args, Debug)]
pub(crate) struct AddArgs {
    /// Email address (the sign-in name).
    #[arg(long)]
    email: String,
    /// Display name; defaults to the part of the email before the @.
    #[arg(long)]
    name: Option<String>,
    /// `admin` runs the whole instance; `user` gets roles through groups.
    #[arg(long, value_enum, default_value_t = AccountRole::User)]
    role: AccountRole,
    /// Base URL for the printed sign-in link.
    #[arg(
        long,
        env = "BARNSTORM_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    base_url: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum AccountRole {
    Admin,
    User,
}

/// A sign-in link printed by the CLI lasts a day.
const CLI_LINK_TTL_MS: i64 = 24 * 3600 * 1000;

pub(crate) async fn run(command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add(args) = command;
    let email = args.email.trim();
    if barnstorm_domain::email::normalise_email(email).is_none() {
        bail!("--email: '{email}' is not an email address");
    }
    let password = if std::io::stdin().is_terminal() {
        None
    } else {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("reading the password from standard input")?;
        Some(input.trim_end_matches(['\n', '\r']).to_owned()).filter(|p| !p.is_empty())
    };
    let hash = password
        .map(|p| hash_password(&p, barnstorm_web::WebConfig::new("").password_memory_kib))
        .transpose()
        .context("the password on standard input")?;
    let store = args.database.open(&StoreOptions::default()).await?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_owned());
    let user = match store
        .create_user(
            email,
            &name,
            hash.as_deref(),
            args.role == AccountRole::Admin,
        )
        .await
    {
        Ok(user) => user,
        Err(StoreError::Conflict(_)) => bail!("an account for {email} already exists"),
        Err(e) => return Err(e.into()),
    };
    store
        .audit(
            None,
            AuditAction::UserCreate,
            &format!("user {}", user.id),
            "command line",
        )
        .await?;
    let role = if user.is_admin {
        "administrator"
    } else {
        "account"
    };
    println!("Created {role} {} <{}>.", user.name, user.email);
    if hash.is_none() {
        let token = new_secret();
        store
            .create_sign_in_link(
                &hash_secret(&token),
                user.id,
                now_millis() + CLI_LINK_TTL_MS,
            )
            .await?;
        println!(
            "Sign in within 24 hours with this one-time link, then set a password on your account page:"
        );
        println!("{}/login/link/{token}", args.base_url.trim_end_matches('/'));
    }
    Ok(())
}
