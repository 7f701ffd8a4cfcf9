// Profiles: the card at the top of a space (cover, avatar, name, signature and the fields
// the owner lets me see), and editing mine (#/profile-edit): the texts, who may see the
// region, gender and birthday, how far back others may look into my space, avatar and cover.
import { h, field, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api, upload, blobUrl } from '../api.js';
import { store } from '../store.js';
import { avatar } from '../avatar.js';
import { phoneEl } from '../phones.js';
import { fill as fillSrc } from '../chat/media.js';
import { settingsPage, section, fill, loading, failure } from '../settings/ui.js';
import { momentError } from './errors.js';
import { who } from './post.js';

const VISIBILITY = ['everyone', 'contacts', 'nobody'];
const WINDOWS = ['all', 'six_months', 'month', 'three_days'];
const picture = (id, thumbnail = true) => blobUrl(`/v1/attachments/${encodeURIComponent(id)}${thumbnail ? '?thumbnail=true' : ''}`)
  .catch(() => blobUrl(`/v1/attachments/${encodeURIComponent(id)}`));

/** The top of a space: cover, avatar, names, signature and details, and `actions`. */
export function profileCard(profile, actions = []) {
  const name = who(profile.phone);
  const face = profile.avatar
    ? h('img', { class: 'profile-avatar', alt: '', 'data-test': 'profile-avatar' })
    : avatar(name, { cls: 'profile-avatar' });
  if (profile.avatar) fillSrc(face, picture(profile.avatar));
  const cover = h('div', { class: 'profile-cover', 'data-test': 'profile-cover' });
  if (profile.cover) {
    const img = h('img', { alt: '' });
    cover.append(img);
    fillSrc(img, picture(profile.cover, false));
  }
  const details = [
    ['region', profile.region], ['gender', profile.gender], ['birthday', profile.birthday],
  ].filter(([, value]) => value);
  return h('section', { class: 'profile-card', 'data-test': 'profile-card', 'aria-labelledby': 'profile-name' },
    cover,
    h('div', { class: 'profile-head' }, face,
      h('div', { class: 'profile-names' },
        h('h1', { id: 'profile-name', 'data-test': 'profile-name' }, name),
        profile.display_name && profile.display_name !== name
          ? h('p', { class: 'muted', 'data-test': 'profile-display-name' }, t('moments.profile_display_name', { name: profile.display_name })) : null,
        phoneEl(profile.phone, { class: 'muted profile-phone' }))),
    profile.signature ? h('p', { class: 'profile-signature', 'data-test': 'profile-signature' }, profile.signature) : null,
    details.length ? h('dl', { class: 'profile-details', 'data-test': 'profile-details' },
      details.map(([key, value]) => [h('dt', {}, t(`moments.profile_${key}`)), h('dd', { 'data-test': `profile-${key}` }, value)])) : null,
    profile.bio ? h('p', { class: 'profile-bio', 'data-test': 'profile-bio' }, profile.bio) : null,
    actions.length ? h('div', { class: 'row profile-actions' }, actions) : null);
}

/** An avatar or cover: a preview, a file picker that uploads at once (with progress), a remove button. */
function imageField(label, test, initial) {
  let id = initial ?? null;
  let pending = Promise.resolve();
  const preview = h('img', { class: 'profile-edit-preview', alt: '', hidden: !id });
  if (id) fillSrc(preview, picture(id));
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'data-test': `${test}-progress`,
    'aria-label': t('moments.upload_progress', { name: label }) });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const input = h('input', { type: 'file', accept: 'image/*', class: 'visually-hidden', 'data-test': `${test}-file` });
  const remove = h('button', { type: 'button', class: 'compact', hidden: !id, 'data-test': `${test}-remove`,
    onclick: () => { id = null; preview.hidden = true; remove.hidden = true; } }, t('moments.remove'));
  input.addEventListener('change', () => {
    const file = input.files[0];
    input.value = '';
    if (!file) return;
    error.hidden = true;
    progress.hidden = false;
    progress.value = 0;
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    pending = upload(`/v1/attachments?filename=${encodeURIComponent(file.name)}`, file,
      { contentType: file.type, onProgress: (f) => { progress.value = f; } })
      .then((attachment) => { id = attachment.id; remove.hidden = false; progress.value = 1; })
      .catch((e) => { error.textContent = momentError(e); error.hidden = false; })
      .finally(() => { progress.hidden = true; });
  });
  const el = h('div', { class: 'field profile-image-field' }, h('span', { class: 'field-label' }, label),
    h('div', { class: 'row' }, preview,
      h('label', { class: 'button compact' }, input, t('moments.choose_picture')), remove),
    progress, error);
  return { el, value: () => id, settled: () => pending };
}

function select(test, options, value, label) {
  return h('select', { 'data-test': test, 'aria-label': label },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

/** #/profile-edit */
export async function profileEdit(main) {
  const { el, body } = settingsPage(t('moments.profile_edit_title'), { back: '#/me', test: 'profile-edit' });
  el.classList.add('moments-page');
  main.append(el);
  fill(body, loading());
  let profile;
  try {
    profile = await api('/v1/profile');
  } catch (e) {
    fill(body, failure(momentError(e), () => { main.replaceChildren(); profileEdit(main); }));
    return;
  }
  const settings = profile.settings ?? {};
  const text = (test, value, max, multi = false) => {
    const input = h(multi ? 'textarea' : 'input', { 'data-test': test, maxlength: max, rows: multi ? 4 : null,
      type: multi ? null : 'text' });
    input.value = value ?? '';
    return input;
  };
  const signature = text('profile-signature-input', profile.signature, 100);
  const bio = text('profile-bio-input', profile.bio, 2000, true);
  const region = text('profile-region-input', profile.region, 64);
  const gender = text('profile-gender-input', profile.gender, 64);
  const birthday = h('input', { type: 'date', 'data-test': 'profile-birthday-input', value: profile.birthday ?? '' });
  const visibility = (key, label) => select(`${key}-visibility`,
    VISIBILITY.map((v) => [v, t(`moments.visibility_${v}`)]), settings[`${key}_visibility`] ?? 'everyone',
    t('moments.visibility_of', { field: label }));
  const regionSeen = visibility('region', t('moments.profile_region'));
  const genderSeen = visibility('gender', t('moments.profile_gender'));
  const birthdaySeen = visibility('birthday', t('moments.profile_birthday'));
  const spaceWindow = select('space-window', WINDOWS.map((w) => [w, t(`moments.window_${w}`)]), settings.space_window ?? 'all',
    t('moments.space_window'));
  const avatarField = imageField(t('moments.avatar'), 'avatar', profile.avatar);
  const coverField = imageField(t('moments.cover'), 'cover', profile.cover);
  const error = h('p', { class: 'form-error', role: 'alert', 'data-test': 'profile-error', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary', 'data-test': 'profile-save' }, t('app.save'));
  const withSeen = (label, input, seen) => h('div', { class: 'profile-field-row' }, field(label, input),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('moments.who_sees')), seen));
  const form = h('form', { class: 'stack', novalidate: true },
    section(t('moments.profile_pictures'), {}, avatarField.el, coverField.el),
    section(t('moments.profile_about'), {},
      h('div', { class: 'stack' },
        field(t('moments.profile_signature'), signature),
        field(t('moments.profile_bio'), bio),
        withSeen(t('moments.profile_region'), region, regionSeen),
        withSeen(t('moments.profile_gender'), gender, genderSeen),
        withSeen(t('moments.profile_birthday'), birthday, birthdaySeen))),
    section(t('moments.space_window'), { hint: t('moments.space_window_hint') }, spaceWindow),
    error,
    h('div', { class: 'row' }, save,
      h('a', { class: 'button', href: `#/space/${encodeURIComponent(profile.phone)}`, 'data-test': 'go-my-space' },
        t('moments.my_space'))));
  fill(body, form);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    save.disabled = true;
    try {
      await Promise.all([avatarField.settled(), coverField.settled()]);
      const value = (input) => input.value.trim() || null;
      const patch = {
        signature: value(signature), bio: bio.value.trim() || null, region: value(region), gender: value(gender),
        birthday: birthday.value || null, avatar: avatarField.value(), cover: coverField.value(),
        region_visibility: regionSeen.value, gender_visibility: genderSeen.value, birthday_visibility: birthdaySeen.value,
        space_window: spaceWindow.value,
      };
      // Only what changed: a field left alone stays as the server has it.
      const before = { ...settings, ...profile };
      const changes = Object.fromEntries(Object.entries(patch).filter(([key, v]) => (before[key] ?? null) !== v));
      if (Object.keys(changes).length) profile = { ...profile, ...(await api('/v1/profile', { method: 'PATCH', body: changes })) };
      Object.assign(settings, profile.settings ?? {});
      toast(t('moments.profile_saved'));
      if (store.account) store.emit('account', store.account);
    } catch (err) {
      error.textContent = momentError(err);
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  });
}
