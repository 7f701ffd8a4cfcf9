//! Questions on the terminal. Prompts go to stderr; answers come from stdin, hidden for
//! passwords when stdin is a terminal, plain lines otherwise (so scripts can pipe them).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};

/// Asks for one line.
pub fn line(question: &str) -> anyhow::Result<String> {
    eprint!("{question}");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read standard input")?;
    if read == 0 {
        bail!("no answer on standard input");
    }
    Ok(answer.trim_end_matches(['\r', '\n']).to_owned())
}

/// Asks for a secret, without echo on a terminal.
pub fn secret(question: &str, force_stdin: bool) -> anyhow::Result<String> {
    if !force_stdin && std::io::stdin().is_terminal() {
        return rpassword::prompt_password(question).context("cannot read the password");
    }
    line(question)
}
