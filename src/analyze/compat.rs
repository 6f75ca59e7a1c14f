//! The compatibility model: the previous release's app, made explicit, judged against every
//! state of the schema it can see.
//!
//! The old app reads every column of the tables it knows by name and type, inserts rows
//! naming only the columns it knows (the others get their default, or NULL), and updates and
//! deletes through those columns. A [`Difference`] is a way a visible state differs from the
//! previous release's catalog that makes one of those operations fail or change shape. The
//! [`Tracker`] keeps, while a release is replayed, the differences that hold after each change
//! with the change that produced them; [`Tracker::visible`] hands the new ones to the rules at
//! each state the old app can see (after each file where the file is one transaction, after
//! each statement on MySQL and in no-transaction files).

use crate::analyze::schema::hash::HashMap;

type HashSet<T> = std::collections::HashSet<T, crate::analyze::schema::hash::FastState>;

use crate::analyze::ir::{ChangeKind, ConstraintKind, QName, Span};
use crate::analyze::schema::{Catalog, Column, Release, Table};

/// A way a visible state breaks (or may break) the previous release's app. Two differences
/// are the same when they say the same of the same table of the old app, whatever the table
/// is called now.
#[derive(Debug, Clone)]
pub struct Difference {
    /// The table, by the name the old app knows.
    pub table: QName,
    /// Its name now.
    pub at: QName,
    /// The column concerned (the old app's name), or the constraint's columns joined by `, `.
    pub column: String,
    /// What differs.
    pub kind: DiffKind,
}

impl PartialEq for Difference {
    fn eq(&self, other: &Self) -> bool {
        self.table == other.table && self.column == other.column && self.kind == other.kind
    }
}

impl Eq for Difference {}

impl std::hash::Hash for Difference {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.table.hash(state);
        self.column.hash(state);
        self.kind.hash(state);
    }
}

/// What differs from the previous release.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DiffKind {
    /// A column the old app uses is gone: dropped, or renamed to `renamed_to`.
    Gone {
        /// Its new name, when renamed.
        renamed_to: Option<String>,
    },
    /// The old app's column was dropped and added again under its name: every value is gone.
    Replaced {
        /// The new column's type, when it differs from the old one's.
        new_type: Option<String>,
    },
    /// A column the old app does not know now needs a value that its inserts never give.
    Required {
        /// What requires it.
        by: Requirement,
    },
    /// A NOT NULL column the old app may omit lost its default.
    DefaultGone,
    /// A new constraint or unique index restricts what the old app writes.
    Restricted {
        /// Its kind.
        what: Restriction,
        /// Its name, when known.
        name: Option<String>,
    },
}

/// What makes a new column required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// `NOT NULL` (or a primary key) without a default.
    NotNull,
    /// A `CHECK (col IS NOT NULL)`, validated or not (new rows are always checked).
    Check,
}

/// A new restriction on the old app's writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Restriction {
    /// `CHECK`.
    Check,
    /// `UNIQUE`, a primary key or a unique index.
    Unique,
    /// `FOREIGN KEY ... REFERENCES`.
    ForeignKey(QName),
    /// `EXCLUDE`.
    Exclusion,
}

/// The change that produced a difference.
#[derive(Debug, Clone)]
pub struct Cause {
    /// Index of its file among the units.
    pub file_index: usize,
    /// Index of its statement in the file.
    pub stmt_index: usize,
    /// Where.
    pub span: Span,
    /// What it did.
    pub change: ChangeKind,
}

/// The differences that hold while a release is replayed, each with its cause.
#[derive(Debug, Default)]
pub struct Tracker {
    pending: HashMap<Difference, Cause>,
    reported: HashSet<Difference>,
}

impl Tracker {
    /// Starts a release: nothing differs yet.
    pub fn begin_release(&mut self) {
        self.pending.clear();
        self.reported.clear();
    }

    /// After a change of `release` was applied to `catalog`: re-reads the tables it touched.
    /// A difference that already held keeps its cause (also through a rename of its table,
    /// whose new name is read first); a new one is caused by this change.
    pub fn update(&mut self, catalog: &Catalog, release: Release, cause: impl Fn() -> Cause) {
        for table in catalog.last_touched().iter().rev() {
            let now = differences(catalog, table, release);
            let holds: HashSet<&Difference> = now.iter().collect();
            self.pending
                .retain(|d, _| &d.at != table || holds.contains(d));
            drop(holds);
            for d in now {
                let kept = self.pending.remove(&d);
                self.pending.insert(d, kept.unwrap_or_else(&cause));
            }
        }
    }

    /// The differences of a state the old app can see that were not reported yet, in source
    /// order. A column whose loss was reported is not reported again as replaced.
    pub fn visible(&mut self) -> Vec<(Difference, Cause)> {
        let mut out: Vec<(Difference, Cause)> = self
            .pending
            .iter()
            .filter(|(d, _)| !self.reported.contains(*d))
            .map(|(d, c)| (d.clone(), c.clone()))
            .collect();
        out.retain(|(d, _)| {
            !matches!(d.kind, DiffKind::Replaced { .. })
                || !self.reported.iter().any(|r| {
                    r.table == d.table
                        && r.column == d.column
                        && matches!(r.kind, DiffKind::Gone { renamed_to: None })
                })
        });
        for (d, _) in &out {
            self.reported.insert(d.clone());
        }
        out.sort_by_key(|(d, c)| (c.file_index, c.span.start, c.span.end, d.column.clone()));
        out
    }
}

/// Values the old app's inserts get without naming the column.
fn filled(c: &Column) -> bool {
    c.default.as_ref().is_some_and(|d| !d.is_null) || c.generated.is_some() || c.serial
}

/// How `table` differs between the previous release and now.
pub fn differences(catalog: &Catalog, name: &QName, release: Release) -> Vec<Difference> {
    let (Some(before), Some(now)) = (catalog.previous_table(name), catalog.table(name)) else {
        return Vec::new();
    };
    if now.replaced && now.ident != before.ident {
        return Vec::new();
    }
    let mut out = Vec::new();
    let old_name = catalog.previous_name(name);
    let mut push = |column: &str, kind| {
        out.push(Difference {
            table: old_name.clone(),
            at: name.clone(),
            column: column.to_string(),
            kind,
        })
    };
    // A table created again under its name (a rebuild) is matched column by column by name;
    // otherwise a column is the same column while it keeps its identity. Lookups are indexed:
    // a table of thousands of columns is re-read after every change.
    let same_table = before.ident == now.ident;
    let now_by_ident: HashMap<u32, &Column> = now.columns.iter().map(|c| (c.ident, &**c)).collect();
    let now_by_name: HashMap<&str, &Column> = now
        .columns
        .iter()
        .map(|c| (c.name.as_str(), &**c))
        .collect();
    let before_by_name: HashMap<&str, &Column> = before
        .columns
        .iter()
        .map(|c| (c.name.as_str(), &**c))
        .collect();
    let before_idents: HashSet<u32> = before.columns.iter().map(|c| c.ident).collect();
    let matching = |b: &Column| -> Option<&Column> {
        if same_table {
            now_by_ident.get(&b.ident).copied()
        } else {
            now_by_name.get(b.name.as_str()).copied()
        }
    };
    // The old app may leave the column out of its inserts: nullable, or filled by a default.
    let omittable = |b: &Column| !b.not_null || filled(b);
    for b in &before.columns {
        match matching(b) {
            Some(n) => {
                if n.name != b.name {
                    push(
                        &b.name,
                        DiffKind::Gone {
                            renamed_to: Some(n.name.clone()),
                        },
                    );
                } else if b.not_null && filled(b) && n.not_null && !filled(n) {
                    push(&b.name, DiffKind::DefaultGone);
                } else if same_table && n.release == release && !b.synthetic && !same_type(b, n) {
                    // A column of the release swapped in under the old name, of another type.
                    push(
                        &b.name,
                        DiffKind::Replaced {
                            new_type: Some(n.ty.text.clone()),
                        },
                    );
                }
            }
            None => match now_by_name.get(b.name.as_str()).copied() {
                // Another column of the old app's, of the same (or an unknown) type, renamed
                // into the name: the break is the rename (rename-column's).
                Some(n)
                    if same_table
                        && (b.synthetic || same_type(b, n))
                        && before_idents.contains(&n.ident) => {}
                Some(n) => {
                    let new_type = (!b.synthetic && !same_type(b, n)).then(|| n.ty.text.clone());
                    if new_type.is_none() && omittable(b) && n.not_null && !filled(n) {
                        // Added back NOT NULL without default: inserts that left it out fail.
                        push(
                            &b.name,
                            DiffKind::Required {
                                by: Requirement::NotNull,
                            },
                        );
                    }
                    push(&b.name, DiffKind::Replaced { new_type });
                }
                None => push(&b.name, DiffKind::Gone { renamed_to: None }),
            },
        }
    }
    let known = |column: &str| before_by_name.contains_key(column);
    let renamed = |n: &Column| same_table && before_idents.contains(&n.ident);
    let checked_not_null: HashSet<&str> = now
        .constraints
        .iter()
        .filter_map(|c| match &c.kind {
            ConstraintKind::Check {
                not_null_column: Some(col),
                ..
            } => Some(col.as_str()),
            _ => None,
        })
        .collect();
    for n in now
        .columns
        .iter()
        .filter(|n| !known(&n.name) && !renamed(n))
    {
        if filled(n) {
            continue;
        }
        if n.not_null {
            push(
                &n.name,
                DiffKind::Required {
                    by: Requirement::NotNull,
                },
            );
        } else if checked_not_null.contains(n.name.as_str()) {
            push(
                &n.name,
                DiffKind::Required {
                    by: Requirement::Check,
                },
            );
        }
    }
    // A restriction matters when it covers a column the old app writes: one it knows, or a
    // new one its inserts fill with a default.
    let written = |column: &str| {
        known(column)
            || now_by_name
                .get(column)
                .is_some_and(|c| filled(c) && c.release == release)
    };
    for c in now.constraints.iter().filter(|c| {
        !before
            .constraints
            .iter()
            .any(|b| std::sync::Arc::ptr_eq(b, c) || (b.name == c.name && b.kind == c.kind))
    }) {
        let (what, columns): (Restriction, Vec<String>) = match &c.kind {
            ConstraintKind::Check {
                not_null_column: Some(col),
                ..
            } if !known(col) => continue,
            ConstraintKind::Check { words, .. } => {
                // The old app sets only the columns it knows; a new column gets its default,
                // which the check accepts or refuses for every insert alike.
                let columns: Vec<String> = words.iter().filter(|w| known(w)).cloned().collect();
                if columns.is_empty() {
                    continue;
                }
                (Restriction::Check, columns)
            }
            ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns } => {
                if columns.is_empty() {
                    continue; // USING INDEX: the index already enforced it
                }
                (Restriction::Unique, columns.clone())
            }
            ConstraintKind::Index {
                columns,
                unique: true,
            } => (Restriction::Unique, columns.clone()),
            ConstraintKind::ForeignKey {
                columns,
                references,
            } => (Restriction::ForeignKey(references.clone()), columns.clone()),
            ConstraintKind::Exclusion => (Restriction::Exclusion, Vec::new()),
            ConstraintKind::Index { .. } | ConstraintKind::NotNull { .. } => continue,
        };
        if !columns.is_empty() && !columns.iter().any(|c| written(c)) {
            continue;
        }
        if matches!(what, Restriction::Unique) && already_unique(before, &columns) {
            continue;
        }
        push(
            &columns.join(", "),
            DiffKind::Restricted {
                what,
                name: c.name.clone(),
            },
        );
    }
    if same_table {
        for (index_name, index) in catalog.new_indexes_of(name) {
            if index.unique
                && index.release == release
                && index.columns.iter().any(|c| written(c))
                && !already_unique(before, &index.columns)
            {
                push(
                    &index.columns.join(", "),
                    DiffKind::Restricted {
                        what: Restriction::Unique,
                        name: Some(index_name.name.clone()),
                    },
                );
            }
        }
    }
    out
}

fn same_type(a: &Column, b: &Column) -> bool {
    a.ty.name == b.ty.name && a.ty.args == b.ty.args && a.ty.array == b.ty.array
}

/// The previous release already enforced uniqueness over exactly `columns`.
fn already_unique(before: &Table, columns: &[String]) -> bool {
    before.constraints.iter().any(|c| match &c.kind {
        ConstraintKind::PrimaryKey { columns: k }
        | ConstraintKind::Unique { columns: k }
        | ConstraintKind::Index {
            columns: k,
            unique: true,
        } => k == columns,
        _ => false,
    })
}
