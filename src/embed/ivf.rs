//! Sentence vectors at size: 8-bit codes in memory and an inverted-file index (IVF) over them,
//! so that a question reads a few percent of a million sentences instead of all of them.
//!
//! Below [`INDEX_FROM`] rows nothing here is used: the f32 vectors and the exact scan stay,
//! and answers on a small knowledge (the article) are the same to the bit. Above it a layer's
//! vectors are held only as [`Ivf`]:
//!
//! - **8-bit codes, one scale per vector** (`x ≈ code × scale`, `scale = max|x| / 127`): a
//!   quarter of f32's memory (1,000,000 × 384 numbers: 384 MB against 1.5 GB, so that two
//!   models fit the 1.5 GiB a process may hold). A per-vector scale was measured against a
//!   single global one (`citebot bench --vectors`, and the test below): the per-vector scale
//!   follows each vector's own range, the global one wastes bits on the many vectors whose
//!   largest number is small, and its cosine error is several times larger.
//! - **k-means lists**: about √N centroids (spherical k-means on a sample; the products of
//!   training and assignment are candle's matrix products, the fastest this process has), and
//!   every vector in the list of its nearest centroid, the lists' codes stored one after the
//!   other so that a probed list is read as one run of memory.
//! - **A question** is compared with every centroid (f32), the [`Ivf::probes`] nearest lists
//!   are scanned with 8-bit dot products (AVX-512 where the CPU has it), and the best rows are
//!   scored again with the question in f32 against their codes, which takes the question's
//!   own rounding out of the score. The f32 vectors are not in memory at this size, so that
//!   is the exact score there is: within about 2e-3 of f32's cosine (largest measured 0.0018).
//!
//! Why not a crate (hnsw_rs, instant-distance, usearch): the two Rust HNSW crates hold every
//! point as f32 beside their graph (1.5 GB a model at a million sentences, twice the memory
//! budget for two models before the graph), and usearch is C++ built by cc with a graph of its
//! own; an IVF over 8-bit codes is a few hundred lines, fits in 0.4 GB a model, builds in
//! seconds, and its file is the codes themselves, read back at disk speed.
//!
//! The index is kept in a file beside the vectors, named by the model and tagged with a hash
//! of what it was built from (the model and every sentence's text): an index for other
//! vectors is rebuilt, not used; a damaged file (wrong length, wrong checksum, lists that do
//! not add up) is rebuilt with a warning.

use candle_core::{Device, Tensor};

mod file;

/// From this many sentence vectors a layer is held as an [`Ivf`]; below, f32 and the exact
/// scan. Measured on this machine (`citebot bench --vectors`, docs/scaling.md): the exact
/// f32 scan, summed in vector registers, costs about 0.07 µs a sentence (0.63 ms p50 at
/// 10,000, 7.8 ms at 100,000; one sum at a time, before, it cost 0.3 µs), the index well
/// under a millisecond at those sizes. At 20,000 sentences the scan (about 1.5 ms a layer)
/// is still cheap beside embedding the question (2–6 ms p50) but grows without bound, and
/// f32 holds four times the 8-bit codes' memory; below it the exact answers are worth it.
/// The article has 77 sentences, the 1,000-passage synthetic corpus 8,221: both stay exact.
pub const INDEX_FROM: usize = 20_000;
/// Rows the index gives back per question, scored exactly: enough for the ranking's
/// candidates by meaning (a few dozen passages) to come from the true nearest.
pub const TOP_ROWS: usize = 300;
/// Rows sampled per list to train the centroids.
const SAMPLE_PER_LIST: usize = 48;
/// Rounds of k-means on the sample.
const ROUNDS: usize = 10;
/// Rows assigned per matrix product.
const CHUNK: usize = 4096;

/// Why an index could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum IvfError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("computing the lists: {0}")]
    Compute(#[from] candle_core::Error),
    #[error("{0}")]
    Damaged(String),
}

/// A vector's 8-bit code into `out`, and the scale to read it back (`x ≈ code × scale`).
/// A zero (or non-finite) vector is all zeros with scale 0: it matches nothing.
pub fn quantize(vector: &[f32], out: &mut [i8]) -> f32 {
    let max = vector.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        out.fill(0);
        return 0.0;
    }
    let scale = max / 127.0;
    quantize_with(vector, scale, out);
    scale
}

/// [`quantize`] with a scale given (a global one, to compare).
pub fn quantize_with(vector: &[f32], scale: f32, out: &mut [i8]) {
    let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
    for (o, x) in out.iter_mut().zip(vector) {
        *o = (x * inv).round().clamp(-127.0, 127.0) as i8;
    }
}

/// How far cosines read from 8-bit codes are from f32's, with a scale per vector and with
/// one scale for all: the largest and the mean absolute error, over pairs of rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct CodeError {
    pub per_vector_max: f32,
    pub per_vector_mean: f32,
    pub global_max: f32,
    pub global_mean: f32,
}

/// [`CodeError`] on up to `pairs` pairs of `rows` (each row against the next), the row coded
/// and the other in f32, as a question meets a coded sentence.
pub fn code_error(rows: &[f32], dim: usize, pairs: usize) -> CodeError {
    let n = rows.len() / dim.max(1);
    if n < 2 {
        return CodeError::default();
    }
    let global = rows.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0;
    let mut code = vec![0i8; dim];
    let mut e = CodeError::default();
    let pairs = pairs.min(n);
    let step = (n / pairs).max(1);
    for i in (0..n).step_by(step).take(pairs) {
        let row = &rows[i * dim..(i + 1) * dim];
        let other = &rows[((i + 1) % n) * dim..][..dim];
        let exact = dot_f32(other, row);
        let scale = quantize(row, &mut code);
        let d = (dot_f32_i8(other, &code) * scale - exact).abs();
        e.per_vector_max = e.per_vector_max.max(d);
        e.per_vector_mean += d / pairs as f32;
        quantize_with(row, global, &mut code);
        let d = (dot_f32_i8(other, &code) * global - exact).abs();
        e.global_max = e.global_max.max(d);
        e.global_mean += d / pairs as f32;
    }
    e
}

/// The index: centroids, the lists, and every vector's code in list order.
#[derive(Debug, Clone, PartialEq)]
pub struct Ivf {
    dim: usize,
    /// `lists × dim`, unit length.
    centroids: Vec<f32>,
    /// List `l` is positions `offsets[l]..offsets[l + 1]`.
    offsets: Vec<u32>,
    /// The row (sentence) at each position.
    ids: Vec<u32>,
    /// The position of each row.
    position: Vec<u32>,
    /// Codes and scales, by position.
    codes: Vec<i8>,
    scales: Vec<f32>,
    /// What it was built from.
    key: [u8; 32],
    /// Lists scanned per question.
    probes: usize,
}

/// The lists for `n` vectors: about √N, so that the centroids and one list cost alike.
pub fn lists_for(n: usize) -> usize {
    ((n as f64).sqrt().round() as usize).clamp(1, 8192)
}

/// The lists scanned per question for `lists` lists: a tenth of them (at least 8), measured
/// (docs/scaling.md) for recall@10 ≥ 0.95 on clustered vectors at 10,000 to 1,000,000 rows.
pub fn probes_for(lists: usize) -> usize {
    (lists / 10).clamp(8, 256).min(lists)
}

/// An index's inverted lists, as built or read back: list `l` holds positions
/// `offsets[l]..offsets[l + 1]`, and position `at` is row `ids[at]`, coded as `codes[at * dim..]`
/// times `scales[at]`.
struct Lists {
    offsets: Vec<u32>,
    ids: Vec<u32>,
    codes: Vec<i8>,
    scales: Vec<f32>,
}

impl Ivf {
    /// Builds the index of `rows` (row-major, `dim` numbers each, unit length), tagged `key`.
    /// `seed` makes the sample and the first centroids (the same seed, the same index).
    pub fn build(rows: &[f32], dim: usize, key: [u8; 32], seed: u64) -> Result<Ivf, IvfError> {
        if dim == 0 || rows.is_empty() || !rows.len().is_multiple_of(dim) {
            return Err(IvfError::Damaged(format!(
                "{} numbers are not one or more rows of {dim}",
                rows.len()
            )));
        }
        let n = rows.len() / dim;
        let lists = lists_for(n);
        let centroids = train(rows, dim, lists, seed)?;
        let assigned = assign(rows, dim, &centroids)?;
        Ivf::of_assignment(rows, dim, centroids, &assigned, key)
    }

    /// The index with each row in list `assigned[row]`.
    fn of_assignment(
        rows: &[f32],
        dim: usize,
        centroids: Vec<f32>,
        assigned: &[u32],
        key: [u8; 32],
    ) -> Result<Ivf, IvfError> {
        let lists = centroids.len() / dim;
        let n = assigned.len();
        let mut offsets = vec![0u32; lists + 1];
        for &l in assigned {
            offsets[l as usize + 1] += 1;
        }
        for l in 0..lists {
            offsets[l + 1] += offsets[l];
        }
        let mut next = offsets.clone();
        let mut ids = vec![0u32; n];
        for (row, &l) in assigned.iter().enumerate() {
            ids[next[l as usize] as usize] = row as u32;
            next[l as usize] += 1;
        }
        let mut codes = vec![0i8; n * dim];
        let mut scales = vec![0f32; n];
        for (at, &row) in ids.iter().enumerate() {
            let row = row as usize;
            scales[at] = quantize(
                &rows[row * dim..(row + 1) * dim],
                &mut codes[at * dim..(at + 1) * dim],
            );
        }
        let lists = Lists {
            offsets,
            ids,
            codes,
            scales,
        };
        Ivf::of_lists(dim, centroids, lists, key)
    }

    /// The index of `lists` around `centroids`, once they are checked to hold every row
    /// once (what a file read back must show before it is used).
    fn of_lists(
        dim: usize,
        centroids: Vec<f32>,
        lists: Lists,
        key: [u8; 32],
    ) -> Result<Ivf, IvfError> {
        let Lists {
            offsets,
            ids,
            codes,
            scales,
        } = lists;
        let n = ids.len();
        let damaged = |why: &str| IvfError::Damaged(why.into());
        if offsets.first() != Some(&0)
            || offsets.last().map(|&o| o as usize) != Some(n)
            || offsets.windows(2).any(|w| w[0] > w[1])
            || centroids.len() != dim * (offsets.len() - 1)
            || codes.len() != n * dim
            || scales.len() != n
        {
            return Err(damaged("lists that do not add up"));
        }
        let mut position = vec![u32::MAX; n];
        for (at, &row) in ids.iter().enumerate() {
            match position.get_mut(row as usize) {
                Some(p) if *p == u32::MAX => *p = at as u32,
                _ => return Err(damaged("a row twice or out of range")),
            }
        }
        Ok(Ivf {
            dim,
            probes: probes_for(offsets.len() - 1),
            centroids,
            offsets,
            ids,
            position,
            codes,
            scales,
            key,
        })
    }

    /// How many vectors it holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How many lists.
    pub fn lists(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Lists scanned per question.
    pub fn probes(&self) -> usize {
        self.probes
    }

    /// The same index, scanning `probes` lists per question (at least one, at most all).
    pub fn with_probes(mut self, probes: usize) -> Ivf {
        self.probes = probes.clamp(1, self.lists().max(1));
        self
    }

    /// What it was built from.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// Bytes it holds.
    pub fn heap_bytes(&self) -> usize {
        self.centroids.len() * 4
            + (self.offsets.len() + self.ids.len() + self.position.len() + self.scales.len()) * 4
            + self.codes.len()
    }

    /// Row `row`'s vector, read back from its code (empty past the last row).
    pub fn row(&self, row: usize) -> Vec<f32> {
        let Some(&at) = self.position.get(row) else {
            return Vec::new();
        };
        let at = at as usize;
        let scale = self.scales[at];
        self.codes[at * self.dim..(at + 1) * self.dim]
            .iter()
            .map(|&c| c as f32 * scale)
            .collect()
    }

    /// The cosine of `query` (unit length, f32) with row `row`, from the row's code: the
    /// rescoring, exact but for the row's own rounding.
    pub fn cosine(&self, row: usize, query: &[f32]) -> f32 {
        match self.position.get(row) {
            Some(&at) if query.len() == self.dim => self.cosine_at(at as usize, query),
            _ => 0.0,
        }
    }

    fn cosine_at(&self, at: usize, query: &[f32]) -> f32 {
        let code = &self.codes[at * self.dim..(at + 1) * self.dim];
        dot_f32_i8(query, code) * self.scales[at]
    }

    /// The cosine of `query` with every row, in row order (the exact scan over the codes).
    pub fn cosines(&self, query: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; self.len()];
        if query.len() != self.dim {
            return out;
        }
        for (at, &row) in self.ids.iter().enumerate() {
            out[row as usize] = self.cosine_at(at, query);
        }
        out
    }

    /// The `k` rows nearest `query` by the scan of every code (no lists): what the index is
    /// measured against, at the same 8-bit precision.
    pub fn nearest_exhaustive(&self, query: &[f32], k: usize) -> Vec<(usize, f32)> {
        let mut all: Vec<(usize, f32)> = self.cosines(query).into_iter().enumerate().collect();
        best_first(&mut all, k);
        all
    }

    /// The `k` rows nearest `query` (unit length) among the [`Ivf::probes`] nearest lists,
    /// with their cosines rescored in f32, best first.
    pub fn nearest(&self, query: &[f32], k: usize) -> Vec<(usize, f32)> {
        if query.len() != self.dim || self.is_empty() || k == 0 {
            return Vec::new();
        }
        let lists = self.lists();
        let mut by_centroid: Vec<(usize, f32)> = (0..lists)
            .map(|l| {
                let c = &self.centroids[l * self.dim..(l + 1) * self.dim];
                (l, dot_f32(c, query))
            })
            .collect();
        best_first(&mut by_centroid, self.probes);
        let mut code = vec![0i8; self.dim];
        let query_scale = quantize(query, &mut code);
        let mut scored: Vec<(usize, f32)> = Vec::new();
        for &(l, _) in &by_centroid {
            let (a, b) = (self.offsets[l] as usize, self.offsets[l + 1] as usize);
            scored.reserve(b - a);
            for at in a..b {
                let codes = &self.codes[at * self.dim..(at + 1) * self.dim];
                let approx = dot_i8(codes, &code) as f32 * self.scales[at] * query_scale;
                scored.push((at, approx));
            }
        }
        // A few more than asked by the 8-bit question, so that its rounding does not drop
        // a row the rescoring would keep.
        best_first(&mut scored, k + k / 4);
        let mut rescored: Vec<(usize, f32)> = scored
            .into_iter()
            .map(|(at, _)| (self.ids[at] as usize, self.cosine_at(at, query)))
            .collect();
        best_first(&mut rescored, k);
        rescored
    }
}

/// The `k` rows of `rows` (f32, `dim` numbers each) nearest `query` by the exact scan, best
/// first: the truth an index's recall is measured against.
pub fn exact_nearest(rows: &[f32], dim: usize, query: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut all: Vec<(usize, f32)> = rows
        .chunks_exact(dim.max(1))
        .map(|r| dot_f32(r, query))
        .enumerate()
        .collect();
    best_first(&mut all, k);
    all
}

/// The `k` best of `scores` (one per row), best first.
pub fn best_of(scores: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut all: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
    best_first(&mut all, k);
    all
}

/// Sorts `items` by score, best first, keeping the `k` best.
fn best_first(items: &mut Vec<(usize, f32)>, k: usize) {
    let k = k.min(items.len());
    if k == 0 {
        items.clear();
        return;
    }
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if k < items.len() {
        items.select_nth_unstable_by(k - 1, order);
        items.truncate(k);
    }
    items.sort_unstable_by(order);
}

/// A small deterministic generator (xorshift64*): the sample and the first centroids.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `n` synthetic unit vectors of `dim` numbers around `centres` random centres (a Gaussian
/// mixture, each number's noise `spread / √dim`, so that a vector's cosine with its centre is
/// about `1 / √(1 + spread²)`): not sentences of any text, but vectors with neighbours, so
/// that an index's recall means something (the tests, `citebot bench --vectors`).
pub fn clustered(n: usize, dim: usize, centres: usize, spread: f32, seed: u64) -> Vec<f32> {
    let mut rng = Rng(seed);
    let mut gauss = move || {
        // Box–Muller.
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let v = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * (u.max(1e-300)).ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    };
    let unit = |v: &mut [f32]| {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= norm);
    };
    let mut c = vec![0f32; centres * dim];
    c.iter_mut().for_each(|x| *x = gauss());
    for centre in c.chunks_exact_mut(dim) {
        unit(centre);
    }
    let mut out = vec![0f32; n * dim];
    for (i, row) in out.chunks_exact_mut(dim).enumerate() {
        let centre = &c[(i * 7919 % centres) * dim..][..dim];
        for (x, m) in row.iter_mut().zip(centre) {
            *x = m + spread * gauss() / (dim as f32).sqrt();
        }
        unit(row);
    }
    out
}

/// `lists` unit centroids by spherical k-means on a sample of the rows.
fn train(rows: &[f32], dim: usize, lists: usize, seed: u64) -> Result<Vec<f32>, IvfError> {
    let n = rows.len() / dim;
    let mut rng = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
    // A sample without repeats: a partial Fisher–Yates over the row numbers.
    let take = (lists * SAMPLE_PER_LIST).min(n);
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in 0..take {
        let j = i + rng.below(n - i);
        order.swap(i, j);
    }
    let sample: Vec<f32> = order[..take]
        .iter()
        .flat_map(|&r| {
            rows[r as usize * dim..(r as usize + 1) * dim]
                .iter()
                .copied()
        })
        .collect();
    drop(order);
    // The first centroids: distinct rows of the sample.
    let mut centroids: Vec<f32> = sample[..lists.min(take) * dim].to_vec();
    while centroids.len() < lists * dim {
        let r = rng.below(take);
        centroids.extend_from_slice(&sample[r * dim..(r + 1) * dim]);
    }
    for _ in 0..ROUNDS {
        let assigned = assign(&sample, dim, &centroids)?;
        let mut sums = vec![0f32; lists * dim];
        let mut counts = vec![0usize; lists];
        for (r, &l) in assigned.iter().enumerate() {
            let l = l as usize;
            counts[l] += 1;
            for (s, x) in sums[l * dim..(l + 1) * dim]
                .iter_mut()
                .zip(&sample[r * dim..(r + 1) * dim])
            {
                *s += x;
            }
        }
        for l in 0..lists {
            let sum = &mut sums[l * dim..(l + 1) * dim];
            let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
            if counts[l] == 0 || norm == 0.0 {
                // An empty list starts again from a random row.
                let r = rng.below(take);
                sum.copy_from_slice(&sample[r * dim..(r + 1) * dim]);
            } else {
                sum.iter_mut().for_each(|x| *x /= norm);
            }
        }
        centroids = sums;
    }
    Ok(centroids)
}

/// The list of each row: its nearest centroid by dot product, by matrix products in chunks.
fn assign(rows: &[f32], dim: usize, centroids: &[f32]) -> Result<Vec<u32>, IvfError> {
    let lists = centroids.len() / dim;
    let device = Device::Cpu;
    let c = Tensor::from_slice(centroids, (lists, dim), &device)?
        .t()?
        .contiguous()?;
    let mut out = Vec::with_capacity(rows.len() / dim);
    for chunk in rows.chunks(CHUNK * dim) {
        let m = chunk.len() / dim;
        let x = Tensor::from_slice(chunk, (m, dim), &device)?;
        let best = x.matmul(&c)?.argmax(1)?.to_vec1::<u32>()?;
        out.extend(best);
    }
    Ok(out)
}

/// `a · b` in f32, summed in sixteen lanes so that the compiler keeps them in vector
/// registers (one running sum must add one product at a time, in order: a scan of 20,000
/// vectors took 6 ms that way, under 1 ms this way).
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = (ca.remainder().iter())
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((l, a), b) in lanes.iter_mut().zip(x).zip(y) {
            *l += a * b;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `a · b`, `b` in 8 bits: the rescoring of a row against the f32 question.
fn dot_f32_i8(a: &[f32], b: &[i8]) -> f32 {
    let mut lanes = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = (ca.remainder().iter())
        .zip(cb.remainder())
        .map(|(x, &y)| x * y as f32)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((l, a), &b) in lanes.iter_mut().zip(x).zip(y) {
            *l += a * b as f32;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `a · b` in 8 bits, summed in 32: AVX-512 where the CPU has it, else plain code.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    if avx512() && a.len() == b.len() {
        // SAFETY: the CPU has the features the function is compiled for (checked above).
        return unsafe { dot_i8_avx512(a, b) };
    }
    a.iter().zip(b).map(|(&x, &y)| x as i32 * y as i32).sum()
}

#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    use std::sync::OnceLock;
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw"))
}

/// 32 bytes at a time widened to 16 bits and multiplied in pairs (`vpmaddwd`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn dot_i8_avx512(a: &[i8], b: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    let mut acc = _mm512_setzero_si512();
    let chunks = a.len() / 32;
    for i in 0..chunks {
        // SAFETY: `i * 32 + 32 <= a.len() == b.len()`; unaligned loads.
        let (x, y) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().add(i * 32).cast()),
                _mm256_loadu_si256(b.as_ptr().add(i * 32).cast()),
            )
        };
        let (x, y) = (_mm512_cvtepi8_epi16(x), _mm512_cvtepi8_epi16(y));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
    }
    let tail: i32 = (a[chunks * 32..].iter())
        .zip(&b[chunks * 32..])
        .map(|(&x, &y)| x as i32 * y as i32)
        .sum();
    _mm512_reduce_add_epi32(acc) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dot_product_reads_every_number() {
        // Lengths around the sixteen lanes, and the 384 of the models.
        for n in [0, 1, 15, 16, 17, 33, 384] {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
            let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32 * 0.25).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!(
                (dot_f32(&a, &b) - plain).abs() <= 1e-3 * plain.abs().max(1.0),
                "{n}"
            );
        }
    }

    fn exact_top(rows: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<usize> {
        exact_nearest(rows, dim, q, k)
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    fn query_near(rows: &[f32], dim: usize, row: usize, seed: u64) -> Vec<f32> {
        let noise = clustered(1, dim, 1, 0.0, seed);
        let mut q: Vec<f32> = rows[row * dim..(row + 1) * dim]
            .iter()
            .zip(&noise)
            .map(|(x, n)| x + 0.3 * n)
            .collect();
        let norm = q.iter().map(|x| x * x).sum::<f32>().sqrt();
        q.iter_mut().for_each(|x| *x /= norm);
        q
    }

    /// The 8-bit code reads back within half a step of each number, and a cosine from it
    /// within 2.5e-3 of f32's (384 numbers; 0.0012–0.0018 measured); a single scale for all
    /// vectors does worse.
    #[test]
    fn an_8_bit_code_reads_back_within_its_rounding() {
        let dim = 384;
        let rows = clustered(2000, dim, 20, 1.0, 7);
        let global = rows.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0;
        let mut code = vec![0i8; dim];
        let (mut worst, mut worst_global) = (0f32, 0f32);
        for (i, row) in rows.chunks_exact(dim).enumerate() {
            let scale = quantize(row, &mut code);
            for (x, &c) in row.iter().zip(&code) {
                assert!((x - c as f32 * scale).abs() <= scale / 2.0 + 1e-7);
            }
            let other = &rows[((i + 1) % 2000) * dim..][..dim];
            let exact = dot_f32(other, row);
            worst = worst.max((dot_f32_i8(other, &code) * scale - exact).abs());
            quantize_with(row, global, &mut code);
            worst_global = worst_global.max((dot_f32_i8(other, &code) * global - exact).abs());
        }
        assert!(worst < 2.5e-3, "per-vector scale: {worst}");
        assert!(
            worst < worst_global,
            "{worst} against global {worst_global}"
        );
        // A zero vector stays zero and matches nothing.
        assert_eq!(quantize(&[0.0; 4], &mut [1; 4]), 0.0);
        let a: Vec<i8> = (0..100).map(|i| (i % 255 - 127) as i8).collect();
        let b: Vec<i8> = (0..100).map(|i| (127 - i * 3 % 255) as i8).collect();
        let plain: i32 = a.iter().zip(&b).map(|(&x, &y)| x as i32 * y as i32).sum();
        assert_eq!(
            dot_i8(&a, &b),
            plain,
            "the vector kernel and the plain sum agree"
        );
    }

    /// On a few thousand clustered vectors, the index's ten nearest are the exact scan's.
    #[test]
    fn the_index_finds_what_the_exact_scan_finds() {
        let dim = 64;
        let n = 6000;
        let rows = clustered(n, dim, 60, 1.2, 11);
        let ivf = Ivf::build(&rows, dim, [1; 32], 3).unwrap();
        assert_eq!(ivf.len(), n);
        assert!(ivf.lists() > 1 && ivf.probes() < ivf.lists());
        let mut found = 0;
        let queries = 200;
        for i in 0..queries {
            let q = query_near(&rows, dim, i * 29 % n, 100 + i as u64);
            let truth = exact_top(&rows, dim, &q, 10);
            let got: Vec<usize> = ivf.nearest(&q, 10).into_iter().map(|(r, _)| r).collect();
            found += truth.iter().filter(|r| got.contains(r)).count();
            // The cosines given back are the rows' own, to within the rounding.
            for (r, c) in ivf.nearest(&q, 3) {
                // 64 numbers: a coarser step than 384's.
                assert!((c - dot_f32(&rows[r * dim..(r + 1) * dim], &q)).abs() < 5e-3);
            }
        }
        let recall = found as f64 / (queries * 10) as f64;
        assert!(recall >= 0.95, "recall@10 {recall}");
    }

    /// Kept and read again, it is the same index and answers the same; an index built from
    /// other vectors is not used but rebuilt; a damaged file is rebuilt, not trusted.
    #[test]
    fn a_kept_index_is_read_back_and_a_stale_or_damaged_one_rebuilt() {
        let dim = 32;
        let rows = clustered(3000, dim, 30, 1.0, 5);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ivf.bin");
        let built = Ivf::open_or_build(Some(&path), [7; 32], dim, &rows).unwrap();
        assert!(path.exists());
        let read = Ivf::open(&path, &[7; 32])
            .unwrap()
            .expect("the same key reads it");
        assert_eq!(read, built);
        let q = query_near(&rows, dim, 17, 9);
        assert_eq!(read.nearest(&q, 10), built.nearest(&q, 10));
        // Not built from these vectors: not used...
        assert!(Ivf::open(&path, &[8; 32]).unwrap().is_none());
        let other = clustered(2500, dim, 30, 1.0, 6);
        let rebuilt = Ivf::open_or_build(Some(&path), [8; 32], dim, &other).unwrap();
        assert_eq!(rebuilt.len(), 2500);
        // ...and the file now holds the new one.
        assert!(Ivf::open(&path, &[8; 32]).unwrap().is_some());
        // A byte flipped in the codes: the checksum sees it, and the index is rebuilt.
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 100;
        bytes[at] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            Ivf::open(&path, &[8; 32]),
            Err(IvfError::Damaged(_))
        ));
        let again = Ivf::open_or_build(Some(&path), [8; 32], dim, &other).unwrap();
        assert_eq!(
            again, rebuilt,
            "the same vectors and seed build the same index"
        );
        // Cut short: damaged too.
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(Ivf::open(&path, &[8; 32]).is_err());
    }
}
