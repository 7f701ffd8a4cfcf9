// Group calls (conferences) through the server's SFU (docs/api/calls.md, "Group calls"):
// the one RTCPeerConnection a device has to the SFU, and what this device knows of the
// conferences going on in its groups (from `call` and `call_members` frames), so a group
// chat can say "a call is going on — join".
//
// The SFU is ICE-lite and gives its one candidate in its answer; after the join the server
// makes every offer (other members' tracks come and go), so this side only answers and
// never renegotiates: the microphone and the camera are sendrecv transceivers from the
// join on, and the camera turned on or off is a replaceTrack plus `call_media`.
import { iceServers, RELAY_ONLY_KEY } from './peer.js';

function relayOnly() {
  try { return localStorage.getItem(RELAY_ONLY_KEY) === '1'; } catch { return false; }
}

/**
 * This device's connection to a conference. Events: 'streams' (a member's stream gained
 * or lost a track), 'state' (connectionState).
 */
export class ConferencePeer extends EventTarget {
  /** local: the MediaStream this device sends; send(frame): a frame on the live connection. */
  constructor({ callId, local, send }) {
    super();
    this.callId = callId;
    this.local = local;
    this.send = send;
    this.pc = null;
    this.video = null; // the video transceiver
    this.audio = null;
    /** The other members' media, by stream id (`call_members`' `stream`). */
    this.streams = new Map();
    this.closed = false;
    this.queue = Promise.resolve();
  }

  /**
   * Makes the offer and sends `call_join`. `sendVideo`: a sendrecv video transceiver (the
   * camera can be turned on later without an offer); false: receive video only (a room
   * with all its cameras).
   */
  async join({ sendVideo }) {
    const servers = await iceServers();
    if (this.closed) return;
    const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: relayOnly() ? 'relay' : 'all' });
    this.pc = pc;
    pc.ontrack = ({ track, streams }) => {
      const id = streams[0]?.id;
      if (!id) return;
      let stream = this.streams.get(id);
      if (!stream) { stream = new MediaStream(); this.streams.set(id, stream); }
      if (!stream.getTracks().includes(track)) stream.addTrack(track);
      const drop = () => {
        stream.removeTrack(track);
        if (!stream.getTracks().length && this.streams.get(id) === stream) this.streams.delete(id);
        this.emit();
      };
      track.addEventListener('ended', drop, { once: true });
      this.emit();
    };
    pc.onconnectionstatechange = () => this.dispatchEvent(new CustomEvent('state', { detail: pc.connectionState }));
    const mic = this.local.getAudioTracks()[0] ?? null;
    const camera = this.local.getVideoTracks()[0] ?? null;
    this.audio = pc.addTransceiver(mic ?? 'audio', { direction: 'sendrecv', streams: [this.local] });
    this.video = pc.addTransceiver(sendVideo ? camera ?? 'video' : 'video',
      { direction: sendVideo ? 'sendrecv' : 'recvonly', streams: [this.local] });
    await pc.setLocalDescription();
    if (this.closed) return;
    // The SFU answers with its candidate; ours reach it by the connectivity checks.
    this.send({ type: 'call_join', call_id: this.callId, sdp: pc.localDescription.sdp });
  }

  emit() { this.dispatchEvent(new Event('streams')); }

  /** A `call_signal` from the server: the answer to the join, or an offer to answer. */
  signal(frame) {
    this.queue = this.queue.then(() => this.apply(frame)).catch((e) => console.warn('conference: signal', frame.kind, e));
    return this.queue;
  }

  async apply({ kind, sdp }) {
    const pc = this.pc;
    if (this.closed || !pc || !sdp) return;
    if (kind === 'answer') {
      if (pc.signalingState === 'have-local-offer') await pc.setRemoteDescription({ type: 'answer', sdp });
    } else if (kind === 'offer') {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription();
      this.send({ type: 'call_signal', call_id: this.callId, kind: 'answer', sdp: pc.localDescription.sdp });
    }
  }

  /** Sends `track` (or nothing) as this device's `kind` ('audio' | 'video'): no renegotiation. */
  async replace(kind, track) {
    const tr = kind === 'video' ? this.video : this.audio;
    if (!tr || this.closed) return;
    await tr.sender.replaceTrack(track);
  }

  /** Whether this device may send video (false after an audio-only fallback join). */
  get canSendVideo() { return this.video?.direction === 'sendrecv'; }

  close() {
    this.closed = true;
    try { this.pc?.close(); } catch { /* closed already */ }
    this.streams.clear();
  }
}

/**
 * The conferences going on in my groups, by conversation id: {callId, media, members}.
 * Emits 'change' {conversationId}.
 */
class Directory extends EventTarget {
  constructor() {
    super();
    this.byConversation = new Map();
  }

  on(fn) {
    const listener = (e) => fn(e.detail);
    this.addEventListener('change', listener);
    return () => this.removeEventListener('change', listener);
  }

  of(conversationId) { return this.byConversation.get(conversationId) ?? null; }

  emit(conversationId) { this.dispatchEvent(new CustomEvent('change', { detail: { conversationId } })); }

  /** A conference rang or started: it is going on, nobody known in it yet. */
  started(call) {
    if (!call?.group || !call.conversation_id) return;
    const known = this.of(call.conversation_id);
    if (known?.callId === call.id) return;
    this.byConversation.set(call.conversation_id, { callId: call.id, media: call.media, members: [] });
    this.emit(call.conversation_id);
  }

  /** `call_members`: who is in it now. */
  members({ call_id, conversation_id, members }) {
    if (!conversation_id) return;
    const known = this.of(conversation_id);
    this.byConversation.set(conversation_id, { callId: call_id, media: known?.callId === call_id ? known.media : 'voice',
      members: Array.isArray(members) ? members : [] });
    this.emit(conversation_id);
  }

  /** `call_ended`: whichever conference it was is over. */
  ended(callId) {
    for (const [conversationId, c] of this.byConversation) {
      if (c.callId === callId) { this.byConversation.delete(conversationId); this.emit(conversationId); }
    }
  }

  reset() { this.byConversation.clear(); }
}

export const conferences = new Directory();
