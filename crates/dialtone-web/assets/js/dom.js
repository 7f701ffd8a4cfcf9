// Building DOM without innerHTML: user data only ever becomes text nodes.

/**
 * h('button', {class: 'primary', onclick: fn, 'data-test': 'send'}, 'text', child, [more])
 * Attributes named on* with a function become listeners; `false`/`null` attributes are
 * left out; children may be strings, nodes, arrays or null.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name === 'value' && 'value' in el) {
      el.value = value;
    } else if (name === 'checked' || name === 'selected' || name === 'disabled' || name === 'hidden') {
      el[name] = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let toastTimer = null;
/** A short message at the bottom of the screen, read out by screen readers. */
export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  clear(box);
  box.append(h('div', { class: `toast toast-${kind}`, 'data-test': 'toast' }, text));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => clear(box), 5000);
}

/** A labelled form field: <label><span>label</span>input<small>hint</small></label>. */
export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), input,
    hint ? h('small', { class: 'field-hint' }, hint) : null);
}
