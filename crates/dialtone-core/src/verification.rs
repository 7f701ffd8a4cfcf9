//! The rules of SMS verification codes, after NIST SP 800-63B, OWASP and Signal's
//! registration service: six digits, short lifetime, few tries, growing resend cooldown.

use chrono::Duration;

/// Number of digits in a verification code.
pub const CODE_DIGITS: usize = 6;

/// How long a code stays valid after it was sent.
pub const CODE_TTL: Duration = Duration::minutes(10);

/// How long a verification can be resent after it started. Longer than a code's life,
/// because the last cooldowns (10 min) are as long as a code lives.
pub const VERIFICATION_LIFETIME: Duration = Duration::hours(1);

/// Wrong codes accepted before a verification is dead.
pub const MAX_WRONG_ATTEMPTS: u32 = 5;

/// How long after a code verification a session may set a new password without giving the
/// current one (the password-reset path).
pub const RESET_WINDOW: Duration = Duration::minutes(10);

/// The wait before the next resend, given how many SMS this verification has sent so far
/// (1 after the first). Grows 60 s, 2 min, 5 min, then stays at 10 min.
pub fn resend_cooldown(sms_sent: u32) -> Duration {
    match sms_sent {
        0 | 1 => Duration::seconds(60),
        2 => Duration::minutes(2),
        3 => Duration::minutes(5),
        _ => Duration::minutes(10),
    }
}

/// Whether `code` has the shape of a verification code (exactly six ASCII digits), so that
/// obviously malformed input is refused before it costs an attempt.
pub fn is_well_formed_code(code: &str) -> bool {
    code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// The prefix of an E.164 number used to limit SMS pumping: the number without its last
/// four digits, so that a run of numbers in one block shares a budget.
pub fn pumping_prefix(e164: &str) -> &str {
    let cut = e164.len().saturating_sub(4);
    e164.get(..cut).unwrap_or(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooldown_grows_then_stays() {
        let got: Vec<i64> = (1..=6).map(|n| resend_cooldown(n).num_seconds()).collect();
        assert_eq!(got, vec![60, 120, 300, 600, 600, 600]);
    }

    #[test]
    fn code_shape() {
        assert!(is_well_formed_code("012345"));
        assert!(!is_well_formed_code("12345"));
        assert!(!is_well_formed_code("1234567"));
        assert!(!is_well_formed_code("12345a"));
        assert!(!is_well_formed_code("１２３４５６"));
    }

    #[test]
    fn prefix_drops_last_four_digits() {
        assert_eq!(pumping_prefix("+8613800138000"), "+861380013");
        assert_eq!(pumping_prefix("+1"), "");
    }
}
