//! The sticker packs the server hosts. One built-in pack, drawn for dialtone, embedded in
//! the binary. A sticker message names its sticker as `pack/sticker` in `text`.

/// A sticker.
#[derive(Debug, Clone, Copy)]
pub struct Sticker {
    /// Id within its pack.
    pub id: &'static str,
    /// The emoji it stands for (for search and for clients without images).
    pub emoji: &'static str,
    /// The SVG image.
    pub svg: &'static str,
}

/// A sticker pack.
#[derive(Debug, Clone, Copy)]
pub struct StickerPack {
    /// Pack id.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Its stickers.
    pub stickers: &'static [Sticker],
}

/// Every pack the server hosts.
pub const PACKS: &[StickerPack] = &[StickerPack {
    id: "basic",
    name: "dialtone basics",
    stickers: &[
        Sticker {
            id: "smile",
            emoji: "🙂",
            svg: include_str!("../stickers/basic/smile.svg"),
        },
        Sticker {
            id: "wink",
            emoji: "😉",
            svg: include_str!("../stickers/basic/wink.svg"),
        },
        Sticker {
            id: "wow",
            emoji: "😮",
            svg: include_str!("../stickers/basic/wow.svg"),
        },
        Sticker {
            id: "sleepy",
            emoji: "😴",
            svg: include_str!("../stickers/basic/sleepy.svg"),
        },
        Sticker {
            id: "heart",
            emoji: "❤️",
            svg: include_str!("../stickers/basic/heart.svg"),
        },
        Sticker {
            id: "thumbs_up",
            emoji: "👍",
            svg: include_str!("../stickers/basic/thumbs_up.svg"),
        },
    ],
}];

/// The sticker named `pack/sticker`, if it exists.
pub fn find(name: &str) -> Option<&'static Sticker> {
    let (pack, sticker) = name.split_once('/')?;
    PACKS
        .iter()
        .find(|p| p.id == pack)?
        .stickers
        .iter()
        .find(|s| s.id == sticker)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sticker_is_an_svg_and_found_by_name() {
        for pack in super::PACKS {
            for s in pack.stickers {
                assert!(s.svg.trim_start().starts_with("<svg"), "{}", s.id);
                assert!(super::find(&format!("{}/{}", pack.id, s.id)).is_some());
            }
        }
        assert!(super::find("basic/nope").is_none());
        assert!(super::find("nope/smile").is_none());
        assert!(super::find("smile").is_none());
    }
}
