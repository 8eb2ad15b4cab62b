//! How sure an answer is: what the best few hits show in, one calibrated confidence and
//! a verdict out.
//!
//! Each of the best hits is described by the same few numbers ([`Features`]): how close its
//! best sentence is in meaning, how much of the question its words and its excerpt cover,
//! how far it leads the others, whether it holds what the question asks for (a date, a
//! number), and the old answer rules, which are now signals among the others rather than
//! vetoes. A logistic model ([`Confidence`]) turns them into the probability that the hit is
//! a passage that answers; its weights were fitted on the tune parts of the project's question
//! sets (`citebot fit`, docs/retrieval.md), and the held-out parts report its calibration.
//! The hit the model is surest of leads, and two cut points say what the reader is told:
//! a sure answer, the closest passage shown as such, or nothing related.

/// What the reader is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The passage answers, as sure as the cut point asks.
    Answer,
    /// Not sure: the best passage is shown as the closest, not as the answer.
    Closest,
    /// Nothing in the knowledge relates to the question.
    #[default]
    None,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Answer => "answer",
            Verdict::Closest => "closest",
            Verdict::None => "none",
        }
    }

    /// Whether a passage is shown (sure or not).
    pub fn shows(self) -> bool {
        self != Verdict::None
    }
}

/// What the decision reads of one ranked hit, each a number from about 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Features {
    /// The meaning score of its best sentence (0 without the meaning layer).
    pub meaning: f32,
    /// The share of the question's informative weight its excerpt covers...
    pub window_coverage: f32,
    /// ...the whole passage covers...
    pub coverage: f32,
    /// ...and the share of the question's concepts found in it.
    pub found: f32,
    /// Its fused score less the best other hit's: how far it leads (negative: behind).
    pub lead: f32,
    /// Its meaning score less the best other hit's.
    pub meaning_lead: f32,
    /// Its fused score, and its score on words.
    pub score: f32,
    pub lexical: f32,
    /// Whether the question and the passage are in different languages (the meaning
    /// scores across two languages are lower and rougher).
    pub across_languages: bool,
    /// Whether the meaning layer finds next to nothing of the question in it (below
    /// [`FAINT_MEANING`]): words shared by chance ("столица" read as a word of a caption)
    /// say little then.
    pub faint_meaning: bool,
    /// Whether it is the ranking's first.
    pub first: bool,
    /// Whether its excerpt holds what the question asks for (a time, a number, a person)
    /// and names what a follow-up asks about.
    pub holds: bool,
    /// Whether the words-and-meaning thresholds of the rules before this model pass.
    pub rules: bool,
    /// Whether it is what the document says of itself (its metadata, the note on its author).
    pub on_the_document: bool,
    /// Whether the question is a follow-up read in a conversation's context.
    pub follow_up: bool,
    /// Whether a yes-or-no follow-up finds none of its own words in it.
    pub says_nothing: bool,
}

/// How many numbers [`Features::values`] gives, the constant term first.
pub const FEATURES: usize = 17;

/// A meaning score (on the common scale) under which a hit shares next to nothing of the
/// question's meaning.
pub const FAINT_MEANING: f32 = 0.15;

impl Features {
    /// The numbers the model weighs, in [`Confidence::weights`]'s order.
    pub fn values(&self) -> [f32; FEATURES] {
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        [
            1.0,
            self.meaning,
            self.window_coverage,
            self.coverage,
            self.found,
            self.lead,
            self.meaning_lead,
            self.score,
            self.lexical,
            flag(self.across_languages),
            flag(self.faint_meaning),
            flag(self.first),
            flag(self.holds),
            flag(self.rules),
            flag(self.on_the_document),
            flag(self.follow_up),
            flag(self.says_nothing),
        ]
    }
}

/// A logistic model of how likely a hit is to answer: one weight per feature of
/// [`Features`], and the cut points that turn its probability into a [`Verdict`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Confidence {
    pub bias: f32,
    pub meaning: f32,
    pub window_coverage: f32,
    pub coverage: f32,
    pub found: f32,
    pub lead: f32,
    pub meaning_lead: f32,
    pub score: f32,
    pub lexical: f32,
    pub across_languages: f32,
    pub faint_meaning: f32,
    pub first: f32,
    pub holds: f32,
    pub rules: f32,
    pub on_the_document: f32,
    pub follow_up: f32,
    pub says_nothing: f32,
    /// At least this sure: an answer.
    pub sure: f32,
    /// At least this sure (and less than `sure`): the closest passage, shown as such.
    pub closest: f32,
}

impl Default for Confidence {
    /// Fitted with the meaning layer on (`citebot fit`, docs/retrieval.md).
    fn default() -> Self {
        Confidence::with_meaning()
    }
}

impl Confidence {
    /// The weights fitted on the tune parts with the meaning layer on, and the cut points
    /// chosen there.
    pub fn with_meaning() -> Confidence {
        Confidence::from_weights(
            [
                -5.373, 0.700, -0.136, -0.188, 0.941, 3.697, 1.684, 0.695, 0.715, 0.207, -1.335,
                1.116, 2.114, 0.822, 1.025, -0.211, -0.558,
            ],
            0.8,
            0.2,
        )
    }

    /// The same, fitted with words only (`SEMANTIC=off`).
    pub fn words_only() -> Confidence {
        Confidence::from_weights(
            [
                -4.641, 0.000, -0.378, -0.413, 2.293, 2.994, 0.000, 0.477, 0.584, 0.464, 0.000,
                0.888, 1.797, 0.189, -0.064, -0.138, -0.390,
            ],
            0.85,
            0.5,
        )
    }

    /// A model of `weights` (in [`Features::values`]' order) and cut points.
    pub fn from_weights(weights: [f32; FEATURES], sure: f32, closest: f32) -> Confidence {
        let [bias, meaning, window_coverage, coverage, found, lead, meaning_lead, score, lexical, across_languages, faint_meaning, first, holds, rules, on_the_document, follow_up, says_nothing] =
            weights;
        Confidence {
            bias,
            meaning,
            window_coverage,
            coverage,
            found,
            lead,
            meaning_lead,
            score,
            lexical,
            across_languages,
            faint_meaning,
            first,
            holds,
            rules,
            on_the_document,
            follow_up,
            says_nothing,
            sure,
            closest,
        }
    }

    /// The weights in [`Features::values`]' order.
    pub fn weights(&self) -> [f32; FEATURES] {
        [
            self.bias,
            self.meaning,
            self.window_coverage,
            self.coverage,
            self.found,
            self.lead,
            self.meaning_lead,
            self.score,
            self.lexical,
            self.across_languages,
            self.faint_meaning,
            self.first,
            self.holds,
            self.rules,
            self.on_the_document,
            self.follow_up,
            self.says_nothing,
        ]
    }

    /// The probability that the hit `features` describes answers the question.
    pub fn of(&self, features: &Features) -> f32 {
        let z: f32 = self
            .weights()
            .iter()
            .zip(features.values())
            .map(|(w, x)| w * x)
            .sum();
        sigmoid(z)
    }

    /// What a confidence tells the reader.
    pub fn verdict(&self, confidence: f32) -> Verdict {
        if confidence >= self.sure {
            Verdict::Answer
        } else if confidence >= self.closest {
            Verdict::Closest
        } else {
            Verdict::None
        }
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// The decision on a question: which of the hits leads (an index into the hits weighed),
/// how sure that is, and what the reader is told.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Decision {
    /// The hit the model is surest of, shown or not: what `confidence` is about.
    pub best: Option<usize>,
    /// The hit shown first: `best`, unless nothing is shown.
    pub leader: Option<usize>,
    pub confidence: f32,
    pub verdict: Verdict,
}

/// Decides on the features of the best few hits, best ranked first: the one the model is
/// surest of leads (the better ranked on a tie), and its confidence is the verdict's.
pub fn decide(model: &Confidence, features: &[Features]) -> Decision {
    let mut best: Option<(usize, f32)> = None;
    for (i, e) in features.iter().enumerate() {
        let c = model.of(e);
        if best.is_none_or(|(_, b)| c > b) {
            best = Some((i, c));
        }
    }
    match best {
        Some((i, confidence)) => {
            let verdict = model.verdict(confidence);
            Decision {
                best: Some(i),
                leader: verdict.shows().then_some(i),
                confidence,
                verdict,
            }
        }
        None => Decision::default(),
    }
}

/// One hit the model learns from: its features, and whether it answers (it is a gold passage).
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub features: Features,
    pub answers: bool,
}

/// Fits the weights of a logistic model to `samples` by Newton's method, with an L2 penalty
/// of `l2` on every weight but the constant (which keeps weights finite when a feature
/// separates the samples). Deterministic: the same samples give the same weights.
pub fn fit(samples: &[Sample], l2: f64) -> [f32; FEATURES] {
    const N: usize = FEATURES;
    let rows: Vec<([f64; N], f64)> = samples
        .iter()
        .map(|s| {
            (
                s.features.values().map(f64::from),
                if s.answers { 1.0 } else { 0.0 },
            )
        })
        .collect();
    let mut w = [0f64; N];
    for _ in 0..50 {
        let mut gradient = [0f64; N];
        let mut hessian = [[0f64; N]; N];
        for (x, y) in &rows {
            let z: f64 = w.iter().zip(x).map(|(w, x)| w * x).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            for i in 0..N {
                gradient[i] += (y - p) * x[i];
                for j in 0..N {
                    hessian[i][j] += p * (1.0 - p) * x[i] * x[j];
                }
            }
        }
        for i in 1..N {
            gradient[i] -= l2 * w[i];
            hessian[i][i] += l2;
        }
        // A feature no sample has leaves its row empty: hold its weight at zero.
        for (i, row) in hessian.iter_mut().enumerate() {
            row[i] += 1e-9;
        }
        let Some(step) = solve(hessian, gradient) else {
            break;
        };
        let mut largest = 0f64;
        for i in 0..N {
            w[i] += step[i];
            largest = largest.max(step[i].abs());
        }
        if largest < 1e-8 {
            break;
        }
    }
    w.map(|v| v as f32)
}

/// `a x = b` by Gaussian elimination with partial pivoting; `None` when `a` is singular.
fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (done, below) = a.split_at_mut(col + 1);
        let pivot_row = &done[col];
        for (offset, row) in below.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = [0f64; N];
    for row in (0..N).rev() {
        let s: f64 = (row + 1..N).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// Predicted against observed: for each tenth of the confidence, how many leaders fell in
/// it and how many of them answered. A calibrated model's observed share sits near its bin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calibration {
    /// For each bin `[i/10, (i+1)/10)`: (leaders, of which answered, sum of confidences).
    pub bins: [(usize, usize, f64); 10],
}

impl Calibration {
    pub fn add(&mut self, confidence: f32, answered: bool) {
        let i = ((confidence * 10.0) as usize).min(9);
        let bin = &mut self.bins[i];
        bin.0 += 1;
        bin.1 += usize::from(answered);
        bin.2 += f64::from(confidence);
    }

    /// One line per bin that holds any: "0.6-0.7   12   0.65 predicted   0.667 observed".
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (i, &(n, right, sum)) in self.bins.iter().enumerate() {
            if n == 0 {
                continue;
            }
            s.push_str(&format!(
                "  {:.1}-{:.1}  {n:>4}  predicted {:.3}  observed {:.3}\n",
                i as f32 / 10.0,
                (i + 1) as f32 / 10.0,
                sum / n as f64,
                right as f64 / n as f64
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(meaning: f32, window: f32) -> Features {
        Features {
            meaning,
            window_coverage: window,
            coverage: window,
            found: window,
            first: true,
            ..Features::default()
        }
    }

    #[test]
    fn the_fit_recovers_a_known_model() {
        // Samples drawn from a known logistic model on two features, deterministically.
        let mut samples = Vec::new();
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        for _ in 0..4000 {
            let (m, w) = (next() as f32, next() as f32);
            let p = sigmoid(-3.0 + 4.0 * m + 2.0 * w);
            samples.push(Sample {
                features: features(m, w),
                answers: (next() as f32) < p,
            });
        }
        let w = fit(&samples, 1e-6);
        // meaning and the coverages ride together here (window = coverage = found), so only
        // their sum is determined.
        assert!((w[1] - 4.0).abs() < 0.6, "{w:?}");
        assert!((w[2] + w[3] + w[4] - 2.0).abs() < 0.6, "{w:?}");
        // The constant and `first` are one column here too: their sum is the bias.
        assert!((w[0] + w[11] + 3.0).abs() < 0.6, "{w:?}");
    }

    #[test]
    fn the_surest_hit_leads_and_the_cut_points_grade_it() {
        let model = Confidence::from_weights(
            [
                -4.0, 8.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                0.0,
            ],
            0.7,
            0.2,
        );
        let d = decide(&model, &[features(0.4, 0.0), features(0.9, 0.0)]);
        assert_eq!(d.leader, Some(1));
        assert_eq!(d.verdict, Verdict::Answer);
        let d = decide(&model, &[features(0.45, 0.0)]);
        assert_eq!(d.verdict, Verdict::Closest);
        assert_eq!(d.leader, Some(0));
        let d = decide(&model, &[features(0.1, 0.0)]);
        assert_eq!((d.verdict, d.leader), (Verdict::None, None));
        assert_eq!(decide(&model, &[]), Decision::default());
        // A tie goes to the better ranked.
        let d = decide(&model, &[features(0.9, 0.0), features(0.9, 0.0)]);
        assert_eq!(d.leader, Some(0));
    }

    #[test]
    fn calibration_bins_count_predicted_against_observed() {
        let mut c = Calibration::default();
        c.add(0.95, true);
        c.add(0.91, false);
        c.add(1.0, true);
        c.add(0.05, false);
        assert_eq!(c.bins[9].0, 3);
        assert_eq!(c.bins[9].1, 2);
        assert_eq!(c.bins[0], (1, 0, 0.05f32 as f64));
        assert!(c.render().contains("0.9-1.0"));
    }
}
