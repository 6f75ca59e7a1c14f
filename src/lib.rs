//! `migrate`: a schema-migration linter and engine for zero-downtime deploys.
//!
//! Data flows one way:
//!
//! ```text
//! files ──source──▶ SourceFile ──source::select──▶ Units (files with releases)
//!                                                     │
//!             analyze::parse ◀────────────────────────┤
//!   statements ──lower/recognise──▶ IR changes        │
//!        analyze::schema (catalog replay) ◀───────────┤
//!        analyze::rules  (judge each change) ─────────▶ Diagnostics ──report──▶ human | json | ...
//!
//! up:    history rows + files ──history::plan──▶ Plan, Problems
//!        engine (with_lock: refuse problems, run the gate, apply) ──db::Driver──▶ database
//!        db::SqlxDriver<Backend> (postgres | mysql | sqlite), one Lock strategy each
//! ```
//!
//! - [`source`] finds migration files, parses their names, normalises text (BOM, CRLF),
//!   computes checksums, and selects which files an analysis reads ([`source::select`]).
//! - [`analyze`] splits each file into statements with a lexer-aware splitter, parses each with
//!   sqlparser (or recognises it from tokens), lowers it to IR [`analyze::ir::Change`]s, replays
//!   them into a [`analyze::schema::Catalog`] stamped with releases, and runs every rule of
//!   [`analyze::registry::RULES`] against the catalog as the previous release sees it.
//! - [`history`] compares history rows with files and decides what blocks `up`.
//! - [`engine`] is the only code that takes the migration lock and writes history.
//! - [`db`] executes: one driver over sqlx, a backend per database.
//! - [`report`] renders diagnostics; [`cli`] wires commands to the layers and renders results.

pub mod analyze;
pub mod cli;
pub mod config;
pub mod db;
pub mod dialect;
pub mod engine;
pub mod env;
pub mod error;
pub mod history;
pub mod prove;
pub mod report;
pub mod source;
pub mod utc;
