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
        let mut slices = rx
            .bufs
            .each_mut()
            .map(|b| IoSliceMut::new(b.as_mut_slice()));
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
                let stride = if meta.stride == 0 {
                    meta.len
                } else {
                    meta.stride
                };
                bytes
                    .chunks(stride.max(1))
                    .map(move |datagram| (datagram, meta.addr))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn bound() -> io::Result<UdpSocket> {
        UdpSocket::bind("127.0.0.1:0").await
    }

    /// Datagrams of `sizes`, each filled with its index, so a reordering or a wrong cut
    /// shows.
    fn datagrams(sizes: &[usize]) -> Vec<Vec<u8>> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, n)| vec![i as u8; *n])
            .collect()
    }

    async fn recv_one(socket: &UdpSocket) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), socket.recv(&mut buf))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        buf.truncate(n);
        Ok(buf)
    }

    #[tokio::test]
    async fn gathered_datagrams_arrive_one_by_one_and_in_order() -> io::Result<()> {
        let mut udp = Udp::new(bound().await?)?;
        let (a, b) = (bound().await?, bound().await?);
        let mut counters = Counters::default();
        // A fresh socket is writable only once the reactor has seen it so.
        udp.socket.writable().await?;
        let to_a = datagrams(&[1200, 1200, 1200, 700]);
        let to_b = datagrams(&[300]);
        for d in &to_a {
            udp.send(a.local_addr()?, d, &mut counters);
        }
        // A smaller datagram closed the batch: this one goes in the next send.
        udp.send(a.local_addr()?, &[9; 1200], &mut counters);
        udp.send(b.local_addr()?, &to_b[0], &mut counters);
        udp.flush(&mut counters);

        for d in to_a.iter().chain([&vec![9; 1200]]) {
            assert_eq!(&recv_one(&a).await?, d);
        }
        assert_eq!(recv_one(&b).await?, to_b[0]);
        assert_eq!((counters.packets_out, counters.send_dropped), (6, 0));
        let expected_sends = if udp.state.max_gso_segments() > 1 {
            3
        } else {
            6
        };
        assert_eq!(counters.sends, expected_sends);
        Ok(())
    }

    #[tokio::test]
    async fn coalesced_reads_are_cut_into_their_datagrams() -> io::Result<()> {
        let mut sender = Udp::new(bound().await?)?;
        let receiver = Udp::new(bound().await?)?;
        let to = receiver.socket.local_addr()?;
        let from = sender.socket.local_addr()?;
        let mut counters = Counters::default();
        let sent = datagrams(&[1000, 1000, 1000, 400]);
        sender.socket.writable().await?;
        for d in &sent {
            sender.send(to, d, &mut counters);
        }
        sender.flush(&mut counters);

        assert_eq!(counters.packets_out, 4);
        let mut rx = Rx::new();
        let mut got = Vec::new();
        let mut buffers = 0;
        while got.len() < sent.len() {
            tokio::time::timeout(std::time::Duration::from_secs(5), receiver.readable())
                .await
                .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
            match receiver.recv(&mut rx) {
                Ok(_) => {
                    buffers += rx.filled;
                    got.extend(rx.datagrams().map(|(d, a)| (d.to_vec(), a)));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        let expected: Vec<_> = sent.into_iter().map(|d| (d, from)).collect();
        assert_eq!(got, expected);
        if sender.state.max_gso_segments() > 1 && receiver.state.gro_segments() > 1 {
            // On loopback the GSO send reaches a GRO socket whole: one buffer, cut here.
            assert_eq!(buffers, 1);
        }
        Ok(())
    }
}
