//! The map-side sort buffer: records are kept in one byte arena with a small
//! fixed-size index entry each; when arena plus index reach the budget, the
//! index is sorted by (partition, key) and written out as a sorted run with
//! one segment per partition.

use super::merge::Segment;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One record in the arena. The key prefix (first 8 bytes, big-endian)
/// settles most comparisons without touching the arena.
#[derive(Clone, Copy)]
struct Meta {
    prefix: u64,
    part: u32,
    off: u32,
    klen: u32,
    vlen: u32,
}

const META: usize = std::mem::size_of::<Meta>();

/// The largest arena one buffer may use (offsets are `u32`).
pub(crate) const MAX_BUDGET: usize = 1 << 31;

fn prefix(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = key.len().min(8);
    b[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(b)
}

/// A sorted run on disk: one segment per partition (possibly empty).
pub(crate) type Run = Vec<Segment>;

pub(crate) struct SortBuffer {
    data: Vec<u8>,
    metas: Vec<Meta>,
    budget: usize,
    parts: usize,
    dir: PathBuf,
    name: String,
    runs: Vec<Run>,
    pub(crate) spilled_records: u64,
}

impl SortBuffer {
    /// A buffer holding at most `budget` bytes (records plus index) before
    /// it spills into `dir`, naming its runs `{name}-{n}.run`.
    pub(crate) fn new(budget: usize, parts: usize, dir: &Path, name: String) -> SortBuffer {
        let budget = budget.clamp(1024, MAX_BUDGET);
        // Capacity is reserved, not touched: only what is written becomes
        // resident, and arena plus index never pass the budget together.
        SortBuffer {
            data: Vec::with_capacity(budget),
            metas: Vec::with_capacity(budget / META + 1),
            budget,
            parts,
            dir: dir.to_path_buf(),
            name,
            runs: Vec::new(),
            spilled_records: 0,
        }
    }

    pub(crate) fn push(&mut self, part: usize, key: &[u8], value: &[u8]) -> io::Result<()> {
        let need = key.len() + value.len();
        if !self.metas.is_empty()
            && self.data.len() + need + (self.metas.len() + 1) * META > self.budget
        {
            self.spill()?;
        }
        let off = self.data.len();
        if off + need > u32::MAX as usize {
            return Err(io::Error::other(
                "a map output record is too large (over 4 GB)",
            ));
        }
        self.data.extend_from_slice(key);
        self.data.extend_from_slice(value);
        self.metas.push(Meta {
            prefix: prefix(key),
            part: part as u32,
            off: off as u32,
            klen: key.len() as u32,
            vlen: value.len() as u32,
        });
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        let data = &self.data;
        let key = |m: &Meta| &data[m.off as usize..m.off as usize + m.klen as usize];
        self.metas.sort_unstable_by(|a, b| {
            a.part
                .cmp(&b.part)
                .then(a.prefix.cmp(&b.prefix))
                .then_with(|| key(a).cmp(key(b)))
        });
        let path = Arc::new(
            self.dir
                .join(format!("{}-{}.run", self.name, self.runs.len())),
        );
        let file = File::create(&*path)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let mut segs: Vec<Segment> = (0..self.parts)
            .map(|_| Segment {
                path: path.clone(),
                offset: 0,
                len: 0,
                records: 0,
            })
            .collect();
        let mut pos = 0u64;
        let mut i = 0;
        for (p, seg) in segs.iter_mut().enumerate() {
            seg.offset = pos;
            while i < self.metas.len() && self.metas[i].part as usize == p {
                let m = &self.metas[i];
                let s = m.off as usize;
                let k = s + m.klen as usize;
                let e = k + m.vlen as usize;
                w.write_all(&data[s..k])?;
                w.write_all(b"\t")?;
                w.write_all(&data[k..e])?;
                w.write_all(b"\n")?;
                pos += (e - s) as u64 + 2;
                seg.records += 1;
                i += 1;
            }
            seg.len = pos - seg.offset;
        }
        w.flush()?;
        self.spilled_records += self.metas.len() as u64;
        self.runs.push(segs);
        self.data.clear();
        self.metas.clear();
        Ok(())
    }

    /// Spill what is left and return the runs (the memory is freed).
    pub(crate) fn finish(mut self) -> io::Result<(Vec<Run>, u64)> {
        if !self.metas.is_empty() {
            self.spill()?;
        }
        Ok((std::mem::take(&mut self.runs), self.spilled_records))
    }
}
