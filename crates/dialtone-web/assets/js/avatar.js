// The round avatar every screen shows for a person or a group: one function, so the same
// person looks the same everywhere.
import { h } from './dom.js';
import { lang } from './i18n.js';

const segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(lang, { granularity: 'grapheme' }) : null;

/**
 * The avatar's letter: the first grapheme of a name (a whole emoji or Chinese character),
 * upper-cased; '#' for a number shown as a name (no name given) or nothing at all.
 */
export function avatarLetter(name) {
  const text = String(name ?? '').trim();
  if (!text || /^[+\d\s().\-]+$/.test(text)) return '#';
  const first = segmenter ? segmenter.segment(text)[Symbol.iterator]().next().value?.segment : [...text][0];
  return (first || '#').toLocaleUpperCase(lang);
}

/**
 * <span class="avatar"> with the letter of `name`; a group gets its own tint, `presence`
 * a coloured dot, `cls` more classes. Hidden from screen readers: the name is said next to it.
 */
export function avatar(name, { group = false, presence = null, cls = '' } = {}) {
  const classes = ['avatar', group ? 'avatar-group' : '', cls].filter(Boolean).join(' ');
  return h('span', { class: classes, 'aria-hidden': 'true', 'data-test': 'avatar' }, avatarLetter(name),
    presence ? h('span', { class: 'dot', 'data-state': presence, 'data-test': 'presence-dot' }) : null);
}
