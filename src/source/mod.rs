//! Finding, naming, reading and normalising migration files; their checksums; positions in them.
//!
//! Everything downstream works on [`SourceFile::text`], the normalised text: UTF-8 BOM stripped,
//! CRLF and lone CR turned into LF. The checksum hashes exactly that text, so a Windows checkout
//! of an applied file is not a change, while an edited comment is.

pub mod detect;
pub mod directive;
pub mod foreign;
pub mod git;
pub mod layout;
pub mod marker;
pub mod name;
pub mod queries;
pub mod select;
pub mod sum;

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::SourceError;
pub use name::FileName;

/// One migration file, read and normalised.
#[derive(Debug, Clone, Default)]
pub struct SourceFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The path shown to users: relative to the working directory where possible.
    pub display: String,
    /// The version from its name, when the name follows the scheme.
    pub version: Option<u64>,
    /// The description from its name (the whole file stem when it does not follow the scheme).
    pub description: String,
    /// Normalised content (no BOM, LF line endings).
    pub text: String,
    /// Where it sorts among the directory's migrations: its tool's order (the version as text
    /// for dbmate, diesel and Prisma, which sort so; the version zero-padded for the others).
    pub order: String,
    /// A Flyway repeatable migration (`R__`): applied again whenever its text changes, after
    /// the versioned ones; its version is a key from [`name::REPEATABLE_BASE`] up.
    pub repeatable: bool,
    /// Its layout's settings beside the file say it runs outside a transaction (diesel's
    /// `metadata.toml`, Flyway's `.sql.conf`), as `-- migrate:no-transaction` in it would.
    pub outside_transaction: bool,
}

impl SourceFile {
    /// The deploy phase its leading comments declare ([`directive::phase_of`]).
    pub fn phase(&self) -> directive::Phase {
        directive::phase_of(&self.text)
    }
}

/// A problem with a file in the migration directory that does not stop the analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// A `.sql` file whose name is not `<version>_<description>[.up].sql`.
    InvalidName {
        /// The file, as displayed.
        file: String,
        /// What is wrong with the name.
        reason: String,
    },
    /// Two files share one version; `file` is ignored, `kept` is analysed.
    DuplicateVersion {
        /// The file that is not analysed.
        file: String,
        /// The file that is analysed.
        kept: String,
        /// The shared version.
        version: u64,
    },
    /// A `.down.sql` rollback file, ignored by a forward-only tool.
    DownFile {
        /// The file.
        file: String,
    },
    /// `migrate.sum` disagrees with the files: edited, deleted or unlisted.
    SumMismatch {
        /// The file concerned (or `migrate.sum` itself).
        file: String,
        /// What disagrees.
        reason: String,
    },
    /// `--base`: a migration that existed at the base was edited since.
    EditedSinceBase {
        /// The file.
        file: String,
        /// Unified diff of the base text against the file now.
        diff: String,
    },
    /// `--base`: a migration that existed at the base was deleted since.
    DeletedSinceBase {
        /// The file.
        file: String,
    },
}

/// The layout files were read in, and how it was chosen: what summaries show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutUsed {
    /// The layout (never `auto`).
    pub layout: layout::Layout,
    /// Chosen by `auto` (else set by `layout` or `--layout`).
    pub auto: bool,
    /// With `auto`: the sign that chose it.
    pub sign: Option<String>,
}

impl Discovery {
    /// The layout used, for summaries.
    pub fn layout_used(&self) -> LayoutUsed {
        LayoutUsed {
            layout: self.layout,
            auto: self.detected.is_some(),
            sign: self.detected.as_ref().and_then(|d| d.because.clone()),
        }
    }
}

/// The migrations found in a directory, in version order, and the problems met on the way.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Forward migrations ordered by version.
    pub files: Vec<SourceFile>,
    /// Names that are wrong, duplicated or ignored.
    pub problems: Vec<FileProblem>,
    /// The layout the files were read in (never `auto`).
    pub layout: layout::Layout,
    /// With `auto`: the sign that chose it (`None`: nothing pointed to another tool).
    pub detected: Option<detect::Detected>,
    /// How many of the first files `start_after` leaves to replay only (never judged).
    pub replay_only: usize,
    /// The dialect the directory declares (Prisma's `migration_lock.toml`).
    pub dialect: Option<crate::dialect::Dialect>,
}

impl Discovery {
    /// For a directory in which nothing is a migration (no file, and no file misnamed): what
    /// was looked for, to say so instead of a silent success. `chosen`: the layout setting.
    pub fn nothing_found(&self, dir: &Path, chosen: layout::Layout) -> Option<String> {
        if !self.files.is_empty() || !self.problems.is_empty() {
            return None;
        }
        let expected = match chosen {
            layout::Layout::Auto => format!(
                "{} (layout migrate), or {}",
                layout::Layout::Migrate.expects(),
                layout::Layout::Auto.expects()
            ),
            l => format!("{} (layout {})", l.expects(), l.name()),
        };
        Some(format!(
            "no migrations in {}: expected {expected}",
            display_path(dir)
        ))
    }
}

/// What is read, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest migration file read, in bytes (`max_file_size`; checked before reading).
    pub max_file_size: u64,
    /// How the files are written (`layout`, `--layout`).
    pub layout: layout::Layout,
    /// The migrations up to this version are replayed, never judged (`start_after`).
    pub start_after: Option<u64>,
    /// The layout whose spelling `start_after` was written in (`1.1`: Flyway), to refuse it
    /// in another layout (where `1.1` would mean nothing, not 1001).
    pub start_after_spelling: Option<layout::Layout>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 16 << 20,
            layout: layout::Layout::default(),
            start_after: None,
            start_after_spelling: None,
        }
    }
}

/// Lists, classifies and reads every migration in `dir`. Only regular files (after
/// following symlinks) are read, each within `limits`; anything else named like a
/// migration is an error naming it. With `layout = "auto"` the files decide the layout.
pub fn discover(dir: &Path, limits: &Limits) -> Result<Discovery, SourceError> {
    let meta = std::fs::metadata(dir).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => SourceError::MissingDir {
            path: dir.to_path_buf(),
        },
        _ => SourceError::ReadDir {
            path: dir.to_path_buf(),
            error,
        },
    })?;
    if !meta.is_dir() {
        return Err(SourceError::NotADir {
            path: dir.to_path_buf(),
        });
    }
    // One level of folders (diesel's, Prisma's); every level once Flyway is the layout.
    let mut entries = list(dir, limits.layout == layout::Layout::Flyway)?;
    let rels: Vec<String> = entries.iter().map(|(rel, _)| rel.clone()).collect();
    let mut raw: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut discovery = Discovery {
        layout: limits.layout,
        ..Discovery::default()
    };
    if limits.layout == layout::Layout::Auto {
        if !detect::by_structure(&rels) {
            for (rel, path) in &entries {
                if !rel.contains('/') && rel.to_ascii_lowercase().ends_with(".sql") {
                    raw.insert(rel.clone(), read_limited(path, limits)?);
                }
            }
        }
        let shown = |rel: &str| display_path(&dir.join(rel));
        let texts = raw.iter().map(|(r, t)| (r.as_str(), t.as_str()));
        let mut sorted: Vec<(&str, &str)> = texts.collect();
        sorted.sort();
        let detected =
            detect::detect(&rels, shown, sorted).map_err(|mixed| SourceError::MixedLayouts {
                path: dir.to_path_buf(),
                signals: mixed.to_string(),
            })?;
        discovery.layout = detected.layout;
        discovery.detected = Some(detected);
    }
    let layout = discovery.layout;
    if layout == layout::Layout::Flyway && limits.layout != layout::Layout::Flyway {
        entries = list(dir, true)?;
    }
    if layout == layout::Layout::Prisma {
        let lock = dir.join("migration_lock.toml");
        if lock.is_file() {
            discovery.dialect = detect::prisma_dialect(&lock, &read_limited(&lock, limits)?)?;
        }
    }
    let mut up: Vec<(u64, String, String, PathBuf)> = Vec::new();
    // diesel: a folder with down.sql must have up.sql too (diesel refuses the directory).
    let mut diesel_downs: Vec<(u64, PathBuf)> = Vec::new();
    for (rel, path) in &entries {
        match name::classify(layout, rel) {
            FileName::NotSql => {}
            FileName::Invalid { reason } => discovery.problems.push(FileProblem::InvalidName {
                file: display_path(path),
                reason,
            }),
            FileName::Down { version } => {
                if layout == layout::Layout::Diesel {
                    diesel_downs.push((version, path.clone()));
                }
                discovery.problems.push(FileProblem::DownFile {
                    file: display_path(path),
                })
            }
            FileName::Up {
                version,
                description,
            } => up.push((version, description, rel.clone(), path.clone())),
        }
    }
    for (version, path) in diesel_downs {
        if !up.iter().any(|u| u.0 == version) {
            discovery.problems.push(FileProblem::InvalidName {
                file: display_path(&path),
                reason: "a diesel migration folder with down.sql has no up.sql (diesel refuses it)"
                    .into(),
            });
        }
    }
    let mut up: Vec<(String, u64, String, String, PathBuf)> = up
        .into_iter()
        .map(|(version, description, rel, path)| {
            (
                name::order(layout, &rel, version),
                version,
                description,
                rel,
                path,
            )
        })
        .collect();
    up.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.4.cmp(&b.4)));
    let mut kept: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    let beside = |rel: &str| {
        let path = dir.join(rel);
        path.is_file()
            .then(|| read_limited(&path, limits).ok())
            .flatten()
    };
    for (order, version, description, rel, path) in up {
        if let Some(kept) = kept.get(&version) {
            discovery.problems.push(FileProblem::DuplicateVersion {
                file: display_path(&path),
                kept: kept.clone(),
                version,
            });
            continue;
        }
        let display = display_path(&path);
        kept.insert(version, display.clone());
        let text = match raw.remove(&rel) {
            Some(text) => text,
            None => read_limited(&path, limits)?,
        };
        let text = prepare(&path, text, layout)?;
        discovery.files.push(SourceFile {
            display,
            outside_transaction: layout::outside_transaction(layout, &rel, beside)
                .map_err(|e| conf_error(dir, e))?,
            repeatable: name::is_repeatable(layout, &rel),
            order,
            path,
            version: Some(version),
            description: escape_controls(&description),
            text,
        });
    }
    if let Some(spelling) = limits.start_after_spelling
        && spelling != layout
    {
        return Err(SourceError::StartAfterSpelling {
            path: dir.to_path_buf(),
            spelling: spelling.name(),
            layout: layout.name(),
        });
    }
    if let Some(version) = limits.start_after {
        let at = discovery
            .files
            .iter()
            .position(|f| f.version == Some(version) && !f.repeatable)
            .ok_or_else(|| SourceError::StartAfter {
                path: dir.to_path_buf(),
                version,
            })?;
        discovery.replay_only = at + 1;
    }
    let sum_path = dir.join(sum::FILE_NAME);
    if sum_path.is_file() {
        let text = read_limited(&sum_path, limits)?;
        discovery.problems.extend(sum::verify(
            &discovery.files,
            &text,
            &display_path(&sum_path),
        ));
    }
    Ok(discovery)
}

/// The directory's entries as `(relative name, path)`, sorted: its files, and the files one
/// level down in its folders (diesel's and Prisma's migrations are folders).
fn list(dir: &Path, deep: bool) -> Result<Vec<(String, PathBuf)>, SourceError> {
    let read_dir_err = |path: &Path| {
        let path = path.to_path_buf();
        move |error| SourceError::ReadDir { path, error }
    };
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if let Ok(real) = std::fs::canonicalize(dir) {
        seen.insert(real);
    }
    for entry in std::fs::read_dir(dir).map_err(read_dir_err(dir))? {
        let entry = entry.map_err(read_dir_err(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // A folder named like a migration file is listed (and refused when read); hidden
        // folders (`.git`, an editor's) are not migrations.
        if name.starts_with('.') && path.is_dir() {
            continue;
        }
        if path.is_dir() && !name.to_ascii_lowercase().ends_with(".sql") {
            below(&path, &name, deep, &mut seen, &mut entries)?;
            continue;
        }
        entries.push((name, path));
    }
    entries.sort();
    Ok(entries)
}

/// A script configuration's error, as the error of reading the directory.
pub fn conf_error(dir: &Path, e: layout::ConfError) -> SourceError {
    SourceError::Layout {
        path: dir.join(&e.rel),
        line: e.line,
        layout: layout::Layout::Flyway.name(),
        message: e.message,
    }
}

/// The files of a folder below the directory (diesel's and Prisma's one level) and, when
/// `deep` (Flyway, which scans its locations' subfolders), of every folder below it. Each real
/// folder is read once (a symlink loop ends); hidden folders are skipped; a folder that
/// cannot be read is an error, never skipped silently.
fn below(
    dir: &Path,
    rel: &str,
    deep: bool,
    seen: &mut std::collections::HashSet<PathBuf>,
    entries: &mut Vec<(String, PathBuf)>,
) -> Result<(), SourceError> {
    let real = std::fs::canonicalize(dir).map_err(|error| SourceError::ReadDir {
        path: dir.to_path_buf(),
        error,
    })?;
    if !seen.insert(real) {
        return Ok(());
    }
    let read_err = |error| SourceError::ReadDir {
        path: dir.to_path_buf(),
        error,
    };
    for item in std::fs::read_dir(dir).map_err(read_err)? {
        let item = item.map_err(|error| SourceError::ReadDir {
            path: dir.to_path_buf(),
            error,
        })?;
        let name = item.file_name().to_string_lossy().into_owned();
        let path = item.path();
        let rel = format!("{rel}/{name}");
        if path.is_dir() {
            if deep && !name.starts_with('.') {
                below(&path, &rel, deep, seen, entries)?;
            }
            continue;
        }
        entries.push((rel, path));
    }
    Ok(())
}

/// Reads one file given on the command line; its name need not follow the scheme. With
/// `layout = "auto"` its own markers decide how it is read.
pub fn read_named(path: &Path, limits: &Limits) -> Result<SourceFile, SourceError> {
    let raw = read_limited(path, limits)?;
    named_text(path, raw, limits.layout)
}

/// A migration named `path` with the text `raw` (read already), its name read in `layout`
/// (`auto`: detected from this one file).
pub fn named_text(
    path: &Path,
    raw: String,
    layout: layout::Layout,
) -> Result<SourceFile, SourceError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let layout = match layout {
        layout::Layout::Auto => {
            let shown = display_path(path);
            detect::detect(
                std::slice::from_ref(&file_name),
                |_| shown.clone(),
                [(file_name.as_str(), raw.as_str())],
            )
            .map_err(|mixed| SourceError::MixedLayouts {
                path: path.to_path_buf(),
                signals: mixed.to_string(),
            })?
            .layout
        }
        layout => layout,
    };
    let text = prepare(path, raw, layout)?;
    let named = match name::classify(layout, &file_name) {
        up @ FileName::Up { .. } => up,
        _ => name::parse(&file_name),
    };
    let (version, description) = match named {
        FileName::Up {
            version,
            description,
        } => (Some(version), description),
        _ => (None, file_name.trim_end_matches(".sql").to_string()),
    };
    Ok(SourceFile {
        display: display_path(path),
        order: version
            .map(|v| name::order(layout, &file_name, v))
            .unwrap_or_default(),
        path: path.to_path_buf(),
        version,
        description: escape_controls(&description),
        text,
        outside_transaction: false,
        repeatable: false,
    })
}

/// A migration's text as `migrate` analyses and runs it, in `layout` (not `auto`). A file that
/// carries another tool's Down section, statement block or transaction marker is refused
/// ([`foreign`]); in a sectioned layout the file is its Up section ([`layout`]).
pub fn prepare(path: &Path, text: String, layout: layout::Layout) -> Result<String, SourceError> {
    let text = if layout.sectioned() || layout == layout::Layout::Sqlx {
        layout::up_section(layout, &text).map_err(|p| SourceError::Layout {
            path: path.to_path_buf(),
            line: p.line,
            layout: layout.name(),
            message: p.message,
        })?
    } else {
        text
    };
    if layout == layout::Layout::Flyway
        && let Some((line, placeholder)) = layout::flyway_placeholder(&text)
    {
        return Err(SourceError::Layout {
            path: path.to_path_buf(),
            line,
            layout: layout.name(),
            message: format!(
                "Flyway placeholder `{placeholder}`: Flyway replaces it with its value when it runs the script, migrate would run it as written. Write the value in the script"
            ),
        });
    }
    // The layout's own markers are read; another tool's are refused.
    let foreign = foreign::dangerous_markers(&text).find(|m| m.tool != layout.name());
    match foreign {
        Some(m) => Err(SourceError::ForeignMarker {
            path: path.to_path_buf(),
            line: m.line,
            marker: m.marker,
            tool: m.tool,
            consequence: m.consequence,
        }),
        None => Ok(text),
    }
}

/// Reads a regular file (following symlinks) of at most `limits.max_file_size` bytes and
/// normalises it. A FIFO, a device, a socket or a directory is refused before it is opened,
/// so nothing blocks or reads forever; a file that grows while it is read stops at the limit.
pub fn read_limited(path: &Path, limits: &Limits) -> Result<String, SourceError> {
    let read_err = |error| SourceError::ReadFile {
        path: path.to_path_buf(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(SourceError::NotAFile {
            path: path.to_path_buf(),
            kind: file_kind(&kind),
        });
    }
    if meta.len() > limits.max_file_size {
        return Err(SourceError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit: limits.max_file_size,
        });
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    read_stream(path, file, limits)
}

/// Reads a migration's text from a stream (a file, standard input) named `path`, within
/// `max_file_size`.
pub fn read_stream(
    path: &Path,
    stream: impl std::io::Read,
    limits: &Limits,
) -> Result<String, SourceError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    stream
        .take(limits.max_file_size + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| SourceError::ReadFile {
            path: path.to_path_buf(),
            error,
        })?;
    if bytes.len() as u64 > limits.max_file_size {
        return Err(SourceError::StreamTooLarge {
            path: path.to_path_buf(),
            limit: limits.max_file_size,
        });
    }
    decode(path, bytes)
}

/// What a path that is not a regular file is, for the message.
#[cfg(not(unix))]
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// What a path that is not a regular file is, for the message.
#[cfg(unix)]
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Reads a file and normalises it; invalid UTF-8 is an error naming the file and line.
pub fn read_normalised(path: &Path) -> Result<String, SourceError> {
    read_limited(path, &Limits::default())
}

/// Normalises `bytes` read from `path`; invalid UTF-8 is an error naming the file and line,
/// and so is a NUL byte (no database takes one in SQL text, and drivers disagree on what
/// happens to the rest of the text).
fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, SourceError> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(SourceError::NulByte {
            path: path.to_path_buf(),
            line: 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count(),
        });
    }
    normalise(bytes).map_err(|offset| SourceError::InvalidUtf8 {
        path: path.to_path_buf(),
        line: 1 + offset.line,
        offset: offset.offset,
    })
}

/// Where invalid UTF-8 starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Offset {
    /// Byte offset into the raw bytes.
    pub offset: usize,
    /// Number of `\n` before it (0-based line).
    pub line: usize,
}

/// Strips leading UTF-8 BOMs and turns CRLF and lone CR into LF. Idempotent.
pub fn normalise(bytes: Vec<u8>) -> Result<String, Utf8Offset> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let bytes = err.as_bytes();
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count();
            return Err(Utf8Offset { offset, line });
        }
    };
    Ok(normalise_str(&text))
}

/// [`normalise`] for text that is already UTF-8. Every leading BOM goes (a file saved twice
/// with a BOM has two), so normalising is idempotent.
pub fn normalise_str(text: &str) -> String {
    let text = text.trim_start_matches('\u{feff}');
    if !text.contains('\r') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// `sha256:` followed by the lowercase hex SHA-256 of the normalised text.
pub fn checksum(normalised: &str) -> String {
    let digest = Sha256::digest(normalised.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest.iter() {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// A path as users should see it: relative to the working directory when below it,
/// without `./`, with `/` separators.
pub fn display_path(path: &Path) -> String {
    // The working directory does not change while `migrate` runs: asked once.
    static CWD: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let relative = if path.is_absolute() {
        CWD.get_or_init(|| std::env::current_dir().ok())
            .as_ref()
            .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| path.to_path_buf())
    } else {
        path.to_path_buf()
    };
    let parts: Vec<String> = relative
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::RootDir => String::new(),
            other => other.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        escape_controls(&parts.join("/"))
    }
}

/// `path` for a message: control characters escaped (`\n`, `\u{1b}`), so a hostile file
/// name cannot rewrite the terminal or forge output lines.
pub fn shown(path: &Path) -> String {
    escape_controls(&path.display().to_string())
}

/// `text` with every control character escaped as Rust writes it.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// 1-based line and column (in characters) of a byte offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
}

/// Maps byte offsets of one text to [`Pos`] and back to lines.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// The position of byte `offset` in `text` (which must be the indexed text).
    pub fn pos(&self, text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = text.as_bytes()[start..offset]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        Pos {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }

    /// The text of 1-based `line`, without its newline.
    pub fn line<'t>(&self, text: &'t str, line: u32) -> &'t str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.starts.get(i) else {
            return "";
        };
        let end = self.starts.get(i + 1).map(|&e| e - 1).unwrap_or(text.len());
        &text[start..end.max(start)]
    }

    /// Number of lines.
    pub fn line_count(&self) -> u32 {
        self.starts.len() as u32
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_bom_and_line_endings() {
        let raw = b"\xEF\xBB\xBFCREATE TABLE t ();\r\n-- x\rSELECT 1;\r\n".to_vec();
        let text = normalise(raw).unwrap();
        assert_eq!(text, "CREATE TABLE t ();\n-- x\nSELECT 1;\n");
        assert_eq!(normalise_str(&text), text);
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        // Found by the property test: two leading BOMs.
        let twice = normalise_str("\u{feff}\u{feff}x\r\n");
        assert_eq!(twice, "x\n");
        assert_eq!(normalise_str(&twice), twice);
    }

    #[test]
    fn checksum_ignores_line_endings_but_not_comments() {
        let lf = normalise(b"SELECT 1;\n".to_vec()).unwrap();
        let crlf = normalise(b"\xEF\xBB\xBFSELECT 1;\r\n".to_vec()).unwrap();
        assert_eq!(checksum(&lf), checksum(&crlf));
        assert_ne!(checksum(&lf), checksum("SELECT 1; -- x\n"));
        assert_eq!(
            checksum(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn invalid_utf8_reports_line() {
        let err = normalise(b"a\nb\n\xff".to_vec()).unwrap_err();
        assert_eq!(err, Utf8Offset { offset: 4, line: 2 });
    }

    #[test]
    fn line_index_counts_characters() {
        let text = "ab\nçé x\n";
        let index = LineIndex::new(text);
        assert_eq!(index.pos(text, 0), Pos { line: 1, column: 1 });
        let x = text.find('x').unwrap();
        assert_eq!(index.pos(text, x), Pos { line: 2, column: 4 });
        assert_eq!(index.line(text, 2), "çé x");
        assert_eq!(index.line(text, 9), "");
    }
}
