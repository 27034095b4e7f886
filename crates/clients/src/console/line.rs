//! A console line typed into a panel, read as the words a shell would hand
//! the CLI: whitespace separates words, `'…'` and `"…"` quote, `\` escapes,
//! and (for MongoDB) a JSON object or array is one word however many spaces
//! it holds. The words then go through the CLI's own clap grammar, so a
//! panel accepts exactly what the CLI does.

use super::{Bad, Failure};
use clap::error::{ContextKind, ContextValue, ErrorKind};

/// One word of a line and the column (1-based, in characters) it starts at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub col: usize,
    pub text: String,
}

/// A bad line: `1:col: message` (a panel's line is line 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "1:{}: {}", self.col, self.message)
    }
}

/// Split a line into words; with `json`, `{…}` and `[…]` are single words
/// (their syntax checked here, so an error points into the line).
pub fn words(line: &str, json: bool) -> Result<Vec<Word>, LineError> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1.is_whitespace() {
            i += 1;
            continue;
        }
        let (word, next) = if json && matches!(chars[i].1, '{' | '[') {
            json_word(line, &chars, i)?
        } else {
            shell_word(&chars, i)?
        };
        out.push(Word {
            col: i + 1,
            text: word,
        });
        i = next;
    }
    Ok(out)
}

/// The JSON value starting at char `i`: its text and the char after it.
fn json_word(line: &str, chars: &[(usize, char)], i: usize) -> Result<(String, usize), LineError> {
    let start = chars[i].0;
    let rest = &line[start..];
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
    match stream.next() {
        Some(Ok(_)) => {
            let end = start + stream.byte_offset();
            let next = chars.iter().take_while(|(b, _)| *b < end).count();
            Ok((line[start..end].to_string(), next))
        }
        Some(Err(e)) => {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or("").to_string();
            Err(LineError {
                col: i + e.column().max(1),
                message,
            })
        }
        None => Err(LineError {
            col: i + 1,
            message: "expected a JSON value".into(),
        }),
    }
}

/// A shell word starting at char `i`: its text (quotes removed) and the
/// char after it.
fn shell_word(chars: &[(usize, char)], mut i: usize) -> Result<(String, usize), LineError> {
    let mut word = String::new();
    while i < chars.len() && !chars[i].1.is_whitespace() {
        match chars[i].1 {
            q @ ('\'' | '"') => {
                let open = i;
                i += 1;
                loop {
                    let Some(&(_, c)) = chars.get(i) else {
                        return Err(LineError {
                            col: open + 1,
                            message: format!("this {q} is never closed"),
                        });
                    };
                    i += 1;
                    match c {
                        c if c == q => break,
                        '\\' if q == '"' && matches!(chars.get(i), Some((_, '"' | '\\'))) => {
                            word.push(chars[i].1);
                            i += 1;
                        }
                        c => word.push(c),
                    }
                }
            }
            '\\' if i + 1 < chars.len() => {
                word.push(chars[i + 1].1);
                i += 2;
            }
            c => {
                word.push(c);
                i += 1;
            }
        }
    }
    Ok((word, i))
}

/// Parse a typed line with the CLI's clap grammar `A` (`name` is the CLI
/// subcommand, `hint` what to say for an empty line). A bad line is a
/// [`Failure::Usage`] with the column of the word at fault; `--help` is
/// [`Failure::Help`].
pub fn parse<A: clap::Parser>(
    name: &str,
    line: &str,
    json: bool,
    hint: &str,
) -> Result<A, Failure> {
    let words = words(line, json).map_err(|e| Failure::Usage(Bad::at_col(e.col, e.message)))?;
    if words.is_empty() {
        return Err(Failure::Usage(Bad::at_col(1, hint)));
    }
    let argv = std::iter::once(name.to_string()).chain(words.iter().map(|w| w.text.clone()));
    A::try_parse_from(argv).map_err(|e| clap_failure(&e, line, &words))
}

/// A clap error as a failure at the word it names.
fn clap_failure(e: &clap::Error, line: &str, words: &[Word]) -> Failure {
    let text = e.render().to_string();
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return Failure::Help(text.trim_end().lines().map(str::to_string).collect());
    }
    let message = text
        .lines()
        .next()
        .unwrap_or("bad command")
        .trim_start_matches("error: ")
        .to_string();
    let named = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(s)) => s.first().cloned(),
        _ => None,
    };
    let find = |w: &str| words.iter().find(|x| x.text == w).map(|x| x.col);
    let col = named(ContextKind::InvalidValue)
        .and_then(|v| find(&v))
        .or_else(|| named(ContextKind::InvalidSubcommand).and_then(|v| find(&v)))
        .or_else(|| {
            // `--limit <LIMIT>`, `--if-exists`: the flag as typed.
            let arg = named(ContextKind::InvalidArg)?;
            let flag = arg.split([' ', '=']).next()?.to_string();
            words
                .iter()
                .find(|x| x.text == flag || x.text.starts_with(&format!("{flag}=")))
                .map(|x| x.col)
        })
        .unwrap_or_else(|| match e.kind() {
            // Something is missing: where it would go.
            ErrorKind::MissingRequiredArgument | ErrorKind::MissingSubcommand => {
                line.trim_end().chars().count() + 1
            }
            _ => 1,
        });
    Failure::Usage(Bad::at_col(col, message))
}

/// A failure of a typed line as the panel shows it: a bad line as
/// `1:col: message`, anything else in its own words.
pub fn panel_text(f: &Failure, line: &str, json: bool) -> String {
    match f {
        Failure::Usage(b) => b
            .in_line(&words(line, json).unwrap_or_default())
            .to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str, json: bool) -> Vec<(usize, String)> {
        words(line, json)
            .unwrap()
            .into_iter()
            .map(|w| (w.col, w.text))
            .collect()
    }

    #[test]
    fn words_quote_like_a_shell_and_keep_json_whole() {
        assert_eq!(
            texts(r#"produce t --key c1 'two words' "say \"hi\"" a\ b"#, false),
            [
                (1, "produce".into()),
                (9, "t".into()),
                (11, "--key".into()),
                (17, "c1".into()),
                (20, "two words".into()),
                (32, r#"say "hi""#.into()),
                (45, "a b".into()),
            ]
        );
        assert_eq!(
            texts(r#"find tweets {"lang": "en"} --limit 5"#, true),
            [
                (1, "find".into()),
                (6, "tweets".into()),
                (13, r#"{"lang": "en"}"#.into()),
                (28, "--limit".into()),
                (36, "5".into()),
            ]
        );
        let e = words(r#"find t {"a": 1,}"#, true).unwrap_err();
        assert_eq!(e.to_string(), "1:16: trailing comma");
        let e = words("produce t 'open", false).unwrap_err();
        assert_eq!(e.col, 11);
    }
}
