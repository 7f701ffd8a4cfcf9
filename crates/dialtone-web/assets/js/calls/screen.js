// The call screen, over whatever screen the app shows: an incoming call (who calls, with
// accept and decline, while the ringtone plays), an outgoing one (calling, cancel), and the
// call itself (the other side's video, my preview, mute, camera, devices, hang up, the
// clock, and adding people, which moves the call to a new group's conference); a group
// call's screen is grid.js. Why a call ended is said in a toast.
import { h, clear, toast } from '../dom.js';
import { t } from '../i18n.js';
import { store } from '../store.js';
import { phoneEl, phoneText } from '../phones.js';
import { avatar } from '../avatar.js';
import { calls } from './call.js';
import { listDevices } from './media.js';
import { callDuration, endedText } from './records.js';
import { buildConference } from './grid.js';
import { contactPicker } from '../chat/groups.js';
import { me } from '../chat-state.js';

let screen = null; // {call, el, update(), destroy()}
let started = false;

/** Shows calls as they come and go (app.js, once logged in). */
export function startCallScreen() {
  if (started) return;
  started = true;
  calls.on('change', draw);
  calls.on('ended', (ended) => {
    const text = endedText(ended, ended.call.peer ? store.nameOf(ended.call.peer) : '');
    if (text) toast(text, ended.reason === 'media_error' || ended.reason === 'error' ? 'error' : 'info');
  });
}

function draw(call) {
  if (screen && screen.call !== call) { screen.destroy(); screen = null; }
  if (!call) { document.body.classList.remove('in-call'); return; }
  if (!screen) {
    screen = call.group ? buildConference(call) : build(call);
    document.body.append(screen.el);
    document.body.classList.add('in-call');
  }
  screen.update();
}

function phaseOf(call) {
  if (!call.outgoing && (call.state === 'ringing' || call.state === 'accepting')) return 'incoming';
  if (call.state === 'starting' || call.state === 'calling') return 'outgoing';
  return 'live';
}

function iconButton(test, icon, label, onclick, cls = '') {
  return h('button', { type: 'button', class: `call-button ${cls}`.trim(), 'data-test': test, 'aria-label': label, title: label, onclick },
    h('span', { class: 'call-circle', 'aria-hidden': 'true' }, h('span', { class: `ci ${icon}` })),
    h('span', { class: 'call-button-text' }, label));
}

function build(call) {
  let name = store.nameOf(call.peer);
  const remoteVideo = h('video', { class: 'call-remote-video', 'data-test': 'remote-video', autoplay: true, playsinline: true,
    'aria-label': t('calls.remote_video', { name }), hidden: true });
  remoteVideo.muted = true; // the sound plays once, from the audio element
  const remoteAudio = h('audio', { 'data-test': 'remote-audio', autoplay: true });
  const localVideo = h('video', { class: 'call-local-video', 'data-test': 'local-video', autoplay: true, playsinline: true,
    'aria-label': t('calls.local_video'), hidden: true });
  localVideo.muted = true;
  const status = h('p', { class: 'call-status', 'data-test': 'call-status', 'aria-live': 'polite' });
  const error = h('p', { class: 'call-error', 'data-test': 'call-error', role: 'alert', hidden: true });
  const who = h('div', { class: 'call-who' });
  const info = h('div', { class: 'call-info' }, who, status);
  // Who it is: the name in my book (the book may arrive after the ring), and the number.
  function drawWho() {
    name = store.nameOf(call.peer);
    clear(who);
    who.append(avatar(name, { cls: 'call-avatar' }),
      h('h2', { class: 'call-name', 'data-test': 'call-peer-name', dir: 'auto' }, name),
      name !== phoneText(call.peer) ? h('p', { class: 'call-number' }, phoneEl(call.peer, { 'data-test': 'call-peer-phone' })) : null);
    el.setAttribute('aria-label', t('calls.call_screen', { name }));
    remoteVideo.setAttribute('aria-label', t('calls.remote_video', { name }));
  }
  const offContacts = store.on('contacts', drawWho);
  const controls = h('div', { class: 'call-controls' });
  const devices = h('div', { class: 'call-devices', 'data-test': 'call-devices-panel', hidden: true });
  const adding = h('div', { class: 'call-add', 'data-test': 'call-add-panel', hidden: true });
  const el = h('section', { class: 'call-screen', role: 'dialog', 'aria-label': t('calls.call_screen', { name }),
    'data-test': 'call-screen' }, remoteVideo, remoteAudio, info, localVideo, error, devices, adding, controls);
  drawWho();

  let phase = null;
  let clock = null;
  let focused = false;
  const buttons = {};

  function drawControls() {
    clear(controls);
    if (phase === 'incoming') {
      buttons.decline = iconButton('call-decline', 'ci-hangup', t('calls.decline'), () => calls.decline(), 'call-end');
      buttons.accept = iconButton('call-accept', 'ci-phone', call.media === 'video' ? t('calls.accept_voice') : t('calls.accept'),
        () => calls.accept(false), 'call-go');
      controls.append(buttons.decline, buttons.accept);
      if (call.media === 'video') {
        buttons.acceptVideo = iconButton('call-accept-video', 'ci-video', t('calls.accept_video'), () => calls.accept(true), 'call-go');
        controls.append(buttons.acceptVideo);
      }
    } else if (phase === 'outgoing') {
      controls.append(iconButton('call-cancel', 'ci-hangup', t('calls.cancel'), () => calls.hangup(), 'call-end'));
    } else {
      buttons.mute = iconButton('call-mute', 'ci-mic', t('calls.mute'), () => calls.setMuted(!calls.current?.muted));
      buttons.camera = iconButton('call-camera', 'ci-video', t('calls.camera_on'), () => calls.setCamera(!calls.current?.camera));
      buttons.devices = iconButton('call-devices', 'ci-devices', t('calls.devices'), toggleDevices);
      buttons.devices.setAttribute('aria-expanded', 'false');
      buttons.add = iconButton('call-add', 'ci-add-person', t('calls.add_people'), toggleAdding);
      buttons.add.setAttribute('aria-expanded', 'false');
      buttons.add.setAttribute('aria-controls', 'call-add-panel');
      adding.id = 'call-add-panel';
      controls.append(buttons.mute, buttons.camera, buttons.devices, buttons.add,
        iconButton('call-hangup', 'ci-hangup', t('calls.hang_up'), () => calls.hangup(), 'call-end'));
    }
    focused = false;
  }

  let addSubmit = null;
  /** The picker of contacts on dialtone to add to the call (not the two of us). */
  function toggleAdding() {
    const open = adding.hidden;
    adding.hidden = !open;
    buttons.add.setAttribute('aria-expanded', String(open));
    clear(adding);
    if (!open) { buttons.add.focus(); return; }
    const picker = contactPicker('call-add-option', [me(), call.peer]);
    const problem = h('p', { class: 'form-error', role: 'alert', 'data-test': 'call-add-error', hidden: true });
    const heading = h('h3', { id: 'call-add-title' }, t('calls.add_people_title'));
    const form = h('form', { class: 'stack', 'aria-labelledby': 'call-add-title', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const phones = picker.chosen();
      problem.textContent = phones.length ? '' : t('calls.add_pick_someone');
      problem.hidden = Boolean(phones.length);
      if (!phones.length) return;
      if (!calls.addPeople(phones)) { problem.textContent = t('calls.add_failed'); problem.hidden = false; return; }
      submit.disabled = true;
    } });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'call-add-submit' }, t('calls.add_confirm'));
    addSubmit = submit;
    form.append(heading, h('fieldset', { class: 'pick-set' }, h('legend', { class: 'visually-hidden' }, t('calls.add_people')), picker.el),
      problem, h('div', { class: 'row' }, h('button', { type: 'button', 'data-test': 'call-add-cancel', onclick: toggleAdding }, t('app.cancel')), submit));
    adding.append(form);
    form.addEventListener('change', () => { problem.hidden = true; });
    form.querySelector('input')?.focus();
  }

  async function toggleDevices() {
    const open = devices.hidden;
    devices.hidden = !open;
    buttons.devices.setAttribute('aria-expanded', String(open));
    if (!open) return;
    const found = await listDevices();
    clear(devices);
    const current = calls.current;
    const picker = (kind, label, test, list) => {
      const using = kind === 'audio' ? current?.local.getAudioTracks()[0] : current?.local.getVideoTracks()[0];
      const chosen = using?.getSettings?.().deviceId ?? (kind === 'audio' ? current?.micId : current?.cameraId);
      const select = h('select', { 'data-test': test, onchange: () => calls.switchDevice(kind, select.value) },
        list.map((d) => h('option', { value: d.id, selected: d.id === chosen }, d.label)));
      return h('label', { class: 'field call-device' }, h('span', { class: 'field-label' }, label), select);
    };
    devices.append(picker('audio', t('calls.microphone'), 'call-mic-select', found.audio));
    if (found.video.length) devices.append(picker('video', t('calls.camera'), 'call-camera-select', found.video));
  }

  function tick() {
    const current = calls.current;
    if (current !== call) return;
    status.textContent = current.state === 'connected' ? callDuration(Date.now() - current.answeredAt) : t('calls.connecting');
  }

  function update() {
    const next = phaseOf(call);
    if (next !== phase) { phase = next; drawControls(); }
    el.dataset.state = call.state;
    el.dataset.media = call.media;
    el.dataset.phase = phase;
    el.dataset.remoteVideo = call.remoteVideo ? 'true' : 'false';
    if (phase === 'incoming') {
      status.textContent = call.state === 'accepting' ? t('calls.accepting')
        : call.media === 'video' ? t('calls.incoming_video') : t('calls.incoming_voice');
      for (const b of [buttons.accept, buttons.acceptVideo]) if (b) b.disabled = call.state === 'accepting';
    } else if (phase === 'outgoing') {
      status.textContent = t('calls.calling');
    } else {
      tick();
      clock ??= setInterval(tick, 1000);
      buttons.mute.setAttribute('aria-pressed', String(call.muted));
      buttons.mute.setAttribute('aria-label', call.muted ? t('calls.unmute') : t('calls.mute'));
      buttons.mute.title = buttons.mute.getAttribute('aria-label');
      buttons.mute.querySelector('.call-button-text').textContent = buttons.mute.title;
      buttons.camera.setAttribute('aria-pressed', String(call.camera));
      buttons.camera.setAttribute('aria-label', call.camera ? t('calls.camera_off') : t('calls.camera_on'));
      buttons.camera.title = buttons.camera.getAttribute('aria-label');
      buttons.camera.querySelector('.call-button-text').textContent = buttons.camera.title;
      // People are added once the call is taken.
      buttons.add.disabled = !call.answeredAt;
      if (addSubmit) addSubmit.disabled = Boolean(call.adding);
    }
    if (call.remote && remoteAudio.srcObject !== call.remote) {
      remoteAudio.srcObject = call.remote;
      remoteVideo.srcObject = call.remote;
    }
    remoteVideo.hidden = !call.remoteVideo;
    if (localVideo.srcObject !== call.local) localVideo.srcObject = call.local;
    localVideo.hidden = !call.camera;
    error.hidden = !call.error;
    error.textContent = call.error?.text ?? '';
    // The first button takes the focus: a keyboard answers or hangs up at once.
    if (!focused) { focused = true; controls.querySelector('button:not(:disabled)')?.focus(); }
  }

  return {
    call,
    el,
    update,
    destroy() {
      offContacts();
      clearInterval(clock);
      remoteAudio.srcObject = null;
      remoteVideo.srcObject = null;
      localVideo.srcObject = null;
      el.remove();
    },
  };
}
