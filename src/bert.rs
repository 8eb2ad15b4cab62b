//! The sentence model's network: a BERT encoder, with 8-bit weights where they pay.
//!
//! A question is a dozen word pieces, so embedding one is six layers of small matrix products
//! (a dozen rows by 384 or 1,536 columns). With the published f32 weights a question took
//! 9.7 ms (release build, two cores), mostly in gemm's f32 microkernel. Quantized to 8 bits a
//! weight (ggml's Q8_0: blocks of 32 int8 with one scale), the same products run on candle's
//! AVX-512 VNNI integer kernel in 4.2 ms, and every token's state stays within cosine 0.995
//! of the f32 network's (the test below; the answers' figures are in `docs/retrieval.md`,
//! "Speed"). Without that kernel candle's 8-bit fallback is slower than f32, so [`Precision`]
//! picks by the CPU. Everything else (embeddings, layer norms, softmax) stays in f32.
//!
//! The layout and arithmetic are the published BERT's, as in candle-transformers' `bert.rs`
//! (which cannot take quantized weights): embeddings + layer norm, then per layer self-attention
//! with a residual and layer norm, and a GELU feed-forward with a residual and layer norm.

use candle_core::{DType, Module, Result, Tensor, D};
use candle_nn::{Embedding, LayerNorm, VarBuilder};

use crate::encoder::Linear;
pub use crate::encoder::{Precision, PRECISION_VAR};
use candle_transformers::models::bert::{Config, HiddenAct};

/// A BERT encoder; `forward` gives every token's hidden state.
pub struct Bert {
    words: Embedding,
    positions: Embedding,
    types: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    act: HiddenAct,
    /// The layers on plain rows (8-bit products, the rest in f32; see `e5::rows`), when this
    /// CPU has AVX-512: then `layers` is empty.
    rows: Option<crate::encoder::Encoder>,
}

/// One encoder layer of a BERT-shaped network: this one's, and multilingual-e5-small's
/// (`e5`), which has the same layers and differs in its embeddings and tokenizer.
pub(crate) struct Layer {
    /// Query, key and value in one product of three times the width: one pass over the rows.
    pub(crate) qkv: Linear,
    pub(crate) attention_out: Linear,
    pub(crate) attention_norm: LayerNorm,
    pub(crate) intermediate: Linear,
    pub(crate) output: Linear,
    pub(crate) output_norm: LayerNorm,
    pub(crate) heads: usize,
    pub(crate) head_size: usize,
}

impl Bert {
    /// Reads the weights from `vb` (with or without the `bert.` prefix some exports carry).
    pub fn load(vb: VarBuilder, config: &Config, precision: Precision) -> Result<Bert> {
        Bert::load_on(
            vb,
            config,
            precision,
            crate::encoder::runs_on_rows(precision),
        )
    }

    /// [`Bert::load`], its 8-bit layers on plain rows when `on_rows` (and the CPU has AVX-512).
    pub(crate) fn load_on(
        vb: VarBuilder,
        config: &Config,
        precision: Precision,
        on_rows: bool,
    ) -> Result<Bert> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let hidden = config.hidden_size;
        let eps = config.layer_norm_eps;
        let e = vb.pp("embeddings");
        let embedding = |name: &str, rows: usize| -> Result<Embedding> {
            candle_nn::embedding(rows, hidden, e.pp(name))
        };
        let words = embedding("word_embeddings", config.vocab_size)?;
        let positions = embedding("position_embeddings", config.max_position_embeddings)?;
        let types = embedding("token_type_embeddings", config.type_vocab_size)?;
        let norm = candle_nn::layer_norm(hidden, eps, e.pp("LayerNorm"))?;
        let on_rows = on_rows
            && precision != Precision::F32
            && config.hidden_act == HiddenAct::Gelu
            && crate::encoder::rows_available();
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), config, precision))
            .collect::<Result<Vec<_>>>()?;
        let (layers, rows) = if on_rows {
            let tables = (&positions, &types);
            (Vec::new(), Some(on_rows_of(layers, &vb, tables, config)?))
        } else {
            (layers, None)
        };
        Ok(Bert {
            words,
            positions,
            types,
            norm,
            layers,
            act: config.hidden_act,
            rows,
        })
    }

    /// Whether the layers run on plain rows (then [`Bert::embed_rows`] is the way in).
    pub fn on_rows(&self) -> bool {
        self.rows.is_some()
    }

    /// The unit-length mean of each text's last hidden states, for texts given as their
    /// token ids, unpadded, on plain rows; `None` when the layers are not there.
    pub fn embed_rows(&self, ids: &[&[u32]]) -> Result<Option<Vec<Vec<f32>>>> {
        let Some(encoder) = &self.rows else {
            return Ok(None);
        };
        encoder.embed(ids, |flat| self.word_rows(flat)).map(Some)
    }

    /// The word-embedding rows of `flat` token ids, stacked.
    fn word_rows(&self, flat: Vec<u32>) -> Result<Vec<f32>> {
        let n = flat.len();
        self.words
            .forward(&Tensor::from_vec(flat, n, &candle_core::Device::Cpu)?)?
            .flatten_all()?
            .to_vec1::<f32>()
    }

    /// Hidden states `(batch, tokens, hidden)` of `ids` `(batch, tokens)`; `mask` is 1 for a
    /// real token and 0 for padding, which no token attends to.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        if let Some(encoder) = &self.rows {
            return encoder.padded(ids, mask, |flat| self.word_rows(flat));
        }
        let (_, len) = ids.dims2()?;
        let positions = Tensor::arange(0u32, len as u32, ids.device())?;
        let types = ids.zeros_like()?;
        let x = (self.words.forward(ids)? + self.types.forward(&types)?)?
            .broadcast_add(&self.positions.forward(&positions)?)?;
        let mut x = self.norm.forward(&x)?;
        // Added to the attention scores: 0 where a token may look, the lowest f32 where not.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(1)?.unsqueeze(1)?;
        let mask = ((mask - 1.0)? * f64::from(f32::MAX))?;
        for layer in &self.layers {
            x = layer.forward(&x, &mask, self.act)?;
        }
        Ok(x)
    }
}

/// A layer norm's scale and shift of `size` numbers as plain rows.
fn norm_of(vb: VarBuilder, size: usize) -> Result<crate::encoder::Norm> {
    Ok(crate::encoder::Norm {
        weight: vb.get(size, "weight")?.to_vec1()?,
        bias: vb.get(size, "bias")?.to_vec1()?,
    })
}

/// The layers loaded for candle, moved onto plain rows (their 8-bit products as they are,
/// the layer norms and the embeddings' tables as plain numbers).
fn on_rows_of(
    layers: Vec<Layer>,
    vb: &VarBuilder,
    (positions, types): (&Embedding, &Embedding),
    config: &Config,
) -> Result<crate::encoder::Encoder> {
    use crate::encoder::Matrix;
    let (hidden, ff) = (config.hidden_size, config.intermediate_size);
    let int8 = Matrix::int8;
    let row_layers = (layers.into_iter().enumerate())
        .map(|(i, layer)| {
            let l = vb.pp(format!("encoder.layer.{i}"));
            Ok(crate::encoder::Layer {
                qkv: int8(layer.qkv, hidden, 3 * hidden)?,
                attention_out: int8(layer.attention_out, hidden, hidden)?,
                attention_norm: norm_of(l.pp("attention.output.LayerNorm"), hidden)?,
                intermediate: int8(layer.intermediate, hidden, ff)?,
                output: int8(layer.output, ff, hidden)?,
                output_norm: norm_of(l.pp("output.LayerNorm"), hidden)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::encoder::Encoder {
        network: crate::encoder::Network {
            layers: row_layers,
            heads: config.num_attention_heads,
            hidden,
            eps: config.layer_norm_eps as f32,
        },
        positions: positions.embeddings().flatten_all()?.to_vec1()?,
        token_type: types.embeddings().get(0)?.to_vec1()?,
        norm: norm_of(vb.pp("embeddings").pp("LayerNorm"), hidden)?,
        amx: false,
    })
}

/// Multi-head self-attention: `qkv` holds each token's query, key and value side by side,
/// `(batch, tokens, 3 * hidden)`; `mask` is added to the scores (a large negative number on
/// padding). Returns each token's context, `(batch, tokens, hidden)`. Every BERT-shaped
/// network here attends this way (`e5`'s too).
pub(crate) fn self_attention(
    qkv: &Tensor,
    mask: &Tensor,
    heads: usize,
    head_size: usize,
) -> Result<Tensor> {
    let (batch, len, width) = qkv.dims3()?;
    let hidden = width / 3;
    // (batch, tokens, 3 * hidden) -> three of (batch, heads, tokens, head size).
    let split = |i: usize| -> Result<Tensor> {
        qkv.narrow(D::Minus1, i * hidden, hidden)?
            .reshape((batch, len, heads, head_size))?
            .transpose(1, 2)?
            .contiguous()
    };
    let (q, k, v) = (split(0)?, split(1)?, split(2)?);
    let scores = (q.matmul(&k.t()?)? / (head_size as f64).sqrt())?;
    let probs = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(mask)?)?;
    probs
        .matmul(&v)?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((batch, len, hidden))
}

impl Layer {
    /// Layer `l` of a BERT: its query, key and value read into one product.
    fn load(l: VarBuilder, config: &Config, precision: Precision) -> Result<Layer> {
        let (hidden, eps, heads) = (
            config.hidden_size,
            config.layer_norm_eps,
            config.num_attention_heads,
        );
        let a = l.pp("attention");
        let s = a.pp("self");
        let part = |name: &str| -> Result<(Tensor, Tensor)> {
            Ok((
                s.pp(name).get((hidden, hidden), "weight")?,
                s.pp(name).get(hidden, "bias")?,
            ))
        };
        let (q, k, v) = (part("query")?, part("key")?, part("value")?);
        let qkv = Linear::new(
            Tensor::cat(&[&q.0, &k.0, &v.0], 0)?,
            Tensor::cat(&[&q.1, &k.1, &v.1], 0)?,
            precision,
        )?;
        Ok(Layer {
            qkv,
            attention_out: Linear::load(a.pp("output.dense"), hidden, hidden, precision)?,
            attention_norm: candle_nn::layer_norm(hidden, eps, a.pp("output.LayerNorm"))?,
            intermediate: Linear::load(
                l.pp("intermediate.dense"),
                hidden,
                config.intermediate_size,
                precision,
            )?,
            output: Linear::load(
                l.pp("output.dense"),
                config.intermediate_size,
                hidden,
                precision,
            )?,
            output_norm: candle_nn::layer_norm(hidden, eps, l.pp("output.LayerNorm"))?,
            heads,
            head_size: hidden / heads,
        })
    }

    pub(crate) fn forward(&self, x: &Tensor, mask: &Tensor, act: HiddenAct) -> Result<Tensor> {
        let context = self_attention(&self.qkv.forward(x)?, mask, self.heads, self.head_size)?;
        let x = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context)? + x)?)?;
        let inner = self.intermediate.forward(&x)?;
        let inner = match act {
            HiddenAct::Gelu => inner.gelu_erf()?,
            HiddenAct::GeluApproximate => inner.gelu()?,
            HiddenAct::Relu => inner.relu()?,
        };
        self.output_norm
            .forward(&(self.output.forward(&inner)? + x)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use candle_transformers::models::bert::BertModel;

    /// The network, in either precision, against candle-transformers' BERT on the same
    /// weights: the hidden state of every real token points the same way, padding or not.
    #[test]
    fn the_forced_path_is_read_or_refused_by_name() {
        assert_eq!(Precision::parse("auto"), Ok(None));
        assert_eq!(Precision::parse(" "), Ok(None));
        assert_eq!(Precision::parse("F32"), Ok(Some(Precision::F32)));
        assert_eq!(Precision::parse("int8"), Ok(Some(Precision::Int8)));
        assert_eq!(Precision::parse("bf16"), Ok(Some(Precision::Bf16)));
        let err = Precision::parse("fast").unwrap_err();
        assert!(
            err.contains("CITEBOT_PRECISION=fast") && err.contains("f32"),
            "{err}"
        );
    }

    #[test]
    fn both_precisions_keep_the_reference_networks_states() {
        let dir = crate::embed::shipped(crate::embed::ENGLISH_MODEL_DIR);
        let config: Config =
            serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device).unwrap();
        let reference = BertModel::load(vb.clone(), &config).unwrap();

        // Two rows of word-piece ids ([CLS] ... [SEP]), the second padded with zeros.
        let ids: [[u32; 8]; 2] = [
            [101, 4880, 2003, 3331, 2000, 1996, 27004, 102],
            [101, 3607, 19107, 1996, 2149, 102, 0, 0],
        ];
        let mask: [[u32; 8]; 2] = [[1; 8], [1, 1, 1, 1, 1, 1, 0, 0]];
        let ids = Tensor::new(&ids, &device).unwrap();
        let mask = Tensor::new(&mask, &device).unwrap();
        let want = reference
            .forward(&ids, &ids.zeros_like().unwrap(), Some(&mask))
            .unwrap()
            .to_vec3::<f32>()
            .unwrap();
        let cos = |a: &[f32], b: &[f32]| {
            let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
            dot / (norm(a) * norm(b))
        };
        // 8-bit on candle's tensors and on plain rows (where the CPU has AVX-512), and f32.
        for (precision, on_rows) in [
            (Precision::Int8, false),
            (Precision::Int8, true),
            (Precision::F32, false),
        ] {
            let bert = Bert::load_on(vb.clone(), &config, precision, on_rows).unwrap();
            assert_eq!(bert.on_rows(), on_rows && crate::encoder::rows_available());
            let got = bert.forward(&ids, &mask).unwrap().to_vec3::<f32>().unwrap();
            for (row, real) in [(0, 8), (1, 6)] {
                for token in 0..real {
                    let c = cos(&got[row][token], &want[row][token]);
                    assert!(
                        c > 0.995,
                        "{precision:?} (rows {on_rows}): row {row} token {token}: cosine {c}"
                    );
                }
            }
        }
    }
}
