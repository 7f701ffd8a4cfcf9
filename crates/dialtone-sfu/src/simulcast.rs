//! Which simulcast layer (RTP stream id) a subscriber gets of a publisher's video.
//!
//! Browsers name layers by convention, not by size: `l`/`m`/`h` (low, mid, high) or
//! `q`/`h`/`f` (quarter, half, full). A set containing `f` is read the second way, so `h`
//! is the middle layer there; otherwise `h` is high. Unknown names rank as middle.

use str0m::media::Rid;

use crate::Layer;

/// The rank of a layer name within the set a publisher sends: higher is larger.
fn rank(rid: &str, full_scheme: bool) -> u8 {
    match rid {
        "q" | "l" | "low" | "0" => 0,
        "h" if full_scheme => 1,
        "f" | "h" | "high" | "hi" | "2" => 2,
        _ => 1,
    }
}

/// The layers a publisher's video track is seen sending, smallest first once sorted.
#[derive(Debug, Default, Clone)]
pub(crate) struct Layers {
    rids: Vec<Rid>,
}

impl Layers {
    /// Notes a rid seen on incoming media; returns true when it was new.
    pub fn see(&mut self, rid: Rid) -> bool {
        if self.rids.contains(&rid) {
            return false;
        }
        self.rids.push(rid);
        let full = self.rids.iter().any(|r| &**r == "f");
        self.rids.sort_by_key(|r| rank(r, full));
        true
    }

    /// The rid to forward for a wanted layer; `None` when nothing with a rid was seen.
    pub fn pick(&self, layer: Layer) -> Option<Rid> {
        match layer {
            Layer::Low => self.rids.first().copied(),
            Layer::High => self.rids.last().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(names: &[&str]) -> Layers {
        let mut l = Layers::default();
        for n in names {
            l.see(Rid::from(*n));
        }
        l
    }

    #[test]
    fn low_and_high_follow_both_naming_schemes() {
        let cases: [(&[&str], &str, &str); 4] = [
            (&["h", "m", "l"], "l", "h"),
            (&["f", "h", "q"], "q", "f"),
            (&["q", "h"], "q", "h"),
            (&["h"], "h", "h"),
        ];
        for (names, low, high) in cases {
            let l = layers(names);
            assert_eq!(l.pick(Layer::Low), Some(Rid::from(low)), "{names:?}");
            assert_eq!(l.pick(Layer::High), Some(Rid::from(high)), "{names:?}");
        }
        assert_eq!(Layers::default().pick(Layer::High), None);
    }
}
