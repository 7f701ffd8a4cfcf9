// Welcome, registration and "forgot password" by SMS code (with WebOTP), login with a
// password, and setting a password.
import { h, field, clear, toast } from '../dom.js';
import { t, config, lang, setLanguage, regionOptions } from '../i18n.js';
import { api, deviceName } from '../api.js';
import { go, loggedIn } from '../app.js';
import { store } from '../store.js';
import { learnPhones, phoneText } from '../phones.js';

/** The message for a failed call, in the reader's language. */
export function errorText(e) {
  if (e?.code === 'rate_limited' || e?.status === 429) {
    return t('app.retry_after', { seconds: e.retryAfter ?? 60 });
  }
  const known = {
    network: 'app.error_network',
    invalid_phone: 'auth.error_invalid_phone',
    invalid_region: 'auth.error_invalid_phone',
    phone_cannot_receive_sms: 'auth.error_no_sms',
    invalid_code: 'auth.error_invalid_code',
    verification_expired: 'auth.error_expired',
    verification_not_found: 'auth.error_expired',
    invalid_credentials: 'auth.error_credentials',
    wrong_password: 'auth.error_wrong_password',
    weak_password: 'auth.error_weak_password',
    registration_locked: 'auth.error_locked',
    sms_unavailable: 'auth.error_sms_unavailable',
  };
  return t(known[e?.code] ?? 'app.error_generic');
}

function languageSwitch() {
  const select = h('select', { 'data-test': 'language', 'aria-label': t('app.language'),
    onchange: (e) => setLanguage(e.target.value) },
  config.languages.map((l) => h('option', { value: l.tag, selected: l.tag === lang, lang: l.tag }, l.name)));
  return h('div', { class: 'language-switch' }, select);
}

/** Country picker + number field; `.value()` gives {phone, region}. */
export function phoneInput(initialRegion = store.account?.region || config.region) {
  const region = h('select', { 'data-test': 'region', autocomplete: 'tel-country-code' },
    regionOptions().map((r) => h('option', { value: r.code, selected: r.code === initialRegion },
      `${r.name} +${r.calling}`)));
  const phone = h('input', { type: 'tel', 'data-test': 'phone', autocomplete: 'tel-national', inputmode: 'tel',
    required: true, maxlength: 40, placeholder: t('auth.phone_placeholder') });
  const el = h('div', { class: 'phone-input' },
    field(t('auth.country'), region), field(t('auth.phone'), phone));
  return { el, phone, region, value: () => ({ phone: phone.value.trim(), region: region.value }) };
}

function card(title, ...content) {
  return h('section', { class: 'auth-card' },
    h('div', { class: 'brand' }, h('img', { src: '/assets/icons/icon.svg', alt: '', width: 48, height: 48 }),
      h('span', { class: 'brand-name' }, t('app.name'))),
    h('h1', {}, title), ...content);
}

function errorBox() {
  return h('p', { class: 'form-error', role: 'alert', 'data-test': 'form-error', hidden: true });
}

function showError(box, text) {
  box.textContent = text;
  box.hidden = !text;
}

export function welcome(main) {
  main.append(card(t('auth.welcome_title'),
    h('p', { class: 'lead' }, t('app.description')),
    h('div', { class: 'stack' },
      h('a', { class: 'button primary', href: '#/register', 'data-test': 'go-register' }, t('auth.start_with_number')),
      h('a', { class: 'button', href: '#/login', 'data-test': 'go-login' }, t('auth.login_with_password'))),
    languageSwitch()));
}

export function register(main, ctx) { return codeFlow(main, ctx, 'register'); }
export function forgot(main, ctx) { return codeFlow(main, ctx, 'forgot'); }

/** Number → SMS code (typed, or read by the browser with WebOTP) → logged in. */
function codeFlow(main, ctx, mode) {
  let otpAbort = null;
  let resendTimer = null;
  const stopOtp = () => { otpAbort?.abort(); otpAbort = null; };

  function askNumber(message = '') {
    stopOtp();
    clearInterval(resendTimer);
    clear(main);
    const number = phoneInput();
    const error = errorBox();
    const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'send-code' }, t('auth.send_code'));
    const form = h('form', { class: 'stack', novalidate: true }, number.el, error, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const { phone, region } = number.value();
      if (!phone) return showError(error, t('auth.error_invalid_phone'));
      submit.disabled = true;
      try {
        const verification = await api('/v1/verifications', { method: 'POST', body: { phone, region } });
        // The screen says where the code went, written as people write numbers.
        await learnPhones([verification.phone]);
        askCode(verification);
      } catch (err) {
        showError(error, errorText(err));
        submit.disabled = false;
      }
    });
    main.append(card(mode === 'forgot' ? t('auth.forgot_title') : t('auth.register_title'),
      h('p', { class: 'lead' }, mode === 'forgot' ? t('auth.forgot_lead') : t('auth.register_lead')),
      form,
      message ? h('p', { class: 'form-error', role: 'alert' }, message) : null,
      h('p', { class: 'alt' }, h('a', { href: '#/welcome' }, t('app.back')))));
    number.phone.focus();
  }

  function askCode(verification, needPassword = false) {
    clear(main);
    const code = h('input', { type: 'text', 'data-test': 'code', autocomplete: 'one-time-code', inputmode: 'numeric',
      pattern: '[0-9]*', maxlength: 8, required: true });
    const password = h('input', { type: 'password', 'data-test': 'lock-password', autocomplete: 'current-password' });
    const error = errorBox();
    const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'verify' }, t('auth.verify'));
    const resend = h('button', { type: 'button', class: 'link', 'data-test': 'resend' });
    const form = h('form', { class: 'stack', novalidate: true },
      field(t('auth.code'), code, t('auth.code_hint')),
      needPassword ? field(t('auth.lock_password'), password, t('auth.error_locked')) : null,
      error, submit, resend);

    const countdown = (until) => {
      clearInterval(resendTimer);
      const tick = () => {
        const left = Math.ceil((new Date(until).getTime() - Date.now()) / 1000);
        resend.disabled = left > 0;
        resend.textContent = left > 0 ? t('auth.resend_in', { seconds: left }) : t('auth.resend');
        if (left <= 0) clearInterval(resendTimer);
      };
      tick();
      resendTimer = setInterval(tick, 1000);
    };
    countdown(verification.resend_after);
    resend.addEventListener('click', async () => {
      try {
        const again = await api(`/v1/verifications/${encodeURIComponent(verification.id)}/resend`, { method: 'POST' });
        countdown(again.resend_after);
        toast(t('auth.code_sent'));
      } catch (err) {
        showError(error, errorText(err));
      }
    });

    let busy = false;
    const verify = async () => {
      if (busy) return;
      const value = code.value.replace(/\D/g, '');
      if (!value) return showError(error, t('auth.error_invalid_code'));
      busy = true;
      submit.disabled = true;
      stopOtp();
      const body = { code: value, device_name: deviceName() };
      if (needPassword && password.value) body.password = password.value;
      try {
        const result = await api(`/v1/verifications/${encodeURIComponent(verification.id)}/code`, { method: 'POST', body });
        clearInterval(resendTimer);
        await loggedIn(result);
        if (mode === 'forgot') go('#/password?reset=1');
        else if (result.new_account || !result.password_set) go('#/password?new=1');
        else go('#/chats');
      } catch (err) {
        busy = false;
        submit.disabled = false;
        if (err.code === 'registration_locked' && !needPassword) return askCode(verification, true);
        if (err.code === 'verification_expired' || err.code === 'verification_not_found') return askNumber(errorText(err));
        showError(error, errorText(err));
        code.select();
      }
    };
    form.addEventListener('submit', (e) => { e.preventDefault(); verify(); });

    main.append(card(t('auth.code_title'),
      h('p', { class: 'lead', 'data-test': 'code-sent-to' }, t('auth.code_sent_to', { phone: phoneText(verification.phone) })),
      form,
      h('p', { class: 'alt' }, h('button', { type: 'button', class: 'link', 'data-test': 'change-number',
        onclick: () => askNumber() }, t('auth.change_number')))));
    code.focus();

    // WebOTP: where the browser can read the SMS (Chrome on Android), the code fills
    // itself and is submitted; elsewhere `autocomplete="one-time-code"` offers it.
    if (!needPassword && 'OTPCredential' in window && navigator.credentials?.get) {
      otpAbort = new AbortController();
      navigator.credentials.get({ otp: { transport: ['sms'] }, signal: otpAbort.signal })
        .then((otp) => {
          if (!otp?.code || !main.isConnected) return;
          code.value = otp.code;
          verify();
        })
        .catch(() => { /* dismissed, aborted or unsupported: the field still works */ });
    }
  }

  askNumber();
  return () => { stopOtp(); clearInterval(resendTimer); };
}

export function login(main) {
  const number = phoneInput();
  const password = h('input', { type: 'password', 'data-test': 'password', autocomplete: 'current-password', required: true });
  const error = errorBox();
  const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'login' }, t('auth.login'));
  const form = h('form', { class: 'stack', novalidate: true }, number.el, field(t('auth.password'), password), error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const result = await api('/v1/sessions', { method: 'POST',
        body: { ...number.value(), password: password.value, device_name: deviceName() } });
      await loggedIn(result);
      go('#/chats');
    } catch (err) {
      showError(error, errorText(err));
      submit.disabled = false;
    }
  });
  main.append(card(t('auth.login_title'), form,
    h('p', { class: 'alt' }, h('a', { href: '#/forgot', 'data-test': 'go-forgot' }, t('auth.forgot_link'))),
    h('p', { class: 'alt' }, h('a', { href: '#/register' }, t('auth.start_with_number'))),
    languageSwitch()));
  number.phone.focus();
}

/** Setting a password after registering, a new one after a code login ("forgot"), or a change. */
export function password(main, ctx) {
  const fresh = ctx.query.has('new');
  const reset = ctx.query.has('reset');
  const needCurrent = Boolean(store.account?.password_set) && !reset && !fresh;
  const current = h('input', { type: 'password', 'data-test': 'current-password', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', 'data-test': 'new-password', autocomplete: 'new-password', minlength: 8, required: true });
  const again = h('input', { type: 'password', 'data-test': 'confirm-password', autocomplete: 'new-password', required: true });
  const error = errorBox();
  const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'save-password' }, t('auth.save_password'));
  const form = h('form', { class: 'stack', novalidate: true },
    needCurrent ? field(t('auth.current_password'), current) : null,
    field(t('auth.new_password'), next, t('auth.password_hint')),
    field(t('auth.confirm_password'), again), error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (next.value !== again.value) return showError(error, t('auth.error_mismatch'));
    submit.disabled = true;
    const body = { password: next.value };
    if (needCurrent) body.current_password = current.value;
    try {
      await api('/v1/account/password', { method: 'PUT', body });
      await store.loadAccount().catch(() => {});
      toast(t('auth.password_saved'));
      go(fresh || reset ? '#/chats' : '#/me');
    } catch (err) {
      showError(error, errorText(err));
      submit.disabled = false;
    }
  });
  main.append(card(fresh ? t('auth.password_title_new') : t('auth.password_title'),
    fresh ? h('p', { class: 'lead' }, t('auth.password_lead')) : null,
    form,
    fresh ? h('p', { class: 'alt' }, h('a', { href: '#/chats', 'data-test': 'skip-password' }, t('auth.skip'))) : null));
  (needCurrent ? current : next).focus();
}
