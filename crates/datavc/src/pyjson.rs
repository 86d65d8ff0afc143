//! JSON exactly as Python's `json.dumps(value, sort_keys=True)` writes it, byte for byte:
//! DVC hashes such text (a folder's manifest, a stage's `md5`), so datavc must write the
//! same bytes to reach the same hashes.

use serde_json::Value;

/// `json.dumps(value, sort_keys=True)`.
pub fn dumps(value: &Value) -> String {
    let mut out = String::new();
    push_value(&mut out, value);
    out
}

fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => push_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            // Python compares str by code point, which UTF-8 byte order preserves.
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_string(out, key);
                out.push_str(": ");
                push_value(out, item);
            }
            out.push('}');
        }
    }
}

/// Appends `text` as a JSON string with `ensure_ascii=True`, Python's default.
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_is_escaped_like_python() {
        let mut out = String::new();
        push_string(&mut out, "é\u{1F600}\"\u{1}");
        assert_eq!(out, "\"\\u00e9\\ud83d\\ude00\\\"\\u0001\"");
    }

    #[test]
    fn keys_sorted_and_separators_as_python() {
        // python3 -c 'import json; print(json.dumps({"b": [1, True, None], "a": {"é": "x"}}, sort_keys=True))'
        let value = serde_json::json!({"b": [1, true, null], "a": {"é": "x"}});
        assert_eq!(
            dumps(&value),
            r#"{"a": {"\u00e9": "x"}, "b": [1, true, null]}"#
        );
    }
}
