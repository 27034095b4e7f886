//! Statement text: split a file into statements (quotes and comments
//! respected), put every keyspace it names into the learner's namespace,
//! and recognise the cqlsh shell commands datalab understands.

use super::session::parse_consistency;
use crate::Namespace;

/// One statement of a file, with the line it starts on (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    pub text: String,
    pub line: usize,
}

/// Split CQL text into statements at `;`, ignoring `;` inside strings,
/// quoted identifiers, `$$…$$` literals and comments. Comments are dropped.
/// Err: `(line, message)` for an unterminated string or comment.
pub fn split(text: &str) -> Result<Vec<Stmt>, (usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start_line: Option<usize> = None;
    let mut line = 1usize;
    let mut i = 0;
    let push = |cur: &mut String, start: &mut Option<usize>, out: &mut Vec<Stmt>| {
        let t = cur.trim();
        if !t.is_empty() {
            out.push(Stmt {
                text: t.to_string(),
                line: start.unwrap_or(1),
            });
        }
        cur.clear();
        *start = None;
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            cur.push(c);
            i += 1;
            continue;
        }
        if (c == '-' && next == Some('-')) || (c == '/' && next == Some('/')) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let open = line;
            i += 2;
            loop {
                if i >= chars.len() {
                    return Err((open, "this /* comment is never closed".into()));
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    i += 2;
                    break;
                }
                i += 1;
            }
            cur.push(' ');
            continue;
        }
        if c.is_whitespace() {
            cur.push(c);
            i += 1;
            continue;
        }
        if start_line.is_none() && c != ';' {
            start_line = Some(line);
        }
        if c == ';' {
            push(&mut cur, &mut start_line, &mut out);
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' || (c == '$' && next == Some('$')) {
            let open = line;
            let dollar = c == '$';
            cur.push(c);
            if dollar {
                cur.push('$');
                i += 2;
            } else {
                i += 1;
            }
            loop {
                if i >= chars.len() {
                    let what = if dollar {
                        "$$ string"
                    } else if c == '\'' {
                        "string"
                    } else {
                        "quoted name"
                    };
                    return Err((open, format!("this {what} is never closed")));
                }
                let d = chars[i];
                if d == '\n' {
                    line += 1;
                }
                cur.push(d);
                i += 1;
                if dollar {
                    if d == '$' && chars.get(i) == Some(&'$') {
                        cur.push('$');
                        i += 1;
                        break;
                    }
                } else if d == c {
                    // '' and "" are escapes
                    if chars.get(i) == Some(&c) {
                        cur.push(c);
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            continue;
        }
        cur.push(c);
        i += 1;
    }
    push(&mut cur, &mut start_line, &mut out);
    Ok(out)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Space(String),
    Sym(char),
}

fn tokenize(s: &str) -> Vec<Tok> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            let st = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            out.push(Tok::Space(chars[st..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let st = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(chars[st..i].iter().collect()));
        } else if c.is_ascii_digit() {
            // numbers (with decimals and exponents) are one symbol run
            let st = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '-')
            {
                // a '-' only inside a date/uuid-like literal; stop at "- "
                if chars[i] == '-' && !chars.get(i + 1).is_some_and(|d| d.is_ascii_alphanumeric()) {
                    break;
                }
                i += 1;
            }
            out.push(Tok::Str(chars[st..i].iter().collect()));
        } else if c == '\'' || c == '"' || (c == '$' && chars.get(i + 1) == Some(&'$')) {
            let st = i;
            let dollar = c == '$';
            i += if dollar { 2 } else { 1 };
            while i < chars.len() {
                if dollar {
                    if chars[i] == '$' && chars.get(i + 1) == Some(&'$') {
                        i += 2;
                        break;
                    }
                    i += 1;
                } else if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            let t: String = chars[st..i.min(chars.len())].iter().collect();
            out.push(if c == '"' {
                Tok::Quoted(t)
            } else {
                Tok::Str(t)
            });
        } else {
            out.push(Tok::Sym(c));
            i += 1;
        }
    }
    out
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Word(s) | Tok::Quoted(s) | Tok::Str(s) | Tok::Space(s) => s.clone(),
        Tok::Sym(c) => c.to_string(),
    }
}

fn is_word(t: &Tok, w: &str) -> bool {
    matches!(t, Tok::Word(s) if s.eq_ignore_ascii_case(w))
}

/// An identifier token's name (unquoted names fold to lowercase).
fn ident_name(t: &Tok) -> Option<String> {
    match t {
        Tok::Word(s) => Some(s.to_lowercase()),
        Tok::Quoted(s) => Some(s.trim_matches('"').replace("\"\"", "\"")),
        _ => None,
    }
}

fn is_system_keyspace(name: &str) -> bool {
    name == "system" || name.starts_with("system_")
}

/// Put every keyspace a statement names into the namespace.
pub(crate) fn rewrite_keyspaces(stmt: &str, ns: &Namespace) -> String {
    if ns.is_empty() {
        return stmt.to_string();
    }
    let toks = tokenize(stmt);
    let sig: Vec<usize> = (0..toks.len())
        .filter(|&i| !matches!(toks[i], Tok::Space(_)))
        .collect();
    let mut targets = std::collections::BTreeSet::new();
    for (k, &i) in sig.iter().enumerate() {
        let t = &toks[i];
        if ident_name(t).is_none() {
            continue;
        }
        let prev = k.checked_sub(1).map(|p| &toks[sig[p]]);
        let next = sig.get(k + 1).map(|&n| &toks[n]);
        // ks.table (not the middle of a.b.c, not after a '.')
        if next == Some(&Tok::Sym('.'))
            && sig
                .get(k + 2)
                .is_some_and(|&n| ident_name(&toks[n]).is_some())
            && prev != Some(&Tok::Sym('.'))
        {
            targets.insert(i);
            continue;
        }
        // USE ks / KEYSPACE [IF [NOT] EXISTS] ks
        let mut p = k;
        while p > 0 {
            let pt = &toks[sig[p - 1]];
            if is_word(pt, "if") || is_word(pt, "not") || is_word(pt, "exists") {
                p -= 1;
            } else {
                break;
            }
        }
        if p > 0 {
            let pt = &toks[sig[p - 1]];
            let skipped = p != k;
            let use_kw = is_word(pt, "use") && !skipped;
            let ks_kw = is_word(pt, "keyspace")
                && !(is_word(t, "if") || is_word(t, "not") || is_word(t, "exists"));
            if use_kw || ks_kw {
                targets.insert(i);
            }
        }
    }
    let mut out = String::with_capacity(stmt.len() + 16);
    for (i, t) in toks.iter().enumerate() {
        if targets.contains(&i) {
            let name = ident_name(t).unwrap_or_default();
            let already = ns.strip(&name).is_some();
            if is_system_keyspace(&name) || already {
                out.push_str(&tok_text(t));
            } else {
                out.push_str(&ns.keyspace(&name));
            }
        } else {
            out.push_str(&tok_text(t));
        }
    }
    out
}

/// A shell command of cqlsh that datalab understands, or a CQL statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Cql(String),
    /// `CONSISTENCY` alone shows the level; with a name, sets it.
    Consistency(Option<String>),
    Copy {
        keyspace: Option<String>,
        table: String,
        columns: Vec<String>,
        file: String,
        header: bool,
    },
    Use(String),
}

/// Does this statement change the schema (`CREATE`, `ALTER`, `DROP`)?
/// Those wait for the server's schema lock, which many learners' changes
/// at once on a shared node queue behind.
pub(crate) fn is_schema_change(stmt: &str) -> bool {
    let toks = tokenize(stmt);
    let first = toks.iter().find(|t| !matches!(t, Tok::Space(_)));
    first.is_some_and(|t| ["create", "alter", "drop"].iter().any(|w| is_word(t, w)))
}

/// Classify a (namespaced) statement.
pub fn parse_command(stmt: &str) -> Result<Command, String> {
    let toks: Vec<Tok> = tokenize(stmt)
        .into_iter()
        .filter(|t| !matches!(t, Tok::Space(_)))
        .collect();
    let Some(first) = toks.first() else {
        return Ok(Command::Cql(stmt.into()));
    };
    if is_word(first, "consistency") {
        return match toks.get(1).and_then(ident_name) {
            None => Ok(Command::Consistency(None)),
            Some(l) if parse_consistency(&l).is_some() && toks.len() == 2 => {
                Ok(Command::Consistency(Some(l.to_uppercase())))
            }
            Some(l) => Err(format!(
                "unknown consistency level `{l}` (ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, LOCAL_ONE, ANY)"
            )),
        };
    }
    if is_word(first, "use") {
        return match toks.get(1).and_then(ident_name) {
            Some(k) if toks.len() == 2 => Ok(Command::Use(k)),
            _ => Err("USE takes one keyspace name".into()),
        };
    }
    if is_word(first, "copy") {
        return parse_copy(&toks);
    }
    Ok(Command::Cql(stmt.into()))
}

/// `COPY ks.table (cols) FROM 'file.csv' [WITH HEADER = TRUE]`, as tokens.
fn parse_copy(toks: &[Tok]) -> Result<Command, String> {
    let usage =
        "COPY is `COPY keyspace.table (col1, col2, …) FROM 'file.csv' [WITH HEADER = TRUE]`";
    let mut i = 1;
    let a = toks.get(i).and_then(ident_name).ok_or(usage)?;
    i += 1;
    let (keyspace, table) = if toks.get(i) == Some(&Tok::Sym('.')) {
        let t = toks.get(i + 1).and_then(ident_name).ok_or(usage)?;
        i += 2;
        (Some(a), t)
    } else {
        (None, a)
    };
    let mut columns = Vec::new();
    if toks.get(i) == Some(&Tok::Sym('(')) {
        i += 1;
        while let Some(t) = toks.get(i) {
            i += 1;
            match t {
                Tok::Sym(')') => break,
                Tok::Sym(',') => {}
                t => columns.push(ident_name(t).ok_or(usage)?),
            }
        }
    }
    if !toks.get(i).is_some_and(|t| is_word(t, "from")) {
        return Err(format!(
            "{usage} (datalab's COPY only reads files: COPY … TO is not supported)"
        ));
    }
    let file = match toks.get(i + 1) {
        Some(Tok::Str(s)) if s.starts_with('\'') => s.trim_matches('\'').replace("''", "'"),
        _ => return Err(usage.into()),
    };
    i += 2;
    let mut header = false;
    if toks.get(i).is_some_and(|t| is_word(t, "with")) {
        let rest: Vec<String> = toks[i + 1..]
            .iter()
            .map(|t| tok_text(t).to_ascii_lowercase())
            .collect();
        match rest.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["header", "=", "true"] => header = true,
            ["header", "=", "false"] => header = false,
            _ => return Err(format!("{usage}: only the HEADER option is supported")),
        }
    } else if toks.len() > i {
        return Err(usage.into());
    }
    Ok(Command::Copy {
        keyspace,
        table,
        columns,
        file,
        header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_changes_are_told_from_other_statements() {
        assert!(is_schema_change(
            "CREATE TABLE IF NOT EXISTS ada_iot.t (id int PRIMARY KEY)"
        ));
        assert!(is_schema_change("  drop keyspace ada_iot"));
        // A file's comments are gone by the time a statement runs.
        let stmts = split("-- why\nALTER TABLE t ADD x int;").unwrap();
        assert!(is_schema_change(&stmts[0].text));
        assert!(!is_schema_change("INSERT INTO t (id) VALUES (1)"));
        assert!(!is_schema_change("SELECT * FROM created"));
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let t = "-- a comment; not a statement\nCREATE KEYSPACE iot WITH x = {'a': 'b;c'};\n\n/* block;\n */ SELECT 'it''s;' FROM t; -- tail\nINSERT INTO t (a) VALUES ($$x;y$$)";
        let s = split(t).unwrap();
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0].line, 2);
        assert!(s[0].text.contains("'b;c'"));
        assert_eq!(s[1].line, 5);
        assert_eq!(s[1].text, "SELECT 'it''s;' FROM t");
        assert_eq!(s[2].line, 6);
        assert_eq!(split("SELECT 'oops\n;").unwrap_err().0, 1);
        assert_eq!(split("a;\n/* never").unwrap_err().0, 2);
    }

    #[test]
    fn keyspaces_go_into_the_namespace() {
        let ns = Namespace::for_learner("ada");
        let r = |s: &str| rewrite_keyspaces(s, &ns);
        assert_eq!(
            r("CREATE KEYSPACE IF NOT EXISTS iot WITH replication = {'class': 'SimpleStrategy'}"),
            "CREATE KEYSPACE IF NOT EXISTS ada_iot WITH replication = {'class': 'SimpleStrategy'}"
        );
        assert_eq!(r("use IOT"), "use ada_iot");
        assert_eq!(
            r("SELECT ts FROM iot.readings WHERE s = 'iot.x' AND v > 1.5"),
            "SELECT ts FROM ada_iot.readings WHERE s = 'iot.x' AND v > 1.5"
        );
        assert_eq!(
            r("SELECT * FROM system_schema.tables WHERE keyspace_name = 'iot'"),
            "SELECT * FROM system_schema.tables WHERE keyspace_name = 'iot'"
        );
        assert_eq!(r("DROP KEYSPACE iot"), "DROP KEYSPACE ada_iot");
        assert_eq!(r("SELECT * FROM ada_iot.t"), "SELECT * FROM ada_iot.t");
        assert_eq!(
            r("INSERT INTO iot.t (d) VALUES ('2024-03-01')"),
            "INSERT INTO ada_iot.t (d) VALUES ('2024-03-01')"
        );
        assert_eq!(rewrite_keyspaces("USE iot", &Namespace::none()), "USE iot");
    }

    #[test]
    fn shell_commands_parse() {
        assert_eq!(
            parse_command("CONSISTENCY quorum").unwrap(),
            Command::Consistency(Some("QUORUM".into()))
        );
        assert!(parse_command("CONSISTENCY MOST").is_err());
        assert_eq!(
            parse_command("COPY ks.t (a, b) FROM 'data/x.csv' WITH HEADER = TRUE").unwrap(),
            Command::Copy {
                keyspace: Some("ks".into()),
                table: "t".into(),
                columns: vec!["a".into(), "b".into()],
                file: "data/x.csv".into(),
                header: true
            }
        );
    }
}
