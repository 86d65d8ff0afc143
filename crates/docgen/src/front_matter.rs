//! The YAML front matter: the `---` block at the top of the file that names the document.

use serde_norway::Value;

use crate::{Error, Result};

/// What the front matter says about the document. Keys other than these are ignored, as
/// pandoc ignores the ones its template does not use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `title`: the Title paragraph and the document's core title property.
    pub title: Option<String>,
    /// `subtitle`: a Subtitle paragraph under the title.
    pub subtitle: Option<String>,
    /// `author`: one name or a list; the core creator property joins them with `; `.
    pub authors: Vec<String>,
    /// `date`: a Date paragraph, written as given.
    pub date: Option<String>,
    /// `abstract`: an Abstract paragraph under the title block, as plain text.
    pub summary: Option<String>,
}

impl Metadata {
    /// Reads the text comrak hands over as front matter, delimiters included.
    pub fn parse(block: &str) -> Result<Metadata> {
        let yaml: String = block
            .lines()
            .filter(|line| line.trim_end() != "---")
            .collect::<Vec<_>>()
            .join("\n");
        if yaml.trim().is_empty() {
            return Ok(Metadata::default());
        }
        let value: Value =
            serde_norway::from_str(&yaml).map_err(|source| Error::FrontMatterSyntax { source })?;
        let Value::Mapping(map) = value else {
            return Err(Error::FrontMatterShape {
                reason: "expected `key: value` lines, found a single value or a list".into(),
            });
        };
        let mut metadata = Metadata::default();
        for (key, value) in &map {
            let Some(key) = key.as_str() else { continue };
            match key {
                "title" => metadata.title = Some(scalar(key, value)?),
                "subtitle" => metadata.subtitle = Some(scalar(key, value)?),
                "date" => metadata.date = Some(scalar(key, value)?),
                "abstract" => metadata.summary = Some(scalar(key, value)?),
                "author" => {
                    metadata.authors = match value {
                        Value::Sequence(items) => items
                            .iter()
                            .map(|item| scalar(key, item))
                            .collect::<Result<_>>()?,
                        Value::Null => Vec::new(),
                        other => vec![scalar(key, other)?],
                    }
                }
                _ => {}
            }
        }
        Ok(metadata)
    }
}

fn scalar(key: &str, value: &Value) -> Result<String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(Error::FrontMatterShape {
            reason: format!("`{key}` must be a string"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_five_keys_and_ignores_the_rest() {
        let metadata = Metadata::parse(
            "---\ntitle: Weekly summary\nsubtitle: Week 48\nauthor: [Ada, Grace]\ndate: 2026-11-26\nabstract: What changed.\ntags: [x]\n---\n",
        )
        .unwrap();
        assert_eq!(metadata.title.as_deref(), Some("Weekly summary"));
        assert_eq!(metadata.subtitle.as_deref(), Some("Week 48"));
        assert_eq!(metadata.authors, ["Ada", "Grace"]);
        assert_eq!(metadata.date.as_deref(), Some("2026-11-26"));
        assert_eq!(metadata.summary.as_deref(), Some("What changed."));
    }

    #[test]
    fn a_single_author_is_a_list_of_one() {
        let metadata = Metadata::parse("---\nauthor: Ada\n---\n").unwrap();
        assert_eq!(metadata.authors, ["Ada"]);
    }

    #[test]
    fn invalid_yaml_is_a_syntax_error() {
        let error = Metadata::parse("---\ntitle: [unclosed\n---\n").unwrap_err();
        assert!(
            matches!(error, Error::FrontMatterSyntax { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn a_mapping_as_title_is_a_shape_error_naming_the_key() {
        let error = Metadata::parse("---\ntitle:\n  a: b\n---\n").unwrap_err();
        assert!(error.to_string().contains("`title`"), "{error}");
    }

    #[test]
    fn a_list_at_the_top_is_refused() {
        let error = Metadata::parse("---\n- a\n- b\n---\n").unwrap_err();
        assert!(matches!(error, Error::FrontMatterShape { .. }), "{error:?}");
    }
}
