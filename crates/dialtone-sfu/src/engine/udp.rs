//! The SFU's one UDP socket, read and written with as few system calls as the kernel allows.
//!
//! The kernel's per-datagram `sendto` was the largest single cost of the SFU (see the SFU
//! profile in `bench/RESULTS.md`), so sends are gathered: str0m hands out one datagram at a
//! time, and consecutive datagrams to one destination (a subscriber's packets of one frame,
//! all as large as the MTU allows but the last) go out as one UDP GSO send (`UDP_SEGMENT`),
//! which the kernel (or the NIC) cuts into datagrams again. Reads take several datagrams per
//! call (`recvmmsg`), and a buffer may hold several datagrams coalesced by GRO, `stride`
//! bytes apart. Both come from `quinn-udp`, which falls back to one datagram per call where
//! the platform has neither (it then reports one GSO segment).

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;

use quinn_udp::{RecvMeta, Transmit, UdpSockRef, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::Counters;

/// Read buffers per `recvmmsg` call.
const RECV_BUFS: usize = 16;
/// One read buffer: room for the largest UDP payload, which is what GRO coalesces up to.
const RECV_BUF_BYTES: usize = 65_536;
/// The most bytes gathered into one GSO send; a UDP payload is at most 65,507 bytes over
/// IPv4.
const MAX_BATCH_BYTES: usize = 65_000;

/// The socket, its quinn-udp state, and the datagrams gathered for the next send.
pub(crate) struct Udp {
    socket: UdpSocket,
    state: UdpSocketState,
    /// Gathered datagrams for [`Udp::destination`], back to back: each `segment` bytes
    /// long except perhaps the last, which then closes the batch.
    batch: Vec<u8>,
    destination: Option<SocketAddr>,
    segment: usize,
    segments: usize,
    /// The last datagram was shorter than `segment`: GSO allows no more after it.
    closed: bool,
}

impl Udp {
    /// Takes the socket; sets the options quinn-udp uses (GRO, packet info, no
    /// fragmentation).
    pub fn new(socket: UdpSocket) -> io::Result<Udp> {
        let state = UdpSocketState::new(UdpSockRef::from(&socket))?;
        Ok(Udp {
            socket,
            state,
            batch: Vec::with_capacity(MAX_BATCH_BYTES),
            destination: None,
            segment: 0,
            segments: 0,
            closed: false,
        })
    }

    /// Waits until the socket may have datagrams to read.
    pub async fn readable(&self) -> io::Result<()> {
        self.socket.readable().await
    }

    /// Reads what is waiting, up to [`RECV_BUFS`] buffers' worth, into `rx`; `Ok(0)` or
    /// `WouldBlock` when nothing is.
    pub fn recv(&self, rx: &mut Rx) -> io::Result<usize> {
        let mut slices = rx.bufs.each_mut().map(|b| IoSliceMut::new(b.as_mut_slice()));
        let n = self.socket.try_io(Interest::READABLE, || {
            self.state
                .recv(UdpSockRef::from(&self.socket), &mut slices, &mut rx.meta)
        })?;
        rx.filled = n;
        Ok(n)
    }

    /// Queues one datagram; it joins the gathered ones when GSO can carry them together,
    /// otherwise those go first. Nothing is sent until the batch is full, the destination
    /// changes, or [`Udp::flush`].
    pub fn send(&mut self, destination: SocketAddr, bytes: &[u8], counters: &mut Counters) {
        let max = self.state.max_gso_segments();
        let joins = self.segments > 0
            && self.destination == Some(destination)
            && !self.closed
            && bytes.len() <= self.segment
            && !bytes.is_empty()
            && self.segments < max
            && self.batch.len() + bytes.len() <= MAX_BATCH_BYTES;
        if !joins {
            self.flush(counters);
            self.destination = Some(destination);
            self.segment = bytes.len();
        }
        self.batch.extend_from_slice(bytes);
        self.segments += 1;
        if bytes.len() < self.segment {
            self.closed = true;
        }
        if max <= 1 {
            self.flush(counters);
        }
    }

    /// Sends what is gathered. A datagram the socket's buffer has no room for is dropped
    /// (and counted), as a router would; a GSO send the kernel refuses (a device without
    /// segmentation offload) is sent again one datagram at a time, and quinn-udp stops
    /// offering GSO after that.
    pub fn flush(&mut self, counters: &mut Counters) {
        let Some(destination) = self.destination.take() else {
            return;
        };
        let segments = std::mem::take(&mut self.segments);
        let segment = self.segment;
        self.closed = false;
        if segments > 0 {
            match self.try_send(destination, &self.batch, segments, segment) {
                Ok(()) => {
                    counters.packets_out += segments as u64;
                    counters.sends += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    counters.send_dropped += segments as u64;
                }
                Err(e) if segments > 1 => {
                    tracing::debug!(error = %e, segments, "GSO send failed; one by one");
                    for datagram in self.batch.chunks(segment.max(1)) {
                        match self.try_send(destination, datagram, 1, segment) {
                            Ok(()) => {
                                counters.packets_out += 1;
                                counters.sends += 1;
                            }
                            Err(_) => counters.send_dropped += 1,
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "send failed");
                    counters.send_dropped += 1;
                }
            }
        }
        self.batch.clear();
    }

    fn try_send(
        &self,
        destination: SocketAddr,
        contents: &[u8],
        segments: usize,
        segment: usize,
    ) -> io::Result<()> {
        let transmit = Transmit {
            destination,
            ecn: None,
            contents,
            segment_size: (segments > 1).then_some(segment),
            src_ip: None,
        };
        self.socket.try_io(Interest::WRITABLE, || {
            self.state
                .try_send(UdpSockRef::from(&self.socket), &transmit)
        })
    }
}

/// Read buffers and what the last read put in them; kept by the engine and reused.
pub(crate) struct Rx {
    bufs: [Vec<u8>; RECV_BUFS],
    meta: [RecvMeta; RECV_BUFS],
    filled: usize,
}

impl Default for Rx {
    fn default() -> Rx {
        Rx {
            bufs: std::array::from_fn(|_| Vec::new()),
            meta: [RecvMeta::default(); RECV_BUFS],
            filled: 0,
        }
    }
}

impl Rx {
    /// Buffers allocated once, each large enough for a GRO-coalesced read.
    pub fn new() -> Rx {
        Rx {
            bufs: std::array::from_fn(|_| vec![0; RECV_BUF_BYTES]),
            ..Rx::default()
        }
    }

    /// The datagrams of the last read with their sources, GRO-coalesced ones cut apart.
    pub fn datagrams(&self) -> impl Iterator<Item = (&[u8], SocketAddr)> {
        self.meta
            .iter()
            .zip(&self.bufs)
            .take(self.filled)
            .flat_map(|(meta, buf)| {
                let bytes = buf.get(..meta.len).unwrap_or_default();
                let stride = if meta.stride == 0 { meta.len } else { meta.stride };
                bytes
                    .chunks(stride.max(1))
                    .map(move |datagram| (datagram, meta.addr))
            })
    }
}
