//! Message catalogues: every text the client shows, per language, none in the code.
//!
//! Each language has a folder `assets/i18n/<tag>/` of flat JSON objects, one file per
//! area of the client (`auth.json`, `chat.json`, ...), whose keys start with the area's
//! name. They are merged into one map; a key defined twice is an error, so two areas never
//! silently overwrite each other.

use std::collections::BTreeMap;

use crate::assets;
use crate::lang::Lang;

/// Key → text, for one language.
pub type Catalogue = BTreeMap<String, String>;

/// What is wrong with a catalogue file.
#[derive(Debug, PartialEq, Eq)]
pub struct CatalogueError(pub String);

impl std::fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Loads and merges every catalogue file of `lang`.
pub fn load(lang: Lang) -> Result<Catalogue, CatalogueError> {
    let prefix = format!("i18n/{}/", lang.tag());
    let mut merged = Catalogue::new();
    for path in assets::paths_under(&prefix) {
        if !path.ends_with(".json") {
            continue;
        }
        let file = assets::file(&path).ok_or_else(|| CatalogueError(format!("{path}: gone")))?;
        let entries: BTreeMap<String, String> = serde_json::from_slice(&file.data)
            .map_err(|e| CatalogueError(format!("{path}: {e}")))?;
        for (key, text) in entries {
            if merged.contains_key(&key) {
                return Err(CatalogueError(format!("{path}: key {key} defined twice")));
            }
            merged.insert(key, text);
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn placeholders(text: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else { break };
            found.insert(after[..end].to_owned());
            rest = &after[end + 1..];
        }
        found
    }

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        let en = load(Lang::En).unwrap();
        let zh = load(Lang::ZhCn).unwrap();
        assert!(en.len() > 20, "the English catalogue is nearly empty");
        let en_keys: BTreeSet<_> = en.keys().collect();
        let zh_keys: BTreeSet<_> = zh.keys().collect();
        assert_eq!(
            en_keys.symmetric_difference(&zh_keys).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "keys present in one language only"
        );
        for (key, text) in &en {
            assert!(!text.trim().is_empty(), "en {key} is empty");
            assert!(!zh[key].trim().is_empty(), "zh-CN {key} is empty");
            assert_eq!(
                placeholders(text),
                placeholders(&zh[key]),
                "placeholders of {key} differ"
            );
        }
    }

    /// Keys the client asks for: `t('area.key'` in the modules, `data-t="area.key"` and
    /// `t["area.key"]` in the shell template.
    fn keys_used() -> BTreeSet<(String, String)> {
        let mut used = BTreeSet::new();
        let mut scan = |name: String, text: &str| {
            for opener in ["t('", "t(\"", "t[\"", "data-t=\"", "t(`"] {
                let mut rest = text;
                while let Some(at) = rest.find(opener) {
                    let after = &rest[at + opener.len()..];
                    let key: String = after
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
                        .collect();
                    let closed = after[key.len()..].starts_with(['\'', '"', '`']);
                    if key.contains('.') && closed {
                        used.insert((name.clone(), key));
                    }
                    rest = after;
                }
            }
        };
        for path in assets::paths_under("js/") {
            let file = assets::file(&path).unwrap();
            scan(path, &String::from_utf8_lossy(&file.data));
        }
        let shell = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/shell.html");
        scan(
            "templates/shell.html".into(),
            &std::fs::read_to_string(shell).unwrap(),
        );
        used
    }

    #[test]
    fn every_key_the_client_uses_exists() {
        let en = load(Lang::En).unwrap();
        let used = keys_used();
        assert!(used.len() > 10, "the scan found almost nothing: {used:?}");
        let missing: Vec<_> = used.iter().filter(|(_, k)| !en.contains_key(k)).collect();
        assert!(
            missing.is_empty(),
            "keys used but not in the catalogues: {missing:?}"
        );
    }
}
