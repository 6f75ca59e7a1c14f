//! Evidence from the app's real queries (`--app-queries`): each query parsed once into the
//! names it uses ([`extract`]); a compatibility finding's [`Subject`] (what the old app would
//! have to use for the change to break it) is then looked up among them against the
//! previous release's catalog. A finding some query uses keeps its severity and quotes the
//! queries; one no query uses is *proven unused*: an error becomes a warning that says so.
//!
//! Resolution is conservative: where a name could be the subject's, it is. An unqualified
//! column belongs to every table of its scope (and of the enclosing scopes) unless a nearer
//! scope has a known table with that column; `*` and an INSERT without a column list use every
//! column; a table named without a schema matches the subject in any schema. A query that
//! could not be parsed uses the subject when its text holds the subject's names as words.
//! Views and functions are not followed: a query that reads one is counted, and said so
//! ([`Evidence::Unused::through`]), so `--prove` can settle it.

pub mod extract;

use std::sync::Arc;

use crate::analyze::ir::{ChangeKind, QName};
use crate::analyze::schema::Catalog;
use crate::dialect::Dialect;
use crate::source::queries::{Origin, QueryFiles};

/// What the old app would have to use for a finding's change to break it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A table or view (dropped, renamed, emptied, moved).
    Relation(QName),
    /// A column of a table, by the old app's names (dropped, renamed, retyped, replaced).
    Column(QName, String),
    /// An INSERT into the table that leaves the column out (it became required, or lost the
    /// default that filled it).
    InsertOmits(QName, String),
    /// A write of the table (any INSERT, an UPDATE of one of the columns): a new restriction.
    Writes(QName, Vec<String>),
    /// A function call.
    Function(QName),
    /// A cast to the type, or a mention of it.
    Type(QName),
    /// An enum label, as a string literal.
    Label(String),
    /// A sequence (`nextval('s')`, or an INSERT into a table whose default draws from it).
    Sequence(QName),
    /// A relation of the schema.
    Schema(String),
    /// Any of these.
    AnyOf(Vec<Subject>),
}

impl Subject {
    /// How the subject is named in messages.
    pub fn describe(&self) -> String {
        match self {
            Subject::Relation(t) => t.to_string(),
            Subject::Column(t, c) => t.column(c),
            Subject::InsertOmits(t, c) => format!("{} (an insert leaving it out)", t.column(c)),
            Subject::Writes(t, _) => format!("writes to {t}"),
            Subject::Function(f) => format!("{f}()"),
            Subject::Type(t) => format!("type {t}"),
            Subject::Label(l) => format!("'{l}'"),
            Subject::Sequence(s) => format!("sequence {s}"),
            Subject::Schema(s) => format!("schema {s}"),
            Subject::AnyOf(all) => all
                .iter()
                .map(Subject::describe)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The words a query's text must hold to use the subject (for queries not parsed).
    /// The sentence that says no query uses the subject.
    pub fn unused(&self) -> String {
        match self {
            Subject::Relation(t) => format!("no known query uses {t}"),
            Subject::Column(t, c) => format!("no known query uses {}", t.column(c)),
            Subject::InsertOmits(t, c) => format!("no known insert into {t} leaves out {c}"),
            Subject::Writes(t, cols) if cols.is_empty() => format!("no known query writes {t}"),
            Subject::Writes(t, cols) => format!(
                "no known query inserts into {t} or updates {}",
                cols.join(", ")
            ),
            Subject::Function(f) => format!("no known query calls {f}()"),
            Subject::Type(t) => format!("no known query names type {t}"),
            Subject::Label(l) => format!("no known query holds the value '{l}'"),
            Subject::Sequence(s) => format!("no known query draws from sequence {s}"),
            Subject::Schema(s) => format!("no known query uses a relation of schema {s}"),
            Subject::AnyOf(all) => all
                .iter()
                .map(Subject::unused)
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    fn words(&self) -> Vec<String> {
        match self {
            Subject::Relation(t) => vec![t.name.clone()],
            Subject::Column(t, c) | Subject::InsertOmits(t, c) => vec![t.name.clone(), c.clone()],
            Subject::Writes(t, _) => vec![t.name.clone()],
            Subject::Function(n) | Subject::Type(n) | Subject::Sequence(n) => vec![n.name.clone()],
            Subject::Label(l) => vec![l.clone()],
            Subject::Schema(s) => vec![s.clone()],
            Subject::AnyOf(_) => Vec::new(),
        }
    }
}

/// What a compatibility rule's finding on `change` is about, from the change alone (a rule
/// whose finding needs more says it with `Context::report_on`). Differences carry their own
/// ([`of_difference`]).
pub fn subject_of(change: &ChangeKind) -> Option<Subject> {
    use crate::analyze::ir::ObjectKind as K;
    Some(match change {
        ChangeKind::DropTable { table } | ChangeKind::Truncate { table } => {
            Subject::Relation(table.clone())
        }
        ChangeKind::RenameTable { from, .. } => Subject::Relation(from.clone()),
        ChangeKind::DropView { view, .. } | ChangeKind::CreateView { view, .. } => {
            Subject::Relation(view.clone())
        }
        ChangeKind::RenameObject { kind, from, .. }
        | ChangeKind::SetSchema {
            kind, object: from, ..
        } => match kind {
            K::Table | K::View | K::MaterializedView => Subject::Relation(from.clone()),
            K::Type => Subject::Type(from.clone()),
            K::Sequence => Subject::Sequence(from.clone()),
            K::Function => Subject::Function(from.clone()),
            _ => return None,
        },
        ChangeKind::DropFunction { name } => Subject::Function(name.clone()),
        ChangeKind::DropType { name } => Subject::Type(name.clone()),
        ChangeKind::DropSequence { name } => Subject::Sequence(name.clone()),
        ChangeKind::DropSchema { name } | ChangeKind::RenameSchema { from: name, .. } => {
            Subject::Schema(name.clone())
        }
        ChangeKind::RenameEnumValue { from, .. } => Subject::Label(from.clone()),
        ChangeKind::DropNotNull { table, column } => Subject::Column(table.clone(), column.clone()),
        ChangeKind::RedefineColumn { table, from, .. } => {
            Subject::Column(table.clone(), from.clone())
        }
        _ => return None,
    })
}

/// What a difference from the previous release is about.
pub fn of_difference(d: &crate::analyze::compat::Difference) -> Subject {
    use crate::analyze::compat::DiffKind;
    match &d.kind {
        DiffKind::Gone { .. } | DiffKind::Replaced { .. } => {
            Subject::Column(d.table.clone(), d.column.clone())
        }
        DiffKind::Required { .. } | DiffKind::DefaultGone => {
            Subject::InsertOmits(d.table.clone(), d.column.clone())
        }
        DiffKind::Restricted { .. } => Subject::Writes(
            d.table.clone(),
            d.column
                .split(", ")
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
        ),
    }
}

/// One query of the app.
#[derive(Debug, Clone)]
pub struct Query {
    /// Where it came from.
    pub origin: Origin,
    /// Its text, trimmed.
    pub text: String,
    /// What it names; `None` when it could not be parsed.
    pub names: Option<extract::Names>,
}

/// A query that could not be parsed (reported as a warning; judged by its words).
#[derive(Debug, Clone)]
pub struct Unparsed {
    /// Where.
    pub origin: Origin,
    /// Why.
    pub message: String,
}

/// The queries of one app release.
#[derive(Debug, Clone, Default)]
pub struct QuerySet {
    /// Every query read (parsed or not) that reads or writes data.
    pub queries: Vec<Query>,
    /// Those not parsed, and entries holding no query.
    pub unparsed: Vec<Unparsed>,
    /// Statements read that are not queries of data (SET, BEGIN, DDL ...), not judged.
    pub ignored: usize,
}

/// The evidence `check` was given.
#[derive(Debug, Clone, Default)]
pub struct AppQueries {
    /// The previous release's queries (the app serving traffic while the release is rolled
    /// out): from `--base REF` when given, else the paths as they are. `None`: unknown (a
    /// path did not exist at REF), so nothing is proven unused.
    pub old: Option<QuerySet>,
    /// The new release's queries (judging contract migrations).
    pub new: Option<QuerySet>,
    /// What the reader should know about where they came from.
    pub notes: Vec<String>,
}

impl AppQueries {
    /// Every query set, with whether it is the new release's.
    pub fn sets(&self) -> impl Iterator<Item = (&QuerySet, bool)> {
        self.old
            .iter()
            .map(|s| (s, false))
            .chain(self.new.iter().map(|s| (s, true)))
    }

    /// The queries a piece of evidence names.
    pub fn quoted(&self, evidence: &Evidence) -> Vec<&Query> {
        let Evidence::Used {
            queries,
            new_release,
        } = evidence
        else {
            return Vec::new();
        };
        let set = if *new_release { &self.new } else { &self.old };
        set.as_ref()
            .map(|s| queries.iter().filter_map(|&i| s.queries.get(i)).collect())
            .unwrap_or_default()
    }

    /// The queries not parsed, once each (the same file read for both releases counts once).
    pub fn unparsed(&self) -> Vec<&Unparsed> {
        let mut seen = std::collections::HashSet::new();
        self.sets()
            .flat_map(|(s, _)| &s.unparsed)
            .filter(|u| seen.insert((&u.origin, &u.message)))
            .collect()
    }
}

/// What the queries say of one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// These queries (indices into the set judged against) use the subject.
    Used {
        /// The queries.
        queries: Vec<usize>,
        /// Judged against the new release's queries (a contract migration).
        new_release: bool,
    },
    /// No query uses it.
    Unused {
        /// How the subject is named.
        subject: String,
        /// The sentence saying no query uses it.
        phrase: String,
        /// Some query reads a view, a CTE-less relation the catalog does not know, or calls
        /// a function: what those read is not followed.
        through: bool,
    },
}

impl QuerySet {
    /// Parses what was read (in parallel on parser threads).
    pub fn parse(files: &QueryFiles, dialect: Dialect) -> QuerySet {
        let mut set = QuerySet {
            unparsed: files
                .unreadable
                .iter()
                .map(|u| Unparsed {
                    origin: u.origin.clone(),
                    message: u.message.clone(),
                })
                .collect(),
            // An entry read without a query is judged by the words it holds.
            queries: files
                .unreadable
                .iter()
                .filter(|u| !u.text.trim().is_empty())
                .map(|u| Query {
                    origin: u.origin.clone(),
                    text: u.text.clone(),
                    names: None,
                })
                .collect(),
            ..QuerySet::default()
        };
        // Scripts are split first: each statement is one query.
        let mut pieces: Vec<(Origin, String)> = Vec::new();
        for raw in &files.queries {
            if raw.script {
                let split = crate::analyze::split::split(&raw.text, dialect);
                let lines = crate::source::LineIndex::new(&raw.text);
                for piece in split.pieces {
                    let text = raw.text[piece.start..piece.end].trim();
                    let text = text.strip_suffix(';').unwrap_or(text).trim_end();
                    if text.is_empty() {
                        continue;
                    }
                    pieces.push((
                        Origin {
                            line: lines.pos(&raw.text, piece.start).line,
                            ..raw.origin.clone()
                        },
                        text.to_string(),
                    ));
                }
            } else {
                let text = raw.text.trim();
                let text = text.strip_suffix(';').unwrap_or(text).trim_end();
                pieces.push((raw.origin.clone(), text.to_string()));
            }
        }
        let parsed = parse_pieces(&pieces, dialect);
        for ((origin, text), result) in pieces.into_iter().zip(parsed) {
            match result {
                Parsed::Names(names) => set.queries.push(Query {
                    origin,
                    text,
                    names: Some(names),
                }),
                Parsed::Ignored => set.ignored += 1,
                Parsed::Failed(message) => {
                    set.unparsed.push(Unparsed {
                        origin: origin.clone(),
                        message,
                    });
                    set.queries.push(Query {
                        origin,
                        text,
                        names: None,
                    });
                }
            }
        }
        set
    }

    /// The evidence about `subject` in the previous release's `catalog`.
    pub fn evidence(&self, subject: &Subject, catalog: &Catalog, new_release: bool) -> Evidence {
        let used: Vec<usize> = self
            .queries
            .iter()
            .enumerate()
            .filter(|(_, q)| q.uses(subject, catalog))
            .map(|(i, _)| i)
            .collect();
        if !used.is_empty() {
            return Evidence::Used {
                queries: used,
                new_release,
            };
        }
        let through = self.queries.iter().any(|q| {
            q.names.as_ref().is_some_and(|n| {
                !n.functions.is_empty()
                    || n.scopes
                        .iter()
                        .flat_map(|s| &s.rels)
                        .any(|r| match &r.name {
                            Some(name) => catalog.previous_table(name).is_none(),
                            None => false,
                        })
            })
        });
        Evidence::Unused {
            subject: subject.describe(),
            phrase: subject.unused(),
            through,
        }
    }
}

enum Parsed {
    Names(extract::Names),
    Ignored,
    Failed(String),
}

fn parse_pieces(pieces: &[(Origin, String)], dialect: Dialect) -> Vec<Parsed> {
    let one = |text: &str| -> Parsed {
        let sp = crate::analyze::parse::sqlparser_dialect(dialect);
        match crate::analyze::parse::parse_statement(
            text,
            crate::source::Pos { line: 1, column: 1 },
            sp.as_ref(),
        ) {
            Ok(statements) => {
                let mut names: Option<extract::Names> = None;
                for s in statements.iter().filter(|s| is_query(s)) {
                    let n = extract::names(s, dialect);
                    match &mut names {
                        None => names = Some(n),
                        Some(all) => merge(all, n),
                    }
                }
                names.map_or(Parsed::Ignored, Parsed::Names)
            }
            Err(failure) => Parsed::Failed(failure.message),
        }
    };
    if pieces.is_empty() {
        return Vec::new();
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(pieces.len().div_ceil(64))
        .max(1);
    let chunk = pieces.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .chunks(chunk)
            .map(|part| {
                std::thread::Builder::new()
                    .stack_size(crate::analyze::parse::PARSER_STACK)
                    .spawn_scoped(scope, move || {
                        part.iter().map(|(_, t)| one(t)).collect::<Vec<_>>()
                    })
            })
            .collect();
        handles
            .into_iter()
            .zip(pieces.chunks(chunk))
            .flat_map(|(h, part)| {
                h.ok().and_then(|h| h.join().ok()).unwrap_or_else(|| {
                    part.iter()
                        .map(|_| Parsed::Failed("the SQL parser could not run".into()))
                        .collect()
                })
            })
            .collect()
    })
}

fn merge(all: &mut extract::Names, n: extract::Names) {
    let offset = all.scopes.len();
    all.scopes.extend(n.scopes.into_iter().map(|mut s| {
        s.parent = s.parent.map(|p| p + offset);
        s
    }));
    all.inserts.extend(n.inserts);
    all.updates.extend(n.updates);
    all.functions.extend(n.functions);
    all.types.extend(n.types);
    all.strings.extend(n.strings);
}

/// A statement that reads or writes data (what an app runs); SET, BEGIN, SHOW, DDL are not.
fn is_query(s: &sqlparser::ast::Statement) -> bool {
    use sqlparser::ast::Statement as S;
    matches!(
        s,
        S::Query(_) | S::Insert(_) | S::Update(_) | S::Delete(_) | S::Merge(_)
    )
}

impl Query {
    /// The text on one line, cut to about `width` characters.
    pub fn one_line(&self, width: usize) -> String {
        let flat: String = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() <= width {
            flat
        } else {
            let cut: String = flat.chars().take(width).collect();
            format!("{cut}…")
        }
    }

    /// Whether the query uses `subject`, resolved against the previous release's `catalog`.
    pub fn uses(&self, subject: &Subject, catalog: &Catalog) -> bool {
        if let Subject::AnyOf(all) = subject {
            return all.iter().any(|s| self.uses(s, catalog));
        }
        let Some(names) = &self.names else {
            return holds_words(&self.text, &subject.words());
        };
        match subject {
            Subject::AnyOf(_) => false,
            Subject::Relation(t) => any_rel(names, t),
            Subject::Column(t, c) => uses_column(names, t, c, catalog),
            Subject::InsertOmits(t, c) => names.inserts.iter().any(|i| {
                same(&i.table, i.qualified, t)
                    && i.columns.as_ref().is_none_or(|cols| !cols.contains(c))
            }),
            Subject::Writes(t, columns) => {
                names.inserts.iter().any(|i| same(&i.table, i.qualified, t))
                    || names.updates.iter().any(|(target, set)| {
                        aliases_of(names, t).any(|a| a == target)
                            && set
                                .iter()
                                .any(|c| columns.is_empty() || columns.contains(c))
                    })
            }
            Subject::Function(f) => names.functions.iter().any(|n| n.name == f.name),
            Subject::Type(ty) => {
                names.types.iter().any(|n| n.name == ty.name)
                    || names.strings.iter().any(|s| s == &ty.name)
            }
            Subject::Label(label) => names.strings.iter().any(|s| s == label),
            Subject::Sequence(seq) => {
                names
                    .strings
                    .iter()
                    .any(|s| s.rsplit('.').next() == Some(seq.name.as_str()))
                    || any_rel(names, seq)
                    || names.inserts.iter().any(|i| {
                        catalog.previous_table(&i.table).is_some_and(|t| {
                            t.columns.iter().any(|c| {
                                c.default
                                    .as_ref()
                                    .is_some_and(|d| d.text.contains(&seq.name))
                            })
                        })
                    })
            }
            Subject::Schema(schema) => names.scopes.iter().flat_map(|s| &s.rels).any(|r| {
                r.name.as_ref().is_some_and(|n| {
                    n.schema.as_deref() == Some(schema.as_str())
                        || (!r.qualified
                            && catalog
                                .previous_table(&QName {
                                    schema: Some(schema.clone()),
                                    name: n.name.clone(),
                                })
                                .is_some())
                })
            }),
        }
    }
}

/// A name as a query wrote it (`qualified`: with a schema) is the subject's table.
fn same(written: &QName, qualified: bool, subject: &QName) -> bool {
    if qualified {
        written == subject
    } else {
        written.name == subject.name
    }
}

fn any_rel(names: &extract::Names, t: &QName) -> bool {
    names
        .scopes
        .iter()
        .flat_map(|s| &s.rels)
        .any(|r| r.name.as_ref().is_some_and(|n| same(n, r.qualified, t)))
        || names.inserts.iter().any(|i| same(&i.table, i.qualified, t))
}

/// What the query calls the subject's table.
fn aliases_of<'a>(names: &'a extract::Names, t: &'a QName) -> impl Iterator<Item = &'a String> {
    names
        .scopes
        .iter()
        .flat_map(|s| &s.rels)
        .filter(move |r| r.name.as_ref().is_some_and(|n| same(n, r.qualified, t)))
        .map(|r| &r.alias)
}

fn uses_column(names: &extract::Names, t: &QName, c: &str, catalog: &Catalog) -> bool {
    if names.inserts.iter().any(|i| {
        same(&i.table, i.qualified, t)
            && i.columns
                .as_ref()
                .is_none_or(|cols| cols.iter().any(|x| x == c))
    }) {
        return true;
    }
    let aliases: Vec<&String> = aliases_of(names, t).collect();
    if aliases.is_empty() {
        return false;
    }
    if names
        .updates
        .iter()
        .any(|(target, set)| aliases.contains(&target) && set.iter().any(|x| x == c))
    {
        return true;
    }
    // A known relation other than the subject's table that has the column.
    let has = |r: &extract::Rel| -> bool {
        match &r.name {
            Some(n) if same(n, r.qualified, t) => false,
            Some(n) => catalog
                .previous_table(n)
                .map(|tb| tb.columns.iter().any(|col| col.name == c))
                .or_else(|| {
                    catalog
                        .previous_view(n)
                        .and_then(|v| v.columns.as_ref())
                        .map(|cols| cols.iter().any(|x| x == c))
                })
                .unwrap_or(false),
            None => false,
        }
    };
    let holds_table = |s: &extract::Scope| {
        s.rels
            .iter()
            .any(|r| r.name.as_ref().is_some_and(|n| same(n, r.qualified, t)))
    };
    for (i, scope) in names.scopes.iter().enumerate() {
        for (qualifier, column) in &scope.columns {
            if column != c {
                continue;
            }
            match qualifier {
                Some(q) => {
                    if aliases.contains(&q) {
                        return true;
                    }
                }
                None => {
                    // Walk outwards: the first scope with the table wins, unless a scope on
                    // the way has another known relation with the column.
                    let mut at = Some(i);
                    while let Some(j) = at {
                        let s = &names.scopes[j];
                        if holds_table(s) {
                            return true;
                        }
                        if s.rels.iter().any(has) {
                            break;
                        }
                        at = s.parent;
                    }
                }
            }
        }
        for star in &scope.stars {
            let covers = match star {
                Some(q) => aliases.contains(&q),
                None => {
                    let mut at = Some(i);
                    let mut found = false;
                    // `SELECT *` reads its own FROM; a scope of only the INSERT target is
                    // the statement's, whose `RETURNING *` reads it.
                    while let Some(j) = at {
                        if holds_table(&names.scopes[j]) {
                            found = true;
                            break;
                        }
                        if !names.scopes[j].rels.is_empty() {
                            break;
                        }
                        at = names.scopes[j].parent;
                    }
                    found
                }
            };
            if covers {
                return true;
            }
        }
    }
    false
}

/// `text` holds each of `words` as a whole word (case-insensitive).
fn holds_words(text: &str, words: &[String]) -> bool {
    let lower = text.to_lowercase();
    words.iter().all(|w| {
        let w = w.to_lowercase();
        lower.match_indices(&w).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + w.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        })
    })
}

/// Shared evidence, cheap to clone into options.
pub type Shared = Arc<AppQueries>;

#[cfg(test)]
mod tests;
