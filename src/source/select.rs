//! Which files an analysis reads, and how they group into releases: the one place that turns
//! "the whole directory", "these files", "what changed since a git ref" (`check`) and "the
//! pending migrations against the applied ones" (`up`) into [`Unit`]s.
//!
//! A *release* is one deploy: the old app sees the schema before it, so objects created in
//! the release under test are new to it. Files of one release are judged together.

use std::path::{Path, PathBuf};

use crate::error::SourceError;
use crate::source::{self, FileName, FileProblem, Limits, SourceFile, git};

/// A release number; files sharing one are judged as one deploy.
pub type Release = u32;

/// One file to analyse, with the release it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Unit<'a> {
    /// The file.
    pub file: &'a SourceFile,
    /// Its release.
    pub release: Release,
    /// Judge it (the release under test) or only replay it (history).
    pub lint: bool,
}

impl<'a> Unit<'a> {
    /// Every file its own release, all linted: what `check` does without `--base`.
    pub fn each_own_release(files: &'a [SourceFile]) -> Vec<Unit<'a>> {
        let releases = own_releases(files.iter());
        files
            .iter()
            .zip(releases)
            .map(|(file, release)| Unit {
                file,
                release,
                lint: true,
            })
            .collect()
    }
}

/// Each file its own release, except that a backfill migration belongs to the release of the
/// file before it: it fills what that release's expand migrations made, before the rollout.
/// A contract migration keeps its own: which release's rollout it follows cannot be told
/// from the files alone (`--base` and `up` judge a release's files together).
fn own_releases<'f>(files: impl Iterator<Item = &'f SourceFile>) -> Vec<Release> {
    let mut releases: Vec<Release> = Vec::new();
    for (i, file) in files.enumerate() {
        let release = match releases.last() {
            Some(&previous) if file.phase() == source::directive::Phase::Backfill => previous,
            _ => i as Release + 1,
        };
        releases.push(release);
    }
    releases
}

/// A selected file, owned.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The file.
    pub file: SourceFile,
    /// Its release.
    pub release: Release,
    /// Judged, or only replayed.
    pub lint: bool,
}

/// The files an analysis reads, in replay order, and the directory's problems.
#[derive(Debug, Default)]
pub struct Selection {
    /// The files.
    pub entries: Vec<Selected>,
    /// Problems met while selecting (names, migrate.sum, edits since the base).
    pub problems: Vec<FileProblem>,
    /// The directory's layout (`None` for files given alone, each read in its own).
    pub layout: Option<source::LayoutUsed>,
    /// The dialect the directory declares (Prisma's `migration_lock.toml`).
    pub dialect: Option<crate::dialect::Dialect>,
    /// For a directory where nothing is a migration: what was looked for
    /// ([`source::Discovery::nothing_found`]).
    pub nothing_found: Option<String>,
}

impl Selection {
    fn push(&mut self, file: SourceFile, release: Release, lint: bool) {
        self.entries.push(Selected {
            file,
            release,
            lint,
        });
    }

    /// Orders the files as their layout applies them (files without a version keep their
    /// place, at the end).
    fn sort_by_order(&mut self) {
        self.entries.sort_by(|a, b| {
            (a.file.version.is_none(), &a.file.order)
                .cmp(&(b.file.version.is_none(), &b.file.order))
        });
    }

    /// The units to analyse.
    pub fn units(&self) -> Vec<Unit<'_>> {
        self.entries
            .iter()
            .map(|e| Unit {
                file: &e.file,
                release: e.release,
                lint: e.lint,
            })
            .collect()
    }

    /// The files, for the renderers.
    pub fn files(&self) -> Vec<&SourceFile> {
        self.entries.iter().map(|e| &e.file).collect()
    }
}

/// Every migration of the directory, each its own release.
pub fn whole_directory(dir: &Path, limits: &Limits) -> Result<Selection, SourceError> {
    let discovery = source::discover(dir, limits)?;
    let mut selection = Selection {
        nothing_found: discovery.nothing_found(dir, limits.layout),
        layout: Some(discovery.layout_used()),
        dialect: discovery.dialect,
        problems: discovery.problems,
        ..Selection::default()
    };
    let replay_only = discovery.replay_only;
    let releases = own_releases(discovery.files.iter());
    for (i, (file, release)) in discovery.files.into_iter().zip(releases).enumerate() {
        selection.push(file, release, i >= replay_only);
    }
    Ok(selection)
}

/// Exactly the files given, in the order given, as the whole history.
pub fn files_alone(paths: &[PathBuf], limits: &Limits) -> Result<Selection, SourceError> {
    let mut selection = Selection::default();
    let files = paths
        .iter()
        .map(|path| source::read_named(path, limits))
        .collect::<Result<Vec<_>, _>>()?;
    let releases = own_releases(files.iter());
    for (file, release) in files.into_iter().zip(releases) {
        selection.push(file, release, true);
    }
    Ok(selection)
}

/// The files given, as one release, against the rest of the directory as history (editors and
/// pre-commit hooks lint just the files they touch, with their real context).
pub fn files_against_directory(
    dir: &Path,
    paths: &[PathBuf],
    limits: &Limits,
) -> Result<Selection, SourceError> {
    let discovery = source::discover(dir, limits)?;
    let wanted: Vec<PathBuf> = paths.iter().map(|p| absolute(p)).collect();
    let under_test = discovery.files.len() as Release + paths.len() as Release + 1;
    let mut selection = Selection {
        layout: Some(discovery.layout_used()),
        dialect: discovery.dialect,
        problems: discovery.problems,
        ..Selection::default()
    };
    let mut found = vec![false; paths.len()];
    for (i, file) in discovery.files.into_iter().enumerate() {
        let at = absolute(&file.path);
        let position = wanted.iter().position(|w| *w == at);
        match position {
            Some(p) => {
                found[p] = true;
                selection.push(file, under_test, true);
            }
            None => selection.push(file, i as Release + 1, false),
        }
    }
    for (path, _) in paths.iter().zip(&found).filter(|(_, found)| !**found) {
        selection.push(source::read_named(path, limits)?, under_test, true);
    }
    selection.sort_by_order();
    Ok(selection)
}

/// `check --stdin-filename NAME`: `raw` (read from standard input) as the migration NAME of
/// the directory, one release against the rest of the directory as history (an editor's
/// unsaved buffer). A file NAME on disk is replaced by `raw`; a new NAME takes its place in
/// apply order. The name is read in the directory's layout (detected without the buffer);
/// NAME must be inside the directory and not a directory itself.
pub fn text_against_directory(
    dir: &Path,
    name: &Path,
    raw: String,
    limits: &Limits,
) -> Result<Selection, SourceError> {
    let wanted = absolute(name);
    if wanted.is_dir() {
        return Err(SourceError::NotAFile {
            path: name.to_path_buf(),
            kind: "a directory",
        });
    }
    let Ok(rel) = wanted.strip_prefix(absolute(dir)) else {
        return Err(SourceError::OutsideDir {
            path: name.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    };
    let rel = rel.to_string_lossy().replace('\\', "/");
    let discovery = source::discover(dir, limits)?;
    let layout = discovery.layout;
    let under_test = discovery.files.len() as Release + 2;
    let mut selection = Selection {
        layout: Some(discovery.layout_used()),
        dialect: discovery.dialect,
        problems: discovery.problems,
        ..Selection::default()
    };
    let mut replaced = false;
    for (i, file) in discovery.files.into_iter().enumerate() {
        if !replaced && absolute(&file.path) == wanted {
            replaced = true;
            let text = source::prepare(name, raw.clone(), layout)?;
            let display = source::display_path(name);
            selection.push(
                SourceFile {
                    text,
                    display,
                    ..file
                },
                under_test,
                true,
            );
        } else {
            selection.push(file, i as Release + 1, false);
        }
    }
    if !replaced {
        // Named as the directory's scan would name it, and read as the saved file would be:
        // a bad name is only its problem, a down file only its note, another file nothing.
        let display = source::display_path(name);
        let problem = match source::name::classify(layout, &rel) {
            FileName::Up { .. } => None,
            FileName::Invalid { reason } => Some(FileProblem::InvalidName {
                file: display,
                reason,
            }),
            FileName::Down { .. } => Some(FileProblem::DownFile { file: display }),
            FileName::NotSql => {
                selection.nothing_found = Some(format!(
                    "{} is not a migration file in the {} layout: nothing to check",
                    source::display_path(name),
                    layout.name()
                ));
                None
            }
        };
        if problem.is_some() || selection.nothing_found.is_some() {
            selection.problems.extend(problem);
            selection.sort_by_order();
            return Ok(selection);
        }
        let file = source::named_text(name, raw, layout)?;
        if let Some(taken) = selection
            .entries
            .iter()
            .find(|e| e.file.version.is_some() && e.file.version == file.version)
        {
            selection.problems.push(FileProblem::DuplicateVersion {
                file: taken.file.display.clone(),
                kept: file.display.clone(),
                version: file.version.unwrap_or_default(),
            });
            selection.entries.retain(|e| e.file.version != file.version);
        }
        selection.push(file, under_test, true);
    }
    selection.sort_by_order();
    Ok(selection)
}

/// `path` made absolute without requiring it to exist (its folder resolved when it does), so
/// a name typed in an editor and a file found in the directory compare.
fn absolute(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let joined = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    match (joined.parent(), joined.file_name()) {
        (Some(parent), Some(file)) => std::fs::canonicalize(parent)
            .map(|p| p.join(file))
            .unwrap_or(joined.clone()),
        _ => joined,
    }
}

/// Why the files since a git ref could not be selected.
#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    /// Listing or reading files failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// git failed.
    #[error(transparent)]
    Git(#[from] git::GitError),
    /// A file at the base is not UTF-8.
    #[error("{file} at {commit} is not valid UTF-8 (line {line})")]
    NotUtf8 {
        /// The file.
        file: String,
        /// The base commit.
        commit: String,
        /// 1-based line.
        line: usize,
    },
}

/// `--base REF`: migrations at the merge-base are history; the ones added since are one
/// release under test; edits and deletions of base migrations are problems.
pub fn since_base(dir: &Path, reference: &str, limits: &Limits) -> Result<Selection, BaseError> {
    let base = git::merge_base(dir, reference)?;
    let current = source::discover(dir, limits)?;
    let layout = current.layout;
    let mut at_base: Vec<SourceFile> = Vec::new();
    let base_files = git::files_at(dir, &base)?;
    let beside = |rel: &str| {
        base_files
            .iter()
            .find(|(name, _)| name == rel)
            .and_then(|(_, bytes)| source::normalise(bytes.clone()).ok())
    };
    for (name, bytes) in &base_files {
        let FileName::Up {
            version,
            description,
        } = source::name::classify(layout, name)
        else {
            continue;
        };
        let path = dir.join(name);
        let text = source::normalise(bytes.clone()).map_err(|at| BaseError::NotUtf8 {
            file: path.display().to_string(),
            commit: base.clone(),
            line: at.line + 1,
        })?;
        let text = source::prepare(&path, text, layout)?;
        at_base.push(SourceFile {
            display: source::display_path(&path),
            outside_transaction: source::layout::outside_transaction(layout, name, beside)
                .map_err(|e| source::conf_error(dir, e))?,
            repeatable: source::name::is_repeatable(layout, name),
            order: source::name::order(layout, name, version),
            path,
            version: Some(version),
            description,
            text,
        });
    }
    let name_of = |f: &SourceFile| f.path.strip_prefix(dir).ok().map(Path::to_path_buf);
    let mut selection = Selection {
        layout: Some(current.layout_used()),
        dialect: current.dialect,
        problems: current.problems,
        ..Selection::default()
    };
    let under_test = (at_base.len() + current.files.len()) as Release + 1;
    for (i, old) in at_base.iter().enumerate() {
        match current.files.iter().find(|f| name_of(f) == name_of(old)) {
            None => selection.problems.push(FileProblem::DeletedSinceBase {
                file: old.display.clone(),
            }),
            // A repeatable migration changes by design: its new text is judged below.
            Some(now) if now.text != old.text && now.repeatable => {}
            Some(now) if now.text != old.text => {
                selection.problems.push(FileProblem::EditedSinceBase {
                    file: now.display.clone(),
                    diff: crate::history::diff(&old.text, &now.text, &now.display, "base"),
                })
            }
            Some(_) => {}
        }
        selection.push(old.clone(), i as Release + 1, false);
    }
    for file in current.files {
        let unchanged = at_base.iter().any(|old| {
            name_of(old) == name_of(&file) && !(file.repeatable && old.text != file.text)
        });
        if !unchanged {
            selection.push(file, under_test, true);
        }
    }
    if selection.entries.is_empty() && !dir.is_dir() {
        return Err(SourceError::MissingDir {
            path: dir.to_path_buf(),
        }
        .into());
    }
    selection.sort_by_order();
    Ok(selection)
}

/// `up`'s gate: the applied files (everything not `pending`) replayed as the releases they
/// were, the pending ones judged together as one release after them (those among the first
/// `replay_only`, an adopted history under `start_after`, replayed unjudged).
pub fn pending_against_applied<'a>(
    files: &'a [SourceFile],
    pending: &[usize],
    replay_only: usize,
) -> Vec<Unit<'a>> {
    let under_test = files.len() as Release + 1;
    files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let is_pending = pending.contains(&i);
            Unit {
                file,
                release: if is_pending {
                    under_test
                } else {
                    i as Release + 1
                },
                lint: is_pending && i >= replay_only,
            }
        })
        .collect()
}
