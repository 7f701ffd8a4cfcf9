// Hidden contacts and the vault: a second password that, for ten minutes at a time, lets
// this tab see hidden contacts (and chats with them), which every listing on every device
// leaves out otherwise. The vault token lives in sessionStorage (api.js sends it).
import { h, field, toast } from '../dom.js';
import { t, lang, clockTime } from '../i18n.js';
import { phoneEl, phoneText } from '../phones.js';
import { api, session } from '../api.js';
import { store } from '../store.js';
import { errorText } from '../views/auth.js';
import { section, switchInput, fill } from './ui.js';

const SHOWN = 60;

function vaultExpiry() {
  try {
    const vault = JSON.parse(sessionStorage.getItem('dialtone.vault') || 'null');
    return session.vaultToken && vault ? new Date(vault.expires_at) : null;
  } catch { return null; }
}

function vaultError(e) {
  if (e?.code === 'wrong_password') return t('vault.wrong_password');
  if (e?.code === 'current_password_required') return t('vault.current_required');
  if (e?.code === 'weak_password') return t('vault.weak');
  return errorText(e);
}

function errorLine(test) {
  return h('p', { class: 'form-error', role: 'alert', 'data-test': test, hidden: true });
}
function showError(box, text) { box.textContent = text; box.hidden = !text; }

export function vaultSection() {
  const statusBox = h('div', { class: 'settings-vault-status' });
  const setBox = h('div');
  const listBox = h('div');
  const el = section(t('vault.title'), { hint: t('vault.hint'), test: 'vault' }, statusBox, listBox, setBox);
  let expiryTimer = null;
  let filter = '';

  function drawStatus() {
    clearTimeout(expiryTimer);
    const until = vaultExpiry();
    if (until) {
      // Lock the view again the moment the token stops working.
      expiryTimer = setTimeout(() => { session.lockVault(); reload(t('vault.expired')); }, Math.max(0, until - Date.now()) + 250);
      const lock = h('button', { type: 'button', 'data-test': 'vault-lock', onclick: () => { session.lockVault(); reload(t('vault.locked_toast')); } },
        t('vault.lock'));
      return fill(statusBox, h('div', { class: 'settings-add' },
        h('p', { class: 'settings-vault-open', 'data-test': 'vault-status', 'data-state': 'unlocked', role: 'status' },
          t('vault.unlocked_until', { time: clockTime(until) })), lock));
    }
    const password = h('input', { type: 'password', 'data-test': 'vault-password', autocomplete: 'off', required: true });
    const unlock = h('button', { type: 'submit', class: 'primary', 'data-test': 'vault-unlock' }, t('vault.unlock'));
    const error = errorLine('vault-error');
    const form = h('form', { class: 'settings-add', novalidate: true }, field(t('vault.password'), password), unlock);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!password.value) return showError(error, t('vault.wrong_password'));
      unlock.disabled = true;
      try {
        const result = await api('/v1/vault/unlock', { method: 'POST', body: { password: password.value } });
        session.saveVault(result);
        await reload(t('vault.unlocked_toast'));
      } catch (err) {
        unlock.disabled = false;
        showError(error, vaultError(err));
        password.select();
      }
    });
    fill(statusBox, h('p', { class: 'muted', 'data-test': 'vault-status', 'data-state': 'locked', role: 'status' }, t('vault.locked')),
      form, error);
  }

  function drawSetForm() {
    const current = h('input', { type: 'password', 'data-test': 'vault-current-password', autocomplete: 'off' });
    const next = h('input', { type: 'password', 'data-test': 'vault-new-password', autocomplete: 'new-password', minlength: 4, maxlength: 128 });
    const save = h('button', { type: 'submit', 'data-test': 'vault-set' }, t('vault.set'));
    const error = errorLine('vault-set-error');
    const form = h('form', { class: 'stack', novalidate: true },
      h('h3', {}, t('vault.set_title')),
      field(t('vault.new_password'), next, t('vault.new_password_hint')),
      field(t('vault.current_password'), current, t('vault.current_password_hint')),
      error, h('div', { class: 'row' }, save));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const count = Array.from(next.value).length;
      if (count < 4 || count > 128) return showError(error, t('vault.weak'));
      showError(error, '');
      save.disabled = true;
      const body = { password: next.value };
      if (current.value) body.current_password = current.value;
      try {
        await api('/v1/vault/password', { method: 'PUT', body });
        current.value = '';
        next.value = '';
        toast(t('vault.saved'));
      } catch (err) {
        showError(error, vaultError(err));
        (err.code === 'weak_password' ? next : current).focus();
      } finally {
        save.disabled = false;
      }
    });
    fill(setBox, form);
  }

  async function setHidden(contact, hidden, input) {
    input.disabled = true;
    const name = contact.name || phoneText(contact.phone);
    try {
      await api(`/v1/contacts/${encodeURIComponent(contact.phone)}/hidden`, { method: 'PUT', body: { hidden } });
      const locked = !session.vaultToken;
      toast(hidden ? t(locked ? 'vault.hidden_toast_locked' : 'vault.hidden_toast', { name }) : t('vault.shown_toast', { name }));
      await store.loadContacts();
    } catch (err) {
      input.checked = !hidden;
      input.disabled = false;
      toast(errorText(err), 'error');
    }
  }

  // The search box is made once so that redraws (address-book updates) keep its focus.
  const search = h('input', { type: 'search', 'data-test': 'hide-filter',
    'aria-label': t('privacy.contact_filter'), placeholder: t('privacy.contact_filter') });
  search.addEventListener('input', () => { filter = search.value; drawList(); });
  const note = h('p', { class: 'settings-hint' });
  const rowsBox = h('div', { 'aria-live': 'polite' });
  listBox.append(h('h3', {}, t('vault.hidden_list')), note, search, rowsBox);

  function drawList() {
    const collator = new Intl.Collator(lang);
    // Hidden ones first: those are what someone opening the vault comes to see.
    const contacts = [...store.contacts.values()].sort((a, b) => (b.hidden - a.hidden)
      || collator.compare(a.name || a.phone, b.name || b.phone));
    const needle = filter.trim().toLowerCase();
    const digits = needle.replace(/[^\d]/g, '');
    const matching = contacts.filter((c) => !needle || (c.name || '').toLowerCase().includes(needle) || (digits && c.phone.includes(digits)));
    const rows = matching.slice(0, SHOWN).map((c) => {
      const name = c.name || phoneText(c.phone);
      const toggle = switchInput(t('vault.hide'), { checked: c.hidden, test: 'hide-contact',
        onchange: (e) => setHidden(c, e.target.checked, e.target) });
      toggle.input.setAttribute('aria-label', t('vault.hide_label', { name }));
      return h('li', { 'data-test': 'vault-contact', 'data-phone': c.phone, 'data-hidden': String(Boolean(c.hidden)) },
        h('span', { class: 'settings-grow' }, h('span', { class: 'settings-name' }, name),
          c.name ? phoneEl(c.phone, { class: 'muted settings-phone' }) : null),
        toggle.el);
    });
    note.textContent = session.vaultToken ? t('vault.hidden_note_open') : t('vault.hidden_note_locked');
    search.hidden = contacts.length <= 8 && !filter;
    fill(rowsBox,
      rows.length ? h('ul', { class: 'list settings-rows', 'data-test': 'vault-contacts' }, rows)
        : h('p', { class: 'muted' }, t(needle ? 'privacy.no_match' : 'privacy.no_contacts')),
      matching.length > SHOWN ? h('p', { class: 'muted' }, t('privacy.more_contacts', { count: matching.length - SHOWN })) : null);
  }

  async function reload(message) {
    drawStatus();
    try {
      await store.loadContacts();
      if (message) toast(message);
    } catch (e) {
      toast(errorText(e), 'error');
    }
  }

  drawStatus();
  drawSetForm();
  drawList();
  const off = store.on('contacts', drawList);
  return { el, dispose() { off(); clearTimeout(expiryTimer); } };
}
