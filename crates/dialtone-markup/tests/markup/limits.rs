//! The limits: each refuses just past its bound with its own error and message, and
//! input built to be slow is refused or rendered quickly.

use dialtone_markup::{Limits, MarkupError, render};

use crate::oracle;

#[test]
fn the_default_limits_are_200_kib_32_levels_and_50_pictures() {
    assert_eq!(
        Limits::default(),
        Limits {
            max_bytes: 200 * 1024,
            max_depth: 32,
            max_images: 50
        }
    );
}

#[test]
fn markdown_of_exactly_the_byte_limit_renders_and_one_byte_more_is_refused() {
    let limits = Limits::default();
    let at_limit = "a".repeat(limits.max_bytes);
    assert!(render(&at_limit, &limits).is_ok());
    let over = "a".repeat(limits.max_bytes + 1);
    assert_eq!(
        render(&over, &limits),
        Err(MarkupError::TooLong {
            max: limits.max_bytes
        })
    );
}

#[test]
fn quotes_nested_to_the_depth_limit_render_and_one_more_is_refused() {
    let limits = Limits::default();
    // Each `>` opens a quote; the paragraph inside is one more level.
    let at_limit = format!("{} x", ">".repeat(limits.max_depth - 1));
    let rendered = render(&at_limit, &limits).map(|r| r.html);
    assert!(
        rendered
            .as_ref()
            .is_ok_and(|html| oracle::check(html).is_ok()),
        "{rendered:?}"
    );
    let over = format!("{} x", ">".repeat(limits.max_depth));
    assert_eq!(
        render(&over, &limits),
        Err(MarkupError::TooDeep {
            max: limits.max_depth
        })
    );
}

#[test]
fn deep_nesting_of_every_kind_is_refused_rather_than_walked() {
    let limits = Limits::default();
    let bytes = limits.max_bytes;
    let nested_list: String = (0..200)
        .map(|i| format!("{}- x\n", "  ".repeat(i)))
        .collect();
    let cases = [
        ">".repeat(bytes),
        "> ".repeat(bytes / 2),
        "- ".repeat(bytes / 2 - 1) + "x",
        "1. ".repeat(bytes / 3),
        "> - ".repeat(bytes / 4),
        nested_list,
        "*a **b ".repeat(40) + &" c** d*".repeat(40),
    ];
    for markdown in cases {
        match render(&markdown, &limits) {
            Err(MarkupError::TooDeep { max: 32 }) => {}
            other => panic!("{:?}…: {other:?}", &markdown[..20]),
        }
    }
}

#[test]
fn input_built_to_be_slow_renders_to_safe_html() {
    // Long runs of the characters that make Markdown parsers backtrack; these must
    // finish (pulldown-cmark is linear on them) and be safe. 32 KiB each keeps the
    // unoptimised test build quick (entities alone take seconds at 200 KiB there, 30 ms
    // optimised); a quadratic case would still take this test from a second to
    // minutes. Timing at full size is the fuzzer's job.
    let bytes = 32 * 1024;
    let cases = [
        "*".repeat(bytes),
        "*a".repeat(bytes / 2),
        "[".repeat(bytes),
        "[a](".repeat(bytes / 4),
        "![".repeat(bytes / 2),
        "`a``".repeat(bytes / 4),
        "<".repeat(bytes),
        "<a ".repeat(bytes / 3),
        "&amp;".repeat(bytes / 5),
        "|a".repeat(300) + "\n" + &"|-".repeat(300) + "\n" + &("|x".repeat(300) + "\n").repeat(100),
    ];
    for markdown in cases {
        let markdown = &markdown[..markdown.len().min(bytes)];
        match render(markdown, &Limits::default()) {
            Ok(rendered) => assert_eq!(
                oracle::check(&rendered.html),
                Ok(()),
                "{:?}…",
                &markdown[..20]
            ),
            Err(error) => panic!("{:?}… was refused: {error}", &markdown[..20]),
        }
    }
}

#[test]
fn pictures_up_to_the_limit_render_and_one_more_is_refused() {
    let limits = Limits::default();
    let pictures = |n: usize| -> String {
        (0..n)
            .map(|i| format!("![p{i}](attachment:id{i})\n"))
            .collect()
    };
    let rendered = render(&pictures(limits.max_images), &limits);
    assert_eq!(rendered.map(|r| r.image_refs.len()), Ok(limits.max_images));
    assert_eq!(
        render(&pictures(limits.max_images + 1), &limits),
        Err(MarkupError::TooManyImages {
            max: limits.max_images
        })
    );
}

#[test]
fn a_repeated_picture_counts_each_time_it_is_shown() {
    let limits = Limits {
        max_images: 2,
        ..Limits::default()
    };
    assert_eq!(
        render(
            "![](attachment:a) ![](attachment:a) ![](attachment:a)",
            &limits
        ),
        Err(MarkupError::TooManyImages { max: 2 })
    );
}

#[test]
fn dropped_pictures_do_not_count_against_the_limit() {
    let limits = Limits {
        max_images: 1,
        ..Limits::default()
    };
    let rendered = render(
        "![a](https://x.example/a.png) ![b](/b.png) ![c](attachment:c)",
        &limits,
    );
    assert_eq!(rendered.map(|r| r.image_refs), Ok(vec!["c".to_owned()]));
}

#[test]
fn each_error_says_what_to_fix_in_words() {
    assert_eq!(
        MarkupError::TooLong { max: 204_800 }.to_string(),
        "the article is too long: at most 204800 bytes of Markdown are allowed"
    );
    assert_eq!(
        MarkupError::TooManyImages { max: 50 }.to_string(),
        "the article has too many pictures: at most 50 are allowed"
    );
    assert_eq!(
        MarkupError::TooDeep { max: 32 }.to_string(),
        "the article nests quotes, lists or emphasis too deeply: at most 32 levels are allowed"
    );
}
