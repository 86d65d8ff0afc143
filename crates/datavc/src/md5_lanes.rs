//! MD5 of many messages at once, one message per SIMD lane.
//!
//! MD5 is a chain of 64 dependent steps per block, so one message cannot be hashed faster
//! than the chain's latency allows: 0.38–0.46 GB/s on a core here, with the `md-5` crate.
//! DVC's hash is MD5, and a dataset is mostly many small files, so datavc hashes many
//! files side by side instead, several vectors of lanes interleaved so that one vector's
//! chain fills the others' waits. The digests are MD5's own (RFC 1321); the tests compare
//! them with `md-5` on every length that pads differently.
//!
//! The kernel is chosen when it runs, for the CPU's instructions. `pulp` detects them and
//! runs the kernel compiled with them enabled, which needs no `unsafe` here. Measured on
//! one core here, 64 messages of 100 KiB in memory:
//!
//! | CPU | words of the lanes | lanes | speed |
//! |---|---|---:|---:|
//! | AVX-512 | plain `u32` arrays, in 512-bit vectors | 64 | 7.1 GB/s |
//! | AVX2 | four of `wide`'s `u32x4`, in AVX's forms | 16 | 3.8 GB/s |
//! | other (SSE2, NEON) | four of `wide`'s `u32x4` | 16 | 2.9 GB/s |
//!
//! On AVX-512 the compiler turns MD5's rotations and its three-input functions into one
//! instruction each. Elsewhere it does worse with plain arrays than with `wide`'s explicit
//! vectors: 3.1 GB/s with AVX2 (two 256-bit vectors), 1.2 GB/s with SSE2.

use std::ops::{Add, BitAnd, BitOr, BitXor, Shl, Shr};

use wide::u32x4;

const INITIAL: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// The additive constants of RFC 1321, `floor(abs(sin(i + 1)) * 2^32)`.
const K: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

/// The most messages hashed at once, on AVX-512: four vectors of sixteen lanes.
pub const MOST_LANES: usize = 64;

/// The MD5 digests of `messages`, in their order.
pub fn digests(messages: &[&[u8]]) -> Vec<[u8; 16]> {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(simd) = pulp::x86::V4::try_new() {
            return simd.vectorize(Kernel::<Word<u32, MOST_LANES>>::new(messages));
        }
        if let Some(simd) = pulp::x86::V3::try_new() {
            return simd.vectorize(Kernel::<Word<u32x4, 4>>::new(messages));
        }
    }
    digests_in::<Word<u32x4, 4>>(messages)
}

/// [`digests_in`] as a call that `pulp` compiles with a CPU's instructions enabled.
#[cfg(target_arch = "x86_64")]
struct Kernel<'a, W> {
    messages: &'a [&'a [u8]],
    word: std::marker::PhantomData<W>,
}

#[cfg(target_arch = "x86_64")]
impl<'a, W> Kernel<'a, W> {
    fn new(messages: &'a [&'a [u8]]) -> Self {
        Kernel {
            messages,
            word: std::marker::PhantomData,
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl<W: Lanes> pulp::NullaryFnOnce for Kernel<'_, W> {
    type Output = Vec<[u8; 16]>;

    // Inlined into `pulp`'s function with the instructions enabled, or they are not used.
    #[inline(always)]
    fn call(self) -> Self::Output {
        digests_in::<W>(self.messages)
    }
}

/// [`digests`] with `W::LANES` messages in flight.
#[inline(always)]
fn digests_in<W: Lanes>(messages: &[&[u8]]) -> Vec<[u8; 16]> {
    let mut digests = vec![[0; 16]; messages.len()];
    let mut waiting = messages.iter().copied().enumerate();
    let mut lanes: Vec<Option<Lane<'_>>> = (0..W::LANES).map(|_| None).collect();
    let mut state = [W::splat(0); 4];
    loop {
        for (l, lane) in lanes.iter_mut().enumerate() {
            if lane.is_none()
                && let Some((index, bytes)) = waiting.next()
            {
                *lane = Some(Lane::new(index, bytes));
                for (word, initial) in state.iter_mut().zip(INITIAL) {
                    word.set(l, initial);
                }
            }
        }
        // Step every lane until the first one finishes its message.
        let Some(run) = lanes.iter().flatten().map(Lane::blocks_left).min() else {
            return digests;
        };
        for _ in 0..run {
            compress(&mut state, &message_words(&lanes));
            lanes.iter_mut().flatten().for_each(|lane| lane.next += 1);
        }
        for (l, slot) in lanes.iter_mut().enumerate() {
            if let Some(lane) = slot.take_if(|lane| lane.blocks_left() == 0) {
                let digest = &mut digests[lane.index];
                for (out, word) in digest.chunks_exact_mut(4).zip(&state) {
                    out.copy_from_slice(&word.get(l).to_le_bytes());
                }
            }
        }
    }
}

/// A message in a lane, and the next of its blocks to hash.
struct Lane<'a> {
    index: usize,
    message: Padded<'a>,
    next: usize,
}

impl<'a> Lane<'a> {
    fn new(index: usize, bytes: &'a [u8]) -> Self {
        Lane {
            index,
            message: Padded::new(bytes),
            next: 0,
        }
    }

    fn blocks_left(&self) -> usize {
        self.message.blocks - self.next
    }

    fn block(&self) -> &[u8] {
        self.message.block(self.next)
    }
}

/// A message as MD5 reads it: its whole 64-byte blocks, then one or two blocks holding the
/// rest, the `0x80` marker, zeros and the length in bits.
struct Padded<'a> {
    whole: &'a [u8],
    tail: [u8; 128],
    blocks: usize,
}

impl<'a> Padded<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let (whole, rest) = bytes.split_at(bytes.len() / 64 * 64);
        let mut tail = [0; 128];
        tail[..rest.len()].copy_from_slice(rest);
        tail[rest.len()] = 0x80;
        let tail_len = if rest.len() < 56 { 64 } else { 128 };
        let bits = (bytes.len() as u64).wrapping_mul(8);
        tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_le_bytes());
        Padded {
            whole,
            tail,
            blocks: (whole.len() + tail_len) / 64,
        }
    }

    fn block(&self, i: usize) -> &[u8] {
        let start = i * 64;
        match self.whole.get(start..start + 64) {
            Some(block) => block,
            None => {
                let start = start - self.whole.len();
                &self.tail[start..start + 64]
            }
        }
    }
}

/// The sixteen words of each lane's current block, one [`Lanes`] per word index. An empty
/// lane hashes zeros, which nobody reads.
#[inline(always)]
fn message_words<W: Lanes>(lanes: &[Option<Lane<'_>>]) -> [W; 16] {
    const EMPTY: [u8; 64] = [0; 64];
    let mut words = [W::splat(0); 16];
    for (quad, group) in lanes.chunks_exact(4).enumerate() {
        let blocks: [&[u8]; 4] =
            std::array::from_fn(|j| group[j].as_ref().map_or(&EMPTY[..], Lane::block));
        // Four lanes' rows of four words, transposed into four words of four lanes: one
        // vector store each, where word-by-word stores took most of the time.
        for quarter in 0..4 {
            let rows = blocks.map(|block| row(&block[16 * quarter..16 * quarter + 16]));
            for (j, column) in u32x4::transpose(rows).into_iter().enumerate() {
                words[4 * quarter + j].set_quad(quad, column);
            }
        }
    }
    words
}

#[inline(always)]
fn row(bytes: &[u8]) -> u32x4 {
    u32x4::new(std::array::from_fn(|j| {
        u32::from_le_bytes([
            bytes[4 * j],
            bytes[4 * j + 1],
            bytes[4 * j + 2],
            bytes[4 * j + 3],
        ])
    }))
}

/// One MD5 block for every lane (RFC 1321, section 3.4).
#[inline(always)]
fn compress<W: Lanes>(state: &mut [W; 4], m: &[W; 16]) {
    let [mut a, mut b, mut c, mut d] = *state;
    macro_rules! round {
        ($f:ident, $word:expr, $first:literal, $shifts:expr) => {
            for quarter in 0..4 {
                let i = $first + 4 * quarter;
                a = step(a, b, $f(b, c, d), m[$word(i)], K[i], $shifts[0]);
                d = step(d, a, $f(a, b, c), m[$word(i + 1)], K[i + 1], $shifts[1]);
                c = step(c, d, $f(d, a, b), m[$word(i + 2)], K[i + 2], $shifts[2]);
                b = step(b, c, $f(c, d, a), m[$word(i + 3)], K[i + 3], $shifts[3]);
            }
        };
    }
    round!(aux_f, |i: usize| i, 0, [7, 12, 17, 22]);
    round!(aux_g, |i: usize| (5 * i + 1) % 16, 16, [5, 9, 14, 20]);
    round!(aux_h, |i: usize| (3 * i + 5) % 16, 32, [4, 11, 16, 23]);
    round!(aux_i, |i: usize| (7 * i) % 16, 48, [6, 10, 15, 21]);
    for (word, added) in state.iter_mut().zip([a, b, c, d]) {
        *word = *word + added;
    }
}

#[inline(always)]
fn step<W: Lanes>(a: W, b: W, f: W, m: W, k: u32, shift: u32) -> W {
    b + (a + f + m + W::splat(k)).rotate_left(shift)
}

// RFC 1321's auxiliary functions F, G, H and I; F and G in equal forms with one operation
// fewer.
#[inline(always)]
fn aux_f<W: Lanes>(x: W, y: W, z: W) -> W {
    z ^ (x & (y ^ z))
}

#[inline(always)]
fn aux_g<W: Lanes>(x: W, y: W, z: W) -> W {
    y ^ (z & (x ^ y))
}

#[inline(always)]
fn aux_h<W: Lanes>(x: W, y: W, z: W) -> W {
    x ^ y ^ z
}

#[inline(always)]
fn aux_i<W: Lanes>(x: W, y: W, z: W) -> W {
    y ^ (x | (z ^ W::splat(u32::MAX)))
}

/// One 32-bit word of each of `LANES` messages.
trait Lanes:
    Copy + Add<Output = Self> + BitAnd<Output = Self> + BitOr<Output = Self> + BitXor<Output = Self>
{
    const LANES: usize;
    fn splat(value: u32) -> Self;
    fn rotate_left(self, shift: u32) -> Self;
    fn get(&self, lane: usize) -> u32;
    fn set(&mut self, lane: usize, value: u32);
    /// Sets lanes `4 * quad` to `4 * quad + 3`.
    fn set_quad(&mut self, quad: usize, values: u32x4);
}

/// `N` vectors (or plain words) of `E`, stepped together.
#[derive(Clone, Copy)]
struct Word<E, const N: usize>([E; N]);

/// A lane type: a plain `u32`, or a vector of them.
trait Element:
    Copy
    + BitAnd<Output = Self>
    + BitOr<Output = Self>
    + BitXor<Output = Self>
    + Shl<u32, Output = Self>
    + Shr<u32, Output = Self>
{
    const LANES: usize;
    fn splat(value: u32) -> Self;
    fn wrapping_add(self, other: Self) -> Self;
    fn get(words: &[Self], lane: usize) -> u32;
    fn set(words: &mut [Self], lane: usize, value: u32);
    fn set_quad(words: &mut [Self], quad: usize, values: u32x4);
}

impl Element for u32 {
    const LANES: usize = 1;

    #[inline(always)]
    fn splat(value: u32) -> Self {
        value
    }

    #[inline(always)]
    fn wrapping_add(self, other: Self) -> Self {
        u32::wrapping_add(self, other)
    }

    fn get(words: &[Self], lane: usize) -> u32 {
        words[lane]
    }

    fn set(words: &mut [Self], lane: usize, value: u32) {
        words[lane] = value;
    }

    #[inline(always)]
    fn set_quad(words: &mut [Self], quad: usize, values: u32x4) {
        words[4 * quad..4 * quad + 4].copy_from_slice(&values.to_array());
    }
}

impl Element for u32x4 {
    const LANES: usize = 4;

    #[inline(always)]
    fn splat(value: u32) -> Self {
        u32x4::splat(value)
    }

    #[inline(always)]
    fn wrapping_add(self, other: Self) -> Self {
        self + other
    }

    fn get(words: &[Self], lane: usize) -> u32 {
        words[lane / 4].to_array()[lane % 4]
    }

    fn set(words: &mut [Self], lane: usize, value: u32) {
        words[lane / 4].as_mut_array()[lane % 4] = value;
    }

    #[inline(always)]
    fn set_quad(words: &mut [Self], quad: usize, values: u32x4) {
        words[quad] = values;
    }
}

impl<E: Element, const N: usize> Lanes for Word<E, N> {
    const LANES: usize = N * E::LANES;

    #[inline(always)]
    fn splat(value: u32) -> Self {
        Word([E::splat(value); N])
    }

    #[inline(always)]
    fn rotate_left(self, shift: u32) -> Self {
        Word(self.0.map(|x| (x << shift) | (x >> (32 - shift))))
    }

    fn get(&self, lane: usize) -> u32 {
        E::get(&self.0, lane)
    }

    fn set(&mut self, lane: usize, value: u32) {
        E::set(&mut self.0, lane, value);
    }

    #[inline(always)]
    fn set_quad(&mut self, quad: usize, values: u32x4) {
        E::set_quad(&mut self.0, quad, values);
    }
}

impl<E: Element, const N: usize> Word<E, N> {
    #[inline(always)]
    fn zip(self, other: Self, op: impl Fn(E, E) -> E) -> Self {
        Word(std::array::from_fn(|i| op(self.0[i], other.0[i])))
    }
}

impl<E: Element, const N: usize> Add for Word<E, N> {
    type Output = Self;
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self.zip(other, E::wrapping_add)
    }
}

impl<E: Element, const N: usize> BitAnd for Word<E, N> {
    type Output = Self;
    #[inline(always)]
    fn bitand(self, other: Self) -> Self {
        self.zip(other, |x, y| x & y)
    }
}

impl<E: Element, const N: usize> BitOr for Word<E, N> {
    type Output = Self;
    #[inline(always)]
    fn bitor(self, other: Self) -> Self {
        self.zip(other, |x, y| x | y)
    }
}

impl<E: Element, const N: usize> BitXor for Word<E, N> {
    type Output = Self;
    #[inline(always)]
    fn bitxor(self, other: Self) -> Self {
        self.zip(other, |x, y| x ^ y)
    }
}

#[cfg(test)]
mod tests {
    use md5::Digest;

    use super::*;

    fn reference(bytes: &[u8]) -> [u8; 16] {
        md5::Md5::digest(bytes).into()
    }

    /// The digests from every kernel this CPU can run, the one [`digests`] picks last.
    fn every_kernel(messages: &[&[u8]]) -> Vec<Vec<[u8; 16]>> {
        let mut results = vec![digests_in::<Word<u32x4, 4>>(messages)];
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(simd) = pulp::x86::V3::try_new() {
                results.push(simd.vectorize(Kernel::<Word<u32x4, 4>>::new(messages)));
            }
            if let Some(simd) = pulp::x86::V4::try_new() {
                results.push(simd.vectorize(Kernel::<Word<u32, MOST_LANES>>::new(messages)));
            }
        }
        results.push(digests(messages));
        results
    }

    fn pseudo_random(len: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9_u32;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    #[test]
    fn rfc_1321_test_suite() {
        let suite: [(&[u8], &str); 7] = [
            (b"", "d41d8cd98f00b204e9800998ecf8427e"),
            (b"a", "0cc175b9c0f1b6a831c399e269772661"),
            (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                b"abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        let messages: Vec<&[u8]> = suite.iter().map(|(message, _)| *message).collect();
        let expected: Vec<&str> = suite.iter().map(|(_, digest)| *digest).collect();
        for digests in every_kernel(&messages) {
            let hex: Vec<String> = digests.iter().map(hex::encode).collect();
            assert_eq!(hex, expected);
        }
    }

    #[test]
    fn every_padding_case_matches_md5() {
        // Lengths 0 to 300 cover the tail in one block and in two, at every offset; the
        // staggered starts give the lanes different alignments and finishing times.
        let data = pseudo_random(5_000);
        let messages: Vec<&[u8]> = (0..=300)
            .map(|len| &data[len % 97..len % 97 + len])
            .chain([&data[..]])
            .collect();
        let expected: Vec<[u8; 16]> = messages.iter().map(|m| reference(m)).collect();
        for (kernel, got) in every_kernel(&messages).into_iter().enumerate() {
            for ((message, digest), expected) in messages.iter().zip(&got).zip(&expected) {
                assert_eq!(
                    digest,
                    expected,
                    "kernel {kernel}, length {}",
                    message.len()
                );
            }
        }
    }

    #[test]
    fn fewer_messages_than_lanes_and_none_at_all() {
        let data = pseudo_random(1_000);
        let messages = [&data[..10], &data[..700], &data[..64]];
        for (none, got) in every_kernel(&[]).into_iter().zip(every_kernel(&messages)) {
            assert!(none.is_empty());
            assert_eq!(got, messages.map(reference).to_vec());
        }
    }
}
