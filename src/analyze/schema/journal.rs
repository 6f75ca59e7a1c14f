//! The previous release's tables, kept while a release is replayed: each table a change of
//! the release touches is saved as it was when the release began, so the compatibility model
//! can compare what the old app knew with every state it can see.

use super::*;

/// Tables as they were before the release under test, recorded on first touch.
#[derive(Debug, Clone, Default)]
pub(super) struct Journal {
    /// Recording (only while a linted release is replayed).
    pub(super) enabled: bool,
    /// The release being recorded.
    release: Option<Release>,
    /// Each touched table at the start of the release (`None`: it did not exist).
    tables: HashMap<QName, Option<Table>>,
    /// Each touched view at the start of the release.
    views: HashMap<QName, Option<View>>,
    /// Tables the last applied change touched.
    last: Vec<QName>,
    /// Tables renamed in the release: their name in the previous release, by their name now.
    previous_names: HashMap<QName, QName>,
    /// Keys of the indexes the release created.
    pub(super) new_indexes: Vec<QName>,
}

/// The table a change touches and the existing columns it names.
fn touches(kind: &ChangeKind) -> Vec<(&QName, Option<&str>)> {
    match kind {
        ChangeKind::CreateTable { table, .. }
        | ChangeKind::DropTable { table }
        | ChangeKind::AddColumn { table, .. }
        | ChangeKind::AddConstraint { table, .. }
        | ChangeKind::DropConstraint { table, .. }
        | ChangeKind::ValidateConstraint { table, .. } => vec![(table, None)],
        ChangeKind::DropColumn { table, column }
        | ChangeKind::AlterColumnType { table, column, .. }
        | ChangeKind::SetNotNull { table, column }
        | ChangeKind::DropNotNull { table, column }
        | ChangeKind::SetDefault { table, column, .. }
        | ChangeKind::DropDefault { table, column }
        | ChangeKind::AddIdentity { table, column } => vec![(table, Some(column.as_str()))],
        ChangeKind::RenameColumn { table, from, .. }
        | ChangeKind::RedefineColumn { table, from, .. } => vec![(table, Some(from.as_str()))],
        ChangeKind::RenameTable { from, to } => vec![(from, None), (to, None)],
        ChangeKind::RenameObject {
            kind: ObjectKind::Table,
            from,
            to,
        } => vec![(from, None), (to, None)],
        _ => Vec::new(),
    }
}

impl Catalog {
    /// Records (or stops recording) the previous release's tables.
    pub fn record_previous_release(&mut self, on: bool) {
        self.journal.enabled = on;
        if !on {
            self.journal.release = None;
            self.journal.tables.clear();
            self.journal.views.clear();
            self.journal.previous_names.clear();
            self.journal.new_indexes.clear();
            self.journal.last.clear();
        }
    }

    /// Starts recording `release`: nothing touched yet.
    pub fn begin_release(&mut self, release: Release) {
        self.journal.release = Some(release);
        self.journal.tables.clear();
        self.journal.views.clear();
        self.journal.previous_names.clear();
        self.journal.new_indexes.clear();
        self.journal.last.clear();
    }

    /// The indexes the release created on `table` (still there), with their names.
    pub fn new_indexes_of<'a>(
        &'a self,
        table: &'a QName,
    ) -> impl Iterator<Item = (&'a QName, &'a Index)> {
        self.journal
            .new_indexes
            .iter()
            .filter_map(|key| Some((key, self.indexes.get(key)?)))
            .filter(move |(_, index)| &index.table == table)
    }

    /// The name the previous release knows a table by.
    pub fn previous_name<'a>(&'a self, name: &'a QName) -> &'a QName {
        self.journal.previous_names.get(name).unwrap_or(name)
    }

    /// A view as the release under test found it (`None`: it did not exist then).
    pub fn previous_view(&self, name: &QName) -> Option<&View> {
        match self.journal.views.get(name) {
            Some(before) => before.as_ref(),
            None => self.views.get(name),
        }
    }

    /// A table as the release under test found it (`None`: it did not exist then).
    pub fn previous_table(&self, name: &QName) -> Option<&Table> {
        match self.journal.tables.get(name) {
            Some(before) => before.as_ref(),
            None => self.tables.get(name),
        }
    }

    /// The tables the last applied change touched.
    pub fn last_touched(&self) -> &[QName] {
        &self.journal.last
    }

    pub(super) fn fresh_ident(&mut self) -> u32 {
        self.next_ident += 1;
        self.next_ident
    }

    /// Before `change` of `release` is applied: saves each table it touches as the release
    /// found it, and makes a table or column it names but the migrations never made known
    /// (to the old app, it exists).
    pub(super) fn record(&mut self, change: &Change, release: Release) {
        if !self.journal.enabled {
            return;
        }
        if self.journal.release != Some(release) {
            self.journal.release = Some(release);
            self.journal.tables.clear();
            self.journal.views.clear();
            self.journal.previous_names.clear();
            self.journal.new_indexes.clear();
        }
        if let ChangeKind::CreateView { view, .. } | ChangeKind::DropView { view, .. } =
            &change.kind
            && !self.journal.views.contains_key(view)
        {
            let before = self.views.get(view).cloned();
            self.journal.views.insert(view.clone(), before);
        }
        self.journal.last.clear();
        // An index leaves its table as it was: no copy, but its differences are read again.
        if let ChangeKind::CreateIndex { table, .. } = &change.kind {
            self.journal.last.push(table.clone());
        }
        for (table, column) in touches(&change.kind) {
            if !self.tables.contains_key(table) && self.views.contains_key(table) {
                continue; // a view's column
            }
            if let Some(column) = column {
                let known = self
                    .tables
                    .get(table)
                    .is_some_and(|t| t.any_column(column).is_some());
                // A table the replay knows for certain has no other columns: the old app
                // cannot use one it does not have.
                let certain = self.tables.get(table).is_some_and(|t| self.certain(t));
                if !known && !certain {
                    let ident = self.fresh_ident();
                    let unknown = std::sync::Arc::new(Column {
                        name: column.to_string(),
                        ty: SqlType::default(),
                        not_null: false,
                        default: None,
                        generated: None,
                        release: 0,
                        serial: false,
                        ident,
                        synthetic: true,
                    });
                    if let Some(Some(before)) = self.journal.tables.get_mut(table) {
                        before.columns.push(unknown.clone());
                    }
                    self.table_or_stub(table).columns.push(unknown);
                }
            }
            if !self.journal.tables.contains_key(table) {
                let before = self.tables.get(table).cloned();
                self.journal.tables.insert(table.clone(), before);
            }
            self.journal.last.push(table.clone());
        }
        // A renamed table is still the old app's table: what its new name is compared with is
        // what the old name was (the rename itself is rename-table's).
        if let ChangeKind::RenameTable { from, to }
        | ChangeKind::RenameObject {
            kind: ObjectKind::Table,
            from,
            to,
        } = &change.kind
            && !self.tables.contains_key(to)
            && matches!(self.journal.tables.get(to), Some(None))
        {
            let before = self.journal.tables.get(from).cloned().flatten();
            self.journal.tables.insert(to.clone(), before);
            let original = self.previous_name(from).clone();
            self.journal.previous_names.insert(to.clone(), original);
        }
    }

    /// The identity a column renamed from `from` to `to` takes: that of the previous
    /// release's column named `to` when the release dropped it and `from` is new in the release
    /// (the add, copy, drop, rename swap), else its own. Renaming a column the old app knows is
    /// a rename, whatever its new name.
    pub(super) fn swapped_ident(&self, table: &QName, from: &str, to: &str, own: u32) -> u32 {
        let Some(Some(before)) = self.journal.tables.get(table) else {
            return own;
        };
        let dropped = self
            .tables
            .get(table)
            .is_some_and(|t| t.any_column(to).is_none());
        let new =
            before.columns.iter().all(|c| c.ident != own) && before.any_column(from).is_none();
        match before.any_column(to) {
            Some(c) if dropped && new => c.ident,
            _ => own,
        }
    }
}
