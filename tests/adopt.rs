//! Adopting another tool's database (issue 13): for each tool, its history table is created as
//! that tool creates it (the DDL and the rows it writes, from its documentation and source)
//! after it "applied" the first two of three migrations; `up` refuses naming the table and the
//! command to run; `baseline --from <tool>` records those two; `up` then runs only the third
//! (running the first again would fail: its table exists). A checksum mismatch and a
//! dirty/failed row are refused with nothing recorded.

mod support;

use sha2::{Digest, Sha256, Sha384};
use support::db::{Kind, TestDb};

const KINDS: [Kind; 3] = [Kind::Postgres, Kind::Mariadb, Kind::Sqlite];

/// The SQL of migration `n` (1, 2, 3): one table each.
fn body(n: usize) -> String {
    format!("CREATE TABLE {} (id INT);\n", ["a", "b", "c"][n - 1])
}

/// Flyway's checksums of the three bodies: `java.util.zip.CRC32` over the lines without line
/// breaks, as a signed int; computed with Python's `zlib.crc32` (the same CRC), not with the
/// code under test.
const FLYWAY_CRC: [i32; 3] = [-2090711421, 444604546, -619774142];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tool {
    Sqlx,
    Flyway,
    GolangMigrate,
    Goose,
    Dbmate,
    SqlMigrate,
    Diesel,
    Prisma,
}

const TOOLS: [Tool; 8] = [
    Tool::Sqlx,
    Tool::Flyway,
    Tool::GolangMigrate,
    Tool::Goose,
    Tool::Dbmate,
    Tool::SqlMigrate,
    Tool::Diesel,
    Tool::Prisma,
];

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::Flyway => "flyway",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Goose => "goose",
            Tool::Dbmate => "dbmate",
            Tool::SqlMigrate => "sql-migrate",
            Tool::Diesel => "diesel",
            Tool::Prisma => "prisma",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Flyway => "flyway_schema_history",
            Tool::GolangMigrate | Tool::Dbmate => "schema_migrations",
            Tool::Goose => "goose_db_version",
            Tool::SqlMigrate => "gorp_migrations",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Prisma => "_prisma_migrations",
        }
    }

    /// `(path, text)` of migration `n` in the tool's layout, and its down file if it has one.
    fn files(self, n: usize) -> Vec<(String, String)> {
        let up = body(n);
        let t = ["a", "b", "c"][n - 1];
        let drop = format!("DROP TABLE {t};\n");
        match self {
            Tool::Sqlx => vec![(format!("{n}_{t}.sql"), up)],
            Tool::Flyway => vec![(format!("V{n}__{t}.sql"), up)],
            Tool::GolangMigrate => vec![
                (format!("{n}_{t}.up.sql"), up),
                (format!("{n}_{t}.down.sql"), drop),
            ],
            Tool::Goose => vec![(
                format!("{n}_{t}.sql"),
                format!("-- +goose Up\n{up}\n-- +goose Down\n{drop}"),
            )],
            Tool::Dbmate => vec![(
                format!("2024010100000{n}_{t}.sql"),
                format!("-- migrate:up\n{up}\n-- migrate:down\n{drop}"),
            )],
            Tool::SqlMigrate => vec![(
                format!("{n}_{t}.sql"),
                format!("-- +migrate Up\n{up}\n-- +migrate Down\n{drop}"),
            )],
            Tool::Diesel => vec![
                (format!("2024-01-01-00000{n}_{t}/up.sql"), up),
                (format!("2024-01-01-00000{n}_{t}/down.sql"), drop),
            ],
            Tool::Prisma => vec![(format!("2024010100000{n}_{t}/migration.sql"), up)],
        }
    }

    /// The version `migrate` records for migration `n`.
    fn version(self, n: usize) -> String {
        match self {
            Tool::Dbmate | Tool::Diesel | Tool::Prisma => format!("2024010100000{n}"),
            _ => n.to_string(),
        }
    }

    /// The tool's history table as it creates it on `kind`.
    fn ddl(self, kind: Kind) -> &'static str {
        use Kind::*;
        match (self, kind) {
            (Tool::Sqlx, Postgres) => {
                "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)"
            }
            (Tool::Sqlx, Mariadb) => {
                "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)"
            }
            (Tool::Sqlx, Sqlite) => {
                "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)"
            }
            (Tool::Flyway, Postgres) => {
                "CREATE TABLE \"flyway_schema_history\" (\"installed_rank\" INT NOT NULL, \"version\" VARCHAR(50), \"description\" VARCHAR(200) NOT NULL, \"type\" VARCHAR(20) NOT NULL, \"script\" VARCHAR(1000) NOT NULL, \"checksum\" INTEGER, \"installed_by\" VARCHAR(100) NOT NULL, \"installed_on\" TIMESTAMP NOT NULL DEFAULT now(), \"execution_time\" INTEGER NOT NULL, \"success\" BOOLEAN NOT NULL); ALTER TABLE \"flyway_schema_history\" ADD CONSTRAINT \"flyway_schema_history_pk\" PRIMARY KEY (\"installed_rank\"); CREATE INDEX \"flyway_schema_history_s_idx\" ON \"flyway_schema_history\" (\"success\")"
            }
            (Tool::Flyway, Mariadb) => {
                "CREATE TABLE `flyway_schema_history` (`installed_rank` INT NOT NULL, `version` VARCHAR(50), `description` VARCHAR(200) NOT NULL, `type` VARCHAR(20) NOT NULL, `script` VARCHAR(1000) NOT NULL, `checksum` INT, `installed_by` VARCHAR(100) NOT NULL, `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, `execution_time` INT NOT NULL, `success` BOOL NOT NULL, CONSTRAINT `flyway_schema_history_pk` PRIMARY KEY (`installed_rank`)) ENGINE=InnoDB; CREATE INDEX `flyway_schema_history_s_idx` ON `flyway_schema_history` (`success`)"
            }
            (Tool::Flyway, Sqlite) => {
                "CREATE TABLE \"flyway_schema_history\" (\"installed_rank\" INT NOT NULL PRIMARY KEY, \"version\" VARCHAR(50), \"description\" VARCHAR(200) NOT NULL, \"type\" VARCHAR(20) NOT NULL, \"script\" VARCHAR(1000) NOT NULL, \"checksum\" INT, \"installed_by\" VARCHAR(100) NOT NULL, \"installed_on\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')), \"execution_time\" INT NOT NULL, \"success\" BOOLEAN NOT NULL); CREATE INDEX \"flyway_schema_history_s_idx\" ON \"flyway_schema_history\" (\"success\")"
            }
            (Tool::GolangMigrate, Sqlite) => {
                "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64, dirty bool); CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version)"
            }
            (Tool::GolangMigrate, _) => {
                "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null primary key, dirty boolean not null)"
            }
            (Tool::Goose, Postgres) => {
                "CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now())"
            }
            (Tool::Goose, Mariadb) => {
                "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id))"
            }
            (Tool::Goose, Sqlite) => {
                "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))"
            }
            (Tool::Dbmate, Postgres) => {
                "CREATE TABLE IF NOT EXISTS schema_migrations (version character varying(128) NOT NULL PRIMARY KEY)"
            }
            (Tool::Dbmate, _) => {
                "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) NOT NULL PRIMARY KEY)"
            }
            (Tool::SqlMigrate, Postgres) => {
                "create table if not exists \"gorp_migrations\" (\"id\" varchar(255) not null primary key, \"applied_at\" timestamp with time zone)"
            }
            (Tool::SqlMigrate, Mariadb) => {
                "create table if not exists `gorp_migrations` (`id` varchar(255) not null primary key, `applied_at` datetime) engine=InnoDB charset=UTF8"
            }
            (Tool::SqlMigrate, Sqlite) => {
                "create table if not exists \"gorp_migrations\" (\"id\" varchar(255) not null primary key, \"applied_at\" datetime)"
            }
            (Tool::Diesel, _) => {
                "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            }
            (Tool::Prisma, Postgres) => {
                "CREATE TABLE \"_prisma_migrations\" (\"id\" VARCHAR(36) NOT NULL, \"checksum\" VARCHAR(64) NOT NULL, \"finished_at\" TIMESTAMPTZ, \"migration_name\" VARCHAR(255) NOT NULL, \"logs\" TEXT, \"rolled_back_at\" TIMESTAMPTZ, \"started_at\" TIMESTAMPTZ NOT NULL DEFAULT now(), \"applied_steps_count\" INTEGER NOT NULL DEFAULT 0, CONSTRAINT \"_prisma_migrations_pkey\" PRIMARY KEY (\"id\"))"
            }
            (Tool::Prisma, Mariadb) => {
                "CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at DATETIME(3), migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at DATETIME(3), started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            }
            (Tool::Prisma, Sqlite) => {
                "CREATE TABLE \"_prisma_migrations\" (\"id\" TEXT PRIMARY KEY NOT NULL, \"checksum\" TEXT NOT NULL, \"finished_at\" DATETIME, \"migration_name\" TEXT NOT NULL, \"logs\" TEXT, \"rolled_back_at\" DATETIME, \"started_at\" DATETIME NOT NULL DEFAULT current_timestamp, \"applied_steps_count\" INTEGER UNSIGNED NOT NULL DEFAULT 0)"
            }
        }
    }

    /// The rows the tool writes after applying migrations 1 and 2 (`broken`: the second one
    /// left failed or dirty, where the tool records that).
    fn rows(self, kind: Kind, broken: bool) -> Vec<String> {
        let t = |b: bool| match (kind, b) {
            (Kind::Postgres, true) => "TRUE",
            (Kind::Postgres, false) => "FALSE",
            (_, true) => "1",
            (_, false) => "0",
        };
        let sqlx_sum = |n: usize| match kind {
            // The database computes it (PostgreSQL and MariaDB): not the code under test.
            Kind::Postgres => format!(
                "sha384(convert_to('{}' || chr(10), 'UTF8'))",
                body(n).trim_end()
            ),
            Kind::Mariadb => format!(
                "UNHEX(SHA2(CONCAT('{}', CHAR(10)), 384))",
                body(n).trim_end()
            ),
            Kind::Sqlite => format!("X'{}'", hex(&Sha384::digest(body(n).as_bytes()))),
        };
        let prisma_sum = |n: usize| match kind {
            Kind::Postgres => format!(
                "encode(sha256(convert_to('{}' || chr(10), 'UTF8')), 'hex')",
                body(n).trim_end()
            ),
            Kind::Mariadb => format!("SHA2(CONCAT('{}', CHAR(10)), 256)", body(n).trim_end()),
            Kind::Sqlite => format!("'{}'", hex(&Sha256::digest(body(n).as_bytes()))),
        };
        let q = |s: &str| match kind {
            Kind::Mariadb => format!("`{s}`"),
            _ => format!("\"{s}\""),
        };
        let last_ok = !broken;
        match self {
            Tool::Sqlx => (1..=2)
                .map(|n| {
                    format!(
                        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ({n}, '{}', {}, {}, 1000)",
                        ["a", "b"][n - 1],
                        t(n == 1 || last_ok),
                        sqlx_sum(n)
                    )
                })
                .collect(),
            Tool::Flyway => (1..=2)
                .map(|n| {
                    format!(
                        "INSERT INTO {} ({}, {}, {}, {}, {}, {}, {}, {}, {}) VALUES ({n}, '{n}', '{}', 'SQL', 'V{n}__{}.sql', {}, 'app', 12, {})",
                        q("flyway_schema_history"),
                        q("installed_rank"),
                        q("version"),
                        q("description"),
                        q("type"),
                        q("script"),
                        q("checksum"),
                        q("installed_by"),
                        q("execution_time"),
                        q("success"),
                        ["a", "b"][n - 1],
                        ["a", "b"][n - 1],
                        FLYWAY_CRC[n - 1],
                        t(n == 1 || last_ok)
                    )
                })
                .collect(),
            Tool::GolangMigrate => vec![format!(
                "INSERT INTO schema_migrations (version, dirty) VALUES (2, {})",
                t(broken)
            )],
            Tool::Goose => {
                let mut rows = vec![format!(
                    "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, {})",
                    t(true)
                )];
                for n in 1..=2 {
                    rows.push(format!(
                        "INSERT INTO goose_db_version (version_id, is_applied) VALUES ({n}, {})",
                        t(true)
                    ));
                }
                rows
            }
            Tool::Dbmate => (1..=2)
                .map(|n| format!("INSERT INTO schema_migrations (version) VALUES ('2024010100000{n}')"))
                .collect(),
            Tool::SqlMigrate => (1..=2)
                .map(|n| {
                    format!(
                        "INSERT INTO gorp_migrations (id, applied_at) VALUES ('{n}_{}.sql', CURRENT_TIMESTAMP)",
                        ["a", "b"][n - 1]
                    )
                })
                .collect(),
            Tool::Diesel => ["00000000000000", "20240101000001", "20240101000002"]
                .iter()
                .map(|v| format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{v}')"))
                .collect(),
            Tool::Prisma => (1..=2)
                .map(|n| {
                    let finished = if n == 2 && broken {
                        "NULL".to_string()
                    } else {
                        "CURRENT_TIMESTAMP".to_string()
                    };
                    format!(
                        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('0000000{n}-uuid', {}, {finished}, '2024010100000{n}_{}', 1)",
                        prisma_sum(n),
                        ["a", "b"][n - 1]
                    )
                })
                .collect(),
        }
    }

    /// The tool keeps a checksum `baseline --from` compares.
    fn checksums(self) -> bool {
        matches!(self, Tool::Sqlx | Tool::Flyway | Tool::Prisma)
    }

    /// The tool records a failed or dirty migration.
    fn records_failure(self) -> bool {
        matches!(
            self,
            Tool::Sqlx | Tool::Flyway | Tool::GolangMigrate | Tool::Prisma
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The test's database after `tool` applied migrations 1 and 2 (their tables and its rows).
fn adopted(tool: Tool, kind: Kind, broken: bool) -> Option<TestDb> {
    let db = TestDb::new(kind)?;
    for n in 1..=3 {
        for (path, text) in tool.files(n) {
            let full = db.migrations().join(&path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
    }
    if tool == Tool::Prisma {
        let provider = match kind {
            Kind::Postgres => "postgresql",
            Kind::Mariadb => "mysql",
            Kind::Sqlite => "sqlite",
        };
        db.write(
            "migration_lock.toml",
            format!("provider = \"{provider}\"\n"),
        );
    }
    db.exec(&body(1));
    db.exec(&body(2));
    db.exec(tool.ddl(kind));
    for row in tool.rows(kind, broken) {
        db.exec(&row);
    }
    Some(db)
}

#[test]
fn up_refuses_and_baseline_from_adopts_each_tools_history() {
    for kind in KINDS {
        for tool in TOOLS {
            let Some(db) = adopted(tool, kind, false) else {
                continue;
            };
            let name = tool.name();
            let up = db.migrate("up", &[]);
            assert_eq!(up.code, 1, "{kind:?} {name}: {}{}", up.stdout, up.stderr);
            let said = format!("{}{}", up.stdout, up.stderr);
            assert!(
                said.contains(tool.table())
                    && said.contains(&format!("migrate baseline --from {name}")),
                "{kind:?} {name}: {said}"
            );
            assert!(
                db.history().is_empty(),
                "{kind:?} {name}: {:?}",
                db.history()
            );

            let baseline = db.migrate("baseline", &["--from", name]);
            assert_eq!(
                baseline.code, 0,
                "{kind:?} {name}: {}{}",
                baseline.stdout, baseline.stderr
            );
            assert!(
                baseline.stdout.contains("2 migrations recorded")
                    && baseline.stdout.contains("1 left"),
                "{kind:?} {name}: {}",
                baseline.stdout
            );
            let up = db.migrate("up", &[]);
            assert_eq!(up.code, 0, "{kind:?} {name}: {}{}", up.stdout, up.stderr);
            let tables = db.tables();
            assert!(
                tables.iter().any(|t| t == "c"),
                "{kind:?} {name}: {tables:?}"
            );
            // Nothing of a Down section or a down file ran: every table is still there.
            for t in ["a", "b", "c"] {
                assert!(
                    tables.iter().any(|x| x == t),
                    "{kind:?} {name}: {t}: {tables:?}"
                );
            }
            assert_eq!(
                db.history(),
                vec![
                    format!("{}:applied", tool.version(1)),
                    format!("{}:applied", tool.version(2)),
                    format!("{}:applied", tool.version(3)),
                ],
                "{kind:?} {name}"
            );
            let phases = db.strings("SELECT phase FROM migrate_history ORDER BY version");
            assert_eq!(phases[..2], ["baseline", "baseline"], "{kind:?} {name}");
        }
    }
}

#[test]
fn baseline_from_refuses_an_edited_file_and_a_failed_row() {
    for kind in KINDS {
        for tool in TOOLS.into_iter().filter(|t| t.checksums()) {
            let Some(db) = adopted(tool, kind, false) else {
                continue;
            };
            let (path, text) = tool.files(2).remove(0);
            std::fs::write(db.migrations().join(&path), format!("{text}-- edited\n")).unwrap();
            let run = db.migrate("baseline", &["--from", tool.name()]);
            assert_eq!(
                run.code, 1,
                "{kind:?} {tool:?}: {}{}",
                run.stdout, run.stderr
            );
            assert!(
                run.stderr.contains(&path) && run.stderr.contains("differs"),
                "{kind:?} {tool:?}: {}",
                run.stderr
            );
            assert!(db.history().is_empty(), "{kind:?} {tool:?}");
        }
        for tool in TOOLS.into_iter().filter(|t| t.records_failure()) {
            let Some(db) = adopted(tool, kind, true) else {
                continue;
            };
            let run = db.migrate("baseline", &["--from", tool.name()]);
            assert_eq!(
                run.code, 1,
                "{kind:?} {tool:?}: {}{}",
                run.stdout, run.stderr
            );
            assert!(
                run.stderr.contains("again"),
                "{kind:?} {tool:?}: the next step is named: {}",
                run.stderr
            );
            assert!(db.history().is_empty(), "{kind:?} {tool:?}");
        }
    }
}

/// A version the other tool applied without a file here is refused, naming it.
#[test]
fn baseline_from_refuses_an_applied_version_without_a_file() {
    let Some(db) = adopted(Tool::Dbmate, Kind::Sqlite, false) else {
        return;
    };
    db.exec("INSERT INTO schema_migrations (version) VALUES ('20231231000000')");
    let run = db.migrate("baseline", &["--from", "dbmate"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("20231231000000"), "{}", run.stderr);
    assert!(db.history().is_empty());
    // A refused adoption writes nothing, not even the history table.
    assert!(
        !db.tables().contains(&"migrate_history".to_string()),
        "{:?}",
        db.tables()
    );
}

/// Flyway's repeatable migrations: its latest row per script counts. Unchanged since (same
/// CRC-32, computed with Python's zlib), it is recorded as applied and `up` leaves it alone;
/// changed since, it is left for `up`, which applies it again (as Flyway would).
#[test]
fn baseline_from_flyway_takes_repeatable_migrations() {
    const VIEW: &str = "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n";
    const VIEW_CRC: i32 = -883864728;
    for changed in [false, true] {
        let Some(db) = adopted(Tool::Flyway, Kind::Postgres, false) else {
            return;
        };
        db.exec(VIEW);
        db.exec(&format!(
            "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES (3, NULL, 'v', 'SQL', 'R__v.sql', {}, 'app', 5, TRUE)",
            VIEW_CRC - 1
        ));
        db.exec(&format!(
            "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES (4, NULL, 'v', 'SQL', 'R__v.sql', {VIEW_CRC}, 'app', 5, TRUE)"
        ));
        let text = if changed {
            "CREATE OR REPLACE VIEW v AS SELECT id, 1 AS one FROM a;\n"
        } else {
            VIEW
        };
        db.write("R__v.sql", text);
        let baseline = db.migrate("baseline", &["--from", "flyway"]);
        assert_eq!(baseline.code, 0, "{}{}", baseline.stdout, baseline.stderr);
        let recorded = if changed {
            "2 migrations"
        } else {
            "3 migrations"
        };
        assert!(
            baseline.stdout.contains(recorded),
            "{changed}: {}",
            baseline.stdout
        );
        let up = db.migrate("up", &["--format", "json"]);
        assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
        let report: serde_json::Value = serde_json::from_str(&up.stdout).unwrap();
        let applied = report["migrations"].as_array().unwrap().len();
        assert_eq!(
            applied,
            if changed { 2 } else { 1 },
            "{changed}: {}",
            up.stdout
        );
        let columns = db.columns("v");
        assert_eq!(columns.len(), if changed { 2 } else { 1 }, "{columns:?}");
    }
}

/// `--table` reads the tool's history under another name (dbmate's `--migrations-table`).
#[test]
fn baseline_from_reads_a_renamed_table() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    for n in 1..=3 {
        for (path, text) in Tool::Dbmate.files(n) {
            db.write(&path, text);
        }
    }
    db.exec(&body(1));
    db.exec("CREATE TABLE IF NOT EXISTS app_versions (version varchar(128) NOT NULL PRIMARY KEY)");
    db.exec("INSERT INTO app_versions (version) VALUES ('20240101000001')");
    let missing = db.migrate("baseline", &["--from", "dbmate"]);
    assert_eq!(missing.code, 2, "{}{}", missing.stdout, missing.stderr);
    assert!(missing.stderr.contains("--table"), "{}", missing.stderr);
    let run = db.migrate("baseline", &["--from", "dbmate", "--table", "app_versions"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("1 migration recorded"),
        "{}",
        run.stdout
    );
    let up = db.migrate("up", &[]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    assert_eq!(db.history().len(), 3, "{:?}", db.history());
}

/// Flyway: the latest row of a version decides. A migration Flyway Teams undid (`UNDO_SQL`)
/// or `flyway repair` marked deleted is not applied: `up` runs it again. A file in a subfolder
/// is read, as Flyway scans its locations' subfolders.
#[test]
fn baseline_from_flyway_follows_undo_rows_and_subfolders() {
    for kind in KINDS {
        let Some(db) = adopted(Tool::Flyway, kind, false) else {
            continue;
        };
        db.exec("DROP TABLE b");
        db.exec("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES (3, '2', 'b', 'UNDO_SQL', 'U2__b.sql', 1, 'app', 5, TRUE)");
        // Migration 3 moves into a subfolder.
        let sub = db.migrations().join("2024");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::rename(db.migrations().join("V3__c.sql"), sub.join("V3__c.sql")).unwrap();
        let check = support::cmd::migrate().check().dir(db.migrations()).run();
        assert!(
            check.stdout.is_empty() && check.code == 0,
            "{kind:?}: {}{}",
            check.stdout,
            check.stderr
        );
        let baseline = db.migrate("baseline", &["--from", "flyway"]);
        assert_eq!(
            baseline.code, 0,
            "{kind:?}: {}{}",
            baseline.stdout, baseline.stderr
        );
        assert!(
            baseline.stdout.contains("1 migration recorded"),
            "{kind:?}: {}",
            baseline.stdout
        );
        let up = db.migrate("up", &[]);
        assert_eq!(up.code, 0, "{kind:?}: {}{}", up.stdout, up.stderr);
        let tables = db.tables();
        assert!(
            tables.contains(&"b".to_string()) && tables.contains(&"c".to_string()),
            "{kind:?}: {tables:?}"
        );
        assert_eq!(
            db.history(),
            ["1:applied", "2:applied", "3:applied"],
            "{kind:?}"
        );
    }
}

/// A tool that applied nothing (an empty table, goose's creation row alone) is adopted as
/// `baseline 0` is: a marker row, and `up` applies every file. diesel's version-0 setup
/// migration is a file like any other: the marker does not take its version.
#[test]
fn baseline_from_with_nothing_applied_lets_up_run_everything() {
    for (tool, kind) in [
        (Tool::Sqlx, Kind::Postgres),
        (Tool::GolangMigrate, Kind::Mariadb),
        (Tool::Goose, Kind::Sqlite),
    ] {
        let Some(db) = TestDb::new(kind) else {
            continue;
        };
        for n in 1..=2 {
            for (path, text) in tool.files(n) {
                db.write(&path, text);
            }
        }
        db.exec("CREATE TABLE other_app (id INT)");
        db.exec(tool.ddl(kind));
        if tool == Tool::Goose {
            db.exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1)");
        }
        let baseline = db.migrate("baseline", &["--from", tool.name()]);
        assert_eq!(
            baseline.code, 0,
            "{tool:?}: {}{}",
            baseline.stdout, baseline.stderr
        );
        let up = db.migrate("up", &[]);
        assert_eq!(up.code, 0, "{tool:?}: {}{}", up.stdout, up.stderr);
        assert!(
            up.stdout.contains("2 migrations applied") && up.stdout.contains("(0 applied before)"),
            "{tool:?}: {}",
            up.stdout
        );
        let status = db.migrate("status", &[]);
        assert_eq!(
            status.code, 0,
            "{tool:?}: {}{}",
            status.stdout, status.stderr
        );
    }
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write(
        "00000000000000_diesel_initial_setup/up.sql",
        "CREATE OR REPLACE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql;\n",
    );
    db.write("2024-01-01-000001_a/up.sql", body(1));
    db.exec("CREATE TABLE other_app (id INT)");
    assert_eq!(db.migrate("baseline", &["0"]).code, 0);
    let up = db.migrate("up", &[]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    // The marker row (version -1) and both migrations, the setup one included.
    assert_eq!(
        db.history(),
        ["-1:applied", "0:applied", "20240101000001:applied"]
    );
}

/// golang-migrate and dbmate both call their table schema_migrations: the wrong `--from` is
/// refused by the table's columns (only golang-migrate's has `dirty`), and a golang-migrate
/// table with more than its one row is refused. Refusals exit 1, nothing recorded.
#[test]
fn baseline_from_tells_golang_migrate_and_dbmate_apart() {
    let Some(db) = adopted(Tool::GolangMigrate, Kind::Postgres, false) else {
        return;
    };
    let run = db.migrate("baseline", &["--from", "dbmate"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("golang-migrate's history table")
            && run.stderr.contains("--from golang-migrate"),
        "{}",
        run.stderr
    );
    db.exec("INSERT INTO schema_migrations (version, dirty) VALUES (1, FALSE)");
    let run = db.migrate("baseline", &["--from", "golang-migrate"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("holds 2 rows"), "{}", run.stderr);
    assert!(db.history().is_empty());
    let Some(db) = adopted(Tool::Dbmate, Kind::Mariadb, false) else {
        return;
    };
    let run = db.migrate("baseline", &["--from", "golang-migrate"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("--from dbmate"), "{}", run.stderr);
}

/// PostgreSQL: `--table schema.name` reads a table in another schema; a name given in
/// another case finds the table as the database spells it.
#[test]
fn baseline_from_reads_a_table_in_another_schema_or_case() {
    let Some(db) = adopted(Tool::Dbmate, Kind::Postgres, false) else {
        return;
    };
    db.exec("CREATE SCHEMA tools");
    db.exec("ALTER TABLE schema_migrations SET SCHEMA tools");
    let run = db.migrate(
        "baseline",
        &["--from", "dbmate", "--table", "tools.schema_migrations"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("2 migrations recorded"),
        "{}",
        run.stdout
    );
    let Some(db) = adopted(Tool::Dbmate, Kind::Postgres, false) else {
        return;
    };
    db.exec("ALTER TABLE schema_migrations RENAME TO \"AppVersions\"");
    let run = db.migrate("baseline", &["--from", "dbmate", "--table", "appversions"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("2 migrations recorded"),
        "{}",
        run.stdout
    );
}

/// The exact table name wins over one that differs only in case (PostgreSQL can hold both);
/// a `--table` that is no table name is exit 2 (a bad flag), not a refusal; a refused `up`
/// leaves no history table behind.
#[test]
fn baseline_from_prefers_the_exact_name_and_bad_table_flags_exit_2() {
    let Some(db) = adopted(Tool::Dbmate, Kind::Postgres, false) else {
        return;
    };
    let refused = db.migrate("up", &[]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(!db.tables().contains(&"migrate_history".to_string()));
    db.exec("CREATE TABLE \"Schema_Migrations\" (version varchar(128) PRIMARY KEY)");
    db.exec("INSERT INTO \"Schema_Migrations\" VALUES ('20240101000001'), ('20240101000002'), ('20240101000003')");
    let bad = db.migrate(
        "baseline",
        &["--from", "dbmate", "--table", "x;drop table a"],
    );
    assert_eq!(bad.code, 2, "{}{}", bad.stdout, bad.stderr);
    let run = db.migrate("baseline", &["--from", "dbmate"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("2 migrations recorded"),
        "the lowercase table: {}",
        run.stdout
    );
}
