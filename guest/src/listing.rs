//! Licence CSV files (rules C1–C5, seed 001): the licence import/export
//! file and the users listing, read as they stream in with every problem
//! placed at a line and a character column, imported, loaded and written.
//!
//! Both files start with `"Id","Full Name","Email","Standard","Inspections"`.
//! A licence cell is `Assigned` or empty in the import/export file; the users
//! listing adds `Disabled` (red) and `Unassigned` (grey, like empty), and may
//! carry the optional columns `Last Sync`, `Assigned At`, `Temporary Since`
//! (RFC 3339 instants) and `External` (`true`, `false` or empty). One reader
//! serves both, so a listing written by `write_listing` passes a check.
//!
//! - C1 trailing blank or whitespace-only lines, a UTF-8 byte order mark and
//!   CRLF line ends are accepted with a warning that names the line (and so
//!   are the lone CR line ends of old Mac spreadsheets).
//! - C2 a row with both licences `Assigned` is taken as Inspections, with a
//!   warning naming the cell.
//! - C3 errors name file, line and column, and stop the import with nothing
//!   applied: wrong header, wrong field count, unknown licence value,
//!   duplicate Id, unknown Id ([`Listing::import`]), bad instant, more
//!   assigned than purchased (the engine's own consistency check, placed at
//!   the row that went over by [`Listing::load`]).
//! - C4 [`write_licenses`] then [`Listing::import`] gives back the same
//!   licences; an import is all or nothing.
//!
//! Records are split by `csv-core`, the csv crate's own parser; this module
//! checks what csv-core is lenient about (text after a closing quote, a quote
//! inside an unquoted field, a quote never closed) and works out a field's
//! line and column only when a message needs them, so reading is linear in
//! the file whatever its shape.

use csv_core::{ReadRecordResult, Reader};
use smallvec::SmallVec;

use crate::calendar::{format_rfc3339, parse_rfc3339};
use crate::model::{Code, Diagnostic, GrantedLicense, Instant, LicenseType, Licenses, Named, Population, Problem, Selector, Severity};
use crate::users::{Core, Ids, UserIx, Users, empty_population, population_row, push_row};

/// The five columns every licence file starts with, in this order.
pub const COLUMNS: [&str; 5] = ["Id", "Full Name", "Email", "Standard", "Inspections"];

/// The users listing's optional columns, accepted in any order after the five.
pub const OPTIONAL_COLUMNS: [&str; 4] = ["Last Sync", "Assigned At", "Temporary Since", "External"];

/// A row (with the blank lines before it) longer than this is not read.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// At most this many rows are reserved ahead by [`Listing::expect_bytes`].
pub const MAX_RESERVED: usize = 4 << 20;

/// At most this many errors are kept per file; the rest are counted.
pub const MAX_ERRORS: usize = 10_000;

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

    /// The selector of a user read from a listing (empty is grey).
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

/// One row as read: where it is and what its licence cells said.
#[derive(Debug, Clone, Copy)]
struct Row {
    line: u32,
    standard: Cell,
    inspections: Cell,
    /// The line of the imported file's row that set this user's licences; 0: none did.
    imported: u32,
    /// The character columns of the Standard and Inspections cells (of the
    /// imported row, once one is imported).
    cells: [u32; 2],
}

/// A licence file or users listing being read, then read.
pub struct Listing {
    source: String,
    csv: Reader,
    /// The raw bytes of the record being read (kept for messages and checks).
    raw: Vec<u8>,
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    /// The first bytes of the file, until a byte order mark can be told.
    head: Vec<u8>,
    started: bool,
    /// The line the next unread byte is on.
    line: u32,
    /// Where the last record's CR was, when it ended the record: a CRLF if
    /// the next record starts with its LF, else a lone CR.
    pending_cr: Option<(u32, u32)>,
    crlf_line: Option<u32>,
    lone_cr_seen: bool,
    /// Blank lines not yet known to be trailing.
    blanks: Vec<u32>,
    header: Option<Header>,
    /// Reading stopped: a wrong header or text that isn't UTF-8.
    stopped: bool,
    finished: bool,
    /// The users read (not paged).
    users: Users,
    /// Paged or ids only: the ids read, for the duplicate check (`users` stays empty).
    ids: Ids,
    ids_only: bool,
    rows: Vec<Row>,
    warnings: Vec<Diagnostic>,
    errors: Vec<Diagnostic>,
    errors_dropped: usize,
    /// The file imported onto this one, if any (for placing problems).
    imported_from: Option<String>,
    /// Paged: rows read and not yet taken, in columns (see [`Listing::paged`]).
    page: Option<Population>,
}

/// The header as read: column names in file order, and what the columns
/// after the five are.
struct Header {
    names: Vec<String>,
    optional: Vec<Optional>,
}

/// The users listing's optional columns ([`OPTIONAL_COLUMNS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Optional {
    LastSync,
    AssignedAt,
    TemporarySince,
    External,
}

impl Optional {
    const ALL: [Optional; 4] = [Optional::LastSync, Optional::AssignedAt, Optional::TemporarySince, Optional::External];

    fn name(self) -> &'static str {
        OPTIONAL_COLUMNS[self as usize]
    }

    fn of(column: &str) -> Option<Optional> {
        Optional::ALL.into_iter().find(|o| o.name() == column)
    }
}

impl Listing {
    pub fn new(source: &str) -> Listing {
        Listing {
            source: source.to_string(),
            csv: Reader::new(),
            raw: Vec::new(),
            out: vec![0; 1024],
            ends: vec![0; 16],
            out_len: 0,
            ends_len: 0,
            head: Vec::new(),
            started: false,
            line: 1,
            pending_cr: None,
            crlf_line: None,
            lone_cr_seen: false,
            blanks: Vec::new(),
            header: None,
            stopped: false,
            finished: false,
            users: Users::default(),
            ids: Ids::default(),
            ids_only: false,
            rows: Vec::new(),
            warnings: Vec::new(),
            errors: Vec::new(),
            errors_dropped: 0,
            imported_from: None,
            page: None,
        }
    }

    /// A listing read to be handed over a page at a time ([`Listing::take_page`]):
    /// it keeps each row's id (for the duplicate check) and licence cells
    /// (for placing problems), and no users: they go with the pages.
    pub fn paged(source: &str) -> Listing {
        Listing { page: Some(empty_population()), ids_only: true, ..Listing::new(source) }
    }

    /// A listing that keeps each row's id and licence cells and no users:
    /// enough to be imported onto another ([`Listing::import`]), in half the memory.
    pub fn ids_only(source: &str) -> Listing {
        Listing { ids_only: true, ..Listing::new(source) }
    }

    /// The rows read since the last page, once there are at least `rows` of
    /// them (or any at all, after [`Listing::finish`]).
    pub fn take_page(&mut self, rows: usize) -> Option<Population> {
        let page = self.page.as_mut()?;
        let ready = page.standard.len();
        if ready == 0 || (ready < rows && !self.finished) {
            return None;
        }
        Some(std::mem::replace(page, empty_population()))
    }

    /// Reads a whole file at once: `feed` then `finish`.
    pub fn read(bytes: &[u8], source: &str) -> (Listing, Vec<Diagnostic>) {
        let mut listing = Listing::new(source);
        listing.feed(bytes);
        let diagnostics = listing.finish();
        (listing, diagnostics)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The file is about `bytes` long: room is made for its rows at once (a
    /// row of a listing takes a hundred bytes or so; at most [`MAX_RESERVED`]
    /// rows are reserved ahead).
    pub fn expect_bytes(&mut self, bytes: u64) {
        let rows = (bytes / 100).min(MAX_RESERVED as u64) as usize;
        if self.ids_only {
            self.ids.reserve(rows, rows * 40);
        } else {
            self.users.reserve(rows, (bytes as usize).min(MAX_RESERVED * 64));
        }
        self.rows.reserve(rows);
    }

    /// Rows read without error.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The line each row starts on.
    pub fn lines(&self) -> Vec<u32> {
        self.rows.iter().map(|r| r.line).collect()
    }

    /// The users read, in row order.
    pub fn users(&self) -> &Users {
        &self.users
    }

    /// Errors past [`MAX_ERRORS`], counted and not listed (the last error
    /// listed says how many).
    pub fn errors_not_shown(&self) -> usize {
        self.errors_dropped
    }

    /// Whether the file was read without error.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    // -------------------------------------------------------------- reading

    /// The next bytes of the file, split anywhere. `false` once reading has
    /// stopped for good (a wrong header, text that isn't UTF-8, a row longer
    /// than [`MAX_ROW_BYTES`]).
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        if self.finished || self.stopped {
            return false;
        }
        if !self.started {
            // C1: a byte order mark is accepted; it takes three bytes to tell.
            self.head.extend_from_slice(bytes);
            if self.head.len() >= 3 {
                self.start();
            }
        } else {
            self.parse(bytes);
        }
        !self.stopped
    }

    fn start(&mut self) {
        self.started = true;
        let head = std::mem::take(&mut self.head);
        let rest = match head.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => {
                self.warn(1, 1, "UTF-8 byte order mark ignored");
                rest
            }
            None => &head[..],
        };
        self.parse(rest);
    }

    fn parse(&mut self, mut input: &[u8]) {
        loop {
            if self.stopped {
                return;
            }
            let (result, nin, nout, nend) = self.csv.read_record(
                input,
                &mut self.out[self.out_len..],
                &mut self.ends[self.ends_len..],
            );
            let (consumed, rest) = input.split_at(nin);
            input = rest;
            self.out_len += nout;
            self.ends_len += nend;
            if let ReadRecordResult::Record = result {
                // A record inside one piece of input is read where it lies;
                // one split across pieces was gathered in `raw`.
                if self.raw.is_empty() {
                    self.record(consumed);
                } else {
                    self.raw.extend_from_slice(consumed);
                    let raw = std::mem::take(&mut self.raw);
                    self.record(&raw);
                    self.raw = raw;
                    self.raw.clear();
                }
                self.out_len = 0;
                self.ends_len = 0;
                continue;
            }
            self.raw.extend_from_slice(consumed);
            if self.raw.len() > MAX_ROW_BYTES {
                let line = self.line;
                self.error(line, 1, format!("a row longer than {} MiB: is this a CSV file?", MAX_ROW_BYTES >> 20));
                self.stopped = true;
                return;
            }
            match result {
                ReadRecordResult::InputEmpty if input.is_empty() => return,
                ReadRecordResult::OutputFull => {
                    let len = self.out.len();
                    self.out.resize(len * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                }
                ReadRecordResult::End => return,
                _ => {}
            }
        }
    }

    /// The end of the file: every warning and error, in file order.
    pub fn finish(&mut self) -> Vec<Diagnostic> {
        if !self.finished {
            if !self.started {
                self.start();
            }
            // The last record may have no line end.
            self.parse(&[]);
            self.finished = true;
            // Line ends after the last record (trailing blank lines).
            let rest = std::mem::take(&mut self.raw);
            self.line_ends_before(&rest);
            if let Some((line, column)) = self.pending_cr.take() {
                self.lone_cr(line, column);
            }
            if !self.stopped {
                self.end_of_file();
            }
            sort_by_place(&mut self.warnings);
            sort_by_place(&mut self.errors);
            if self.errors_dropped > 0 {
                let n = self.errors_dropped;
                let more = self.diagnostic(0, 0, format!("{n} more errors not shown"), Severity::Error);
                self.errors.push(more);
            }
        }
        self.warnings.iter().chain(&self.errors).cloned().collect()
    }

    fn end_of_file(&mut self) {
        if self.header.is_none() {
            let message = format!("wrong header: the file is empty; expected {}", quoted_header(&COLUMNS));
            self.error(1, 1, message);
            return;
        }
        // C1: trailing blank lines are accepted.
        match self.blanks.as_slice() {
            [] => {}
            [one] => {
                let one = *one;
                self.warn(one, 1, "trailing blank line ignored");
            }
            [first, .., last] => {
                let (first, last, n) = (*first, *last, self.blanks.len());
                self.warn(first, 1, format!("{n} trailing blank lines ignored (lines {first}-{last})"));
            }
        }
        // C1: CRLF line ends are accepted.
        if let Some(line) = self.crlf_line {
            self.warn(line, 1, "CRLF (Windows) line ends accepted");
        }
    }

    /// The line ends csv-core skipped before a record (blank lines, or the LF
    /// of a CRLF that ended the previous record); returns where the record's
    /// own bytes start.
    fn line_ends_before(&mut self, raw: &[u8]) -> usize {
        let mut i = 0;
        if let Some((line, column)) = self.pending_cr.take() {
            if raw.first() == Some(&b'\n') {
                self.crlf_line.get_or_insert(line);
                i = 1;
            } else {
                self.lone_cr(line, column);
            }
        }
        while let Some(&b) = raw.get(i) {
            match b {
                b'\n' => i += 1,
                b'\r' if raw.get(i + 1) == Some(&b'\n') => {
                    self.crlf_line.get_or_insert(self.line);
                    i += 2;
                }
                b'\r' => {
                    let line = self.line;
                    self.lone_cr(line, 1);
                    i += 1;
                }
                _ => break,
            }
            self.blanks.push(self.line);
            self.line += 1;
        }
        i
    }

    /// One record from csv-core: its raw bytes in `self.raw`, its fields in
    /// `self.out` / `self.ends`.
    fn record(&mut self, raw: &[u8]) {
        let skip = self.line_ends_before(raw);
        let content = &raw[skip..];
        let start_line = self.line;
        self.advance_lines(content, start_line);
        if !content.is_empty() && !self.stopped {
            // The fields stay in csv-core's buffers, borrowed while the record is read.
            let (out, ends) = (std::mem::take(&mut self.out), std::mem::take(&mut self.ends));
            let mut from = 0;
            let fields: SmallVec<[&[u8]; 10]> = ends[..self.ends_len]
                .iter()
                .map(|&end| {
                    let f = &out[from..end];
                    from = end;
                    f
                })
                .collect();
            self.record_content(content, start_line, &fields);
            drop(fields);
            (self.out, self.ends) = (out, ends);
        }
    }

    fn record_content(&mut self, content: &[u8], start_line: u32, fields: &[&[u8]]) {
        // Text that isn't UTF-8 stops the reading: nothing after it can be trusted.
        if let Err(e) = std::str::from_utf8(content) {
            let (line, column) = place(content, start_line, &[e.valid_up_to()])[0];
            self.error(line, column, "not UTF-8 text: save the file as CSV UTF-8");
            self.stopped = true;
            return;
        }
        let texts: SmallVec<[&str; 10]> = fields.iter().map(|f| std::str::from_utf8(f).unwrap_or("")).collect();
        // A whitespace-only line is blank (C1).
        if texts.len() == 1 && content[0] != b'"' && texts[0].trim().is_empty() {
            self.blanks.push(start_line);
            return;
        }
        // Blank lines followed by a record are not trailing: each is a row with no fields.
        for line in std::mem::take(&mut self.blanks) {
            let expected = self.header.as_ref().map_or(0, |h| h.names.len()).max(COLUMNS.len());
            self.error(
                line,
                1,
                format!(
                    "wrong field count: blank line, expected {expected} fields (only blank lines at the end of the file are ignored)"
                ),
            );
        }
        let starts = match layout(content, fields) {
            Ok(starts) => starts,
            Err((at, why)) => {
                let (line, column) = place(content, start_line, &[at])[0];
                self.error(line, column, why);
                if self.header.is_none() {
                    // No header: no row can be read.
                    self.stopped = true;
                }
                return;
            }
        };
        let record = Fields { texts: &texts, starts: &starts, content, start_line, places: None };
        if self.header.is_none() {
            self.read_header(record);
        } else {
            self.read_row(record);
        }
    }

    /// Counts the line ends inside a record (quoted line breaks and its
    /// terminator), noting CRLF and lone CR line ends.
    fn advance_lines(&mut self, content: &[u8], start_line: u32) {
        if !content.contains(&b'\r') {
            // The common case, counted in one pass the compiler vectorizes.
            self.line = start_line + content.iter().filter(|&&b| b == b'\n').count() as u32;
            return;
        }
        let mut line = start_line;
        let mut i = 0;
        while i < content.len() {
            match content[i] {
                b'\n' => line += 1,
                b'\r' if content.get(i + 1) == Some(&b'\n') => {
                    self.crlf_line.get_or_insert(line);
                    line += 1;
                    i += 1;
                }
                b'\r' => {
                    let column = place(content, start_line, &[i])[0].1;
                    if i + 1 == content.len() {
                        // csv-core ends a record at a CR; its LF, if any, comes next.
                        self.pending_cr = Some((line, column));
                    } else {
                        self.lone_cr(line, column);
                    }
                    line += 1;
                }
                _ => {}
            }
            i += 1;
        }
        self.line = line;
    }

    fn lone_cr(&mut self, line: u32, column: u32) {
        if !self.lone_cr_seen {
            self.lone_cr_seen = true;
            self.warn(line, column, "CR (classic Mac) line ends read as line ends");
        }
    }

    /// Checks the header; a wrong one stops the reading (the rows can't be
    /// interpreted).
    fn read_header(&mut self, mut f: Fields) {
        let expected = quoted_header(&COLUMNS);
        let mut ok = true;
        for (i, name) in COLUMNS.iter().enumerate() {
            match f.texts.get(i) {
                Some(text) if text == name => {}
                Some(text) => {
                    ok = false;
                    let message =
                        format!("wrong header: column {} is `{text}`, expected `{name}`; the header is {expected}", i + 1);
                    let (line, column) = f.place(i);
                    self.error(line, column, message);
                }
                None => {
                    ok = false;
                    let (line, column) = f.end();
                    self.error(line, column, format!("wrong header: missing column `{name}`; the header is {expected}"));
                    break;
                }
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for (i, text) in f.texts.iter().enumerate().skip(COLUMNS.len()) {
            let message = if !OPTIONAL_COLUMNS.contains(text) {
                format!(
                    "wrong header: unknown column `{text}`; after the five columns a users listing may have {}",
                    quoted_header(&OPTIONAL_COLUMNS)
                )
            } else if seen.contains(text) {
                format!("wrong header: column `{text}` appears twice")
            } else {
                seen.push(text);
                continue;
            };
            ok = false;
            let (line, column) = f.place(i);
            self.error(line, column, message);
        }
        let optional = f.texts.iter().skip(COLUMNS.len()).filter_map(|t| Optional::of(t)).collect();
        self.header = Some(Header { names: f.texts.iter().map(|t| t.to_string()).collect(), optional });
        if !ok {
            self.stopped = true;
        }
    }

    /// One data row: a user, or errors and nothing.
    fn read_row(&mut self, mut f: Fields) {
        let columns = self.header.as_ref().map_or(COLUMNS.len(), |h| h.names.len());
        let line = f.start_line;
        if f.texts.len() != columns {
            let (line, column) = if f.texts.len() > columns { f.place(columns) } else { f.end() };
            let message = format!("wrong field count: expected {columns} fields, found {}", f.texts.len());
            self.error(line, column, message);
            return;
        }
        let errors_before = self.errors.len() + self.errors_dropped;
        let id = f.texts[0];
        if id.trim().is_empty() {
            let (line, column) = f.place(0);
            self.error(line, column, "empty Id");
        }
        let cell = |r: &mut Self, f: &mut Fields, i: usize| {
            Cell::parse(f.texts[i]).unwrap_or_else(|| {
                let message = format!(
                    "unknown licence value `{}` in {}: expected `Assigned`, `Unassigned`, `Disabled` or empty",
                    f.texts[i], COLUMNS[i]
                );
                let (line, column) = f.place(i);
                r.error(line, column, message);
                Cell::Empty
            })
        };
        let mut standard = cell(self, &mut f, 3);
        let inspections = cell(self, &mut f, 4);
        if standard == Cell::Assigned && inspections == Cell::Assigned {
            // C2: Inspections includes Standard.
            let (line, column) = f.place(3);
            self.warn(line, column, "both Standard and Inspections are `Assigned`: taken as Inspections (it includes Standard)");
            standard = Cell::Unassigned;
        }
        let mut core = Core::NEW;
        core.standard = standard.selector();
        core.inspections = inspections.selector();
        for i in COLUMNS.len()..columns {
            let text = f.texts[i].trim();
            let Some(&column) = self.header.as_ref().and_then(|h| h.optional.get(i - COLUMNS.len())) else { continue };
            match column {
                Optional::External => match text {
                    "" => {}
                    t if t.eq_ignore_ascii_case("false") => {}
                    t if t.eq_ignore_ascii_case("true") => core.external = true,
                    _ => {
                        let (line, col) = f.place(i);
                        self.error(line, col, format!("bad External value `{text}`: expected `true`, `false` or empty"));
                    }
                },
                _ if text.is_empty() => {}
                instant => match parse_rfc3339(text) {
                    Ok(at) => match instant {
                        Optional::LastSync => core.set_last_sync(Some(at)),
                        Optional::AssignedAt => core.set_assigned_at(Some(at)),
                        _ => core.set_temporary_since(Some(at)),
                    },
                    Err(why) => {
                        let (line, col) = f.place(i);
                        self.error(line, col, format!("bad instant in {}: {why}", instant.name()));
                    }
                },
            }
        }
        if self.errors.len() + self.errors_dropped != errors_before {
            return;
        }
        let cells = [f.place_column(3), f.place_column(4)];
        let added = if self.ids_only {
            self.ids.insert(id).map(|_| {
                if let Some(page) = &mut self.page {
                    push_row(page, id, f.texts[1], f.texts[2], &core);
                }
            })
        } else {
            match self.users.add(id, f.texts[1], f.texts[2], core, None) {
                Ok(_) => Ok(()),
                Err(_) => Err(self.users.find(id).map_or(0, |ix| ix.0)),
            }
        };
        match added {
            Ok(()) => self.rows.push(Row { line, standard, inspections, imported: 0, cells }),
            Err(first) => {
                let first = self.rows.get(first as usize).map_or(0, |r| r.line);
                let (line, column) = f.place(0);
                self.error(line, column, format!("duplicate Id `{id}` (first on line {first})"));
            }
        }
    }

    // -------------------------------------------------------------- diagnostics

    fn diagnostic(&self, line: u32, column: u32, message: String, severity: Severity) -> Diagnostic {
        Diagnostic { source: self.source.clone(), line, column, path: String::new(), severity, message }
    }

    fn warn(&mut self, line: u32, column: u32, message: impl Into<String>) {
        let d = self.diagnostic(line, column, message.into(), Severity::Warning);
        self.warnings.push(d);
    }

    fn error(&mut self, line: u32, column: u32, message: impl Into<String>) {
        if self.errors.len() >= MAX_ERRORS {
            self.errors_dropped += 1;
            return;
        }
        let d = self.diagnostic(line, column, message.into(), Severity::Error);
        self.errors.push(d);
    }

    // -------------------------------------------------------------- importing

    /// Imports `file`'s licences onto this listing's users (C3, C4), all or
    /// nothing. Every id of `file` must be here (unknown Id); then each of
    /// its rows sets that user's selectors: `Assigned` green, `Unassigned`
    /// grey, `Disabled` red, and an empty cell "no licence" (green becomes
    /// grey, red stays red). Users the file doesn't name keep theirs.
    pub fn import(&mut self, file: &Listing) -> Vec<Diagnostic> {
        let unknown: Vec<Diagnostic> = (0..file.rows.len())
            .filter(|&i| self.users.find(file.id(i)).is_none())
            .map(|i| Diagnostic {
                source: file.source.clone(),
                line: file.rows[i].line,
                column: 1,
                path: String::new(),
                severity: Severity::Error,
                message: format!("unknown Id `{}`: no such user in {}", file.id(i), self.source),
            })
            .collect();
        if !unknown.is_empty() {
            return unknown;
        }
        for (i, row) in file.rows.iter().enumerate() {
            let Some(ix) = self.users.find(file.id(i)) else { continue };
            let core = self.users.core_mut(ix);
            core.standard = row.standard.import_over(core.standard);
            core.inspections = row.inspections.import_over(core.inspections);
            self.rows[ix.index()].imported = row.line;
            self.rows[ix.index()].cells = row.cells;
        }
        self.imported_from = Some(file.source.clone());
        Vec::new()
    }

    /// The users from row `first`, `count` of them, in columns: what a
    /// loader of the policy takes.
    pub fn population(&self, first: u32, count: u32) -> Population {
        self.users.population(first, count)
    }

    /// The engine's problems with a state loaded from these rows (in row
    /// order), placed at the rows (see [`Places`]); `purchased` are the
    /// organisation's licences, `org_source` names it for the other problems.
    pub fn place(&self, problems: &[Problem], purchased: &Licenses, org_source: &str) -> Vec<Diagnostic> {
        Places { listing: self }.locate(problems, purchased, org_source)
    }

    /// Row `i`'s id.
    fn id(&self, i: usize) -> &str {
        if self.ids_only { self.ids.get(i as u32) } else { self.users.get(UserIx(i as u32)).id() }
    }

    /// The licence row `i` holds: its user's, or (ids only) its cells'.
    fn held_at(&self, i: usize) -> Option<LicenseType> {
        if !self.ids_only {
            return self.users.get(UserIx(i as u32)).held_license();
        }
        let row = self.rows.get(i)?;
        match (row.standard, row.inspections) {
            (_, Cell::Assigned) => Some(LicenseType::Inspections),
            (Cell::Assigned, _) => Some(LicenseType::Standard),
            _ => None,
        }
    }

    /// The rows' held licences counted: Standard, then Inspections.
    pub fn held(&self) -> (u32, u32) {
        let held = |l| (0..self.rows.len()).filter(|&i| self.held_at(i) == Some(l)).count() as u32;
        (held(LicenseType::Standard), held(LicenseType::Inspections))
    }
}

/// What placing the engine's problems at rows needs.
struct Places<'a> {
    listing: &'a Listing,
}

impl Places<'_> {
    /// Places the engine's problems with a state built from rows at the
    /// rows: `users[i]...` at user i's line; an over-assigned licence type at
    /// the first holder past the purchased count, in that type's column,
    /// counting the users an imported file didn't touch first and then the
    /// file's rows in order, so the error points at the import row that went
    /// over. The message is the engine's, unchanged: this only finds the row.
    fn locate(&self, problems: &[Problem], purchased: &Licenses, org_source: &str) -> Vec<Diagnostic> {
        let Listing { rows, source, imported_from, .. } = self.listing;
        let at = |i: usize, column: u32, message: &str| {
            let (source, line) = match rows.get(i) {
                Some(row) if row.imported > 0 => (imported_from.as_deref().unwrap_or(source), row.imported),
                Some(row) => (source.as_str(), row.line),
                None => (source.as_str(), 0),
            };
            Diagnostic {
                source: source.to_string(),
                line,
                column,
                path: String::new(),
                severity: Severity::Error,
                message: message.to_string(),
            }
        };
        let mut out = Vec::new();
        for p in problems {
            if let Some(rest) = p.field.strip_prefix("users[") {
                let i = rest.split(']').next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
                out.push(at(i, 1, &p.message));
            } else if p.field == "users" {
                let Some(license) = p.over_assigned else {
                    out.push(at(0, 1, &p.message));
                    continue;
                };
                let mut order: Vec<usize> = (0..rows.len()).collect();
                if imported_from.is_some() {
                    order.sort_by_key(|&i| {
                        let row = rows[i];
                        (row.imported > 0, if row.imported > 0 { row.imported } else { row.line })
                    });
                }
                let holders: Vec<usize> = order
                    .into_iter()
                    .filter(|&i| self.listing.held_at(i) == Some(license))
                    .collect();
                let over = holders.get(purchased.purchased(license) as usize).or(holders.last()).copied().unwrap_or(0);
                // The character column of that row's cell for the licence.
                let cell = if license == LicenseType::Standard { 0 } else { 1 };
                let column = rows.get(over).map_or(1, |r| r.cells[cell]);
                out.push(at(over, column, &p.message));
            } else {
                let path = p.field.strip_prefix("settings").map_or(p.field.clone(), |rest| format!("org{rest}"));
                out.push(Diagnostic {
                    source: org_source.to_string(),
                    line: 0,
                    column: 0,
                    path,
                    severity: Severity::Error,
                    message: p.message.clone(),
                });
            }
        }
        sort_by_place(&mut out);
        out
    }
}

/// A record's fields, and where they are, worked out when first needed.
struct Fields<'a> {
    texts: &'a [&'a str],
    /// Byte offset of each field in `content`, then of the record's end.
    starts: &'a [usize],
    content: &'a [u8],
    start_line: u32,
    places: Option<Vec<(u32, u32)>>,
}

impl Fields<'_> {
    /// The line and character column where field `i` starts.
    fn place(&mut self, i: usize) -> (u32, u32) {
        let (content, start_line, starts) = (self.content, self.start_line, self.starts);
        let places = self.places.get_or_insert_with(|| place(content, start_line, starts));
        places.get(i).copied().unwrap_or((start_line, 1))
    }

    /// The character column where field `i` starts (at once on a
    /// one-line ASCII record, the common case).
    fn place_column(&mut self, i: usize) -> u32 {
        let start = self.starts.get(i).copied().unwrap_or(0);
        let before = &self.content[..start.min(self.content.len())];
        if before.is_ascii() && !before.contains(&b'\n') && !before.contains(&b'\r') {
            return start as u32 + 1;
        }
        self.place(i).1
    }

    /// Just past the record's last character.
    fn end(&mut self) -> (u32, u32) {
        let last = self.starts.len().saturating_sub(1);
        self.place(last)
    }
}

/// Where each field starts in a record's bytes, then where the record's
/// text ends (before its line end); or the first place the bytes break the
/// quoting rules csv-core is lenient about, and why.
///
/// Each field is checked in constant time from what csv-core read (a quoted
/// field is its text, its doubled quotes and two quotes; an unquoted one is
/// its text, with no quote in it); only a record that fails is walked byte
/// by byte to find the place.
fn layout(content: &[u8], fields: &[&[u8]]) -> Result<SmallVec<[usize; 11]>, (usize, &'static str)> {
    let mut starts = SmallVec::with_capacity(fields.len() + 1);
    let mut pos = 0;
    let mut fits = true;
    for (k, f) in fields.iter().enumerate() {
        starts.push(pos);
        let len = if content.get(pos) == Some(&b'"') {
            let quotes = f.iter().filter(|&&b| b == b'"').count();
            let len = f.len() + quotes + 2;
            if content.get(pos + len - 1) != Some(&b'"') {
                fits = false;
            }
            len
        } else {
            if f.contains(&b'"') {
                fits = false;
            }
            f.len()
        };
        pos += len;
        let last = k + 1 == fields.len();
        match content.get(pos) {
            Some(b',') if !last => pos += 1,
            Some(b'\r' | b'\n') | None if last => {}
            _ => fits = false,
        }
        if !fits {
            break;
        }
    }
    if fits {
        starts.push(pos);
        return Ok(starts);
    }
    Err(broken_quote(content))
}

/// The first place `content` breaks RFC 4180's quoting, walking it byte by byte.
fn broken_quote(content: &[u8]) -> (usize, &'static str) {
    const AFTER_QUOTE: &str = "unexpected character after a closing quote: a quote inside a field is written `\"\"`";
    const IN_UNQUOTED: &str = "a quote inside an unquoted field: quote the whole field and write the quote as `\"\"`";
    const NEVER_CLOSED: &str = "a quoted field is never closed: a quote is missing";
    let mut pos = 0;
    loop {
        if content.get(pos) == Some(&b'"') {
            let open = pos;
            pos += 1;
            loop {
                match content.get(pos) {
                    None => return (open, NEVER_CLOSED),
                    Some(b'"') if content.get(pos + 1) == Some(&b'"') => pos += 2,
                    Some(b'"') => break,
                    Some(_) => pos += 1,
                }
            }
            pos += 1; // the closing quote
        } else {
            while let Some(&b) = content.get(pos) {
                match b {
                    b',' | b'\r' | b'\n' => break,
                    b'"' => return (pos, IN_UNQUOTED),
                    _ => pos += 1,
                }
            }
        }
        match content.get(pos) {
            Some(b',') => pos += 1,
            Some(b'\r' | b'\n') | None => return (pos, AFTER_QUOTE),
            Some(_) => return (pos, AFTER_QUOTE),
        }
    }
}

/// The line and character column of each byte offset in `offsets`
/// (ascending), counting lines from `start_line`. One pass over the bytes.
fn place(content: &[u8], start_line: u32, offsets: &[usize]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(offsets.len());
    let (mut line, mut column) = (start_line, 1u32);
    let mut i = 0;
    for &offset in offsets {
        while i < offset.min(content.len()) {
            match content[i] {
                b'\n' => {
                    line += 1;
                    column = 1;
                }
                b'\r' if content.get(i + 1) != Some(&b'\n') => {
                    line += 1;
                    column = 1;
                }
                b'\r' => {}
                // A UTF-8 continuation byte is part of the character before.
                b if b & 0xC0 == 0x80 => {}
                _ => column += 1,
            }
            i += 1;
        }
        out.push((line, column));
    }
    out
}

/// Diagnostics in file order: by file, line, column; equal places keep their order.
pub fn sort_by_place(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| (&a.source, a.line, a.column).cmp(&(&b.source, b.line, b.column)));
}

fn quoted_header(names: &[&str]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(",")
}

// ------------------------------------------------------------------ writing

/// Users (in columns) as the licence import/export file, the header first
/// when `header`. Every user is listed (empty cells without a licence), so
/// importing it restores exactly these licences (C4).
pub fn write_licenses(users: &Population, header: bool) -> String {
    let mut out = String::new();
    if header {
        write_record(&mut out, COLUMNS.iter().copied());
    }
    for i in 0..users.standard.len() {
        let (id, name, email, core) = population_row(users, i);
        let cell = |l: LicenseType| if core.held_license() == Some(l) { "Assigned" } else { "" };
        write_record(&mut out, [id, name, email, cell(LicenseType::Standard), cell(LicenseType::Inspections)]);
    }
    out
}

/// Users (in columns) as a users listing: `Assigned`, `Disabled` or empty
/// (grey), then `Last Sync`, `Assigned At`, `Temporary Since` and
/// `External`; the header first when `header`. A check accepts it, and
/// importing it gives the same selectors back.
pub fn write_listing(users: &Population, header: bool) -> String {
    let mut out = String::new();
    if header {
        write_record(&mut out, COLUMNS.iter().chain(OPTIONAL_COLUMNS.iter()).copied());
    }
    let instant = |at: Option<Instant>| at.map(format_rfc3339).unwrap_or_default();
    let cell = |s: Selector| match s {
        Selector::Assigned => "Assigned",
        Selector::Disabled => "Disabled",
        Selector::Unassigned => "",
    };
    for i in 0..users.standard.len() {
        let (id, name, email, u) = population_row(users, i);
        let (last, assigned, temporary) = (instant(u.last_sync()), instant(u.assigned_at()), instant(u.temporary_since()));
        let external = if u.external { "true" } else { "false" };
        write_record(
            &mut out,
            [id, name, email, cell(u.standard), cell(u.inspections), &last, &assigned, &temporary, external],
        );
    }
    out
}

/// One CSV record, every field quoted, `\n` line end.
pub fn write_record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        if field.contains('"') {
            out.push_str(&field.replace('"', "\"\""));
        } else {
            out.push_str(field);
        }
        out.push('"');
    }
    out.push('\n');
}

// ------------------------------------------------------------------ what-if

/// Two sides of a what-if compared, user by user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Every outcome either side has, with both counts: licences (in WIT
    /// order) when allowed, then codes when denied.
    pub counts: Vec<(&'static str, u32, u32)>,
    /// Positions whose allow, code, licence or rule differ.
    pub changed: Vec<u32>,
}

/// Counts outcomes by licence when allowed and by code when denied; `key`
/// gives an outcome's allow, code and licence. An outcome changes when any
/// of its parts (the rule too) differs.
pub fn compare<T: PartialEq>(
    before: &[T],
    after: &[T],
    key: impl Fn(&T) -> (bool, Code, Option<GrantedLicense>),
) -> Comparison {
    // One count per licence (in WIT order), then per code: no map needed.
    let licenses = GrantedLicense::ALL.len();
    let class = |o: &T| match key(o) {
        (true, _, Some(l)) => GrantedLicense::ALL.iter().position(|x| *x == l).unwrap_or(0),
        (_, code, _) => licenses + Code::ALL.iter().position(|x| *x == code).unwrap_or(0),
    };
    let mut counts = vec![(0u32, 0u32); licenses + Code::ALL.len()];
    for o in before {
        counts[class(o)].0 += 1;
    }
    for o in after {
        counts[class(o)].1 += 1;
    }
    let name = |i: usize| match GrantedLicense::ALL.get(i) {
        Some(l) => l.name(),
        None => Code::ALL[i - licenses].name(),
    };
    Comparison {
        counts: counts.into_iter().enumerate().filter(|(_, c)| *c != (0, 0)).map(|(i, (b, a))| (name(i), b, a)).collect(),
        changed: (0..before.len().min(after.len()) as u32).filter(|&i| before[i as usize] != after[i as usize]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"\n\
        \"a\",\"A\",\"a@x\",\"Assigned\",\"\"\n\
        \"b\",\"B\",\"b@x\",\"\",\"Assigned\"\n\
        \"a\",\"A again\",\"a@x\",\"\",\"\"\n\
        \"c\",\"C\",\"c@x\",\"Assigned\",\"Assigned\"\n";

    #[test]
    fn a_paged_read_finds_what_a_whole_read_finds_and_hands_over_every_row() {
        let (whole, found) = Listing::read(FILE.as_bytes(), "f.csv");
        let mut paged = Listing::paged("f.csv");
        let mut pages = Vec::new();
        for byte in FILE.as_bytes().chunks(7) {
            paged.feed(byte);
            pages.extend(std::iter::from_fn(|| paged.take_page(2)));
        }
        let found_paged = paged.finish();
        pages.extend(std::iter::from_fn(|| paged.take_page(2)));
        assert_eq!(found_paged, found);
        let duplicate: Vec<&str> = found.iter().map(|d| d.message.as_str()).filter(|m| m.starts_with("duplicate")).collect();
        assert_eq!(duplicate, ["duplicate Id `a` (first on line 2)"]);
        assert_eq!((paged.rows(), paged.lines()), (whole.rows(), whole.lines()));
        assert_eq!(paged.held(), whole.held());
        assert_eq!(paged.held(), (1, 2));
        // The pages joined are the whole read's population, names and e-mails included.
        let ids: Vec<String> = pages
            .iter()
            .flat_map(|p| (0..p.standard.len()).map(move |i| population_row(p, i).0.to_string()))
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let names: Vec<&str> = pages.iter().flat_map(|p| (0..p.standard.len()).map(move |i| population_row(p, i).1)).collect();
        assert_eq!(names, ["A", "B", "C"]);
    }

    #[test]
    fn a_file_read_ids_only_imports_as_the_whole_file_does() {
        let onto = "\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"\n\
            \"a\",\"A\",\"a@x\",\"\",\"Disabled\"\n\"b\",\"B\",\"b@x\",\"Assigned\",\"\"\n\"c\",\"C\",\"c@x\",\"\",\"\"\n";
        let file = "\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"\n\"c\",\"\",\"\",\"Assigned\",\"\"\n\"b\",\"\",\"\",\"\",\"\"\n";
        let import = |file_listing: Listing| {
            let (mut listing, found) = Listing::read(onto.as_bytes(), "users.csv");
            assert!(found.is_empty(), "{found:?}");
            assert!(listing.import(&file_listing).is_empty());
            listing.users().iter().map(|u| { let u = u.to_user(); (u.id, u.standard, u.inspections) }).collect::<Vec<_>>()
        };
        let whole = Listing::read(file.as_bytes(), "f.csv").0;
        let mut ids = Listing::ids_only("f.csv");
        ids.feed(file.as_bytes());
        assert!(ids.finish().is_empty());
        let (a, b) = (import(whole), import(ids));
        assert_eq!(a, b);
        assert_eq!(a[2], ("c".to_string(), Selector::Assigned, Selector::Unassigned));
        assert_eq!(a[1], ("b".to_string(), Selector::Unassigned, Selector::Unassigned));
        // Unknown ids are named by either.
        let stray = "\"Id\",\"Full Name\",\"Email\",\"Standard\",\"Inspections\"\n\"zed\",\"\",\"\",\"\",\"\"\n";
        let mut ids = Listing::ids_only("s.csv");
        ids.feed(stray.as_bytes());
        ids.finish();
        let (mut listing, _) = Listing::read(onto.as_bytes(), "users.csv");
        let errors = listing.import(&ids);
        assert_eq!(errors.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(), ["unknown Id `zed`: no such user in users.csv"]);
    }
}
