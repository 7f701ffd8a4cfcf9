// The call this device is in (at most one): its state from the first frame to the last,
// driven by the live connection's frames (docs/api/calls.md) and by what the person does.
// Screens listen to `calls.on('change')` and `calls.on('ended')`; they never touch frames.
//
// States: 'starting' (asking for the microphone, then sending call_start), 'calling' (the
// server took it; the other side may ring), 'ringing' (an incoming call), 'accepting'
// (asking for the microphone, then sending call_accept), 'connecting' (answered; WebRTC
// finding its way), 'connected' (media flows). Anything else is over: `current` is null.
import { live } from '../live.js';
import { openMedia, openTrack, MediaError } from './media.js';
import { Peer, iceServers, forgetIceServers } from './peer.js';
import { startRingtone, stopRingtone } from './ringtone.js';

/** An incoming call stops ringing here if nothing was heard of it for this long (the server's ring timeout is 45 s). */
const RING_GIVE_UP_MS = 60_000;

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

  /** Calls the other person of a direct conversation: media 'voice' | 'video'. */
  async start(conversationId, peer, media) {
    if (this.current) return false;
    const call = {
      id: null, clientId: crypto.randomUUID(), conversationId, peer, media, outgoing: true, state: 'starting',
      answeredAt: null, muted: false, camera: false, local: new MediaStream(), remote: null, remoteVideo: false, error: null,
    };
    this.current = call;
    this.changed();
    iceServers(); // fetched while it rings
    let opened;
    try {
      opened = await openMedia(media === 'video');
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
      opened = await openMedia(withVideo);
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
    if (!live.send({ type: 'call_accept', call_id: call.id })) this.finish({ reason: 'offline' });
    else this.changed();
  }

  /** Declines the ringing call. */
  decline() {
    const call = this.current;
    if (!call || call.outgoing) return;
    live.send({ type: 'call_decline', call_id: call.id });
    this.finish({ reason: 'declined_here' });
  }

  /** Ends the call: cancels it before an answer, hangs up after. */
  hangup() {
    const call = this.current;
    if (!call) return;
    if (!call.outgoing && call.state === 'ringing') { this.decline(); return; }
    if (call.id) live.send({ type: 'call_hangup', call_id: call.id });
    else this.abandoned.add(call.clientId);
    this.finish({ reason: call.answeredAt ? 'hung_up' : 'cancelled', local: true });
  }

  /** Mutes or unmutes the microphone (the track stays: no renegotiation). */
  setMuted(muted) {
    const call = this.current;
    if (!call) return;
    call.muted = muted;
    for (const track of call.local.getAudioTracks()) track.enabled = !muted;
    this.changed();
  }

  /** Turns the camera on or off mid-call (a new offer from this side). */
  async setCamera(on) {
    const call = this.current;
    if (!call || call.camera === on) return;
    if (on) {
      let track;
      try {
        track = await openTrack('video', call.cameraId);
      } catch (e) {
        if (this.current === call) { call.error = e; this.changed(); }
        return;
      }
      if (this.current !== call) { track.stop(); return; }
      call.error = null;
      call.local.addTrack(track);
      call.camera = true;
      this.changed();
      await this.peer?.startVideo(track);
    } else {
      call.camera = false;
      for (const track of call.local.getVideoTracks()) { call.local.removeTrack(track); track.stop(); }
      this.changed();
      await this.peer?.stopVideo();
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
      track = await openTrack(kind, deviceId);
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
    current.state = 'calling';
    this.changed();
  }

  onIncoming({ call }) {
    // Conferences (group calls) are not rung here: this module is one-to-one.
    if (!call?.id || call.group) return;
    // In a call already: the server says busy to the caller; this device stays in its call.
    if (this.current) return;
    this.current = {
      id: call.id, clientId: null, conversationId: call.conversation_id, peer: call.caller, media: call.media,
      outgoing: false, state: 'ringing', answeredAt: null, muted: false, camera: false, local: new MediaStream(),
      remote: null, remoteVideo: false, error: null,
    };
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
    if (!this.current || this.current.id !== frame.call_id || !this.peer) return;
    this.peer.signal(frame);
  }

  onEnded({ call_id, reason, duration_ms }) {
    if (!this.current || this.current.id !== call_id) return;
    this.finish({ reason, durationMs: duration_ms });
  }

  onError(frame) {
    const call = this.current;
    if (!call) return;
    const mine = (frame.client_id && frame.client_id === call.clientId) || (frame.call_id && frame.call_id === call.id);
    if (!mine) return;
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
    forgetIceServers();
  }
}

function adopt(call, opened) {
  call.local.addTrack(opened.audio);
  if (opened.video) { call.local.addTrack(opened.video); call.camera = true; }
  call.error = opened.cameraError;
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
  live.on('error', (f) => calls.onError(f));
  window.addEventListener('dialtone:logged-out', () => calls.reset());
}
