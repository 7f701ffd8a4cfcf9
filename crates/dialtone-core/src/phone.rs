//! Phone numbers, the identity of every dialtone user.
//!
//! Parsing and validation are libphonenumber's (through the `rlibphonenumber` port); this
//! module adds the forms Chinese address books use that libphonenumber does not know
//! (extensions written `转 123` or `分机 123`), mends one gap of the port (the full-width
//! tilde `～`, see [`prepare`]), and wraps the result in types that can only hold valid
//! values.

use std::fmt;
use std::str::FromStr;

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, PhoneNumberType};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Inputs longer than this are refused before parsing (libphonenumber's own cap is 250).
const MAX_INPUT_CHARS: usize = 250;

/// Words that introduce an extension in Chinese (simplified and traditional) address books.
const CHINESE_EXTENSION_MARKERS: [&str; 6] = ["分机号", "分机", "分機", "内线", "內線", "转"];

/// Why an input is not a usable phone number. Each variant maps to a stable API error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing that looks like a number.
    #[error("not a phone number")]
    NotANumber,
    /// A national form was given without a region to read it in, or with an unknown one.
    #[error("the number has no country code and no region was given to read it")]
    MissingRegion,
    /// Too many characters to be a number.
    #[error("the input is too long to be a phone number")]
    TooLong,
    /// Looks like a number but is not one that can exist (wrong length or unassigned range).
    #[error("the number is not valid for its country")]
    Invalid,
}

/// An ISO 3166 alpha-2 region code that libphonenumber knows, such as `CN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(rlibphonenumber::enums::Region);

impl Region {
    /// Reads a region code, case-insensitively. `None` for unknown codes.
    pub fn parse(code: &str) -> Option<Region> {
        let upper = code.trim().to_ascii_uppercase();
        let region = rlibphonenumber::enums::Region::from_code(&upper).ok()?;
        PHONE_NUMBER_UTIL
            .get_country_code_for_region(region)
            .filter(|code| *code > 0)
            .map(|_| Region(region))
    }

    /// The two-letter upper-case code.
    pub fn code(&self) -> String {
        self.0.as_region_str().as_str().to_owned()
    }

    /// Every region libphonenumber knows, with its country calling code, sorted by code:
    /// what a country picker offers.
    pub fn all() -> Vec<(Region, u16)> {
        let mut regions: Vec<(Region, u16)> = PHONE_NUMBER_UTIL
            .get_supported_regions()
            .filter_map(|region| {
                let calling = PHONE_NUMBER_UTIL.get_country_code_for_region(region)?;
                let calling = u16::try_from(calling).ok().filter(|c| *c > 0)?;
                Some((Region(region), calling))
            })
            .collect();
        regions.sort_by_key(|(region, _)| region.code());
        regions
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl FromStr for Region {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Region::parse(s).ok_or(PhoneError::MissingRegion)
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Region::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown region code {s:?}")))
    }
}

/// What kind of line a number is, as far as its numbering plan tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberKind {
    /// A mobile phone.
    Mobile,
    /// A landline.
    FixedLine,
    /// Either, where the plan does not tell them apart (for example the US).
    FixedLineOrMobile,
    /// Free for the caller.
    TollFree,
    /// Costs the caller more than a normal call.
    PremiumRate,
    /// Cost split between caller and called.
    SharedCost,
    /// A VoIP number.
    Voip,
    /// A personal number routed elsewhere.
    Personal,
    /// A pager.
    Pager,
    /// A universal access number of a company.
    Uan,
    /// A voicemail access number.
    Voicemail,
    /// The plan does not say.
    Unknown,
}

impl From<PhoneNumberType> for NumberKind {
    fn from(t: PhoneNumberType) -> Self {
        match t {
            PhoneNumberType::FixedLine => NumberKind::FixedLine,
            PhoneNumberType::Mobile => NumberKind::Mobile,
            PhoneNumberType::FixedLineOrMobile => NumberKind::FixedLineOrMobile,
            PhoneNumberType::TollFree => NumberKind::TollFree,
            PhoneNumberType::PremiumRate => NumberKind::PremiumRate,
            PhoneNumberType::SharedCost => NumberKind::SharedCost,
            PhoneNumberType::VoIP => NumberKind::Voip,
            PhoneNumberType::PersonalNumber => NumberKind::Personal,
            PhoneNumberType::Pager => NumberKind::Pager,
            PhoneNumberType::UAN => NumberKind::Uan,
            PhoneNumberType::VoiceMail => NumberKind::Voicemail,
            PhoneNumberType::Unknown => NumberKind::Unknown,
        }
    }
}

/// A valid phone number in E.164 form (`+8613800138000`). It cannot hold anything else:
/// the only ways to make one are [`PhoneNumber::parse`] and [`ParsedPhone`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    e164: String,
}

/// A parsed number with what came with it: its kind, its region and any extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPhone {
    /// The number itself.
    pub number: PhoneNumber,
    /// The kind of line.
    pub kind: NumberKind,
    /// The region the number belongs to, if one country owns it.
    pub region: Option<Region>,
    /// An extension dialled after the number (`;ext=123`, `ext. 123`, `转 123`).
    pub extension: Option<String>,
}

impl PhoneNumber {
    /// Reads any dialable form (`138 0013 8000`, `0086 138…`, `(010) 6234-5678`, full-width
    /// digits, `tel:` URIs); a national form is read in `region`. Any extension is dropped:
    /// use [`PhoneNumber::parse_detailed`] to keep it.
    pub fn parse(input: &str, region: Option<Region>) -> Result<PhoneNumber, PhoneError> {
        Self::parse_detailed(input, region).map(|p| p.number)
    }

    /// Like [`PhoneNumber::parse`], keeping the kind, region and extension.
    pub fn parse_detailed(input: &str, region: Option<Region>) -> Result<ParsedPhone, PhoneError> {
        if input.chars().count() > MAX_INPUT_CHARS {
            return Err(PhoneError::TooLong);
        }
        let prepared = prepare(input.trim());
        let parsed = PHONE_NUMBER_UTIL
            .parse(&prepared, region.map(|r| r.0))
            .map_err(|e| classify_parse_error(&e.to_string()))?;
        if !parsed.is_valid() {
            return Err(PhoneError::Invalid);
        }
        let e164 = parsed.format_as(PhoneNumberFormat::E164).into_owned();
        let extension = parsed.extension.clone().filter(|e| !e.is_empty());
        Ok(ParsedPhone {
            kind: parsed.get_type().into(),
            region: parsed.get_region_code().map(Region),
            extension,
            number: PhoneNumber { e164 },
        })
    }

    /// Reads a number that must already be in E.164 form (a leading `+` is optional, as in a
    /// URL path where `+` may have been lost). No region is applied.
    pub fn parse_e164(input: &str) -> Result<PhoneNumber, PhoneError> {
        let trimmed = input.trim();
        let with_plus = if trimmed.starts_with('+') {
            trimmed.to_owned()
        } else {
            format!("+{trimmed}")
        };
        Self::parse(&with_plus, None)
    }

    /// A number read back from storage, which only ever holds numbers that went through
    /// [`PhoneNumber::parse`]: checked for E.164 shape only (`+`, then 7 to 15 digits, the
    /// first not 0), without libphonenumber's full parse (tens of microseconds each; a
    /// 1,000-member group's members are read on every message to it).
    pub fn from_stored(e164: &str) -> Result<PhoneNumber, PhoneError> {
        let digits = e164.strip_prefix('+').ok_or(PhoneError::NotANumber)?;
        let shaped = (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !shaped {
            return Err(PhoneError::NotANumber);
        }
        Ok(PhoneNumber {
            e164: e164.to_owned(),
        })
    }

    /// The E.164 form, `+` included.
    pub fn as_str(&self) -> &str {
        &self.e164
    }

    /// The number as people write it, grouped by libphonenumber's rules for its country:
    /// `+86 138 0013 8000`, `+1 905-555-1234` (the international format, which reads the
    /// same wherever the reader is).
    pub fn international(&self) -> String {
        match PHONE_NUMBER_UTIL.parse(&self.e164, None) {
            Ok(parsed) => parsed
                .format_as(PhoneNumberFormat::International)
                .into_owned(),
            Err(_) => self.e164.clone(),
        }
    }

    /// The kind of line this number is.
    pub fn kind(&self) -> NumberKind {
        self.details()
            .map(|p| p.kind)
            .unwrap_or(NumberKind::Unknown)
    }

    /// The region this number belongs to, if one country owns it.
    pub fn region(&self) -> Option<Region> {
        self.details().and_then(|p| p.region)
    }

    fn details(&self) -> Option<ParsedPhone> {
        Self::parse_detailed(&self.e164, None).ok()
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.e164
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.e164)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    /// Deserialises E.164 only: national forms need a region, which a bare string lacks.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PhoneNumber::parse_e164(&s).map_err(serde::de::Error::custom)
    }
}

/// What the parser is given: the input with Chinese extension words rewritten and the
/// full-width tilde made ASCII.
///
/// libphonenumber lists `～` (U+FF5E) beside `~` wherever it knows the tilde: as punctuation
/// between digit groups (`138～0013 8000`) and as a label before an extension
/// (`138～0013～8000` is `1380013` extension `8000`). `rlibphonenumber` 2.2.15 left it out of
/// its punctuation class only, so a number typed with it on a Chinese keyboard was "not a
/// number". As `~` it reads exactly as in libphonenumber.
fn prepare(input: &str) -> String {
    mark_chinese_extensions(input).replace('\u{FF5E}', "~")
}

/// Rewrites Chinese extension words into the `ext.` libphonenumber understands.
fn mark_chinese_extensions(input: &str) -> String {
    let mut out = input.to_owned();
    for marker in CHINESE_EXTENSION_MARKERS {
        if out.contains(marker) {
            out = out.replace(marker, " ext. ");
        }
    }
    out
}

fn classify_parse_error(message: &str) -> PhoneError {
    let lower = message.to_ascii_lowercase();
    if lower.contains("country code") || lower.contains("region") {
        PhoneError::MissingRegion
    } else if lower.contains("too long") || lower.contains("too short") {
        PhoneError::Invalid
    } else {
        PhoneError::NotANumber
    }
}

#[cfg(test)]
mod tests;
