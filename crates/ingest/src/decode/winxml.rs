//! Windows event XML: `wevtutil qe /f:xml` output and `Get-WinEvent` `ToXml()` exports, a
//! sequence of `<Event xmlns=...>` elements, possibly inside an `<Events>` wrapper.
//!
//! The XML-to-[`Event`] conversion here ([`EventXml::build`]) is shared with the EVTX decoder,
//! which renders each record as XML through the evtx crate, so that both formats produce
//! exactly the same fields:
//!
//! - `System` children become fields named after the element, and their attributes
//!   `Element_Attribute` (`Provider_Name`, `TimeCreated_SystemTime`, `Execution_ProcessID`).
//!   `EventID` keeps its number when it carries a `Qualifiers` attribute, which becomes the
//!   field `Qualifiers`. The numeric System fields are integers.
//! - `<Data Name="X">` anywhere under `EventData`, `UserData` or another data section becomes
//!   the field `X`. Unnamed `<Data>` elements become `param1`, `param2`, … in document order,
//!   empty ones included, so positions stay stable.
//! - Other elements under a data section are flattened: a leaf element gives a field named
//!   after it, and every attribute gives `Element_Attribute`.
//! - A name that repeats within the data sections keeps every value, in order, as a
//!   [`Value::List`].
//! - `RenderingInfo/Message` becomes `message`; its other leaves `RenderingInfo_Name`.

use std::io::{self, BufRead};

use quick_xml::events::{BytesStart, Event as XmlEvent};
use tocsin_event::{Event, Evidence, Precision, Schema, Str, Timestamp, Value};

use crate::{Context, Location};

/// Recognises an event XML export: an `<Event` start tag and a `<System>` element in the
/// first bytes.
pub fn sniff(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    find_event_start(head, 0).is_some() && memchr::memmem::find(head, b"<System>").is_some()
}

/// Decodes a stream of `<Event>` elements. Each element is cut out of the stream on its own
/// (at most `max_line_bytes` long) and converted, so memory stays flat in the input size and a
/// malformed element costs only itself.
pub fn decode(reader: &mut dyn BufRead, ctx: &mut Context<'_>) -> io::Result<()> {
    let max_event_bytes = ctx.options.max_line_bytes;
    let mut splitter = EventSplitter::new(reader, max_event_bytes);
    let mut builder = EventXml::default();
    let mut index = 0u64;

    while let Some(element) = splitter.next_element()? {
        ctx.record();
        let location = Location::Offset { offset: element.offset };
        let evidence = Evidence::new(ctx.source.clone()).with_offset(element.offset).with_index(index);
        index += 1;
        let Some(bytes) = element.bytes else {
            ctx.error(location, format!("Event element longer than {max_event_bytes} bytes; skipped"));
            continue;
        };
        let mut event = Event::with_capacity(Schema::Windows, evidence, 32);
        match builder.build(bytes, &mut event) {
            Ok(()) => ctx.emit(event),
            Err(message) => ctx.error(location, format!("invalid Event element: {message}")),
        }
    }
    if splitter.truncated {
        ctx.error(
            Location::Offset { offset: splitter.offset },
            "input ends inside an Event element (missing </Event>)",
        );
    }
    Ok(())
}

/// One `<Event>` element cut from the stream, or `bytes: None` when it was too long.
struct Element<'a> {
    offset: u64,
    bytes: Option<&'a [u8]>,
}

/// Cuts `<Event ...>...</Event>` elements out of a byte stream. Text between elements (the
/// XML declaration, an `<Events>` wrapper, whitespace) is skipped.
struct EventSplitter<'r> {
    reader: &'r mut dyn BufRead,
    /// Bytes read but not yet consumed, starting at stream offset `offset`.
    buffer: Vec<u8>,
    offset: u64,
    max_len: usize,
    eof: bool,
    /// The stream ended inside an element.
    truncated: bool,
    /// Bytes of the previous element still at the buffer's start.
    consumed: usize,
}

const END_TAG: &[u8] = b"</Event>";

impl<'r> EventSplitter<'r> {
    fn new(reader: &'r mut dyn BufRead, max_len: usize) -> Self {
        EventSplitter { reader, buffer: Vec::new(), offset: 0, max_len, eof: false, truncated: false, consumed: 0 }
    }

    /// Reads more input into the buffer; returns false at the end of the stream.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.reader.fill_buf() {
                Ok([]) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(chunk) => {
                    let n = chunk.len();
                    self.buffer.extend_from_slice(chunk);
                    self.reader.consume(n);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn drop_front(&mut self, n: usize) {
        self.buffer.drain(..n);
        self.offset += n as u64;
    }

    fn next_element(&mut self) -> io::Result<Option<Element<'_>>> {
        let consumed = std::mem::take(&mut self.consumed);
        self.drop_front(consumed);

        // Find the next start tag, keeping a few bytes in case it straddles two reads.
        let start = loop {
            if let Some(start) = find_event_start(&self.buffer, 0) {
                break start;
            }
            let keep = self.buffer.len().min(END_TAG.len());
            let drop = self.buffer.len() - keep;
            self.drop_front(drop);
            if !self.fill()? {
                return Ok(None);
            }
        };
        self.drop_front(start);

        // Find the end tag, giving up on the element once it exceeds the limit.
        let mut searched: usize = 0;
        loop {
            let from = searched.saturating_sub(END_TAG.len());
            if let Some(end) = memchr::memmem::find(&self.buffer[from..], END_TAG) {
                let end = from + end + END_TAG.len();
                if end > self.max_len {
                    self.consumed = end;
                    return Ok(Some(Element { offset: self.offset, bytes: None }));
                }
                self.consumed = end;
                return Ok(Some(Element { offset: self.offset, bytes: Some(&self.buffer[..end]) }));
            }
            searched = self.buffer.len();
            if self.buffer.len() > self.max_len {
                return self.skip_long_element();
            }
            if !self.fill()? {
                self.truncated = true;
                self.consumed = self.buffer.len();
                return Ok(None);
            }
        }
    }

    /// Discards an over-long element up to its end tag without buffering it.
    fn skip_long_element(&mut self) -> io::Result<Option<Element<'_>>> {
        let offset = self.offset;
        loop {
            let keep = self.buffer.len().min(END_TAG.len());
            if let Some(end) = memchr::memmem::find(&self.buffer, END_TAG) {
                self.drop_front(end + END_TAG.len());
                return Ok(Some(Element { offset, bytes: None }));
            }
            let drop = self.buffer.len() - keep;
            self.drop_front(drop);
            if !self.fill()? {
                self.truncated = true;
                return Ok(Some(Element { offset, bytes: None }));
            }
        }
    }
}

/// Finds `<Event` followed by whitespace, `>` or `/` (so not `<EventData` or `<Events>`).
fn find_event_start(data: &[u8], from: usize) -> Option<usize> {
    let mut from = from;
    while let Some(hit) = memchr::memmem::find(&data[from..], b"<Event") {
        let at = from + hit;
        match data.get(at + 6) {
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/') => return Some(at),
            Some(_) => from = at + 6,
            None => return None,
        }
    }
    None
}

/// Deepest element nesting accepted inside one event.
const MAX_DEPTH: usize = 64;

/// Part of the event that an element belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Section {
    /// The `<Event>` element itself.
    Root,
    System,
    /// `EventData`, `UserData` and any other section whose leaves are event data.
    Data,
    RenderingInfo,
}

#[derive(Debug)]
struct Frame {
    section: Section,
    /// The field the element's text goes to when it turns out to be a leaf.
    field: Option<Str>,
    has_child: bool,
}

/// Converts `<Event>` elements into [`Event`]s; keeps its buffers between events.
#[derive(Default)]
pub(crate) struct EventXml {
    stack: Vec<Frame>,
    text: String,
    /// Fields from the data sections, gathered first so repeated names can be merged.
    data: Vec<(Str, Value)>,
    /// Position of each name in `data`, built once `data` is long enough that a linear search
    /// per field would make a hostile record with thousands of elements quadratic.
    positions: std::collections::HashMap<Str, usize>,
    unnamed: usize,
}

/// Fields in `data` above which names are looked up through `positions`.
const LINEAR_SEARCH_MAX: usize = 32;

/// Reason the fast scanner stopped.
enum Scan {
    /// The input uses XML the fast scanner does not handle (comments, CDATA, a DTD, odd
    /// syntax); quick-xml reads it instead.
    Fallback,
    /// The element is well-formed but is not an event.
    Invalid(String),
    /// The input ends inside the `<Event>` element.
    Truncated,
}

/// The error [`EventXml::build`] returns when the input ends inside the `<Event>` element; the
/// fields read before the cut are in the event.
pub(crate) const TRUNCATED: &str = "the input ends inside the Event element";

/// Calls its argument with each attribute's local name and unescaped value.
type AttributeSource<'x> = dyn FnMut(&mut dyn FnMut(&str, &str)) -> Result<(), String> + 'x;

impl EventXml {
    /// Adds the fields of one `<Event>` element to `event` and sets its timestamp from
    /// `TimeCreated/@SystemTime`. On error, `event` may hold some of the fields.
    ///
    /// A fast scanner handles the XML that the evtx crate and Windows write: elements,
    /// attributes, text, entity and character references. Anything else is read with
    /// quick-xml, which also produces the error message for malformed input.
    pub(crate) fn build(&mut self, xml: &[u8], event: &mut Event) -> Result<(), String> {
        let fields_before = event.fields().len();
        let timestamp_before = event.timestamp;
        if let Ok(text) = std::str::from_utf8(xml) {
            self.reset();
            match self.walk_fast(text, event) {
                Ok(()) => {
                    self.flush(event);
                    return Ok(());
                }
                Err(Scan::Invalid(message)) => {
                    self.flush(event);
                    return Err(message);
                }
                Err(Scan::Truncated) => {
                    // Keep the partial value of the leaf the input was cut in.
                    if self.collecting()
                        && let Some(Frame { field: Some(field), .. }) = self.stack.pop()
                    {
                        let value = Value::Str(Str::from(self.text.as_str()));
                        self.push_data(field, value);
                    }
                    self.flush(event);
                    return Err(TRUNCATED.into());
                }
                Err(Scan::Fallback) => {
                    if event.fields().len() > fields_before {
                        let mut fresh = Event::with_capacity(event.schema, event.evidence.clone(), 32);
                        for field in &event.fields()[..fields_before] {
                            fresh.push(field.name.clone(), field.value.clone());
                        }
                        fresh.raw = event.raw.take();
                        *event = fresh;
                    }
                    event.timestamp = timestamp_before;
                }
            }
        }
        self.reset();
        let result = self.walk(xml, event);
        self.flush(event);
        result
    }

    fn reset(&mut self) {
        self.stack.clear();
        self.text.clear();
        self.data.clear();
        self.positions.clear();
        self.unnamed = 0;
    }

    fn flush(&mut self, event: &mut Event) {
        self.positions.clear();
        for (name, value) in self.data.drain(..) {
            event.push(name, value);
        }
    }

    /// Reads the common subset of XML without validating UTF-8 again or allocating per token.
    fn walk_fast(&mut self, xml: &str, event: &mut Event) -> Result<(), Scan> {
        let bytes = xml.as_bytes();
        let mut pos = 0;
        let mut seen_root = false;
        let mut names: Vec<&str> = Vec::new();
        let mut attributes: Vec<(&str, std::borrow::Cow<'_, str>)> = Vec::new();

        loop {
            let Some(found) = memchr::memchr2(b'<', b'&', &bytes[pos..]) else {
                if seen_root {
                    if self.collecting() {
                        self.text.push_str(&xml[pos..]);
                    }
                    return Err(Scan::Truncated);
                }
                return Err(Scan::Fallback);
            };
            let at = pos + found;
            if at > pos && self.collecting() {
                self.text.push_str(&xml[pos..at]);
            }

            if bytes[at] == b'&' {
                // A reference that does not resolve (Sysmon for Linux writes `&lt ` without the
                // semicolon) is kept as literal text.
                let (text, end) = match entity_at(xml, at) {
                    Some((ch, end)) => (Some(ch), end),
                    None => (None, at + 1),
                };
                if self.collecting() {
                    self.text.push(text.unwrap_or('&'));
                }
                pos = end;
                continue;
            }

            match bytes.get(at + 1) {
                Some(b'?') => {
                    let end = memchr::memmem::find(&bytes[at..], b"?>").ok_or(Scan::Fallback)?;
                    pos = at + end + 2;
                }
                Some(b'/') => {
                    let end = at + memchr::memchr(b'>', &bytes[at..]).ok_or(Scan::Fallback)?;
                    let name = xml[at + 2..end].trim_end();
                    if names.pop() != Some(name) {
                        return Err(Scan::Fallback);
                    }
                    self.close(event);
                    if self.stack.is_empty() {
                        return Ok(());
                    }
                    pos = end + 1;
                }
                Some(b'!') | None => return Err(Scan::Fallback),
                Some(_) if seen_root && memchr::memchr(b'>', &bytes[at..]).is_none() => return Err(Scan::Truncated),
                Some(_) => {
                    let (name, empty, end) = start_tag(xml, at, &mut attributes).ok_or(Scan::Fallback)?;
                    let local = local_part(name);
                    let mut source = |f: &mut dyn FnMut(&str, &str)| -> Result<(), String> {
                        for (attribute, value) in &attributes {
                            if *attribute == "xmlns" || attribute.starts_with("xmlns:") {
                                continue;
                            }
                            f(local_part(attribute), value);
                        }
                        Ok(())
                    };
                    self.open(local, &mut source, event, &mut seen_root).map_err(Scan::Invalid)?;
                    if empty {
                        self.close(event);
                        if self.stack.is_empty() {
                            return Ok(());
                        }
                    } else {
                        names.push(name);
                    }
                    pos = end;
                }
            }
        }
    }

    fn walk(&mut self, xml: &[u8], event: &mut Event) -> Result<(), String> {
        let mut reader = quick_xml::Reader::from_reader(xml);
        reader.config_mut().allow_dangling_amp = true;
        let mut seen_root = false;
        loop {
            let position = reader.buffer_position();
            let xml_event = reader.read_event().map_err(|e| format!("{e} at byte {position}"))?;
            match xml_event {
                XmlEvent::Start(start) => {
                    let name = element_name(&start)?;
                    self.open(name, &mut |f| for_each_attribute(&start, f), event, &mut seen_root)?;
                }
                XmlEvent::Empty(start) => {
                    let name = element_name(&start)?;
                    self.open(name, &mut |f| for_each_attribute(&start, f), event, &mut seen_root)?;
                    self.close(event);
                    if self.stack.is_empty() {
                        return Ok(());
                    }
                }
                XmlEvent::End(_) => {
                    self.close(event);
                    if self.stack.is_empty() {
                        return Ok(());
                    }
                }
                XmlEvent::Text(text) => {
                    if self.collecting() {
                        let text = text.decode().map_err(|e| e.to_string())?;
                        self.text.push_str(&text);
                    }
                }
                XmlEvent::CData(data) => {
                    if self.collecting() {
                        let data = data.decode().map_err(|e| e.to_string())?;
                        self.text.push_str(&data);
                    }
                }
                XmlEvent::GeneralRef(reference) => {
                    if self.collecting() {
                        let resolved = match reference.resolve_char_ref() {
                            Ok(Some(ch)) => Some(ch),
                            Ok(None) => predefined_entity(&reference),
                            Err(_) => None,
                        };
                        match resolved {
                            Some(ch) => self.text.push(ch),
                            // Kept as written, like the fast scanner does.
                            None => {
                                self.text.push('&');
                                self.text.push_str(&String::from_utf8_lossy(&reference));
                                self.text.push(';');
                            }
                        }
                    }
                }
                XmlEvent::Eof => {
                    return if seen_root {
                        Err(TRUNCATED.into())
                    } else {
                        Err("no Event element".into())
                    };
                }
                XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::Comment(_) | XmlEvent::DocType(_) => {}
            }
        }
    }

    fn collecting(&self) -> bool {
        self.stack.last().is_some_and(|frame| frame.field.is_some() && !frame.has_child)
    }

    fn open(&mut self, name: &str, attributes: &mut AttributeSource<'_>, event: &mut Event, seen_root: &mut bool) -> Result<(), String> {
        self.text.clear();

        let depth = self.stack.len();
        let Some(parent) = self.stack.last_mut() else {
            if *seen_root {
                return Err("content after the Event element".into());
            }
            if name != "Event" {
                return Err(format!("root element is <{name}>, expected <Event>"));
            }
            *seen_root = true;
            self.stack.push(Frame { section: Section::Root, field: None, has_child: false });
            return Ok(());
        };
        if depth >= MAX_DEPTH {
            return Err(format!("elements nested deeper than {MAX_DEPTH} levels"));
        }
        parent.has_child = true;
        let parent_section = parent.section;

        let frame = match parent_section {
            Section::Root => {
                let section = match name {
                    "System" => Section::System,
                    "RenderingInfo" => Section::RenderingInfo,
                    _ => Section::Data,
                };
                Frame { section, field: None, has_child: false }
            }
            Section::System => {
                attributes(&mut |attribute, value| {
                    let field = if name == "EventID" && attribute == "Qualifiers" {
                        Str::from("Qualifiers")
                    } else {
                        join_name(name, attribute)
                    };
                    if field == "TimeCreated_SystemTime" {
                        event.timestamp = parse_system_time(value);
                    }
                    let value = system_value(&field, value);
                    event.push(field, value);
                })?;
                Frame { section: Section::System, field: Some(Str::from(name)), has_child: false }
            }
            Section::Data => {
                let mut field = None;
                attributes(&mut |attribute, value| {
                    if name == "Data" && attribute == "Name" {
                        field = Some(data_field_name(value));
                    } else {
                        self.push_data(join_name(name, attribute), Value::Str(Str::from(value)));
                    }
                })?;
                let field = field.unwrap_or_else(|| {
                    if name == "Data" {
                        self.unnamed += 1;
                        Str::from(format!("param{}", self.unnamed))
                    } else {
                        Str::from(name)
                    }
                });
                Frame { section: Section::Data, field: Some(field), has_child: false }
            }
            Section::RenderingInfo => {
                let field = match name {
                    "Message" if depth == 2 => Str::from("message"),
                    _ => join_name("RenderingInfo", name),
                };
                Frame { section: Section::RenderingInfo, field: Some(field), has_child: false }
            }
        };
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, event: &mut Event) {
        let Some(frame) = self.stack.pop() else { return };
        let Some(field) = frame.field else { return };
        if frame.has_child {
            return;
        }
        match frame.section {
            // Empty System elements (`<Correlation/>`, or `<Provider .../>` whose content is
            // all in attributes) carry no field of their own.
            Section::System if self.text.is_empty() => {}
            Section::System => {
                let value = system_value(&field, &self.text);
                event.push(field, value);
            }
            Section::Data | Section::RenderingInfo => {
                let value = Value::Str(Str::from(self.text.as_str()));
                self.push_data(field, value);
            }
            Section::Root => {}
        }
        self.text.clear();
    }

    /// Adds a data field; a repeated name turns the first value into a list of all values.
    fn push_data(&mut self, name: Str, value: Value) {
        let position = if self.data.len() <= LINEAR_SEARCH_MAX {
            self.data.iter().position(|(existing, _)| *existing == name)
        } else {
            if self.positions.is_empty() {
                self.positions = self.data.iter().enumerate().map(|(i, (n, _))| (n.clone(), i)).collect();
            }
            self.positions.get(&name).copied()
        };

        match position.map(|i| &mut self.data[i].1) {
            Some(Value::List(items)) => items.push(value),
            Some(existing) => {
                let first = std::mem::replace(existing, Value::Null);
                *existing = Value::List(vec![first, value]);
            }
            None => {
                if !self.positions.is_empty() {
                    self.positions.insert(name.clone(), self.data.len());
                }
                self.data.push((name, value));
            }
        }
    }
}

/// Calls `f` with the local name and unescaped value of each attribute of an element, skipping
/// namespace declarations.
fn for_each_attribute(start: &BytesStart<'_>, mut f: impl FnMut(&str, &str)) -> Result<(), String> {
    for attribute in start.attributes().with_checks(false) {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key = attribute.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let local = key.local_name();
        let name = std::str::from_utf8(local.as_ref()).map_err(|_| "attribute name is not UTF-8".to_string())?;
        let value = attribute.unescape_value().map_err(|e| e.to_string())?;
        f(name, &value);
    }
    Ok(())
}

fn element_name<'s>(start: &'s BytesStart<'_>) -> Result<&'s str, String> {
    let name = start.name().into_inner();
    let local = match memchr::memrchr(b':', name) {
        Some(colon) => &name[colon + 1..],
        None => name,
    };
    std::str::from_utf8(local).map_err(|_| "element name is not UTF-8".to_string())
}

/// Returns the part of a qualified name after its namespace prefix.
fn local_part(name: &str) -> &str {
    match name.bytes().rposition(|b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// Parses the start tag at `at` (`<name attr="value" ...>` or `.../>`) into its name, whether it
/// is empty, and the offset after it; fills `attributes`. Returns `None` for anything unusual.
fn start_tag<'x>(xml: &'x str, at: usize, attributes: &mut Vec<(&'x str, std::borrow::Cow<'x, str>)>) -> Option<(&'x str, bool, usize)> {
    attributes.clear();
    let bytes = xml.as_bytes();
    let is_name_end = |b: u8| b.is_ascii_whitespace() || b == b'/' || b == b'>' || b == b'=';
    let is_name_byte = |b: u8| !matches!(b, b'<' | b'&' | b'"' | b'\'');
    let mut pos = at + 1;
    let name_start = pos;
    while pos < bytes.len() && !is_name_end(bytes[pos]) {
        if !is_name_byte(bytes[pos]) {
            return None;
        }
        pos += 1;
    }
    let name = &xml[name_start..pos];
    if name.is_empty() {
        return None;
    }
    loop {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        match bytes.get(pos)? {
            b'>' => return Some((name, false, pos + 1)),
            b'/' => return (bytes.get(pos + 1) == Some(&b'>')).then_some((name, true, pos + 2)),
            _ => {}
        }
        let attribute_start = pos;
        while pos < bytes.len() && !is_name_end(bytes[pos]) {
            if !is_name_byte(bytes[pos]) {
                return None;
            }
            pos += 1;
        }
        let attribute = &xml[attribute_start..pos];
        if attribute.is_empty() {
            return None;
        }
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if bytes.get(pos) != Some(&b'=') {
            return None;
        }
        pos += 1;
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let quote = *bytes.get(pos)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = pos + 1;
        let value_end = value_start + memchr::memchr(quote, &bytes[value_start..])?;
        let raw = &xml[value_start..value_end];
        if memchr::memchr(b'<', raw.as_bytes()).is_some() {
            return None;
        }
        let value = if memchr::memchr(b'&', raw.as_bytes()).is_some() { std::borrow::Cow::Owned(unescape(raw)?) } else { std::borrow::Cow::Borrowed(raw) };
        attributes.push((attribute, value));
        pos = value_end + 1;
    }
}

/// Resolves the entity or character reference at `at` (which holds `&`); returns the character
/// and the offset after the `;`.
fn entity_at(xml: &str, at: usize) -> Option<(char, usize)> {
    let rest = &xml.as_bytes()[at + 1..];
    let length = memchr::memchr(b';', &rest[..rest.len().min(12)])?;
    let name = &xml[at + 1..at + 1 + length];
    let ch = match name.strip_prefix('#') {
        Some(number) => {
            let code = match number.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            if code == 0 {
                return None;
            }
            char::from_u32(code)?
        }
        None => predefined_entity(name.as_bytes())?,
    };
    Some((ch, at + 2 + length))
}

fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut pos = 0;
    while let Some(found) = memchr::memchr(b'&', &raw.as_bytes()[pos..]) {
        let at = pos + found;
        out.push_str(&raw[pos..at]);
        let (ch, end) = entity_at(raw, at)?;
        out.push(ch);
        pos = end;
    }
    out.push_str(&raw[pos..]);
    Some(out)
}

fn join_name(element: &str, attribute: &str) -> Str {
    let mut name = Str::with_capacity(element.len() + 1 + attribute.len());
    name.push_str(element);
    name.push('_');
    name.push_str(attribute);
    name
}

fn predefined_entity(name: &[u8]) -> Option<char> {
    match name {
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"amp" => Some('&'),
        b"apos" => Some('\''),
        b"quot" => Some('"'),
        _ => None,
    }
}

/// System fields that hold numbers. They are stored as integers when the text parses as one.
const NUMERIC_SYSTEM_FIELDS: &[&str] = &[
    "EventID",
    "Qualifiers",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "EventRecordID",
    "Execution_ProcessID",
    "Execution_ThreadID",
];

fn system_value(field: &str, text: &str) -> Value {
    if NUMERIC_SYSTEM_FIELDS.contains(&field)
        && let Ok(number) = text.trim().parse::<i64>()
    {
        return Value::Int(number);
    }
    Value::Str(Str::from(text))
}

/// Parses `TimeCreated/@SystemTime` (`2019-04-27T15:57:27.0876132Z`) with integer arithmetic,
/// keeping every fraction digit up to nanoseconds. Other RFC 3339 forms go through chrono.
pub(crate) fn parse_system_time(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    let fixed = bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b' ')
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes.last() == Some(&b'Z');
    if !fixed {
        return Timestamp::parse_rfc3339(text);
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &bytes[range];
        digits.iter().all(u8::is_ascii_digit).then(|| digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let fraction = &bytes[19..bytes.len() - 1];
    let (nanos, precision) = match fraction {
        [] => (0, Precision::Seconds),
        [b'.', digits @ ..] if !digits.is_empty() && digits.len() <= 9 && digits.iter().all(u8::is_ascii_digit) => {
            let value = digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            let nanos = value * 10u32.pow(9 - digits.len() as u32);
            let precision = match digits.len() {
                1..=3 => Precision::Millis,
                4..=6 => Precision::Micros,
                _ => Precision::Nanos,
            };
            (nanos, precision)
        }
        _ => return Timestamp::parse_rfc3339(text),
    };
    let time = chrono::NaiveDate::from_ymd_opt(year as i32, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)?
        .and_utc();
    Some(Timestamp::new(time, precision))
}

/// Returns the field name of `<Data Name="...">`. SigmaHQ rules write EventData names that
/// contain spaces without them (`Source Name` as `SourceName`), so the spaces are dropped.
fn data_field_name(name: &str) -> Str {
    if name.contains(' ') {
        Str::from(name.replace(' ', ""))
    } else {
        Str::from(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_event::SourceRef;

    fn build(xml: &str) -> Event {
        let mut event = Event::new(Schema::Windows, Evidence::new(SourceRef::new("t.xml")));
        EventXml::default().build(xml.as_bytes(), &mut event).unwrap();
        event
    }

    const SECURITY: &str = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing" Guid="{54849625-5478-4994-a5ba-3e3b0328c30d}"/><EventID>4625</EventID><Version>0</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8010000000000000</Keywords><TimeCreated SystemTime="2021-03-01T10:00:00.1234567Z"/><EventRecordID>42</EventRecordID><Correlation/><Execution ProcessID="612" ThreadID="700"/><Channel>Security</Channel><Computer>host1.example.test</Computer><Security/></System><EventData><Data Name="TargetUserName">alice</Data><Data Name="IpAddress">192.0.2.10</Data><Data Name="Empty"/></EventData></Event>"#;

    #[test]
    fn system_and_named_data() {
        let event = build(SECURITY);
        assert_eq!(event.get("EventID"), Some(&Value::Int(4625)));
        assert_eq!(event.get_str("Provider_Name"), Some("Microsoft-Windows-Security-Auditing"));
        assert_eq!(event.get_str("Channel"), Some("Security"));
        assert_eq!(event.get("Execution_ProcessID"), Some(&Value::Int(612)));
        assert_eq!(event.get("EventRecordID"), Some(&Value::Int(42)));
        assert_eq!(event.get_str("Keywords"), Some("0x8010000000000000"));
        assert_eq!(event.get_str("TargetUserName"), Some("alice"));
        assert_eq!(event.get_str("IpAddress"), Some("192.0.2.10"));
        assert_eq!(event.get_str("Empty"), Some(""));
        assert_eq!(event.timestamp.unwrap().to_string(), "2021-03-01T10:00:00.123456700Z");
    }

    #[test]
    fn qualifiers_attribute_keeps_number() {
        let event = build(
            r#"<Event><System><Provider Name="Service Control Manager"/><EventID Qualifiers="16384">7045</EventID></System></Event>"#,
        );
        assert_eq!(event.get("EventID"), Some(&Value::Int(7045)));
        assert_eq!(event.get("Qualifiers"), Some(&Value::Int(16384)));
    }

    #[test]
    fn unnamed_data_positions_and_entities() {
        let event = build(
            r#"<Event><System><EventID>1</EventID></System><EventData><Data>Set-Mailbox</Data><Data>-Identity &quot;alice&quot;</Data><Data/><Data>5</Data><Data></Data></EventData></Event>"#,
        );
        assert_eq!(event.get_str("param1"), Some("Set-Mailbox"));
        assert_eq!(event.get_str("param2"), Some("-Identity \"alice\""));
        assert_eq!(event.get_str("param3"), Some(""));
        assert_eq!(event.get_str("param4"), Some("5"));
        assert_eq!(event.get_str("param5"), Some(""));
    }

    #[test]
    fn user_data_flattened_and_repeats_listed() {
        let event = build(
            r#"<Event><System><EventID>1007</EventID></System><UserData><CertNotificationData xmlns="ns"><CertificateDetails Thumbprint="AB"><EKUs><EKU Name="Server Authentication" OID="1.3.6.1.5.5.7.3.1"/><EKU Name="Client Authentication" OID="1.3.6.1.5.5.7.3.2"/><EKU Name="Code Signing" OID="1.3.6.1.5.5.7.3.3"/></EKUs></CertificateDetails><Note>a &amp; b</Note></CertNotificationData></UserData></Event>"#,
        );
        assert_eq!(event.get_str("CertificateDetails_Thumbprint"), Some("AB"));
        assert_eq!(
            event.get("EKU_Name"),
            Some(&Value::List(vec!["Server Authentication".into(), "Client Authentication".into(), "Code Signing".into()]))
        );
        assert_eq!(event.get("EKU_OID").map(|v| v.to_text()), Some("1.3.6.1.5.5.7.3.1, 1.3.6.1.5.5.7.3.2, 1.3.6.1.5.5.7.3.3".into()));
        assert_eq!(event.get_str("Note"), Some("a & b"));
        assert_eq!(event.get("EKU"), Some(&Value::List(vec!["".into(), "".into(), "".into()])));
    }

    #[test]
    fn rendering_info_message() {
        let event = build(
            r#"<Event><System><EventID>1</EventID></System><EventData><Data>x</Data></EventData><RenderingInfo Culture="en-US"><Message>Hello</Message><Level>Information</Level><Keywords><Keyword>Classic</Keyword></Keywords></RenderingInfo></Event>"#,
        );
        assert_eq!(event.get_str("message"), Some("Hello"));
        assert_eq!(event.get_str("RenderingInfo_Level"), Some("Information"));
        assert_eq!(event.get_str("RenderingInfo_Keyword"), Some("Classic"));
    }

    #[test]
    fn malformed_element_is_an_error() {
        let mut builder = EventXml::default();
        let mut event = Event::new(Schema::Windows, Evidence::new(SourceRef::new("t.xml")));
        assert!(builder.build(b"<Event><System><EventID>1</EventID>", &mut event).is_err());
        assert!(builder.build(b"<Other/>", &mut event).is_err());
        let deep = format!("<Event><EventData>{}", "<a>".repeat(100));
        assert!(builder.build(deep.as_bytes(), &mut event).is_err());
    }

    #[test]
    fn quick_xml_fallback_gives_same_fields() {
        let fast = build(SECURITY);
        let with_comment = SECURITY.replace("<EventData>", "<EventData><!-- exported --><![CDATA[]]>");
        let slow = build(&with_comment);
        assert_eq!(fast.fields(), slow.fields());
        assert_eq!(fast.timestamp, slow.timestamp);
    }

    #[test]
    fn prefixed_names_and_single_quotes() {
        let event = build(
            "<e:Event xmlns:e='urn:x'><e:System><e:EventID>4</e:EventID></e:System><e:EventData><e:Data Name='A'>1 &#x41;&#66;</e:Data></e:EventData></e:Event>",
        );
        assert_eq!(event.get("EventID"), Some(&Value::Int(4)));
        assert_eq!(event.get_str("A"), Some("1 AB"));
    }

    #[test]
    fn system_time_precision() {
        let t = parse_system_time("2019-04-27T15:57:27.0876132Z").unwrap();
        assert_eq!(t.precision, Precision::Nanos);
        assert_eq!(t.time.timestamp_subsec_nanos(), 87_613_200);
        assert_eq!(parse_system_time("2019-04-27T15:57:27Z").unwrap().precision, Precision::Seconds);
        assert_eq!(parse_system_time("2019-04-27T15:57:27.123Z").unwrap().precision, Precision::Millis);
        assert!(parse_system_time("garbage").is_none());
    }

    #[test]
    fn sniff_event_xml() {
        assert!(sniff(b"<?xml version=\"1.0\"?><Events><Event xmlns='x'><System>"));
        assert!(!sniff(b"<html><body>"));
        assert!(!sniff(b"<EventData><System>"));
    }
}
