//! Showing text that came from learners (names, check messages, answers)
//! harmlessly: control characters and therefore every terminal escape
//! sequence are escaped (`ESC[31m` shows as `\x1b[31m`), and so are the
//! invisible characters that can reorder or hide text (bidi overrides,
//! zero-width characters, line separators). Nothing is ever interpreted.

use std::fmt::Write;

/// Escape a learner-supplied name (or any learner text) for display.
pub fn sanitize_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_invisible_hazard(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters with no glyph that change how surrounding text reads.
fn is_invisible_hazard(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}'   // zero-width space/joiners, LRM, RLM
        | '\u{2028}'..='\u{202e}' // line/paragraph separators, bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{feff}'              // zero-width no-break space
        | '\u{fff9}'..='\u{fffb}' // interlinear annotation
    )
}

/// JSON for terminals: serde_json escapes C0 controls but writes DEL and C1
/// controls (U+007F..U+009F, e.g. the one-byte CSI U+009B) as is; escape
/// those too. They can only occur inside JSON strings, so this stays valid.
pub fn json_terminal_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if ('\u{7f}'..='\u{9f}').contains(&c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_shown_not_run() {
        assert_eq!(
            sanitize_name("\u{1b}[2J\u{1b}]0;pwn\u{7}"),
            "\\x1b[2J\\x1b]0;pwn\\x07"
        );
        assert_eq!(sanitize_name("a\u{9b}31m"), "a\\x9b31m");
        assert_eq!(sanitize_name("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(sanitize_name("Zoë 李"), "Zoë 李");
        assert_eq!(sanitize_name("two\nlines"), "two\\nlines");
    }

    #[test]
    fn json_keeps_c1_escaped() {
        let j = serde_json::to_string("x\u{9b}\u{1b}").unwrap();
        let safe = json_terminal_safe(&j);
        assert_eq!(safe, "\"x\\u009b\\u001b\"");
        assert_eq!(
            serde_json::from_str::<String>(&safe).unwrap(),
            "x\u{9b}\u{1b}"
        );
    }
}
