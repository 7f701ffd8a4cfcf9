// The Me screen: who I am (number, name), how others see me (presence and status text),
// links to privacy, devices and password, registration lock, language, log out.
import { h, field, toast } from '../dom.js';
import { t, config, lang, setLanguage } from '../i18n.js';
import { api } from '../api.js';
import { store } from '../store.js';
import { logout } from '../app.js';
import { errorText } from '../views/auth.js';
import { settingsPage, section, switchInput, fill } from './ui.js';
import { avatar } from '../avatar.js';
import { phoneText } from '../phones.js';
import { STATES, savedPresence, setMyPresence, restorePresence } from './presence.js';
import { notificationsSection } from './notifications.js';

export async function me(main) {
  restorePresence();
  const { el, body } = settingsPage(t('settings.title'), { test: 'me' });
  main.append(el);
  const card = h('div', { class: 'settings-profile', 'data-test': 'profile' });
  const lock = h('div', { class: 'settings-lock' });
  const passwordLink = h('span');
  const profile = profileSection();
  let shownName = profile.input.value;
  body.append(card, profile.el, presenceSection(), notificationsSection(),
    section(t('settings.section_account'), {},
      h('ul', { class: 'list settings-links' },
        link('#/profile-edit', 'go-profile-edit', t('settings.moments_profile_link'), t('settings.moments_profile_link_hint')),
        link('#/privacy', 'go-privacy', t('settings.privacy_link'), t('settings.privacy_link_hint')),
        link('#/devices', 'go-devices', t('settings.devices_link'), t('settings.devices_link_hint')),
        h('li', {}, passwordLink)),
      lock),
    section(t('app.language'), {}, languageSelect()),
    h('div', { class: 'settings-logout' },
      // No confirmation: logging out loses nothing, the account and its chats stay.
      h('button', { type: 'button', class: 'danger', 'data-test': 'logout', onclick: () => logout() }, t('settings.logout'))));

  function drawAccount() {
    const account = store.account;
    const mine = savedPresence() ?? { state: 'available', text: '' };
    const name = account?.display_name || '';
    // The account may arrive or change after the screen was drawn; show the new name
    // unless someone is typing one.
    if (name !== shownName && document.activeElement !== profile.input) profile.input.value = name;
    shownName = name;
    fill(card,
      avatar(name || phoneText(account?.phone), { cls: 'settings-avatar', presence: mine.state === 'invisible' ? 'offline' : mine.state }),
      h('div', { class: 'settings-profile-text' },
        h('p', { class: 'settings-profile-name', 'data-test': 'my-name' }, name || t('settings.no_name')),
        h('p', { class: 'muted' }, h('span', { class: 'settings-sr-only' }, t('settings.my_number'), ' '),
          h('bdi', { 'data-test': 'my-phone', dir: 'ltr' }, phoneText(account?.phone))),
        h('p', { class: 'muted', 'data-test': 'my-status', 'aria-live': 'polite' },
          t(`presence.${mine.state}`), mine.text ? ` · ${mine.text}` : '')));
    fill(passwordLink, h('a', { href: '#/password', 'data-test': 'go-password', class: 'settings-link' },
      h('span', {}, account?.password_set ? t('settings.password_change') : t('settings.password_set')),
      h('small', { class: 'muted' }, t('settings.password_hint'))));
    drawLock(account);
  }

  function drawLock(account) {
    const allowed = Boolean(account?.password_set);
    const hintId = 'registration-lock-hint';
    const toggle = switchInput(t('settings.registration_lock'), {
      checked: Boolean(account?.registration_lock), disabled: !allowed, test: 'registration-lock', describedBy: hintId,
      onchange: async (e) => {
        const wanted = e.target.checked;
        e.target.disabled = true;
        try {
          await api('/v1/account', { method: 'PATCH', body: { registration_lock: wanted } });
          await store.loadAccount();
          toast(wanted ? t('settings.registration_lock_on') : t('settings.registration_lock_off'));
        } catch (err) {
          e.target.checked = !wanted;
          e.target.disabled = false;
          toast(err.code === 'password_required' ? t('settings.registration_lock_needs_password') : errorText(err), 'error');
        }
      },
    });
    fill(lock, toggle.el,
      h('p', { id: hintId, class: 'settings-hint', 'data-test': 'registration-lock-hint' },
        allowed ? t('settings.registration_lock_hint') : t('settings.registration_lock_needs_password'),
        allowed ? null : [' ', h('a', { href: '#/password' }, t('settings.password_set'))]));
  }

  drawAccount();
  const off = [store.on('account', drawAccount), store.on('my-presence', drawAccount)];
  return () => off.forEach((fn) => fn());
}

function link(href, test, label, hint) {
  return h('li', {}, h('a', { href, 'data-test': test, class: 'settings-link' },
    h('span', {}, label), h('small', { class: 'muted' }, hint)));
}

function profileSection() {
  const input = h('input', { type: 'text', 'data-test': 'display-name', maxlength: 64, autocomplete: 'name',
    value: store.account?.display_name || '' });
  const save = h('button', { type: 'submit', class: 'primary', 'data-test': 'save-name' }, t('settings.save_name'));
  const form = h('form', { class: 'stack' }, field(t('settings.display_name'), input, t('settings.display_name_hint')),
    h('div', { class: 'row' }, save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save.disabled = true;
    try {
      await api('/v1/account', { method: 'PATCH', body: { display_name: input.value.trim() } });
      await store.loadAccount();
      toast(t('settings.name_saved'));
    } catch (err) {
      toast(err.code === 'invalid_input' ? t('settings.name_too_long') : errorText(err), 'error');
    } finally {
      save.disabled = false;
    }
  });
  return { el: section(t('settings.profile'), {}, form), input };
}

function presenceSection() {
  const mine = savedPresence() ?? { state: 'available', text: '' };
  const hint = h('small', { class: 'field-hint', 'data-test': 'presence-hint', 'aria-live': 'polite' });
  const select = h('select', { 'data-test': 'presence-state', onchange: () => showHint() },
    STATES.map((s) => h('option', { value: s, selected: s === mine.state }, t(`presence.${s}`))));
  const text = h('input', { type: 'text', 'data-test': 'status-text', maxlength: 140, value: mine.text,
    placeholder: t('settings.status_text_placeholder') });
  const save = h('button', { type: 'submit', class: 'primary', 'data-test': 'save-presence' }, t('settings.save_presence'));
  const showHint = () => { hint.textContent = t(`settings.presence_hint_${select.value}`); };
  showHint();
  const form = h('form', { class: 'stack' },
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('settings.presence_state')), select, hint),
    field(t('settings.status_text'), text, t('settings.status_text_hint')),
    h('div', { class: 'row' }, save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save.disabled = true;
    try {
      await setMyPresence(select.value, text.value);
      toast(t('settings.presence_saved'));
    } catch (err) {
      toast(err.code === 'invalid_input' ? t('settings.status_too_long') : errorText(err), 'error');
    } finally {
      save.disabled = false;
    }
  });
  return section(t('settings.status'), {}, form);
}

function languageSelect() {
  return h('select', { 'data-test': 'language', 'aria-label': t('app.language'),
    onchange: (e) => setLanguage(e.target.value) },
  config.languages.map((l) => h('option', { value: l.tag, selected: l.tag === lang, lang: l.tag }, l.name)));
}
