//! The matcher's common path does not allocate once its buffers have grown.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tocsin_event::{Event, Evidence, Schema, SourceRef, Value};
use tocsin_sigma::{RuleSetBuilder, Scratch};

/// Counts allocations made by the current thread.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: forwards the caller's layout unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout in `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const RULES: &str = r"
title: a
id: 30000000-0000-4000-8000-000000000001
logsource: { product: windows, category: process_creation }
detection:
  selection:
    Image|endswith: ['\cmd.exe', '\powershell.exe']
    CommandLine|contains: ['-enc', 'whoami', 'net user', '/add']
  filter:
    ParentImage|endswith: '\explorer.exe'
  condition: selection and not filter
---
title: b
id: 30000000-0000-4000-8000-000000000002
logsource: { product: windows }
detection:
  keywords: ['mimikatz', 'sekurlsa::', 'lsadump::']
  condition: keywords
---
title: c
id: 30000000-0000-4000-8000-000000000003
logsource: { product: windows, category: process_creation }
detection:
  selection:
    CommandLine|re: 'wh.ami\s+/all'
    EventID|gte: 1
  condition: selection
";

fn event(command_line: &str) -> Event {
    let mut event = Event::new(Schema::Windows, Evidence::record(SourceRef::new("alloc"), 1));
    event.push("Channel", "Microsoft-Windows-Sysmon/Operational");
    event.push("EventID", Value::Int(1));
    event.push("Image", r"C:\Windows\System32\cmd.exe");
    event.push("ParentImage", r"C:\Windows\System32\services.exe");
    event.push("CommandLine", command_line);
    event.push("Product", "Microsoft® Windows® Operating System");
    event
}

#[test]
fn matching_does_not_allocate() {
    let mut builder = RuleSetBuilder::new();
    builder.add_str(RULES, None);
    let (set, report) = builder.build();
    assert_eq!(report.accepted(), 3);
    let events = [event("cmd.exe /c whoami /all"), event("cmd.exe /c net user x /add"), event("cmd.exe /c dir"), event("sekurlsa::logonpasswords")];
    let mut scratch = Scratch::new();
    let mut out = Vec::with_capacity(16);
    for event in &events {
        out.clear();
        set.matches_into(event, &mut scratch, &mut out);
    }

    let before = ALLOCATIONS.with(Cell::get);
    let mut hits = 0;
    for _ in 0..100 {
        for event in &events {
            out.clear();
            set.matches_into(event, &mut scratch, &mut out);
            hits += out.len();
        }
    }
    let allocations = ALLOCATIONS.with(Cell::get) - before;
    assert_eq!(hits, 400);
    assert_eq!(allocations, 0, "{allocations} allocations in 400 matches");
}
