//! Licence CSV files (rules C1–C4, seed 001): the licence import/export file
//! and the users listing, read with every problem located as
//! `FILE:LINE:COLUMN`, and written back.
//!
//! Both files start with `"Id","Full Name","Email","Standard","Inspections"`.
//! A licence cell is `Assigned` or empty in the import/export file; the users
//! listing adds `Disabled` (red) and `Unassigned` (grey, like empty), and may
//! carry the optional columns `Last Sync`, `Assigned At`, `Temporary Since`
//! (RFC 3339 instants) and `External` (`true`, `false` or empty). One reader
//! serves both, so a listing written by `turnstile what-if --out-users`
//! passes `turnstile check`.
//!
//! - C1 trailing blank or whitespace-only lines, a UTF-8 byte order mark and
//!   CRLF line ends are accepted with a warning that names the line (and so
//!   are the lone CR line ends of old Mac spreadsheets).
//! - C2 a row with both licences `Assigned` is taken as Inspections, with a
//!   warning naming the line.
//! - C3 errors name file, line and column, and stop the import with nothing
//!   applied: wrong header, wrong field count, unknown licence value,
//!   duplicate Id, unknown Id (importing onto a users listing), bad instant,
//!   more assigned than purchased (the engine's own consistency check, see
//!   [`import`]).
//! - C4 [`write_licenses`] then [`import`] gives back the same licences, and
//!   [`import`] is all-or-nothing: it returns the new population or the
//!   errors, never a part.
//!
//! The reader is a small RFC 4180 parser of its own rather than a CSV crate,
//! because every error must carry the character column of its cell, also
//! inside quoted fields that span lines.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use turnstile_policy::calendar::{format_rfc3339, parse_rfc3339};
use turnstile_policy::model::{Instant, LicenseType, Named, OrgState, Problem, Selector, Settings, User};

use crate::error::Result;
use crate::policy::Evaluator;

/// The five columns every licence file starts with, in this order.
pub const COLUMNS: [&str; 5] = ["Id", "Full Name", "Email", "Standard", "Inspections"];

/// The users listing's optional columns, accepted in any order after the five.
pub const OPTIONAL_COLUMNS: [&str; 4] = ["Last Sync", "Assigned At", "Temporary Since", "External"];

/// A warning or an error at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based line; 0 for a problem outside the CSV file (an org setting).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
    pub warning: bool,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.warning { "warning: " } else { "" };
        if self.line == 0 {
            // Not in a CSV file (an organisation setting): no line to name.
            return write!(f, "{}: {kind}{}", self.file, self.message);
        }
        write!(f, "{}:{}:{}: {kind}{}", self.file, self.line, self.column, self.message)
    }
}

/// What a licence cell said. Empty and `Unassigned` differ only on import:
/// empty means "no licence" and leaves a red selector red; `Unassigned`
/// sets the selector to grey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Assigned,
    Unassigned,
    Disabled,
}

impl Cell {
    fn parse(text: &str) -> Option<Cell> {
        match text {
            "" => Some(Cell::Empty),
            "Assigned" => Some(Cell::Assigned),
            "Unassigned" => Some(Cell::Unassigned),
            "Disabled" => Some(Cell::Disabled),
            _ => None,
        }
    }

    /// The selector of a user read from a listing (nothing to keep: empty is grey).
    fn selector(self) -> Selector {
        match self {
            Cell::Assigned => Selector::Assigned,
            Cell::Disabled => Selector::Disabled,
            Cell::Empty | Cell::Unassigned => Selector::Unassigned,
        }
    }

    /// The selector after importing this cell over `old` (C4).
    fn import_over(self, old: Selector) -> Selector {
        match (self, old) {
            (Cell::Empty, Selector::Disabled) => Selector::Disabled,
            (cell, _) => cell.selector(),
        }
    }
}

/// One data row of a licence file.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    /// The row as a user: id, name, email, selectors (C2 applied) and the
    /// optional columns; every other field at its default.
    pub user: User,
    /// The licence cells as written (after C2).
    pub standard: Cell,
    pub inspections: Cell,
}

/// A licence file as read: its rows, and where its columns are.
#[derive(Debug, Clone)]
pub struct Roster {
    pub source: String,
    /// Header names in file order.
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

/// The result of reading: a roster of the rows that could be read, the
/// warnings, and the errors. The file can be used only when `errors` is empty.
#[derive(Debug)]
pub struct Read {
    pub roster: Roster,
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
}

impl Read {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

// ------------------------------------------------------------------ reading

/// Reads a licence file or users listing from its bytes; `source` names it
/// in diagnostics. Never panics; all problems are collected.
pub fn read(bytes: &[u8], source: &str) -> Read {
    let mut out = Reader { source, warnings: Vec::new(), errors: Vec::new() };
    let roster = out.read(bytes);
    let (mut warnings, mut errors) = (out.warnings, out.errors);
    warnings.sort_by_key(|d| (d.line, d.column));
    errors.sort_by_key(|d| (d.line, d.column));
    Read { roster, warnings, errors }
}

struct Reader<'s> {
    source: &'s str,
    warnings: Vec<Diagnostic>,
    errors: Vec<Diagnostic>,
}

/// One field: its text and where it starts.
struct Field<'a> {
    text: Cow<'a, str>,
    line: usize,
    column: usize,
}

impl<'s> Reader<'s> {
    fn diag(&self, line: usize, column: usize, message: impl Into<String>, warning: bool) -> Diagnostic {
        Diagnostic { file: self.source.to_string(), line, column, message: message.into(), warning }
    }

    fn error(&mut self, line: usize, column: usize, message: impl Into<String>) {
        let d = self.diag(line, column, message, false);
        self.errors.push(d);
    }

    fn warn(&mut self, line: usize, column: usize, message: impl Into<String>) {
        let d = self.diag(line, column, message, true);
        self.warnings.push(d);
    }

    fn read(&mut self, bytes: &[u8]) -> Roster {
        let mut roster = Roster { source: self.source.to_string(), header: Vec::new(), rows: Vec::new() };
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let good = &bytes[..e.valid_up_to()];
                let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
                let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
                self.error(line, column, "not UTF-8 text: save the file as CSV UTF-8");
                return roster;
            }
        };
        // C1: a byte order mark is accepted.
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => {
                self.warn(1, 1, "UTF-8 byte order mark ignored");
                rest
            }
            None => text,
        };
        // Classic Mac line ends (a CR alone, as some spreadsheets still write):
        // read as line ends too, with a warning, so lines are numbered right.
        let lone_cr = text
            .as_bytes()
            .iter()
            .enumerate()
            .find(|&(i, &b)| b == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n'));
        let normalized: String;
        let text = match lone_cr {
            Some((i, _)) => {
                let line = text[..i].matches('\n').count() + 1;
                self.warn(
                    line,
                    text[..i].rsplit('\n').next().map_or(1, |l| l.chars().count() + 1),
                    "CR (classic Mac) line ends read as line ends",
                );
                normalized = text.replace("\r\n", "\n").replace('\r', "\n");
                normalized.as_str()
            }
            None => text,
        };
        let mut p = Parser { text, pos: 0, line: 1, line_start: 0, crlf_line: None };
        let mut blanks: Vec<usize> = Vec::new();
        let mut header_read = false;
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut fields: Vec<Field> = Vec::new();
        while !p.at_end() {
            if p.blank_line() {
                blanks.push(p.line);
                p.skip_line();
                continue;
            }
            // Blank lines followed by a record are not trailing: each is a row
            // with no fields.
            for line in std::mem::take(&mut blanks) {
                self.error(
                    line,
                    1,
                    format!(
                        "wrong field count: blank line, expected {} fields (only blank lines at the end of the file are ignored)",
                        roster.header.len().max(COLUMNS.len())
                    ),
                );
            }
            let line = p.line;
            fields.clear();
            let end_column = match p.record(&mut fields) {
                Ok(end_column) => end_column,
                Err((l, c, message)) => {
                    self.error(l, c, message);
                    p.skip_line();
                    if !header_read {
                        return roster; // no header: rows can't be read
                    }
                    continue;
                }
            };
            if !header_read {
                header_read = true;
                if !self.header(&fields, end_column, &mut roster) {
                    return roster; // a wrong header: the rows can't be interpreted
                }
                continue;
            }
            if let Some(row) = self.row(line, &fields, end_column, &roster.header) {
                match ids.get(&row.user.id) {
                    Some(&first) => {
                        let message = format!("duplicate Id `{}` (first on line {first})", row.user.id);
                        self.error(line, fields[0].column, message);
                    }
                    None => {
                        ids.insert(row.user.id.clone(), line);
                        roster.rows.push(row);
                    }
                }
            }
        }
        if !header_read {
            self.error(1, 1, format!("wrong header: the file is empty; expected {}", quoted_header(&COLUMNS)));
        }
        // C1: trailing blank lines are accepted.
        match blanks.as_slice() {
            [] => {}
            [one] => self.warn(*one, 1, "trailing blank line ignored"),
            [first, .., last] => {
                self.warn(*first, 1, format!("{} trailing blank lines ignored (lines {first}-{last})", blanks.len()))
            }
        }
        // C1: CRLF line ends are accepted.
        if let Some(line) = p.crlf_line {
            self.warn(line, 1, "CRLF (Windows) line ends accepted");
        }
        roster
    }

    /// Checks the header; `true` when the rows can be read.
    fn header(&mut self, fields: &[Field], end_column: usize, roster: &mut Roster) -> bool {
        let expected = quoted_header(&COLUMNS);
        let mut ok = true;
        for (i, name) in COLUMNS.iter().enumerate() {
            match fields.get(i) {
                Some(f) if f.text == *name => {}
                Some(f) => {
                    ok = false;
                    let message = format!(
                        "wrong header: column {} is `{}`, expected `{name}`; the header is {expected}",
                        i + 1,
                        f.text
                    );
                    self.error(f.line, f.column, message);
                }
                None => {
                    ok = false;
                    let line = fields.last().map_or(1, |f| f.line);
                    self.error(
                        line,
                        end_column,
                        format!("wrong header: missing column `{name}`; the header is {expected}"),
                    );
                    break;
                }
            }
        }
        for (i, f) in fields.iter().enumerate().skip(COLUMNS.len()) {
            if !OPTIONAL_COLUMNS.contains(&f.text.as_ref()) {
                ok = false;
                let message = format!(
                    "wrong header: unknown column `{}`; after the five columns a users listing may have {}",
                    f.text,
                    quoted_header(&OPTIONAL_COLUMNS)
                );
                self.error(f.line, f.column, message);
            } else if fields[COLUMNS.len()..i].iter().any(|g| g.text == f.text) {
                ok = false;
                self.error(f.line, f.column, format!("wrong header: column `{}` appears twice", f.text));
            }
        }
        roster.header = fields.iter().map(|f| f.text.to_string()).collect();
        ok
    }

    /// One data row; `None` (with errors recorded) when it can't be used.
    fn row(&mut self, line: usize, fields: &[Field], end_column: usize, header: &[String]) -> Option<Row> {
        if fields.len() != header.len() {
            let column = fields.get(header.len()).map_or(end_column, |f| f.column);
            let message = format!("wrong field count: expected {} fields, found {}", header.len(), fields.len());
            self.error(line, column, message);
            return None;
        }
        let errors_before = self.errors.len();
        let id = fields[0].text.as_ref();
        if id.trim().is_empty() {
            self.error(fields[0].line, fields[0].column, "empty Id");
        }
        let mut user = User::new(id);
        user.name = fields[1].text.to_string();
        user.email = fields[2].text.to_string();
        let cell = |r: &mut Self, i: usize| {
            let f = &fields[i];
            Cell::parse(&f.text).unwrap_or_else(|| {
                let message = format!(
                    "unknown licence value `{}` in {}: expected `Assigned`, `Unassigned`, `Disabled` or empty",
                    f.text, COLUMNS[i]
                );
                r.error(f.line, f.column, message);
                Cell::Empty
            })
        };
        let mut standard = cell(self, 3);
        let inspections = cell(self, 4);
        if standard == Cell::Assigned && inspections == Cell::Assigned {
            // C2: Inspections includes Standard.
            self.warn(
                fields[3].line,
                fields[3].column,
                "both Standard and Inspections are `Assigned`: taken as Inspections (it includes Standard)",
            );
            standard = Cell::Unassigned;
        }
        user.standard = standard.selector();
        user.inspections = inspections.selector();
        for (i, f) in fields.iter().enumerate().skip(COLUMNS.len()) {
            let name = header[i].as_str();
            let text = f.text.trim();
            match name {
                "External" => match text.to_ascii_lowercase().as_str() {
                    "" | "false" => user.external = false,
                    "true" => user.external = true,
                    _ => self.error(
                        f.line,
                        f.column,
                        format!("bad External value `{}`: expected `true`, `false` or empty", f.text),
                    ),
                },
                _ if text.is_empty() => {}
                _ => match parse_rfc3339(text) {
                    Ok(at) => match name {
                        "Last Sync" => user.last_sync = Some(at),
                        "Assigned At" => user.assigned_at = Some(at),
                        _ => user.temporary_since = Some(at),
                    },
                    Err(why) => self.error(f.line, f.column, format!("bad instant in {name}: {why}")),
                },
            }
        }
        (self.errors.len() == errors_before).then_some(Row { line, user, standard, inspections })
    }
}

fn quoted_header(names: &[&str]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(",")
}

/// An RFC 4180 record reader over the whole text that knows lines and
/// character columns.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    line_start: usize,
    /// The first line that ended in CRLF.
    crlf_line: Option<usize>,
}

type ParseError = (usize, usize, String);

impl<'a> Parser<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The character column of byte offset `at` on the current line.
    fn column(&self, at: usize) -> usize {
        self.text.get(self.line_start..at).map_or(1, |s| s.chars().count() + 1)
    }

    /// The rest of the current line is empty or whitespace only.
    fn blank_line(&self) -> bool {
        let rest = &self.text[self.pos..];
        let line = rest.split('\n').next().unwrap_or("");
        line.trim().is_empty()
    }

    /// Moves past the end of the current line.
    fn skip_line(&mut self) {
        match self.text[self.pos..].find('\n') {
            Some(i) => self.new_line(self.pos + i),
            None => self.pos = self.text.len(),
        }
    }

    /// `nl` is the offset of a `\n`: the next line starts after it.
    fn new_line(&mut self, nl: usize) {
        if nl > 0 && self.bytes().get(nl - 1) == Some(&b'\r') && self.crlf_line.is_none() {
            self.crlf_line = Some(self.line);
        }
        self.pos = nl + 1;
        self.line += 1;
        self.line_start = self.pos;
    }

    /// Reads one record into `fields`; returns the column just past its last
    /// character (for "missing field" messages).
    fn record(&mut self, fields: &mut Vec<Field<'a>>) -> Result<usize, ParseError> {
        loop {
            let (line, column) = (self.line, self.column(self.pos));
            let text =
                if self.bytes().get(self.pos) == Some(&b'"') { self.quoted(line, column)? } else { self.unquoted()? };
            fields.push(Field { text, line, column });
            match self.bytes().get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'\r') | Some(b'\n') | None => {
                    let end = self.column(self.pos);
                    if self.bytes().get(self.pos) == Some(&b'\r') {
                        self.pos += 1;
                    }
                    if self.bytes().get(self.pos) == Some(&b'\n') {
                        self.new_line(self.pos);
                    }
                    return Ok(end);
                }
                Some(_) => {
                    let message =
                        "unexpected character after a closing quote: a quote inside a field is written `\"\"`";
                    return Err((self.line, self.column(self.pos), message.into()));
                }
            }
        }
    }

    fn unquoted(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let start = self.pos;
        let bytes = self.bytes();
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            match b {
                b',' | b'\n' => break,
                b'\r' if bytes.get(end + 1) == Some(&b'\n') => break,
                b'"' => {
                    let message =
                        "a quote inside an unquoted field: quote the whole field and write the quote as `\"\"`";
                    return Err((self.line, self.column(end), message.into()));
                }
                _ => end += 1,
            }
        }
        self.pos = end;
        Ok(Cow::Borrowed(&self.text[start..end]))
    }

    fn quoted(&mut self, line: usize, column: usize) -> Result<Cow<'a, str>, ParseError> {
        self.pos += 1; // the opening quote
        let mut owned: Option<String> = None;
        let mut start = self.pos;
        loop {
            let Some(offset) = self.text[self.pos..].find(['"', '\n']) else {
                return Err((line, column, "a quoted field is never closed: a quote is missing".into()));
            };
            let at = self.pos + offset;
            if self.bytes()[at] == b'\n' {
                // A line break inside a quoted field.
                self.new_line(at);
                continue;
            }
            if self.bytes().get(at + 1) == Some(&b'"') {
                owned.get_or_insert_with(String::new).push_str(&self.text[start..=at]);
                self.pos = at + 2;
                start = self.pos;
                continue;
            }
            self.pos = at + 1;
            return Ok(match owned {
                Some(mut s) => {
                    s.push_str(&self.text[start..at]);
                    Cow::Owned(s)
                }
                None => Cow::Borrowed(&self.text[start..at]),
            });
        }
    }
}

// ------------------------------------------------------------------ importing

/// A population built by [`import`]: the users, and for each the file and
/// line it came from (for locating the engine's problems).
#[derive(Debug, Clone)]
pub struct Population {
    pub users: Vec<User>,
    /// (file, line) of each user.
    pub origin: Vec<(Arc<str>, usize)>,
}

/// The users of a listing, in row order, with their lines.
pub fn population(listing: &Roster) -> Population {
    let source: Arc<str> = Arc::from(listing.source.as_str());
    Population {
        users: listing.rows.iter().map(|r| r.user.clone()).collect(),
        origin: listing.rows.iter().map(|r| (source.clone(), r.line)).collect(),
    }
}

/// Ids in `file` that `onto` doesn't have (C3 "unknown Id").
pub fn unknown_ids(file: &Roster, onto: &Roster) -> Vec<Diagnostic> {
    let known: std::collections::HashSet<&str> = onto.rows.iter().map(|r| r.user.id.as_str()).collect();
    file.rows
        .iter()
        .filter(|r| !known.contains(r.user.id.as_str()))
        .map(|r| Diagnostic {
            file: file.source.clone(),
            line: r.line,
            column: 1,
            message: format!("unknown Id `{}`: no such user in {}", r.user.id, onto.source),
            warning: false,
        })
        .collect()
}

/// Imports the licences of `file` (C3, C4), all or nothing.
///
/// Onto a users listing (`onto`), each row sets that user's licence
/// selectors: `Assigned` green, `Unassigned` grey, `Disabled` red, and an
/// empty cell "no licence" (green becomes grey, red stays red); users the
/// file doesn't name keep theirs. Without `onto`, the file's rows are the
/// population. With `settings` (and the file they came from), the result is loaded into the policy
/// component, whose consistency check (`State::load`) refuses more licences
/// assigned than purchased; its problems come back located at the row that
/// went over. `file` must have been read without errors.
///
/// The outer `Result` fails only when the component does; the inner one is
/// the new population, or every error with nothing applied.
pub fn import(
    evaluator: &Evaluator,
    settings: Option<(&Settings, &str)>,
    onto: Option<&Roster>,
    file: &Roster,
) -> Result<std::result::Result<Population, Vec<Diagnostic>>> {
    let mut population = match onto {
        None => population(file),
        Some(onto) => {
            let unknown = unknown_ids(file, onto);
            if !unknown.is_empty() {
                return Ok(Err(unknown));
            }
            let mut population = population(onto);
            let index: HashMap<&str, usize> =
                population.users.iter().enumerate().map(|(i, u)| (u.id.as_str(), i)).collect();
            let mut changes = Vec::with_capacity(file.rows.len());
            for row in &file.rows {
                if let Some(&i) = index.get(row.user.id.as_str()) {
                    changes.push((i, row));
                }
            }
            drop(index);
            let source: Arc<str> = Arc::from(file.source.as_str());
            for (i, row) in changes {
                if let Some(user) = population.users.get_mut(i) {
                    user.standard = row.standard.import_over(user.standard);
                    user.inspections = row.inspections.import_over(user.inspections);
                    population.origin[i] = (source.clone(), row.line);
                }
            }
            population
        }
    };
    let Some((settings, org_source)) = settings else { return Ok(Ok(population)) };
    let state = OrgState {
        settings: settings.clone(),
        users: std::mem::take(&mut population.users),
        groups: Vec::new(),
        sessions: Vec::new(),
    };
    let loaded = evaluator.load(&state)?;
    population.users = state.users;
    match loaded {
        Ok(_) => Ok(Ok(population)),
        Err(problems) => {
            Ok(Err(locate(&problems, &population.users, &population.origin, Some(&file.source), settings, org_source)))
        }
    }
}

/// Places the engine's problems with a state built from CSV rows at the rows:
/// `users[i]...` at user i's line; an over-assigned licence type (field
/// `users`) at the first holder past the purchased count, in that type's
/// column, counting the users the imported file (`imported`) doesn't touch
/// first and then the file's rows in order, so the error points at the
/// import row that went over. The message is the engine's, unchanged: the
/// host only finds the row.
pub fn locate(
    problems: &[Problem],
    users: &[User],
    origin: &[(Arc<str>, usize)],
    imported: Option<&str>,
    settings: &Settings,
    org_source: &str,
) -> Vec<Diagnostic> {
    let at = |i: usize, column: usize, message: &str| {
        let (file, line) = origin.get(i).map_or((String::new(), 0), |(f, l)| (f.to_string(), *l));
        Diagnostic { file, line, column, message: message.to_string(), warning: false }
    };
    let mut out = Vec::new();
    for p in problems {
        if let Some(rest) = p.field.strip_prefix("users[") {
            let i = rest.split(']').next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
            out.push(at(i, 1, &p.message));
        } else if p.field == "users" {
            // Which type: the engine says "N <type> licences assigned but ...".
            let license = LicenseType::ALL.into_iter().find(|l| p.message.contains(&format!(" {} licences", l.name())));
            let Some(license) = license else {
                out.push(at(0, 1, &p.message));
                continue;
            };
            let purchased = settings.licenses.purchased(license) as usize;
            let mut order: Vec<usize> = (0..users.len()).collect();
            if let Some(file) = imported {
                order.sort_by_key(|&i| origin.get(i).map(|(f, line)| (f.as_ref() == file, *line)));
            }
            let holders = order.into_iter().filter(|&i| users.get(i).and_then(User::held_license) == Some(license));
            let over = holders.clone().nth(purchased).or_else(|| holders.clone().next_back()).unwrap_or(0);
            let column = if license == LicenseType::Standard { 4 } else { 5 };
            out.push(at(over, column, &p.message));
        } else {
            let field = p.field.strip_prefix("settings").map_or(p.field.clone(), |rest| format!("org{rest}"));
            out.push(Diagnostic {
                file: org_source.to_string(),
                line: 0,
                column: 0,
                message: format!("{field}: {}", p.message),
                warning: false,
            });
        }
    }
    out.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    out
}

// ------------------------------------------------------------------ writing

/// Writes the licence import/export file: every user, every field quoted,
/// a licence cell `Assigned` or empty.
pub fn write_licenses(out: &mut impl Write, users: &[User]) -> io::Result<()> {
    write_record(out, COLUMNS.iter().copied())?;
    for u in users {
        let cell = |l: LicenseType| if u.held_license() == Some(l) { "Assigned" } else { "" };
        write_record(
            out,
            [u.id.as_str(), &u.name, &u.email, cell(LicenseType::Standard), cell(LicenseType::Inspections)],
        )?;
    }
    Ok(())
}

/// Writes a users listing: the five columns with `Assigned`, `Disabled` or
/// empty (grey), then `Last Sync`, `Assigned At`, `Temporary Since` and
/// `External`. `turnstile check` accepts it, and importing it gives the
/// same selectors back.
pub fn write_listing(out: &mut impl Write, users: &[User]) -> io::Result<()> {
    write_record(out, COLUMNS.iter().chain(OPTIONAL_COLUMNS.iter()).copied())?;
    let instant = |at: Option<Instant>| at.map(format_rfc3339).unwrap_or_default();
    for u in users {
        let cell = |s: Selector| match s {
            Selector::Assigned => "Assigned",
            Selector::Disabled => "Disabled",
            Selector::Unassigned => "",
        };
        let (last, assigned, temporary) = (instant(u.last_sync), instant(u.assigned_at), instant(u.temporary_since));
        let external = if u.external { "true" } else { "false" };
        write_record(
            out,
            [
                u.id.as_str(),
                &u.name,
                &u.email,
                cell(u.standard),
                cell(u.inspections),
                &last,
                &assigned,
                &temporary,
                external,
            ],
        )?;
    }
    Ok(())
}

/// One CSV record, every field quoted, `\n` line end.
pub fn write_record<'a>(out: &mut impl Write, fields: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
    let mut first = true;
    for field in fields {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        out.write_all(b"\"")?;
        if field.contains('"') {
            out.write_all(field.replace('"', "\"\"").as_bytes())?;
        } else {
            out.write_all(field.as_bytes())?;
        }
        out.write_all(b"\"")?;
    }
    out.write_all(b"\n")
}
