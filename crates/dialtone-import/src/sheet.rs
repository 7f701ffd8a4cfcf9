//! Spreadsheets (xlsx, xls, ods) through calamine. Phone numbers typed into Excel are
//! stored as floats: they come out whole (see [`crate::normalize`]). Each sheet is read as
//! a table when a row names its columns (first rows searched), else as a list whose
//! number-looking cells are phones and other text the name.
//!
//! Bounded memory: a zipped workbook is first unpacked into a counting sink to check its
//! real size (zip bombs), an ODS sheet's used area is measured by streaming its XML before
//! calamine expands repeated rows and columns, and xlsx cells are streamed and capped.

use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsx};
use quick_xml::events::Event;

use crate::csv::record_from_cells;
use crate::headers::{Role, role};
use crate::record::{NameParts, Parsed, RawPhone, RawRecord, RawValue};
use crate::{Format, ImportError, Limits};

/// Rows searched for a header.
const HEADER_SEARCH_ROWS: usize = 10;
/// Most members a zipped workbook may have.
const MAX_ZIP_MEMBERS: usize = 10_000;

type Cells = Vec<(u32, u32, RawValue)>;
/// A sheet row: its index and its cells by column.
type Row = (u32, Vec<RawValue>);

/// Reads every sheet of a workbook. calamine is a large parser of hostile binary input: a
/// panic inside it (a bug there) is caught and reported as a malformed workbook rather than
/// taking the server's worker down.
pub(crate) fn parse(bytes: &[u8], format: Format, limits: &Limits) -> Result<Parsed, ImportError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_unguarded(bytes, format, limits)
    }))
    .unwrap_or_else(|_| {
        Err(ImportError::malformed(
            "workbook",
            "the spreadsheet could not be read",
        ))
    })
}

fn parse_unguarded(bytes: &[u8], format: Format, limits: &Limits) -> Result<Parsed, ImportError> {
    let sheets: Vec<(String, Cells)> = match format {
        Format::Xlsx => {
            check_zip(bytes, limits)?;
            read_xlsx(bytes, limits)?
        }
        Format::Ods => {
            check_zip(bytes, limits)?;
            check_ods_extent(bytes, limits)?;
            let mut book = Ods::new(Cursor::new(bytes)).map_err(|e| bad("workbook", &e))?;
            read_ranges(&mut book, limits)?
        }
        _ => {
            crate::xls_guard::check(bytes, limits)?;
            let mut book = Xls::new(Cursor::new(bytes)).map_err(|e| bad("workbook", &e))?;
            read_ranges(&mut book, limits)?
        }
    };
    let mut parsed = Parsed::default();
    for (name, cells) in sheets {
        sheet_records(&name, cells, limits, &mut parsed)?;
    }
    Ok(parsed)
}

fn bad(location: &str, e: &dyn std::fmt::Debug) -> ImportError {
    ImportError::malformed(location, format!("{e:?}"))
}

fn too_large(location: String, size: u64, limit: u64) -> ImportError {
    ImportError::SheetTooLarge {
        location,
        size,
        limit,
    }
}

/// Unpacks every member into a sink, counting, so that neither a lying size field nor a
/// high compression ratio gets past [`Limits::max_unpacked_bytes`].
fn check_zip(bytes: &[u8], limits: &Limits) -> Result<(), ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad("archive", &e))?;
    if archive.len() > MAX_ZIP_MEMBERS {
        return Err(too_large(
            "archive members".into(),
            archive.len() as u64,
            MAX_ZIP_MEMBERS as u64,
        ));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(|e| bad("archive", &e))?;
        let budget = limits
            .max_unpacked_bytes
            .saturating_sub(total)
            .saturating_add(1);
        let read = std::io::copy(&mut member.by_ref().take(budget), &mut std::io::sink())
            .map_err(|e| bad("archive", &e))?;
        total = total.saturating_add(read);
        if total > limits.max_unpacked_bytes {
            return Err(too_large(
                "unpacked workbook".into(),
                total,
                limits.max_unpacked_bytes,
            ));
        }
    }
    Ok(())
}

/// Measures each ODS table's used area (rows × columns spanned by cells with content,
/// repeats included) by streaming `content.xml`, before calamine expands it.
fn check_ods_extent(bytes: &[u8], limits: &Limits) -> Result<(), ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad("archive", &e))?;
    let content = archive
        .by_name("content.xml")
        .map_err(|e| bad("content.xml", &e))?;
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let mut buf = Vec::new();
    let (mut table, mut row, mut col) = (String::new(), 0u64, 0u64);
    let mut cols_used = 0u64;
    let mut row_repeat = 1u64;
    let mut row_has_value = false;
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .map(|a| a.value.to_string())
    };
    let check = |table: &str, rows: u64, cols: u64| {
        let cells = rows.saturating_mul(cols);
        if cells > limits.max_sheet_cells {
            Err(too_large(
                format!("sheet {table}"),
                cells,
                limits.max_sheet_cells,
            ))
        } else {
            Ok(())
        }
    };
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| bad("content.xml", &e))?;
        match &event {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "table:table" => {
                    table = attr(e, "table:name").unwrap_or_default();
                    (row, cols_used) = (0, 0);
                }
                "table:table-row" => {
                    row_repeat = attr(e, "table:number-rows-repeated")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1);
                    (col, row_has_value) = (0, false);
                    if matches!(event, Event::Empty(_)) {
                        row = row.saturating_add(row_repeat);
                    }
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let repeat: u64 = attr(e, "table:number-columns-repeated")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1);
                    let has_value =
                        matches!(event, Event::Start(_)) || attr(e, "office:value-type").is_some();
                    col = col.saturating_add(repeat);
                    if has_value {
                        row_has_value = true;
                        cols_used = cols_used.max(col);
                    }
                }
                _ => {}
            },
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                row = row.saturating_add(row_repeat);
                if row_has_value {
                    check(&table, row, cols_used)?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

/// Streams xlsx cells, stopping at the limits.
fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Vec<(String, Cells)>, ImportError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| bad("workbook", &e))?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let location = format!("sheet {name}");
        let mut reader = book
            .worksheet_cells_reader(&name)
            .map_err(|e| bad(&location, &e))?;
        let mut cells = Vec::new();
        while let Some(cell) = reader.next_cell().map_err(|e| bad(&location, &e))? {
            let (r, c) = cell.get_position();
            let value = match cell.get_value() {
                DataRef::Empty => continue,
                DataRef::Int(i) => RawValue::Int(*i),
                DataRef::Float(f) => RawValue::Float(*f),
                DataRef::String(s) => RawValue::Text(s.clone()),
                DataRef::SharedString(s) => RawValue::Text((*s).to_owned()),
                DataRef::Bool(b) => RawValue::Text(b.to_string()),
                DataRef::DateTime(d) => RawValue::Text(d.to_string()),
                DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => RawValue::Text(s.clone()),
                DataRef::Error(e) => RawValue::Text(e.to_string()),
            };
            push_cell(&mut cells, (r, c, value), &location, limits)?;
        }
        out.push((name, cells));
    }
    Ok(out)
}

fn push_cell(
    cells: &mut Cells,
    cell: (u32, u32, RawValue),
    location: &str,
    limits: &Limits,
) -> Result<(), ImportError> {
    if cells.len() as u64 >= limits.max_sheet_cells {
        return Err(too_large(
            location.to_owned(),
            cells.len() as u64 + 1,
            limits.max_sheet_cells,
        ));
    }
    if cell.1 as usize >= limits.max_columns {
        return Err(too_large(
            format!("{location} columns"),
            u64::from(cell.1) + 1,
            limits.max_columns as u64,
        ));
    }
    cells.push(cell);
    Ok(())
}

/// Reads whole ranges (xls, ods) into cells.
fn read_ranges<RS, R>(book: &mut R, limits: &Limits) -> Result<Vec<(String, Cells)>, ImportError>
where
    RS: Read + std::io::Seek,
    R: Reader<RS>,
{
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let location = format!("sheet {name}");
        let range = book
            .worksheet_range(&name)
            .map_err(|e| bad(&location, &e))?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut cells = Vec::new();
        for (r, c, data) in range.used_cells() {
            let value = match data {
                Data::Empty => continue,
                Data::Int(i) => RawValue::Int(*i),
                Data::Float(f) => RawValue::Float(*f),
                Data::String(s) => RawValue::Text(s.clone()),
                other => RawValue::Text(other.to_string()),
            };
            let pos = (
                r0.saturating_add(u32::try_from(r).unwrap_or(u32::MAX)),
                c0.saturating_add(u32::try_from(c).unwrap_or(u32::MAX)),
            );
            push_cell(&mut cells, (pos.0, pos.1, value), &location, limits)?;
        }
        out.push((name, cells));
    }
    Ok(out)
}

/// Turns one sheet's cells into records.
fn sheet_records(
    name: &str,
    mut cells: Cells,
    limits: &Limits,
    parsed: &mut Parsed,
) -> Result<(), ImportError> {
    cells.sort_by_key(|(r, c, _)| (*r, *c));
    let mut rows: Vec<Row> = Vec::new();
    for (r, c, v) in cells {
        if rows.last().is_none_or(|(last, _)| *last != r) {
            rows.push((r, Vec::new()));
        }
        if let Some((_, row)) = rows.last_mut() {
            let c = c as usize;
            if row.len() <= c {
                row.resize(c + 1, RawValue::Text(String::new()));
            }
            if let Some(slot) = row.get_mut(c) {
                *slot = v;
            }
        }
    }
    let header_at = rows.iter().take(HEADER_SEARCH_ROWS).position(|(_, cells)| {
        cells
            .iter()
            .map(|c| role(&c.display()))
            .any(|r| r.is_known())
    });
    let (roles, data_rows): (Option<Vec<Role>>, &[Row]) = match header_at {
        Some(i) => {
            let roles = rows
                .get(i)
                .map(|(_, c)| c.iter().map(|v| role(&v.display())).collect());
            (roles, rows.get(i + 1..).unwrap_or_default())
        }
        None => (None, &rows[..]),
    };
    for (r, row) in data_rows {
        let location = format!("sheet {name} row {}", u64::from(*r) + 1);
        let record = match &roles {
            Some(roles) => record_from_cells(row.iter().cloned(), roles, location),
            None => list_record(row, location),
        };
        match record {
            Some(rec) => parsed.push(rec, limits)?,
            None => parsed.skipped += 1,
        }
    }
    Ok(())
}

/// A row of a sheet without a header: numbers are phones, other text the name.
fn list_record(row: &[RawValue], location: String) -> Option<RawRecord> {
    let mut name = Vec::new();
    let mut phones = Vec::new();
    for v in row {
        match v {
            RawValue::Text(t) if t.chars().filter(char::is_ascii_digit).count() < 5 => {
                if !t.trim().is_empty() {
                    name.push(t.trim().to_owned());
                }
            }
            other => phones.push(RawPhone {
                value: other.clone(),
                label: None,
            }),
        }
    }
    if name.is_empty() && phones.is_empty() {
        return None;
    }
    Some(RawRecord {
        location,
        name: NameParts {
            full: name.join(" "),
            ..NameParts::default()
        },
        phones,
    })
}
