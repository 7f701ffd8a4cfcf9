// "Add contact": a name and a number (with its country), merged into the address book.
import { h, field, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { store } from '../store.js';
import { phoneInput, errorText } from '../views/auth.js';
import { rejectReason } from './reasons.js';

/** The form; `onAdded(phones)` after a successful merge. */
export function addForm({ onAdded } = {}) {
  const name = h('input', { type: 'text', 'data-test': 'add-name', autocomplete: 'off', maxlength: 256,
    enterkeyhint: 'next' });
  const number = phoneInput();
  number.phone.dataset.test = 'add-phone';
  number.phone.setAttribute('autocomplete', 'off');
  number.region.dataset.test = 'add-region';
  number.region.setAttribute('autocomplete', 'off');
  const error = h('div', { class: 'form-error', role: 'alert', 'data-test': 'add-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'add-submit' }, t('contacts.add_submit'));
  const form = h('form', { class: 'add-contact stack', novalidate: true, 'aria-labelledby': 'add-contact-title' },
    h('h2', { id: 'add-contact-title' }, t('contacts.add_title')),
    h('div', { class: 'add-fields' }, field(t('contacts.add_name'), name), number.el),
    error,
    h('div', { class: 'row' }, submit));

  const showError = (...lines) => {
    error.replaceChildren(...lines.map((line) => h('p', {}, line)));
    error.hidden = lines.length === 0;
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const { phone, region } = number.value();
    if (!phone) {
      showError(t('contacts.error_no_phone'));
      number.phone.focus();
      return;
    }
    showError();
    submit.disabled = true;
    try {
      const result = await api('/v1/contacts', { method: 'POST',
        body: { contacts: [{ name: name.value.trim(), phones: [phone] }], region } });
      if (result.rejected?.length) {
        showError(...result.rejected.map((r) => t('contacts.rejected_entry',
          { input: r.input, reason: rejectReason(r.reason) })));
        number.phone.focus();
        return;
      }
      toast(t('contacts.added', { name: name.value.trim() || phone }));
      name.value = '';
      number.phone.value = '';
      await store.loadContacts().catch(() => {});
      onAdded?.(result);
      name.focus();
    } catch (err) {
      showError(errorText(err));
    } finally {
      submit.disabled = false;
    }
  });

  return { el: form, focus: () => name.focus() };
}
