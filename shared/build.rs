//! The migrations are embedded into the library (`refinery::embed_migrations!`): a migration added or
//! changed must rebuild it, which cargo does not know from the Rust sources alone.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
