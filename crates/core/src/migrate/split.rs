//! Splits a SQL file into statements: Spin's `execute` prepares its statement, and PostgreSQL
//! prepares only one statement at a time.

/// Splits `sql` on top-level `;`, respecting `'...'` and `"..."` (with doubled-quote escapes),
/// `$tag$...$tag$` bodies, `-- ...` comments and nested `/* ... */` comments. Empty statements
/// (only white space and comments) are dropped. `E'...'` backslash escapes are not supported.
#[must_use]
pub fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut has_code = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                continue;
            }
            quote @ (b'\'' | b'"') => {
                has_code = true;
                i = skip_quoted(bytes, i, quote);
                continue;
            }
            b'$' => {
                if let Some(tag_len) = dollar_tag(bytes, i) {
                    has_code = true;
                    let tag = &sql[i..i + tag_len];
                    i = sql[i + tag_len..].find(tag).map_or(bytes.len(), |n| i + tag_len + n + tag_len);
                    continue;
                }
                has_code = true;
            }
            b';' => {
                if has_code {
                    statements.push(sql[start..i].trim());
                }
                start = i + 1;
                has_code = false;
            }
            c if !c.is_ascii_whitespace() => has_code = true,
            _ => {}
        }
        i += 1;
    }
    if has_code {
        statements.push(sql[start..].trim());
    }
    statements
}

fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    i += 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    i
}

/// The length of a `$tag$` opener at `i` (`$$` or `$name$`), if there is one. A `$1`
/// parameter is not a tag: tags do not start with a digit.
fn dollar_tag(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if bytes.get(j).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    while let Some(&c) = bytes.get(j) {
        if c == b'$' {
            return Some(j - i + 1);
        }
        if !(c.is_ascii_alphanumeric() || c == b'_') {
            return None;
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_top_level_semicolons_only() {
        let cases: &[(&str, &[&str])] = &[
            ("select 1; select 2;", &["select 1", "select 2"]),
            ("select 1", &["select 1"]),
            ("select ';'; select 2", &["select ';'", "select 2"]),
            ("select 'it''s; fine'; x", &["select 'it''s; fine'", "x"]),
            ("select \"a;b\" from t; y", &["select \"a;b\" from t", "y"]),
            ("-- a; comment\nselect 1; -- trailing; note\n", &["-- a; comment\nselect 1"]),
            ("/* a; /* nested; */ still; */ select 1;", &["/* a; /* nested; */ still; */ select 1"]),
            (
                "create function f() returns int language sql as $$ select 1; $$; select 2",
                &["create function f() returns int language sql as $$ select 1; $$", "select 2"],
            ),
            ("do $body$ begin perform 1; end $body$; z", &["do $body$ begin perform 1; end $body$", "z"]),
            ("insert into t values ($1, $2); w", &["insert into t values ($1, $2)", "w"]),
            ("select '$argon2id$v=19$m;'; v", &["select '$argon2id$v=19$m;'", "v"]),
            ("  ;\n -- only a comment\n ; ", &[]),
        ];
        for (sql, expected) in cases {
            assert_eq!(split_statements(sql), *expected, "{sql}");
        }
    }

    #[test]
    fn the_shipped_files_split_into_plausible_statements() {
        for m in super::super::MIGRATIONS {
            let statements = split_statements(m.sql);
            assert!(!statements.is_empty(), "{}", m.name);
            assert!(statements.iter().all(|s| !s.ends_with(';')), "{}", m.name);
        }
        assert_eq!(split_statements(super::super::DEV_SEED).len(), 5);
    }
}
