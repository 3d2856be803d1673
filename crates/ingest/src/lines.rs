use std::borrow::Cow;
use std::io::{self, BufRead};

use crate::{Context, Location};

/// One line of a text input, without its line terminator (`\n` or `\r\n`).
#[derive(Debug)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of the line's first byte in the input.
    pub offset: u64,
    pub bytes: &'a [u8],
}

/// A line that could not be returned.
#[derive(Debug)]
pub enum LineError {
    /// The line exceeded the length limit; it was skipped without being buffered.
    TooLong { number: u64, offset: u64, length: u64 },
    Io { offset: u64, error: io::Error },
}

/// One non-empty line of a text input, decoded as UTF-8 (lossily when it is not).
#[derive(Debug)]
pub struct TextLine<'a> {
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of the line's first byte in the input.
    pub offset: u64,
    pub text: Cow<'a, str>,
}

impl TextLine<'_> {
    pub fn location(&self) -> Location {
        Location::Line { line: self.number, offset: self.offset }
    }
}

/// Reads lines with a length limit, so that one enormous line (hostile input, or a binary
/// file) costs bounded memory: the excess is skipped in place, never buffered.
pub struct LineReader<R> {
    reader: R,
    buffer: Vec<u8>,
    max_len: usize,
    number: u64,
    offset: u64,
    reported_utf8: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(reader: R, max_len: usize) -> Self {
        LineReader { reader, buffer: Vec::new(), max_len, number: 0, offset: 0, reported_utf8: false }
    }

    /// Returns the next non-empty line as text, for a decoder of a line format, and counts
    /// each line read as a record of `ctx`. A line over the length limit is reported and
    /// skipped. Invalid UTF-8 is decoded lossily and reported once per input. Blank lines are
    /// skipped and counted. An I/O error ends the input.
    pub fn next_text(&mut self, ctx: &mut Context<'_>) -> Option<io::Result<TextLine<'_>>> {
        let (number, offset, start, end) = loop {
            let next = match self.read_line()? {
                Ok(position) => position,
                Err(LineError::TooLong { number, offset, length }) => {
                    ctx.record();
                    let limit = self.max_len;
                    ctx.error(Location::Line { line: number, offset }, format!("line of {length} bytes exceeds the {limit}-byte limit; skipped"));
                    continue;
                }
                Err(LineError::Io { error, .. }) => return Some(Err(error)),
            };
            ctx.record();
            let (_, _, start, end) = next;
            if self.buffer[start..end].trim_ascii().is_empty() {
                ctx.skip("empty line", 1);
                continue;
            }
            break next;
        };

        let bytes = &self.buffer[start..end];
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => {
                if !self.reported_utf8 {
                    self.reported_utf8 = true;
                    let location = Location::Line { line: number, offset };
                    ctx.error(location, "invalid UTF-8; this and later lines of the input are decoded lossily (reported once per input)");
                }
                String::from_utf8_lossy(bytes)
            }
        };
        Some(Ok(TextLine { number, offset, text }))
    }

    /// Returns the next line, `None` at the end of input.
    pub fn next_line(&mut self) -> Option<Result<Line<'_>, LineError>> {
        match self.read_line()? {
            Ok((number, offset, start, end)) => Some(Ok(Line { number, offset, bytes: &self.buffer[start..end] })),
            Err(error) => Some(Err(error)),
        }
    }

    /// Reads the next line into the buffer; returns its number, offset, and its range in the
    /// buffer without the line terminator.
    fn read_line(&mut self) -> Option<Result<(u64, u64, usize, usize), LineError>> {
        self.buffer.clear();
        let start = self.offset;
        let mut length: u64 = 0;
        let mut too_long = false;

        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.number += 1;
                    return Some(Err(LineError::Io { offset: self.offset, error }));
                }
            };
            if chunk.is_empty() {
                if length == 0 {
                    return None;
                }
                break;
            }

            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buffer.len() + take > self.max_len + 2 {
                    too_long = true;
                    self.buffer.clear();
                } else {
                    self.buffer.extend_from_slice(&chunk[..take]);
                }
            }
            length += take as u64;
            self.reader.consume(take);
            self.offset += take as u64;
            if done {
                break;
            }
        }

        self.number += 1;
        if too_long {
            return Some(Err(LineError::TooLong { number: self.number, offset: start, length }));
        }
        let mut end = self.buffer.len();
        if self.buffer[..end].ends_with(b"\n") {
            end -= 1;
            if self.buffer[..end].ends_with(b"\r") {
                end -= 1;
            }
        }
        if end > self.max_len {
            return Some(Err(LineError::TooLong { number: self.number, offset: start, length }));
        }
        Some(Ok((self.number, start, 0, end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_offsets() {
        let mut reader = LineReader::new(&b"ab\r\ncd\nlast"[..], 16);
        let first = reader.next_line().unwrap().unwrap();
        assert_eq!((first.number, first.offset, first.bytes), (1, 0, &b"ab"[..]));
        let second = reader.next_line().unwrap().unwrap();
        assert_eq!((second.number, second.offset, second.bytes), (2, 4, &b"cd"[..]));
        let third = reader.next_line().unwrap().unwrap();
        assert_eq!((third.number, third.offset, third.bytes), (3, 7, &b"last"[..]));
        assert!(reader.next_line().is_none());
    }

    #[test]
    fn long_line_skipped_and_next_kept() {
        let mut input = vec![b'x'; 100_000];
        input.extend_from_slice(b"\nok\n");
        let reader = io::BufReader::with_capacity(1024, &input[..]);
        let mut reader = LineReader::new(reader, 64);
        match reader.next_line().unwrap() {
            Err(LineError::TooLong { number, offset, length }) => {
                assert_eq!((number, offset, length), (1, 0, 100_001));
            }
            other => panic!("expected TooLong, got {other:?}"),
        }
        let next = reader.next_line().unwrap().unwrap();
        assert_eq!((next.number, next.offset, next.bytes), (2, 100_001, &b"ok"[..]));
    }
}
