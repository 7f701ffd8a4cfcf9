// Turning what someone typed ("138 0013 8000", "(010) 6234-5678", "+1 202…") into the
// E.164 form the block and allow list paths take. Those paths accept E.164 only, so a
// national form is read by the server's own parser, in the account's region, through the
// public import preview (which stores nothing): the same rules as everywhere else.
import { api } from '../api.js';

export class PhoneInputError extends Error {}

/** Resolves to E.164, or rejects with PhoneInputError when it is not one number. */
export async function toE164(input) {
  // Full-width digits and plus (Chinese IMEs) become ASCII first.
  const text = String(input || '')
    .replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xFF10 + 48))
    .replace(/\uFF0B/g, '+')
    .trim();
  // Only dialable characters may go on, so the text cannot read as a name or a second entry.
  if (!/^[+0-9 ()\-.\u00A0/]+$/.test(text) || (text.match(/\d/g) || []).length < 3) throw new PhoneInputError('invalid');
  const compact = text.replace(/[^+0-9]/g, '');
  if (/^\+[1-9]\d{5,14}$/.test(compact)) return compact;
  let preview;
  try {
    preview = await api('/v1/contacts/import?filename=number.txt', { method: 'POST', raw: new Blob([text]), contentType: 'text/plain; charset=utf-8' });
  } catch (e) {
    if (e.status === 400) throw new PhoneInputError('invalid');
    throw e;
  }
  const phones = (preview?.contacts || []).flatMap((c) => c.phones || []);
  if (phones.length !== 1) throw new PhoneInputError('invalid');
  return phones[0];
}
