//! Windows Contacts `.contact` files (Windows Vista and later): one contact per XML file,
//! names in `NameCollection/Name`, numbers in `PhoneNumberCollection/PhoneNumber` with a
//! `LabelCollection` (`Cellular`, `Business`, `Personal`, `Fax`, `Voice`, `Preferred`…).
//! Read with quick-xml, matching local names so any namespace prefix works.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::labels;
use crate::record::{NameParts, Parsed, RawPhone, RawRecord, RawValue};
use crate::{ImportError, Limits};

/// Deeper nesting than this is not a contact file.
const MAX_DEPTH: usize = 64;

/// Where text goes, by the element it is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Formatted,
    Given,
    Middle,
    Family,
    Nick,
    Company,
    Email,
    Number,
    Label,
    Other,
}

fn slot(stack: &[String]) -> Slot {
    let parent = stack
        .len()
        .checked_sub(2)
        .and_then(|i| stack.get(i))
        .map(String::as_str);
    match (parent, stack.last().map(String::as_str)) {
        (Some("Name"), Some("FormattedName")) => Slot::Formatted,
        (Some("Name"), Some("GivenName")) => Slot::Given,
        (Some("Name"), Some("MiddleName")) => Slot::Middle,
        (Some("Name"), Some("FamilyName")) => Slot::Family,
        (Some("Name"), Some("NickName")) => Slot::Nick,
        (Some("Position"), Some("Company")) => Slot::Company,
        (Some("EmailAddress"), Some("Address")) => Slot::Email,
        (Some("PhoneNumber"), Some("Number")) => Slot::Number,
        (Some("LabelCollection"), Some("Label")) if stack.iter().any(|s| s == "PhoneNumber") => {
            Slot::Label
        }
        _ => Slot::Other,
    }
}

/// Maps Windows Contacts labels to vCard-style type words for [`labels::from_types`].
fn type_word(label: &str) -> &str {
    match label.trim().to_ascii_lowercase().as_str() {
        "cellular" | "mobile" => "cell",
        "business" => "work",
        "personal" => "home",
        "preferred" => "pref",
        _ => label,
    }
}

/// Reads the contact of one `.contact` file.
pub(crate) fn parse(text: &str, limits: &Limits) -> Result<Parsed, ImportError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut name = NameParts::default();
    let mut phones: Vec<RawPhone> = Vec::new();
    let mut number = String::new();
    let mut phone_labels: Vec<String> = Vec::new();
    let mut text_buf = String::new();
    let mut saw_contact = false;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| ImportError::malformed(format!("byte {position}"), e.to_string()))?;
        match event {
            Event::Start(e) => {
                let local = e.local_name().as_ref().to_owned();
                saw_contact |= local == "contact";
                if local == "PhoneNumber" {
                    number.clear();
                    phone_labels.clear();
                }
                stack.push(local);
                text_buf.clear();
                if stack.len() > MAX_DEPTH {
                    return Err(ImportError::malformed(
                        format!("byte {position}"),
                        "elements nested too deep",
                    ));
                }
            }
            Event::Text(t) => text_buf.push_str(&t.xml10_content()),
            Event::CData(t) => text_buf.push_str(&t),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => text_buf.push(c),
                _ => text_buf.push_str(match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                }),
            },
            Event::End(_) => {
                let value = std::mem::take(&mut text_buf).trim().to_owned();
                if value.len() > limits.max_field_bytes {
                    return Err(ImportError::FieldTooLong {
                        location: format!("byte {position}"),
                        limit: limits.max_field_bytes,
                    });
                }
                let set = |s: &mut String| {
                    if s.is_empty() {
                        s.clone_from(&value);
                    }
                };
                match slot(&stack) {
                    Slot::Formatted => set(&mut name.full),
                    Slot::Given => set(&mut name.given),
                    Slot::Middle => set(&mut name.middle),
                    Slot::Family => set(&mut name.family),
                    Slot::Nick => set(&mut name.nickname),
                    Slot::Company => set(&mut name.company),
                    Slot::Email => set(&mut name.email),
                    Slot::Number => number.clone_from(&value),
                    Slot::Label => phone_labels.push(value.clone()),
                    Slot::Other => {}
                }
                if stack.last().is_some_and(|s| s == "PhoneNumber") && !number.trim().is_empty() {
                    let label = labels::from_types(phone_labels.iter().map(|l| type_word(l)));
                    phones.push(RawPhone {
                        value: RawValue::Text(std::mem::take(&mut number)),
                        label,
                    });
                }
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_contact {
        return Err(ImportError::malformed("record 1", "no <contact> element"));
    }
    if !stack.is_empty() {
        return Err(ImportError::Truncated {
            location: "record 1".to_owned(),
        });
    }
    let mut parsed = Parsed::default();
    parsed.push(
        RawRecord {
            location: "record 1".to_owned(),
            name,
            phones,
        },
        limits,
    )?;
    Ok(parsed)
}
