use super::*;

fn cn() -> Option<Region> {
    Region::parse("CN")
}

/// Real forms from Chinese and international address books, read with region CN.
#[test]
fn parses_real_forms() {
    let table: &[(&str, &str, NumberKind, Option<&str>)] = &[
        ("13800138000", "+8613800138000", NumberKind::Mobile, None),
        ("138 0013 8000", "+8613800138000", NumberKind::Mobile, None),
        ("138-0013-8000", "+8613800138000", NumberKind::Mobile, None),
        (
            "+86 138 0013 8000",
            "+8613800138000",
            NumberKind::Mobile,
            None,
        ),
        (
            "0086 138 0013 8000",
            "+8613800138000",
            NumberKind::Mobile,
            None,
        ),
        (
            "0086-13800138000",
            "+8613800138000",
            NumberKind::Mobile,
            None,
        ),
        (
            "１３８００１３８０００",
            "+8613800138000",
            NumberKind::Mobile,
            None,
        ),
        (
            "＋８６ １３８ ００１３ ８０００",
            "+8613800138000",
            NumberKind::Mobile,
            None,
        ),
        (
            "(010) 6234-5678",
            "+861062345678",
            NumberKind::FixedLine,
            None,
        ),
        ("010-62345678", "+861062345678", NumberKind::FixedLine, None),
        (
            "（010）62345678",
            "+861062345678",
            NumberKind::FixedLine,
            None,
        ),
        (
            "021 6888 8888",
            "+862168888888",
            NumberKind::FixedLine,
            None,
        ),
        (
            "tel:+86-10-6234-5678;ext=123",
            "+861062345678",
            NumberKind::FixedLine,
            Some("123"),
        ),
        (
            "010-62345678 ext. 8001",
            "+861062345678",
            NumberKind::FixedLine,
            Some("8001"),
        ),
        (
            "010-62345678 转 8001",
            "+861062345678",
            NumberKind::FixedLine,
            Some("8001"),
        ),
        (
            "010-62345678分机8001",
            "+861062345678",
            NumberKind::FixedLine,
            Some("8001"),
        ),
        (
            "+1 (650) 253-0000",
            "+16502530000",
            NumberKind::FixedLineOrMobile,
            None,
        ),
        ("+44 7911 123456", "+447911123456", NumberKind::Mobile, None),
        ("+852 6123 4567", "+85261234567", NumberKind::Mobile, None),
        (
            "+886 912 345 678",
            "+886912345678",
            NumberKind::Mobile,
            None,
        ),
        (
            "+1 800 555 0100",
            "+18005550100",
            NumberKind::TollFree,
            None,
        ),
        (
            "400 123 4567",
            "+864001234567",
            NumberKind::SharedCost,
            None,
        ),
    ];
    for (input, e164, kind, ext) in table {
        let got = PhoneNumber::parse_detailed(input, cn())
            .unwrap_or_else(|e| panic!("{input:?} did not parse: {e}"));
        assert_eq!(got.number.as_str(), *e164, "input {input:?}");
        assert_eq!(got.kind, *kind, "kind of {input:?}");
        assert_eq!(got.extension.as_deref(), *ext, "extension of {input:?}");
    }
}

#[test]
fn refuses_what_is_not_a_number() {
    let table: &[(&str, PhoneError)] = &[
        ("", PhoneError::NotANumber),
        ("abc", PhoneError::NotANumber),
        ("1", PhoneError::NotANumber),
        ("1380013800", PhoneError::Invalid),
        ("+86 999 9999 9999", PhoneError::Invalid),
    ];
    for (input, want) in table {
        assert_eq!(
            PhoneNumber::parse(input, cn()).err().as_ref(),
            Some(want),
            "input {input:?}"
        );
    }
    assert!(PhoneNumber::parse(&"1".repeat(300), cn()).is_err());
}

/// The full-width tilde reads as libphonenumber reads it (issue 12, item 10): punctuation
/// between groups, and a label before a trailing extension (which can leave too few digits
/// for a number, as here with `138～0013～8000`).
#[test]
fn full_width_tilde_reads_as_libphonenumber_reads_it() {
    type NumberAndExtension<'a> = (&'a str, Option<&'a str>);
    let table: &[(&str, Result<NumberAndExtension, PhoneError>)] = &[
        ("138～0013 8000", Ok(("+8613800138000", None))),
        ("021～6888 8888", Ok(("+862168888888", None))),
        ("＋86～10～6234 5678", Ok(("+861062345678", None))),
        (
            "（010）6234～5678 转 8001",
            Ok(("+861062345678", Some("8001"))),
        ),
        ("138～0013～8000", Err(PhoneError::Invalid)),
        ("010～6234～5678", Err(PhoneError::Invalid)),
        ("～", Err(PhoneError::NotANumber)),
    ];
    for (input, want) in table {
        let got = PhoneNumber::parse_detailed(input, cn());
        let got = got
            .as_ref()
            .map(|p| (p.number.as_str(), p.extension.as_deref()))
            .map_err(Clone::clone);
        assert_eq!(&got, want, "input {input:?}");
    }
}

#[test]
fn national_form_needs_a_region() {
    assert!(PhoneNumber::parse("13800138000", None).is_err());
    assert!(PhoneNumber::parse("+8613800138000", None).is_ok());
}

#[test]
fn e164_without_plus_from_paths() {
    let n = PhoneNumber::parse_e164("8613800138000").expect("parses");
    assert_eq!(n.as_str(), "+8613800138000");
    assert_eq!(n.region(), cn());
    assert_eq!(n.kind(), NumberKind::Mobile);
}

#[test]
fn region_codes() {
    assert_eq!(Region::parse("cn").map(|r| r.code()), Some("CN".to_owned()));
    assert!(Region::parse("XX").is_none());
    assert!(Region::parse("").is_none());
    assert!(Region::parse("CHN").is_none());
}

#[test]
fn every_region_with_its_calling_code() {
    let all = Region::all();
    assert!(all.len() > 200, "only {} regions", all.len());
    let calling = |code: &str| all.iter().find(|(r, _)| r.code() == code).map(|(_, c)| *c);
    assert_eq!(calling("CN"), Some(86));
    assert_eq!(calling("US"), Some(1));
    assert_eq!(calling("GB"), Some(44));
    assert!(all.windows(2).all(|w| w[0].0.code() < w[1].0.code()));
}

#[test]
fn stored_numbers_are_read_back_by_shape() {
    let n = PhoneNumber::parse("138 0013 8000", cn()).unwrap();
    assert_eq!(PhoneNumber::from_stored(n.as_str()).unwrap(), n);
    for bad in [
        "",
        "+",
        "8613800138000",
        "+0123456789",
        "+86 138",
        "+12345",
        "+1234567890123456",
        "+86１３８００１３８０００",
    ] {
        assert!(PhoneNumber::from_stored(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn written_grouped_as_people_write_them() {
    let cases = [
        ("+8613800138000", "+86 138 0013 8000"),
        ("+861062345678", "+86 10 6234 5678"),
        ("+19055551234", "+1 905-555-1234"),
        ("+4915112345678", "+49 1511 2345678"),
        ("+442079460123", "+44 20 7946 0123"),
        ("+85291234567", "+852 9123 4567"),
    ];
    for (e164, written) in cases {
        let number = PhoneNumber::parse(e164, None).unwrap();
        assert_eq!(number.international(), written, "{e164}");
    }
}

proptest::proptest! {
    /// Whatever parses reads back from storage as itself.
    #[test]
    fn what_parses_reads_back_from_storage(s in "\\PC{0,40}") {
        if let Ok(n) = PhoneNumber::parse(&s, cn()) {
            proptest::prop_assert_eq!(PhoneNumber::from_stored(n.as_str()), Ok(n));
        }
    }


    /// Whatever the input, parsing never panics, and what parses is stable under re-parsing.
    #[test]
    fn parse_never_panics_and_is_idempotent(s in "\\PC{0,40}") {
        if let Ok(n) = PhoneNumber::parse(&s, cn()) {
            let again = PhoneNumber::parse(n.as_str(), None).expect("E.164 re-parses");
            proptest::prop_assert_eq!(again, n);
        }
    }
}
