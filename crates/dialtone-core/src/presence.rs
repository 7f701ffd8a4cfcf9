//! Presence: what a user says about themself, and what others are shown.

use serde::{Deserialize, Serialize};

/// What a user sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceSetting {
    /// Reachable.
    #[default]
    Available,
    /// Away from the device.
    Away,
    /// Do not disturb.
    Busy,
    /// Online but shown as offline to everyone.
    Invisible,
}

crate::privacy::names!(PresenceSetting {
    Available => "available",
    Away => "away",
    Busy => "busy",
    Invisible => "invisible",
});

/// What others are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    /// Reachable.
    Available,
    /// Away.
    Away,
    /// Do not disturb.
    Busy,
    /// No connected device, invisible, or not allowed to see.
    Offline,
}

crate::privacy::names!(PresenceState {
    Available => "available",
    Away => "away",
    Busy => "busy",
    Offline => "offline",
});

impl PresenceState {
    /// What others see of a user with `setting` who has `connected` devices.
    pub fn shown(setting: PresenceSetting, connected: bool) -> PresenceState {
        match (connected, setting) {
            (false, _) | (true, PresenceSetting::Invisible) => PresenceState::Offline,
            (true, PresenceSetting::Available) => PresenceState::Available,
            (true, PresenceSetting::Away) => PresenceState::Away,
            (true, PresenceSetting::Busy) => PresenceState::Busy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_state() {
        use PresenceSetting as S;
        use PresenceState as P;
        assert_eq!(P::shown(S::Available, true), P::Available);
        assert_eq!(P::shown(S::Busy, true), P::Busy);
        assert_eq!(P::shown(S::Away, true), P::Away);
        assert_eq!(P::shown(S::Invisible, true), P::Offline);
        for s in [S::Available, S::Away, S::Busy, S::Invisible] {
            assert_eq!(P::shown(s, false), P::Offline);
        }
    }
}
