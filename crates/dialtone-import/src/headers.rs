//! Column headers: what a column of a CSV or sheet holds, matched by name (NFKC, case and
//! spacing ignored) because Outlook reorders its 92 columns between languages. Covers
//! Outlook (English, zh-CN), Google Contacts (current and legacy), Foxmail, Thunderbird,
//! and common headers in several languages; anything with a phone word in it is a phone.

use crate::labels::{self, normalize_key};

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    Full,
    Given,
    Middle,
    Family,
    Nickname,
    Company,
    Email,
    /// A phone column, with the label it implies.
    Phone(Option<String>),
    /// Google's `Phone N - Type` / `Phone N - Label` column.
    GoogleLabel(u32),
    /// Google's `Phone N - Value` column (values may be joined with ` ::: `).
    GoogleValue(u32),
    /// Anything else (addresses, notes, e-mail types…).
    Ignore,
}

impl Role {
    /// True for the roles that make a row a header row.
    pub(crate) fn is_known(&self) -> bool {
        !matches!(self, Role::Ignore)
    }
}

/// Name columns by key (see [`normalize_key`]).
const NAMES: &[(&str, Role)] = &[
    ("name", Role::Full),
    ("fullname", Role::Full),
    ("displayname", Role::Full),
    ("contactname", Role::Full),
    ("contact", Role::Full),
    ("姓名", Role::Full),
    ("名字", Role::Full),
    ("显示名称", Role::Full),
    ("显示名", Role::Full),
    ("全名", Role::Full),
    ("联系人", Role::Full),
    ("联系人姓名", Role::Full),
    ("顯示名稱", Role::Full),
    ("氏名", Role::Full),
    ("名前", Role::Full),
    ("表示名", Role::Full),
    ("이름", Role::Full),
    ("nomcomplet", Role::Full),
    ("nombrecompleto", Role::Full),
    ("nomecompleto", Role::Full),
    ("vollständigername", Role::Full),
    ("anzeigename", Role::Full),
    ("fileas", Role::Full),
    ("firstname", Role::Given),
    ("givenname", Role::Given),
    ("名", Role::Given),
    ("vorname", Role::Given),
    ("prénom", Role::Given),
    ("prenom", Role::Given),
    ("nombre", Role::Given),
    ("nome", Role::Given),
    ("voornaam", Role::Given),
    ("имя", Role::Given),
    ("middlename", Role::Middle),
    ("additionalname", Role::Middle),
    ("中间名", Role::Middle),
    ("zweitervorname", Role::Middle),
    ("weiterevornamen", Role::Middle),
    ("lastname", Role::Family),
    ("familyname", Role::Family),
    ("surname", Role::Family),
    ("姓", Role::Family),
    ("姓氏", Role::Family),
    ("nachname", Role::Family),
    ("nom", Role::Family),
    ("apellido", Role::Family),
    ("apellidos", Role::Family),
    ("sobrenome", Role::Family),
    ("cognome", Role::Family),
    ("achternaam", Role::Family),
    ("фамилия", Role::Family),
    ("nickname", Role::Nickname),
    ("昵称", Role::Nickname),
    ("暱稱", Role::Nickname),
    ("spitzname", Role::Nickname),
    ("surnom", Role::Nickname),
    ("apodo", Role::Nickname),
    ("company", Role::Company),
    ("organization", Role::Company),
    ("organisation", Role::Company),
    ("organizationname", Role::Company),
    ("organization1name", Role::Company),
    ("公司", Role::Company),
    ("公司名称", Role::Company),
    ("单位", Role::Company),
    ("firma", Role::Company),
    ("société", Role::Company),
    ("empresa", Role::Company),
    ("会社", Role::Company),
    ("会社名", Role::Company),
    ("emailaddress", Role::Email),
    ("email", Role::Email),
    ("email1value", Role::Email),
    ("primaryemail", Role::Email),
    ("电子邮件地址", Role::Email),
    ("电子邮件", Role::Email),
    ("邮箱", Role::Email),
    ("电子邮箱", Role::Email),
    ("emailadresse", Role::Email),
    ("courriel", Role::Email),
    ("correoelectrónico", Role::Email),
];

/// Substrings that make a column a phone column.
const PHONE_WORDS: &[&str] = &[
    "phone",
    "mobile",
    "cell",
    "fax",
    "pager",
    "handy",
    "isdn",
    "callback",
    "telex",
    "电话",
    "手机",
    "传真",
    "寻呼",
    "回电话",
    "电报",
    "无线电",
    "號碼",
    "号码",
    "電話",
    "手機",
    "傳真",
    "携帯",
    "móvil",
    "movil",
    "celular",
    "portable",
    "téléphone",
    "telefon",
    "teléfono",
    "telefono",
    "telefone",
    "телефон",
    "전화",
    "휴대",
];

/// Substrings that make a column not a phone column even with a phone word in it.
const NOT_PHONE_WORDS: &[&str] = &["phonetic", "身份证", "证件", "qq", "邮编", "email", "邮件"];

/// The role of a header cell.
pub(crate) fn role(header: &str) -> Role {
    let key = normalize_key(header.trim_start_matches('\u{feff}'));
    if key.is_empty() {
        return Role::Ignore;
    }
    if let Some(r) = google_phone(&key) {
        return r;
    }
    if let Some((_, r)) = NAMES.iter().find(|(k, _)| *k == key) {
        return r.clone();
    }
    let phoneish = (PHONE_WORDS.iter().any(|w| key.contains(w)) || key.starts_with("tel"))
        && !NOT_PHONE_WORDS.iter().any(|w| key.contains(w));
    if phoneish {
        return Role::Phone(phone_label(header, &key));
    }
    Role::Ignore
}

/// `phone1value`, `phone2type`, `phone3label` (keys of Google's `Phone 1 - Value`…).
fn google_phone(key: &str) -> Option<Role> {
    let rest = key.strip_prefix("phone")?;
    let digits_end = rest.find(|c: char| !c.is_ascii_digit())?;
    let n: u32 = rest.get(..digits_end)?.parse().ok()?;
    match rest.get(digits_end..)? {
        "value" => Some(Role::GoogleValue(n)),
        "type" | "label" => Some(Role::GoogleLabel(n)),
        _ => None,
    }
}

/// The label a phone column implies: a known one, else a guess from the words in it, else
/// the header as written.
fn phone_label(header: &str, key: &str) -> Option<String> {
    let key = key.trim_end_matches(|c: char| c.is_ascii_digit());
    if let Some(known) = labels::known(key) {
        return Some(known.to_owned());
    }
    let has = |words: &[&str]| words.iter().any(|w| key.contains(w));
    let mobile = has(&[
        "mobil", "cell", "handy", "手机", "手機", "移动", "携帯", "móvil", "celular", "portable",
        "휴대",
    ]);
    let fax = has(&["fax", "传真", "傳真"]);
    let home = has(&[
        "home",
        "privat",
        "住宅",
        "家",
        "自宅",
        "domicile",
        "casa",
        "домаш",
    ]);
    let work = has(&[
        "work",
        "business",
        "office",
        "geschäft",
        "dienst",
        "办公",
        "商务",
        "工作",
        "单位",
        "公司",
        "travail",
        "trabajo",
        "勤務",
        "рабоч",
    ]);
    let label = match (mobile, fax, home, work) {
        (true, _, _, _) => "mobile",
        (_, true, true, _) => "home_fax",
        (_, true, _, true) => "work_fax",
        (_, true, _, _) => "fax",
        (_, _, true, _) => "home",
        (_, _, _, true) => "work",
        _ if has(&["pager", "寻呼"]) => "pager",
        _ => return labels::canonical(header),
    };
    Some(label.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn phone(label: &str) -> Role {
        Role::Phone(Some(label.to_owned()))
    }

    #[test]
    fn outlook_thunderbird_google_and_foxmail_headers() {
        let cases = [
            ("First Name", Role::Given),
            ("Last Name", Role::Family),
            ("Display Name", Role::Full),
            ("E-mail Display Name", Role::Ignore),
            ("Mobile Phone", phone("mobile")),
            ("Business Phone 2", phone("work")),
            ("Home Fax", phone("home_fax")),
            ("Assistant's Phone", phone("assistant")),
            ("Mobile Number", phone("mobile")),
            ("Work Phone", phone("work")),
            ("Phonetic First Name", Role::Ignore),
            ("Phone 1 - Value", Role::GoogleValue(1)),
            ("Phone 12 - Type", Role::GoogleLabel(12)),
            ("Phone 1 - Label", Role::GoogleLabel(1)),
            ("姓名", Role::Full),
            ("手机", phone("mobile")),
            ("移动电话", phone("mobile")),
            ("办公电话", phone("work")),
            ("住宅电话", phone("home")),
            ("住宅电话 2", phone("home")),
            ("电话", phone("other")),
            ("商务传真", phone("work_fax")),
            ("名", Role::Given),
            ("姓", Role::Family),
            ("Telefon (privat)", phone("home")),
            ("Handy", phone("mobile")),
            ("Government ID Number", Role::Ignore),
            ("Notes", Role::Ignore),
        ];
        for (header, expected) in cases {
            assert_eq!(role(header), expected, "{header}");
        }
    }
}
