//! Typed errors of the core layers (`source`, `config`); the CLI wraps them with context.

use std::io;
use std::path::PathBuf;

/// Something went wrong reading migration files from disk.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The migration directory is missing.
    #[error("migration directory {} does not exist", crate::source::shown(.path))]
    MissingDir {
        /// The directory that was looked for.
        path: PathBuf,
    },
    /// The path exists but is not a directory.
    #[error("migration directory {} is not a directory", crate::source::shown(.path))]
    NotADir {
        /// The offending path.
        path: PathBuf,
    },
    /// Listing the directory failed.
    #[error("cannot read migration directory {}: {error}", crate::source::shown(.path))]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error (part of the message, not a separate source).
        error: io::Error,
    },
    /// Reading one file failed.
    #[error("cannot read {}: {error}", crate::source::shown(.path))]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error (part of the message, not a separate source).
        error: io::Error,
    },
    /// A migration path is not a regular file.
    #[error("{} is {kind}, not a migration file: only regular files are read", crate::source::shown(.path))]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// `--stdin-filename` names a file outside the migration directory.
    #[error("--stdin-filename {}: not inside the migration directory {} (give the path the saved file would have, or --dir)", crate::source::shown(.path), crate::source::shown(.dir))]
    OutsideDir {
        /// The name given.
        path: PathBuf,
        /// The migration directory.
        dir: PathBuf,
    },
    /// Standard input exceeds the size limit (its full size is not read).
    #[error("{}: standard input is more than the {limit} bytes allowed (setting max_file_size)", crate::source::shown(.path))]
    StreamTooLarge {
        /// The name it is read as.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// A migration file exceeds the size limit.
    #[error("{} is {size} bytes, more than the {limit} bytes allowed (setting max_file_size)", crate::source::shown(.path))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (at least).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A file holds a NUL byte.
    #[error("{} holds a NUL byte (line {line}): SQL text cannot contain one", crate::source::shown(.path))]
    NulByte {
        /// The file.
        path: PathBuf,
        /// 1-based line of the byte.
        line: usize,
    },
    /// A file is not UTF-8.
    #[error("{} is not valid UTF-8 (line {line}, byte {offset})", crate::source::shown(.path))]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first invalid byte.
        line: usize,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A file cannot be read in the layout in force.
    #[error("{}:{line}: {message} (layout {layout})", crate::source::shown(.path))]
    Layout {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The layout.
        layout: &'static str,
        /// What is wrong.
        message: String,
    },
    /// `start_after` is written as another layout writes versions.
    #[error("start_after is written as a {spelling} version, but the migrations in {} are in the {layout} layout: write it as a plain number", crate::source::shown(.path))]
    StartAfterSpelling {
        /// The migration directory.
        path: PathBuf,
        /// The layout whose spelling it is.
        spelling: &'static str,
        /// The layout in force.
        layout: &'static str,
    },
    /// `start_after` names a version no migration has.
    #[error("start_after = {version}: no versioned migration in {} has that version (it must name the newest migration of the history to adopt, e.g. as `migrate init` writes it). Nothing was analysed or run", crate::source::shown(.path))]
    StartAfter {
        /// The migration directory.
        path: PathBuf,
        /// The version.
        version: u64,
    },
    /// `layout = "auto"` met signs of several layouts.
    #[error("{}: the files are written for several tools: {signals}; set `layout` in migrate.toml (or pass --layout) to the one they follow. Nothing was analysed or run", crate::source::shown(.path))]
    MixedLayouts {
        /// The migration directory.
        path: PathBuf,
        /// One sign of each layout.
        signals: String,
    },
    /// A layout whose tool orders versions as text, with versions whose text and number
    /// orders disagree.
    #[error("{}: {first} comes after {second} for {layout}, which orders versions as text, but before it for `migrate`, which orders them as numbers; give the versions the same number of digits. Nothing was analysed or run", crate::source::shown(.path))]
    VersionOrder {
        /// The migration directory.
        path: PathBuf,
        /// The layout.
        layout: &'static str,
        /// The file with the smaller number.
        first: String,
        /// The file with the larger number.
        second: String,
    },
    /// A file carries another tool's section marker that changes what it means.
    #[error("{}:{line}: `{marker}` is a {tool} marker, and `migrate` reads the file as one migration: {consequence} (or set `layout = \"{tool}\"` in migrate.toml, `--layout {tool}`). Nothing was analysed or run", crate::source::shown(.path))]
    ForeignMarker {
        /// The file.
        path: PathBuf,
        /// 1-based line of the marker.
        line: usize,
        /// The marker as written.
        marker: String,
        /// The tool it belongs to.
        tool: &'static str,
        /// What would go wrong, and what to do.
        consequence: &'static str,
    },
}

/// `migrate.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {}: {error}", crate::source::shown(.path))]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error (part of the message, not a separate source).
        error: io::Error,
    },
    /// The TOML is malformed or has unknown keys or bad values.
    #[error("invalid config {}: {message}", crate::source::shown(.path))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// What is wrong, naming the key and line.
        message: String,
    },
    /// `[rules]` names a rule that does not exist.
    #[error("invalid config {}: unknown rule `{rule}` in [rules] (see `migrate rule --list`)", crate::source::shown(.path))]
    UnknownRule {
        /// The config file.
        path: PathBuf,
        /// The unknown rule name.
        rule: String,
    },
}
