//! e5's tokenizer: XLM-R's SentencePiece Unigram over 250,002 pieces, read as it lies.
//!
//! The tokenizers crate loads this vocabulary from an 8.8 MB JSON into a trie of hash maps:
//! 0.9 s and 325 MB before a question can be answered. `tokenizer.bin` (written by
//! `scripts/build-e5-model.py`, its layout there) holds the same pieces and scores plus
//! their ids sorted by bytes, which is all a lookup needs: the pieces starting with some
//! bytes are a range of that order, narrowed one byte at a time by binary search, and
//! loading is reading the file.
//!
//! It gives exactly the ids the tokenizers crate's Unigram gave with the same vocabulary
//! (a test compares them on many texts): the SentencePiece normaliser is the crate's own
//! (`Precompiled`, from the file's charsmap); runs of spaces become one; every space becomes
//! "▁", and one is put before a non-empty text that does not start with one; then the best
//! segmentation by the sum of the pieces' scores (Viterbi, ties to the earliest start), a
//! character no piece covers being `<unk>` at the lowest score less 10, and a run of
//! `<unk>` one `<unk>`; `<s> ... </s>` around, cut to the model's positions.

use std::path::Path;

use tokenizers::normalizers::Precompiled;
use tokenizers::{NormalizedString, Normalizer};

const MAGIC: &[u8; 8] = b"E5UNIGRM";
/// What the tokenizers crate's Unigram takes off the lowest score for an unknown character.
const UNKNOWN_PENALTY: f64 = 10.0;

/// The tokenizer of `tokenizer.bin`.
pub struct Tokenizer {
    /// The pieces' UTF-8, by id, back to back; piece `i` is `bytes[starts[i]..starts[i + 1]]`.
    bytes: Vec<u8>,
    starts: Vec<u32>,
    scores: Vec<f32>,
    /// The ids in the byte order of their pieces.
    order: Vec<u32>,
    longest: usize,
    unknown: u32,
    bos: u32,
    eos: u32,
    unknown_score: f64,
    normalizer: Precompiled,
    /// Texts are cut to this many ids, `<s>` and `</s>` included.
    max_tokens: usize,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("pieces", &self.scores.len())
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

/// Reads little-endian fields off the front of a byte slice.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("the file ends early".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn words(&mut self, n: usize) -> Result<impl Iterator<Item = [u8; 4]> + 'a, String> {
        Ok(self
            .take(n * 4)?
            .chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]]))
    }
}

impl Tokenizer {
    /// Reads `tokenizer.bin`; texts will be cut to `max_tokens` ids.
    pub fn from_file(path: &Path, max_tokens: usize) -> Result<Tokenizer, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        Tokenizer::from_bytes(&bytes, max_tokens)
    }

    pub fn from_bytes(file: &[u8], max_tokens: usize) -> Result<Tokenizer, String> {
        let mut f = Fields(file);
        if f.take(8)? != MAGIC || f.u32()? != 1 {
            return Err("not an e5 tokenizer (version 1)".into());
        }
        let n = f.u32()? as usize;
        let (unknown, bos, eos, _pad) = (f.u32()?, f.u32()?, f.u32()?, f.u32()?);
        let (charsmap_len, bytes_len) = (f.u32()? as usize, f.u32()? as usize);
        let lengths = f.take(n)?;
        let scores: Vec<f32> = f.words(n)?.map(f32::from_le_bytes).collect();
        let order: Vec<u32> = f.words(n)?.map(u32::from_le_bytes).collect();
        let bytes = f.take(bytes_len)?.to_vec();
        let charsmap = f.take(charsmap_len)?;
        if !f.0.is_empty() {
            return Err("bytes after the end".into());
        }
        let mut starts = Vec::with_capacity(n + 1);
        let mut at = 0u32;
        starts.push(0);
        for &l in lengths {
            at += u32::from(l);
            starts.push(at);
        }
        if at as usize != bytes_len {
            return Err("the pieces' lengths do not add up".into());
        }
        if [unknown, bos, eos].iter().any(|&id| id as usize >= n)
            || order.iter().any(|&id| id as usize >= n)
        {
            return Err("an id outside the vocabulary".into());
        }
        let normalizer = Precompiled::from(charsmap).map_err(|e| format!("the normaliser: {e}"))?;
        let lowest = scores
            .iter()
            .fold(f64::INFINITY, |m, &s| m.min(f64::from(s)));
        let tokenizer = Tokenizer {
            longest: lengths.iter().copied().max().unwrap_or(0) as usize,
            bytes,
            starts,
            scores,
            order,
            unknown,
            bos,
            eos,
            unknown_score: lowest - UNKNOWN_PENALTY,
            normalizer,
            max_tokens: max_tokens.max(2),
        };
        if tokenizer
            .order
            .windows(2)
            .any(|w| tokenizer.piece(w[0]) >= tokenizer.piece(w[1]))
        {
            return Err("the lookup table is not in byte order".into());
        }
        Ok(tokenizer)
    }

    /// How many pieces the vocabulary has.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    fn piece(&self, id: u32) -> &[u8] {
        let i = id as usize;
        &self.bytes[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    /// The ids of `text`: `<s>`, its pieces (as many as fit), `</s>`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        let text = self.normalize(text)?;
        let mut ids = Vec::with_capacity(text.len() / 3 + 2);
        ids.push(self.bos);
        let mut pieces = self.segment(&text);
        pieces.truncate(self.max_tokens - 2);
        ids.extend(pieces);
        ids.push(self.eos);
        Ok(ids)
    }

    /// The normaliser's text, spaces collapsed, as metaspace writes it.
    fn normalize(&self, text: &str) -> Result<String, String> {
        let mut normalized = NormalizedString::from(text);
        self.normalizer
            .normalize(&mut normalized)
            .map_err(|e| e.to_string())?;
        let mut out = String::with_capacity(normalized.get().len() + 3);
        let mut last_space = false;
        for c in normalized.get().chars() {
            if c == ' ' {
                if !last_space {
                    out.push('▁');
                }
                last_space = true;
            } else {
                out.push(c);
                last_space = false;
            }
        }
        if !out.is_empty() && !out.starts_with('▁') {
            out.insert(0, '▁');
        }
        Ok(out)
    }

    /// The best segmentation of `text` into pieces (Viterbi over their scores).
    fn segment(&self, text: &str) -> Vec<u32> {
        #[derive(Clone, Copy)]
        struct Best {
            score: f64,
            start: Option<usize>,
            id: u32,
        }
        let s = text.as_bytes();
        let mut best = vec![
            Best {
                score: 0.0,
                start: None,
                id: 0,
            };
            s.len() + 1
        ];
        let offer = |best: &mut [Best], start: usize, end: usize, id: u32, score: f64| {
            let here = best[start].score + score;
            let b = &mut best[end];
            if b.start.is_none() || here > b.score {
                *b = Best {
                    score: here,
                    start: Some(start),
                    id,
                };
            }
        };
        for (start, c) in text.char_indices() {
            let width = c.len_utf8();
            let mut single = false;
            // The pieces that start with s[start..start + k + 1] are order[lo..hi].
            let (mut lo, mut hi) = (0, self.order.len());
            for k in 0..self.longest.min(s.len() - start) {
                let b = s[start + k];
                let range = &self.order[lo..hi];
                // Pieces of k bytes (the prefix itself) sort first, then by their byte k.
                let first =
                    range.partition_point(|&id| self.piece(id).get(k).is_none_or(|&x| x < b));
                let after = first + range[first..].partition_point(|&id| self.piece(id)[k] == b);
                (lo, hi) = (lo + first, lo + after);
                if lo == hi {
                    break;
                }
                let id = self.order[lo];
                if self.piece(id).len() == k + 1 {
                    offer(
                        &mut best,
                        start,
                        start + k + 1,
                        id,
                        f64::from(self.scores[id as usize]),
                    );
                    single |= k + 1 == width;
                }
            }
            if !single {
                offer(
                    &mut best,
                    start,
                    start + width,
                    self.unknown,
                    self.unknown_score,
                );
            }
        }
        let mut ids = Vec::new();
        let mut end = s.len();
        while end > 0 {
            let Best { start, id, .. } = best[end];
            // A run of unknown characters (or of the piece `<unk>` itself) is one `<unk>`.
            if !(id == self.unknown && ids.last() == Some(&self.unknown)) {
                ids.push(id);
            }
            end = start.unwrap_or(0);
        }
        ids.reverse();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn folder() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/multilingual-e5-small")
    }

    fn ours() -> &'static Tokenizer {
        static T: OnceLock<Tokenizer> = OnceLock::new();
        T.get_or_init(|| Tokenizer::from_file(&folder().join("tokenizer.bin"), 512).unwrap())
    }

    /// The tokenizers crate's tokenizer built from the same file as `build-e5-model.py` once
    /// wrote it to tokenizer.json: the reference this module must agree with.
    fn theirs() -> &'static tokenizers::Tokenizer {
        static T: OnceLock<tokenizers::Tokenizer> = OnceLock::new();
        T.get_or_init(|| {
            use tokenizers::models::unigram::Unigram;
            use tokenizers::normalizers::{Replace, Sequence};
            use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
            use tokenizers::processors::template::TemplateProcessing;
            let t = ours();
            let vocab = (0..t.len() as u32)
                .map(|id| {
                    let piece = String::from_utf8(t.piece(id).to_vec()).unwrap();
                    (piece, f64::from(t.scores[id as usize]))
                })
                .collect();
            let file = std::fs::read(folder().join("tokenizer.bin")).unwrap();
            let charsmap_len = u32::from_le_bytes(file[32..36].try_into().unwrap()) as usize;
            let charsmap = &file[file.len() - charsmap_len..];
            let mut tokenizer = tokenizers::Tokenizer::new(
                Unigram::from(vocab, Some(t.unknown as usize), false).unwrap(),
            );
            let _ = tokenizer.with_normalizer(Some(Sequence::new(vec![
                Precompiled::from(charsmap).unwrap().into(),
                Replace::new(
                    tokenizers::normalizers::replace::ReplacePattern::Regex(" {2,}".into()),
                    " ",
                )
                .unwrap()
                .into(),
            ])));
            let _ = tokenizer.with_pre_tokenizer(Some(Metaspace::new(
                '▁',
                PrependScheme::Always,
                false,
            )));
            let _ = tokenizer.with_post_processor(Some(
                TemplateProcessing::builder()
                    .try_single("<s> $A </s>")
                    .unwrap()
                    .special_tokens(vec![("<s>", t.bos), ("</s>", t.eos)])
                    .build()
                    .unwrap(),
            ));
            tokenizer
                .with_truncation(Some(tokenizers::TruncationParams {
                    max_length: 512,
                    ..Default::default()
                }))
                .unwrap();
            tokenizer
        })
    }

    fn agree(text: &str) {
        let want = theirs().encode(text, true).unwrap().get_ids().to_vec();
        assert_eq!(ours().encode(text).unwrap(), want, "{text:?}");
    }

    #[test]
    fn it_splits_as_the_tokenizers_crate_does() {
        for text in [
            "",
            " ",
            "   ",
            "query: who is kabulov",
            "passage: Zamir Kabulov, Russia's special envoy to Afghanistan, said so.",
            "кто такой Кабулов? Почему Россию так волнует афганский героин",
            "  leading and   inner\tspaces\u{a0}and\u{3000}ideographic ",
            "emoji 👍🏽 and 👨‍👩‍👧 family, flags 🇷🇺🇺🇸",
            "<unk> <s> </s> <pad> as text",
            "accents: café, naïve, Ångström, ｆｕｌｌｗｉｄｔｈ",
            "控制 \u{0}\u{1}\u{7f} control, 日本語のテキスト, العربية, हिन्दी",
            "▁already▁spaced",
            "x".repeat(2_000).as_str(),
        ] {
            agree(text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn any_text_splits_as_the_tokenizers_crate_does(
            text in "[a-zA-Zа-яА-ЯёЁ0-9 .,!?'\"\t\n\u{a0}\u{3000}éüß😀👍🏽\u{200d}\u{301}<>▁-]{0,80}"
        ) {
            let want = theirs().encode(text.as_str(), true).unwrap().get_ids().to_vec();
            prop_assert_eq!(ours().encode(&text).unwrap(), want);
        }

        #[test]
        fn any_unicode_splits_as_the_tokenizers_crate_does(text in "\\PC{0,40}") {
            let want = theirs().encode(text.as_str(), true).unwrap().get_ids().to_vec();
            prop_assert_eq!(ours().encode(&text).unwrap(), want);
        }
    }

    #[test]
    fn a_damaged_file_is_an_error() {
        let file = std::fs::read(folder().join("tokenizer.bin")).unwrap();
        assert!(Tokenizer::from_bytes(&file[..file.len() - 1], 512).is_err());
        assert!(Tokenizer::from_bytes(b"E5UNIGRM", 512).is_err());
        assert!(Tokenizer::from_bytes(&[], 512).is_err());
    }

    #[test]
    fn long_texts_are_cut_to_the_positions() {
        let ids = ours().encode(&"word ".repeat(1_000)).unwrap();
        assert_eq!(ids.len(), 512);
        assert_eq!((ids[0], ids[511]), (0, 2));
    }
}
