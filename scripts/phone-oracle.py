#!/usr/bin/env python3
"""Writes crates/dialtone-import/tests/fixtures/phone_oracle.tsv: what Google's
libphonenumber makes of address-book number cells, for the import's number path to agree
with (crates/dialtone-import/tests/phone_oracle/mod.rs reads the table; no Python at test
time).

libphonenumber is reached through its Python port `phonenumbers`, pinned to the metadata
version the Rust port `rlibphonenumber` embeds (see Cargo.lock; its Readme names it), so a
disagreement is about parsing, not about a newer numbering plan:

    pip install phonenumbers==9.0.42
    python3 scripts/phone-oracle.py          # from the repository root

Inputs: the cases of issue 12 (items 8-10) and variants generated from a few valid
numbers per region (CN, HK, US, GB, IR, DE): national and international forms with
different separators, full-width digits and punctuation, tildes, `tel:` URIs with `;ext=`
and `;phone-context=`, extensions written `ext`, `ext.`, `x`, `#`, `转`, `分机`, trailing
`-NNNN` groups, invalid numbers with trailing digit groups, and leftover words. Each row is
read in a region, as the importer's region option would read it.

Columns (tab-separated, one header line):
  region   the region the cell is read in
  input    the cell as a user typed it
  outcome  `+E164`, `+E164;ext=N`, `invalid` (parsed, not a valid number) or
           `error:KIND` (libphonenumber's parse error: NOT_A_NUMBER, TOO_SHORT_NSN, ...)
  rule     `libphonenumber` when the outcome is libphonenumber's answer for the input;
           `zh-ext-words` when the input holds a Chinese extension word (转, 分机, ...)
           that dialtone reads on top of libphonenumber: the outcome is then
           libphonenumber's answer with the word written ` ext. `, and the next column keeps
           libphonenumber's own answer for the input as typed
  raw      libphonenumber's answer for the input as typed (same as outcome unless rule
           says otherwise)
"""

import os
import sys

import phonenumbers as pn

PINNED = "9.0.42"
OUT = "crates/dialtone-import/tests/fixtures/phone_oracle.tsv"

# dialtone-core's CHINESE_EXTENSION_MARKERS, longest first as there.
ZH_EXT_WORDS = ["分机号", "分机", "分機", "内线", "內線", "转"]

ERROR_KINDS = {
    pn.NumberParseException.INVALID_COUNTRY_CODE: "INVALID_COUNTRY_CODE",
    pn.NumberParseException.NOT_A_NUMBER: "NOT_A_NUMBER",
    pn.NumberParseException.TOO_SHORT_AFTER_IDD: "TOO_SHORT_AFTER_IDD",
    pn.NumberParseException.TOO_SHORT_NSN: "TOO_SHORT_NSN",
    pn.NumberParseException.TOO_LONG: "TOO_LONG",
}


def libphonenumber(text, region):
    """libphonenumber's answer: the E.164 form and extension of a valid number, else why not."""
    try:
        n = pn.parse(text, region, keep_raw_input=True)
    except pn.NumberParseException as e:
        return "error:" + ERROR_KINDS[e.error_type]
    if not pn.is_valid_number(n):
        return "invalid"
    e164 = pn.format_number(n, pn.PhoneNumberFormat.E164)
    return f"{e164};ext={n.extension}" if n.extension else e164


def with_ext_words_as_ext(text):
    for word in ZH_EXT_WORDS:
        text = text.replace(word, " ext. ")
    return text


FULL_WIDTH = str.maketrans("0123456789+-()", "０１２３４５６７８９＋－（）")

# (region, calling code, international prefix, trunk prefix, [(area, subscriber groups)])
# Every number here is valid in libphonenumber's metadata (checked below).
NUMBERS = {
    "CN": ("86", "00", "0", [
        ("10", ["6234", "5678"]),        # Beijing landline
        ("21", ["6888", "8888"]),        # Shanghai landline
        ("755", ["2345", "6789"]),       # Shenzhen landline, 8-digit subscriber
        ("571", ["8765", "4321"]),       # Hangzhou landline
        ("", ["138", "0013", "8000"]),   # mobile
        ("", ["186", "1234", "5678"]),   # mobile
    ]),
    "HK": ("852", "001", "", [
        ("", ["6123", "4567"]),          # mobile
        ("", ["2123", "4567"]),          # landline
    ]),
    "US": ("1", "011", "1", [
        ("201", ["555", "0123"]),
        ("650", ["253", "0000"]),
        ("212", ["736", "1234"]),
    ]),
    "GB": ("44", "00", "0", [
        ("20", ["7946", "0958"]),        # London
        ("161", ["496", "0000"]),        # Manchester
        ("7911", ["123456"]),            # mobile
    ]),
    "IR": ("98", "00", "0", [
        ("21", ["2345", "6789"]),        # Tehran
        ("912", ["345", "6789"]),        # mobile
    ]),
    "DE": ("49", "00", "0", [
        ("30", ["123456"]),              # Berlin, short subscriber
        ("30", ["1234", "5678"]),        # Berlin
        ("89", ["1234567"]),             # Munich
        ("151", ["2345", "6789"]),       # mobile
    ]),
}

# The cases of issue 12, items 8-10, exactly as reported.
ISSUE_CASES = [
    ("CN", "tel:+86-10-6234-5678;ext=12"),
    ("CN", "tel:2015550123;phone-context=+1"),
    ("CN", "tel:61234567;phone-context=+852"),
    ("CN", "tel:2123-4567;phone-context=+852;ext=12"),
    ("CN", "tel:2015550123;ext=12;phone-context=+1"),
    ("CN", "tel:+1-201-555-0123;ext=12"),
    ("CN", "0 891 12 34 56"),
    ("IR", "021 2345 67899"),
    ("CN", "5123 4567  ext: 43393"),
    ("CN", "08-12 52 29 int 43499"),
    ("HK", "5123 4567  ext: 43393"),
    ("CN", "010-62345678-8001"),
    ("CN", "010～6234～5678"),
    ("CN", "138～0013～8000"),
    ("CN", "138～0013 8000"),
    ("CN", "021～6888 8888"),
    ("CN", "（010）6234～5678 转 8001"),
    ("CN", "＋86～10～6234 5678"),
    ("CN", "0755-23456789-1"),
]

# Cells that are not numbers at all, or numbers with words around them.
WORD_CASES = [
    ("CN", "n/a"), ("CN", "-"), ("CN", "无"), ("CN", "abc"), ("CN", "none"),
    ("CN", "call 13800138000"), ("CN", "13800138000 mobile"), ("CN", "手机 13800138000"),
    ("CN", "13800138000 (mobile)"), ("CN", "tel 010 62345678"),
    ("CN", "010 62345678 office"), ("US", "201-555-0123 work"),
    ("US", "1-800-FLOWERS"), ("US", "1-800-FLOWERS ext. 12"),
    ("US", "201-555-0123 ext 12 ask for Bob"), ("GB", "020 7946 0958 (home)"),
    ("CN", "13800138000 int 5"), ("CN", "010-62345678 int 5"),
    ("DE", "030 123456 Durchwahl 12"), ("US", "201 555 0123 extension 45"),
    ("US", "201 555 0123 ext45"), ("US", "201.555.0123 x 45"),
    ("CN", "+86 (0) 10 6234 5678"), ("GB", "+44 (0)20 7946 0958"),
]

# Other forms seen in address books.
OTHER_CASES = [
    ("CN", "0086-10-62345678"), ("CN", "+86(10)62345678"), ("CN", "(0755)23456789"),
    ("CN", "010—62345678"), ("CN", "010–62345678-8001"), ("CN", "０１０－６２３４５６７８－８００１"),
    ("CN", "010-62345678#8001"), ("CN", "010-62345678-8001-2"), ("CN", "(010) 62345678 - 12"),
    ("CN", "400-123-4567"), ("CN", "400-123-4567-8"), ("CN", "138-00138000-1"),
    ("CN", "0891-12-34-56"), ("CN", "office 62345678-12"), ("CN", "'13800138000"),
    ("CN", "=\"01062345678\""), ("CN", "13800138000.0"), ("CN", "+86 138 0013 8000;ext=5"),
    ("DE", "030/1234567-12"), ("DE", "030-12345678-8001"), ("DE", "+49 (0)30 1234 5678"),
    ("DE", "089 1234567 - 0"), ("GB", "07911 123456 ext 12"), ("GB", "020 7946 0958 x 7"),
    ("IR", "021-2345-67899"), ("IR", "+98 21 2345 6789 داخلی 12"), ("HK", "2123 4567 內線 8"),
    ("US", "(201) 555-0123, ext. 4"), ("US", "201-555-0123 #4"), ("US", "+1 (201) 555-0123 ext.4"),
]


def groups(area, subscriber, sep):
    return sep.join(([area] if area else []) + subscriber)


def variants(region, cc, idd, trunk, area, subscriber):
    """Forms of one valid number, as address books hold them."""
    sub = "".join(subscriber)
    national_area = (trunk + area) if area else ""
    if region == "HK":
        national_area = ""
    if region == "CN" and not area:
        national_area = ""          # mobiles are dialled without the trunk 0
    if region == "US":
        national_area = area        # written without the trunk 1
    nat = lambda sep: sep.join(([national_area] if national_area else []) + subscriber)
    intl = lambda sep: sep.join([f"+{cc}"] + ([area] if area else []) + subscriber)
    forms = [
        nat(" "), nat("-"), nat(""), nat("."), nat("/"),
        intl(" "), intl("-"), intl(""),
        f"{idd}{cc} " + groups(area, subscriber, " "),
        f"{idd} {cc} " + groups(area, subscriber, "-"),
        nat(" ").translate(FULL_WIDTH),
        intl(" ").translate(FULL_WIDTH),
        intl("-").translate(FULL_WIDTH),
        nat("\u3000"),                                   # ideographic space
        nat("～"), nat("~"), intl("～"),
        "tel:" + intl("-"),
        "tel:" + intl("-") + ";ext=12",
        "tel:" + intl("") + ";ext=345",
        "tel:" + groups(area, subscriber, "-") + f";phone-context=+{cc}",
        "tel:" + groups(area, subscriber, "") + f";phone-context=+{cc};ext=7",
        "tel:" + groups(area, subscriber, "") + f";ext=7;phone-context=+{cc}",
    ]
    if national_area:
        forms += [f"({national_area}) " + " ".join(subscriber),
                  f"（{national_area}）" + "".join(subscriber),
                  f"({national_area}) " + "-".join(subscriber)]
    for ext in [" ext 8001", " ext. 8001", " x8001", " x 8001", " #8001", "#8001",
                " 转 8001", "转8001", "分机8001", " 分机 8001", " ext: 8001", " Ext.8001"]:
        forms.append(nat(" ") + ext)
    forms.append(intl(" ") + " ext. 12")
    forms.append(intl(" ") + " 转 12")
    # A trailing group: an extension after a complete number in some styles, part of the
    # number in others; libphonenumber never splits it off. After the subscriber written
    # in groups, in several lengths; after the whole subscriber (the `区号-号码-分机` form,
    # which dialtone reads as an extension), once with a dash and with other separators.
    for tail in ["-8001", "-1", " 8001", "-12345", "/12"]:
        forms.append(nat("-") + tail)
    for tail in ["-8001", " 8001", "/12"]:
        forms.append(national_area + ("-" if national_area else "") + sub + tail)
    # Invalid: a digit missing or one too many, then with a trailing group.
    forms += [nat(" ")[:-1], nat(" ") + "9", nat(" ")[:-2] + " " + nat(" ")[-2:] + "1"]
    # Leftover words.
    forms += [nat(" ") + " ext: 43393", nat(" ") + " int 43", "Tel. " + nat(" "),
              nat(" ") + " (mobile)", nat(" ") + " abc 12"]
    return forms


def main():
    if pn.__version__ != PINNED:
        sys.exit(f"phonenumbers {pn.__version__} is not the pinned {PINNED}: "
                 f"pip install phonenumbers=={PINNED}")
    cells = list(ISSUE_CASES)
    for region, (cc, idd, trunk, numbers) in NUMBERS.items():
        for area, subscriber in numbers:
            plain = ("+" + cc + area + "".join(subscriber))
            assert pn.is_valid_number(pn.parse(plain)), plain
            for form in variants(region, cc, idd, trunk, area, subscriber):
                cells.append((region, form))
            # International forms read in another region: the country code wins.
            for other in ["CN", "US"]:
                if other != region:
                    cells.append((other, "+" + cc + " " + groups(area, subscriber, " ")))
                    cells.append((other, "tel:" + groups(area, subscriber, "") +
                                  f";phone-context=+{cc}"))
    cells += WORD_CASES + OTHER_CASES
    seen = set()
    rows = []
    for region, text in cells:
        text = text.strip()
        if (region, text) in seen or "\t" in text or "\n" in text:
            continue
        seen.add((region, text))
        raw = libphonenumber(text, region)
        rule, outcome = "libphonenumber", raw
        if any(word in text for word in ZH_EXT_WORDS):
            rule, outcome = "zh-ext-words", libphonenumber(with_ext_words_as_ext(text), region)
        rows.append((region, text, outcome, rule, raw))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write("region\tinput\toutcome\trule\traw\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    print(f"{OUT}: {len(rows)} rows (phonenumbers {pn.__version__})")


if __name__ == "__main__":
    main()
