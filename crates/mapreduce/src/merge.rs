//! Sorted segments on disk and their k-way merge.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A byte range of a run file holding `key\tvalue\n` lines sorted by key.
#[derive(Clone, Debug)]
pub(crate) struct Segment {
    pub(crate) path: Arc<PathBuf>,
    pub(crate) offset: u64,
    pub(crate) len: u64,
    pub(crate) records: u64,
}

/// Most segments merged in one pass; more are merged in several passes.
pub(crate) const MERGE_FACTOR: usize = 64;

struct Head {
    line: Vec<u8>,
    klen: usize,
    src: usize,
}

impl Head {
    fn key(&self) -> &[u8] {
        &self.line[..self.klen]
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    /// Reversed, so the max-heap pops the smallest key (ties: earliest
    /// segment first, which keeps the merge stable).
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(self.key()).then(other.src.cmp(&self.src))
    }
}

fn read_line(r: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Option<usize>> {
    line.clear();
    if r.read_until(b'\n', line)? == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        line.push(b'\n');
    }
    let klen = memchr::memchr(b'\t', line).unwrap_or(line.len() - 1);
    Ok(Some(klen))
}

fn open(seg: &Segment, buf_size: usize) -> io::Result<BufReader<io::Take<File>>> {
    let mut f = File::open(&*seg.path)?;
    f.seek(SeekFrom::Start(seg.offset))?;
    Ok(BufReader::with_capacity(buf_size, f.take(seg.len)))
}

/// Merge sorted segments, calling `emit(line, key_len)` for every record in
/// key order (`line` ends with `\n`).
pub(crate) fn merge_segments(
    segs: &[Segment],
    buf_size: usize,
    mut emit: impl FnMut(&[u8], usize) -> io::Result<()>,
) -> io::Result<()> {
    let segs: Vec<&Segment> = segs.iter().filter(|s| s.len > 0).collect();
    let mut readers = Vec::with_capacity(segs.len());
    let mut heap = BinaryHeap::with_capacity(segs.len());
    for (src, seg) in segs.iter().enumerate() {
        let mut r = open(seg, buf_size)?;
        let mut line = Vec::with_capacity(64);
        if let Some(klen) = read_line(&mut r, &mut line)? {
            heap.push(Head { line, klen, src });
        }
        readers.push(r);
    }
    while let Some(mut top) = heap.peek_mut() {
        emit(&top.line, top.klen)?;
        let src = top.src;
        let mut line = std::mem::take(&mut top.line);
        match read_line(&mut readers[src], &mut line)? {
            Some(klen) => {
                top.line = line;
                top.klen = klen;
            }
            None => {
                PeekMut::pop(top);
            }
        }
    }
    Ok(())
}

/// Reduce the number of segments to at most [`MERGE_FACTOR`] by merging
/// groups of them into new runs in `dir`. Returns the segments left and the
/// records written.
pub(crate) fn merge_passes(
    mut segs: Vec<Segment>,
    dir: &Path,
    name: &str,
) -> io::Result<(Vec<Segment>, u64)> {
    segs.retain(|s| s.len > 0);
    let mut written = 0u64;
    let mut pass = 0;
    while segs.len() > MERGE_FACTOR {
        let group: Vec<Segment> = segs.drain(..MERGE_FACTOR).collect();
        let path = Arc::new(dir.join(format!("{name}-merge{pass}.run")));
        pass += 1;
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&*path)?);
        let mut len = 0u64;
        let mut records = 0u64;
        merge_segments(&group, 64 * 1024, |line, _| {
            len += line.len() as u64;
            records += 1;
            w.write_all(line)
        })?;
        w.flush()?;
        written += records;
        segs.push(Segment {
            path,
            offset: 0,
            len,
            records,
        });
    }
    Ok((segs, written))
}
