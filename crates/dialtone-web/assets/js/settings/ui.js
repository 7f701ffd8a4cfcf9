// Pieces the Me, Privacy and Devices screens share: the page frame, titled sections,
// a modal confirmation and a "could not load" box with a retry button.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';

/** The page frame: header (optional back link) and a body to fill. */
export function settingsPage(title, { back = null, test = null } = {}) {
  const body = h('div', { class: 'settings-body' });
  const el = h('div', { class: 'page settings-page', 'data-test': test },
    h('header', { class: 'page-header' },
      back ? h('a', { href: back, class: 'button settings-back', 'data-test': 'back' },
        h('span', { 'aria-hidden': 'true' }, '‹ '), t('app.back')) : null,
      h('h1', {}, title)),
    body);
  return { el, body };
}

let sectionCount = 0;
/** A titled card; the heading labels the region for screen readers. */
export function section(title, { hint = null, test = null } = {}, ...children) {
  const id = `settings-section-${++sectionCount}`;
  return h('section', { class: 'settings-section', 'aria-labelledby': id, 'data-test': test },
    h('h2', { id }, title),
    hint ? h('p', { class: 'settings-hint' }, hint) : null,
    ...children);
}

/** Shown instead of a section whose data did not load: the reason and a retry. */
export function failure(text, retry) {
  return h('div', { class: 'settings-failure', role: 'alert', 'data-test': 'load-error' },
    h('p', { class: 'error' }, text),
    retry ? h('button', { type: 'button', onclick: retry, 'data-test': 'retry' }, t('settings.retry')) : null);
}

/** A spinner-free placeholder while a section loads. */
export function loading() {
  return h('p', { class: 'muted', role: 'status' }, t('app.loading'));
}

/**
 * Asks before something that cannot be undone; resolves true on OK. A modal <dialog>
 * keeps focus inside and closes on Escape (which counts as cancel).
 */
export function confirmDialog(text, okLabel, { danger = true } = {}) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: danger ? 'primary danger-fill' : 'primary', 'data-test': 'confirm-ok' }, okLabel);
    const cancel = h('button', { type: 'button', 'data-test': 'confirm-cancel' }, t('app.cancel'));
    const textId = `confirm-text-${++sectionCount}`;
    const dialog = h('dialog', { class: 'settings-dialog', 'aria-describedby': textId, 'data-test': 'confirm' },
      h('p', { id: textId }, text),
      h('div', { class: 'settings-dialog-actions' }, cancel, ok));
    let answer = false;
    ok.addEventListener('click', () => { answer = true; dialog.close(); });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { dialog.remove(); resolve(answer); });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** A labelled on/off switch (a checkbox with role=switch). */
export function switchInput(label, { checked = false, disabled = false, test, onchange, hint = null, describedBy = null }) {
  const input = h('input', { type: 'checkbox', role: 'switch', checked, disabled, 'data-test': test,
    'aria-describedby': describedBy, onchange });
  const el = h('label', { class: 'settings-switch' },
    h('span', { class: 'settings-switch-text' }, h('span', {}, label), hint ? h('small', { class: 'field-hint' }, hint) : null),
    input);
  return { el, input };
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  clear(el);
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}
