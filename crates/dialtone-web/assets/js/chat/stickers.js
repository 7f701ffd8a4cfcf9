// The server's sticker packs (GET /v1/stickers). A sticker message names its sticker as
// `pack/sticker` in its text; the picture is a public SVG at /v1/stickers/pack/sticker.
import { api } from '../api.js';
import { t } from '../i18n.js';

let packs = null;
const emojiOf = new Map();

/** The packs, fetched once per page. */
export function loadPacks() {
  if (!packs) {
    packs = api('/v1/stickers').then(({ packs: list }) => {
      for (const pack of list) for (const s of pack.stickers) emojiOf.set(s.name, s.emoji);
      return list;
    });
    packs.catch(() => { packs = null; });
  }
  return packs;
}

/** Where a sticker's picture is, or null for a name that is not pack/sticker. */
export function stickerUrl(name) {
  const m = /^([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})$/.exec(name ?? '');
  return m ? `/v1/stickers/${encodeURIComponent(m[1])}/${encodeURIComponent(m[2])}` : null;
}

/** The text alternative of a sticker: its emoji when known. */
export function stickerAlt(name) {
  const emoji = emojiOf.get(name);
  return emoji ? t('chat.sticker_alt', { emoji }) : t('chat.kind_sticker');
}
