//! `migrate`: a schema-migration linter and engine for zero-downtime deploys.
//!
//! Data flows one way:
//!
//! ```text
//! files ──source──▶ SourceFile ──analyze::parse──▶ statements ──lower/recognise──▶ IR changes
//!                                                     │
//!        analyze::schema (catalog replay) ◀───────────┤
//!        analyze::rules  (judge each change) ─────────▶ Diagnostics ──report──▶ human | json
//! ```
//!
//! - [`source`] finds migration files, parses their names, normalises text (BOM, CRLF) and
//!   computes checksums.
//! - [`analyze`] splits each file into statements with a lexer-aware splitter, parses each with
//!   sqlparser (or recognises it from tokens), lowers it to IR [`analyze::ir::Change`]s, replays
//!   them into a [`analyze::schema::Catalog`] stamped with releases, and runs every rule of
//!   [`analyze::registry::RULES`] against the catalog as the previous release sees it.
//! - [`report`] renders diagnostics; [`cli`] wires commands to the layers.

pub mod analyze;
pub mod cli;
pub mod config;
pub mod db;
pub mod dialect;
pub mod engine;
pub mod error;
pub mod history;
pub mod report;
pub mod source;
pub mod utc;
