//! Text normalisation applied to every string a user types.
//!
//! Chinese input methods produce full-width digits and letters (`１３８`, `ＡＢＣ`)
//! and the ideographic space U+3000; copy-paste from Word or WeChat adds
//! non-breaking and zero-width characters. NFKC folds the first kind to ASCII,
//! and the cleanup here removes the rest, so that equal-looking strings are
//! equal bytes for dedupe and search.

use crate::FieldError;
use unicode_normalization::UnicodeNormalization;

/// Invisible format characters that paste in from chat apps and office files.
/// ZWJ (U+200D) is kept on purpose: it glues emoji sequences together.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200E}' | '\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// NFKC, then trim, collapse whitespace runs into one space, and drop control
/// and invisible characters. Line breaks count as whitespace: this is for
/// one-line values (names, phones, codes); see [`nfkc_multiline`] for notes.
pub fn nfkc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfkc() {
        if c.is_whitespace() {
            pending_space = true;
        } else if c.is_control() || is_invisible(c) {
            // Dropped without leaving a gap: a stray NUL inside a word must
            // not split the word.
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    out
}

/// Like [`nfkc`] but keeps line breaks, for free text such as notes: each line
/// is normalised on its own and more than one empty line in a row is dropped.
pub fn nfkc_multiline(s: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    // `\r\n`, `\r` and U+2028 are all one line break to a user.
    let unified = s
        .replace("\r\n", "\n")
        .replace(['\r', '\u{2028}', '\u{2029}'], "\n");
    for line in unified.split('\n') {
        let line = nfkc(line);
        if line.is_empty() && lines.last().is_some_and(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

fn check_len(field: &str, s: String, max_chars: usize) -> Result<String, FieldError> {
    // Limits count characters, not bytes: a Chinese character is 3 bytes in
    // UTF-8 but one character to the person typing it.
    if s.chars().count() > max_chars {
        Err(FieldError::new(field, "text.too_long").with("max", max_chars))
    } else {
        Ok(s)
    }
}

/// A required one-line text: normalised, non-empty, at most `max_chars` characters.
pub fn required_text(field: &str, raw: &str, max_chars: usize) -> Result<String, FieldError> {
    let s = nfkc(raw);
    if s.is_empty() {
        return Err(FieldError::new(field, "text.required"));
    }
    check_len(field, s, max_chars)
}

/// An optional one-line text: blank (after normalising) means absent.
pub fn optional_text(
    field: &str,
    raw: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    let s = nfkc(raw);
    if s.is_empty() {
        return Ok(None);
    }
    check_len(field, s, max_chars).map(Some)
}

/// An optional multi-line text (notes): like [`optional_text`] but keeps line breaks.
pub fn optional_multiline_text(
    field: &str,
    raw: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    let s = nfkc_multiline(raw);
    if s.is_empty() {
        return Ok(None);
    }
    check_len(field, s, max_chars).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, want: &str) {
        assert_eq!(nfkc(raw), want, "nfkc({raw:?})");
    }

    #[test]
    fn folds_full_width_and_spaces() {
        check("１３８１２３４５６７８", "13812345678");
        check("ＡＢＣ有限公司", "ABC有限公司");
        check("（北京）科技有限公司", "(北京)科技有限公司");
        check("\u{3000}张三\u{3000}", "张三");
        check("  张   三 \t\n 丰 ", "张 三 丰");
        check("\u{00A0}a\u{00A0}\u{00A0}b", "a b");
        check("＋８６", "+86");
        check("", "");
        check(" \u{3000}\t ", "");
    }

    #[test]
    fn drops_controls_and_invisible_characters() {
        check("张\u{0000}三", "张三");
        check("\u{FEFF}13812345678\u{200B}", "13812345678");
        check("a\u{0007}b", "ab");
        // ZWJ keeps emoji sequences intact.
        check("👨\u{200D}💻", "👨\u{200D}💻");
    }

    #[test]
    fn multiline_keeps_line_breaks() {
        assert_eq!(
            nfkc_multiline("\n  第一行  \r\n\r\n\r\n第二行\u{3000}\n\n"),
            "第一行\n\n第二行"
        );
        assert_eq!(nfkc_multiline("a\rb"), "a\nb");
    }

    #[test]
    fn required_and_optional_text() {
        assert_eq!(required_text("name", " 张三 ", 10), Ok("张三".to_string()));
        assert_eq!(
            required_text("name", "\u{3000}", 10),
            Err(FieldError::new("name", "text.required"))
        );
        // Three Chinese characters are 9 bytes but only 3 characters.
        assert_eq!(required_text("name", "张三丰", 3), Ok("张三丰".to_string()));
        assert_eq!(
            required_text("name", "张三丰人", 3),
            Err(FieldError::new("name", "text.too_long").with("max", 3))
        );
        assert_eq!(optional_text("city", None, 5), Ok(None));
        assert_eq!(optional_text("city", Some("  "), 5), Ok(None));
        assert_eq!(
            optional_text("city", Some(" 北京 "), 5),
            Ok(Some("北京".to_string()))
        );
        assert_eq!(
            optional_text("city", Some("123456"), 5).unwrap_err().code,
            "text.too_long"
        );
        assert_eq!(
            optional_multiline_text("notes", Some("a\nb"), 3),
            Ok(Some("a\nb".to_string()))
        );
        assert_eq!(optional_multiline_text("notes", Some(" \n "), 3), Ok(None));
    }
}
