//! The client commands. Each is a short conversation with the user over the public API.

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand};
use dialtone_client::{Client, ClientError, Login};

use crate::prompt;
use crate::session_file::{self, SavedSession};

/// The server when neither the command line nor a saved login names one.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Which number, read how, on which device.
#[derive(Args)]
pub struct PhoneArgs {
    /// Your phone number, in any form (asked for when missing).
    #[arg(long)]
    phone: Option<String>,
    /// Region for reading a national number (default: the server's).
    #[arg(long)]
    region: Option<String>,
    /// A name for this device.
    #[arg(long, default_value = "dialtone CLI")]
    device_name: String,
}

/// What to do with devices.
#[derive(Subcommand)]
pub enum DevicesAction {
    /// List them (the default).
    List,
    /// Log a device out by its id.
    Revoke {
        /// The device id, as listed.
        id: String,
    },
}

fn phone_of(args: &PhoneArgs) -> anyhow::Result<String> {
    match &args.phone {
        Some(phone) => Ok(phone.clone()),
        None => prompt::line("Phone number: "),
    }
}

fn save(server: &str, login: &Login) -> anyhow::Result<()> {
    session_file::save(&SavedSession {
        server: server.to_owned(),
        token: login.token.clone(),
        phone: login.phone.clone(),
        user_id: login.user_id.clone(),
    })
}

/// A client logged in with the saved session.
fn logged_in(server: Option<String>) -> anyhow::Result<(Client, SavedSession)> {
    let saved = session_file::load()?;
    let server = server.unwrap_or_else(|| saved.server.clone());
    Ok((Client::new(&server).with_token(saved.token.clone()), saved))
}

/// `dialtone register`: code by SMS, logged in at once, then a password.
pub async fn register(server: Option<String>, args: PhoneArgs) -> anyhow::Result<()> {
    let server = server.unwrap_or_else(|| DEFAULT_SERVER.to_owned());
    let client = Client::new(&server);
    let phone = phone_of(&args)?;
    let verification = client
        .start_verification(&phone, args.region.as_deref())
        .await?;
    eprintln!("A code was sent by SMS to {}.", verification.phone);
    let mut password = None;
    let login = loop {
        let code = prompt::line("Code: ")?;
        match client
            .submit_code(
                &verification.id,
                code.trim(),
                Some(&args.device_name),
                password.as_deref(),
            )
            .await
        {
            Ok(login) => break login,
            Err(e) if e.code() == Some("invalid_code") => {
                eprintln!("That code is wrong; try again.")
            }
            Err(e) if e.code() == Some("registration_locked") => {
                eprintln!("Registration lock is on for this number.");
                password = Some(prompt::secret("Password: ", false)?);
                eprintln!("Enter the code again.");
            }
            Err(e) => return Err(e.into()),
        }
    };
    save(&server, &login)?;
    if login.new_account {
        println!("Welcome to dialtone, {}. You are logged in.", login.phone);
    } else {
        println!("Logged in as {}.", login.phone);
    }
    let question = if login.password_set {
        "New password (empty keeps the current one): "
    } else {
        "Set a password (empty to skip): "
    };
    let new_password = prompt::secret(question, false)?;
    if !new_password.is_empty() {
        Client::new(&server)
            .with_token(login.token.clone())
            .set_password(&new_password, None)
            .await?;
        println!("Password set. Other devices were logged out.");
    }
    Ok(())
}

/// `dialtone login`: number and password.
pub async fn login(
    server: Option<String>,
    args: PhoneArgs,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let server = server.unwrap_or_else(|| DEFAULT_SERVER.to_owned());
    let phone = phone_of(&args)?;
    let password = prompt::secret("Password: ", password_stdin)?;
    let login = Client::new(&server)
        .login(
            &phone,
            args.region.as_deref(),
            &password,
            Some(&args.device_name),
        )
        .await
        .map_err(|e| match e {
            ClientError::Api {
                retry_after: Some(secs),
                ..
            } => {
                anyhow!("too many failed logins; try again in {secs} s")
            }
            other => other.into(),
        })?;
    save(&server, &login)?;
    println!("Logged in as {}.", login.phone);
    Ok(())
}

/// `dialtone devices [list | revoke ID]`.
pub async fn devices(server: Option<String>, action: Option<DevicesAction>) -> anyhow::Result<()> {
    let (client, _) = logged_in(server)?;
    match action.unwrap_or(DevicesAction::List) {
        DevicesAction::List => {
            let devices = client.devices().await?;
            println!("{:<34} {:<24} {:<26} LAST SEEN", "ID", "NAME", "LOGGED IN");
            for d in devices {
                let marker = if d.current { " (this device)" } else { "" };
                println!(
                    "{:<34} {:<24} {:<26} {}{marker}",
                    d.id, d.name, d.created_at, d.last_seen_at
                );
            }
        }
        DevicesAction::Revoke { id } => {
            client.revoke_device(&id).await?;
            println!("Device {id} logged out.");
        }
    }
    Ok(())
}

/// `dialtone account`.
pub async fn account(server: Option<String>) -> anyhow::Result<()> {
    let (client, _) = logged_in(server)?;
    let a = client.account().await?;
    println!("phone:             {}", a.phone);
    println!("user id:           {}", a.user_id);
    println!("region:            {}", a.region);
    println!(
        "display name:      {}",
        a.display_name.as_deref().unwrap_or("-")
    );
    println!("password set:      {}", a.password_set);
    println!("registration lock: {}", a.registration_lock);
    Ok(())
}

/// `dialtone logout`.
pub async fn logout(server: Option<String>) -> anyhow::Result<()> {
    let (client, saved) = logged_in(server)?;
    match client.logout().await {
        Ok(()) => {}
        // Already revoked elsewhere: forgetting the token is all that is left to do.
        Err(e) if e.code() == Some("unauthorized") => {}
        Err(e) => bail!(e),
    }
    session_file::remove()?;
    println!("Logged out of {}.", saved.phone);
    Ok(())
}
