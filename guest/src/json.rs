//! JSON for the scenario format: a reader that remembers where every value
//! starts, refuses duplicate keys and deep nesting, and a writer that
//! spells values the way every host will compare them, byte for byte.
//!
//! The reader is small and strict (RFC 8259): no comments, no trailing
//! commas, no leading zeros, strings of valid Unicode. Every value keeps the
//! byte offset it starts at, so an error can name a line and a character
//! column ([`position`]) as well as a path (`events[3].user.email`).

use std::borrow::Cow;

/// Nesting deeper than this is refused (a scenario nests four or five deep).
pub const MAX_DEPTH: usize = 64;

/// Objects up to this many members are searched for a duplicate key one
/// member at a time; larger ones through an ordered map.
const SCAN_KEYS: usize = 16;

/// A JSON value and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Value<'a> {
    pub at: usize,
    pub kind: Kind<'a>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind<'a> {
    Null,
    Bool(bool),
    /// The number as written: readers decide which numbers they take.
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    /// Members in the order written; keys are unique.
    Object(Vec<Member<'a>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member<'a> {
    pub key: Cow<'a, str>,
    /// Where the key starts.
    pub at: usize,
    pub value: Value<'a>,
}

/// A syntax error: what and the byte offset where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub at: usize,
    pub message: String,
}

impl Kind<'_> {
    /// What a reader calls this kind of value in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Number(_) => "a number",
            Kind::String(_) => "a string",
            Kind::Array(_) => "a list",
            Kind::Object(_) => "an object",
        }
    }
}

/// The line and character column (both from 1) of byte offset `at`.
pub fn position(text: &str, at: usize) -> (u32, u32) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[start..].chars().count() + 1;
    (line as u32, column as u32)
}

/// [`position`] of each of `offsets`, found in one pass over `text`
/// (sorted by offset), so that placing many values costs the text once,
/// not once per value.
pub fn positions(text: &str, offsets: &[usize]) -> Vec<(u32, u32)> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut out = vec![(1, 1); offsets.len()];
    let bytes = text.as_bytes();
    let (mut pos, mut line, mut column) = (0usize, 1u32, 1u32);
    for i in order {
        let at = offsets[i].min(text.len());
        if !text.is_char_boundary(at) {
            out[i] = position(text, at);
            continue;
        }
        for &b in &bytes[pos..at] {
            if b == b'\n' {
                line += 1;
                column = 1;
            } else if b & 0xC0 != 0x80 {
                column += 1;
            }
        }
        pos = at;
        out[i] = (line, column);
    }
    out
}

/// Reads one JSON value filling all of `text` (whitespace around it allowed).
pub fn parse(text: &str) -> Result<Value<'_>, SyntaxError> {
    let mut p = Parser { text, bytes: text.as_bytes(), pos: 0 };
    p.skip_space();
    let value = p.value(0)?;
    p.skip_space();
    if p.pos < p.bytes.len() {
        return Err(p.error("unexpected text after the JSON value"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError { at: self.pos, message: message.into() }
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nested more than {MAX_DEPTH} deep")));
        }
        let at = self.pos;
        let kind = match self.peek() {
            None => return Err(self.error("the text ends where a value was expected")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Kind::String(self.string()?),
            Some(b't') => self.word("true", Kind::Bool(true))?,
            Some(b'f') => self.word("false", Kind::Bool(false))?,
            Some(b'n') => self.word("null", Kind::Null)?,
            Some(b'-' | b'0'..=b'9') => Kind::Number(self.number()?),
            Some(_) => return Err(self.error(format!("expected a value, found {}", self.found()))),
        };
        Ok(Value { at, kind })
    }

    /// The character at the current position, for messages.
    fn found(&self) -> String {
        match self.text.get(self.pos..).and_then(|rest| rest.chars().next()) {
            Some(c) if c.is_control() => format!("{:?}", c),
            Some(c) => format!("`{c}`"),
            None => "the end of the text".into(),
        }
    }

    fn word(&mut self, word: &str, kind: Kind<'a>) -> Result<Kind<'a>, SyntaxError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.error(format!("expected a value, found {}", self.found())))
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), SyntaxError> {
        self.skip_space();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", self.found())))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Kind<'a>, SyntaxError> {
        self.pos += 1; // {
        let mut members: Vec<Member<'a>> = Vec::new();
        // Past a few members, keys are looked up in order (a tree, not a
        // hash: no input can make it slow): an object of n keys costs
        // n log n, not n².
        let mut seen: Option<std::collections::BTreeMap<Cow<'a, str>, usize>> = None;
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Kind::Object(members));
        }
        loop {
            self.skip_space();
            let at = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.error(format!("expected a key in quotes, found {}", self.found())));
            }
            let key = self.string()?;
            if members.len() == SCAN_KEYS {
                seen = Some(members.iter().enumerate().map(|(i, m)| (m.key.clone(), i)).collect());
            }
            let first = match &mut seen {
                None => members.iter().position(|m| m.key == key),
                Some(seen) => match seen.entry(key.clone()) {
                    std::collections::btree_map::Entry::Occupied(e) => Some(*e.get()),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(members.len());
                        None
                    }
                },
            };
            if let Some(first) = first.map(|i| &members[i]) {
                let (line, column) = position(self.text, first.at);
                return Err(SyntaxError {
                    at,
                    message: format!("duplicate key `{key}` (first at line {line}, column {column})"),
                });
            }
            self.expect(b':', "`:` after the key")?;
            self.skip_space();
            let value = self.value(depth + 1)?;
            members.push(Member { key, at, value });
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Kind::Object(members));
                }
                _ => return Err(self.error(format!("expected `,` or `}}` in an object, found {}", self.found()))),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Kind<'a>, SyntaxError> {
        self.pos += 1; // [
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Kind::Array(items));
        }
        loop {
            self.skip_space();
            items.push(self.value(depth + 1)?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Kind::Array(items));
                }
                _ => return Err(self.error(format!("expected `,` or `]` in a list, found {}", self.found()))),
            }
        }
    }

    fn number(&mut self) -> Result<&'a str, SyntaxError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while let Some(b'0'..=b'9') = p.peek() {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = digits(self);
        if n == 0 {
            return Err(self.error("a number needs digits"));
        }
        if n > 1 && self.bytes[int_start] == b'0' {
            return Err(SyntaxError { at: int_start, message: "a number can't start with 0".into() });
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.error("a number needs digits after `.`"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("a number needs digits in its exponent"));
            }
        }
        Ok(&self.text[start..self.pos])
    }

    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        let open = self.pos;
        self.pos += 1; // "
        let mut start = self.pos;
        // Borrowed from the text until the first escape.
        let mut owned: Option<String> = None;
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(SyntaxError { at: open, message: "a string is never closed: a `\"` is missing".into() });
            };
            match b {
                b'"' => {
                    let tail = &self.text[start..self.pos];
                    self.pos += 1;
                    return Ok(match owned {
                        Some(mut s) => {
                            s.push_str(tail);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(tail),
                    });
                }
                b'\\' => {
                    let prefix = &self.text[start..self.pos];
                    let c = self.escape()?;
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(prefix);
                    s.push(c);
                    start = self.pos;
                }
                0x00..=0x1f => return Err(self.error("a control character inside a string must be escaped")),
                _ => self.pos += 1,
            }
        }
    }

    /// The character of the escape at the current position (a backslash).
    fn escape(&mut self) -> Result<char, SyntaxError> {
        let at = self.pos;
        self.pos += 1; // backslash
        let lone = || SyntaxError { at, message: "a lone surrogate in `\\u` escapes".into() };
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let high = self.hex4(at)?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if !self.bytes[self.pos..].starts_with(b"\\u") {
                        return Err(lone());
                    }
                    self.pos += 2;
                    let low = self.hex4(at)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(lone());
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                return char::from_u32(code).ok_or_else(lone);
            }
            _ => {
                let found = self.text.get(self.pos..).and_then(|r| r.chars().next()).map_or(String::new(), String::from);
                return Err(SyntaxError { at, message: format!("`\\{found}` is not an escape") });
            }
        };
        self.pos += 1;
        Ok(c)
    }

    fn hex4(&mut self, at: usize) -> Result<u32, SyntaxError> {
        let digits = self.bytes.get(self.pos..self.pos + 4).filter(|d| d.iter().all(u8::is_ascii_hexdigit));
        let Some(digits) = digits else {
            return Err(SyntaxError { at, message: "`\\u` needs four hexadecimal digits".into() });
        };
        self.pos += 4;
        Ok(digits.iter().fold(0, |n, d| n * 16 + (*d as char).to_digit(16).unwrap_or(0)))
    }
}

// ------------------------------------------------------------------ writing

/// Appends `text` as a JSON string, escaped as serde_json escapes it: `"`,
/// `\`, and control characters (`\n`, `\t` ... or `\u00XX`); everything
/// else as it is.
pub fn write_str(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Writes a JSON object one member at a time: `{"a":1,"b":"x"}`, no spaces.
pub struct ObjectWriter<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> ObjectWriter<'o> {
    pub fn new(out: &'o mut String) -> ObjectWriter<'o> {
        out.push('{');
        ObjectWriter { out, first: true }
    }

    /// Starts member `key`; the caller writes its value into the returned string.
    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(':');
        self.out
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        let out = self.key(key);
        write_str(out, value);
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key).push_str(if value { "true" } else { "false" });
        self
    }

    pub fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key).push_str(json);
        self
    }

    pub fn end(self) {
        self.out.push('}');
    }
}

/// Writes `items` as a JSON list, each written by `item`.
pub fn write_list<T>(out: &mut String, items: impl IntoIterator<Item = T>, mut item: impl FnMut(&mut String, T)) {
    out.push('[');
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (u32, u32, String) {
        let e = parse(text).expect_err("refused");
        let (line, column) = position(text, e.at);
        (line, column, e.message)
    }

    #[test]
    fn values_and_where_they_start() {
        let text = "{\"a\": [1, -2.5e3, true, null],\n \"é\": \"x\\\"y\\u00e9\\ud83d\\ude00\"}";
        let v = parse(text).unwrap();
        let Kind::Object(members) = &v.kind else { panic!("an object") };
        assert_eq!(members[0].key, "a");
        let Kind::Array(items) = &members[0].value.kind else { panic!("a list") };
        assert_eq!(items[1].kind, Kind::Number("-2.5e3"));
        assert_eq!(position(text, items[1].at), (1, 11));
        assert_eq!(members[1].value.kind, Kind::String("x\"yé😀".into()));
        assert_eq!(position(text, members[1].at), (2, 2));
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(err("{\"a\": 1,}").2, "expected a key in quotes, found `}`");
        assert_eq!(err("{\n \"a\": 1,\n \"a\": 2}"), (3, 2, "duplicate key `a` (first at line 2, column 2)".into()));
        assert_eq!(err("[1 2]").2, "expected `,` or `]` in a list, found `2`");
        assert_eq!(err("012").2, "a number can't start with 0");
        assert_eq!(err("\"ab").2, "a string is never closed: a `\"` is missing");
        assert_eq!(err("{} x").2, "unexpected text after the JSON value");
        assert_eq!(err("\"\\q\"").2, "`\\q` is not an escape");
        assert_eq!(err("\"\\ud800\"").2, "a lone surrogate in `\\u` escapes");
        assert!(err(&"[".repeat(100)).2.contains("nested more than"));
        assert_eq!(err("").2, "the text ends where a value was expected");
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut out = String::new();
        write_str(&mut out, "a\"b\\c\nd\u{1}é\u{7f}");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#.replace("é\"", "é\u{7f}\""));
    }

    #[test]
    fn never_panics_on_any_prefix() {
        let text = r#"{"a": [1, {"b": "c\u00e9\n"}, -0.5e-3, true, false, null], "d": "ż"}"#;
        for end in 0..=text.len() {
            if let Some(prefix) = text.get(..end) {
                let _ = parse(prefix);
            }
        }
    }
}
