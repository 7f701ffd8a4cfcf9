//! Editing and deleting sent messages.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use crate::StoreResult;
use crate::sql::{Dialect, SqlDb, ms};

impl<D> SqlDb<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'q> &'q str: Encode<'q, D>,
    for<'q> Option<&'q str>: Encode<'q, D>,
    str: Type<D>,
    for<'q, 'r> String: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q> Option<String>: Encode<'q, D>,
    for<'q, 'r> i64: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q> Option<i64>: Encode<'q, D>,
    for<'q, 'r> bool: Encode<'q, D> + Decode<'r, D> + Type<D>,
    usize: ColumnIndex<D::Row>,
    for<'a> &'a str: ColumnIndex<D::Row>,
{
    /// See [`MessageRepo::edit`].
    pub(super) async fn edit(&self, id: &str, text: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE messages SET text = $1, edited_at = $2 WHERE id = $3 AND deleted = $4",
        )
        .bind(text)
        .bind(ms(at))
        .bind(id)
        .bind(false)
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    /// See [`MessageRepo::delete_for_everyone`].
    pub(super) async fn delete_for_everyone(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE messages SET deleted = $1, text = NULL, attachment_id = NULL \
             WHERE id = $2 AND deleted = $3",
        )
        .bind(true)
        .bind(id)
        .bind(false)
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&done) > 0)
    }
}
