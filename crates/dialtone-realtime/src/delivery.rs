//! In-order delivery on one connection: per conversation, a device is sent seq after seq
//! and never a seq before one it was already sent, whatever order the events come in
//! (concurrent senders publish after their commits in any order, a node may die between
//! commit and publish, catch-up and live events cross).
//!
//! [`Orderer`] is the pure part, kept by the connection's own task: it says what may go
//! out now, holds what came early, and names the gap to read from the database. A seq is
//! committed only after every lower seq of its conversation (appends lock the
//! conversation), so a range read below a seq that arrived is complete: what it does not
//! return is not this user's to see (withheld), and the cursor moves past it.
//!
//! What was sent is also what acks are cut to ([`Orderer::sent`]): an ack means "every seq
//! up to here", so a device can never acknowledge past a message it was not sent.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

/// The conversation has no cursor yet: ask where this device stands ([`Orderer::start`])
/// and offer again.
#[derive(Debug, PartialEq, Eq)]
pub struct Unknown;

/// One conversation's place.
#[derive(Debug, Default)]
struct Cursor {
    /// Every seq up to this one was sent (or is not this user's to see).
    sent: u64,
    /// The last seq actually written (or the device's ack it started from).
    shown: u64,
    /// Seqs that came early: a frame, or `None` for one withheld from this user.
    held: BTreeMap<u64, Option<Bytes>>,
}

impl Cursor {
    /// Moves through what is held from the cursor on, collecting the frames.
    fn drain(&mut self, out: &mut Vec<Bytes>) {
        while let Some(entry) = self.held.first_entry() {
            let seq = *entry.key();
            if seq <= self.sent {
                entry.remove();
            } else if seq == self.sent + 1 {
                if let Some(frame) = entry.remove() {
                    out.push(frame);
                    self.shown = seq;
                }
                self.sent = seq;
            } else {
                break;
            }
        }
    }
}

/// The delivery order of one connection, per conversation.
#[derive(Debug, Default)]
pub struct Orderer {
    cursors: HashMap<String, Cursor>,
}

impl Orderer {
    /// Where this device stands in a conversation it had no cursor for: every seq up to
    /// `acked` is done. Keeps a cursor that is already there (it can only be further).
    pub fn start(&mut self, conversation_id: &str, acked: u64) {
        self.cursors
            .entry(conversation_id.to_owned())
            .or_insert_with(|| Cursor {
                sent: acked,
                shown: acked,
                held: BTreeMap::new(),
            });
    }

    /// Whether the conversation has a cursor.
    pub fn knows(&self, conversation_id: &str) -> bool {
        self.cursors.contains_key(conversation_id)
    }

    /// Every seq up to this one went out (0 for a conversation without a cursor).
    pub fn sent(&self, conversation_id: &str) -> u64 {
        self.cursors.get(conversation_id).map_or(0, |c| c.sent)
    }

    /// A message (`Some(frame)`) or a seq withheld from this user (`None`) came: the
    /// frames that may go out now, in order (none for a duplicate, or while a lower seq is
    /// missing: then [`Orderer::gap`] names the range to read).
    pub fn offer(
        &mut self,
        conversation_id: &str,
        seq: u64,
        frame: Option<Bytes>,
    ) -> Result<Vec<Bytes>, Unknown> {
        let cursor = self.cursors.get_mut(conversation_id).ok_or(Unknown)?;
        let mut out = Vec::new();
        if seq > cursor.sent {
            cursor.held.insert(seq, frame);
            cursor.drain(&mut out);
        }
        Ok(out)
    }

    /// What the database holds of `(after, upto]` for this user, in seq order: every seq
    /// in the range is now done (the ones not given are not this user's), and what was
    /// held past it may follow. The frames to write, in order.
    pub fn filled(
        &mut self,
        conversation_id: &str,
        upto: u64,
        messages: Vec<(u64, Bytes)>,
    ) -> Vec<Bytes> {
        let cursor = self.cursors.entry(conversation_id.to_owned()).or_default();
        let mut out = Vec::new();
        for (seq, frame) in messages {
            if seq > cursor.sent && seq <= upto {
                out.push(frame);
                cursor.sent = seq;
                cursor.shown = seq;
            }
        }
        cursor.sent = cursor.sent.max(upto);
        cursor.drain(&mut out);
        out
    }

    /// What an ack of `seq` may record: never past what was sent; and an ack of the last
    /// message shown covers the withheld seqs sent after it (the device never sees them,
    /// so it could never acknowledge them itself).
    pub fn ack_upto(&self, conversation_id: &str, seq: u64) -> u64 {
        match self.cursors.get(conversation_id) {
            Some(c) if seq >= c.shown => c.sent,
            Some(c) => seq.min(c.sent),
            None => 0,
        }
    }

    /// The gap still open in a conversation, if something is held past the cursor.
    pub fn gap(&self, conversation_id: &str) -> Option<(u64, u64)> {
        let cursor = self.cursors.get(conversation_id)?;
        let (&first, _) = cursor.held.first_key_value()?;
        (first > cursor.sent + 1).then_some((cursor.sent, first - 1))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn frame(seq: u64) -> Bytes {
        Bytes::from(seq.to_string())
    }

    fn seqs(frames: &[Bytes]) -> Vec<u64> {
        frames
            .iter()
            .map(|f| std::str::from_utf8(f).unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    fn early_seqs_wait_for_the_gap_to_be_read() {
        let mut o = Orderer::default();
        assert_eq!(o.offer("c", 1, Some(frame(1))), Err(Unknown));
        o.start("c", 0);
        assert_eq!(o.offer("c", 1, Some(frame(1))), Ok(vec![frame(1)]));
        assert_eq!(o.offer("c", 3, Some(frame(3))), Ok(vec![]));
        assert_eq!(o.gap("c"), Some((1, 2)));
        assert_eq!(o.offer("c", 4, Some(frame(4))), Ok(vec![]));
        // 2 turns out to be withheld from this user: the read finds nothing.
        assert_eq!(seqs(&o.filled("c", 2, vec![])), vec![3, 4]);
        assert_eq!((o.sent("c"), o.gap("c")), (4, None));
        // Late copies of what went out are dropped.
        assert_eq!(o.offer("c", 3, Some(frame(3))), Ok(vec![]));
        // A withheld seq announced as such moves the cursor without a read; an ack of the
        // last one shown covers it, an ack past what was sent is cut.
        assert_eq!(o.offer("c", 5, None), Ok(vec![]));
        assert_eq!(
            (o.ack_upto("c", 4), o.ack_upto("c", 9), o.ack_upto("c", 3)),
            (5, 5, 3)
        );
        assert_eq!(o.ack_upto("unknown", 3), 0);
        assert_eq!(o.offer("c", 6, Some(frame(6))), Ok(vec![frame(6)]));
        // Catch-up meets what came live: one copy each, in order.
        o.start("d", 2);
        assert_eq!(o.offer("d", 5, Some(frame(5))), Ok(vec![]));
        assert_eq!(
            seqs(&o.filled("d", 4, vec![(2, frame(2)), (3, frame(3)), (4, frame(4))])),
            vec![3, 4, 5]
        );
    }

    proptest! {
        /// Whatever order and however often the events of seqs 1..=n come, and wherever
        /// gaps are read from the database, the connection is sent exactly the seqs it may
        /// see, each once, in order; and never a seq before one already sent.
        #[test]
        fn any_arrival_order_gives_every_visible_seq_once_in_order(
            n in 1u64..60,
            withheld_mask in proptest::collection::vec(any::<bool>(), 60),
            order in proptest::collection::vec((0usize..60, any::<bool>()), 0..200),
            acked in 0u64..10,
        ) {
            let visible = |s: u64| !withheld_mask[usize::try_from(s).unwrap() % 60];
            let acked = acked.min(n);
            let mut o = Orderer::default();
            o.start("c", acked);
            let mut out: Vec<u64> = Vec::new();
            let deliver = |frames: Vec<Bytes>, out: &mut Vec<u64>| out.extend(seqs(&frames));
            // Arrivals: each an event of a seq (some published twice, some never: the
            // database read must cover those).
            for (i, read_now) in order {
                let seq = u64::try_from(i).unwrap() % n + 1;
                let event = visible(seq).then(|| frame(seq));
                let frames = o.offer("c", seq, event);
                prop_assert!(frames.is_ok());
                deliver(frames.unwrap_or_default(), &mut out);
                if let Some((after, upto)) = o.gap("c") {
                    prop_assert!(after < upto);
                    if read_now {
                        let rows = (after + 1..=upto).filter(|s| visible(*s)).map(|s| (s, frame(s))).collect();
                        let frames = o.filled("c", upto, rows);
                        deliver(frames, &mut out);
                    }
                }
            }
            // The periodic check: everything up to the last seq is read.
            let after = o.sent("c");
            let rows = (after + 1..=n).filter(|s| visible(*s)).map(|s| (s, frame(s))).collect();
            let frames = o.filled("c", n, rows);
            deliver(frames, &mut out);
            let expected: Vec<u64> = (acked + 1..=n).filter(|s| visible(*s)).collect();
            prop_assert_eq!(out, expected);
            prop_assert_eq!(o.sent("c"), n);
            prop_assert_eq!(o.gap("c"), None);
        }
    }
}
