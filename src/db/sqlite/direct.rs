//! The fast path of a transactional SQLite migration: the whole migration, its history row
//! and the `COMMIT` run on the caller's thread through SQLite's C API, with the connection
//! borrowed from sqlx's worker thread (`lock_handle`) once per migration.
//!
//! Through sqlx every statement's result crosses a channel from the worker thread (about
//! 25 context switches for a small migration); this path costs one hand-over. It only
//! handles success: on any error it rolls back and reports the error code, and the caller
//! runs the migration again through sqlx, whose error path names the failing statement
//! and notices a migration another deployer applied meanwhile.

use std::ffi::{CStr, CString, c_int};
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;

use crate::db::history_sql::Value;

/// An error SQLite returned on the direct path.
#[derive(Debug)]
pub struct RawError {
    /// The extended result code.
    pub code: c_int,
    /// SQLite's message.
    pub message: String,
}

impl RawError {
    /// `SQLITE_BUSY`, or one of its extended codes: the write lock was not free in time.
    pub fn is_busy(&self) -> bool {
        super::is_busy(self.code)
    }
}

/// A connection handle borrowed from sqlx for the duration of one migration.
pub struct Handle {
    db: NonNull<ffi::sqlite3>,
}

impl Handle {
    /// Wraps `db`.
    ///
    /// # Safety
    /// `db` must be an open connection that nothing else uses while the `Handle` lives
    /// (sqlx's `LockedSqliteHandle` guarantees that while it is held).
    pub unsafe fn new(db: NonNull<ffi::sqlite3>) -> Self {
        Handle { db }
    }

    fn error(&self, code: c_int) -> RawError {
        // SAFETY: `db` is open (type invariant); the message is copied before any other call.
        let message = unsafe {
            let text = ffi::sqlite3_errmsg(self.db.as_ptr());
            if text.is_null() {
                String::new()
            } else {
                CStr::from_ptr(text).to_string_lossy().into_owned()
            }
        };
        // SAFETY: as above.
        let extended = unsafe { ffi::sqlite3_extended_errcode(self.db.as_ptr()) };
        RawError {
            code: if extended & 0xff == code & 0xff {
                extended
            } else {
                code
            },
            message,
        }
    }

    /// Runs every statement of `sql` to completion, discarding rows. Text holding a NUL
    /// byte cannot cross the C API whole and is refused (`None`) for the caller to run it
    /// another way.
    pub fn exec(&mut self, sql: &str) -> Option<Result<(), RawError>> {
        let text = CString::new(sql).ok()?;
        // SAFETY: `db` is open; `text` is NUL-terminated and outlives the call; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.db.as_ptr(),
                text.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        Some(if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.error(rc))
        })
    }

    /// Prepares the single statement `sql`, runs `f` on it and finalizes it.
    fn with_statement<T>(
        &mut self,
        sql: &str,
        f: impl FnOnce(&mut Self, *mut ffi::sqlite3_stmt) -> Result<T, RawError>,
    ) -> Result<T, RawError> {
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| RawError {
            code: ffi::SQLITE_TOOBIG,
            message: "statement too long".into(),
        })?;
        // SAFETY: `db` is open; `sql` is valid for `len` bytes; `stmt` receives the statement.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(self.error(rc));
        }
        let result = f(self, stmt);
        // SAFETY: `stmt` came from prepare (null is allowed) and is not used after this.
        unsafe { ffi::sqlite3_finalize(stmt) };
        result
    }

    /// Runs the single statement `sql` with `values` bound to its placeholders in order.
    pub fn execute(&mut self, sql: &str, values: &[Value]) -> Result<(), RawError> {
        self.with_statement(sql, |db, stmt| db.bind_and_step(stmt, values))
    }

    /// The first column of the first row of the single statement `sql` as text, if it
    /// returns a row.
    pub fn first_text(&mut self, sql: &str) -> Result<Option<String>, RawError> {
        self.with_statement(sql, |db, stmt| {
            // SAFETY: `stmt` is live; the column text is copied before the next call on it.
            match unsafe { ffi::sqlite3_step(stmt) } {
                ffi::SQLITE_ROW => Ok(Some(unsafe {
                    let column = ffi::sqlite3_column_text(stmt, 0);
                    if column.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(column.cast()).to_string_lossy().into_owned()
                    }
                })),
                ffi::SQLITE_DONE => Ok(None),
                rc => Err(db.error(rc)),
            }
        })
    }

    fn bind_and_step(
        &mut self,
        stmt: *mut ffi::sqlite3_stmt,
        values: &[Value],
    ) -> Result<(), RawError> {
        for (i, value) in values.iter().enumerate() {
            let index = c_int::try_from(i + 1).unwrap_or(c_int::MAX);
            // SAFETY: `stmt` is a live prepared statement; SQLITE_TRANSIENT makes SQLite copy
            // the text before the call returns, so the borrowed bytes need not outlive it.
            let rc = unsafe {
                match value {
                    Value::Int(Some(v)) => ffi::sqlite3_bind_int64(stmt, index, *v),
                    Value::Text(Some(t)) => match c_int::try_from(t.len()) {
                        Ok(len) => ffi::sqlite3_bind_text(
                            stmt,
                            index,
                            t.as_ptr().cast(),
                            len,
                            ffi::SQLITE_TRANSIENT(),
                        ),
                        Err(_) => ffi::SQLITE_TOOBIG,
                    },
                    Value::Int(None) | Value::Text(None) => ffi::sqlite3_bind_null(stmt, index),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(self.error(rc));
            }
        }
        loop {
            // SAFETY: `stmt` is a live prepared statement with every parameter bound.
            match unsafe { ffi::sqlite3_step(stmt) } {
                ffi::SQLITE_ROW => continue,
                ffi::SQLITE_DONE => return Ok(()),
                rc => return Err(self.error(rc)),
            }
        }
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        // SAFETY: `db` is open.
        unsafe { ffi::sqlite3_get_autocommit(self.db.as_ptr()) == 0 }
    }

    /// Rolls back the open transaction, if any.
    pub fn rollback(&mut self) {
        if self.in_transaction() {
            let _ = self.exec("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;
    use sqlx::sqlite::SqliteConnection;

    fn with_handle(f: impl FnOnce(&mut Handle)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut conn = rt
            .block_on(SqliteConnection::connect("sqlite::memory:"))
            .unwrap();
        let mut locked = rt.block_on(conn.lock_handle()).unwrap();
        // SAFETY: the handle is locked away from sqlx's worker for the whole closure.
        let mut db = unsafe { Handle::new(locked.as_raw_handle()) };
        f(&mut db);
    }

    #[test]
    fn runs_every_statement_and_binds_values_in_order() {
        with_handle(|db| {
            db.exec("BEGIN; CREATE TABLE t (n INTEGER, s TEXT, x TEXT); SELECT 1;")
                .unwrap()
                .unwrap();
            assert!(db.in_transaction());
            let values = [
                Value::Int(Some(7)),
                Value::Text(Some("é'\"; DROP TABLE t".into())),
                Value::Text(None),
            ];
            db.execute("INSERT INTO t VALUES (?, ?, ?)", &values)
                .unwrap();
            // A statement that matches nothing unless every value arrived unchanged.
            db.execute(
                "DELETE FROM t WHERE n = ? AND s = ? AND x IS NULL AND ? IS NULL",
                &values,
            )
            .unwrap();
            db.exec("COMMIT").unwrap().unwrap();
            assert!(!db.in_transaction());
            assert_eq!(
                db.first_text("SELECT 'a' UNION ALL SELECT 'b'").unwrap(),
                Some("a".to_string())
            );
            assert_eq!(db.first_text("SELECT 'a' WHERE 0").unwrap(), None);
            let left = db.execute("SELECT CASE WHEN (SELECT count(*) FROM t) = 0 THEN 1 ELSE abs(-9223372036854775808) END", &[]);
            assert!(left.is_ok(), "the bound row was not deleted: {left:?}");
        });
    }

    #[test]
    fn errors_carry_code_and_message_and_roll_back() {
        with_handle(|db| {
            db.exec("CREATE TABLE t (n INTEGER)").unwrap().unwrap();
            let e = db
                .exec("BEGIN; INSERT INTO t VALUES (1); INSERT INTO nowhere VALUES (1);")
                .unwrap()
                .unwrap_err();
            assert_eq!(e.code & 0xff, ffi::SQLITE_ERROR);
            assert!(
                e.message.contains("no such table: nowhere"),
                "{}",
                e.message
            );
            assert!(!e.is_busy());
            assert!(db.in_transaction());
            db.rollback();
            assert!(!db.in_transaction());
            // The insert before the failure is gone: the check overflows if a row is left.
            let left = db.execute("SELECT CASE WHEN (SELECT count(*) FROM t) = 0 THEN 1 ELSE abs(-9223372036854775808) END", &[]);
            assert!(left.is_ok(), "the rolled-back row is still there: {left:?}");
            assert!(db.exec("SELECT 'a\0b'").is_none());
            let e = db.execute("SELEC 1", &[]).unwrap_err();
            assert!(e.message.contains("syntax error"), "{}", e.message);
        });
    }
}
