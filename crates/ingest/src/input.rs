//! Opening inputs: files, folders, stdin, and gzip, zip and tar.gz archives.
//!
//! Archives are opened by their signature, not their name, and nest (a `.gz` inside a zip).
//! Each archive member is decoded as its own input named `archive!member`. Decompression is
//! streamed and capped ([`Options::max_decompressed_bytes`]), so a decompression bomb costs
//! time up to the cap, not memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tocsin_event::SourceRef;

use crate::decode;
use crate::format::SNIFF_BYTES;
use crate::{Context, FileStats, Format, Location, Options, Output, RecordError};

/// Nesting depth of archives inside archives that is still opened.
const MAX_ARCHIVE_DEPTH: usize = 4;

/// Skip reason of an input found in a folder whose format is not recognised.
pub const SKIPPED_UNRECOGNISED: &str = "format not recognised";

/// A file to decode, and whether the user named it (rather than a folder above it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputPath {
    pub path: PathBuf,
    pub named: bool,
}

/// Expands folders into the files below them, recursively and sorted by path; other paths are
/// returned unchanged and marked as named. `-` stands for standard input and is kept as is.
pub fn expand_paths(paths: &[PathBuf]) -> io::Result<Vec<InputPath>> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() != "-" && path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            inputs.extend(files.into_iter().map(|path| InputPath { path, named: false }));
        } else {
            inputs.push(InputPath { path: path.clone(), named: true });
        }
    }
    Ok(inputs)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, files)?;
        } else if kind.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// Decodes one file (or `-` for standard input), opening archives inside it. Returns the
/// counts of each input decoded: one for a plain file, one per member of an archive.
///
/// Never fails: an unreadable file, an unrecognised format or a broken archive is reported to
/// `out` as an error with the path, and counted in the returned stats.
pub fn decode_path(path: &Path, options: &Options, out: &mut dyn Output) -> Vec<FileStats> {
    let display = path.display().to_string();
    let mut all = Vec::new();

    if path.as_os_str() == "-" {
        let source = SourceRef::new("-");
        let stdin = io::stdin().lock();
        decode_reader(Box::new(BufReader::new(stdin)), source, None, options, out, &mut all, 0);
        return all;
    }

    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => {
            report_file_error(&display, &format!("cannot open: {e}"), out, &mut all);
            return all;
        }
    };
    let modified = file.metadata().ok().and_then(|m| m.modified().ok());
    let source = SourceRef::new(display.clone());

    // SAFETY: the map is read-only. A file truncated by another process while we read it can
    // fault (SIGBUS). Log files under analysis are expected to be at rest, and tailing live
    // files will be a separate source that reads through `read`.
    let map = match unsafe { memmap2::Mmap::map(&file) } {
        Ok(map) => map,
        Err(_) => {
            // Pipes and other special files cannot be mapped; read them as a stream.
            decode_reader(Box::new(BufReader::new(file)), source, modified, options, out, &mut all, 0);
            return all;
        }
    };
    source.set_sha256(Sha256::digest(&map[..]).into());

    decode_bytes(&map, source, modified, options, out, &mut all, 0);
    all
}

/// Decodes an input held in memory (a mapped file or an archive member read whole).
fn decode_bytes(
    data: &[u8],
    source: Arc<SourceRef>,
    modified: Option<std::time::SystemTime>,
    options: &Options,
    out: &mut dyn Output,
    all: &mut Vec<FileStats>,
    depth: usize,
) {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        decode_zip(data, &source, options, out, all, depth);
        return;
    }
    if decode::evtx::sniff(data) {
        let mut stats = FileStats { path: source.path.clone(), format: Some(Format::Evtx), ..Default::default() };
        let mut ctx = Context::new(source, options, &mut stats, out);
        ctx.modified = modified;
        decode::evtx::decode(data, &mut ctx);
        all.push(stats);
        return;
    }
    decode_reader(Box::new(Cursor::new(data)), source, modified, options, out, all, depth);
}

/// Decodes a stream: sniffs its first bytes, unwraps gzip and tar, then runs the decoder.
pub fn decode_reader(
    reader: Box<dyn BufRead + '_>,
    source: Arc<SourceRef>,
    modified: Option<std::time::SystemTime>,
    options: &Options,
    out: &mut dyn Output,
    all: &mut Vec<FileStats>,
    depth: usize,
) {
    let (head, mut reader) = match peek(reader, SNIFF_BYTES) {
        Ok(peeked) => peeked,
        Err(e) => {
            report_file_error(&source.path, &format!("cannot read: {e}"), out, all);
            return;
        }
    };

    if head.starts_with(&[0x1f, 0x8b]) {
        if depth >= MAX_ARCHIVE_DEPTH {
            report_file_error(&source.path, "archives nested too deeply; not opened", out, all);
            return;
        }
        let limit = options.max_decompressed_bytes;
        let gz = flate2::bufread::MultiGzDecoder::new(reader);
        let limited = LimitedReader::new(gz, limit);
        decode_reader(Box::new(BufReader::with_capacity(256 * 1024, limited)), source, modified, options, out, all, depth + 1);
        return;
    }
    if is_tar(&head) {
        decode_tar(reader, &source, options, out, all, depth);
        return;
    }
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) || head.starts_with(&[0xef, 0xbb, 0xbf]) {
        if depth >= MAX_ARCHIVE_DEPTH {
            report_file_error(&source.path, "byte order marks nested too deeply; not decoded", out, all);
            return;
        }
        // A byte order mark: UTF-16 text (PowerShell 5.1 writes `Out-File` exports so) is
        // transcoded to UTF-8 as it streams, and the mark itself is dropped, so that the
        // decoders see plain UTF-8. Offsets then count bytes of the UTF-8 text; lines and
        // element positions are the file's own.
        let text = encoding_rs_io::DecodeReaderBytesBuilder::new().bom_sniffing(true).strip_bom(true).build(reader);
        decode_reader(Box::new(BufReader::with_capacity(256 * 1024, text)), source, modified, options, out, all, depth + 1);
        return;
    }
    if head.starts_with(b"PK\x03\x04") || decode::evtx::sniff(&head) {
        // Zip archives and EVTX files need random access: read the member whole, within the cap.
        let mut data = Vec::new();
        if let Err(e) = read_limited(&mut reader, options.max_buffered_bytes, &mut data) {
            report_file_error(&source.path, &format!("cannot read: {e}"), out, all);
            return;
        }
        decode_bytes(&data, source, modified, options, out, all, depth + 1);
        return;
    }

    let Some(format) = options.format.or_else(|| Format::sniff(&head)) else {
        if head.is_empty() {
            all.push(FileStats { path: source.path.clone(), ..Default::default() });
            return;
        }
        if options.skip_unrecognised {
            let mut stats = FileStats { path: source.path.clone(), ..Default::default() };
            stats.skipped.insert(SKIPPED_UNRECOGNISED, 1);
            all.push(stats);
            return;
        }
        report_file_error(&source.path, "unrecognised format; no decoder matches its content", out, all);
        return;
    };

    let mut stats = FileStats { path: source.path.clone(), format: Some(format), ..Default::default() };
    let mut ctx = Context::new(source, options, &mut stats, out);
    ctx.modified = modified;
    if let Err(e) = decode::decode_stream(format, &mut reader, &mut ctx) {
        ctx.error(Location::File, format!("input ended early: {e}; events before this point were kept"));
    }
    all.push(stats);
}

fn decode_zip(data: &[u8], source: &Arc<SourceRef>, options: &Options, out: &mut dyn Output, all: &mut Vec<FileStats>, depth: usize) {
    let mut archive = match zip::ZipArchive::new(Cursor::new(data)) {
        Ok(archive) => archive,
        Err(e) => {
            report_file_error(&source.path, &format!("invalid zip archive: {e}"), out, all);
            return;
        }
    };
    for index in 0..archive.len() {
        let member = match archive.by_index(index) {
            Ok(member) => member,
            Err(e) => {
                report_file_error(&source.path, &format!("zip member {index} is unreadable: {e}"), out, all);
                continue;
            }
        };
        if !member.is_file() {
            continue;
        }
        let name = member.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("member-{index}"));
        let member_source = member_source(source, &name);
        let limited = LimitedReader::new(member, options.max_decompressed_bytes);
        decode_reader(Box::new(BufReader::with_capacity(256 * 1024, limited)), member_source, None, options, out, all, depth + 1);
    }
}

fn decode_tar(reader: Box<dyn BufRead + '_>, source: &Arc<SourceRef>, options: &Options, out: &mut dyn Output, all: &mut Vec<FileStats>, depth: usize) {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(e) => {
            report_file_error(&source.path, &format!("invalid tar archive: {e}"), out, all);
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                report_file_error(&source.path, &format!("tar archive is truncated or invalid: {e}"), out, all);
                return;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map(|p| p.display().to_string()).unwrap_or_else(|_| "?".to_string());
        let member_source = member_source(source, &name);
        let limited = LimitedReader::new(entry, options.max_decompressed_bytes);
        decode_reader(Box::new(BufReader::with_capacity(256 * 1024, limited)), member_source, None, options, out, all, depth + 1);
    }
}

/// Names an archive member `archive!member` and gives it the archive's digest, because the
/// archive is the file an analyst holds.
fn member_source(archive: &Arc<SourceRef>, member: &str) -> Arc<SourceRef> {
    let source = SourceRef::new(format!("{}!{member}", archive.path));
    if let Some(digest) = archive.sha256() {
        source.set_sha256(*digest);
    }
    source
}

fn report_file_error(path: &str, message: &str, out: &mut dyn Output, all: &mut Vec<FileStats>) {
    out.error(RecordError { path: path.to_string(), location: Location::File, message: message.to_string() });
    all.push(FileStats { path: path.to_string(), errors: 1, ..Default::default() });
}

fn is_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

/// Reads up to `n` bytes for sniffing and returns them with a reader that yields the whole
/// stream again, those bytes included.
fn peek<'a>(mut reader: Box<dyn BufRead + 'a>, n: usize) -> io::Result<(Vec<u8>, Box<dyn BufRead + 'a>)> {
    let mut head = Vec::with_capacity(n.min(64 * 1024));
    (&mut reader).take(n as u64).read_to_end(&mut head)?;
    let chained = Cursor::new(head.clone()).chain(reader);
    Ok((head, Box::new(BufReader::with_capacity(256 * 1024, chained))))
}

/// Reads a whole stream into `data`, failing once it exceeds `limit` bytes.
pub(crate) fn read_limited(reader: &mut dyn BufRead, limit: u64, data: &mut Vec<u8>) -> io::Result<()> {
    let read = reader.take(limit + 1).read_to_end(data)?;
    if read as u64 > limit {
        data.clear();
        return Err(io::Error::other(format!("larger than the {limit}-byte limit for inputs read whole")));
    }
    Ok(())
}

/// A reader that fails once more than `limit` bytes have come through it.
struct LimitedReader<R> {
    inner: R,
    remaining: u64,
    limit: u64,
}

impl<R> LimitedReader<R> {
    fn new(inner: R, limit: u64) -> Self {
        LimitedReader { inner, remaining: limit, limit }
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!(
                    "decompressed size exceeds the {}-byte limit (a decompression bomb?); rest skipped",
                    self.limit
                ))),
            };
        }
        let max = buf.len().min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Decodes an input already in memory under the display name `name`, with archives opened
/// as for files. For stdin-like sources, tests and fuzzing.
pub fn decode_bytes_input(name: &str, data: &[u8], options: &Options, out: &mut dyn Output) -> Vec<FileStats> {
    let source = SourceRef::new(name);
    source.set_sha256(Sha256::digest(data).into());
    let mut all = Vec::new();
    decode_bytes(data, source, None, options, out, &mut all, 0);
    all
}

/// Decodes an input in memory as `format`, without sniffing or opening archives: what a
/// fuzz target for one decoder needs, and what a caller uses when the format is given.
pub fn decode_bytes_as(format: Format, name: &str, data: &[u8], options: &Options, out: &mut dyn Output) -> FileStats {
    let source = SourceRef::new(name);
    let mut stats = FileStats { path: name.to_string(), format: Some(format), ..Default::default() };
    let mut ctx = Context::new(source, options, &mut stats, out);
    if format == Format::Evtx {
        decode::evtx::decode(data, &mut ctx);
    } else if let Err(e) = decode::decode_stream(format, &mut Cursor::new(data), &mut ctx) {
        ctx.error(Location::File, format!("input ended early: {e}; events before this point were kept"));
    }
    stats
}
