//! Splits a JSON stream into records without parsing it whole.
//!
//! AWS writes record collections as one large document (`{"Records": [...]}`,
//! `{"Findings": [...]}`), as a JSON array, or as one document per line. [`JsonSplitter`]
//! reads any of these from a [`BufRead`] and returns one record's bytes at a time, with its
//! byte offset. Memory stays at the size of the largest record, and a malformed record is
//! reported alone while the others are still read. The splitter only tracks strings and
//! nesting depth, so the caller parses each record with serde_json for full validation.

use std::io::{self, BufRead};

/// One piece of the stream.
#[derive(Debug)]
pub(crate) enum Piece<'a> {
    /// A top-level document that is not a known wrapper: one event per line, or concatenated
    /// documents. `line` is the 1-based line it starts on.
    Document { bytes: &'a [u8], offset: u64, line: u64 },
    /// An element of a top-level array, or of the array under a wrapper key.
    Element { bytes: &'a [u8], offset: u64, index: u64 },
}

/// An error that kept the splitter from returning the next piece.
#[derive(Debug)]
pub(crate) enum SplitError {
    /// A value larger than the limit was skipped. Reading goes on after it.
    TooLarge { offset: u64, length: u64, index: Option<u64> },
    /// The input ended inside a value or inside a wrapper array.
    Truncated { offset: u64 },
    /// A closing bracket where a value was expected. The rest of the input is not read.
    Unexpected { offset: u64, byte: u8 },
    Io(io::Error),
}

impl SplitError {
    /// Returns whether the splitter can go on after this error.
    pub(crate) fn is_recoverable(&self) -> bool {
        matches!(self, SplitError::TooLarge { .. })
    }
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::TooLarge { length, .. } => {
                write!(f, "JSON value of {length} bytes exceeds the size limit for one record; skipped")
            }
            SplitError::Truncated { .. } => f.write_str("input ends inside a JSON value; the file is truncated"),
            SplitError::Unexpected { byte, .. } => {
                write!(f, "unexpected {:?} where a JSON value should start; the rest of the input is not read", *byte as char)
            }
            SplitError::Io(error) => write!(f, "read failed: {error}"),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    TopLevel,
    InArray { wrapper: Option<&'static str>, index: u64 },
    Done,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Container,
    String,
    Scalar,
}

pub(crate) struct JsonSplitter<'r> {
    reader: &'r mut dyn BufRead,
    wrapper_keys: &'static [&'static str],
    max_value_bytes: usize,
    buffer: Vec<u8>,
    offset: u64,
    line: u64,
    state: State,
}

impl<'r> JsonSplitter<'r> {
    /// Creates a splitter. An object whose first key is one of `wrapper_keys` and whose value
    /// is an array is read element by element, and its other keys are ignored.
    pub(crate) fn new(reader: &'r mut dyn BufRead, wrapper_keys: &'static [&'static str], max_value_bytes: usize) -> Self {
        JsonSplitter { reader, wrapper_keys, max_value_bytes, buffer: Vec::new(), offset: 0, line: 1, state: State::TopLevel }
    }

    /// Returns the next piece, `None` at the end of the input.
    pub(crate) fn next_piece(&mut self) -> Option<Result<Piece<'_>, SplitError>> {
        loop {
            match self.state {
                State::Done => return None,
                State::TopLevel => {
                    let byte = match self.skip_separators(false) {
                        Ok(Some(byte)) => byte,
                        Ok(None) => {
                            self.state = State::Done;
                            return None;
                        }
                        Err(error) => return Some(Err(self.fail(SplitError::Io(error)))),
                    };
                    match byte {
                        b'[' => {
                            self.consume(1);
                            self.state = State::InArray { wrapper: None, index: 0 };
                        }
                        b'{' if self.enter_wrapper() => {}
                        b']' | b'}' => {
                            let offset = self.offset;
                            return Some(Err(self.fail(SplitError::Unexpected { offset, byte })));
                        }
                        _ => {
                            let (offset, line) = (self.offset, self.line);
                            return Some(match self.read_value() {
                                Ok(()) => Ok(Piece::Document { bytes: &self.buffer, offset, line }),
                                Err(error) => Err(self.fail(error)),
                            });
                        }
                    }
                }
                State::InArray { wrapper, index } => {
                    let byte = match self.skip_separators(true) {
                        Ok(Some(byte)) => byte,
                        Ok(None) => {
                            let offset = self.offset;
                            return Some(Err(self.fail(SplitError::Truncated { offset })));
                        }
                        Err(error) => return Some(Err(self.fail(SplitError::Io(error)))),
                    };
                    if byte == b']' {
                        self.consume(1);
                        if wrapper.is_some()
                            && let Err(error) = self.skip_rest_of_object()
                        {
                            return Some(Err(self.fail(error)));
                        }
                        self.state = State::TopLevel;
                        continue;
                    }
                    if byte == b'}' {
                        let offset = self.offset;
                        return Some(Err(self.fail(SplitError::Unexpected { offset, byte })));
                    }
                    self.state = State::InArray { wrapper, index: index + 1 };
                    let offset = self.offset;
                    return Some(match self.read_value() {
                        Ok(()) => Ok(Piece::Element { bytes: &self.buffer, offset, index }),
                        Err(SplitError::TooLarge { offset, length, .. }) => {
                            Err(SplitError::TooLarge { offset, length, index: Some(index) })
                        }
                        Err(error) => Err(self.fail(error)),
                    });
                }
            }
        }
    }

    /// Stops the splitter after an error it cannot read past.
    fn fail(&mut self, error: SplitError) -> SplitError {
        if !error.is_recoverable() {
            self.state = State::Done;
        }
        error
    }

    fn consume(&mut self, n: usize) {
        self.reader.consume(n);
        self.offset += n as u64;
    }

    /// Skips whitespace (and commas inside arrays), returning the next byte without
    /// consuming it.
    fn skip_separators(&mut self, commas: bool) -> io::Result<Option<u8>> {
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(None);
            }
            let mut newlines = 0;
            let position = chunk.iter().position(|&b| match b {
                b'\n' => {
                    newlines += 1;
                    false
                }
                b' ' | b'\t' | b'\r' => false,
                // A byte order mark is skipped wherever whitespace may appear.
                0xEF | 0xBB | 0xBF => false,
                b',' => !commas,
                _ => true,
            });
            let (take, next) = match position {
                Some(i) => (i, Some(chunk[i])),
                None => (chunk.len(), None),
            };
            self.line += newlines;
            self.consume(take);
            if next.is_some() {
                return Ok(next);
            }
        }
    }

    /// At a `{`: when the object starts with a wrapper key whose value is an array, consumes
    /// up to and including the `[` and returns true. Only looks at bytes already buffered, so
    /// a wrapper split across a buffer boundary is read as one document instead.
    fn enter_wrapper(&mut self) -> bool {
        let Ok(chunk) = self.reader.fill_buf() else {
            return false;
        };
        let mut rest = &chunk[1..];
        rest = trim_start(rest);
        let Some(key) = self.wrapper_keys.iter().find(|key| {
            rest.first() == Some(&b'"')
                && rest[1..].starts_with(key.as_bytes())
                && rest.get(1 + key.len()) == Some(&b'"')
        }) else {
            return false;
        };
        rest = trim_start(&rest[key.len() + 2..]);
        let Some(after_colon) = rest.strip_prefix(b":") else {
            return false;
        };
        let after_colon = trim_start(after_colon);
        if after_colon.first() != Some(&b'[') {
            return false;
        }
        let take = chunk.len() - after_colon.len() + 1;
        self.line += memchr::memchr_iter(b'\n', &chunk[..take]).count() as u64;
        self.consume(take);
        self.state = State::InArray { wrapper: Some(key), index: 0 };
        true
    }

    /// After a wrapper's array: reads past the rest of its object, ignoring other keys.
    fn skip_rest_of_object(&mut self) -> Result<(), SplitError> {
        let mut depth: u32 = 1;
        let mut in_string = false;
        let mut escape = false;
        loop {
            let chunk = self.reader.fill_buf().map_err(SplitError::Io)?;
            if chunk.is_empty() {
                return Err(SplitError::Truncated { offset: self.offset });
            }
            let mut end = None;
            for (i, &b) in chunk.iter().enumerate() {
                if in_string {
                    if escape {
                        escape = false;
                    } else if b == b'\\' {
                        escape = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let take = end.unwrap_or(chunk.len());
            self.line += memchr::memchr_iter(b'\n', &chunk[..take]).count() as u64;
            self.consume(take);
            if end.is_some() {
                return Ok(());
            }
        }
    }

    /// Reads one complete JSON value into the buffer. The value starts at the current byte,
    /// which is not whitespace.
    fn read_value(&mut self) -> Result<(), SplitError> {
        self.buffer.clear();
        let start = self.offset;
        let mut length: u64 = 0;
        let mut too_large = false;
        let mut kind = None;
        let mut depth: u32 = 0;
        let mut in_string = false;
        let mut escape = false;

        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(SplitError::Io(e)),
            };
            if chunk.is_empty() {
                if kind == Some(ValueKind::Scalar) {
                    break;
                }
                return Err(SplitError::Truncated { offset: self.offset });
            }
            let kind = *kind.get_or_insert(match chunk[0] {
                b'{' | b'[' => ValueKind::Container,
                b'"' => ValueKind::String,
                _ => ValueKind::Scalar,
            });

            let mut end = None;
            let mut i = 0;
            while i < chunk.len() {
                let b = chunk[i];
                if in_string {
                    if escape {
                        escape = false;
                    } else if b == b'\\' {
                        escape = true;
                    } else if b == b'"' {
                        in_string = false;
                        if kind == ValueKind::String {
                            end = Some(i + 1);
                            break;
                        }
                    } else {
                        // Most bytes of a record are inside strings: jump to the next quote
                        // or backslash.
                        match memchr::memchr2(b'"', b'\\', &chunk[i..]) {
                            Some(skip) => i += skip,
                            None => i = chunk.len(),
                        }
                        continue;
                    }
                    i += 1;
                    continue;
                }
                match kind {
                    ValueKind::Scalar => {
                        if matches!(b, b',' | b']' | b'}' | b'{' | b'[' | b'"' | b' ' | b'\t' | b'\n' | b'\r') {
                            // A stray delimiter at the start is taken as a one-byte value, so
                            // that the splitter always moves forward.
                            end = Some(if i == 0 && length == 0 { 1 } else { i });
                            break;
                        }
                    }
                    ValueKind::String => in_string = true,
                    ValueKind::Container => match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                end = Some(i + 1);
                                break;
                            }
                        }
                        _ => {}
                    },
                }
                i += 1;
            }

            let take = end.unwrap_or(chunk.len());
            length += take as u64;
            if !too_large {
                if self.buffer.len() + take > self.max_value_bytes {
                    too_large = true;
                    self.buffer = Vec::new();
                } else {
                    self.buffer.extend_from_slice(&chunk[..take]);
                }
            }
            self.line += memchr::memchr_iter(b'\n', &chunk[..take]).count() as u64;
            self.consume(take);
            if end.is_some() {
                break;
            }
        }

        if too_large {
            return Err(SplitError::TooLarge { offset: start, length, index: None });
        }
        Ok(())
    }
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `input` read through a small buffer, so values cross buffer boundaries.
    fn pieces(input: &str, keys: &'static [&'static str], max: usize, capacity: usize) -> Vec<String> {
        let mut reader = io::BufReader::with_capacity(capacity, input.as_bytes());
        let mut splitter = JsonSplitter::new(&mut reader, keys, max);
        let mut out = Vec::new();
        while let Some(piece) = splitter.next_piece() {
            out.push(match piece {
                Ok(Piece::Document { bytes, offset, line }) => {
                    format!("doc@{offset}:{line} {}", String::from_utf8_lossy(bytes))
                }
                Ok(Piece::Element { bytes, offset, index }) => {
                    format!("[{index}]@{offset} {}", String::from_utf8_lossy(bytes))
                }
                Err(error) => format!("error {error}"),
            });
        }
        out
    }

    #[test]
    fn wrapper_elements() {
        let input = r#"{"Records":[{"a":"}]"},{"b":[1,2]}],"x":{"y":1}}"#;
        let mut reader = io::BufReader::new(input.as_bytes());
        let mut splitter = JsonSplitter::new(&mut reader, &["Records"], 1024);
        let mut found = Vec::new();
        while let Some(piece) = splitter.next_piece() {
            if let Ok(Piece::Element { bytes, offset, index }) = piece {
                found.push((String::from_utf8_lossy(bytes).into_owned(), offset, index));
            }
        }
        assert_eq!(
            found,
            vec![
                (r#"{"a":"}]"}"#.to_string(), 12, 0),
                (r#"{"b":[1,2]}"#.to_string(), 23, 1),
            ]
        );
    }

    #[test]
    fn lines_and_arrays() {
        let out = pieces("{\"a\":1}\n{\"b\":\"x\\\"y\"}\n[3, \"s\"]", &["Records"], 1024, 7);
        assert_eq!(out, vec![
            "doc@0:1 {\"a\":1}",
            "doc@8:2 {\"b\":\"x\\\"y\"}",
            "[0]@22 3",
            "[1]@25 \"s\"",
        ]);
    }

    #[test]
    fn oversized_element_skipped() {
        let out = pieces(r#"[{"a":"0123456789"},{"b":1}]"#, &[], 8, 7);
        assert_eq!(out, vec!["error JSON value of 18 bytes exceeds the size limit for one record; skipped", "[1]@20 {\"b\":1}"]);
    }

    #[test]
    fn truncated_input() {
        let out = pieces(r#"{"Records":[{"a":1},{"b":"#, &["Records"], 1024, 64);
        assert_eq!(out, vec!["[0]@12 {\"a\":1}", "error input ends inside a JSON value; the file is truncated"]);
    }
}
