//! Who is speaking in a room, from the audio-level header extension (RFC 6464) of the
//! packets forwarded: the loudest level of each participant over a window, reported when
//! the picture changes.

use std::time::{Duration, Instant};

use crate::SILENCE_DBOV;

/// How often a room's levels are looked at (and so at most how often they are reported).
pub(crate) const WINDOW: Duration = Duration::from_millis(250);

/// One room's audio levels.
#[derive(Debug)]
pub(crate) struct Speaking {
    /// Loudest level per member in this window, dBov (lower is louder); by member index.
    window: Vec<(u64, u8)>,
    last_report: Vec<(u64, u8)>,
    next_tick: Instant,
}

impl Speaking {
    pub fn new(now: Instant) -> Speaking {
        Speaking {
            window: Vec::new(),
            last_report: Vec::new(),
            next_tick: now + WINDOW,
        }
    }

    /// Notes a level heard from a participant (`dbov` 0..=127, lower is louder).
    pub fn hear(&mut self, peer: u64, dbov: u8) {
        if dbov > SILENCE_DBOV {
            return;
        }
        match self.window.iter_mut().find(|(p, _)| *p == peer) {
            Some((_, level)) => *level = (*level).min(dbov),
            None => self.window.push((peer, dbov)),
        }
    }

    /// When the window closes.
    pub fn deadline(&self) -> Instant {
        self.next_tick
    }

    /// Closes the window if due; returns the new picture (loudest first) when it differs
    /// from the last one reported. Levels are compared in 10 dB steps, so a steady voice
    /// does not report every window.
    pub fn tick(&mut self, now: Instant) -> Option<Vec<(u64, u8)>> {
        if now < self.next_tick {
            return None;
        }
        self.next_tick = now + WINDOW;
        let mut heard = std::mem::take(&mut self.window);
        heard.sort_by_key(|&(peer, level)| (level, peer));
        let same = heard.len() == self.last_report.len()
            && heard
                .iter()
                .zip(&self.last_report)
                .all(|(a, b)| a.0 == b.0 && a.1 / 10 == b.1 / 10);
        if same {
            return None;
        }
        self.last_report.clone_from(&heard);
        Some(heard)
    }

    /// Forgets a participant who left.
    pub fn forget(&mut self, peer: u64) {
        self.window.retain(|(p, _)| *p != peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_on_change_only_loudest_first() {
        let start = Instant::now();
        let mut s = Speaking::new(start);
        s.hear(1, 40);
        s.hear(2, 10);
        s.hear(2, 30);
        s.hear(3, 120); // silence
        assert_eq!(s.tick(start), None, "window not closed yet");
        let t1 = start + WINDOW;
        assert_eq!(s.tick(t1), Some(vec![(2, 10), (1, 40)]));
        s.hear(1, 42);
        s.hear(2, 12);
        assert_eq!(s.tick(t1 + WINDOW), None, "same picture");
        assert_eq!(s.tick(t1 + WINDOW * 2), Some(vec![]), "fell silent");
    }
}
