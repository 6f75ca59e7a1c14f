//! Validates JSON output against the schemas in docs/schemas/: the subset of JSON Schema they
//! use (`type`, `enum`, `required`, `properties`, `additionalProperties: false`, `items`,
//! `oneOf`, `minimum`, `$ref` to another schema file). `pattern` is not checked.

use std::path::Path;

use serde_json::Value;

/// A schema of docs/schemas/ by file name.
pub fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schemas")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Panics, naming the path and the rule broken, unless `value` follows the schema `name`.
pub fn assert_valid(value: &Value, name: &str) {
    if let Err(problem) = validate(value, &load(name), "$") {
        panic!("{name}: {problem}\n{value:#}");
    }
}

/// Parses one JSON object from a command's stdout and validates it.
pub fn parse_valid(stdout: &str, name: &str) -> Value {
    let value: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{name}: not one JSON value ({e}): {stdout}"));
    assert_valid(&value, name);
    value
}

fn type_matches(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        other => panic!("schema type {other} is not supported here"),
    }
}

/// Checks `value` against `schema`; the first problem found, with its JSON path (`at`).
pub fn validate(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let target = load(file);
        let part = target
            .pointer(pointer)
            .unwrap_or_else(|| panic!("$ref {reference} points nowhere"));
        return validate(value, part, at);
    }
    match schema.get("type") {
        Some(Value::String(ty)) if !type_matches(value, ty) => {
            return Err(format!("{at}: expected {ty}, found {value}"));
        }
        Some(Value::Array(types))
            if !types
                .iter()
                .any(|t| type_matches(value, t.as_str().unwrap())) =>
        {
            return Err(format!("{at}: expected one of {types:?}, found {value}"));
        }
        _ => {}
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64)
        && value.as_f64().is_some_and(|v| v < minimum)
    {
        return Err(format!("{at}: {value} is below {minimum}"));
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|o| validate(value, o, at).is_ok())
            .count();
        if matching != 1 {
            return Err(format!("{at}: matches {matching} of the oneOf shapes"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = required.as_str().unwrap();
            if !object.contains_key(key) {
                return Err(format!("{at}: missing key {key}"));
            }
        }
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => validate(item, sub, &format!("{at}.{key}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: undocumented key {key}"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            validate(item, items, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}
