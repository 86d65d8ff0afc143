//! DVC's templates in `dvc.yaml`: `${…}` in a stage's fields, resolved from `params.yaml`,
//! the `vars` of the file and of the stage, and the `item` (and `key`) of a `foreach` or
//! `matrix` stage, which DVC expands into one stage per item, named `NAME@KEY` in
//! `dvc.lock`. datavc resolves what it reads (`wdir` and output paths), as DVC does.

use std::path::Path;

use serde_norway::{Mapping, Value};

/// Reads a file that templates name: its text, `None` where there is no such file. The
/// workspace's files, or a commit's.
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> Result<Option<String>, String>;

/// Reads files from the workspace.
pub fn read_workspace(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The variables a stage's templates see.
#[derive(Debug, Clone, Default)]
pub struct Context(Mapping);

/// One stage of `dvc.yaml` as DVC runs it: a plain stage, or one item of a `foreach` or
/// `matrix` stage.
#[derive(Debug)]
pub struct Generated<'a> {
    /// Its name in `dvc.lock`.
    pub name: String,
    /// Its fields, unresolved.
    pub body: &'a Mapping,
    /// What its templates see.
    pub context: Context,
}

impl Context {
    /// `params.yaml` in `folder` where there is one, as DVC always loads it.
    pub fn with_default_params(folder: &Path, read: ReadFile<'_>) -> Result<Context, String> {
        let mut context = Context::default();
        let path = folder.join("params.yaml");
        if let Some(text) = read(&path)? {
            context.0 =
                parse_vars("params.yaml", &text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(context)
    }

    /// Adds `vars`: files (`FILE` or `FILE:KEY,…`, relative to `folder`) and mappings.
    pub fn load_vars(
        &mut self,
        folder: &Path,
        vars: Option<&Value>,
        read: ReadFile<'_>,
    ) -> Result<(), String> {
        let items = match vars {
            None => return Ok(()),
            Some(Value::Sequence(items)) => items,
            Some(_) => return Err("`vars` is not a list".into()),
        };
        for item in items {
            match item {
                Value::String(file) => self.load_file(folder, file, read)?,
                Value::Mapping(values) => merge(&mut self.0, values.clone()),
                _ => return Err("a `vars` entry is neither a file nor a mapping".into()),
            }
        }
        Ok(())
    }

    fn load_file(&mut self, folder: &Path, entry: &str, read: ReadFile<'_>) -> Result<(), String> {
        let (name, keys) = entry.split_once(':').unwrap_or((entry, ""));
        let path = crate::fsutil::join_slash(folder, name);
        let text = read(&path)?.ok_or_else(|| format!("{} does not exist", path.display()))?;
        let values = parse_vars(name, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        if keys.is_empty() {
            merge(&mut self.0, values);
            return Ok(());
        }
        let mut selected = Mapping::new();
        for key in keys.split(',').filter(|k| !k.is_empty()) {
            let value = values
                .get(key)
                .ok_or_else(|| format!("{} has no `{key}`", path.display()))?;
            selected.insert(key.into(), value.clone());
        }
        merge(&mut self.0, selected);
        Ok(())
    }

    fn with(&self, name: &str, value: Value) -> Context {
        let mut context = self.clone();
        context.0.insert(name.into(), value);
        context
    }

    /// `text` with its `${…}` resolved; a text that is one `${…}` keeps its value's type.
    pub fn resolve(&self, text: &str) -> Result<Value, String> {
        if let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}'))
            && !inner.contains("${")
        {
            return self.lookup(inner).cloned();
        }
        self.resolve_str(text).map(Value::String)
    }

    /// `text` with its `${…}` replaced by their values' text.
    pub fn resolve_str(&self, text: &str) -> Result<String, String> {
        let mut resolved = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            if rest[..start].ends_with('\\') {
                // `\${` stands for itself.
                resolved.push_str(&rest[..start - 1]);
                resolved.push_str("${");
                rest = &rest[start + 2..];
                continue;
            }
            let length = rest[start..]
                .find('}')
                .ok_or_else(|| format!("`{text}` has an unclosed `${{`"))?;
            resolved.push_str(&rest[..start]);
            resolved.push_str(&scalar_text(
                self.lookup(&rest[start + 2..start + length])?,
            )?);
            rest = &rest[start + length + 1..];
        }
        resolved.push_str(rest);
        Ok(resolved)
    }

    /// The value at `path` (`a.b[0].c`, or `a.b.0.c`).
    fn lookup(&self, path: &str) -> Result<&Value, String> {
        let path = path.trim();
        let missing = || format!("`${{{path}}}` is not defined");
        let mut parts = path.split(['.', '[']).map(|p| p.trim_end_matches(']'));
        let first = parts.next().ok_or_else(missing)?;
        let mut value = self.0.get(first).ok_or_else(missing)?;
        for part in parts {
            value = match value {
                Value::Sequence(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
                Value::Mapping(map) => map.get(part),
                _ => None,
            }
            .ok_or_else(missing)?;
        }
        Ok(value)
    }
}

/// A vars file's values: TOML by its name, else YAML (which JSON is too).
fn parse_vars(name: &str, text: &str) -> Result<Mapping, String> {
    if name.ends_with(".toml") {
        let values: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
        let values = serde_norway::to_value(values).map_err(|e| e.to_string())?;
        return serde_norway::from_value(values).map_err(|e| e.to_string());
    }
    parse_yaml(text)
}

/// A YAML mapping with its merge keys (`<<: *anchor`) applied, as DVC reads YAML.
pub fn parse_yaml(text: &str) -> Result<Mapping, String> {
    let mut value: Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    value.apply_merge().map_err(|e| e.to_string())?;
    serde_norway::from_value(value).map_err(|e| e.to_string())
}

/// Merges `from` into `into`, mappings key by key at every depth, as DVC merges vars.
fn merge(into: &mut Mapping, from: Mapping) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Mapping(inner)), Value::Mapping(more)) => merge(inner, more),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// A scalar's text as DVC writes it into a string (Python's `str`, `true`/`false`).
fn scalar_text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(int), _, _) => int.to_string(),
            (_, Some(int), _) => int.to_string(),
            (_, _, Some(float)) => python_float(float),
            _ => number.to_string(),
        }),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null => Ok("None".into()),
        _ => Err("a list or mapping cannot be part of a text".into()),
    }
}

/// A float as Python's `str` writes it: the shortest digits that read back the same, in
/// scientific form below 1e-4 and from 1e16 (`1e-05`, `0.0001`, `1.0`, `1e+16`, `inf`).
fn python_float(float: f64) -> String {
    if float.is_nan() {
        return "nan".into();
    }
    if float.is_infinite() {
        return if float > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `{:e}` gives the same shortest digits: `-2.5e-7`, `1e16`, `0e0`.
    let scientific = format!("{float:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..16).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(positive) => ("-", positive),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let before_point = exponent + 1;
    match usize::try_from(before_point) {
        Err(_) | Ok(0) => format!(
            "{sign}0.{}{digits}",
            "0".repeat(before_point.unsigned_abs() as usize)
        ),
        Ok(whole) if whole >= digits.len() => {
            format!("{sign}{digits}{}.0", "0".repeat(whole - digits.len()))
        }
        Ok(whole) => format!("{sign}{}.{}", &digits[..whole], &digits[whole..]),
    }
}

fn is_collection(value: &Value) -> bool {
    matches!(value, Value::Sequence(_) | Value::Mapping(_))
}

/// The stages DVC runs for the stage `name` of `dvc.yaml`: itself, or one per item of
/// its `foreach` or `matrix`.
pub fn expand<'a>(
    name: &str,
    stage: &'a Mapping,
    context: &Context,
) -> Result<Vec<Generated<'a>>, String> {
    let generated = |key: String, body: &'a Mapping, context: Context| Generated {
        name: format!("{name}@{key}"),
        body,
        context,
    };
    if let Some(data) = stage.get("foreach") {
        let body = stage
            .get("do")
            .and_then(Value::as_mapping)
            .ok_or("a `foreach` stage has no `do:` mapping")?;
        let from_variable = matches!(data, Value::String(_));
        return Ok(foreach_items(&resolved(data, context)?, from_variable)?
            .into_iter()
            .map(|(key, item, by_key)| {
                let mut inner = context.with("item", item);
                if by_key {
                    inner = inner.with("key", Value::String(key.clone()));
                }
                generated(key, body, inner)
            })
            .collect());
    }
    if let Some(matrix) = stage.get("matrix") {
        let Value::Mapping(matrix) = resolved(matrix, context)? else {
            return Err("`matrix` is not a mapping".into());
        };
        return Ok(matrix_items(&matrix, context)?
            .into_iter()
            .map(|(key, item)| {
                let inner = context
                    .with("item", item)
                    .with("key", Value::String(key.clone()));
                generated(key, stage, inner)
            })
            .collect());
    }
    Ok(vec![Generated {
        name: name.to_owned(),
        body: stage,
        context: context.clone(),
    }])
}

/// A field that may be a `${…}` naming its value.
fn resolved(value: &Value, context: &Context) -> Result<Value, String> {
    match value {
        Value::String(text) => context.resolve(text),
        other => Ok(other.clone()),
    }
}

/// A `foreach`'s items: key, item, and whether `${key}` is defined (mappings only). A list
/// of scalars is keyed by its values, one holding lists or mappings by index.
fn foreach_items(data: &Value, from_variable: bool) -> Result<Vec<(String, Value, bool)>, String> {
    match data {
        Value::Mapping(map) => map
            .iter()
            .map(|(key, item)| Ok((key_text(key, from_variable)?, item.clone(), true)))
            .collect(),
        Value::Sequence(items) if items.iter().any(is_collection) => Ok(items
            .iter()
            .enumerate()
            .map(|(index, item)| (index.to_string(), item.clone(), false))
            .collect()),
        Value::Sequence(items) => items
            .iter()
            .map(|item| Ok((key_text(item, from_variable)?, item.clone(), false)))
            .collect(),
        _ => Err("`foreach` is neither a list nor a mapping".into()),
    }
}

/// An item's text in a generated stage's name: a boolean that came from a variable is
/// written by Python's `str` (`True`), one written in `dvc.yaml` by DVC (`true`).
fn key_text(value: &Value, from_variable: bool) -> Result<String, String> {
    match value {
        Value::Bool(flag) if from_variable => Ok(if *flag { "True" } else { "False" }.into()),
        _ => scalar_text(value),
    }
}

/// A `matrix`'s combinations, in DVC's order: key (`a-b`, a list or mapping value named by
/// its axis and index) and item (a mapping from axis to value).
fn matrix_items(matrix: &Mapping, context: &Context) -> Result<Vec<(String, Value)>, String> {
    let mut combinations = vec![(Vec::new(), Mapping::new())];
    for (axis, values) in matrix {
        let axis_name = scalar_text(axis)?;
        let from_variable = matches!(values, Value::String(_));
        let Value::Sequence(values) = resolved(values, context)? else {
            return Err(format!("matrix axis `{axis_name}` is not a list"));
        };
        let mut next = Vec::new();
        for (fragments, item) in &combinations {
            for (index, value) in values.iter().enumerate() {
                let fragment = match is_collection(value) {
                    true => format!("{axis_name}{index}"),
                    false => key_text(value, from_variable)?,
                };
                let mut fragments = fragments.clone();
                fragments.push(fragment);
                let mut item = item.clone();
                item.insert(axis.clone(), value.clone());
                next.push((fragments, item));
            }
        }
        combinations = next;
    }
    Ok(combinations
        .into_iter()
        .map(|(fragments, item)| (fragments.join("-"), Value::Mapping(item)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(yaml: &str) -> Context {
        Context(serde_norway::from_str(yaml).unwrap())
    }

    #[test]
    fn resolves_paths_indexes_and_escapes() {
        let vars = context("a: {b: [x, {c: 3}]}\nflag: true\nname: feat\n");
        for (text, expected) in [
            ("${a.b[0]}.txt", "x.txt"),
            ("${ a.b.1.c }/${flag}", "3/true"),
            ("data/${name}-\\${name}", "data/feat-${name}"),
            ("plain", "plain"),
        ] {
            assert_eq!(vars.resolve_str(text).unwrap(), expected, "{text}");
        }
        assert_eq!(vars.resolve("${a.b}").unwrap(), vars.0["a"]["b"]);
        for bad in ["${nope}", "${a.b}.txt", "${a.b[7]}", "${name"] {
            assert!(vars.resolve_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_read_as_python_writes_them() {
        let vars = context(
            "a: 0.00001\nb: 2.5e-7\nc: 1.0e+16\nd: 0.1\ne: 3.0\nf: .inf\ng: 1000\nh: -0.5\ni: 123.456\nj: 1e15\n",
        );
        let text = vars.resolve_str("${a} ${b} ${c} ${d} ${e} ${f} ${g} ${h} ${i} ${j}");
        assert_eq!(
            text.unwrap(),
            "1e-05 2.5e-07 1e+16 0.1 3.0 inf 1000 -0.5 123.456 1000000000000000.0"
        );
    }

    #[test]
    fn vars_merge_mappings_and_merge_keys() {
        let mut vars = context("model: {lr: 0.1, name: m}\n");
        let more: Value = serde_norway::from_str("[{model: {extra: x}}]").unwrap();
        vars.load_vars(Path::new("."), Some(&more), &|_| Ok(None))
            .unwrap();
        assert_eq!(
            vars.resolve_str("${model.name}-${model.extra}").unwrap(),
            "m-x"
        );
        let anchored = parse_yaml("base: &b {dir: outs, ext: bin}\nexp: {<<: *b, name: e1}\n");
        let vars = Context(anchored.unwrap());
        assert_eq!(
            vars.resolve_str("${exp.dir}/${exp.name}.${exp.ext}")
                .unwrap(),
            "outs/e1.bin"
        );
    }

    #[test]
    fn expands_foreach_and_matrix_with_dvc_names() {
        let vars = context("sizes: [small, big]\n");
        let names = |stage: &str| -> Vec<(String, String)> {
            let stage: Mapping = serde_norway::from_str(stage).unwrap();
            let probe = "${item}|${key}";
            expand("s", &stage, &vars)
                .unwrap()
                .iter()
                .map(|g| {
                    let seen = g.context.resolve_str(probe).unwrap_or_else(|_| {
                        g.context
                            .resolve_str("${item}")
                            .unwrap_or_else(|_| "-".into())
                    });
                    (g.name.clone(), seen)
                })
                .collect()
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            names("foreach: ${sizes}\ndo: {cmd: x}\n"),
            pairs(&[("s@small", "small"), ("s@big", "big")])
        );
        assert_eq!(
            names("foreach: {us: 1, eu: 2}\ndo: {cmd: x}\n"),
            pairs(&[("s@us", "1|us"), ("s@eu", "2|eu")])
        );
        assert_eq!(names("foreach: [{a: 1}, {a: 2}]\ndo: {cmd: x}\n").len(), 2);
        assert_eq!(names("foreach: [{a: 1}]\ndo: {cmd: x}\n")[0].0, "s@0");
        assert_eq!(names("foreach: [true]\ndo: {cmd: x}\n")[0].0, "s@true");
        let flags = Context(serde_norway::from_str("flags: [true]\n").unwrap());
        let stage: Mapping = serde_norway::from_str("foreach: ${flags}\ndo: {cmd: x}\n").unwrap();
        assert_eq!(expand("s", &stage, &flags).unwrap()[0].name, "s@True");
        let stage: Mapping =
            serde_norway::from_str("matrix:\n  f: ${flags}\n  g: [true]\ncmd: x\n").unwrap();
        assert_eq!(expand("s", &stage, &flags).unwrap()[0].name, "s@True-true");
        let matrix = names("matrix: {m: [a, b], p: [[1], 2]}\ncmd: x\n");
        let matrix: Vec<&str> = matrix.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(matrix, ["s@a-p0", "s@a-2", "s@b-p0", "s@b-2"]);
        assert_eq!(names("cmd: x\n")[0].0, "s");
    }

    #[test]
    fn loads_params_and_vars_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("params.yaml"), "lr: 0.1\n").unwrap();
        std::fs::write(dir.path().join("more.toml"), "[model]\nname = \"m\"\n").unwrap();
        std::fs::write(dir.path().join("sel.json"), "{\"x\": 1, \"y\": 2}").unwrap();
        let mut vars = Context::with_default_params(dir.path(), &read_workspace).unwrap();
        let list: Value = serde_norway::from_str("[more.toml, 'sel.json:y', {z: 3}]").unwrap();
        vars.load_vars(dir.path(), Some(&list), &read_workspace)
            .unwrap();
        let text = vars.resolve_str("${lr}-${model.name}-${y}-${z}").unwrap();
        assert_eq!(text, "0.1-m-2-3");
        assert!(vars.resolve_str("${x}").is_err());
        let missing: Value = serde_norway::from_str("[nope.yaml]").unwrap();
        let error = vars.load_vars(dir.path(), Some(&missing), &read_workspace);
        assert!(error.unwrap_err().contains("does not exist"));
    }
}
