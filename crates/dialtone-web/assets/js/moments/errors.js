// The community's error codes (docs/api/community.md) in the reader's words; anything
// else is said as every other screen says it.
import { t } from '../i18n.js';
import { errorText } from '../views/auth.js';

const KNOWN = {
  invalid_input: 'moments.error_invalid_input',
  attachment_not_found: 'moments.error_attachment_not_found',
  attachment_too_large: 'moments.error_attachment_too_large',
  wrong_kind: 'moments.error_wrong_kind',
  group_not_found: 'moments.error_group_not_found',
  invalid_link: 'moments.error_invalid_link',
  forbidden_link: 'moments.error_forbidden_link',
  item_not_found: 'moments.error_item_not_found',
  comment_not_found: 'moments.error_comment_not_found',
  not_yours: 'moments.error_not_yours',
  user_not_found: 'moments.error_user_not_found',
  invalid_phone: 'moments.error_invalid_phone',
  text_too_long: 'moments.error_invalid_input',
  payload_too_large: 'moments.error_attachment_too_large',
};

/** The message for a failed community call. */
export function momentError(e) {
  const key = KNOWN[e?.code];
  return key ? t(key) : errorText(e);
}
