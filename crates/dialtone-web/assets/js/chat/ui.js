// Small pieces of interface the chat screens share: a confirmation dialog and a pop-up
// menu, both usable with the keyboard alone.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { errorText } from '../views/auth.js';

/** Asks before doing something that cannot be undone; resolves to true or false. */
export function confirmDialog(text, okLabel, { danger = true } = {}) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm-dialog', 'data-test': 'confirm-dialog', 'aria-label': text });
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    const cancel = h('button', { type: 'button', 'data-test': 'confirm-cancel', onclick: () => done(false) }, t('app.cancel'));
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary', 'data-test': 'confirm-ok',
      onclick: () => done(true) }, okLabel);
    dialog.append(h('p', {}, text), h('div', { class: 'row dialog-buttons' }, cancel, ok));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    // Inside the page's main landmark, as everything the screen shows.
    (document.getElementById('view') ?? document.body).append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

let openMenu = null;

export function closeMenu() {
  if (!openMenu) return;
  const { el, anchor, off } = openMenu;
  openMenu = null;
  off();
  el.remove();
  anchor?.setAttribute('aria-expanded', 'false');
}

/**
 * A menu next to `anchor`: items [{label, test, action}]. Arrow keys move, Esc closes and
 * gives the focus back.
 */
export function showMenu(anchor, items, label) {
  closeMenu();
  const buttons = items.map((item) => h('button', { type: 'button', role: 'menuitem', class: 'menu-item',
    'data-test': item.test, onclick: () => { closeMenu(); anchor.focus(); item.action(); } }, item.label));
  const el = h('div', { class: 'popup-menu', role: 'menu', 'aria-label': label, 'data-test': 'menu' }, buttons);
  el.addEventListener('keydown', (e) => {
    const at = buttons.indexOf(document.activeElement);
    if (e.key === 'Escape') { e.preventDefault(); closeMenu(); anchor.focus(); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); buttons[(at + 1) % buttons.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); buttons[(at - 1 + buttons.length) % buttons.length].focus(); }
    else if (e.key === 'Tab') closeMenu();
  });
  // Inside the landmark of what it acts on (a screen reader lists it with the rest).
  (anchor.closest('main') ?? document.body).append(el);
  // Placed by the anchor, kept inside the window.
  const box = anchor.getBoundingClientRect();
  const width = el.offsetWidth;
  const height = el.offsetHeight;
  const left = Math.max(8, Math.min(window.innerWidth - width - 8, box.right - width));
  const below = box.bottom + 4 + height < window.innerHeight;
  el.style.left = `${left}px`;
  el.style.top = `${below ? box.bottom + 4 : Math.max(8, box.top - height - 4)}px`;
  const outside = (e) => { if (!el.contains(e.target) && e.target !== anchor) closeMenu(); };
  const away = () => closeMenu();
  setTimeout(() => document.addEventListener('pointerdown', outside));
  window.addEventListener('resize', away);
  window.addEventListener('hashchange', away);
  document.addEventListener('scroll', away, true);
  openMenu = {
    el, anchor, off: () => {
      document.removeEventListener('pointerdown', outside);
      window.removeEventListener('resize', away);
      window.removeEventListener('hashchange', away);
      document.removeEventListener('scroll', away, true);
    },
  };
  anchor.setAttribute('aria-expanded', 'true');
  buttons[0]?.focus();
}

const ERRORS = {
  too_late: 'chat.error_too_late',
  text_too_long: 'chat.error_too_long',
  attachment_too_large: 'chat.error_too_large',
  wrong_kind: 'chat.error_wrong_kind',
  not_admin: 'chat.error_not_admin',
  not_your_message: 'chat.error_not_yours',
  conversation_not_found: 'chat.error_not_found',
  user_not_found: 'chat.error_user_not_found',
};

/** A failed call in words, with the chat's own errors first. */
export function chatErrorText(e) {
  if (e?.status === 413) return t('chat.error_too_large');
  return ERRORS[e?.code] ? t(ERRORS[e.code]) : errorText(e);
}
