//! `barnstorm user …`: accounts from the command line. `user add` takes a password on
//! standard input when one is piped in; otherwise it prints a one-time sign-in link.
//! `user grant` and `user revoke` give an existing account an instance role or take it
//! away.

use crate::DatabaseArgs;
use anyhow::{Context, bail};
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
    /// Give an existing account an instance role.
    #[command(
        after_help = "Example:\n  barnstorm user grant --email dpo@example.org --role data-protection"
    )]
    Grant(RoleArgs),
    /// Take an instance role away from an account.
    #[command(
        after_help = "Example:\n  barnstorm user revoke --email dpo@example.org --role data-protection"
    )]
    Revoke(RoleArgs),
}

/// The account and the role to grant or revoke.
#[derive(clap::Args, Debug)]
pub(crate) struct RoleArgs {
    /// The account's email address.
    #[arg(long)]
    email: String,
    /// `admin` runs the whole instance; `data-protection` finds, exports and erases people.
    #[arg(long, value_enum)]
    role: InstanceRole,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// A role held across the whole instance.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum InstanceRole {
    Admin,
    DataProtection,
}

impl InstanceRole {
    fn title(self) -> &'static str {
        match self {
            Self::Admin => "administrator",
            Self::DataProtection => "data-protection officer",
        }
    }
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
    /// `admin` runs the whole instance; `data-protection` finds, exports and erases
    /// people; `user` gets roles through groups.
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
    DataProtection,
    User,
}

/// A sign-in link printed by the CLI lasts a day.
const CLI_LINK_TTL_MS: i64 = 24 * 3600 * 1000;

pub(crate) async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add(args) => add(args).await,
        UserCommand::Grant(args) => set_role(args, true).await,
        UserCommand::Revoke(args) => set_role(args, false).await,
    }
}

async fn set_role(args: RoleArgs, granted: bool) -> anyhow::Result<()> {
    let email = args.email.trim();
    if barnstorm_domain::email::normalise_email(email).is_none() {
        bail!("--email: '{email}' is not an email address");
    }
    let store = args.database.open(&StoreOptions::default()).await?;
    let Some(user) = store.user_by_email(email).await? else {
        bail!("--email: there is no account for {email} (make one with barnstorm user add)");
    };
    let held = match args.role {
        InstanceRole::Admin => user.is_admin,
        InstanceRole::DataProtection => user.data_protection,
    };
    let title = args.role.title();
    if held == granted {
        let state = if granted { "already" } else { "not" };
        println!(
            "{} <{}> is {state} {title}; nothing changed.",
            user.name, user.email
        );
        return Ok(());
    }
    match args.role {
        InstanceRole::Admin => store.set_admin(user.id, granted).await?,
        InstanceRole::DataProtection => store.set_data_protection(user.id, granted).await?,
    }
    let said = if granted { "is now" } else { "is no longer" };
    println!("{} <{}> {said} {title}.", user.name, user.email);
    Ok(())
}

async fn add(args: AddArgs) -> anyhow::Result<()> {
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
        Err(StoreError::Conflict(_)) => bail!(
            "an account for {email} already exists (give it a role with barnstorm user grant)"
        ),
        Err(e) => return Err(e.into()),
    };
    if args.role == AccountRole::DataProtection {
        store.set_data_protection(user.id, true).await?;
    }
    let role = match args.role {
        AccountRole::Admin => "administrator",
        AccountRole::DataProtection => "data-protection officer",
        AccountRole::User => "account",
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
