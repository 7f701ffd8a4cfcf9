//! Fresh databases for tests: a new SQLite file, or a new randomly named PostgreSQL
//! database on the server named by `DIALTONE_TEST_POSTGRES_URL`.

use std::path::Path;

use sqlx::{Connection, Executor, PgConnection};

/// The environment variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_ENV: &str = "DIALTONE_TEST_POSTGRES_URL";

/// Set (to anything but empty or `0`) where the tests of real services must run: a test
/// whose service variable is missing then fails instead of saying it was not run. The
/// README's test command and CI set it.
pub const REQUIRE_ENV: &str = "DIALTONE_TEST_REQUIRE_SERVICES";

/// Whether tests of real services must run ([`REQUIRE_ENV`]).
pub fn services_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// A URL for a fresh SQLite database inside `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("dialtone.db").display())
}

/// Creates a fresh randomly named database on the test PostgreSQL server and returns its
/// URL, or `None` (after printing that the test was not run) when the variable is unset;
/// an error then if the services are required ([`services_required`]).
pub async fn fresh_postgres_url(test: &str) -> Result<Option<String>, sqlx::Error> {
    let base = match std::env::var(POSTGRES_ENV) {
        Ok(base) if !base.is_empty() => base,
        _ if services_required() => {
            return Err(sqlx::Error::Configuration(
                format!("{test}: {REQUIRE_ENV} is set but {POSTGRES_ENV} is not").into(),
            ));
        }
        _ => {
            println!("{test}: not run on PostgreSQL ({POSTGRES_ENV} is not set)");
            return Ok(None);
        }
    };
    let name = format!("dialtone_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(&base).await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    admin.close().await?;
    Ok(Some(with_database(&base, &name)))
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(base: &str, name: &str) -> String {
    let (without_query, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let scheme_end = without_query.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = &without_query[scheme_end..];
    let host_end = host_part
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(without_query.len());
    let mut url = format!("{}/{}", &without_query[..host_end], name);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_database_name() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
