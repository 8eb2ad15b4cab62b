//! The 8-bit products of the rows network on AVX-512 VNNI, without candle: `x W^T + b` with
//! `W` and `x` in int8, one scale for every [`BLOCK`] inputs of a weight row and of an input
//! row, as ggml's Q8_0 has one for every 32.
//!
//! candle's Q8_0 product, which this replaces on CPUs without AMX, quantizes its input on
//! every call into padded rows of 256 and multiplies one row by one output at a time, so
//! every weight is read again for every token. Here the inner loop keeps a block of 3 token
//! rows by 64 outputs in registers: each 64-byte load of weights serves 3 rows and each
//! broadcast of 4 input bytes serves 64 outputs, through `vpdpbusd` (64 products of an
//! unsigned and a signed byte, summed in fours into 16 int32 lanes). After each block of
//! inputs the int32 sums are scaled into f32 ones.
//!
//! `vpdpbusd` takes its first operand unsigned: the rows are stored shifted by 128 (the
//! int8 value `q` as the byte `q + 128`), and what the shift adds to a block's sum,
//! `128 * sum(w)` over the block, is computed once with the weights and taken off.
//!
//! Scales per block, not per row, because a row of states has a few large values among
//! small ones: with one scale per row the small ones lose most of their bits, and
//! all-MiniLM-L6-v2's states fell to cosine 0.994 of the reference network's.

use candle_core::quantized::QMatMul;
use candle_core::{Device, Result};

/// Outputs a register of sums holds, and the inputs one `vpdpbusd` lane sums.
const LANES: usize = 16;
const GROUP: usize = 4;
/// Inputs that share a scale.
pub(crate) const BLOCK: usize = 64;
/// The block of the inner loop: token rows by registers of outputs.
const ROWS: usize = 3;
const REGISTERS: usize = 4;

/// Whether this CPU runs the products: AVX-512 with VNNI.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// A weight matrix `(outputs, inputs)` in int8, packed for `vpdpbusd`, and its bias.
pub(crate) struct VnniMatrix {
    pub(crate) outputs: usize,
    pub(crate) inputs: usize,
    /// For each 16 outputs, for each 4 inputs, 64 bytes: output `c`'s weights for the 4
    /// inputs at `4c..4c + 4`.
    packed: Vec<i8>,
    /// For each 16 outputs, for each block of inputs, the 16 outputs' scales there (the
    /// largest weight's size / 127)...
    scales: Vec<f32>,
    /// ...and `128 * sum(w)` over the block: what the rows' shift adds to its sums.
    shift: Vec<i32>,
    bias: Vec<f32>,
}

impl VnniMatrix {
    /// `weight` holds `outputs` rows of `inputs` numbers; `outputs` a multiple of 16 and
    /// `inputs` of [`BLOCK`] ([`VnniMatrix::fits`]).
    pub(crate) fn new(weight: &[f32], bias: Vec<f32>, outputs: usize, inputs: usize) -> Self {
        assert!(VnniMatrix::fits(outputs, inputs));
        assert_eq!(weight.len(), outputs * inputs);
        assert_eq!(bias.len(), outputs);
        let blocks = inputs / BLOCK;
        let mut packed = vec![0i8; outputs * inputs];
        let mut scales = vec![0f32; outputs * blocks];
        let mut shift = vec![0i32; outputs * blocks];
        for (o, row) in weight.chunks_exact(inputs).enumerate() {
            let (register, lane) = (o / LANES, o % LANES);
            for (b, part) in row.chunks_exact(BLOCK).enumerate() {
                let scale = scale_of(part);
                let mut sum = 0i32;
                for (n, &w) in part.iter().enumerate() {
                    let i = b * BLOCK + n;
                    let q = (w / scale).round().clamp(-127.0, 127.0) as i8;
                    sum += i32::from(q);
                    let at = register * inputs * LANES + (i / GROUP) * LANES * GROUP;
                    packed[at + lane * GROUP + i % GROUP] = q;
                }
                let at = (register * blocks + b) * LANES + lane;
                scales[at] = scale;
                shift[at] = 128 * sum;
            }
        }
        VnniMatrix {
            outputs,
            inputs,
            packed,
            scales,
            shift,
            bias,
        }
    }

    /// Whether a layer of these sizes can be held here.
    pub(crate) fn fits(outputs: usize, inputs: usize) -> bool {
        outputs.is_multiple_of(LANES) && inputs.is_multiple_of(BLOCK) && inputs > 0
    }

    /// From candle's 8-bit (or any) weights: dequantized, then held as here.
    pub(crate) fn from_qmatmul(
        weight: &QMatMul,
        bias: &candle_core::Tensor,
        outputs: usize,
        inputs: usize,
    ) -> Result<Self> {
        let weight = match weight {
            QMatMul::QTensor(t) => t.dequantize(&Device::Cpu)?,
            QMatMul::Tensor(t) | QMatMul::TensorF16(t) => t.clone(),
        };
        // The weights may be padded with zero columns (candle's kernel wanted a multiple of
        // 256 inputs): only the first `inputs` are the layer's.
        let weight = weight
            .narrow(1, 0, inputs)?
            .to_dtype(candle_core::DType::F32)?;
        let weight: Vec<f32> = weight.flatten_all()?.to_vec1()?;
        let bias: Vec<f32> = bias.to_dtype(candle_core::DType::F32)?.to_vec1()?;
        Ok(VnniMatrix::new(&weight, bias, outputs, inputs))
    }

    /// `out` (tokens x outputs) = `x` (tokens x inputs) `W^T + b`; `scratch` is room for the
    /// rows in bytes and their scales, reused between calls.
    pub(crate) fn product(
        &self,
        x: &[f32],
        tokens: usize,
        (bytes, row_scales): (&mut Vec<u8>, &mut Vec<f32>),
        out: &mut [f32],
    ) {
        let (inputs, outputs) = (self.inputs, self.outputs);
        assert!(x.len() >= tokens * inputs && out.len() >= tokens * outputs);
        assert!(
            available(),
            "a VnniMatrix is only used where the CPU has VNNI"
        );
        bytes.resize(tokens * inputs, 0);
        row_scales.resize(tokens * (inputs / BLOCK), 0.0);
        // SAFETY: the CPU's features and the sizes were checked above.
        unsafe {
            imp::quantize(&x[..tokens * inputs], bytes, row_scales);
            imp::product(self, bytes, row_scales, tokens, out);
        }
    }
}

/// The scale of a block: its largest size / 127 (1 for a block of zeros).
fn scale_of(block: &[f32]) -> f32 {
    let largest = block.iter().fold(0f32, |m, v| m.max(v.abs()));
    if largest > 0.0 {
        largest / 127.0
    } else {
        1.0
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::*;

    use super::{VnniMatrix, BLOCK, GROUP, LANES, REGISTERS, ROWS};

    /// Each [`BLOCK`] of `x` as int8 shifted to unsigned bytes, into `out`, and its scale
    /// (the block's largest size / 127). Vectorized by hand: `f32::round` is a call to the
    /// C library per number, and the loop took a quarter of e5's time that way.
    ///
    /// # Safety
    /// The CPU has AVX-512 F; `out` holds `x.len()` bytes and `scales` `x.len() / BLOCK`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn quantize(x: &[f32], out: &mut [u8], scales: &mut [f32]) {
        const PER: usize = BLOCK / LANES;
        let (low, high, shift) = (
            _mm512_set1_epi32(-127),
            _mm512_set1_epi32(127),
            _mm512_set1_epi32(128),
        );
        for ((block, bytes), scale) in x
            .chunks_exact(BLOCK)
            .zip(out.chunks_exact_mut(BLOCK))
            .zip(scales.iter_mut())
        {
            let mut v = [_mm512_setzero_ps(); PER];
            let mut largest = _mm512_setzero_ps();
            for (r, v) in v.iter_mut().enumerate() {
                *v = _mm512_loadu_ps(block.as_ptr().add(r * LANES));
                largest = _mm512_max_ps(largest, _mm512_abs_ps(*v));
            }
            let largest = _mm512_reduce_max_ps(largest);
            *scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
            let inverse = _mm512_set1_ps(1.0 / *scale);
            for (r, v) in v.iter().enumerate() {
                // Rounded to the nearest (MXCSR's default), kept within +-127, shifted.
                let q = _mm512_cvtps_epi32(_mm512_mul_ps(*v, inverse));
                let q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, low), high), shift);
                let dst = bytes.as_mut_ptr().add(r * LANES);
                _mm_storeu_si128(dst.cast(), _mm512_cvtepi32_epi8(q));
            }
        }
    }

    /// `out = x W^T + b` for the shifted rows `x` and their block scales, block by block of
    /// [`ROWS`] rows by [`REGISTERS`] registers of outputs.
    ///
    /// # Safety
    /// The CPU has AVX-512 F, BW and VNNI; `x` holds `tokens * inputs` bytes, `scales`
    /// `tokens * inputs / BLOCK`, `out` `tokens * outputs` numbers.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn product(
        m: &VnniMatrix,
        x: &[u8],
        scales: &[f32],
        tokens: usize,
        out: &mut [f32],
    ) {
        let registers = m.outputs / LANES;
        let mut register = 0;
        while register < registers {
            let r = (registers - register).min(REGISTERS);
            let mut row = 0;
            while row < tokens {
                let n = (tokens - row).min(ROWS);
                let at = Block { row, register };
                // The common case at full size; the edges with the same code, fewer lanes.
                match (n, r) {
                    (3, 4) => kernel::<3, 4>(m, x, scales, at, out),
                    _ => {
                        for i in 0..n {
                            for j in 0..r {
                                let at = Block {
                                    row: row + i,
                                    register: register + j,
                                };
                                kernel::<1, 1>(m, x, scales, at, out);
                            }
                        }
                    }
                }
                row += n;
            }
            register += r;
        }
    }

    /// Where a kernel's block starts: its first token row and first register of outputs.
    #[derive(Clone, Copy)]
    struct Block {
        row: usize,
        register: usize,
    }

    /// Rows `row..row + R` by the outputs of registers `register..register + C`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn kernel<const R: usize, const C: usize>(
        m: &VnniMatrix,
        x: &[u8],
        row_scales: &[f32],
        at: Block,
        out: &mut [f32],
    ) {
        let (inputs, outputs) = (m.inputs, m.outputs);
        let blocks = inputs / BLOCK;
        let mut total = [[_mm512_setzero_ps(); C]; R];
        let xp = x.as_ptr().add(at.row * inputs);
        let wp = m.packed.as_ptr().add(at.register * inputs * LANES);
        for b in 0..blocks {
            let mut sums = [[_mm512_setzero_si512(); C]; R];
            for k in b * BLOCK / GROUP..(b + 1) * BLOCK / GROUP {
                let mut weights = [_mm512_setzero_si512(); C];
                for (j, v) in weights.iter_mut().enumerate() {
                    let w = wp.add(j * inputs * LANES + k * LANES * GROUP);
                    *v = _mm512_loadu_si512(w.cast());
                }
                for (i, sums) in sums.iter_mut().enumerate() {
                    let four = (xp.add(i * inputs + k * GROUP) as *const i32).read_unaligned();
                    let four = _mm512_set1_epi32(four);
                    for (s, &v) in sums.iter_mut().zip(&weights) {
                        *s = _mm512_dpbusd_epi32(*s, four, v);
                    }
                }
            }
            for j in 0..C {
                let k = ((at.register + j) * blocks + b) * LANES;
                let shift = _mm512_loadu_si512(m.shift.as_ptr().add(k).cast());
                let w_scale = _mm512_loadu_ps(m.scales.as_ptr().add(k));
                for i in 0..R {
                    let x_scale =
                        _mm512_set1_ps(*row_scales.get_unchecked((at.row + i) * blocks + b));
                    let sum = _mm512_cvtepi32_ps(_mm512_sub_epi32(sums[i][j], shift));
                    total[i][j] =
                        _mm512_fmadd_ps(sum, _mm512_mul_ps(w_scale, x_scale), total[i][j]);
                }
            }
        }
        for (i, total) in total.iter().enumerate() {
            for (j, t) in total.iter().enumerate() {
                let o = (at.register + j) * LANES;
                let bias = _mm512_loadu_ps(m.bias.as_ptr().add(o));
                let dst = out.as_mut_ptr().add((at.row + i) * outputs + o);
                _mm512_storeu_ps(dst, _mm512_add_ps(*t, bias));
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    pub(super) unsafe fn quantize(_: &[f32], _: &mut [u8], _: &mut [f32]) {
        unreachable!("VNNI is x86 only")
    }

    pub(super) unsafe fn product(
        _: &super::VnniMatrix,
        _: &[u8],
        _: &[f32],
        _: usize,
        _: &mut [f32],
    ) {
        unreachable!("VNNI is x86 only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic numbers, some large (as a layer's outliers are).
    fn numbers(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let v = (s % 2001) as f32 / 1000.0 - 1.0;
                if i % 97 == 0 {
                    v * 6.0
                } else {
                    v
                }
            })
            .collect()
    }

    #[test]
    fn the_product_is_within_8_bit_rounding_of_the_exact_one() {
        if !available() {
            eprintln!("no AVX-512 VNNI here: the kernel is not run");
            return;
        }
        // Sizes with edges on both sides: 7 rows (3 + 3 + 1), 80 outputs (4 registers + 1).
        let (tokens, inputs, outputs) = (7, 128, 80);
        let x = numbers(tokens * inputs, 1);
        let w = numbers(outputs * inputs, 2);
        let bias = numbers(outputs, 3);
        let m = VnniMatrix::new(&w, bias.clone(), outputs, inputs);
        let mut out = vec![0f32; tokens * outputs];
        m.product(&x, tokens, (&mut Vec::new(), &mut Vec::new()), &mut out);
        let mut worst = 0f32;
        for t in 0..tokens {
            for o in 0..outputs {
                let exact: f32 = (0..inputs)
                    .map(|i| x[t * inputs + i] * w[o * inputs + i])
                    .sum::<f32>()
                    + bias[o];
                // Each factor is off by at most half a step of its scale.
                let xs = x[t * inputs..][..inputs]
                    .iter()
                    .fold(0f32, |m, v| m.max(v.abs()));
                let ws = w[o * inputs..][..inputs]
                    .iter()
                    .fold(0f32, |m, v| m.max(v.abs()));
                let bound = inputs as f32 * (xs * ws) * (1.0 / 127.0 + 0.25 / 127.0 / 127.0);
                let error = (out[t * outputs + o] - exact).abs();
                assert!(error <= bound, "row {t} output {o}: {error} > {bound}");
                worst = worst.max(error / bound);
            }
        }
        // Rounding errors cancel: far inside the worst case.
        assert!(worst < 0.2, "{worst}");
    }

    #[test]
    fn zero_rows_and_weights_give_the_bias() {
        if !available() {
            return;
        }
        let m = VnniMatrix::new(&[0.0; 16 * 64], (0..16).map(|i| i as f32).collect(), 16, 64);
        let mut out = vec![9f32; 2 * 16];
        m.product(&[0.0; 128], 2, (&mut Vec::new(), &mut Vec::new()), &mut out);
        assert_eq!(&out[16..], (0..16).map(|i| i as f32).collect::<Vec<_>>());
    }
}
