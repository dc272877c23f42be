//! `{{ name }}` templates in component variables and `allowed_outbound_hosts`, parsed and
//! checked as Spin's expression crate does (`crates/expressions/src/template.rs`,
//! `Resolver::validate_template`): an unmatched `{{` and a reference to an undeclared
//! application variable both stop the app at start.

use std::collections::HashMap;

use anyhow::{Result, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`.
    ///
    /// # Errors
    /// Spin's `invalid variable template: unmatched '{{' in template`.
    pub fn parse(text: &str) -> Result<Self> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(expression) = rest.strip_prefix("{{") {
                let Some((name, after)) = expression.split_once("}}") else {
                    bail!("invalid variable template: unmatched '{{{{' in template");
                };
                parts.push(Part::Variable(name.trim().to_owned()));
                rest = after;
            } else {
                let end = rest.find("{{").unwrap_or(rest.len());
                parts.push(Part::Literal(rest[..end].to_owned()));
                rest = &rest[end..];
            }
        }
        Ok(Self { parts })
    }

    /// Whether it refers to no variable.
    #[must_use]
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// The application variables it refers to.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Checks that every referenced variable is declared.
    ///
    /// # Errors
    /// Spin's `invalid variable template: unknown variable "<name>"`.
    pub fn check_declared(&self, declared: impl Fn(&str) -> bool) -> Result<()> {
        match self.variables().find(|name| !declared(name)) {
            Some(name) => bail!("invalid variable template: unknown variable {name:?}"),
            None => Ok(()),
        }
    }

    /// Renders it with `values` (`None` when a referenced variable has no value).
    #[must_use]
    pub fn render(&self, values: &HashMap<String, String>) -> Option<String> {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(text) => Some(text.as_str()),
                Part::Variable(name) => values.get(name).map(String::as_str),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_render_and_check_names() {
        let values = HashMap::from([("db_host".to_owned(), "127.0.0.1:5432".to_owned())]);
        let t = Template::parse("postgres://{{ db_host }}").expect("parses");
        assert!(!t.is_literal());
        assert_eq!(t.render(&values).as_deref(), Some("postgres://127.0.0.1:5432"));
        assert!(t.check_declared(|n| n == "db_host").is_ok());
        assert_eq!(
            t.check_declared(|_| false).map_err(|e| e.to_string()),
            Err("invalid variable template: unknown variable \"db_host\"".into())
        );
        assert!(Template::parse("plain").expect("parses").is_literal());
        assert_eq!(
            Template::parse("{{ ok }} {{ unmatched").map_err(|e| e.to_string()),
            Err("invalid variable template: unmatched '{{' in template".into())
        );
        assert_eq!(Template::parse("{{ a }}{{ b }}").expect("parses").variables().collect::<Vec<_>>(), ["a", "b"]);
    }
}
