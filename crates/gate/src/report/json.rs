//! Helpers for the JSON readers: typed access with messages that name the key, and format
//! detection by the keys each tool writes.

use serde_json::Value;

use crate::report::Format;

/// `value[key]`, or a message naming the missing key.
pub(crate) fn field<'a>(value: &'a Value, key: &str) -> Result<&'a Value, String> {
    match value {
        Value::Object(map) => map.get(key).ok_or_else(|| format!("missing key `{key}`")),
        _ => Err(format!(
            "expected an object with key `{key}`, found {}",
            kind(value)
        )),
    }
}

/// The array in `value`.
pub(crate) fn array(value: &Value) -> Result<&Vec<Value>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("expected an array, found {}", kind(value)))
}

/// The string in `value`.
pub(crate) fn string(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("expected a string, found {}", kind(value)))
}

/// The non-negative integer in `value`.
pub(crate) fn unsigned(value: &Value) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("expected a non-negative integer, found {}", kind(value)))
}

/// The string at `value[key]` if present and a string.
pub(crate) fn optional_string<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// A word for the JSON type of `value`, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Recognises a JSON report by the keys its tool writes.
pub(crate) fn detect(value: &Value) -> Option<Format> {
    match value {
        Value::Object(map) => {
            let has = |key: &str| map.contains_key(key);
            if optional_string(value, "type") == Some("llvm.coverage.json.export") {
                Some(Format::LlvmCovJson)
            } else if has("runs")
                && (optional_string(value, "version") == Some("2.1.0")
                    || optional_string(value, "$schema")
                        .is_some_and(|schema| schema.contains("sarif")))
            {
                Some(Format::Sarif)
            } else if has("results") && (has("metrics") || has("generated_at")) {
                Some(Format::Bandit)
            } else if has("vulnerabilities") && has("lockfile") {
                Some(Format::CargoAudit)
            } else if has("report_meta") || (has("vulnerabilities") && has("scanned_packages")) {
                Some(Format::Safety)
            } else if map.get("dependencies").is_some_and(Value::is_array) {
                Some(Format::PipAudit)
            } else {
                None
            }
        }
        Value::Array(items) => match items.first()? {
            Value::Array(_) => Some(Format::Safety),
            Value::Object(first) if first.contains_key("vulns") => Some(Format::PipAudit),
            _ => None,
        },
        _ => None,
    }
}
