// Every text the client shows comes from the catalogue the server embedded in the page,
// in the language it chose; dates, times and country names come from Intl.

const catalogue = JSON.parse(document.getElementById('catalogue').textContent);

/** What the server told us: {region, domain, lang, languages, regions: [[code, calling]]}. */
export const config = JSON.parse(document.getElementById('config').textContent);
export const lang = config.lang;

/** The text for `key`, with {placeholders} filled from `vars`. */
export function t(key, vars = {}) {
  const text = catalogue[key];
  if (text === undefined) {
    console.warn('missing catalogue key', key);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Remembers the choice (the server reads the cookie) and redraws the app in it. */
export function setLanguage(tag) {
  document.cookie = `lang=${encodeURIComponent(tag)}; path=/; max-age=31536000; samesite=lax`;
  location.reload();
}

const regionNames = typeof Intl.DisplayNames === 'function'
  ? new Intl.DisplayNames([lang], { type: 'region' }) : null;

/** A country's name in the page's language. */
export function regionName(code) {
  try { return regionNames?.of(code) ?? code; } catch { return code; }
}

/** The country list for a picker, sorted by localized name: [{code, calling, name}]. */
export function regionOptions() {
  const collator = new Intl.Collator(lang);
  return config.regions
    .map(([code, calling]) => ({ code, calling, name: regionName(code) }))
    .sort((a, b) => collator.compare(a.name, b.name));
}

const plurals = new Intl.PluralRules(lang);
const numbers = new Intl.NumberFormat(lang);
/** A counted text: `key_one` or `key_other` of the catalogue, with {count} ("1,234"). */
export function counted(key, count) {
  return t(`${key}_${plurals.select(count) === 'one' ? 'one' : 'other'}`, { count: numbers.format(count) });
}

/** The one clock every screen uses: "9:05 AM", "09:05" in Chinese, as the language writes it. */
const clockFormat = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(lang, { month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });

/** The time of day: "9:05 AM". */
export function clockTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : clockFormat.format(d);
}

/** "9:05 AM" today, "Nov 3" before. */
export function shortTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  return d.toDateString() === now.toDateString() ? clockFormat.format(d) : dayFormat.format(d);
}

export function fullTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : fullFormat.format(d);
}

const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
/** "5 minutes ago", "yesterday". */
export function ago(iso) {
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  if (Number.isNaN(seconds)) return '';
  const steps = [[60, 'second'], [3600, 'minute'], [86400, 'hour'], [604800, 'day'], [Infinity, 'week']];
  let unit = 1;
  for (const [limit, name] of steps) {
    if (Math.abs(seconds) < limit) return relative.format(Math.round(seconds / unit), name);
    unit = limit;
  }
  return fullTime(iso);
}
