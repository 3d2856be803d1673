use std::io::{self, BufRead};

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

/// Reads lines with a length limit, so that one enormous line (hostile input, or a binary
/// file) costs bounded memory: the excess is skipped in place, never buffered.
pub struct LineReader<R> {
    reader: R,
    buffer: Vec<u8>,
    max_len: usize,
    number: u64,
    offset: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(reader: R, max_len: usize) -> Self {
        LineReader { reader, buffer: Vec::new(), max_len, number: 0, offset: 0 }
    }

    /// Returns the next line, `None` at the end of input.
    pub fn next_line(&mut self) -> Option<Result<Line<'_>, LineError>> {
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
        let mut line: &[u8] = &self.buffer;
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        if line.len() > self.max_len {
            return Some(Err(LineError::TooLong { number: self.number, offset: start, length }));
        }
        Some(Ok(Line { number: self.number, offset: start, bytes: line }))
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
