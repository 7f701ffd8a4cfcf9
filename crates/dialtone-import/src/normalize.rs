//! Numbers and merging: every raw number becomes E.164 (or a rejection with a reason), and
//! records become one contact per person, each E.164 number kept once.
//!
//! On top of `PhoneNumber::parse_detailed` (full-width digits, `0086`, `(010)`, `tel:`,
//! `;ext=`, `转 123`) this adds what address-book files need: spreadsheet floats made whole
//! (`13800138000.0`, `1.38001380E10`), Excel's `="0123"` and `'0123` text markers, and a
//! trailing `-8001` after a complete landline kept as an extension instead of glued on
//! (where libphonenumber finds no valid number; otherwise its reading stands).

use std::collections::HashMap;

use dialtone_core::{NumberKind, ParsedPhone, PhoneError, PhoneNumber, Region};

use crate::record::{RawRecord, RawValue, clean};
use crate::{ImportedContact, ImportedPhone, Reason, Rejected, Stats};

/// Excel's "General" format shows at most this many significant digits in scientific
/// notation (`1.38001E+10`); a mantissa this short has lost the number's last digits.
const EXCEL_GENERAL_DIGITS: usize = 6;

/// Dashes that may stand between a landline and a trailing extension group. (`#` needs no
/// rule here: libphonenumber reads it as an extension label.)
const EXTENSION_DASHES: [char; 4] = ['-', '–', '—', '－'];

/// The fewest digits of a whole subscriber number written as one group (a landline without
/// its area code: 7 or 8 digits in China, 7 in the US, 8 in Hong Kong).
const MIN_SUBSCRIBER_DIGITS: usize = 7;

/// The most digits an extension group may have.
const MAX_EXTENSION_DIGITS: usize = 6;

/// Parses one stored value into a number, or says why not.
pub(crate) fn parse_value(value: &RawValue, region: Option<Region>) -> Result<ParsedPhone, Reason> {
    let text = match value {
        RawValue::Text(s) => unwrap_spreadsheet_text(s),
        RawValue::Int(i) => i.to_string(),
        RawValue::Float(f) => float_to_digits(*f).ok_or(Reason::NotANumber)?,
    };
    let text = match expand_scientific(&text) {
        Some(Ok(digits)) => digits,
        Some(Err(reason)) => return Err(reason),
        None => strip_float_zero(&text),
    };
    parse_text(&text, region)
}

/// `="0123"` (Excel's CSV trick to keep leading zeros) and `'0123` (its text marker).
fn unwrap_spreadsheet_text(s: &str) -> String {
    let t = s.trim();
    let t = t
        .strip_prefix("=\"")
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(t);
    t.strip_prefix('\'').unwrap_or(t).trim().to_owned()
}

/// A whole float as its digits, never with an exponent.
fn float_to_digits(f: f64) -> Option<String> {
    if !f.is_finite() || f < 0.0 {
        return None;
    }
    if f.fract() == 0.0 {
        Some(format!("{f:.0}"))
    } else {
        Some(format!("{f}"))
    }
}

/// `13800138000.0` → `13800138000`.
fn strip_float_zero(s: &str) -> String {
    if let Some((int, frac)) = s.split_once('.')
        && !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0')
    {
        return int.to_owned();
    }
    s.to_owned()
}

/// `1.38001380E10` or `1.3800138E+10` → `13800138000`, exactly, by moving the decimal
/// point in the text (no float rounding). `None` when the text is not scientific notation;
/// `Err(LostPrecision)` when the mantissa is too short to hold a whole phone number.
fn expand_scientific(s: &str) -> Option<Result<String, Reason>> {
    let (mantissa, exponent) = s.split_once(['e', 'E'])?;
    let exponent: usize = exponent
        .strip_prefix('+')
        .unwrap_or(exponent)
        .parse()
        .ok()?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || exponent > 20
    {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > exponent {
        return None; // not a whole number
    }
    let significant = int.trim_start_matches('0').len() + frac.len();
    if significant <= EXCEL_GENERAL_DIGITS && exponent >= 8 {
        return Some(Err(Reason::LostPrecision));
    }
    let zeros = exponent - frac.len();
    Some(Ok(format!("{int}{frac}{}", "0".repeat(zeros))))
}

/// Parses text as libphonenumber reads it. Only when that gives no valid number is a
/// trailing dash group taken as the extension of a complete landline before it (see
/// [`landline_with_extension`]).
pub(crate) fn parse_text(text: &str, region: Option<Region>) -> Result<ParsedPhone, Reason> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Reason::NotANumber);
    }
    PhoneNumber::parse_detailed(text, region)
        .or_else(|err| landline_with_extension(text, region).ok_or_else(|| reason(&err)))
}

/// `010-62345678-8001`, the `区号-号码-分机` form of Chinese offices: a landline, a dash,
/// its extension. libphonenumber reads the digits as one (invalid) number; the author
/// meant the landline and extension 8001.
///
/// Only a complete landline takes an extension this way, so that an invalid number is
/// never turned into a shorter valid one: the group before the dash must hold a whole
/// subscriber number ([`MIN_SUBSCRIBER_DIGITS`]; `0 891 12 34 56` or `021 2345 67899` are
/// numbers with a digit too many, not `0891 1234` extension 56), nothing but digits and
/// punctuation may remain (a word left there would be read as vanity letters:
/// `5123 4567 ext: 43393` is not `+86 5123 4567 398`), and the number before it must be a
/// valid landline without an extension of its own.
fn landline_with_extension(text: &str, region: Option<Region>) -> Option<ParsedPhone> {
    let (head, extension) = split_extension_group(text)?;
    let mut parsed = PhoneNumber::parse_detailed(head, region).ok()?;
    let landline = matches!(
        parsed.kind,
        NumberKind::FixedLine
            | NumberKind::FixedLineOrMobile
            | NumberKind::TollFree
            | NumberKind::Uan
    );
    if !landline || parsed.extension.is_some() {
        return None;
    }
    parsed.extension = Some(extension);
    Some(parsed)
}

/// Splits `head-1234` at the last dash into the head and the group's digits (ASCII), when
/// the group is 1–[`MAX_EXTENSION_DIGITS`] digits, the head holds no letters and its last
/// digit group at least [`MIN_SUBSCRIBER_DIGITS`].
fn split_extension_group(text: &str) -> Option<(&str, String)> {
    let at = text.rfind(EXTENSION_DASHES)?;
    let head = text.get(..at)?.trim_end();
    let dash_len = text.get(at..)?.chars().next()?.len_utf8();
    let group = text.get(at + dash_len..)?.trim();
    let extension: String = group.chars().map(ascii_digit).collect::<Option<_>>()?;
    if !(1..=MAX_EXTENSION_DIGITS).contains(&extension.len())
        || head.chars().any(char::is_alphabetic)
    {
        return None;
    }
    let last_group = head
        .chars()
        .rev()
        .take_while(|c| ascii_digit(*c).is_some())
        .count();
    (last_group >= MIN_SUBSCRIBER_DIGITS).then_some((head, extension))
}

/// An ASCII or full-width digit as ASCII.
fn ascii_digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')),
        _ => None,
    }
}

fn reason(err: &PhoneError) -> Reason {
    match err {
        PhoneError::NotANumber => Reason::NotANumber,
        PhoneError::MissingRegion => Reason::MissingRegion,
        PhoneError::TooLong => Reason::TooLong,
        PhoneError::Invalid => Reason::InvalidNumber,
    }
}

/// Folds records into contacts: one contact per person as far as the data tells, each
/// E.164 number once in the whole result.
#[derive(Debug, Default)]
pub(crate) struct Merger {
    contacts: Vec<ImportedContact>,
    by_number: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    pub rejected: Vec<Rejected>,
    pub stats: Stats,
}

impl Merger {
    /// Adds one record: parses its numbers (rejecting the bad ones), then merges it into
    /// the contact with the same name or a shared number, or starts a new contact.
    pub(crate) fn add(&mut self, record: RawRecord, region: Option<Region>, prefix: &str) {
        self.stats.records += 1;
        let name = record.name.best();
        let location = format!("{prefix}{}", record.location);
        let mut phones: Vec<ImportedPhone> = Vec::new();
        let mut had_input = false;
        for raw in record.phones {
            if raw.value.is_blank() {
                continue;
            }
            had_input = true;
            match parse_value(&raw.value, region) {
                Ok(p) => {
                    if phones.iter().any(|q| q.number == p.number) {
                        self.stats.merged_duplicates += 1;
                        continue;
                    }
                    phones.push(ImportedPhone {
                        number: p.number,
                        kind: p.kind,
                        label: raw.label,
                        extension: p.extension,
                    });
                }
                Err(reason) => self.rejected.push(Rejected {
                    location: location.clone(),
                    name: Some(name.clone()).filter(|n| !n.is_empty()),
                    input: raw.value.display().trim().to_owned(),
                    reason,
                }),
            }
        }
        if phones.is_empty() {
            if !had_input && name.is_empty() {
                self.stats.skipped += 1; // an empty card or row: nothing to report
            } else if !had_input {
                self.rejected.push(Rejected {
                    location,
                    name: Some(name.clone()).filter(|n| !n.is_empty()),
                    input: name,
                    reason: Reason::NoNumber,
                });
            }
            return;
        }
        self.merge(name, phones);
    }

    fn merge(&mut self, name: String, phones: Vec<ImportedPhone>) {
        let key = name_key(&name);
        let target = (!key.is_empty())
            .then(|| self.by_name.get(&key).copied())
            .flatten()
            .or_else(|| {
                phones.iter().find_map(|p| {
                    let idx = *self.by_number.get(p.number.as_str())?;
                    let other = name_key(&self.contacts.get(idx)?.name);
                    (other.is_empty() || key.is_empty() || other == key).then_some(idx)
                })
            });
        let idx = match target {
            Some(idx) => {
                self.stats.merged_records += 1;
                idx
            }
            None => {
                if phones
                    .iter()
                    .all(|p| self.by_number.contains_key(p.number.as_str()))
                {
                    // Every number already belongs to someone else: nothing new to add.
                    self.stats.merged_duplicates += phones.len();
                    self.stats.merged_records += 1;
                    return;
                }
                self.contacts.push(ImportedContact {
                    name: String::new(),
                    phones: Vec::new(),
                });
                self.contacts.len() - 1
            }
        };
        for phone in phones {
            if self.by_number.contains_key(phone.number.as_str()) {
                self.stats.merged_duplicates += 1;
                continue;
            }
            self.by_number.insert(phone.number.as_str().to_owned(), idx);
            if let Some(c) = self.contacts.get_mut(idx) {
                c.phones.push(phone);
            }
        }
        if let Some(c) = self.contacts.get_mut(idx)
            && c.name.is_empty()
            && !name.is_empty()
        {
            c.name = name;
            self.by_name.entry(key).or_insert(idx);
        }
    }

    /// Records a parser-level rejection (already located).
    pub(crate) fn reject(&mut self, mut rejected: Rejected, prefix: &str) {
        rejected.location = format!("{prefix}{}", rejected.location);
        self.rejected.push(rejected);
    }

    /// The contacts, rejections and final counts.
    pub(crate) fn finish(mut self) -> (Vec<ImportedContact>, Vec<Rejected>, Stats) {
        self.stats.contacts = self.contacts.len();
        self.stats.numbers = self.contacts.iter().map(|c| c.phones.len()).sum();
        self.stats.rejected = self.rejected.len();
        (self.contacts, self.rejected, self.stats)
    }
}

/// Names compare case-insensitively with whitespace collapsed.
fn name_key(name: &str) -> String {
    clean(name).to_lowercase()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn cn() -> Option<Region> {
        Region::parse("CN")
    }

    fn e164(v: RawValue) -> (String, Option<String>) {
        let p = parse_value(&v, cn()).unwrap();
        (p.number.as_str().to_owned(), p.extension)
    }

    #[test]
    fn spreadsheet_floats_come_out_whole() {
        assert_eq!(e164(RawValue::Float(13800138000.0)).0, "+8613800138000");
        assert_eq!(
            e164(RawValue::Text("13800138000.0".into())).0,
            "+8613800138000"
        );
        assert_eq!(
            e164(RawValue::Text("1.38001380E10".into())).0,
            "+8613800138000"
        );
        assert_eq!(
            e164(RawValue::Text("1.3800138E+10".into())).0,
            "+8613800138000"
        );
        assert_eq!(e164(RawValue::Int(13800138000)).0, "+8613800138000");
        assert_eq!(
            e164(RawValue::Text("=\"01062345678\"".into())).0,
            "+861062345678"
        );
        assert_eq!(
            parse_value(&RawValue::Text("1.38001E+10".into()), cn()),
            Err(Reason::LostPrecision)
        );
    }

    #[test]
    fn leading_zero_lost_by_excel_is_read_by_region() {
        // 010-62345678 typed as a number: Excel keeps 1062345678.
        assert_eq!(e164(RawValue::Float(1062345678.0)).0, "+861062345678");
    }

    #[test]
    fn trailing_group_after_a_landline_is_an_extension() {
        let t = |s: &str| e164(RawValue::Text(s.into()));
        assert_eq!(
            t("010-62345678-8001"),
            ("+861062345678".into(), Some("8001".into()))
        );
        assert_eq!(
            t("(010) 62345678 转 123"),
            ("+861062345678".into(), Some("123".into()))
        );
        assert_eq!(
            t("010-62345678 分机 66"),
            ("+861062345678".into(), Some("66".into()))
        );
        assert_eq!(
            t("0755-23456789-1"),
            ("+8675523456789".into(), Some("1".into()))
        );
        assert_eq!(t("138-0013-8000"), ("+8613800138000".into(), None));
        assert_eq!(t("010-6234-5678"), ("+861062345678".into(), None));
        assert_eq!(
            t("+86 10 6234 5678 ext. 9"),
            ("+861062345678".into(), Some("9".into()))
        );
    }

    /// A trailing group is an extension only after a complete landline, with no words left
    /// (issue 12, item 9); anywhere else libphonenumber's reading stands, valid or not.
    #[test]
    fn a_trailing_group_never_makes_an_invalid_number_valid() {
        type Outcome = Result<(&'static str, Option<&'static str>), Reason>;
        let table: &[(&str, &str, Outcome)] = &[
            // Extensions after a whole subscriber number.
            (
                "CN",
                "010-62345678-8001",
                Ok(("+861062345678", Some("8001"))),
            ),
            (
                "CN",
                "０１０－６２３４５６７８－８００１",
                Ok(("+861062345678", Some("8001"))),
            ),
            (
                "CN",
                "(010) 62345678 - 12",
                Ok(("+861062345678", Some("12"))),
            ),
            ("HK", "21234567-8001", Ok(("+85221234567", Some("8001")))),
            ("US", "201-5550123-8001", Ok(("+12015550123", Some("8001")))),
            // A digit too many is an invalid number, not a shorter one and an extension.
            ("CN", "0 891 12 34 56", Err(Reason::InvalidNumber)),
            ("IR", "021 2345 67899", Err(Reason::InvalidNumber)),
            ("CN", "0891-12-34-56", Err(Reason::InvalidNumber)),
            ("CN", "010-6234-5678-8001", Err(Reason::InvalidNumber)),
            ("CN", "010-62345678 8001", Err(Reason::InvalidNumber)),
            // Words are not vanity letters of a number before an extension.
            ("CN", "5123 4567  ext: 43393", Err(Reason::InvalidNumber)),
            ("CN", "08-12 52 29 int 43499", Err(Reason::InvalidNumber)),
            ("CN", "office 62345678-12", Err(Reason::InvalidNumber)),
            // Mobiles take no extension; a valid whole (a German direct dial) stays whole.
            ("CN", "138-00138000-1", Err(Reason::InvalidNumber)),
            ("DE", "030-12345678-8001", Ok(("+4930123456788001", None))),
        ];
        let wrong: Vec<String> = table
            .iter()
            .filter_map(|(region, input, want)| {
                let got = parse_text(input, Region::parse(region));
                let got = got
                    .as_ref()
                    .map(|p| (p.number.as_str(), p.extension.as_deref()))
                    .map_err(|r| *r);
                (got != *want).then(|| format!("{region} {input:?}: {got:?}, want {want:?}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn reasons_are_specific() {
        assert_eq!(parse_text("12345", cn()), Err(Reason::InvalidNumber));
        assert_eq!(parse_text("13800138000", None), Err(Reason::MissingRegion));
        assert_eq!(parse_text("n/a", cn()), Err(Reason::NotANumber));
        assert_eq!(parse_text(&"1".repeat(300), cn()), Err(Reason::TooLong));
    }
}
