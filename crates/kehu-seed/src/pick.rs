//! Small sampling helpers shared by the generator.

use rand::Rng;

/// A weighted list sampled by binary search over cumulative weights, so a pick costs
/// O(log n) whatever the table size.
pub(crate) struct Weighted<T: 'static> {
    items: &'static [(T, u32)],
    cumulative: Vec<u32>,
}

impl<T> Weighted<T> {
    pub(crate) fn new(items: &'static [(T, u32)]) -> Self {
        let mut total = 0u32;
        let cumulative = items
            .iter()
            .map(|(_, w)| {
                total += w;
                total
            })
            .collect();
        assert!(total > 0, "a weighted table needs a positive total weight");
        Weighted { items, cumulative }
    }

    pub(crate) fn pick_index<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let total = *self.cumulative.last().expect("non-empty");
        let x = rng.random_range(0..total);
        self.cumulative.partition_point(|&c| c <= x)
    }

    pub(crate) fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> &'static T {
        &self.items[self.pick_index(rng)].0
    }
}

/// Uniform pick from a non-empty slice.
pub(crate) fn one<'a, T, R: Rng + ?Sized>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Uniform pick from a non-empty list of static strings (`one` would infer `str`
/// through deref coercion where a `&str` is expected).
pub(crate) fn word<R: Rng + ?Sized>(rng: &mut R, items: &[&'static str]) -> &'static str {
    items[rng.random_range(0..items.len())]
}

/// Appends `value` as exactly `width` decimal digits (zero-padded), without going
/// through `format!`: this runs tens of millions of times in a benchmark-size run.
pub(crate) fn push_digits(s: &mut String, mut value: u64, width: usize) {
    let mut buf = [b'0'; 20];
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    // Only ASCII digits were written.
    s.push_str(std::str::from_utf8(&buf[..width]).expect("ASCII digits"));
}

/// Appends `value` in decimal without padding.
pub(crate) fn push_number(s: &mut String, value: u64) {
    let mut width = 1;
    let mut v = value;
    while v >= 10 {
        v /= 10;
        width += 1;
    }
    push_digits(s, value, width);
}

/// `n` random decimal digits, the first one from `first_min..=9`.
pub(crate) fn push_random_digits<R: Rng + ?Sized>(
    s: &mut String,
    rng: &mut R,
    n: usize,
    first_min: u8,
) {
    for k in 0..n {
        let lo = if k == 0 { first_min } else { 0 };
        s.push((b'0' + rng.random_range(lo..=9)) as char);
    }
}

/// SplitMix64's finaliser: turns (seed, index, stream) into well-spread PRNG seeds, so
/// neighbouring indexes get unrelated streams.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_padded_and_plain() {
        let mut s = String::new();
        push_digits(&mut s, 42, 4);
        s.push('|');
        push_number(&mut s, 0);
        s.push('|');
        push_number(&mut s, 1202);
        assert_eq!(s, "0042|0|1202");
    }
}
