//! Shared by the integration tests: the fixture cases and their `-- expect:` markers.

#![allow(dead_code)]

pub mod cmd;
pub mod db;
pub mod schema;

use std::path::{Path, PathBuf};

/// An expectation parsed from a `-- expect:` or `-- accept:` marker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Marker {
    pub file: String,
    pub rule: String,
    /// Inclusive line range the diagnostic must start in; `None` for file-level markers.
    pub lines: Option<(u32, u32)>,
    pub fires: bool,
}

pub fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations-fixtures")
}

/// Every case directory, sorted.
pub fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_root())
        .expect("migrations-fixtures exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

pub fn markers(case_dir: &Path) -> Vec<Marker> {
    let mut out = Vec::new();
    let dir = case_dir.join("migrations");
    // One level of folders too: diesel's and Prisma's migrations are folders.
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            files.push(path);
        }
    }
    // Files deleted since the base of a `base = true` case carry their markers in `base/`.
    if let Ok(base) = std::fs::read_dir(case_dir.join("base")) {
        for entry in base {
            let path = entry.unwrap().path();
            if !dir.join(path.file_name().unwrap()).exists() {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let raw = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&raw).replace("\r\n", "\n");
        let text = text.trim_start_matches('\u{feff}');
        let lines: Vec<&str> = text.lines().collect();
        let folder = path
            .strip_prefix(&dir)
            .ok()
            .and_then(|rel| rel.parent())
            .filter(|p| !p.as_os_str().is_empty());
        let file = match folder {
            Some(folder) => format!(
                "migrations/{}/{}",
                folder.to_string_lossy(),
                path.file_name().unwrap().to_string_lossy()
            ),
            None => format!("migrations/{}", path.file_name().unwrap().to_string_lossy()),
        };
        for (i, line) in lines.iter().enumerate() {
            let line = line.trim();
            let (kind, rest) = match line.strip_prefix("-- ").and_then(|l| l.split_once(": ")) {
                Some((kind @ ("expect" | "accept" | "expect-file" | "accept-file"), rest)) => {
                    (kind, rest)
                }
                _ => continue,
            };
            let block_start = i as u32 + 2;
            let mut block_end = block_start;
            while (block_end as usize) <= lines.len()
                && !lines[block_end as usize - 1].trim().is_empty()
            {
                block_end += 1;
            }
            for rule in rest.split(',').map(str::trim) {
                out.push(Marker {
                    file: file.clone(),
                    rule: rule.to_string(),
                    lines: (!kind.ends_with("-file")).then_some((block_start, block_end - 1)),
                    fires: kind.starts_with("expect"),
                });
            }
        }
    }
    out
}

/// The markers of every case, for the conventions test.
pub fn all_markers() -> Vec<(PathBuf, String, bool)> {
    cases()
        .into_iter()
        .flat_map(|dir| {
            markers(&dir)
                .into_iter()
                .map(move |m| (dir.clone(), m.rule, m.fires))
        })
        .collect()
}

/// Starts lowercase (an all-caps SQL keyword like `REINDEX` is fine) and has no trailing period.
pub fn lowercase_sentence(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    let capitalised_word =
        first.starts_with(|c: char| c.is_uppercase()) && first.chars().any(|c| c.is_lowercase());
    !text.is_empty() && !capitalised_word && !text.ends_with('.')
}
