// The Privacy screen: who may see and find me, the block and allow lists (numbers and
// contact groups), and hidden contacts behind the vault. Every change is saved at once.
import { h, field, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { store } from '../store.js';
import { errorText } from '../views/auth.js';
import { settingsPage, section, failure, loading, fill } from './ui.js';
import { avatar } from '../avatar.js';
import { phoneEl } from '../phones.js';
import { toE164, PhoneInputError } from './phone.js';
import { groupsSection } from './groups.js';
import { vaultSection } from './vault.js';

const CHOICES = {
  visibility: ['everyone', 'allowlist'],
  discoverable: ['everyone', 'contacts', 'nobody'],
  last_seen: ['everyone', 'contacts', 'nobody'],
};

const LISTS = {
  block: { path: '/v1/blocklist', input: 'block-phone', add: 'block-add', row: 'blocked', remove: 'unblock' },
  allow: { path: '/v1/allowlist', input: 'allow-phone', add: 'allow-add', row: 'allowed', remove: 'disallow' },
};

export async function privacy(main) {
  const { el, body } = settingsPage(t('privacy.title'), { back: '#/me', test: 'privacy' });
  main.append(el);
  /** What the server said: settings, block/allow lists {phones, groups}, contact groups. */
  const state = { settings: null, block: null, allow: null, groups: null };
  const contactsList = h('datalist', { id: 'privacy-contact-numbers' });
  const who = h('div'), blocked = h('div'), allowed = h('div');
  const groups = groupsSection(state, () => { drawList('block'); drawList('allow'); });
  const vault = vaultSection();
  body.append(contactsList,
    section(t('privacy.who'), {}, who),
    section(t('privacy.blocklist'), { hint: t('privacy.blocklist_hint'), test: 'blocklist' }, blocked),
    section(t('privacy.allowlist'), { hint: t('privacy.allowlist_hint'), test: 'allowlist' }, allowed),
    groups.el,
    vault.el);
  const boxes = { block: blocked, allow: allowed };

  async function load() {
    fill(who, loading());
    const [settings, block, allow, list] = await Promise.allSettled([
      api('/v1/privacy'), api('/v1/blocklist'), api('/v1/allowlist'), api('/v1/contact-groups')]);
    const failed = [settings, block, allow, list].find((r) => r.status === 'rejected');
    if (failed) {
      const box = failure(errorText(failed.reason), () => load());
      fill(who, box);
      for (const b of [blocked, allowed]) fill(b);
      groups.fail();
      return;
    }
    state.settings = settings.value;
    state.block = block.value;
    state.allow = allow.value;
    state.groups = list.value.groups;
    drawWho();
    drawList('block');
    drawList('allow');
    groups.draw();
  }

  let saving = Promise.resolve();
  function drawWho() {
    const selects = Object.entries(CHOICES).map(([name, values]) => {
      const select = h('select', { 'data-test': name.replace('_', '-'), name },
        values.map((v) => h('option', { value: v, selected: state.settings[name] === v }, t(`privacy.${name}_${v}`))));
      select.addEventListener('change', async () => {
        const before = state.settings[name];
        select.disabled = true;
        try {
          // One change at a time: each answer is the whole settings object, and an
          // earlier answer arriving last would undo a later change on screen.
          const patch = () => api('/v1/privacy', { method: 'PATCH', body: { [name]: select.value } });
          saving = saving.catch(() => {}).then(patch);
          state.settings = await saving;
          toast(t('privacy.saved'));
          drawList('allow');
        } catch (e) {
          select.value = before;
          toast(errorText(e), 'error');
        } finally {
          select.disabled = false;
        }
      });
      return field(t(`privacy.${name}`), select, t(`privacy.${name}_hint`));
    });
    fill(who, h('div', { class: 'stack' }, selects));
  }

  function drawList(kind) {
    const box = boxes[kind];
    const list = state[kind];
    if (!list) return;
    const names = LISTS[kind];
    // Redraws (names from the address book, a settings change) keep what is being typed.
    const before = box.querySelector('input');
    const typed = before?.value ?? '';
    const focused = before !== null && document.activeElement === before;
    const input = h('input', { type: 'tel', inputmode: 'tel', autocomplete: 'off', 'data-test': names.input,
      list: contactsList.id, maxlength: 40, placeholder: t('privacy.phone_placeholder') });
    const error = h('p', { class: 'form-error', role: 'alert', 'data-test': `${kind}-error`, hidden: true });
    const add = h('button', { type: 'submit', class: 'primary', 'data-test': names.add }, t(`privacy.${kind}_add`));
    const form = h('form', { class: 'settings-add', novalidate: true },
      field(t(`privacy.${kind}_phone`), input), add);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.hidden = true;
      add.disabled = true;
      try {
        const phone = await toE164(input.value);
        if (phone === store.account?.phone) throw new PhoneInputError('own');
        await api(`${names.path}/${encodeURIComponent(phone)}`, { method: 'PUT' });
        if (!list.phones.includes(phone)) list.phones.push(phone);
        toast(t(`privacy.${kind}_added`, { name: store.nameOf(phone) }));
        input.value = '';
        drawList(kind);
        boxes[kind].querySelector('input')?.focus();
      } catch (err) {
        error.textContent = err instanceof PhoneInputError
          ? t(err.message === 'own' ? 'privacy.own_number' : 'privacy.invalid_phone') : errorText(err);
        error.hidden = false;
        add.disabled = false;
        input.focus();
      }
    });
    const rows = list.phones.map((phone) => {
      const name = store.nameOf(phone);
      const remove = h('button', { type: 'button', 'data-test': names.remove,
        'aria-label': t(`privacy.${kind}_remove_label`, { name }) }, t(`privacy.${kind}_remove`));
      remove.addEventListener('click', async () => {
        remove.disabled = true;
        try {
          await api(`${names.path}/${encodeURIComponent(phone)}`, { method: 'DELETE' });
          list.phones = list.phones.filter((p) => p !== phone);
          toast(t(`privacy.${kind}_removed`, { name }));
          drawList(kind);
        } catch (err) {
          remove.disabled = false;
          toast(errorText(err), 'error');
        }
      });
      return h('li', { 'data-test': names.row, 'data-phone': phone },
        avatar(name),
        h('span', { class: 'settings-grow' },
          h('span', { class: 'settings-name' }, name),
          store.contacts.get(phone)?.name ? phoneEl(phone, { class: 'muted settings-phone' }) : null),
        remove);
    });
    const groupCount = list.groups.length;
    fill(box,
      kind === 'allow' ? h('p', { class: 'settings-note', 'data-test': 'allowlist-state' },
        state.settings?.visibility === 'allowlist' ? t('privacy.allowlist_active') : t('privacy.allowlist_inactive')) : null,
      form, error,
      rows.length ? h('ul', { class: 'list settings-rows', 'aria-live': 'polite' }, rows)
        : h('p', { class: 'muted', 'aria-live': 'polite' }, t(`privacy.${kind}_empty`)),
      groupCount ? h('p', { class: 'muted' }, t(`privacy.${kind}_groups`, { count: groupCount })) : null);
    input.value = typed;
    if (focused) input.focus();
  }

  function drawContactNumbers() {
    // Suggestions for the number fields: at most a few hundred, the browser filters them.
    const contacts = [...store.contacts.values()].slice(0, 500);
    fill(contactsList, contacts.map((c) => h('option', { value: c.phone, label: c.name || c.phone })));
  }

  drawContactNumbers();
  const offContacts = store.on('contacts', () => {
    drawContactNumbers();
    drawList('block');
    drawList('allow');
    groups.draw();
  });
  await load();
  return () => { offContacts(); groups.dispose(); vault.dispose(); };
}
