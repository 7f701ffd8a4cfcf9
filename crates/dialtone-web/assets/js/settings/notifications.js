// The Notifications section of the Me screen: notifications on this device (Web Push),
// previews, hidden contacts' previews, and quiet hours (docs/api/push.md).
import { h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { errorText } from '../views/auth.js';
import { section, switchInput, fill, failure, loading } from './ui.js';
import { disablePush, enablePush, permission, pushEnabled, utcOffsetMinutes } from '../push.js';

/** The section element; it fills itself once the settings are read. */
export function notificationsSection() {
  const box = h('div', { class: 'settings-notifications' }, loading());
  const el = section(t('push.section'), { test: 'notifications' }, box);
  load();
  return el;

  async function load() {
    let settings;
    let on;
    try {
      [settings, on] = await Promise.all([api('/v1/push/settings'), pushEnabled()]);
    } catch (e) {
      fill(box, failure(errorText(e), load));
      return;
    }
    draw(settings, on);
  }

  async function save(patch) {
    try {
      const settings = await api('/v1/push/settings', { method: 'PATCH', body: patch });
      toast(t('push.saved'));
      return settings;
    } catch (e) {
      toast(errorText(e));
      return null;
    }
  }

  function draw(settings, on) {
    const state = permission();
    const device = switchInput(t('push.this_device'), {
      checked: on, disabled: state === 'unsupported' || state === 'denied', test: 'push-device',
      hint: state === 'unsupported' ? t('push.unsupported') : state === 'denied' ? t('push.blocked_by_browser') : t('push.this_device_hint'),
      onchange: async () => {
        device.input.disabled = true;
        try {
          if (device.input.checked) {
            const enabled = await enablePush();
            device.input.checked = enabled;
            toast(enabled ? t('push.enabled') : t('push.denied'));
          } else {
            await disablePush();
            toast(t('push.disabled'));
          }
        } catch (e) {
          device.input.checked = !device.input.checked;
          toast(errorText(e));
        } finally {
          device.input.disabled = false;
        }
      },
    });
    const previews = switchInput(t('push.previews'), {
      checked: settings.previews, test: 'push-previews', hint: t('push.previews_hint'),
      onchange: async () => { if (!await save({ previews: previews.input.checked })) previews.input.checked = !previews.input.checked; },
    });
    const hidden = switchInput(t('push.hidden_previews'), {
      checked: settings.hidden_previews, test: 'push-hidden-previews', hint: t('push.hidden_previews_hint'),
      onchange: async () => { if (!await save({ hidden_previews: hidden.input.checked })) hidden.input.checked = !hidden.input.checked; },
    });
    const quiet = settings.quiet_hours;
    const from = h('input', { type: 'time', value: quiet?.from ?? '22:00', 'data-test': 'quiet-from', 'aria-label': t('push.quiet_from') });
    const to = h('input', { type: 'time', value: quiet?.to ?? '07:00', 'data-test': 'quiet-to', 'aria-label': t('push.quiet_to') });
    const times = h('div', { class: 'quiet-hours', hidden: !quiet },
      h('label', {}, t('push.quiet_from'), ' ', from), h('label', {}, t('push.quiet_to'), ' ', to));
    const saveQuiet = () => save({
      quiet_hours: quietOn.input.checked ? { from: from.value, to: to.value } : null,
      utc_offset_minutes: utcOffsetMinutes(),
    });
    const quietOn = switchInput(t('push.quiet'), {
      checked: Boolean(quiet), test: 'push-quiet', hint: t('push.quiet_hint'),
      onchange: async () => { times.hidden = !quietOn.input.checked; await saveQuiet(); },
    });
    from.addEventListener('change', saveQuiet);
    to.addEventListener('change', saveQuiet);
    fill(box, device.el, previews.el, hidden.el, quietOn.el, times);
  }
}
