//! Fitting the confidence (`citebot fit`): every tune question of the sets given, asked as
//! the bot asks it (conversations turn by turn, in context), gives one sample per hit the
//! decision weighs: what that hit showed, and whether it is a gold passage. A logistic model
//! is fitted to them (`verdict::fit`), and the cut points are read off the same tune
//! questions: the lowest confidence at which sure answers are right as often as asked, and
//! the lowest that leaves every off-topic question with nothing.

use std::fmt::Write as _;
use std::path::Path;

use super::{is_gold, load_gold, parse_conversations, parse_questions, QuestionSet};
use crate::conversation::{self, understand_with};
use crate::engine::Engine;
use crate::verdict::{self, Confidence, Features, Sample, FEATURES};

/// One question of the tune parts, as the decision saw it: each weighed hit's features and
/// whether it is gold, and whether the question is off-topic.
pub struct Asked {
    pub weighed: Vec<(Features, bool)>,
    pub answerable: bool,
    pub off_topic: bool,
}

/// Asks every tune question of `sets` (question sets and conversation sets alike).
pub fn ask_tune_parts(engine: &Engine, sets: &[&Path], gold: &Path) -> anyhow::Result<Vec<Asked>> {
    let gold_map = load_gold(gold)?;
    let set = QuestionSet {
        questions: Vec::new(),
        gold: gold_map,
    };
    let mut out = Vec::new();
    let weigh = |q: &super::Question, results: &crate::engine::Results| Asked {
        weighed: results
            .weighed
            .iter()
            .map(|(p, f)| {
                (
                    *f,
                    is_gold(&set, &q.gold, &engine.knowledge.passages[*p].text),
                )
            })
            .collect(),
        answerable: !q.gold.is_empty(),
        off_topic: q.kind.as_deref() == Some("off_topic"),
    };
    for path in sets {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if super::holds_conversations(&text) {
            for c in parse_conversations(&text)? {
                if c.split.as_deref() != Some("tune") {
                    continue;
                }
                let mut context = None;
                for q in &c.turns {
                    let turn =
                        conversation::turn(engine, &q.q, context.as_ref(), super::TURN_LIMITS)?;
                    let u = &turn.understood;
                    let results = engine.search_with(&u.question, &u.hints, 3)?;
                    out.push(weigh(q, &results));
                    context = turn.context;
                }
            }
        } else {
            for q in parse_questions(&text)? {
                if q.split.as_deref() != Some("tune") {
                    continue;
                }
                let u = understand_with(&q.q, None, &engine.names);
                let results = engine.search_with(&u.question, &u.hints, 3)?;
                out.push(weigh(&q, &results));
            }
        }
    }
    Ok(out)
}

/// What a model decides on the tune questions at each cut point.
#[derive(Debug, Clone, Copy, Default)]
pub struct AtCut {
    pub cut: f32,
    /// Answerable questions given a sure answer, and of those right.
    pub sure: usize,
    pub sure_right: usize,
    /// Unanswerable questions given a sure answer.
    pub wrongly_sure: usize,
    /// Off-topic questions under the cut (given nothing, were it the closest cut).
    pub off_topic_under: usize,
}

/// For each question, the weighed hit the model is surest of: its confidence and whether it
/// is gold.
fn leaders(model: &Confidence, asked: &[Asked]) -> Vec<(f32, bool)> {
    asked
        .iter()
        .filter_map(|a| {
            a.weighed.iter().map(|(f, gold)| (model.of(f), *gold)).fold(
                None,
                |best: Option<(f32, bool)>, (c, g)| match best {
                    Some((b, _)) if b >= c => best,
                    _ => Some((c, g)),
                },
            )
        })
        .collect()
}

/// The tune questions' decisions at every cut point from 0.05 to 0.95.
pub fn sweep(model: &Confidence, asked: &[Asked]) -> Vec<AtCut> {
    let leaders = leaders(model, asked);
    (1..20)
        .map(|i| {
            let cut = i as f32 * 0.05;
            let mut at = AtCut {
                cut,
                ..AtCut::default()
            };
            for (a, &(c, gold)) in asked.iter().filter(|a| !a.weighed.is_empty()).zip(&leaders) {
                if c >= cut {
                    if a.answerable {
                        at.sure += 1;
                        at.sure_right += usize::from(gold);
                    } else {
                        at.wrongly_sure += 1;
                    }
                } else if a.off_topic {
                    at.off_topic_under += 1;
                }
            }
            at
        })
        .collect()
}

/// Fits the weights to `asked` and chooses the cut points: `sure`, the lowest at which sure
/// answers are right at least `precision` of the time; `closest`, the lowest that leaves
/// every off-topic question under it.
pub fn fit(asked: &[Asked], l2: f64, precision: f64) -> Confidence {
    let samples: Vec<Sample> = asked
        .iter()
        .flat_map(|a| {
            a.weighed
                .iter()
                .map(|&(features, answers)| Sample { features, answers })
        })
        .collect();
    let weights: [f32; FEATURES] = verdict::fit(&samples, l2);
    let mut model = Confidence::from_weights(weights, 1.0, 1.0);
    let table = sweep(&model, asked);
    let off_topic = asked
        .iter()
        .filter(|a| a.off_topic && !a.weighed.is_empty())
        .count();
    model.sure = table
        .iter()
        .find(|t| {
            let given = t.sure + t.wrongly_sure;
            given > 0 && t.sure_right as f64 >= precision * given as f64
        })
        .map_or(0.95, |t| t.cut);
    model.closest = table
        .iter()
        .find(|t| t.off_topic_under == off_topic)
        .map_or(0.05, |t| t.cut)
        .min(model.sure);
    model
}

/// The fitted model as the TOML `eval --tuning` reads (under `section`), and the tune
/// questions' decisions at every cut point, as comments.
pub fn render(model: &Confidence, asked: &[Asked], section: &str) -> String {
    let mut s = String::new();
    let answerable = asked.iter().filter(|a| a.answerable).count();
    let off_topic = asked.iter().filter(|a| a.off_topic).count();
    let _ = writeln!(
        s,
        "# {} tune questions ({answerable} answerable, {off_topic} off-topic), {} hits weighed",
        asked.len(),
        asked.iter().map(|a| a.weighed.len()).sum::<usize>()
    );
    let _ = writeln!(
        s,
        "# cut   sure and right / answerable   sure answers right   unanswerable sure   off-topic under"
    );
    for t in sweep(model, asked) {
        let given = t.sure + t.wrongly_sure;
        let _ = writeln!(
            s,
            "# {:.2}   {:>3} / {answerable:<3} {:.3}          {:.3}                {:>3}                 {:>3} / {off_topic}",
            t.cut,
            t.sure_right,
            t.sure_right as f64 / answerable.max(1) as f64,
            t.sure_right as f64 / given.max(1) as f64,
            t.wrongly_sure,
            t.off_topic_under,
        );
    }
    let _ = writeln!(s, "[{section}]");
    let names = [
        "bias",
        "meaning",
        "window_coverage",
        "coverage",
        "found",
        "lead",
        "meaning_lead",
        "score",
        "lexical",
        "across_languages",
        "faint_meaning",
        "first",
        "holds",
        "rules",
        "on_the_document",
        "follow_up",
        "says_nothing",
    ];
    for (name, w) in names.iter().zip(model.weights()) {
        let _ = writeln!(s, "{name} = {w:.3}");
    }
    let _ = writeln!(s, "sure = {:.2}", model.sure);
    let _ = writeln!(s, "closest = {:.2}", model.closest);
    s
}
