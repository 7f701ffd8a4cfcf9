// The call this device is in (at most one): its state from the first frame to the last,
// driven by the live connection's frames (docs/api/calls.md) and by what the person does.
// Screens listen to `calls.on('change')` and `calls.on('ended')`; they never touch frames.
//
// States: 'starting' (asking for the microphone, then sending call_start), 'calling' (the
// server took it; the other side may ring), 'ringing' (an incoming call), 'accepting'
// (asking for the microphone, then sending call_accept), 'connecting' (answered; WebRTC
// finding its way), 'connected' (media flows). Anything else is over: `current` is null.
// A group call (`group: true`, a conference through the server's SFU) has 'joining'
// (call_join sent) between 'starting' or 'accepting' and 'connecting', and its members,
// their streams and who speaks (`members`, `streams`, `levels`).
import { live } from '../live.js';
import { t } from '../i18n.js';
import { me, conversation } from '../chat-state.js';
import { openMedia, openTrack, MediaError } from './media.js';
import { Peer, iceServers, forgetIceServers } from './peer.js';
import { ConferencePeer, conferences } from './conference.js';
import { startRingtone, stopRingtone } from './ringtone.js';

/** An incoming call stops ringing here if nothing was heard of it for this long (the server's ring timeout is 45 s). */
const RING_GIVE_UP_MS = 60_000;

/** More cameras than this in a conference: their tiles are small, so the SFU sends the low layer. */
const LARGE_TILES_UP_TO = 4;

/** A call's fields before anything happened. */
function newCall(fields) {
  return {
    id: null, clientId: null, conversationId: null, peer: null, media: 'voice', outgoing: false, state: 'starting',
    answeredAt: null, muted: false, camera: false, local: new MediaStream(), remote: null, remoteVideo: false, error: null,
    group: false, members: [], streams: new Map(), levels: [], layers: new Map(), sentVideo: false,
    ...fields,
  };
}

/** The notice of people who could not be added to the call. */
const ADD_FAILED = { get text() { return t('calls.add_failed'); } };

/** The notice of a conference that has all the cameras it takes (the call goes on with voice). */
const ROOM_FULL = { get text() { return t('calls.error_camera_room_full'); } };

class Calls extends EventTarget {
  constructor() {
    super();
    /** The call: {id, clientId, conversationId, peer, media, outgoing, state, answeredAt, muted, camera, local, remote, remoteVideo, error}. */
    this.current = null;
    /** client_ids of calls hung up before the server named them: hung up once named. */
    this.abandoned = new Set();
    this.peer = null;
    this.giveUp = null;
  }

  on(type, fn) {
    const listener = (e) => fn(e.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  changed() { this.dispatchEvent(new CustomEvent('change', { detail: this.current })); }

  /** Whether this device is in a call (or starting one, or ringing). */
  get busy() { return this.current !== null; }

  // ---- what the person does ---------------------------------------------------------

  /**
   * Calls the other person of a direct conversation, or starts (or joins, if one is going
   * on) a group's conference (`group`): media 'voice' | 'video'.
   */
  async start(conversationId, peer, media, { group = false } = {}) {
    if (this.current) return false;
    const call = newCall({ clientId: crypto.randomUUID(), conversationId, peer, media, outgoing: true, group });
    this.current = call;
    this.changed();
    iceServers(); // fetched while it rings
    let opened;
    try {
      opened = await openMedia(media === 'video', { small: group });
    } catch (e) {
      if (this.current === call) this.finish({ reason: 'media_error', error: e });
      return false;
    }
    if (this.current !== call) { stopTracks(opened); return false; } // hung up meanwhile
    adopt(call, opened);
    if (!live.send({ type: 'call_start', client_id: call.clientId, conversation_id: conversationId, media })) {
      this.finish({ reason: 'offline' });
      return false;
    }
    this.changed();
    return true;
  }

  /** Answers the ringing call, with the camera on or not. */
  async accept(withVideo) {
    const call = this.current;
    if (!call || call.outgoing || call.state !== 'ringing') return;
    call.state = 'accepting';
    call.error = null;
    stopRingtone();
    this.changed();
    let opened;
    try {
      opened = await openMedia(withVideo, { small: call.group });
    } catch (e) {
      if (this.current !== call) return;
      // Still ringing on the other side: the person may fix it, or decline.
      call.state = 'ringing';
      call.error = e instanceof MediaError ? e : new MediaError('microphone', 'failed', e);
      this.changed();
      return;
    }
    if (this.current !== call) { stopTracks(opened); return; }
    adopt(call, opened);
    clearTimeout(this.giveUp);
    if (call.group) { this.joinConference(call, true); return; }
    if (!live.send({ type: 'call_accept', call_id: call.id })) this.finish({ reason: 'offline' });
    else this.changed();
  }

  /** Declines the ringing call. */
  decline() {
    const call = this.current;
    if (!call || call.outgoing) return;
    // A conference goes on without me: nothing to tell.
    if (!call.group) live.send({ type: 'call_decline', call_id: call.id });
    this.finish({ reason: 'declined_here' });
  }

  /** Ends the call: cancels it before an answer, hangs up after. */
  hangup() {
    const call = this.current;
    if (!call) return;
    if (!call.outgoing && call.state === 'ringing') { this.decline(); return; }
    if (call.group && !call.outgoing && call.state === 'accepting') { this.finish({ reason: 'declined_here' }); return; }
    if (call.id) live.send({ type: 'call_hangup', call_id: call.id });
    else this.abandoned.add(call.clientId);
    this.finish({ reason: call.answeredAt ? 'hung_up' : 'cancelled', local: true });
  }

  /**
   * Adds people (E.164 numbers) to the one-to-one call going on: the server makes a group
   * of the two and them, rings them, and moves both of us there (`call_ended` "moved").
   */
  addPeople(phones) {
    const call = this.current;
    if (!call || call.group || !call.id || !call.answeredAt || !phones.length) return false;
    if (!live.send({ type: 'call_add', call_id: call.id, phones })) return false;
    call.adding = true;
    call.error = null;
    this.changed();
    return true;
  }

  /** Mutes or unmutes the microphone (the track stays: no renegotiation). */
  setMuted(muted) {
    const call = this.current;
    if (!call) return;
    call.muted = muted;
    for (const track of call.local.getAudioTracks()) track.enabled = !muted;
    // In a conference the SFU stops forwarding it too (and the others see it).
    if (call.group) this.sendMedia(call);
    this.changed();
  }

  /** Tells the SFU what this device sends (once joined; the join's answer sends it too). */
  sendMedia(call) {
    if (call.answeredAt) live.send({ type: 'call_media', call_id: call.id, audio: !call.muted, video: call.camera });
  }

  /** Turns the camera on or off mid-call (a new offer from this side). */
  async setCamera(on) {
    const call = this.current;
    if (!call || call.camera === on) return;
    if (on && call.group && this.peer && !this.peer.canSendVideo) { call.error = ROOM_FULL; this.changed(); return; }
    if (on) {
      let track;
      try {
        track = await openTrack('video', call.cameraId, { small: call.group });
      } catch (e) {
        if (this.current === call) { call.error = e; this.changed(); }
        return;
      }
      if (this.current !== call) { track.stop(); return; }
      call.error = null;
      call.local.addTrack(track);
      call.camera = true;
      this.changed();
      if (call.group) { await this.peer?.replace('video', track); this.sendMedia(call); } else await this.peer?.startVideo(track);
    } else {
      call.camera = false;
      for (const track of call.local.getVideoTracks()) { call.local.removeTrack(track); track.stop(); }
      this.changed();
      if (call.group) { this.sendMedia(call); await this.peer?.replace('video', null); } else await this.peer?.stopVideo();
    }
  }

  /** Uses another microphone ('audio') or camera ('video'): the new track replaces the old one. */
  async switchDevice(kind, deviceId) {
    const call = this.current;
    if (!call) return;
    if (kind === 'video') call.cameraId = deviceId; else call.micId = deviceId;
    const old = kind === 'video' ? call.local.getVideoTracks()[0] : call.local.getAudioTracks()[0];
    if (!old) return; // camera off: the next one turned on is this one
    let track;
    try {
      track = await openTrack(kind, deviceId, { small: call.group });
    } catch (e) {
      if (this.current === call) { call.error = e; this.changed(); }
      return;
    }
    if (this.current !== call) { track.stop(); return; }
    if (kind === 'audio') track.enabled = !call.muted;
    call.local.removeTrack(old);
    call.local.addTrack(track);
    old.stop();
    call.error = null;
    this.changed();
    await this.peer?.replace(kind, track);
  }

  // ---- what the server says -----------------------------------------------------------

  onStarted({ client_id, call }) {
    if (this.abandoned.delete(client_id)) { live.send({ type: 'call_hangup', call_id: call.id }); return; }
    const current = this.current;
    if (!current || current.clientId !== client_id) return;
    current.id = call.id;
    if (call.group) {
      // The group's conference (a new one, or the one going on): join it.
      conferences.started(call);
      current.group = true;
      current.peer = call.caller;
      this.joinConference(current, true);
      return;
    }
    current.state = 'calling';
    this.changed();
  }

  /** Joins the conference `call` names: `sendVideo` false after the SFU refused one more camera. */
  async joinConference(call, sendVideo) {
    call.state = 'joining';
    call.sentVideo = sendVideo;
    this.peer?.close();
    const peer = new ConferencePeer({ callId: call.id, local: call.local, send: (frame) => live.send(frame) });
    this.peer = peer;
    call.streams = peer.streams;
    peer.addEventListener('streams', () => { if (this.current === call) this.changed(); });
    peer.addEventListener('state', ({ detail }) => {
      if (this.current !== call) return;
      if (detail === 'connected' && call.state !== 'connected') { call.state = 'connected'; this.changed(); }
    });
    this.changed();
    try {
      await peer.join({ sendVideo });
    } catch (e) {
      console.warn('conference: join', e);
      if (this.current === call && this.peer === peer) this.finish({ reason: 'error' });
    }
  }

  onIncoming({ call }) {
    if (!call?.id) return;
    if (call.group) { conferences.started(call); knowGroup(call.conversation_id); }
    // In a call already: the server says busy to the caller; this device stays in its call.
    if (this.current) return;
    this.current = newCall({ id: call.id, conversationId: call.conversation_id, peer: call.caller, media: call.media,
      state: 'ringing', group: Boolean(call.group) });
    startRingtone();
    iceServers();
    clearTimeout(this.giveUp);
    const ringing = this.current;
    this.giveUp = setTimeout(() => { if (this.current === ringing && ringing.state === 'ringing') this.finish({ reason: 'no_answer' }); },
      RING_GIVE_UP_MS);
    this.changed();
  }

  onAccepted({ call: accepted }) {
    const call = this.current;
    if (!call || call.id !== accepted?.id || call.peerStarted) return;
    call.peerStarted = true;
    call.state = 'connecting';
    call.answeredAt = Date.now();
    stopRingtone();
    const peer = new Peer({
      polite: !call.outgoing,
      local: call.local,
      wantVideo: call.media === 'video',
      send: (signal) => live.send({ type: 'call_signal', call_id: call.id, ...signal }),
    });
    this.peer = peer;
    call.remote = peer.remote;
    peer.addEventListener('state', ({ detail }) => {
      if (this.current !== call) return;
      if (detail === 'connected' && call.state !== 'connected') { call.state = 'connected'; this.changed(); }
    });
    peer.addEventListener('media', ({ detail }) => {
      if (this.current !== call || call.remoteVideo === detail.video) return;
      call.remoteVideo = detail.video;
      this.changed();
    });
    peer.addEventListener('track', () => { if (this.current === call) this.changed(); });
    this.changed();
  }

  onSignal(frame) {
    const call = this.current;
    if (!call || call.id !== frame.call_id || !this.peer) return;
    this.peer.signal(frame);
    if (call.group && frame.kind === 'answer' && call.state === 'joining') {
      // In: the SFU hears what this device sends (a muted microphone, no camera) from now on.
      call.state = 'connecting';
      call.answeredAt = Date.now();
      this.sendMedia(call);
      this.sendLayers(call);
      this.changed();
    }
  }

  /** `call_members`: a group's conference changed (the banner of its chat; my call's tiles). */
  onMembers(frame) {
    conferences.members(frame);
    const call = this.current;
    if (!call?.group || call.id !== frame.call_id) return;
    call.members = Array.isArray(frame.members) ? frame.members : [];
    this.sendLayers(call);
    this.changed();
  }

  /** Small tiles (many cameras) take the SFU's low layer, large ones the high layer. */
  sendLayers(call) {
    if (!call.answeredAt) return;
    const mine = me();
    const cameras = call.members.filter((m) => m.video && m.phone !== mine);
    const layer = cameras.length > LARGE_TILES_UP_TO ? 'low' : 'high';
    for (const m of cameras) {
      if (call.layers.get(m.phone) === layer) continue;
      call.layers.set(m.phone, layer);
      live.send({ type: 'call_layer', call_id: call.id, phone: m.phone, layer });
    }
  }

  /** `call_speaking`: who is heard in my conference now, loudest first. */
  onSpeaking({ call_id, levels }) {
    const call = this.current;
    if (!call?.group || call.id !== call_id) return;
    call.levels = Array.isArray(levels) ? levels : [];
    this.changed();
  }

  onEnded({ call_id, reason, duration_ms, moved_to }) {
    conferences.ended(call_id);
    if (!this.current || this.current.id !== call_id) return;
    if (reason === 'moved' && moved_to?.group && moved_to.id && !this.current.group) { this.move(moved_to); return; }
    this.finish({ reason, durationMs: duration_ms });
  }

  /**
   * The one-to-one call goes on as the group call `to` (someone was added): its connection
   * closes quietly (no "ended" to say), and this device joins the conference at once with
   * the microphone and camera it had (same mute, camera as it was).
   */
  move(to) {
    const before = this.current;
    clearTimeout(this.giveUp);
    stopRingtone();
    this.peer?.close();
    this.peer = null;
    conferences.started(to);
    knowGroup(to.conversation_id);
    const call = newCall({ id: to.id, conversationId: to.conversation_id, peer: to.caller ?? before.peer, media: to.media ?? before.media,
      outgoing: true, group: true, state: 'joining', muted: before.muted, camera: before.camera, local: before.local,
      cameraId: before.cameraId, micId: before.micId, movedFrom: before.id });
    this.current = call;
    this.joinConference(call, true);
  }

  onError(frame) {
    const call = this.current;
    if (!call) return;
    const mine = (frame.client_id && frame.client_id === call.clientId) || (frame.call_id && frame.call_id === call.id);
    if (!mine) return;
    if (call.group && call.state === 'joining' && frame.call_id === call.id) {
      // The room has all the cameras it takes: in with voice, receiving everyone's video.
      if (frame.code === 'invalid_input' && call.sentVideo) {
        for (const track of call.local.getVideoTracks()) { call.local.removeTrack(track); track.stop(); }
        call.camera = false;
        call.error = ROOM_FULL;
        this.joinConference(call, false);
      } else {
        this.finish({ reason: 'error', code: frame.code });
      }
      return;
    }
    // People not added (a number refused): the call goes on as it was.
    if (call.adding && frame.call_id === call.id && frame.code === 'invalid_input') {
      call.adding = false;
      call.error = ADD_FAILED;
      this.changed();
      return;
    }
    // A refused start, or a call that is over for the server: it is over here too. Other
    // errors (a signal refused) disturb nothing, as on the server.
    if (frame.client_id || frame.code === 'call_not_found') this.finish({ reason: 'error', code: frame.code });
    else console.warn('call: error frame', frame.code, frame.message);
  }

  /** Ends the call on this device and says why: emits 'ended' {call, reason, durationMs, error, code}. */
  finish({ reason, durationMs, error = null, code = null, local = false }) {
    const call = this.current;
    if (!call) return;
    this.current = null;
    clearTimeout(this.giveUp);
    stopRingtone();
    this.peer?.close();
    this.peer = null;
    for (const track of call.local.getTracks()) track.stop();
    const duration = durationMs ?? (call.answeredAt ? Date.now() - call.answeredAt : null);
    this.dispatchEvent(new CustomEvent('ended', { detail: { call, reason, durationMs: duration, error, code, local } }));
    this.changed();
  }

  /** Forgets everything (logout). */
  reset() {
    if (this.current) this.hangup();
    this.abandoned.clear();
    conferences.reset();
    forgetIceServers();
  }
}

function adopt(call, opened) {
  call.local.addTrack(opened.audio);
  if (opened.video) { call.local.addTrack(opened.video); call.camera = true; }
  call.error = opened.cameraError;
}

/**
 * A group new to this device (made for the call: nothing announces it before its first
 * message) joins the chat list, and the conference screen gets its name.
 */
function knowGroup(conversationId) {
  if (!conversationId) return;
  conversation(conversationId).then(() => calls.changed(), () => {});
}

function stopTracks(opened) {
  opened.audio?.stop();
  opened.video?.stop();
}

export const calls = new Calls();

let listening = false;
/** Listens to the live connection (app.js, once logged in). */
export function startCalls() {
  if (listening) return;
  listening = true;
  live.on('call_started', (f) => calls.onStarted(f));
  live.on('call', (f) => calls.onIncoming(f));
  live.on('call_accepted', (f) => calls.onAccepted(f));
  live.on('call_signal', (f) => calls.onSignal(f));
  live.on('call_ended', (f) => calls.onEnded(f));
  live.on('call_members', (f) => calls.onMembers(f));
  live.on('call_speaking', (f) => calls.onSpeaking(f));
  live.on('error', (f) => calls.onError(f));
  window.addEventListener('dialtone:logged-out', () => calls.reset());
}
