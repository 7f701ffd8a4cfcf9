// One RTCPeerConnection per call, with the "perfect negotiation" pattern: either side may
// offer at any time (the camera turned on or off mid-call is a new offer); when both offer
// at once, the polite side (the callee) rolls its own back and answers, the impolite side
// (the caller) ignores the other's. The callee only answers until its first answer is
// given: the caller makes the first offer. Signals are applied one after the other, in
// the order they came.
import { api } from '../api.js';

/** Set to '1' in localStorage: calls go only through TURN relays (hides this device's addresses). */
export const RELAY_ONLY_KEY = 'dialtone.calls.relay-only';

let iceCache = null; // {servers, until}

/** The ICE servers for a new connection, from GET /v1/calls/ice-servers (cached until they expire). */
export async function iceServers() {
  if (iceCache && iceCache.until > Date.now()) return iceCache.servers;
  try {
    const body = await api('/v1/calls/ice-servers');
    const servers = Array.isArray(body?.ice_servers) ? body.ice_servers : [];
    const expires = Date.parse(body?.expires_at ?? '') || Date.now() + 60_000;
    // A minute of margin: credentials must still be valid when TURN checks them.
    iceCache = { servers, until: expires - 60_000 };
    return servers;
  } catch {
    // No ICE servers: a call still works where the two devices reach each other directly.
    return [];
  }
}

/** Forgets the cached servers (logout). */
export function forgetIceServers() { iceCache = null; }

function relayOnly() {
  try { return localStorage.getItem(RELAY_ONLY_KEY) === '1'; } catch { return false; }
}

/** The contract's candidate object from a browser's RTCIceCandidate (null: the end). */
function candidateFrame(candidate) {
  if (!candidate || !candidate.candidate) return { candidate: '' };
  return { candidate: candidate.candidate, sdp_mid: candidate.sdpMid ?? undefined, sdp_mline_index: candidate.sdpMLineIndex ?? undefined };
}

/**
 * Events: 'track' (the remote stream changed), 'state' (connectionState), 'media'
 * (whether video comes from the other side).
 */
export class Peer extends EventTarget {
  /**
   * polite: the callee. send(frame): sends {kind, sdp?, candidate?} to the other side.
   * local: the MediaStream whose tracks this side sends; wantVideo: a video call (video
   * is received even when this side has no camera).
   */
  constructor({ polite, send, local, wantVideo = false }) {
    super();
    this.wantVideo = wantVideo;
    this.polite = polite;
    this.send = send;
    this.local = local;
    this.remote = new MediaStream();
    this.pc = null;
    this.closed = false;
    this.makingOffer = false;
    this.ignoreOffer = false;
    // The caller offers first; the callee speaks only once it has answered.
    this.canOffer = !polite;
    this.answered = false;
    this.queue = this.open();
  }

  async open() {
    const servers = await iceServers();
    if (this.closed) return;
    const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: relayOnly() ? 'relay' : 'all' });
    this.pc = pc;
    pc.onicecandidate = ({ candidate }) => this.send({ kind: 'candidate', candidate: candidateFrame(candidate) });
    pc.onnegotiationneeded = () => { if (this.canOffer) this.offer(); };
    pc.ontrack = ({ track }) => {
      if (!this.remote.getTracks().includes(track)) this.remote.addTrack(track);
      track.onmute = () => this.emitMedia();
      track.onunmute = () => this.emitMedia();
      this.dispatchEvent(new Event('track'));
      this.emitMedia();
    };
    pc.onconnectionstatechange = () => this.dispatchEvent(new CustomEvent('state', { detail: pc.connectionState }));
    pc.oniceconnectionstatechange = () => {
      // A network change broke the path: the caller looks for a new one.
      if (pc.iceConnectionState === 'failed' && !this.polite) pc.restartIce();
    };
    pc.onsignalingstatechange = () => { if (pc.signalingState === 'stable') this.emitMedia(); };
    // The caller sends what it has at once; the callee adds its tracks to the first offer.
    if (!this.polite) this.addLocalTracks({ wantVideo: this.wantVideo });
  }

  /** Adds the local tracks; a video call without a camera still asks to receive video. */
  addLocalTracks({ wantVideo = false } = {}) {
    for (const track of this.local.getTracks()) this.pc.addTrack(track, this.local);
    if (wantVideo && !this.local.getVideoTracks().length) this.pc.addTransceiver('video', { direction: 'recvonly' });
  }

  async offer() {
    if (this.closed || !this.pc) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.send({ kind: 'offer', sdp: this.pc.localDescription.sdp });
    } catch (e) {
      console.warn('call: offer failed', e);
    } finally {
      this.makingOffer = false;
    }
  }

  /** A `call_signal` frame from the other side. */
  signal(frame) {
    this.queue = this.queue.then(() => this.apply(frame)).catch((e) => console.warn('call: signal', frame.kind, e));
    return this.queue;
  }

  async apply({ kind, sdp, candidate }) {
    const pc = this.pc;
    if (this.closed || !pc) return;
    if (kind === 'offer' || kind === 'answer') {
      const collision = kind === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await pc.setRemoteDescription({ type: kind, sdp });
      if (kind === 'offer') {
        if (this.polite && !this.answered) this.addLocalTracks();
        await pc.setLocalDescription();
        this.send({ kind: 'answer', sdp: pc.localDescription.sdp });
        this.answered = true;
        this.canOffer = true;
      }
      this.emitMedia();
    } else if (kind === 'candidate') {
      try {
        if (!candidate?.candidate) await pc.addIceCandidate();
        else {
          await pc.addIceCandidate({ candidate: candidate.candidate, sdpMid: candidate.sdp_mid ?? null,
            sdpMLineIndex: candidate.sdp_mline_index ?? null });
        }
      } catch (e) {
        if (!this.ignoreOffer) throw e;
      }
    }
  }

  /** The sender of `kind` ('audio' | 'video'), through its transceiver, if any. */
  transceiver(kind) {
    return this.pc?.getTransceivers().find((t) => !t.stopped && t.receiver.track?.kind === kind) ?? null;
  }

  /** Sends `track` instead of what `kind` sent (another microphone or camera): no renegotiation. */
  async replace(kind, track) {
    await this.queue;
    const tr = this.transceiver(kind);
    if (tr) await tr.sender.replaceTrack(track);
  }

  /** Starts sending video `track` (renegotiates: a new offer from this side). */
  async startVideo(track) {
    await this.queue;
    if (!this.pc || this.closed) return;
    // Before its first answer the callee has nothing to change: the answer will carry it.
    if (!this.answered && this.polite) return;
    const tr = this.transceiver('video');
    if (tr) {
      await tr.sender.replaceTrack(track);
      tr.sender.setStreams?.(this.local);
      tr.direction = 'sendrecv';
    } else {
      this.pc.addTrack(track, this.local);
    }
  }

  /** Stops sending video (renegotiates, so the other side knows no video comes). */
  async stopVideo() {
    await this.queue;
    const tr = this.transceiver('video');
    if (!tr || this.closed) return;
    await tr.sender.replaceTrack(null);
    tr.direction = 'recvonly';
  }

  /** Whether video comes from the other side now. */
  remoteVideo() {
    const tr = this.transceiver('video');
    if (!tr) return false;
    const receiving = tr.currentDirection === 'recvonly' || tr.currentDirection === 'sendrecv';
    return receiving && !tr.receiver.track.muted;
  }

  emitMedia() { this.dispatchEvent(new CustomEvent('media', { detail: { video: this.remoteVideo() } })); }

  close() {
    this.closed = true;
    try { this.pc?.close(); } catch { /* closed already */ }
  }
}
