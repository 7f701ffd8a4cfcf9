//! Which language a page is shown in: the user's explicit choice (a `lang` cookie set by
//! the language switch), else the browser's `Accept-Language`, else English.

/// A language the client has a message catalogue for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    ZhCn,
}

impl Lang {
    /// Every language offered, in the order the switch lists them.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag, also the catalogue's folder name.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language's own name for itself (what the switch shows, whatever the page's
    /// language).
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
        }
    }

    /// Reads one language tag; every Chinese variant gets the Simplified catalogue, the
    /// nearest there is.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// Chooses the page's language: a valid `lang` cookie wins, then the best-weighted
/// supported language of `Accept-Language`, then English.
pub fn negotiate(cookie_header: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(lang) = cookie_header.and_then(cookie_lang) {
        return lang;
    }
    accept_language.and_then(best_accepted).unwrap_or(Lang::En)
}

fn cookie_lang(header: &str) -> Option<Lang> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim() == "lang")
        .and_then(|(_, value)| Lang::from_tag(value))
}

fn best_accepted(header: &str) -> Option<Lang> {
    let mut weighted: Vec<(u16, usize, Lang)> = header
        .split(',')
        .enumerate()
        .filter_map(|(order, item)| {
            let mut parts = item.split(';');
            let lang = Lang::from_tag(parts.next()?)?;
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            // Thousandths, so the weights sort as integers; q=0 means "not this one".
            let quality = (quality.clamp(0.0, 1.0) * 1000.0).round() as u16;
            (quality > 0).then_some((quality, order, lang))
        })
        .collect();
    weighted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    weighted.first().map(|(_, _, lang)| *lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_as_a_browser_user_expects() {
        let cases: &[(Option<&str>, Option<&str>, Lang)] = &[
            (None, None, Lang::En),
            (None, Some("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn),
            (None, Some("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En),
            (None, Some("fr-FR,zh-TW;q=0.5,en;q=0.4"), Lang::ZhCn),
            (None, Some("de,fr"), Lang::En),
            (None, Some("en;q=0.1, zh;q=0.9"), Lang::ZhCn),
            (None, Some("zh;q=0, en"), Lang::En),
            (None, Some(";;,q=,"), Lang::En),
            (Some("theme=dark; lang=zh-CN"), Some("en"), Lang::ZhCn),
            (Some("lang=en"), Some("zh-CN"), Lang::En),
            (Some("lang=xx"), Some("zh-CN"), Lang::ZhCn),
        ];
        for (cookie, accept, expected) in cases {
            assert_eq!(
                negotiate(*cookie, *accept),
                *expected,
                "cookie {cookie:?}, accept {accept:?}"
            );
        }
    }
}
