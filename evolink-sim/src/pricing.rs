//! The upstream's own price table for `kling-v3-motion-control`, written from the contract
//! (`upstream-api.md` §7 and §10.5) and deliberately independent of Kinema's pricing rules, so a
//! mistake in Kinema's rule shows up as a disagreement with this stand-in upstream instead of
//! being mirrored by it.

/// Credits are counted in integer millionths here, so the contract's per-second prices (8.1648 and
/// 10.88368 credits) are exact and a reservation is one integer product.
const MILLIONTHS_PER_CREDIT: u64 = 1_000_000;

/// 720p: 8.1648 credits per output second (§7; 81,648 UC per second in §10.5).
const PRICE_720P_MILLIONTHS: u64 = 8_164_800;

/// 1080p: 10.88368 credits per output second, the docs page's figure (§7), which is 720p × 1.333.
/// EvoLink's published pricing rules (§10.5) use a 1.334 multiplier (10.8918432 credits/s); the
/// docs' figure is kept because it is what users are told today.
const PRICE_1080P_MILLIONTHS: u64 = 10_883_680;

/// The most output seconds for `character_orientation: image` (§7).
const MAX_SECONDS_IMAGE: u32 = 10;
/// The most output seconds for `character_orientation: video` (§7).
const MAX_SECONDS_VIDEO: u32 = 30;

/// Output resolution, as sent in `quality`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// `720p`, the default.
    Standard,
    /// `1080p`.
    High,
}

impl Resolution {
    /// Reads the wire value; anything but `1080p` is 720p (the request was validated before).
    pub fn from_wire(quality: &str) -> Resolution {
        if quality == "1080p" {
            Resolution::High
        } else {
            Resolution::Standard
        }
    }

    fn price_millionths(self) -> u64 {
        match self {
            Resolution::Standard => PRICE_720P_MILLIONTHS,
            Resolution::High => PRICE_1080P_MILLIONTHS,
        }
    }
}

/// Which way the character faces, as sent in `model_params.character_orientation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Facing {
    /// `image`: output at most 10 s.
    Image,
    /// `video`: output at most 30 s.
    Video,
}

impl Facing {
    /// Reads the wire value; anything but `video` is `image` (the request was validated before).
    pub fn from_wire(orientation: &str) -> Facing {
        if orientation == "video" {
            Facing::Video
        } else {
            Facing::Image
        }
    }

    /// The wire value.
    pub fn wire(self) -> &'static str {
        match self {
            Facing::Image => "image",
            Facing::Video => "video",
        }
    }

    /// The longest output (and reference video) allowed, in seconds.
    pub fn longest_seconds(self) -> u32 {
        match self {
            Facing::Image => MAX_SECONDS_IMAGE,
            Facing::Video => MAX_SECONDS_VIDEO,
        }
    }
}

/// Charged output seconds: the output length rounded to the nearest whole second, a half second
/// going up (§7, §10.5), and never more than the orientation allows.
pub fn charged_seconds(output_ms: u64, facing: Facing) -> u32 {
    let whole = output_ms / 1000;
    let remainder = output_ms % 1000;
    let rounded = if remainder >= 500 { whole + 1 } else { whole };
    u32::try_from(rounded)
        .unwrap_or(u32::MAX)
        .min(facing.longest_seconds())
}

/// The credits held for `seconds` of output at `resolution`, as `usage.credits_reserved` shows
/// them. The simulator reports plain credits (65.3184 for 8 s at 720p), as Kinema's client has
/// always been tested against; §9.12/§10.5 suggest the real service may report the same amount in
/// units of 1/10,000 credit (UC) instead.
pub fn reserved_credits(seconds: u32, resolution: Resolution) -> f64 {
    let millionths = u64::from(seconds) * resolution.price_millionths();
    millionths as f64 / MILLIONTHS_PER_CREDIT as f64
}

/// What one custom-element creation reserves: 1 credit, `per_call` (§7).
pub const ELEMENT_CREDITS: f64 = 1.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_seconds_round_half_up() {
        assert_eq!(charged_seconds(4_499, Facing::Image), 4);
        assert_eq!(charged_seconds(4_500, Facing::Image), 5);
        assert_eq!(charged_seconds(4_999, Facing::Video), 5);
        assert_eq!(charged_seconds(499, Facing::Video), 0);
        assert_eq!(charged_seconds(8_000, Facing::Video), 8);
    }

    #[test]
    fn output_seconds_are_capped_by_the_orientation() {
        assert_eq!(charged_seconds(10_499, Facing::Image), 10);
        assert_eq!(charged_seconds(12_000, Facing::Image), 10);
        assert_eq!(charged_seconds(12_000, Facing::Video), 12);
        assert_eq!(charged_seconds(30_499, Facing::Video), 30);
        assert_eq!(charged_seconds(31_000, Facing::Video), 30);
        assert_eq!(charged_seconds(u64::MAX, Facing::Video), 30);
    }

    #[test]
    fn the_contracts_worked_examples_hold() {
        // §7: "8 s at 720p = 65.3184 credits; 8 s at 1080p = 87.06944 credits."
        assert_eq!(reserved_credits(8, Resolution::Standard), 65.3184);
        assert_eq!(reserved_credits(8, Resolution::High), 87.06944);
        // §9.12: the example reservation 408240 UC is 5 s at 720p, 40.824 credits.
        assert_eq!(reserved_credits(5, Resolution::Standard), 40.824);
        assert_eq!(reserved_credits(1, Resolution::Standard), 8.1648);
        assert_eq!(reserved_credits(1, Resolution::High), 10.88368);
    }

    #[test]
    fn wire_values_are_read_as_documented() {
        assert_eq!(Resolution::from_wire("1080p"), Resolution::High);
        assert_eq!(Resolution::from_wire("720p"), Resolution::Standard);
        assert_eq!(Facing::from_wire("video"), Facing::Video);
        assert_eq!(Facing::from_wire("image"), Facing::Image);
        assert_eq!(Facing::Video.wire(), "video");
        assert_eq!(Facing::Image.longest_seconds(), 10);
        assert_eq!(Facing::Video.longest_seconds(), 30);
    }
}
