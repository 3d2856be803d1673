//! Evaluation of compiled rules against one [`Event`].
//!
//! Field values are read straight from the event. Each field a rule names is rendered as
//! text and case-folded at most once per event, into buffers of a [`Scratch`] that the caller
//! reuses. Once the buffers have grown, the common path does not allocate, which
//! `tests/no_allocation.rs` checks. Lists take a slower path that allocates, because each
//! element is compared on its own.

use std::net::IpAddr;

use chrono::{Datelike, NaiveDateTime, Timelike};
use tocsin_event::{Event, Value};

use crate::compile::{FieldId, FieldTable, FieldTest, GlobPiece, Node, RefMode, StrMatch, StrTest, TimePart, ValueTest};
use crate::modifiers::DASHES;

/// Appends the case-folded form of `text` to `out`.
///
/// ASCII text takes a fast path. Other text is folded per character with Unicode lower-case
/// mapping plus the final sigma and long s mapped to their plain forms, which covers Cyrillic,
/// Greek, accented and fullwidth letters. The mapping is locale-independent: Turkish dotless
/// `ı` stays distinct from `i`, and `İ` folds to `i` followed by U+0307, as in the Unicode
/// default case mapping.
pub fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        out[start..].make_ascii_lowercase();
        return;
    }
    for c in text.chars() {
        match c {
            '\u{03C2}' => out.push('\u{03C3}'),
            '\u{017F}' => out.push('s'),
            c => out.extend(c.to_lowercase()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Missing,
    Null,
    Text,
    List,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    epoch: u32,
    state: SlotState,
    raw: (u32, u32),
    /// Range in the folded buffer; `u32::MAX` start when not folded yet.
    folded: (u32, u32),
}

const EMPTY_SLOT: Slot = Slot { epoch: 0, state: SlotState::Missing, raw: (0, 0), folded: (u32::MAX, 0) };

/// Per-thread buffers reused across events.
#[derive(Debug, Default)]
pub struct Scratch {
    epoch: u32,
    slots: Vec<Slot>,
    raw: String,
    folded: String,
    /// Folded text of every scalar of the event joined by NUL, for keyword searches and their
    /// index, with the range of each scalar: the strings first, up to `keyword_strings_end`,
    /// and the other values after them once `keyword_tail_epoch` is current.
    keyword_folded_epoch: u32,
    keyword_tail_epoch: u32,
    keyword_strings_end: usize,
    keyword_folded: Vec<u8>,
    keyword_folded_spans: Vec<(u32, u32)>,
    keyword_render: String,
    /// Original text of every scalar, in the same order, for keyword tests that need it.
    keyword_raw_epoch: u32,
    keyword_raw: String,
    keyword_raw_spans: Vec<(u32, u32)>,
    /// Field name and id seen at each position of the previous events (see
    /// [`EvalCtx::preload`]).
    name_cache: Vec<(String, Option<FieldId>)>,
    /// The rule set whose field ids `name_cache` holds.
    serial: u64,
    /// Per rule: the epoch of its clause mask and the mask of clauses the index found.
    pub(crate) clause_epoch: Vec<u32>,
    pub(crate) clause_mask: Vec<u8>,
    pub(crate) patterns_seen: Vec<u32>,
    pub(crate) candidates: Vec<u32>,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch::default()
    }

    /// Starts a new event: invalidates all cached fields without touching them.
    pub(crate) fn reset(&mut self, serial: u64, fields: usize, rules: usize, patterns: usize) {
        if self.serial != serial {
            self.serial = serial;
            self.name_cache.clear();
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.slots.iter_mut().for_each(|s| s.epoch = 0);
            self.keyword_folded_epoch = 0;
            self.keyword_tail_epoch = 0;
            self.keyword_raw_epoch = 0;
            self.clause_epoch.iter_mut().for_each(|s| *s = 0);
            self.patterns_seen.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        if self.slots.len() < fields {
            self.slots.resize(fields, EMPTY_SLOT);
        }
        if self.clause_epoch.len() < rules {
            self.clause_epoch.resize(rules, 0);
            self.clause_mask.resize(rules, 0);
        }
        if self.patterns_seen.len() < patterns {
            self.patterns_seen.resize(patterns, 0);
        }
        self.raw.clear();
        self.folded.clear();
        self.candidates.clear();
    }

    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }
}

/// The event being matched and the cache of its field texts.
pub struct EvalCtx<'a> {
    pub event: &'a Event,
    pub fields: &'a FieldTable,
    /// Renames for this event's log source: (rule field, event field).
    pub field_map: &'static [(&'static str, &'static str)],
    pub scratch: &'a mut Scratch,
    /// Set by [`EvalCtx::preload`].
    pub preloaded: bool,
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Str(s) => out.push_str(s),
        Value::Int(i) => push_int(*i, out),
        other => {
            let _ = other.write_text(out);
        }
    }
}

/// Writes an integer in decimal without the formatting machinery of `write!`, because it runs
/// for every integer of every event.
fn push_int(value: i64, out: &mut String) {
    let (digits, start) = int_digits(value);
    digits[start..].iter().for_each(|&d| out.push(char::from(d)));
}

/// Returns the decimal digits of `value`, with its sign, as `digits[start..]`.
fn int_digits(value: i64) -> ([u8; 20], usize) {
    let mut digits = [0u8; 20];
    let mut n = value.unsigned_abs();
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        start -= 1;
        digits[start] = b'-';
    }
    (digits, start)
}

/// Appends the folded text of each scalar of `value` that is a string (`strings`) or is not,
/// to `out`, NUL before each but the first, recording each one's range. `render` is a buffer for
/// values that are not strings.
fn push_folded_scalars(value: &Value, strings: bool, out: &mut Vec<u8>, spans: &mut Vec<(u32, u32)>, render: &mut String) {
    match value {
        Value::List(items) => items.iter().for_each(|item| push_folded_scalars(item, strings, out, spans, render)),
        Value::Null => {}
        value if matches!(value, Value::Str(_)) != strings => {}
        value => {
            if !out.is_empty() {
                out.push(0);
            }
            let start = out.len();
            match value {
                Value::Str(s) if s.is_ascii() => {
                    out.extend_from_slice(s.as_bytes());
                    lowercase_ascii(&mut out[start..]);
                }
                Value::Str(s) => {
                    render.clear();
                    fold_into(s, render);
                    out.extend_from_slice(render.as_bytes());
                }
                Value::Int(i) => {
                    let (digits, first) = int_digits(*i);
                    out.extend_from_slice(&digits[first..]);
                }
                value => {
                    // Booleans, floats, addresses and timestamps render as ASCII.
                    render.clear();
                    write_value(value, render);
                    out.extend_from_slice(render.as_bytes());
                    lowercase_ascii(&mut out[start..]);
                }
            }
            spans.push((start as u32, out.len() as u32));
        }
    }
}

/// Lower-cases the ASCII letters of `bytes` in place; other bytes are left as they are.
fn lowercase_ascii(bytes: &mut [u8]) {
    for byte in bytes {
        *byte |= ((byte.wrapping_sub(b'A') < 26) as u8) << 5;
    }
}

impl<'a> EvalCtx<'a> {
    /// Looks up a field by its rule name, trying the log source's rename when it is missing.
    ///
    /// When the event has the name twice, the later field wins ([`Event::get_last`]): rules
    /// read a Windows event's data, while log-source routing reads its System fields.
    pub fn lookup(&self, id: FieldId) -> Option<&'a Value> {
        let name = self.fields.name(id);
        if let Some(value) = self.event.get_last(name) {
            return Some(value);
        }
        let mapped = self.field_map.iter().find(|(from, _)| *from == name)?.1;
        self.event.get_last(mapped)
    }

    /// Fills the slots of all event fields that some rule names, in one pass over the event.
    ///
    /// After this, a field without a slot is missing under its source name, so [`Self::load`]
    /// only needs the slower [`Event::get`] for names that can be ECS aliases (they contain a
    /// dot) or that the log source renames.
    ///
    /// Events of one source mostly repeat the same field names in the same order, so the field
    /// id found for each position is remembered and reused when the next event has the same
    /// name there, which saves hashing the name.
    pub fn preload(&mut self) {
        let event = self.event;
        for (position, field) in event.fields().iter().enumerate() {
            let cache = &mut self.scratch.name_cache;
            let id = match cache.get_mut(position) {
                Some((name, id)) if name.as_str() == field.name.as_str() => *id,
                Some((name, id)) => {
                    name.clear();
                    name.push_str(&field.name);
                    *id = self.fields.id(&field.name);
                    *id
                }
                None => {
                    let id = self.fields.id(&field.name);
                    cache.push((field.name.to_string(), id));
                    id
                }
            };
            // A later field of the same name replaces an earlier one, as in `lookup`.
            if let Some(id) = id {
                self.fill(id, Some(&field.value));
            }
        }
        self.preloaded = true;
    }

    /// Fills the slot of `id` for this event and returns its state.
    fn load(&mut self, id: FieldId) -> SlotState {
        let epoch = self.scratch.epoch;
        let slot = self.scratch.slots[id as usize];
        if slot.epoch == epoch {
            return slot.state;
        }
        let renamed = !self.field_map.is_empty() && self.field_map.iter().any(|(from, _)| *from == self.fields.name(id));
        let value = if self.preloaded && !self.fields.is_dotted(id) && !renamed {
            None
        } else {
            self.lookup(id)
        };
        self.fill(id, value)
    }

    fn fill(&mut self, id: FieldId, value: Option<&Value>) -> SlotState {
        let epoch = self.scratch.epoch;
        let scratch = &mut *self.scratch;
        let start = scratch.raw.len() as u32;
        let state = match value {
            None => SlotState::Missing,
            Some(Value::Null) => SlotState::Null,
            Some(Value::List(items)) => {
                // Joined with NUL so that literal prefiltering over the list stays exact for
                // each element; evaluation compares elements one by one.
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        scratch.raw.push('\0');
                    }
                    write_value(item, &mut scratch.raw);
                }
                SlotState::List
            }
            Some(value) => {
                write_value(value, &mut scratch.raw);
                SlotState::Text
            }
        };
        let end = scratch.raw.len() as u32;
        scratch.slots[id as usize] = Slot { epoch, state, raw: (start, end), folded: (u32::MAX, 0) };
        state
    }

    fn ensure_folded(&mut self, id: FieldId) {
        let slot = self.scratch.slots[id as usize];
        if slot.folded.0 != u32::MAX {
            return;
        }
        let scratch = &mut *self.scratch;
        let start = scratch.folded.len();
        let raw = &scratch.raw[slot.raw.0 as usize..slot.raw.1 as usize];
        fold_into(raw, &mut scratch.folded);
        scratch.slots[id as usize].folded = (start as u32, scratch.folded.len() as u32);
    }

    fn raw_text(&self, id: FieldId) -> &str {
        let slot = self.scratch.slots[id as usize];
        &self.scratch.raw[slot.raw.0 as usize..slot.raw.1 as usize]
    }

    fn folded_text(&self, id: FieldId) -> &str {
        let slot = self.scratch.slots[id as usize];
        &self.scratch.folded[slot.folded.0 as usize..slot.folded.1 as usize]
    }

    /// Returns the folded text of a field for literal prefiltering (lists joined by NUL), or
    /// `None` when the field is missing or null.
    pub fn folded_for_index(&mut self, id: FieldId) -> Option<&str> {
        match self.load(id) {
            SlotState::Missing | SlotState::Null => None,
            SlotState::Text | SlotState::List => {
                self.ensure_folded(id);
                Some(self.folded_text(id))
            }
        }
    }

    pub fn eval(&mut self, node: &Node) -> bool {
        match node {
            Node::Test(test) => self.eval_test(test),
            Node::And(items) => items.iter().all(|n| self.eval(n)),
            Node::Or(items) => items.iter().any(|n| self.eval(n)),
            Node::Not(inner) => !self.eval(inner),
            Node::Const(b) => *b,
        }
    }

    fn eval_test(&mut self, test: &FieldTest) -> bool {
        let Some(id) = test.field else {
            return self.eval_keywords(test);
        };
        let state = self.load(id);
        if test.has_fieldref {
            for value in test.values.iter().flatten() {
                if let ValueTest::FieldRef { other, .. } = value
                    && !matches!(self.load(*other), SlotState::Missing | SlotState::Null)
                {
                    self.ensure_folded(*other);
                }
            }
        }
        let result = match state {
            SlotState::Missing | SlotState::Null => self.combine(test, |_, v| missing_matches(v, state == SlotState::Null)),
            SlotState::Text => {
                if test.needs_folded {
                    self.ensure_folded(id);
                }
                let this = &*self;
                let raw = this.raw_text(id);
                let folded = if test.needs_folded { this.folded_text(id) } else { "" };
                this.combine(test, |ctx, v| ctx.value_matches(v, raw, folded))
            }
            SlotState::List => {
                let Some(Value::List(items)) = self.lookup(id) else { return false };
                let this = &*self;
                this.combine(test, |ctx, v| {
                    items.iter().any(|item| {
                        let mut raw = String::new();
                        write_value(item, &mut raw);
                        let mut folded = String::new();
                        fold_into(&raw, &mut folded);
                        ctx.value_matches(v, &raw, &folded)
                    })
                })
            }
        };
        result != test.negate
    }

    /// Applies the any/all logic of a test over its values and their alternatives.
    fn combine(&self, test: &FieldTest, check: impl Fn(&Self, &ValueTest) -> bool) -> bool {
        let group = |alternatives: &Vec<ValueTest>| alternatives.iter().any(|v| check(self, v));
        if test.all { test.values.iter().all(group) } else { test.values.iter().any(group) }
    }

    fn value_matches(&self, test: &ValueTest, raw: &str, folded: &str) -> bool {
        match test {
            ValueTest::Str(s) => str_matches(s, if s.cased { raw } else { folded }),
            ValueTest::Regex { regex, .. } => regex.is_match(raw),
            ValueTest::AnyContains { automaton, cased, .. } => automaton.is_match(if *cased { raw } else { folded }),
            ValueTest::Cidr { network, prefix } => parse_ip(raw).is_some_and(|ip| in_network(ip, *network, *prefix)),
            ValueTest::Num(op, right) => parse_number(raw).is_some_and(|left| op.apply(left, *right)),
            ValueTest::Null => false,
            ValueTest::Exists(b) => *b,
            ValueTest::FieldRef { other, mode, cased } => {
                let slot = self.scratch.slots[*other as usize];
                if matches!(slot.state, SlotState::Missing | SlotState::Null) {
                    return false;
                }
                let (left, right) = if *cased { (raw, self.raw_text(*other)) } else { (folded, self.folded_text(*other)) };
                match mode {
                    RefMode::Equal => left == right,
                    RefMode::Contains => left.contains(right),
                    RefMode::Prefix => left.starts_with(right),
                    RefMode::Suffix => left.ends_with(right),
                }
            }
            ValueTest::Time { part, op, value } => time_part(raw, *part).is_some_and(|x| op.apply(x as f64, *value)),
        }
    }

    /// Returns the folded text of the event's values joined by NUL, so that a literal without
    /// NUL is found only inside one value: of its strings only, or (`all`) of every scalar, the
    /// strings first. Each part is built once per event, and only when asked for: a keyword that
    /// cannot occur in the text of a number, address or timestamp needs the strings alone.
    pub fn keyword_text(&mut self, all: bool) -> &[u8] {
        let scratch = &mut *self.scratch;
        if scratch.keyword_folded_epoch != scratch.epoch {
            scratch.keyword_folded_epoch = scratch.epoch;
            scratch.keyword_folded.clear();
            scratch.keyword_folded_spans.clear();
            for field in self.event.fields() {
                push_folded_scalars(&field.value, true, &mut scratch.keyword_folded, &mut scratch.keyword_folded_spans, &mut scratch.keyword_render);
            }
            scratch.keyword_strings_end = scratch.keyword_folded.len();
        }
        if !all {
            return &self.scratch.keyword_folded[..self.scratch.keyword_strings_end];
        }

        if scratch.keyword_tail_epoch != scratch.epoch {
            scratch.keyword_tail_epoch = scratch.epoch;
            for field in self.event.fields() {
                push_folded_scalars(&field.value, false, &mut scratch.keyword_folded, &mut scratch.keyword_folded_spans, &mut scratch.keyword_render);
            }
        }
        &self.scratch.keyword_folded
    }

    /// Renders the original text of every scalar, in the order of [`Self::keyword_text`].
    fn ensure_keyword_raw(&mut self) {
        let scratch = &mut *self.scratch;
        if scratch.keyword_raw_epoch == scratch.epoch {
            return;
        }
        scratch.keyword_raw_epoch = scratch.epoch;
        scratch.keyword_raw.clear();
        scratch.keyword_raw_spans.clear();
        for strings in [true, false] {
            for field in self.event.fields() {
                for_each_scalar(&field.value, &mut |value| {
                    if matches!(value, Value::Str(_)) != strings {
                        return;
                    }
                    let start = scratch.keyword_raw.len() as u32;
                    write_value(value, &mut scratch.keyword_raw);
                    scratch.keyword_raw_spans.push((start, scratch.keyword_raw.len() as u32));
                });
            }
        }
    }

    /// Searches every value of the event; a rule value matches when any event value matches it.
    fn eval_keywords(&mut self, test: &FieldTest) -> bool {
        self.keyword_text(true);
        let needs_raw = test.values.iter().flatten().any(|v| !matches!(v, ValueTest::AnyContains { cased: false, .. } | ValueTest::Str(StrTest { matcher: StrMatch::Contains(_), cased: false })));
        if needs_raw {
            self.ensure_keyword_raw();
        }

        let scratch = &*self.scratch;
        let joined = scratch.keyword_folded.as_slice();
        let check = |v: &ValueTest| match v {
            ValueTest::AnyContains { automaton, cased: false, .. } => automaton.is_match(joined),
            ValueTest::Str(StrTest { matcher: StrMatch::Contains(finder), cased: false }) => finder.find(joined).is_some(),
            _ => scratch.keyword_raw_spans.iter().zip(&scratch.keyword_folded_spans).any(|(&(rs, re), &(fs, fe))| {
                // Each span contains the folded text of one value, which is valid UTF-8.
                let folded = std::str::from_utf8(&joined[fs as usize..fe as usize]).unwrap_or_default();
                self.value_matches(v, &scratch.keyword_raw[rs as usize..re as usize], folded)
            }),
        };
        let group = |alternatives: &Vec<ValueTest>| alternatives.iter().any(check);
        let result = if test.all { test.values.iter().all(group) } else { test.values.iter().any(group) };
        result != test.negate
    }
}

fn for_each_scalar(value: &Value, f: &mut dyn FnMut(&Value)) {
    match value {
        Value::List(items) => items.iter().for_each(|item| for_each_scalar(item, f)),
        Value::Null => {}
        other => f(other),
    }
}

fn missing_matches(test: &ValueTest, is_null: bool) -> bool {
    match test {
        ValueTest::Null => true,
        ValueTest::Exists(b) => *b == is_null,
        _ => false,
    }
}

/// Compares text with a string test; the caller passes folded text unless the test is cased.
pub fn str_matches(test: &StrTest, text: &str) -> bool {
    match &test.matcher {
        StrMatch::Exact(s) => text == &**s,
        StrMatch::Prefix(s) => text.starts_with(&**s),
        StrMatch::Suffix(s) => text.ends_with(&**s),
        StrMatch::Contains(finder) => finder.find(text.as_bytes()).is_some(),
        StrMatch::Glob(pieces) => glob_matches(pieces, text),
    }
}

/// Matches a wildcard pattern, backtracking to the last `*` on a mismatch.
fn glob_matches(pieces: &[GlobPiece], text: &str) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut resume: Option<(usize, usize)> = None;
    loop {
        if pi < pieces.len() {
            let rest = &text[ti..];
            let advanced = match &pieces[pi] {
                GlobPiece::Star => {
                    if pi + 1 == pieces.len() {
                        return true;
                    }
                    resume = Some((pi + 1, ti));
                    pi += 1;
                    continue;
                }
                GlobPiece::Lit(lit) => rest.starts_with(&**lit).then_some(lit.len()),
                GlobPiece::One => rest.chars().next().map(char::len_utf8),
                GlobPiece::Dash => rest.chars().next().filter(|c| DASHES.contains(c)).map(char::len_utf8),
            };
            if let Some(len) = advanced {
                pi += 1;
                ti += len;
                continue;
            }
        } else if ti == text.len() {
            return true;
        }
        match resume {
            Some((resume_pi, resume_ti)) if resume_ti < text.len() => {
                let step = text[resume_ti..].chars().next().map_or(1, char::len_utf8);
                resume = Some((resume_pi, resume_ti + step));
                pi = resume_pi;
                ti = resume_ti + step;
            }
            _ => return false,
        }
    }
}

/// Parses an address for `cidr`. An IPv4-mapped IPv6 address (`::ffff:192.0.2.7`) is treated
/// as the IPv4 address it carries, so IPv4 networks match it.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let ip: IpAddr = text.trim().trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

fn in_network(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Parses a number at comparison time: decimal integers and floats, and `0x` hexadecimal.
fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok().map(|i| i as f64);
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Extracts a time part from RFC 3339 text or from `YYYY-MM-DD HH:MM:SS[.fff]` (Sysmon's
/// `UtcTime`). Week numbers are ISO 8601 weeks.
fn time_part(text: &str, part: TimePart) -> Option<u32> {
    let text = text.trim();
    let time = chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.naive_utc())
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok())?;
    Some(match part {
        TimePart::Minute => time.minute(),
        TimePart::Hour => time.hour(),
        TimePart::Day => time.day(),
        TimePart::Week => time.iso_week().week(),
        TimePart::Month => time.month(),
        TimePart::Year => time.year() as u32,
    })
}

/// Reads a number from an event value for numeric correlations.
pub(crate) fn parse_event_number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => parse_number(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_unicode() {
        let mut out = String::new();
        fold_into("ПРИВЕТ ΣΟΦΟΣ Ａ", &mut out);
        assert_eq!(out, "привет σοφοσ ａ");
    }

    #[test]
    fn glob_backtracks() {
        let pieces = [GlobPiece::Star, GlobPiece::Lit("ab".into()), GlobPiece::One, GlobPiece::Lit("d".into())];
        assert!(glob_matches(&pieces, "xxabababcd"));
        assert!(!glob_matches(&pieces, "xxabd"));
        let dash = [GlobPiece::Lit("a".into()), GlobPiece::Dash, GlobPiece::Lit("b".into())];
        assert!(glob_matches(&dash, "a\u{2015}b"));
        assert!(!glob_matches(&dash, "a_b"));
    }

    #[test]
    fn cidr_membership() {
        let net: IpAddr = "2001:db8::".parse().unwrap();
        assert!(in_network(parse_ip("2001:0DB8:0000:0000::5").unwrap(), net, 64));
        assert!(!in_network(parse_ip("2001:db8:0:1::1").unwrap(), net, 64));
        let v4: IpAddr = "192.0.2.0".parse().unwrap();
        assert!(in_network(parse_ip("::ffff:192.0.2.7").unwrap(), v4, 24));
        assert!(parse_ip("-").is_none());
    }

    #[test]
    fn later_field_of_same_name_wins() {
        use tocsin_event::{Evidence, Schema, SourceRef};

        let rules = r"
title: cleared log
logsource: { product: windows, service: system }
detection:
  selection:
    EventID: 104
    Channel: Application
  condition: selection
";
        let mut builder = crate::RuleSetBuilder::new();
        builder.add_str(rules, None);
        let (set, _) = builder.build();

        // Event 104 as decoded: the System channel first, then the cleared log from UserData.
        let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("test"), 1));
        event.push("EventID", Value::Int(104));
        event.push("Channel", "System");
        event.push("Channel", "Application");
        assert_eq!(crate::route(&event).services, &["system"]);
        assert_eq!(set.matches(&event), vec![0]);
        assert_eq!(set.matches_unindexed(&event), vec![0]);
    }

    #[test]
    fn keywords_reach_numbers_and_timestamps() {
        use tocsin_event::{Evidence, Schema, SourceRef, Timestamp};

        let rules = r"
title: timestamp keyword
logsource: { product: windows }
detection:
  keywords: ['2024-01-02T03']
  condition: keywords
---
title: number keyword
logsource: { product: windows }
detection:
  keywords: ['4688']
  condition: keywords
---
title: string keyword
logsource: { product: windows }
detection:
  keywords: ['mimikatz']
  condition: keywords
";
        let mut builder = crate::RuleSetBuilder::new();
        builder.add_str(rules, None);
        let (set, _) = builder.build();

        // The keywords occur only in a timestamp, an integer and a string respectively.
        let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("test"), 1));
        event.push("Channel", "Security");
        event.push("TimeCreated_SystemTime", Value::Time(Timestamp::parse_rfc3339("2024-01-02T03:04:05Z").unwrap()));
        event.push("EventID", Value::Int(4688));
        event.push("CommandLine", "MIMIKATZ.exe");
        assert_eq!(set.matches(&event), vec![0, 1, 2]);
        assert_eq!(set.matches_unindexed(&event), vec![0, 1, 2]);
    }

    #[test]
    fn time_parts() {
        assert_eq!(time_part("2025-11-27 07:40:10.132", TimePart::Hour), Some(7));
        assert_eq!(time_part("2025-11-27T07:40:10Z", TimePart::Month), Some(11));
    }
}
