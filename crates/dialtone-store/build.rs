//! Rebuilds when a migration is added: `sqlx::migrate!` embeds the directories at compile
//! time but cannot tell cargo to watch them.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
