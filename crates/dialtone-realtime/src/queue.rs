//! A connection's queue of what goes out: bounded, one consumer (the connection's task),
//! and holding no memory while empty.
//!
//! Written here rather than taken from tokio: a bounded `tokio::sync::mpsc` channel
//! allocates its channel state (about 0.5 KiB, cache-padded) and a first block of 32 slots
//! (2 KiB of [`Outgoing`]) when it is made, and keeps them for the connection's life;
//! idle connections are most of a server's, and those 2.5 KiB were a fifth of each one's
//! memory (bench/RESULTS.md, "Idle connections"). This queue is a `VecDeque` behind a
//! mutex, with the waiting consumer's waker beside it: it grows while items wait and
//! gives its memory back once they are all taken.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use crate::hub::{Connection, Outgoing};

/// Why an item was not queued.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// As many items as the bound are waiting already.
    Full,
    /// The consumer is gone.
    Closed,
}

#[derive(Default)]
struct State {
    items: VecDeque<Outgoing>,
    /// The consumer, when it waits for an item.
    waiting: Option<Waker>,
    /// The consumer was dropped: nothing more is taken.
    closed: bool,
}

/// The queue itself, kept inside its [`Connection`].
#[derive(Default)]
pub(crate) struct Queue {
    state: Mutex<State>,
}

impl Queue {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `item` unless `bound` items wait already or the consumer is gone; wakes the
    /// consumer.
    pub(crate) fn push(&self, item: Outgoing, bound: usize) -> Result<(), Refused> {
        let mut state = self.state();
        if state.closed {
            return Err(Refused::Closed);
        }
        if state.items.len() >= bound {
            return Err(Refused::Full);
        }
        state.items.push_back(item);
        let waiting = state.waiting.take();
        drop(state);
        if let Some(waker) = waiting {
            waker.wake();
        }
        Ok(())
    }

    /// The next item, if one waits; the memory goes back when the last one is taken.
    fn pop(state: &mut State) -> Option<Outgoing> {
        let item = state.items.pop_front()?;
        if state.items.is_empty() && state.items.capacity() > 0 {
            state.items = VecDeque::new();
        }
        Some(item)
    }
}

/// The consuming end of a connection's queue, held by the connection's task. Dropping it
/// closes the queue: what waits is dropped, and later items are refused.
pub struct Items {
    conn: Arc<Connection>,
}

impl Items {
    pub(crate) fn new(conn: Arc<Connection>) -> Self {
        Self { conn }
    }

    /// Waits for the next item. Never `None` while the consumer holds this (the queue
    /// closes only when it is dropped); an `Option` to read as a channel does.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        let queue = &self.conn.queue;
        poll_fn(|cx| {
            let mut state = queue.state();
            match Queue::pop(&mut state) {
                Some(item) => Poll::Ready(Some(item)),
                None => {
                    match &mut state.waiting {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        waiting => *waiting = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// The next item if one waits now.
    pub fn try_recv(&mut self) -> Option<Outgoing> {
        Queue::pop(&mut self.conn.queue.state())
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        let mut state = self.conn.queue.state();
        state.closed = true;
        state.waiting = None;
        state.items = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn frame(n: u8) -> Outgoing {
        Outgoing::Frame(Bytes::from(vec![n]))
    }

    fn byte(item: Option<Outgoing>) -> Option<u8> {
        match item {
            Some(Outgoing::Frame(b)) => b.first().copied(),
            _ => None,
        }
    }

    #[test]
    fn items_come_out_in_order_up_to_the_bound_and_the_memory_goes_back() {
        let queue = Queue::default();
        for n in 0..3 {
            assert_eq!(queue.push(frame(n), 3), Ok(()));
        }
        assert_eq!(queue.push(frame(9), 3), Err(Refused::Full));
        let mut state = queue.state();
        assert_eq!(byte(Queue::pop(&mut state)), Some(0));
        assert!(state.items.capacity() > 0);
        assert_eq!(byte(Queue::pop(&mut state)), Some(1));
        assert_eq!(byte(Queue::pop(&mut state)), Some(2));
        assert_eq!(state.items.capacity(), 0, "an empty queue holds nothing");
        assert_eq!(byte(Queue::pop(&mut state)), None);
    }

    #[test]
    fn a_closed_queue_refuses() {
        let queue = Queue::default();
        queue.state().closed = true;
        assert_eq!(queue.push(frame(1), 8), Err(Refused::Closed));
    }
}
