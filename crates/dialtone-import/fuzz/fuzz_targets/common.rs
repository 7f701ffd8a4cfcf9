// Shared by the fuzz targets: small limits so each run stays fast and memory-bounded.
use dialtone_import::{Format, ImportOptions, Limits};

pub fn options(format: Option<Format>) -> ImportOptions {
    ImportOptions {
        region: dialtone_core::Region::parse("CN"),
        format,
        limits: Limits {
            max_bytes: 1024 * 1024,
            max_entries: 1_000,
            max_columns: 200,
            max_field_bytes: 64 * 1024,
            max_sheet_cells: 100_000,
            max_unpacked_bytes: 8 * 1024 * 1024,
        },
        ..ImportOptions::default()
    }
}

pub fn run(data: &[u8], format: Option<Format>) {
    if let Ok(report) = dialtone_import::import(data, &options(format)) {
        assert_eq!(report.stats.contacts, report.contacts.len());
        assert_eq!(report.stats.rejected, report.rejected.len());
    }
}
