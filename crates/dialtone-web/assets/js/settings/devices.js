// The Devices screen: where this account is logged in, and logging any of them out.
import { h, toast } from '../dom.js';
import { t, ago, fullTime } from '../i18n.js';
import { api } from '../api.js';
import { logout } from '../app.js';
import { errorText } from '../views/auth.js';
import { settingsPage, section, failure, loading, fill, confirmDialog } from './ui.js';

export async function devices(main) {
  const { el, body } = settingsPage(t('devices.title'), { back: '#/me', test: 'devices' });
  const box = h('div', { 'aria-live': 'polite' });
  main.append(el);
  body.append(section(t('devices.list'), { hint: t('devices.hint') }, box));
  let timer = null;

  async function load() {
    fill(box, loading());
    let list;
    try {
      ({ devices: list } = await api('/v1/devices'));
    } catch (e) {
      fill(box, failure(errorText(e), load));
      return;
    }
    // This device first, then the most recently active.
    list.sort((a, b) => (b.current - a.current) || (new Date(b.last_seen_at) - new Date(a.last_seen_at)));
    fill(box, h('ul', { class: 'list settings-rows settings-devices' }, list.map(row)));
    // "5 minutes ago" goes stale; redraw the times now and then.
    clearTimeout(timer);
    timer = setTimeout(load, 60000);
  }

  function row(device) {
    const name = device.name || t('devices.unnamed');
    const revoke = h('button', { type: 'button', class: 'danger', 'data-test': 'revoke',
      'aria-label': device.current ? t('devices.logout_here') : t('devices.revoke_label', { name }) },
    device.current ? t('devices.logout_here') : t('devices.revoke'));
    revoke.addEventListener('click', async () => {
      const question = device.current ? t('devices.revoke_current_confirm') : t('devices.revoke_confirm', { name });
      if (!await confirmDialog(question, device.current ? t('devices.logout_here') : t('devices.revoke'))) return;
      if (device.current) return logout();
      revoke.disabled = true;
      try {
        await api(`/v1/devices/${encodeURIComponent(device.id)}`, { method: 'DELETE' });
        toast(t('devices.revoked', { name }));
      } catch (e) {
        if (e.code !== 'device_not_found') toast(errorText(e), 'error');
      }
      load();
    });
    return h('li', { 'data-test': 'device', 'data-id': device.id, 'data-current': device.current ? 'true' : null },
      h('span', { class: `settings-device-icon${device.current ? ' current' : ''}`, 'aria-hidden': 'true' }),
      h('div', { class: 'settings-grow' },
        h('span', { class: 'settings-name' }, name,
          device.current ? h('span', { class: 'settings-tag', 'data-test': 'this-device' }, t('devices.this_device')) : null),
        h('span', { class: 'muted settings-meta' },
          h('span', { title: fullTime(device.last_seen_at) },
            device.current ? t('devices.active_now') : t('devices.last_seen', { when: ago(device.last_seen_at) })),
          ' · ',
          h('span', { title: fullTime(device.created_at) }, t('devices.created', { when: fullTime(device.created_at) })))),
      revoke);
  }

  await load();
  return () => clearTimeout(timer);
}
