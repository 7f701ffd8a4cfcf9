//! A pre-check of `.xls` files before calamine reads them: calamine reserves memory for
//! rows × columns as a sheet's DIMENSIONS record claims (up to 2³² × 2¹⁶ cells), so a
//! forged record aborts the process on allocation. This reads the compound file's
//! `Workbook` stream (a minimal, bounded CFB reader) and checks every DIMENSIONS record
//! and every cell's position against [`Limits::max_sheet_cells`] first.

use crate::{ImportError, Limits};

const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
const DIFAT_IN_HEADER: usize = 109;
const DIR_ENTRY: usize = 128;
const BOF: u16 = 0x0809;
const DIMENSIONS: u16 = 0x0200;
/// Record types whose data starts with the cell's row (u16) and column (u16).
const CELL_RECORDS: [u16; 8] = [
    0x0203, 0x0204, 0x00FD, 0x027E, 0x00BD, 0x0006, 0x00D6, 0x0205,
];

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

struct Cfb<'a> {
    bytes: &'a [u8],
    shift: u32,
    fat: Vec<u32>,
}

impl<'a> Cfb<'a> {
    fn sector(&self, n: u32) -> Option<&'a [u8]> {
        let size = 1usize << self.shift;
        let start = (usize::try_from(n).ok()?.checked_add(1)?).checked_mul(size)?;
        self.bytes.get(start..start.checked_add(size)?)
    }

    /// Follows a FAT chain, at most as many sectors as the file holds (no loops).
    fn chain(&self, fat: &[u32], start: u32, max: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut n = start;
        while n < END_OF_CHAIN - 3 && out.len() < max {
            out.push(n);
            n = match fat.get(n as usize) {
                Some(next) => *next,
                None => break,
            };
        }
        out
    }

    /// Whether a FAT chain reaches END_OF_CHAIN within `max` sectors. calamine follows
    /// the directory chain without a bound, so a looping one would grow its buffer until
    /// the process runs out of memory.
    fn chain_ends(&self, start: u32, max: usize) -> bool {
        let (mut n, mut steps) = (start, 0usize);
        while n < END_OF_CHAIN - 3 {
            if steps >= max {
                return false;
            }
            n = match self.fat.get(n as usize) {
                Some(next) => *next,
                None => return false,
            };
            steps += 1;
        }
        n == END_OF_CHAIN
    }

    fn stream(&self, start: u32, size: usize) -> Vec<u8> {
        let max = self.bytes.len() >> self.shift;
        let mut out = Vec::new();
        for n in self.chain(&self.fat, start, max) {
            match self.sector(n) {
                Some(s) => out.extend_from_slice(s),
                None => break,
            }
            if out.len() >= size {
                break;
            }
        }
        out.truncate(size);
        out
    }
}

/// The `Workbook` (or BIFF5 `Book`) stream, if the bytes are a readable compound file.
fn workbook_stream(bytes: &[u8]) -> Option<Vec<u8>> {
    let shift = u32::from(u16_at(bytes, 0x1E)?);
    let mini_shift = u32::from(u16_at(bytes, 0x20)?);
    if !(7..=16).contains(&shift) || !(2..=shift).contains(&mini_shift) {
        return None;
    }
    let max_sectors = bytes.len() >> shift;
    let mut cfb = Cfb {
        bytes,
        shift,
        fat: Vec::new(),
    };
    // FAT sector numbers: 109 in the header, then chained DIFAT sectors.
    let mut fat_sectors: Vec<u32> = (0..DIFAT_IN_HEADER)
        .filter_map(|i| u32_at(bytes, 0x4C + i * 4))
        .collect();
    let mut difat = u32_at(bytes, 0x44)?;
    let per_sector = (1usize << shift) / 4;
    let mut guard = 0;
    while difat < END_OF_CHAIN - 3 && guard < max_sectors {
        let s = cfb.sector(difat)?;
        fat_sectors.extend((0..per_sector - 1).filter_map(|i| u32_at(s, i * 4)));
        difat = u32_at(s, (per_sector - 1) * 4)?;
        guard += 1;
    }
    let mut fat = Vec::new();
    for n in fat_sectors
        .into_iter()
        .filter(|n| *n < END_OF_CHAIN - 3)
        .take(max_sectors)
    {
        let s = cfb.sector(n)?;
        fat.extend((0..per_sector).filter_map(|i| u32_at(s, i * 4)));
    }
    cfb.fat = fat;
    if !cfb.chain_ends(u32_at(bytes, 0x30)?, max_sectors) {
        return None;
    }
    let dir = cfb.stream(u32_at(bytes, 0x30)?, bytes.len());
    let entry = |i: usize| dir.get(i * DIR_ENTRY..(i + 1) * DIR_ENTRY);
    let root = entry(0)?;
    let (root_start, root_size) = (u32_at(root, 116)?, u32_at(root, 120)? as usize);
    let book = (0..dir.len() / DIR_ENTRY).filter_map(entry).find(|e| {
        let len = usize::from(u16_at(e, 64).unwrap_or(0)).min(64);
        let name: Vec<u16> = (0..len.saturating_sub(2) / 2)
            .filter_map(|i| u16_at(e, i * 2))
            .collect();
        let name = String::from_utf16_lossy(&name).to_ascii_lowercase();
        e.get(66) == Some(&2) && (name == "workbook" || name == "book")
    })?;
    let (start, size) = (u32_at(book, 116)?, u32_at(book, 120)? as usize);
    if size >= u32_at(bytes, 0x38)? as usize {
        return Some(cfb.stream(start, size));
    }
    // Small streams live in the mini stream, chained by the mini FAT.
    let ministream = cfb.stream(root_start, root_size);
    let minifat_bytes = cfb.stream(u32_at(bytes, 0x3C)?, bytes.len());
    let minifat: Vec<u32> = (0..minifat_bytes.len() / 4)
        .filter_map(|i| u32_at(&minifat_bytes, i * 4))
        .collect();
    let mini = 1usize << mini_shift;
    let mut out = Vec::new();
    for n in cfb.chain(&minifat, start, ministream.len() / mini + 1) {
        let from = (n as usize).checked_mul(mini)?;
        out.extend_from_slice(ministream.get(from..from.checked_add(mini)?)?);
        if out.len() >= size {
            break;
        }
    }
    out.truncate(size);
    Some(out)
}

/// Checks the sheets' claimed and used extents. Files it cannot read are left to calamine,
/// which then fails on its own (its CFB reader errors before reading any sheet).
pub(crate) fn check(bytes: &[u8], limits: &Limits) -> Result<(), ImportError> {
    let Some(stream) = workbook_stream(bytes) else {
        return Err(ImportError::malformed(
            "workbook",
            "not a readable Excel 97-2003 compound file",
        ));
    };
    let too_large = |sheet: usize, size: u64| ImportError::SheetTooLarge {
        location: format!("sheet {sheet}"),
        size,
        limit: limits.max_sheet_cells,
    };
    let (mut at, mut sheet) = (0usize, 0usize);
    let (mut max_row, mut max_col) = (0u64, 0u64);
    while let (Some(typ), Some(len)) = (u16_at(&stream, at), u16_at(&stream, at + 2)) {
        let data = stream
            .get(at + 4..at + 4 + usize::from(len))
            .unwrap_or_default();
        at += 4 + usize::from(len);
        if typ == BOF {
            sheet += 1;
            (max_row, max_col) = (0, 0);
        } else if typ == DIMENSIONS {
            // Mirrors how calamine turns the record into a size, refusing what would
            // underflow there or exceed the limit.
            let (rf, rl, cf, cl) = match data.len() {
                10 => (
                    u32::from(u16_at(data, 0).unwrap_or(0)),
                    u32::from(u16_at(data, 2).unwrap_or(0)),
                    u16_at(data, 4).unwrap_or(0),
                    u16_at(data, 6).unwrap_or(0),
                ),
                14 | 16 => (
                    u32_at(data, 0).unwrap_or(0),
                    u32_at(data, 4).unwrap_or(0),
                    u16_at(data, 8).unwrap_or(0),
                    u16_at(data, 10).unwrap_or(0),
                ),
                _ => continue,
            };
            let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
            let (end_r, end_c) = if rl >= 1 && cl >= 1 {
                (rl - 1, u32::from(cl) - 1)
            } else {
                (rf, u32::from(cf))
            };
            let rows = end_r.checked_sub(rf).map(|r| u64::from(r) + 1);
            let cols = end_c.checked_sub(u32::from(cf)).map(|c| u64::from(c) + 1);
            match rows.zip(cols).map(|(r, c)| r.saturating_mul(c)) {
                Some(cells) if cells <= limits.max_sheet_cells => {}
                Some(cells) => return Err(too_large(sheet, cells)),
                None => {
                    return Err(ImportError::malformed(
                        format!("sheet {sheet}"),
                        "impossible DIMENSIONS record",
                    ));
                }
            }
        } else if CELL_RECORDS.contains(&typ) {
            max_row = max_row.max(u64::from(u16_at(data, 0).unwrap_or(0)) + 1);
            max_col = max_col.max(u64::from(u16_at(data, 2).unwrap_or(0)) + 1);
            let cells = max_row.saturating_mul(max_col);
            if cells > limits.max_sheet_cells {
                return Err(too_large(sheet, cells));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzzer: a directory chain that loops made calamine allocate until the
    /// process died; it is refused before calamine sees it.
    #[test]
    fn a_looping_directory_chain_is_refused() {
        let bytes = include_bytes!("../tests/fixtures/looping-directory-chain.xls");
        assert!(check(bytes, &Limits::default()).is_err());
    }
}
