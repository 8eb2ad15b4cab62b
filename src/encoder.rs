//! A BERT-shaped encoder's arithmetic, shared by e5 and all-MiniLM-L6-v2: how the weights of
//! its products are held ([`Precision`], [`Linear`]), and its layers on plain rows, a batch's
//! matrix products on AMX tiles in bf16 or on AVX-512 VNNI in 8 bits and the rest in f32
//! without candle's tensors.
//!
//! Embedding a batch of sentences is mostly matrix products of a few hundred token rows by
//! the layers' weights, and with candle's 8-bit kernel on candle's tensors a release build
//! embedded 53 sentences a second on two cores: a third of the time in the products, a fifth
//! quantizing their inputs to 8 bits, the rest in GELU's erf, softmax, padding and copies.
//! A CPU with AMX (Intel's tile unit, Sapphire Rapids on) multiplies 16 x 32 bf16 tiles in
//! one instruction, a hundred times the work of an AVX-512 FMA: there the products almost
//! vanish ([`Matrix::Tiles`]). Elsewhere, with AVX-512 VNNI, they run on citebot's own 8-bit
//! kernel (`vnni`, [`Matrix::Vnni`]): 2.8 times candle's Q8_0 product on all-MiniLM-L6-v2
//! and 2.3 times on e5, measured side by side ([`VNNI_VAR`] switches back). Without either
//! they stay on candle's ([`Matrix::Int8`]). The rest is what this module saves, each step
//! on plain rows:
//!
//! - the tokens of all of a batch's texts are stacked without padding (each text attends
//!   only to its own rows), so no work is spent on padding and none on masks;
//! - each product is `x W^T + b` with `x` rounded to bf16 (8 significant bits, as fine as
//!   the 8-bit path's activations are coarse) and `W` the Q4_0 weights rounded to bf16 once,
//!   packed as the tiles want them (42 MB for the twelve layers); the sums are f32;
//! - attention, softmax, GELU and the layer norms are f32 loops that the compiler vectorizes
//!   for AVX-512, with a polynomial `exp` and erf (Abramowitz and Stegun 7.1.26, within
//!   1.5e-7) instead of the C library's one number at a time.
//!
//! The states stay within cosine 0.999 of e5.c's (the tests in `e5`). [`available`] says
//! whether this CPU and kernel allow AMX, [`rows_available`] whether the f32 steps' AVX-512
//! can run; elsewhere both models run on candle's tensors.

mod amx;
mod vnni;

use std::sync::OnceLock;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Module, Result, Tensor, D};
use candle_nn::VarBuilder;

/// How the weights of the matrix products are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// 8 bits a weight (ggml's Q8_0), multiplied by candle's AVX-512 VNNI kernel.
    Int8,
    /// The published f32 weights, multiplied by gemm.
    F32,
    /// bf16 weights and inputs on AMX tiles, f32 sums: multilingual-e5-small only (`e5`,
    /// where the CPU has AMX); a BERT asked for it is given `Int8`.
    Bf16,
}

/// The environment variable that forces one numeric path (`bf16`, `int8`, `f32`) instead of
/// the fastest this CPU has (`auto`, or unset), so that tests and CI can check every path's
/// figures on one machine. `bf16` needs AMX; `int8` without AVX-512 VNNI runs, slowly.
pub const PRECISION_VAR: &str = "CITEBOT_PRECISION";

impl Precision {
    /// The path [`PRECISION_VAR`] forces, `None` when it is unset, empty or `auto`; an
    /// unknown value is an error that names the ones it takes.
    pub fn forced() -> std::result::Result<Option<Precision>, String> {
        match std::env::var_os(PRECISION_VAR) {
            Some(value) => Precision::parse(&value.to_string_lossy()),
            None => Ok(None),
        }
    }

    /// A value of [`PRECISION_VAR`]: `None` for `auto` (or nothing).
    pub fn parse(value: &str) -> std::result::Result<Option<Precision>, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(None),
            "bf16" => Ok(Some(Precision::Bf16)),
            "int8" => Ok(Some(Precision::Int8)),
            "f32" => Ok(Some(Precision::F32)),
            other => Err(format!(
                "{PRECISION_VAR}={other}: expected auto, bf16, int8 or f32"
            )),
        }
    }

    /// 8 bits where the CPU has the integer kernel that makes them pay. Without it candle
    /// falls back to AVX2 dot products, slower than f32's gemm (a question 10.9 ms against
    /// 9.7, a batch of sentences four times slower), so the weights stay f32.
    pub fn best() -> Precision {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vnni") {
            return Precision::Int8;
        }
        Precision::F32
    }
}

/// `x W^T + b`, the weights held in the precision that multiplies fastest (`e5` builds its
/// own from 4-bit blocks).
pub(crate) enum Linear {
    Int8 {
        weight: QMatMul,
        bias: Tensor,
        /// Zero columns added to `W` and to `x`: candle's tiled 8-bit kernel takes rows of a
        /// multiple of 256 numbers, and BERT's are 384 wide. A third more multiplications by
        /// zero cost less than the untiled kernel (a question, debug build: 7.7 ms against 11.5).
        pad: usize,
    },
    F32(candle_nn::Linear),
}

/// The row length candle's tiled 8-bit kernel needs a multiple of.
pub(crate) const TILE_K: usize = 256;

impl Linear {
    pub(crate) fn new(weight: Tensor, bias: Tensor, precision: Precision) -> Result<Linear> {
        Ok(match precision {
            Precision::F32 => Linear::F32(candle_nn::Linear::new(weight, Some(bias))),
            Precision::Int8 | Precision::Bf16 => {
                let (_, inputs) = weight.dims2()?;
                let pad = inputs.next_multiple_of(TILE_K) - inputs;
                let weight = weight.pad_with_zeros(1, 0, pad)?;
                let weight = QMatMul::from_qtensor(QTensor::quantize(&weight, GgmlDType::Q8_0)?)?;
                Linear::Int8 { weight, bias, pad }
            }
        })
    }

    pub(crate) fn load(
        vb: VarBuilder,
        inputs: usize,
        outputs: usize,
        precision: Precision,
    ) -> Result<Linear> {
        Linear::new(
            vb.get((outputs, inputs), "weight")?,
            vb.get(outputs, "bias")?,
            precision,
        )
    }

    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Linear::F32(linear) => linear.forward(x),
            Linear::Int8 { weight, bias, pad } => {
                let x = x.pad_with_zeros(D::Minus1, 0, *pad)?;
                weight.forward(&x)?.broadcast_add(bias)
            }
        }
    }
}

/// `on` or `off`: whether the 8-bit layers run on plain rows or on candle's tensors, when
/// the CPU allows both. Unset: on plain rows in a release build. A debug build (the tests)
/// keeps candle's tensors, whose kernels are compiled optimized in every profile, where the
/// rows' f32 loops are not: the suite's embedding took four to twelve times as long on rows.
pub const ROWS_VAR: &str = "CITEBOT_ROWS";

/// `on` or `off`: whether the rows' 8-bit products run on citebot's own AVX-512 VNNI kernel
/// (`vnni`) or on candle's Q8_0 one. Unset: the own kernel where the CPU has VNNI.
pub const VNNI_VAR: &str = "CITEBOT_VNNI";

/// Whether the rows' 8-bit products run on the own VNNI kernel here.
pub(crate) fn own_vnni() -> bool {
    std::env::var(VNNI_VAR).as_deref() != Ok("off") && vnni::available()
}

/// What the model's fingerprint adds for the way its vectors are made in `precision`: the
/// rows and the kernel round differently, so their vectors are kept apart.
pub(crate) fn fingerprint_mark(precision: Precision) -> &'static [u8] {
    match (runs_on_rows(precision), precision) {
        (false, _) => b"",
        (true, Precision::Int8) if own_vnni() => b"rows vnni",
        (true, _) => b"rows",
    }
}

/// Whether layers in `precision` run on plain rows here: always on AMX tiles, and in 8 bits
/// where AVX-512 runs the steps between the products, as [`ROWS_VAR`] says. The vectors
/// differ in their last digits between the two ways, so the model's fingerprint says which.
pub fn runs_on_rows(precision: Precision) -> bool {
    let wanted = match std::env::var(ROWS_VAR).as_deref() {
        Ok("on") => true,
        Ok("off") => false,
        _ => !cfg!(debug_assertions),
    };
    precision == Precision::Bf16 || (precision == Precision::Int8 && wanted && rows_available())
}

/// The mean of `rows`, at unit length.
pub(crate) fn pool<'a>(rows: impl Iterator<Item = &'a [f32]>, width: usize) -> Vec<f32> {
    let mut mean = vec![0f32; width];
    let mut n = 0usize;
    for row in rows {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v;
        }
        n += 1;
    }
    let n = n.max(1) as f32;
    for m in mean.iter_mut() {
        *m /= n;
    }
    let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
    for m in mean.iter_mut() {
        *m /= norm;
    }
    mean
}

/// The width of a tile row in bytes, and the rows of a tile.
const TILE_BYTES: usize = 64;
const TILE_ROWS: usize = 16;
/// A tile holds 32 bf16 of a row (the depth of one product) and 16 of its 32-bit results.
const DEPTH: usize = 32;
/// Token rows are multiplied 32 at a time (two tiles of rows), so they are padded to this.
pub(crate) const ROWS: usize = 32;

/// Whether AMX's bf16 products can run here: the CPU has them, with AVX-512 for the rest,
/// and Linux granted this process the tile state (it must be asked for, once).
pub(crate) fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        if std::env::var_os("CITEBOT_NO_AMX").is_some_and(|v| v == "1") {
            return false;
        }
        amx::available()
    })
}

/// Whether the steps between the products can run here (they are compiled for AVX-512).
pub(crate) fn rows_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// A layer's weight matrix and bias, held as its products want them.
pub(crate) enum Matrix {
    /// In bf16 for AMX tiles.
    Tiles(TileMatrix),
    /// In 8-bit blocks for candle's AVX-512 VNNI kernel.
    Int8 {
        linear: Linear,
        inputs: usize,
        outputs: usize,
    },
    /// In int8 for the own VNNI kernel (`vnni`).
    Vnni(vnni::VnniMatrix),
}

/// Room the products reuse between calls: rows in bf16 for the tiles, in bytes for VNNI.
#[derive(Default)]
pub(crate) struct Scratch {
    x16: Vec<u16>,
    bytes: Vec<u8>,
    scales: Vec<f32>,
}

impl Matrix {
    /// An 8-bit layer of `linear`: on the own VNNI kernel where [`own_vnni`], else on
    /// candle's.
    pub(crate) fn int8(linear: Linear, inputs: usize, outputs: usize) -> Result<Matrix> {
        let fits = vnni::VnniMatrix::fits(outputs, inputs);
        if let (true, Linear::Int8 { weight, bias, .. }) = (own_vnni() && fits, &linear) {
            return Ok(Matrix::Vnni(vnni::VnniMatrix::from_qmatmul(
                weight, bias, outputs, inputs,
            )?));
        }
        Ok(Matrix::Int8 {
            linear,
            inputs,
            outputs,
        })
    }

    fn outputs(&self) -> usize {
        match self {
            Matrix::Tiles(m) => m.outputs,
            Matrix::Int8 { outputs, .. } => *outputs,
            Matrix::Vnni(m) => m.outputs,
        }
    }

    /// `out` (tokens x outputs) = `x` (tokens x inputs) `W^T + b`; `out` has room for
    /// `tokens` rounded up to [`ROWS`].
    fn product(
        &self,
        x: &[f32],
        tokens: usize,
        scratch: &mut Scratch,
        out: &mut [f32],
    ) -> candle_core::Result<()> {
        match self {
            Matrix::Tiles(m) => {
                let rows = tokens.next_multiple_of(ROWS);
                scratch.x16.resize(rows * m.inputs, 0);
                to_bf16(x, &mut scratch.x16, tokens, rows, m.inputs);
                m.product(&scratch.x16, rows, out);
            }
            Matrix::Vnni(m) => m.product(x, tokens, (&mut scratch.bytes, &mut scratch.scales), out),
            Matrix::Int8 {
                linear,
                inputs,
                outputs,
            } => {
                let x = candle_core::Tensor::from_slice(
                    &x[..tokens * inputs],
                    (tokens, *inputs),
                    &candle_core::Device::Cpu,
                )?;
                let y = linear.forward(&x)?.flatten_all()?;
                out[..tokens * outputs].copy_from_slice(&y.to_vec1::<f32>()?);
            }
        }
        Ok(())
    }
}

/// A weight matrix `(outputs, inputs)` in bf16, packed tile by tile, and its bias.
pub(crate) struct TileMatrix {
    outputs: usize,
    inputs: usize,
    /// For each 16 outputs, for each 32 inputs, a tile of 16 rows of pairs: row `r`, column
    /// `c` holds the weights of output `c` for inputs `2r` and `2r + 1` (AMX's pairing).
    tiles: Vec<u16>,
    bias: Vec<f32>,
}

impl TileMatrix {
    /// `weight` holds `outputs` rows of `inputs` numbers; both sizes multiples of 32.
    pub(crate) fn new(weight: &[f32], bias: Vec<f32>, outputs: usize, inputs: usize) -> TileMatrix {
        assert!(outputs.is_multiple_of(ROWS) && inputs.is_multiple_of(DEPTH));
        assert_eq!(weight.len(), outputs * inputs);
        assert_eq!(bias.len(), outputs);
        let depths = inputs / DEPTH;
        let mut tiles = vec![0u16; outputs * inputs];
        for group in 0..outputs / TILE_ROWS {
            for d in 0..depths {
                let tile =
                    &mut tiles[(group * depths + d) * TILE_ROWS * DEPTH..][..TILE_ROWS * DEPTH];
                // Each output's 32 weights are read in a row and spread over the tile's rows.
                for c in 0..TILE_ROWS {
                    let w = &weight[(group * TILE_ROWS + c) * inputs + d * DEPTH..][..DEPTH];
                    for (i, &v) in w.iter().enumerate() {
                        tile[(i / 2) * DEPTH + c * 2 + i % 2] = bf16(v);
                    }
                }
            }
        }
        TileMatrix {
            outputs,
            inputs,
            tiles,
            bias,
        }
    }

    /// `out` (rows x outputs) = `x` (rows x inputs, bf16) `W^T + b`; `rows` a multiple of 32.
    fn product(&self, x: &[u16], rows: usize, out: &mut [f32]) {
        assert!(rows.is_multiple_of(ROWS));
        assert!(x.len() >= rows * self.inputs && out.len() >= rows * self.outputs);
        // SAFETY: `available()` was true (a `Network` is only built then) and the sizes
        // were checked: every tile read or written lies inside `x`, the tiles and `out`.
        unsafe { amx::product(x, rows, self.inputs, &self.tiles, self.outputs, out) };
        for row in out[..rows * self.outputs].chunks_exact_mut(self.outputs) {
            for (o, b) in row.iter_mut().zip(&self.bias) {
                *o += b;
            }
        }
    }
}

/// A layer norm's scale and shift.
pub(crate) struct Norm {
    pub(crate) weight: Vec<f32>,
    pub(crate) bias: Vec<f32>,
}

/// One encoder layer's weights.
pub(crate) struct Layer {
    pub(crate) qkv: Matrix,
    pub(crate) attention_out: Matrix,
    pub(crate) attention_norm: Norm,
    pub(crate) intermediate: Matrix,
    pub(crate) output: Matrix,
    pub(crate) output_norm: Norm,
}

/// The encoder's layers, and the sizes they share.
pub(crate) struct Network {
    pub(crate) layers: Vec<Layer>,
    pub(crate) heads: usize,
    pub(crate) hidden: usize,
    pub(crate) eps: f32,
}

impl Network {
    /// The last hidden states of texts whose embedded tokens (after the embeddings' layer
    /// norm) are stacked in `x`, `lengths[i]` rows for text `i`, `hidden` numbers a row.
    pub(crate) fn forward(
        &self,
        mut x: Vec<f32>,
        lengths: &[usize],
    ) -> candle_core::Result<Vec<f32>> {
        let h = self.hidden;
        let tokens: usize = lengths.iter().sum();
        assert_eq!(x.len(), tokens * h);
        let rows = tokens.next_multiple_of(ROWS);
        let widest = self
            .layers
            .iter()
            .map(|l| l.intermediate.outputs().max(l.qkv.outputs()))
            .max()
            .unwrap_or(h);
        let mut scratch = Scratch::default();
        let mut wide = vec![0f32; rows * widest];
        let mut context = vec![0f32; tokens * h];
        let mut y = vec![0f32; rows * h];
        for layer in &self.layers {
            // Attention.
            layer.qkv.product(&x, tokens, &mut scratch, &mut wide)?;
            let mut start = 0;
            for &n in lengths {
                let qkv = &wide[start * 3 * h..(start + n) * 3 * h];
                // SAFETY: rows_available() checked the CPU's features (a `Network` is only
                // built then).
                unsafe { attend(qkv, &mut context[start * h..(start + n) * h], n, self.heads) };
                start += n;
            }
            layer
                .attention_out
                .product(&context, tokens, &mut scratch, &mut y)?;
            // SAFETY: as above.
            unsafe { add_and_norm(&mut x, &y, &layer.attention_norm, h, self.eps) };
            // Feed-forward.
            let ff = layer.intermediate.outputs();
            layer
                .intermediate
                .product(&x, tokens, &mut scratch, &mut wide)?;
            // SAFETY: as above.
            unsafe { gelu(&mut wide[..tokens * ff]) };
            layer.output.product(&wide, tokens, &mut scratch, &mut y)?;
            // SAFETY: as above.
            unsafe { add_and_norm(&mut x, &y, &layer.output_norm, h, self.eps) };
        }
        Ok(x)
    }
}

/// An encoder on plain rows: its position and token-type rows, the embeddings' layer norm,
/// and its layers. What turns the word rows of a batch of texts into their last hidden
/// states, for e5 and for a BERT alike.
pub(crate) struct Encoder {
    pub(crate) network: Network,
    /// `(max positions, hidden)`, row `i` for the `i`-th token.
    pub(crate) positions: Vec<f32>,
    /// Token type 0's row, added to every token.
    pub(crate) token_type: Vec<f32>,
    pub(crate) norm: Norm,
    /// Whether the products run on AMX tiles.
    pub(crate) amx: bool,
}

impl Encoder {
    /// Every token's last hidden state for texts given as their token ids (stacked, and each
    /// text's length), `words` giving the word rows of the stacked ids.
    pub(crate) fn states_of(
        &self,
        ids: &[&[u32]],
        words: impl FnOnce(Vec<u32>) -> Result<Vec<f32>>,
    ) -> Result<(Vec<f32>, Vec<usize>)> {
        let lengths: Vec<usize> = ids.iter().map(|t| t.len()).collect();
        let flat: Vec<u32> = ids.concat();
        if flat.is_empty() {
            return Ok((Vec::new(), lengths));
        }
        Ok((self.states(words(flat)?, &lengths)?, lengths))
    }

    /// The unit-length mean of each text's last hidden states (the sentence vector).
    pub(crate) fn embed(
        &self,
        ids: &[&[u32]],
        words: impl FnOnce(Vec<u32>) -> Result<Vec<f32>>,
    ) -> Result<Vec<Vec<f32>>> {
        let h = self.network.hidden;
        let (states, lengths) = self.states_of(ids, words)?;
        let mut rows = states.chunks_exact(h);
        Ok(lengths
            .iter()
            .map(|&n| pool(rows.by_ref().take(n), h))
            .collect())
    }

    /// Hidden states `(batch, tokens, hidden)` of padded `ids` with their `mask` (1 for a
    /// real token): the padding taken off, the texts through the rows, and put back as
    /// zeros, so that a caller of the tensors' interface gets what the tensors would give.
    pub(crate) fn padded(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        words: impl FnOnce(Vec<u32>) -> Result<Vec<f32>>,
    ) -> Result<Tensor> {
        let (batch, len) = ids.dims2()?;
        let h = self.network.hidden;
        let ids = ids.to_vec2::<u32>()?;
        let mask = mask.to_dtype(candle_core::DType::U32)?.to_vec2::<u32>()?;
        let texts: Vec<&[u32]> = (ids.iter().zip(&mask))
            .map(|(t, m)| &t[..m.iter().filter(|&&v| v != 0).count()])
            .collect();
        let (states, lengths) = self.states_of(&texts, words)?;
        let mut out = vec![0f32; batch * len * h];
        let mut start = 0;
        for (b, &n) in lengths.iter().enumerate() {
            out[b * len * h..][..n * h].copy_from_slice(&states[start * h..(start + n) * h]);
            start += n;
        }
        Tensor::from_vec(out, (batch, len, h), &candle_core::Device::Cpu)
    }

    /// The last hidden states of texts whose tokens' word rows are stacked in `x`,
    /// `lengths[i]` rows for text `i`; each text attends only to itself, none is padded.
    pub(crate) fn states(
        &self,
        mut x: Vec<f32>,
        lengths: &[usize],
    ) -> candle_core::Result<Vec<f32>> {
        let h = self.network.hidden;
        let max = self.positions.len() / h.max(1);
        if let Some(&n) = lengths.iter().find(|&&n| n > max) {
            candle_core::bail!("{n} tokens, more than the model's {max} positions")
        }
        let mut rows = x.chunks_exact_mut(h);
        for &n in lengths {
            for (position, row) in rows.by_ref().take(n).enumerate() {
                let p = &self.positions[position * h..(position + 1) * h];
                for ((v, p), t) in row.iter_mut().zip(p).zip(&self.token_type) {
                    *v += p + t;
                }
                layer_norm(row, &self.norm, self.network.eps);
            }
        }
        self.network.forward(x, lengths)
    }
}

/// `x` (tokens x width, f32) as bf16 into `out`, its rows up to `rows` zero.
fn to_bf16(x: &[f32], out: &mut [u16], tokens: usize, rows: usize, width: usize) {
    for (o, &v) in out[..tokens * width].iter_mut().zip(&x[..tokens * width]) {
        *o = bf16(v);
    }
    out[tokens * width..rows * width].fill(0);
}

/// The nearest bf16 (ties to even): the top 16 bits of an f32, rounded.
#[inline(always)]
fn bf16(v: f32) -> u16 {
    let b = v.to_bits();
    (b.wrapping_add(0x7FFF + ((b >> 16) & 1)) >> 16) as u16
}

/// `x = norm(x + y)`, row by row (`y` may have more rows: the padding).
#[cfg_attr(
    target_arch = "x86_64",
    target_feature(enable = "avx512f,avx512bw,avx512vl,fma")
)]
unsafe fn add_and_norm(x: &mut [f32], y: &[f32], norm: &Norm, width: usize, eps: f32) {
    for (row, add) in x.chunks_exact_mut(width).zip(y.chunks_exact(width)) {
        for (a, b) in row.iter_mut().zip(add) {
            *a += b;
        }
        layer_norm(row, norm, eps);
    }
}

/// A row's layer norm in place: two passes (the mean, then the variance about it).
#[inline(always)]
pub(crate) fn layer_norm(row: &mut [f32], norm: &Norm, eps: f32) {
    let n = row.len() as f32;
    let mean = sum(row) / n;
    let mut lanes = [0f32; 16];
    for chunk in row.chunks_exact(16) {
        for (l, v) in lanes.iter_mut().zip(chunk) {
            let d = v - mean;
            *l = d.mul_add(d, *l);
        }
    }
    let inv = 1.0 / (lanes.iter().sum::<f32>() / n + eps).sqrt();
    for ((v, w), b) in row.iter_mut().zip(&norm.weight).zip(&norm.bias) {
        *v = ((*v - mean) * inv).mul_add(*w, *b);
    }
}

/// A sum in 16 lanes (vectorized; a row's width is a multiple of 16).
#[inline(always)]
fn sum(v: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let chunks = v.chunks_exact(16);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (l, x) in lanes.iter_mut().zip(chunk) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// One text's self-attention: `qkv` holds its `n` rows of query, key and value side by side;
/// each token's context (its heads side by side) goes to `out`.
#[cfg_attr(
    target_arch = "x86_64",
    target_feature(enable = "avx512f,avx512bw,avx512vl,fma")
)]
unsafe fn attend(qkv: &[f32], out: &mut [f32], n: usize, heads: usize) {
    let h = out.len() / n;
    let size = h / heads;
    let scale = 1.0 / (size as f32).sqrt();
    // The keys of a head transposed (size x n), so that a query's scores are a sum of rows;
    // each row padded with zeros to whole registers (16 numbers), so that the loop over it
    // has no scalar tail (a sentence's 20 to 40 tokens left a third of it scalar).
    let width = n.next_multiple_of(16);
    let mut keys = vec![0f32; size * width];
    let mut padded = vec![0f32; width];
    for head in 0..heads {
        for j in 0..n {
            let k = &qkv[j * 3 * h + h + head * size..][..size];
            for (d, &v) in k.iter().enumerate() {
                keys[d * width + j] = v;
            }
        }
        for i in 0..n {
            let q = &qkv[i * 3 * h + head * size..][..size];
            padded.fill(0.0);
            for (d, &qd) in q.iter().enumerate() {
                let qd = qd * scale;
                for (s, k) in padded.iter_mut().zip(&keys[d * width..(d + 1) * width]) {
                    *s = qd.mul_add(*k, *s);
                }
            }
            let scores = &mut padded[..n];
            let max = scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
            for s in scores.iter_mut() {
                *s = exp(*s - max);
            }
            let inv = 1.0 / sum(scores);
            let o = &mut out[i * h + head * size..][..size];
            o.fill(0.0);
            for (j, &p) in scores.iter().enumerate() {
                let v = &qkv[j * 3 * h + 2 * h + head * size..][..size];
                let p = p * inv;
                for (o, v) in o.iter_mut().zip(v) {
                    *o = p.mul_add(*v, *o);
                }
            }
        }
    }
}

/// GELU with the exact erf, in place: `x (1 + erf(x / sqrt 2)) / 2`.
#[cfg_attr(
    target_arch = "x86_64",
    target_feature(enable = "avx512f,avx512bw,avx512vl,fma")
)]
unsafe fn gelu(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// erf by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7), without branches so
/// that loops over it vectorize.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / 0.327_591_1f32.mul_add(a, 1.0);
    let p = 1.061_405_4f32
        .mul_add(t, -1.453_152_1)
        .mul_add(t, 1.421_413_8)
        .mul_add(t, -0.284_496_74)
        .mul_add(t, 0.254_829_6)
        * t;
    let y = 1.0 - p * exp(-a * a);
    y.copysign(x)
}

/// e^x for x <= 0 within an f32's rounding (Cephes' expf polynomial), without branches.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.max(-87.0);
    let n = x.mul_add(std::f32::consts::LOG2_E, 0.5).floor();
    let r = n.mul_add(-0.693_359_4, x);
    let r = n.mul_add(2.121_944_4e-4, r);
    let p = 1.987_569_1e-4f32
        .mul_add(r, 1.398_199_9e-3)
        .mul_add(r, 8.333_452e-3)
        .mul_add(r, 4.166_579_6e-2)
        .mul_add(r, 1.666_666_5e-1)
        .mul_add(r, 0.5);
    let e = (p * r).mul_add(r, r) + 1.0;
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_erf_are_within_their_bounds() {
        for i in 0..=2000 {
            let x = -20.0 + i as f32 * 0.01;
            let want = (x as f64).exp();
            assert!(((exp(x) as f64 - want) / want).abs() < 3e-7, "exp({x})");
        }
        for i in 0..=1000 {
            let x = -5.0 + i as f32 * 0.01;
            let got = erf(x) as f64;
            let want = libm_erf(x as f64);
            assert!((got - want).abs() < 5e-7, "erf({x}): {got} against {want}");
        }
    }

    /// erf by its series (x small) or continued fraction, in f64: a reference for the test.
    fn libm_erf(x: f64) -> f64 {
        // The Taylor series converges everywhere; 60 terms are plenty for |x| <= 5 in f64.
        let mut sum = 0.0;
        let mut term = x;
        for n in 0..200 {
            sum += term / (2 * n + 1) as f64;
            term *= -x * x / (n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    /// A product over tiles against the same sums in f64 of the bf16-rounded numbers.
    #[test]
    fn a_tile_product_is_the_sum_of_the_rounded_numbers() {
        if !available() {
            eprintln!("no AMX here: skipped");
            return;
        }
        let (outputs, inputs, rows) = (64, 96, 64);
        let weight: Vec<f32> = (0..outputs * inputs)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 32.0)
            .collect();
        let bias: Vec<f32> = (0..outputs).map(|i| i as f32 / 8.0).collect();
        let x: Vec<f32> = (0..rows * inputs)
            .map(|i| ((i * 53 % 89) as f32 - 44.0) / 16.0)
            .collect();
        let m = TileMatrix::new(&weight, bias.clone(), outputs, inputs);
        let mut x16 = vec![0u16; rows * inputs];
        to_bf16(&x, &mut x16, rows, rows, inputs);
        let mut out = vec![0f32; rows * outputs];
        m.product(&x16, rows, &mut out);
        let round = |v: f32| f32::from_bits((bf16(v) as u32) << 16) as f64;
        for r in 0..rows {
            for o in 0..outputs {
                let want: f64 = (0..inputs)
                    .map(|i| round(x[r * inputs + i]) * round(weight[o * inputs + i]))
                    .sum::<f64>()
                    + bias[o] as f64;
                let got = out[r * outputs + o] as f64;
                assert!(
                    (got - want).abs() < 1e-3,
                    "row {r} output {o}: {got} against {want}"
                );
            }
        }
    }
}
