// The offer to turn on notifications, over the chat list: shown once the user has
// conversations (when a message arriving while the app is closed starts to matter), not
// on first load, and never again once answered (a "not now" comes back after a week).
import { h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { enablePush, putOff, shouldAsk } from '../push.js';

/** The banner element, or null when there is nothing to offer. */
export function pushOffer() {
  if (!shouldAsk()) return null;
  const el = h('div', { class: 'push-offer', role: 'region', 'aria-label': t('push.offer_label'), 'data-test': 'push-offer', hidden: true },
    h('span', { class: 'ci ci-bell', 'aria-hidden': 'true' }),
    h('p', {}, t('push.offer_text')),
    h('button', { type: 'button', class: 'button primary compact', 'data-test': 'push-enable', onclick: async () => {
      el.remove();
      try {
        if (await enablePush()) toast(t('push.enabled'));
        else toast(t('push.denied'));
      } catch (e) {
        console.warn('push not enabled', e);
        toast(t('push.failed'));
      }
    } }, t('push.enable')),
    h('button', { type: 'button', class: 'button compact', 'data-test': 'push-later', onclick: () => { putOff(); el.remove(); } },
      t('push.later')));
  return el;
}
