//! Catalog objects built from the IR's specifications.

use super::*;

pub(super) fn new_column(c: &ColumnSpec, release: Release, ident: u32) -> std::sync::Arc<Column> {
    std::sync::Arc::new(Column {
        name: c.name.clone(),
        ty: c.ty.clone(),
        not_null: c.not_null,
        default: c.default.clone(),
        generated: c.generated,
        release,
        serial: c.serial,
        ident,
        synthetic: false,
    })
}

pub(super) fn new_constraint(
    c: &ConstraintSpec,
    validated: bool,
    release: Release,
    file: u32,
) -> Constraint {
    Constraint {
        name: c.name.clone(),
        kind: c.kind.clone(),
        validated,
        release,
        file,
    }
}

pub(super) fn inline_constraints(c: &ColumnSpec, release: Release, file: u32) -> Vec<Constraint> {
    let mut out = Vec::new();
    let columns = vec![c.name.clone()];
    let mut push = |kind| {
        out.push(Constraint {
            name: None,
            kind,
            validated: true,
            release,
            file,
        })
    };
    if c.primary_key {
        push(ConstraintKind::PrimaryKey {
            columns: columns.clone(),
        });
    }
    if c.unique {
        push(ConstraintKind::Unique {
            columns: columns.clone(),
        });
    }
    if let Some(references) = &c.references {
        push(ConstraintKind::ForeignKey {
            columns: columns.clone(),
            references: references.clone(),
        });
    }
    if c.check_not_null || c.check.is_some() {
        push(ConstraintKind::Check {
            not_null_column: c.check_not_null.then(|| c.name.clone()),
            words: c.check.clone().unwrap_or_default(),
        });
    }
    out
}
