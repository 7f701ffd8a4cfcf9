//! Phone labels: the many ways files name a number's type, mapped to one short English
//! word so the UI can translate it; labels nobody knows are kept as written.

use unicode_normalization::UnicodeNormalization;

/// Maps a file's label (`CELL`, `Mobile Phone`, `手机`, `_$!<Mobile>!$_`, `Handy`) to a
/// canonical word, or returns the label as written (trimmed) when it is not known.
/// Returns `None` for empty labels.
pub(crate) fn canonical(label: &str) -> Option<String> {
    let stripped = label
        .trim()
        .trim_start_matches("_$!<")
        .trim_end_matches(">!$_")
        .trim_start_matches('*')
        .trim();
    if stripped.is_empty() {
        return None;
    }
    let key = normalize_key(stripped);
    Some(lookup(&key).map_or_else(|| stripped.to_owned(), str::to_owned))
}

/// NFKC, lower case, without spaces, dashes, underscores, dots or apostrophes: the form
/// both labels and header names are compared in.
pub(crate) fn normalize_key(s: &str) -> String {
    s.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '.' | '\'' | '’' | ':' | '"'))
        .collect()
}

/// Known label words (already in key form) and their canonical names.
const LABELS: &[(&str, &str)] = &[
    ("mobile", "mobile"),
    ("cell", "mobile"),
    ("cellular", "mobile"),
    ("mobilephone", "mobile"),
    ("cellphone", "mobile"),
    ("mobilenumber", "mobile"),
    ("handy", "mobile"),
    ("mobil", "mobile"),
    ("portable", "mobile"),
    ("móvil", "mobile"),
    ("movil", "mobile"),
    ("celular", "mobile"),
    ("cellulare", "mobile"),
    ("手机", "mobile"),
    ("移动电话", "mobile"),
    ("手機", "mobile"),
    ("行動電話", "mobile"),
    ("携帯電話", "mobile"),
    ("携帯", "mobile"),
    ("휴대폰", "mobile"),
    ("мобильный", "mobile"),
    ("мобильныйтелефон", "mobile"),
    ("iphone", "iphone"),
    ("home", "home"),
    ("homephone", "home"),
    ("住宅电话", "home"),
    ("家庭电话", "home"),
    ("住宅電話", "home"),
    ("自宅", "home"),
    ("自宅電話", "home"),
    ("privat", "home"),
    ("домашний", "home"),
    ("domicile", "home"),
    ("casa", "home"),
    ("work", "work"),
    ("business", "work"),
    ("businessphone", "work"),
    ("workphone", "work"),
    ("office", "work"),
    ("办公电话", "work"),
    ("商务电话", "work"),
    ("工作电话", "work"),
    ("公司电话", "work"),
    ("單位電話", "work"),
    ("商務電話", "work"),
    ("勤務先", "work"),
    ("geschäftlich", "work"),
    ("dienstlich", "work"),
    ("travail", "work"),
    ("trabajo", "work"),
    ("рабочий", "work"),
    ("main", "main"),
    ("primary", "main"),
    ("primaryphone", "main"),
    ("pref", "main"),
    ("主要电话", "main"),
    ("companymainphone", "company"),
    ("公司主要电话", "company"),
    ("other", "other"),
    ("otherphone", "other"),
    ("其他电话", "other"),
    ("电话", "other"),
    ("電話", "other"),
    ("phone", "other"),
    ("telephone", "other"),
    ("tel", "other"),
    ("voice", "other"),
    ("fax", "fax"),
    ("faxnumber", "fax"),
    ("传真", "fax"),
    ("傳真", "fax"),
    ("otherfax", "fax"),
    ("homefax", "home_fax"),
    ("住宅传真", "home_fax"),
    ("workfax", "work_fax"),
    ("businessfax", "work_fax"),
    ("商务传真", "work_fax"),
    ("pager", "pager"),
    ("pagernumber", "pager"),
    ("寻呼机", "pager"),
    ("beeper", "pager"),
    ("car", "car"),
    ("carphone", "car"),
    ("车载电话", "car"),
    ("assistant", "assistant"),
    ("assistantphone", "assistant"),
    ("assistantsphone", "assistant"),
    ("助理的电话", "assistant"),
    ("callback", "callback"),
    ("回电话", "callback"),
    ("isdn", "isdn"),
    ("radio", "radio"),
    ("radiophone", "radio"),
    ("无线电", "radio"),
    ("telex", "telex"),
    ("电报", "telex"),
    ("ttytddphone", "tty"),
    ("tty/tddphone", "tty"),
    ("textphone", "tty"),
    ("tty/tdd电话", "tty"),
    ("ttytdd电话", "tty"),
    ("其他传真", "fax"),
    ("homephone2", "home"),
    ("住宅电话2", "home"),
    ("businessphone2", "work"),
    ("商务电话2", "work"),
    ("googlevoice", "google_voice"),
    ("workmobile", "work_mobile"),
    ("workpager", "work_pager"),
];

/// The canonical label for a key already in [`normalize_key`] form, if it is a known one.
pub(crate) fn known(key: &str) -> Option<&'static str> {
    lookup(key)
}

fn lookup(key: &str) -> Option<&'static str> {
    LABELS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Combines vCard-style type words (`WORK`, `FAX`, `CELL`, `PREF`, `VOICE`) into one label:
/// the most specific wins (mobile, pager, fax with its place), then home/work/main/other.
pub(crate) fn from_types<'a>(types: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut place: Option<&str> = None;
    let (mut cell, mut fax, mut pager, mut main, mut other, mut iphone, mut car) =
        (false, false, false, false, false, false, false);
    let mut custom: Option<String> = None;
    for t in types {
        match normalize_key(t).trim_start_matches('x') {
            "cell" | "mobile" => cell = true,
            "fax" => fax = true,
            "pager" => pager = true,
            "home" => place = Some("home"),
            "work" => place = Some("work"),
            "main" | "pref" => main = true,
            "other" => other = true,
            "iphone" => iphone = true,
            "car" => car = true,
            "voice" | "text" | "video" | "msg" | "internet" | "textphone" | "bbs" | "modem"
            | "isdn" | "pcs" | "" => {}
            _ => {
                if custom.is_none() {
                    custom = canonical(t);
                }
            }
        }
    }
    let label = if cell {
        "mobile"
    } else if pager {
        "pager"
    } else if fax {
        match place {
            Some("home") => "home_fax",
            Some(_) => "work_fax",
            None => "fax",
        }
    } else if iphone {
        "iphone"
    } else if car {
        "car"
    } else if let Some(p) = place {
        p
    } else if let Some(c) = custom {
        return Some(c);
    } else if other {
        "other"
    } else if main {
        "main"
    } else {
        return None;
    };
    Some(label.to_owned())
}
