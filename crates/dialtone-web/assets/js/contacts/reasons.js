// Why a number or a file was not taken, in the reader's language. The server's codes are
// stable (API.md); an unknown one falls back to a generic text rather than the raw code.
import { t } from '../i18n.js';

/** A rejected entry's reason: from POST /v1/contacts or from an import preview. */
export function rejectReason(code) {
  switch (code) {
    case 'invalid_phone': case 'invalid_number': return t('contacts.reason_invalid');
    case 'not_a_number': return t('contacts.reason_not_a_number');
    case 'missing_region': return t('contacts.reason_missing_region');
    case 'too_long': return t('contacts.reason_too_long');
    case 'no_phone': case 'no_number': return t('contacts.reason_no_phone');
    case 'too_many_phones': return t('contacts.reason_too_many_phones');
    case 'name_too_long': return t('contacts.reason_name_too_long');
    case 'lost_precision': return t('contacts.reason_lost_precision');
    default: return t('contacts.reason_other');
  }
}

/** Why a file could not be read (400/413 from POST /v1/contacts/import). */
export function importErrorText(code) {
  switch (code) {
    case 'empty': return t('import.error_empty');
    case 'unknown_format': return t('import.error_unknown_format');
    case 'unknown_encoding': return t('import.error_unknown_encoding');
    case 'truncated': case 'malformed': return t('import.error_malformed');
    case 'too_many_columns': case 'too_many_entries': case 'sheet_too_large': case 'field_too_long':
      return t('import.error_too_big');
    case 'payload_too_large': case 'too_large': return t('import.error_too_large');
    case 'invalid_region': return t('import.error_region');
    default: return null;
  }
}

/** The file format's name. */
export function formatName(code) {
  switch (code) {
    case 'csv': return t('import.format_csv');
    case 'txt': return t('import.format_txt');
    case 'vcard': return t('import.format_vcard');
    case 'xlsx': case 'xls': case 'ods': return t('import.format_sheet', { type: code });
    case 'ldif': return t('import.format_ldif');
    case 'wab': return t('import.format_wab');
    case 'windows_contact': return t('import.format_windows_contact');
    default: return code;
  }
}
