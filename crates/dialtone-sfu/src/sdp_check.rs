//! What is checked of an SDP before str0m reads it: its size, and whether an offer sends
//! video (the room's camera limit is decided before any state is made).

use str0m::change::{SdpAnswer, SdpOffer};

use crate::{MAX_SDP_BYTES, SfuError};

/// A browser's offer, read, and whether it sends video.
#[derive(Debug)]
pub(crate) struct Offer {
    pub sdp: SdpOffer,
    pub sends_video: bool,
}

/// Reads an offer; too large or unreadable is `invalid_sdp`.
pub(crate) fn offer(text: &str) -> Result<Offer, SfuError> {
    check_size(text)?;
    let sdp = SdpOffer::from_sdp_string(text).map_err(|e| SfuError::InvalidSdp(e.to_string()))?;
    Ok(Offer {
        sdp,
        sends_video: sends_video(text),
    })
}

/// Reads an answer; too large or unreadable is `invalid_sdp`.
pub(crate) fn answer(text: &str) -> Result<SdpAnswer, SfuError> {
    check_size(text)?;
    SdpAnswer::from_sdp_string(text).map_err(|e| SfuError::InvalidSdp(e.to_string()))
}

fn check_size(text: &str) -> Result<(), SfuError> {
    if text.len() > MAX_SDP_BYTES {
        return Err(SfuError::InvalidSdp(format!(
            "{} bytes, more than {MAX_SDP_BYTES}",
            text.len()
        )));
    }
    Ok(())
}

/// Whether any video section is live (port not 0) and sends (`sendrecv`, `sendonly`, or no
/// direction, which means sendrecv).
fn sends_video(text: &str) -> bool {
    let mut sends = false;
    let mut in_video = false;
    let mut direction_sends = true;
    for line in text.lines().map(str::trim) {
        if let Some(media) = line.strip_prefix("m=") {
            sends |= in_video && direction_sends;
            let mut words = media.split_whitespace();
            in_video = words.next() == Some("video") && words.next() != Some("0");
            direction_sends = true;
        } else if line == "a=recvonly" || line == "a=inactive" {
            direction_sends = false;
        }
    }
    sends || (in_video && direction_sends)
}

#[cfg(test)]
mod tests {
    use super::sends_video;

    #[test]
    fn video_sending_is_read_from_each_section() {
        let cases = [
            ("m=audio 9 UDP/TLS/RTP/SAVPF 111\na=sendrecv\n", false),
            ("m=video 9 UDP/TLS/RTP/SAVPF 96\na=sendrecv\n", true),
            (
                "m=video 9 UDP/TLS/RTP/SAVPF 96\na=recvonly\nm=audio 9 X 1\n",
                false,
            ),
            ("m=video 0 UDP/TLS/RTP/SAVPF 96\na=sendrecv\n", false),
            ("m=audio 9 X 1\nm=video 9 X 96\r\na=sendonly\r\n", true),
            ("m=video 9 X 96\na=inactive\nm=video 9 X 96\n", true),
        ];
        for (sdp, expected) in cases {
            assert_eq!(sends_video(sdp), expected, "{sdp}");
        }
    }
}
