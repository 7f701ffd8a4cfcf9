// WebM (what Chromium's MediaRecorder writes) → Ogg Opus, without re-encoding.
//
// The server decides a file's type from its bytes, and a WebM file is "video/webm" to it
// whatever it holds, so a voice note recorded as WebM would be refused as a voice
// message. The Opus packets are simply moved into Ogg pages, which are "audio/opus".

const ID = {
  segment: 0x18538067, cluster: 0x1f43b675, tracks: 0x1654ae6b, trackEntry: 0xae,
  blockGroup: 0xa0, block: 0xa1, simpleBlock: 0xa3, codecPrivate: 0x63a2, codecId: 0x86,
  audio: 0xe1, channels: 0x9f,
};
const MASTERS = new Set([ID.segment, ID.cluster, ID.tracks, ID.trackEntry, ID.blockGroup, ID.audio]);

/** An EBML variable-length integer at `at`: {value, length}; `keepMarker` for element IDs. */
function vint(bytes, at, keepMarker) {
  const first = bytes[at];
  if (first === undefined || first === 0) return null;
  let length = 1;
  while (!(first & (0x80 >> (length - 1)))) length += 1;
  if (at + length > bytes.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === (0xff >> length);
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[at + i];
    if (bytes[at + i] !== 0xff) allOnes = false;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

/** The Opus packets and the codec header of a WebM file. */
function demux(bytes) {
  const packets = [];
  let head = null;
  let channels = 1;
  let codec = null;
  let at = 0;
  while (at < bytes.length) {
    const id = vint(bytes, at, true);
    if (!id) break;
    const size = vint(bytes, at + id.length, false);
    if (!size) break;
    const start = at + id.length + size.length;
    // Containers are walked into (their size may be unknown in a live recording).
    if (MASTERS.has(id.value)) { at = start; continue; }
    const end = Math.min(bytes.length, start + size.value);
    const data = bytes.subarray(start, end);
    if (id.value === ID.codecId) codec = new TextDecoder().decode(data);
    else if (id.value === ID.codecPrivate) head = data.slice();
    else if (id.value === ID.channels) channels = data[0] || 1;
    else if (id.value === ID.simpleBlock || id.value === ID.block) {
      const track = vint(data, 0, false);
      if (!track) break;
      const flags = data[track.length + 2];
      if (flags & 0x06) throw new Error('laced WebM blocks are not supported');
      packets.push(data.subarray(track.length + 3));
    }
    at = end;
  }
  if (codec && codec !== 'A_OPUS') throw new Error(`not Opus: ${codec}`);
  if (!head || new TextDecoder().decode(head.subarray(0, 8)) !== 'OpusHead') {
    head = new Uint8Array(19);
    head.set(new TextEncoder().encode('OpusHead'));
    const view = new DataView(head.buffer);
    head[8] = 1;
    head[9] = channels;
    view.setUint16(10, 312, true);
    view.setUint32(12, 48000, true);
  }
  return { head, packets };
}

/** Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1). */
function samplesOf(packet) {
  if (!packet.length) return 0;
  const config = packet[0] >> 3;
  let frame;
  if (config < 12) frame = [480, 960, 1920, 2880][config & 3];
  else if (config < 16) frame = [480, 960][config & 1];
  else frame = [120, 240, 480, 960][config & 3];
  const code = packet[0] & 3;
  const frames = code === 0 ? 1 : code === 3 ? (packet[1] ?? 0) & 0x3f : 2;
  return frame * frames;
}

const CRC = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

function crc(bytes) {
  let c = 0;
  for (const b of bytes) c = ((c << 8) ^ CRC[((c >>> 24) ^ b) & 0xff]) >>> 0;
  return c;
}

function page(packets, { granule, serial, sequence, flags }) {
  const lacing = [];
  for (const p of packets) {
    for (let n = p.length; ; n -= 255) {
      lacing.push(Math.min(n, 255));
      if (n < 255) break;
    }
  }
  const bodyLength = packets.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(27 + lacing.length + bodyLength);
  const view = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53]);
  out[5] = flags;
  view.setBigUint64(6, BigInt(granule), true);
  view.setUint32(14, serial, true);
  view.setUint32(18, sequence, true);
  out[26] = lacing.length;
  out.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of packets) { out.set(p, at); at += p.length; }
  view.setUint32(22, crc(out), true);
  return out;
}

const segmentsOf = (p) => Math.floor(p.length / 255) + 1;

/** Ogg Opus bytes of the Opus audio in a WebM file. */
export function webmToOgg(webm) {
  const { head, packets } = demux(webm);
  if (!packets.length) throw new Error('no audio in the recording');
  const serial = (Math.random() * 0xffffffff) >>> 0;
  const vendor = new TextEncoder().encode('dialtone');
  const tags = new Uint8Array(8 + 4 + vendor.length + 4);
  tags.set(new TextEncoder().encode('OpusTags'));
  new DataView(tags.buffer).setUint32(8, vendor.length, true);
  tags.set(vendor, 12);
  const pages = [
    page([head], { granule: 0, serial, sequence: 0, flags: 0x02 }),
    page([tags], { granule: 0, serial, sequence: 1, flags: 0 }),
  ];
  let granule = 0;
  let batch = [];
  let segments = 0;
  const flush = (last) => {
    pages.push(page(batch, { granule, serial, sequence: pages.length, flags: last ? 0x04 : 0 }));
    batch = [];
    segments = 0;
  };
  packets.forEach((p, i) => {
    // A page holds at most 255 lacing values; about a second of audio per page.
    if (batch.length && (segments + segmentsOf(p) > 255 || batch.length >= 50)) flush(false);
    batch.push(p);
    segments += segmentsOf(p);
    granule += samplesOf(p);
    if (i === packets.length - 1) flush(true);
  });
  return new Blob(pages, { type: 'audio/ogg' });
}

/** Makes an MP4 recording (Safari) an audio file to the server: brand "M4A ". */
export function markM4a(bytes) {
  const out = bytes.slice();
  if (new TextDecoder().decode(out.subarray(4, 8)) === 'ftyp') out.set(new TextEncoder().encode('M4A '), 8);
  return new Blob([out], { type: 'audio/mp4' });
}
