//! How `check --prove` reports: each query the release breaks (with the database's message
//! or the changed columns), the queries that already failed before it, and the time split.

use std::io::{self, Write};

use serde_json::json;

use crate::prove::{Proof, Verdict};

/// Human form, after the analysis's own report.
pub fn human(out: &mut impl Write, proof: &Proof, color: bool) -> io::Result<()> {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let release = proof.release.join(", ");
    if let Some((file, line, message)) = &proof.release_failed {
        writeln!(
            out,
            "{}: the release fails on the shadow database at {file}:{line}: {message}\n",
            paint("1;31", "error[prove]")
        )?;
    }
    let mut failed_before = 0;
    for (q, verdict) in &proof.verdicts {
        let what = match verdict {
            Verdict::Fails { message } => format!("fails after the release: {message}"),
            Verdict::Changed { changes } => {
                format!("changes shape after the release: {}", changes.join("; "))
            }
            Verdict::Holds { added, parameters } => {
                let mut notes = Vec::new();
                if !added.is_empty() {
                    notes.push(format!(
                        "its result gains {} (apps that read columns by position see them)",
                        added.join(", ")
                    ));
                }
                for (i, a, b) in parameters {
                    notes.push(format!("parameter ${i} was {a}, is now {b}"));
                }
                if notes.is_empty() {
                    continue;
                }
                writeln!(
                    out,
                    "{}: query {}: {}\n  {} {}\n",
                    paint("1;33", "warning[prove]"),
                    q.origin,
                    notes.join("; "),
                    paint("1;36", "query:"),
                    q.one_line(160)
                )?;
                continue;
            }
            Verdict::FailedBefore { .. } => {
                failed_before += 1;
                continue;
            }
        };
        writeln!(
            out,
            "{}: query {} {what}\n  {} {}\n",
            paint("1;31", "error[prove]"),
            q.origin,
            paint("1;36", "query:"),
            q.one_line(160)
        )?;
    }
    if failed_before > 0 {
        writeln!(
            out,
            "{}: {failed_before} {} did not prepare before the release either (not its doing; `--format json` lists them):",
            paint("1;36", "note[prove]"),
            if failed_before == 1 {
                "query"
            } else {
                "queries"
            }
        )?;
        for (q, v) in proof.verdicts.iter().take(50) {
            if let Verdict::FailedBefore { message } = v {
                writeln!(out, "  {}: {message}", q.origin)?;
            }
        }
        writeln!(out)?;
    }
    let t = proof.timings;
    let broken = proof.broken();
    let queries_broken = broken - usize::from(proof.release_failed.is_some());
    let itself = if proof.release_failed.is_some() {
        "; the release itself fails there"
    } else {
        ""
    };
    let code = if broken > 0 { "1;31" } else { "1" };
    writeln!(
        out,
        "{}",
        paint(
            code,
            &format!(
                "prove: {queries_broken} of {} queries broken by {release}{itself} on {} (start {} ms, replay {} ms, prepare {} ms)",
                proof.verdicts.len(),
                proof.shadow,
                t.start.as_millis(),
                t.replay.as_millis(),
                t.prepare.as_millis()
            )
        )
    )
}

/// JSON form: the `proof` member of `check --format json`.
pub fn json(proof: &Proof) -> serde_json::Value {
    let queries: Vec<serde_json::Value> = proof
        .verdicts
        .iter()
        .map(|(q, v)| {
            let (verdict, detail) = match v {
                Verdict::Holds { added, parameters } => (
                    "holds",
                    json!({
                        "added_columns": added,
                        "parameters_changed": parameters
                            .iter()
                            .map(|(i, a, b)| json!({"position": i, "before": a, "after": b}))
                            .collect::<Vec<_>>(),
                    }),
                ),
                Verdict::Fails { message } => ("fails", json!({ "message": message })),
                Verdict::Changed { changes } => ("changed", json!({ "changes": changes })),
                Verdict::FailedBefore { message } => {
                    ("failed-before", json!({ "message": message }))
                }
            };
            json!({
                "source": q.origin.source,
                "line": Some(q.origin.line).filter(|&l| l > 0),
                "id": q.origin.id,
                "query": q.text,
                "verdict": verdict,
                "detail": detail,
            })
        })
        .collect();
    json!({
        "shadow": proof.shadow,
        "release": proof.release,
        "broken": proof.broken(),
        "release_failed": proof.release_failed.as_ref().map(|(file, line, message)| json!({
            "file": file, "line": line, "message": message
        })),
        "queries": queries,
        "timings_ms": {
            "start": proof.timings.start.as_millis() as u64,
            "replay": proof.timings.replay.as_millis() as u64,
            "prepare": proof.timings.prepare.as_millis() as u64,
        },
    })
}
