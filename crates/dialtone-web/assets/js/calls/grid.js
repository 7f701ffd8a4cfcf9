// The conference screen (a group call), laid over the app like the call screen: while it
// rings, the group, who calls and "join"; once in, a grid with one tile per member (their
// video or their initials, their name, muted or not, a ring around whoever speaks, from
// `call_speaking`), my own tile, and mute, camera and leave. The tiles are the live member
// list: they follow `call_members`.
import { h, clear } from '../dom.js';
import { t, counted } from '../i18n.js';
import { store } from '../store.js';
import { me } from '../chat-state.js';
import * as chat from '../chat-state.js';
import { titleOf } from '../chat/format.js';
import { avatar } from '../avatar.js';
import { calls } from './call.js';
import { callDuration } from './records.js';

function iconButton(test, icon, label, onclick, cls = '') {
  return h('button', { type: 'button', class: `call-button ${cls}`.trim(), 'data-test': test, 'aria-label': label, title: label, onclick },
    h('span', { class: 'call-circle', 'aria-hidden': 'true' }, h('span', { class: `ci ${icon}` })),
    h('span', { class: 'call-button-text' }, label));
}

/** Sets a toggle button's pressed state and its words. */
function toggle(button, pressed, label) {
  button.setAttribute('aria-pressed', String(pressed));
  button.setAttribute('aria-label', label);
  button.title = label;
  button.querySelector('.call-button-text').textContent = label;
}

/** One member's tile: {el, update(member, stream, speaking)}. `local` for my own. */
function tile(key, { local = false } = {}) {
  const video = h('video', { class: 'tile-video', 'data-test': 'tile-video', autoplay: true, playsinline: true, hidden: true });
  video.muted = true; // the sound plays from the audio element (mine not at all)
  const sound = local ? null : h('audio', { 'data-test': 'tile-audio', autoplay: true });
  const face = h('span', { class: 'tile-face' });
  const name = h('span', { class: 'tile-name', dir: 'auto' });
  const muted = h('span', { class: 'tile-muted', 'data-test': 'tile-muted', hidden: true },
    h('span', { class: 'ci ci-mic-off', 'aria-hidden': 'true' }), h('span', { class: 'visually-hidden' }, t('calls.muted')));
  const el = h('li', { class: 'conference-tile', 'data-test': 'conference-tile', 'data-key': key },
    face, video, sound, h('span', { class: 'tile-label' }, name, muted));
  let shownName = null;
  return {
    el,
    update({ phone, label, audio, video: camera, stream, speaking }) {
      if (label !== shownName) {
        shownName = label;
        name.textContent = label;
        clear(face);
        face.append(avatar(label, { cls: 'tile-avatar' }));
        video.setAttribute('aria-label', local ? t('calls.local_video') : t('calls.remote_video', { name: label }));
      }
      el.dataset.phone = phone ?? '';
      el.dataset.me = String(local);
      el.dataset.stream = local ? '' : key;
      el.dataset.audio = String(audio);
      el.dataset.video = String(camera);
      el.dataset.speaking = String(speaking);
      muted.hidden = audio;
      if (video.srcObject !== (stream ?? null)) video.srcObject = stream ?? null;
      if (sound && sound.srcObject !== (stream ?? null)) sound.srcObject = stream ?? null;
      const showVideo = camera && Boolean(stream?.getVideoTracks().length);
      video.hidden = !showVideo;
      face.hidden = showVideo;
    },
    destroy() {
      video.srcObject = null;
      if (sound) sound.srcObject = null;
    },
  };
}

/** The conference screen for `call` (calls.current with `group`): {call, el, update, destroy}. */
export function buildConference(call) {
  const groupName = () => titleOf(chat.conversations.get(call.conversationId)) || t('chat.group_untitled');
  const title = h('h2', { class: 'call-name', 'data-test': 'conference-title', dir: 'auto' });
  const status = h('p', { class: 'call-status', 'data-test': 'call-status', 'aria-live': 'polite' });
  const count = h('p', { class: 'call-number', 'data-test': 'conference-count' });
  const info = h('div', { class: 'call-info conference-info' }, title, status, count);
  const grid = h('ul', { class: 'conference-grid', 'data-test': 'conference-grid' });
  const error = h('p', { class: 'call-error', 'data-test': 'call-error', role: 'alert', hidden: true });
  const controls = h('div', { class: 'call-controls' });
  const el = h('section', { class: 'call-screen conference-screen', role: 'dialog', 'data-test': 'call-screen', 'data-group': 'true' },
    info, grid, error, controls);

  const tiles = new Map(); // key → tile
  const buttons = {};
  let phase = null;
  let clock = null;
  let focused = false;

  function drawControls() {
    clear(controls);
    if (phase === 'incoming') {
      buttons.decline = iconButton('call-decline', 'ci-hangup', t('calls.not_now'), () => calls.decline(), 'call-end');
      buttons.accept = iconButton('call-accept', 'ci-phone', t('calls.join_voice'), () => calls.accept(false), 'call-go');
      buttons.acceptVideo = iconButton('call-accept-video', 'ci-video', t('calls.join_video'), () => calls.accept(true), 'call-go');
      controls.append(buttons.decline, buttons.accept, buttons.acceptVideo);
    } else {
      buttons.mute = iconButton('call-mute', 'ci-mic', t('calls.mute'), () => calls.setMuted(!calls.current?.muted));
      buttons.camera = iconButton('call-camera', 'ci-video', t('calls.camera_on'), () => calls.setCamera(!calls.current?.camera));
      controls.append(buttons.mute, buttons.camera,
        iconButton('call-hangup', 'ci-hangup', t('calls.leave'), () => calls.hangup(), 'call-end'));
    }
    focused = false;
  }

  function tick() {
    if (calls.current !== call) return;
    status.textContent = call.state === 'connected' ? callDuration(Date.now() - call.answeredAt)
      : call.state === 'starting' ? t('calls.calling') : t('calls.connecting');
  }

  function drawTiles() {
    const mine = me();
    const speaking = new Set(call.levels.filter((l) => l.level < 127).map((l) => l.phone));
    const wanted = [];
    wanted.push(['me', { local: true }, { phone: mine, label: t('calls.you'), audio: !call.muted, video: call.camera,
      stream: call.local, speaking: speaking.has(mine) }]);
    for (const m of call.members) {
      if (m.phone === mine || !m.stream) continue;
      wanted.push([m.stream, {}, { phone: m.phone, label: store.nameOf(m.phone), audio: m.audio, video: m.video,
        stream: call.streams.get(m.stream) ?? null, speaking: speaking.has(m.phone) }]);
    }
    const keys = new Set(wanted.map(([key]) => key));
    for (const [key, view] of tiles) if (!keys.has(key)) { view.destroy(); view.el.remove(); tiles.delete(key); }
    for (const [key, options, state] of wanted) {
      let view = tiles.get(key);
      if (!view) { view = tile(key, options); tiles.set(key, view); }
      view.update(state);
      grid.append(view.el); // in the members' order
    }
    grid.dataset.size = String(tiles.size);
    const present = Math.max(call.members.length, 1);
    count.textContent = counted('calls.in_call_count', present);
  }

  function update() {
    const next = !call.outgoing && (call.state === 'ringing' || call.state === 'accepting') ? 'incoming' : 'live';
    if (next !== phase) { phase = next; drawControls(); }
    el.dataset.state = call.state;
    el.dataset.media = call.media;
    el.dataset.phase = phase;
    const name = groupName();
    title.textContent = name;
    el.setAttribute('aria-label', t('calls.group_call_screen', { name }));
    if (phase === 'incoming') {
      status.textContent = call.state === 'accepting' ? t('calls.accepting')
        : t(call.media === 'video' ? 'calls.incoming_group_video' : 'calls.incoming_group_voice', { name: store.nameOf(call.peer ?? '') });
      for (const b of [buttons.accept, buttons.acceptVideo]) b.disabled = call.state === 'accepting';
      grid.hidden = true;
      count.hidden = true;
    } else {
      grid.hidden = false;
      count.hidden = false;
      tick();
      clock ??= setInterval(tick, 1000);
      toggle(buttons.mute, call.muted, call.muted ? t('calls.unmute') : t('calls.mute'));
      toggle(buttons.camera, call.camera, call.camera ? t('calls.camera_off') : t('calls.camera_on'));
      drawTiles();
    }
    error.hidden = !call.error;
    error.textContent = call.error?.text ?? '';
    if (!focused) { focused = true; controls.querySelector('button:not(:disabled)')?.focus(); }
  }

  const offContacts = store.on('contacts', () => update());
  return {
    call,
    el,
    update,
    destroy() {
      offContacts();
      clearInterval(clock);
      for (const view of tiles.values()) view.destroy();
      el.remove();
    },
  };
}
