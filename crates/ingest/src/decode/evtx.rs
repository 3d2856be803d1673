//! Windows EVTX files, through the evtx crate.
//!
//! Each chunk is parsed by the crate, each record rendered as XML and turned into an [`Event`]
//! by the same conversion as Windows XML exports ([`super::winxml`]), so both formats yield the
//! same fields. Rendering XML and reading it back with quick-xml is the fastest route the crate's
//! public API allows: its JSON output is slower to render and loses repeated names, and the
//! parsed record tree is private to the crate.
//!
//! Chunks are read in record order (a log that has wrapped around starts at its oldest chunk),
//! including chunks past the count in the file header, which dirty files have. A chunk that
//! cannot be parsed, or a record that cannot be rendered, is reported with the file offset and
//! the others are still decoded. Chunk checksums are checked and a mismatch is reported, but the
//! chunk's records are still read, because damage is often confined to a few bytes.

use std::io::Cursor;
use std::sync::Arc;

use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, ParserSettings};
use rayon::prelude::*;
use tocsin_event::{Event, Evidence, Precision, Schema, SourceRef, Timestamp, Value};

use super::winxml::EventXml;
use crate::{Context, Location};

const FILE_HEADER_SIZE: u64 = 4096;
const CHUNK_SIZE: usize = 65536;
const RECORD_HEADER_SIZE: u64 = 24;

/// Field holding the time in the record header, which can differ from `TimeCreated`.
pub const HEADER_TIME_FIELD: &str = "tocsin.evtx.header_time";

/// Recognises the `ElfFile\0` file header or a lone `ElfChnk\0` chunk.
pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"ElfFile\0") || head.starts_with(b"ElfChnk\0")
}

/// Decodes a whole EVTX file held in memory, or a sequence of bare chunks.
pub fn decode(data: &[u8], ctx: &mut Context<'_>) {
    let settings = ParserSettings::new().num_threads(1).indent(false).validate_checksums(false);
    let settings = Arc::new(settings);
    let threads = match ctx.options.evtx_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };

    if data.starts_with(b"ElfChnk\0") {
        let chunks = data.chunks(CHUNK_SIZE).enumerate().filter_map(|(number, bytes)| {
            let (number, offset) = (number as u64, (number * CHUNK_SIZE) as u64);
            if bytes.len() < CHUNK_SIZE {
                return partial_chunk(number, offset, bytes);
            }
            if bytes.iter().all(|&b| b == 0) {
                return None;
            }
            let chunk = EvtxChunkData::new(bytes.to_vec(), false).map_err(|e| error_chain(&e));
            Some(ChunkInput { number, offset, chunk, truncated: false })
        });
        run(chunks, &settings, threads, ctx);
        return;
    }

    let parser = match EvtxParser::from_read_seek(Cursor::new(data)) {
        Ok(parser) => parser,
        Err(e) => {
            ctx.error(Location::File, format!("invalid EVTX file header: {}", error_chain(&e)));
            return;
        }
    };
    let mut parser = parser.with_configuration((*settings).clone());
    let chunks = parser.chunks().map(|chunk| match chunk {
        Ok(chunk) => {
            let number = chunk.number.unwrap_or(0);
            ChunkInput { number, offset: chunk_offset(number), chunk: Ok(chunk), truncated: false }
        }
        Err(e) => {
            let number = match &e {
                EvtxError::FailedToParseChunk { chunk_id, .. } => *chunk_id,
                _ => 0,
            };
            ChunkInput { number, offset: chunk_offset(number), chunk: Err(error_chain(&e)), truncated: false }
        }
    });

    // The crate stops at the last whole chunk; a file cut inside a chunk still has records
    // before the cut.
    let whole_chunks = (data.len() as u64).saturating_sub(FILE_HEADER_SIZE) / CHUNK_SIZE as u64;
    let tail_start = chunk_offset(whole_chunks) as usize;
    let tail = data.get(tail_start..).unwrap_or_default();
    let partial = partial_chunk(whole_chunks, tail_start as u64, tail);
    run(chunks.chain(partial), &settings, threads, ctx);
}

/// Reads the bytes after the last whole chunk. A chunk cut short is padded with zeros, so the
/// records before the cut can still be read. Other bytes that are not zero are reported.
fn partial_chunk(number: u64, offset: u64, bytes: &[u8]) -> Option<ChunkInput> {
    if bytes.iter().all(|&b| b == 0) {
        return None;
    }
    if !bytes.starts_with(b"ElfChnk\0") || bytes.len() < 512 {
        let message = format!("{} bytes after the last whole chunk are not an EVTX chunk", bytes.len());
        return Some(ChunkInput { number, offset, chunk: Err(message), truncated: false });
    }
    let mut padded = bytes.to_vec();
    padded.resize(CHUNK_SIZE, 0);
    let chunk = EvtxChunkData::new(padded, false).map_err(|e| error_chain(&e));
    Some(ChunkInput { number, offset, chunk, truncated: true })
}

fn chunk_offset(number: u64) -> u64 {
    FILE_HEADER_SIZE + number * CHUNK_SIZE as u64
}

/// A chunk read from the file, or why it could not be read.
struct ChunkInput {
    number: u64,
    /// Byte offset of the chunk in the input.
    offset: u64,
    chunk: Result<EvtxChunkData, String>,
    /// The input ends inside this chunk, which was padded with zeros.
    truncated: bool,
}

/// One result of decoding a chunk; a chunk yields them in record order.
enum Item {
    Event(Event),
    /// A record that could not be decoded.
    RecordError(Location, String),
    /// A chunk-level problem (unreadable chunk, checksum mismatch); not a record.
    ChunkError(Location, String),
}

/// Decodes chunks, in parallel batches when `threads > 1`, and sends the results to `ctx` in
/// chunk order.
fn run(chunks: impl Iterator<Item = ChunkInput>, settings: &Arc<ParserSettings>, threads: usize, ctx: &mut Context<'_>) {
    let source = ctx.source.clone();
    if threads <= 1 {
        let mut builder = EventXml::default();
        for input in chunks {
            let items = decode_chunk(input, settings, &source, &mut builder);
            deliver(items, ctx);
        }
        return;
    }

    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(e) => {
            tracing::warn!(error = %e, "could not start EVTX worker threads; decoding on one thread");
            return run(chunks, settings, 1, ctx);
        }
    };
    let batch_size = threads * 4;
    let mut chunks = chunks.peekable();
    while chunks.peek().is_some() {
        let batch: Vec<ChunkInput> = chunks.by_ref().take(batch_size).collect();
        let results: Vec<Vec<Item>> = pool.install(|| {
            batch
                .into_par_iter()
                .map_init(EventXml::default, |builder, input| decode_chunk(input, settings, &source, builder))
                .collect()
        });
        for items in results {
            deliver(items, ctx);
        }
    }
}

fn deliver(items: Vec<Item>, ctx: &mut Context<'_>) {
    for item in items {
        match item {
            Item::Event(event) => {
                ctx.record();
                ctx.emit(event);
            }
            Item::RecordError(location, message) => {
                ctx.record();
                ctx.error(location, message);
            }
            Item::ChunkError(location, message) => ctx.error(location, message),
        }
    }
}

fn decode_chunk(input: ChunkInput, settings: &Arc<ParserSettings>, source: &Arc<SourceRef>, builder: &mut EventXml) -> Vec<Item> {
    let ChunkInput { number, offset: base, chunk, truncated } = input;
    let chunk_location = Location::Offset { offset: base };
    let mut chunk_data = match chunk {
        Ok(chunk) => chunk,
        Err(message) => return vec![Item::ChunkError(chunk_location, format!("chunk {number} could not be read: {message}"))],
    };

    let mut items = Vec::with_capacity(chunk_data.header.last_event_record_number.saturating_sub(chunk_data.header.first_event_record_number).min(1024) as usize + 1);
    if truncated {
        items.push(Item::ChunkError(
            chunk_location,
            format!("the input ends inside chunk {number}; records before the cut are read, the rest are lost"),
        ));
    } else if !chunk_data.validate_header_checksum() || !chunk_data.validate_data_checksum() {
        items.push(Item::ChunkError(
            chunk_location,
            format!("chunk {number} fails its CRC32 check (damaged or still being written); its records are read anyway"),
        ));
    }

    let mut chunk = match chunk_data.parse(Arc::clone(settings)) {
        Ok(chunk) => chunk,
        Err(e) => {
            items.push(Item::ChunkError(chunk_location, format!("chunk {number} could not be parsed: {}", error_chain(&e))));
            return items;
        }
    };

    for record in chunk.iter() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                items.push(record_error(&e, number, base));
                continue;
            }
        };
        let record_id = record.event_record_id;
        let record_start = record.binxml_offset.saturating_sub(RECORD_HEADER_SIZE);
        let header_time = read_u64_le(record.chunk.data, record_start as usize + 16).and_then(filetime_to_timestamp);
        let evidence = Evidence::record(source.clone(), record_id).with_offset(base + record_start);

        let xml = match record.into_xml_bytes() {
            Ok(xml) => xml.data,
            Err(e) => {
                let message = format!("chunk {number}: record {record_id} could not be rendered: {}", error_chain(&e));
                items.push(Item::RecordError(Location::Offset { offset: base + record_start }, message));
                continue;
            }
        };
        let mut event = Event::with_capacity(Schema::Windows, evidence, 32);
        match builder.build(&xml, &mut event) {
            Ok(()) => {
                if let Some(time) = header_time {
                    event.push(HEADER_TIME_FIELD, Value::Time(time));
                }
                items.push(Item::Event(event));
            }
            Err(message) => {
                let message = format!("chunk {number}: record {record_id} rendered to invalid XML: {message}");
                items.push(Item::RecordError(Location::Offset { offset: base + record_start }, message));
            }
        }
    }
    items
}

fn record_error(error: &EvtxError, chunk: u64, base: u64) -> Item {
    let message = format!("chunk {chunk}: {}", error_chain(error));
    match error {
        EvtxError::FailedToReadRecordAt { offset, .. } => Item::RecordError(Location::Offset { offset: base + offset }, message),
        EvtxError::FailedToParseRecord { record_id, .. } => Item::RecordError(Location::Record { record_id: *record_id }, message),
        _ => Item::RecordError(Location::Offset { offset: base }, message),
    }
}

/// Formats an error with its sources, since the evtx crate puts the useful detail in them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

fn read_u64_le(data: &[u8], at: usize) -> Option<u64> {
    let bytes = data.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

/// Seconds from 1601-01-01 (the FILETIME epoch) to 1970-01-01.
const FILETIME_UNIX_OFFSET_SECONDS: i64 = 11_644_473_600;
const TICKS_PER_SECOND: u64 = 10_000_000;

/// Converts a FILETIME (100 ns ticks since 1601-01-01 UTC) with integer arithmetic, keeping all
/// seven fraction digits. Returns `None` for values chrono cannot represent.
pub fn filetime_to_timestamp(filetime: u64) -> Option<Timestamp> {
    let seconds = i64::try_from(filetime / TICKS_PER_SECOND).ok()? - FILETIME_UNIX_OFFSET_SECONDS;
    let nanos = (filetime % TICKS_PER_SECOND) as u32 * 100;
    let time = chrono::DateTime::from_timestamp(seconds, nanos)?;
    Some(Timestamp::new(time, Precision::Nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_conversion() {
        assert_eq!(filetime_to_timestamp(0).unwrap().to_string(), "1601-01-01T00:00:00.000000000Z");
        assert_eq!(filetime_to_timestamp(116_444_736_000_000_000).unwrap().to_string(), "1970-01-01T00:00:00.000000000Z");
        // A remainder of 9,999,999 ticks must not round up into the next second.
        assert_eq!(filetime_to_timestamp(116_444_736_009_999_999).unwrap().to_string(), "1970-01-01T00:00:00.999999900Z");
        // 2040-01-01T00:00:00Z, past the 32-bit time_t limit.
        assert_eq!(filetime_to_timestamp(138_534_624_000_000_000).unwrap().to_string(), "2040-01-01T00:00:00.000000000Z");
        assert!(filetime_to_timestamp(u64::MAX).is_some_and(|t| t.time.timestamp() > 0));
    }

    fn decode_bytes(data: &[u8]) -> (crate::Collect, crate::FileStats) {
        let options = crate::Options::default();
        let mut out = crate::Collect::default();
        let mut stats = crate::FileStats::default();
        let mut ctx = Context::new(SourceRef::new("t.evtx"), &options, &mut stats, &mut out);
        decode(data, &mut ctx);
        (out, stats)
    }

    #[test]
    fn junk_after_magic_is_one_error() {
        let mut data = b"ElfFile\0".to_vec();
        data.extend_from_slice(&[0xAB; 300]);
        let (out, stats) = decode_bytes(&data);
        assert!(out.events.is_empty());
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        assert_eq!(stats.errors, 1);
    }

    #[test]
    fn short_lone_chunk_is_reported() {
        let mut data = b"ElfChnk\0".to_vec();
        data.extend_from_slice(&[0x11; 100]);
        let (out, _) = decode_bytes(&data);
        assert!(out.events.is_empty());
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        assert_eq!(out.errors[0].location, Location::Offset { offset: 0 });
    }

    #[test]
    fn sniff_headers() {
        assert!(sniff(b"ElfFile\0rest"));
        assert!(sniff(b"ElfChnk\0rest"));
        assert!(!sniff(b"ElfFile"));
    }
}
