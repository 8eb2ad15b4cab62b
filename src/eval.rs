//! Scoring a question set: how often the gold passage is shown first, as a sure answer or as
//! the closest (hit@1, that is shown@1), or in the top three (hit@3, MRR@3); how often a sure
//! answer is right and how many answerable questions get one; how many out-of-scope questions
//! (no gold passage) get no sure answer, and off-topic ones nothing; and how well the
//! confidence is calibrated. `fit` asks the tune parts for `citebot fit`.
//!
//! The format is the public set's: one JSON object per line, `{"q": "...", "gold": ["p4"]}`,
//! and a JSON object mapping each gold key to a snippet of its passage. A passage is the gold
//! one when its text contains the snippet, compared case-insensitively with curly quotes made
//! straight and white space folded.

pub mod fit;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::answer;
use crate::conversation::{self, Limits, Understood};
use crate::engine::Engine;
use crate::knowledge::normalize;
use crate::verdict::{Calibration, Verdict};

#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub q: String,
    #[serde(default)]
    pub gold: Vec<String>,
    /// `tune` or `held_out` in the project's own sets: the part thresholds may be chosen on,
    /// and the part that only measures.
    #[serde(default)]
    pub split: Option<String>,
    /// For a question with no answer: `off_topic`, or `article_words` (the article's words,
    /// asking what it does not say).
    #[serde(default)]
    pub kind: Option<String>,
}

/// A question set with its gold snippets.
#[derive(Debug, Clone)]
pub struct QuestionSet {
    pub questions: Vec<Question>,
    /// Gold key → normalized snippet.
    pub gold: HashMap<String, String>,
}

impl QuestionSet {
    pub fn load(questions: &Path, gold: &Path) -> anyhow::Result<QuestionSet> {
        let text = std::fs::read_to_string(questions)
            .with_context(|| format!("{}: cannot be read", questions.display()))?;
        let questions_list =
            parse_questions(&text).with_context(|| format!("{}", questions.display()))?;
        let gold_map = load_gold(gold)?;
        for q in &questions_list {
            for key in &q.gold {
                if !gold_map.contains_key(key) {
                    bail!(
                        "{}: question {:?} names gold passage {key:?}, which {} does not define",
                        questions.display(),
                        q.q,
                        gold.display()
                    );
                }
            }
        }
        Ok(QuestionSet {
            questions: questions_list,
            gold: gold_map,
        })
    }
}

/// Gold passages: a JSON object from each gold key to a snippet of its passage (keys that
/// start with `_` are comments), the snippets normalised for comparing.
pub fn load_gold(gold: &Path) -> anyhow::Result<HashMap<String, String>> {
    let raw: HashMap<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(gold)
            .with_context(|| format!("{}: cannot be read", gold.display()))?,
    )
    .with_context(|| format!("{}: not a JSON object", gold.display()))?;
    Ok(raw
        .into_iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .filter_map(|(k, v)| v.as_str().map(|s| (k, normalize(s))))
        .collect())
}

impl QuestionSet {
    /// Only the questions of one split (`tune`, `held_out`).
    pub fn only_split(mut self, split: &str) -> QuestionSet {
        self.questions.retain(|q| q.split.as_deref() == Some(split));
        self
    }
}

/// One JSON object per line; blank lines are skipped.
pub fn parse_questions(text: &str) -> anyhow::Result<Vec<Question>> {
    json_lines(text, "question")
}

/// One JSON `what` object per line, blank lines skipped; an error names the line.
fn json_lines<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> anyhow::Result<Vec<T>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).with_context(|| format!("line {}: not a {what} object", n + 1))
        })
        .collect()
}

/// A question the engine got wrong.
#[derive(Debug, Clone)]
pub struct Miss {
    pub question: String,
    pub gold: Vec<String>,
    /// Labels of the passages returned, best first.
    pub got: Vec<String>,
}

impl Miss {
    /// "miss: QUESTION: wanted p4, got p12, p3", the question shown as given.
    fn describe(&self, question: impl std::fmt::Display) -> String {
        let list = |keys: &[String], sep: &str| {
            if keys.is_empty() {
                "no answer".to_string()
            } else {
                keys.join(sep)
            }
        };
        format!(
            "miss: {question}: wanted {}, got {}",
            list(&self.gold, " or "),
            list(&self.got, ", ")
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub in_scope: usize,
    /// The right passage shown first, as a sure answer or as the closest (shown@1).
    pub hit1: usize,
    pub hit3: usize,
    pub reciprocal_rank_sum: f64,
    /// Answerable questions given a sure answer, and of those, right.
    pub sure: usize,
    pub sure_right: usize,
    pub out_of_scope: usize,
    /// Questions without an answer given no sure answer (the closest passage, or none).
    pub rejected: usize,
    /// Questions without an answer given a sure one.
    pub unanswerable_sure: usize,
    /// Off-topic questions (`"kind": "off_topic"`), and those given no passage at all.
    pub off_topic: usize,
    pub off_topic_none: usize,
    /// The confidence of each best hit against whether it was a right one.
    pub calibration: Calibration,
    pub misses: Vec<Miss>,
}

impl Report {
    fn ratio(n: usize, of: usize) -> f64 {
        if of == 0 {
            1.0
        } else {
            n as f64 / of as f64
        }
    }
    pub fn hit_at_1(&self) -> f64 {
        Self::ratio(self.hit1, self.in_scope)
    }
    pub fn hit_at_3(&self) -> f64 {
        Self::ratio(self.hit3, self.in_scope)
    }
    pub fn mrr_at_3(&self) -> f64 {
        if self.in_scope == 0 {
            1.0
        } else {
            self.reciprocal_rank_sum / self.in_scope as f64
        }
    }
    pub fn rejection_rate(&self) -> f64 {
        Self::ratio(self.rejected, self.out_of_scope)
    }
    /// How often a sure answer is right, over every question given one.
    pub fn sure_precision(&self) -> f64 {
        Self::ratio(self.sure_right, self.sure + self.unanswerable_sure)
    }
    /// The share of answerable questions answered sure and right.
    pub fn sure_coverage(&self) -> f64 {
        Self::ratio(self.sure_right, self.in_scope)
    }

    /// The report as the `eval` command prints it.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "questions:     {} in scope, {} out of scope",
            self.in_scope, self.out_of_scope
        );
        let _ = writeln!(
            s,
            "hit@1:         {:.3} ({}/{})",
            self.hit_at_1(),
            self.hit1,
            self.in_scope
        );
        let _ = writeln!(
            s,
            "hit@3:         {:.3} ({}/{})",
            self.hit_at_3(),
            self.hit3,
            self.in_scope
        );
        let _ = writeln!(s, "MRR@3:         {:.3}", self.mrr_at_3());
        let _ = writeln!(
            s,
            "sure:          {:.3} of answerable questions answered sure and right ({}/{}); \
             sure answers right {:.3} ({}/{})",
            self.sure_coverage(),
            self.sure_right,
            self.in_scope,
            self.sure_precision(),
            self.sure_right,
            self.sure + self.unanswerable_sure
        );
        let _ = writeln!(
            s,
            "rejected:      {:.3} ({}/{} out-of-scope questions got no sure answer; \
             {}/{} off-topic got none)",
            self.rejection_rate(),
            self.rejected,
            self.out_of_scope,
            self.off_topic_none,
            self.off_topic
        );
        let _ = write!(s, "calibration:\n{}", self.calibration.render());
        for m in &self.misses {
            let _ = writeln!(s, "{}", m.describe(format!("{:?}", m.question)));
        }
        s
    }
}

/// Runs every question of `set` through `engine`.
pub fn evaluate(engine: &Engine, set: &QuestionSet) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for q in &set.questions {
        let reply = answer::ask(engine, &q.q, 3)?;
        score_reply(set, &mut report, &q.q, q, &reply, engine);
    }
    Ok(report)
}

/// For each question, what the ranking saw of its best passage, answered or not: one JSON
/// object a line, to study where the thresholds fall (`citebot eval --details`).
pub fn details(engine: &Engine, set: &QuestionSet) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for q in &set.questions {
        let results = engine.search(&q.q, 50)?;
        let hits = hits_json(engine, set, &results);
        out.push(serde_json::json!({
            "q": q.q,
            "gold": q.gold,
            "split": q.split,
            "asks_for": results.asks_for.as_ref().map(|t| format!("{t:?}")),
            "verdict": results.verdict.as_str(),
            "confidence": results.confidence,
            "weighed": weighed_json(set, engine, &results),
            "hits": hits,
        }));
    }
    Ok(out)
}

/// What the ranking saw of each hit, for `--details`.
fn hits_json(
    engine: &Engine,
    set: &QuestionSet,
    results: &crate::engine::Results,
) -> Vec<serde_json::Value> {
    results
        .hits
        .iter()
        .map(|h| {
            let passage = engine.passage(h);
            let policy = &engine.tuning().policy;
            serde_json::json!({
                "passage": gold_key(set, &passage.text).unwrap_or_else(|| passage.label()),
                "score": h.score,
                "lexical": h.signals.lexical,
                "semantic": h.signals.semantic,
                "window_coverage": h.window_coverage,
                "found": h.found,
                "by_words": policy.answers_by_words(h),
                "answers": policy.answers(h),
            })
        })
        .collect()
}

/// What the decision read of each of the best few hits, for `--details`.
fn weighed_json(
    set: &QuestionSet,
    engine: &Engine,
    results: &crate::engine::Results,
) -> Vec<serde_json::Value> {
    results
        .weighed
        .iter()
        .map(|(passage, features)| {
            let text = &engine.knowledge.passages[*passage].text;
            serde_json::json!({
                "passage": gold_key(set, text)
                    .unwrap_or_else(|| engine.knowledge.passages[*passage].label()),
                "features": features,
            })
        })
        .collect()
}

/// How eval takes a conversation's turns: a question is read whole up to the search's own
/// limit, as the bot reads it by default, and three answers are scored (hit@3).
const TURN_LIMITS: Limits = Limits {
    question_chars: crate::analysis::MAX_QUESTION_CHARS,
    answers: 3,
};

/// `--details` for conversations: each turn as understood in context, and its best hits.
pub fn conversation_details(
    engine: &Engine,
    conversations: &[Conversation],
    gold: &HashMap<String, String>,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let set = QuestionSet {
        questions: Vec::new(),
        gold: gold.clone(),
    };
    let mut out = Vec::new();
    for c in conversations {
        let mut context = None;
        for question in &c.turns {
            let turn = conversation::turn(engine, &question.q, context.as_ref(), TURN_LIMITS)?;
            let understood = &turn.understood;
            let results = engine.search_with(&understood.question, &understood.hints, 5)?;
            out.push(serde_json::json!({
                "conversation": c.id,
                "q": question.q,
                "understood_as": understood.understood_as(),
                "gold": question.gold,
                "asks_for": results.asks_for.as_ref().map(|t| format!("{t:?}")),
                "verdict": results.verdict.as_str(),
                "confidence": results.confidence,
                "weighed": weighed_json(&set, engine, &results),
                "hits": hits_json(engine, &set, &results),
            }));
            context = turn.context;
        }
    }
    Ok(out)
}

/// The gold key whose snippet a passage contains, to name passages in the list of misses.
fn gold_key(set: &QuestionSet, text: &str) -> Option<String> {
    let text = normalize(text);
    let mut keys: Vec<&String> = set
        .gold
        .iter()
        .filter(|(_, s)| text.contains(s.as_str()))
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    keys.first().map(|k| k.to_string())
}

/// A conversation of the project's set: 2-4 turns, each with its gold passages (none: the
/// document does not answer it).
#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    pub id: u32,
    #[serde(default)]
    pub split: Option<String>,
    pub turns: Vec<Question>,
}

/// Whether a file of JSON lines holds conversations (`{"turns": [...]}`) rather than questions.
pub fn holds_conversations(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .is_some_and(|v| v.get("turns").is_some())
}

/// One JSON conversation per line; blank lines are skipped.
pub fn parse_conversations(text: &str) -> anyhow::Result<Vec<Conversation>> {
    json_lines(text, "conversation")
}

/// Scores of a conversation set, first turns and follow-ups apart.
#[derive(Debug, Clone, Default)]
pub struct ConversationReport {
    pub first: Report,
    pub follow_ups: Report,
}

impl ConversationReport {
    pub fn render(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, name: &str, r: &Report| {
            let _ = writeln!(
                s,
                "{name:<12} hit@1 {:.3} ({}/{}), hit@3 {:.3}, sure and right {}/{} (right {:.3}), \
                 refused {}/{} that have no answer",
                r.hit_at_1(),
                r.hit1,
                r.in_scope,
                r.hit_at_3(),
                r.sure_right,
                r.in_scope,
                r.sure_precision(),
                r.rejected,
                r.out_of_scope
            );
        };
        line(&mut s, "first turns", &self.first);
        line(&mut s, "follow-ups", &self.follow_ups);
        for m in &self.follow_ups.misses {
            let _ = writeln!(s, "{}", m.describe(&m.question));
        }
        s
    }
}

/// Runs every conversation through `engine`, each turn read in the context of the ones
/// before (`with_context`) or on its own, as `ask` would.
pub fn evaluate_conversations(
    engine: &Engine,
    conversations: &[Conversation],
    gold: &HashMap<String, String>,
    with_context: bool,
) -> anyhow::Result<ConversationReport> {
    let set = QuestionSet {
        questions: Vec::new(),
        gold: gold.clone(),
    };
    let mut report = ConversationReport::default();
    for c in conversations {
        let mut context = None;
        for (i, question) in c.turns.iter().enumerate() {
            let (understood, reply) = if with_context {
                let turn = conversation::turn(engine, &question.q, context.as_ref(), TURN_LIMITS)?;
                context = turn.context;
                (turn.understood, turn.reply)
            } else {
                // The baseline follow-ups are measured against: each message on its own.
                let understood = Understood::standalone(&question.q);
                let reply = answer::reply(engine, &understood, TURN_LIMITS.answers)?;
                (understood, reply)
            };
            let shown = match understood.understood_as() {
                Some(r) => format!("#{} {:?} (as {r:?})", c.id, question.q),
                None => format!("#{} {:?}", c.id, question.q),
            };
            let part = if i == 0 {
                &mut report.first
            } else {
                &mut report.follow_ups
            };
            score_reply(&set, part, &shown, question, &reply, engine);
        }
    }
    Ok(report)
}

/// Whether `text` (a passage's) holds one of the `gold` keys' snippets.
fn is_gold(set: &QuestionSet, gold: &[String], text: &str) -> bool {
    let text = normalize(text);
    gold.iter().any(|k| {
        set.gold
            .get(k)
            .is_some_and(|snippet| text.contains(snippet))
    })
}

/// Adds one reply to `report`: shown@1 when a gold passage is first (sure or closest), a
/// sure answer right or not, a rejection when a question without gold got no sure answer,
/// and the confidence against whether the best passage was a gold one.
fn score_reply(
    set: &QuestionSet,
    report: &mut Report,
    shown: &str,
    question: &Question,
    reply: &answer::Reply,
    engine: &Engine,
) {
    let gold = &question.gold;
    let got: Vec<String> = reply
        .answers
        .iter()
        .map(|a| gold_key(set, &a.full.text).unwrap_or_else(|| a.citation.label.clone()))
        .collect();
    let sure = reply.verdict == Verdict::Answer;
    if let Some(best) = reply.best {
        let right = is_gold(set, gold, &engine.knowledge.passages[best].text);
        report.calibration.add(reply.confidence, right);
    }
    if gold.is_empty() {
        report.out_of_scope += 1;
        if question.kind.as_deref() == Some("off_topic") {
            report.off_topic += 1;
            report.off_topic_none += usize::from(reply.verdict == Verdict::None);
        }
        if sure {
            report.unanswerable_sure += 1;
            report.misses.push(Miss {
                question: shown.to_string(),
                gold: vec![],
                got,
            });
        } else {
            report.rejected += 1;
        }
        return;
    }
    report.in_scope += 1;
    let rank = reply
        .answers
        .iter()
        .position(|a| is_gold(set, gold, &a.full.text));
    if sure {
        report.sure += 1;
        report.sure_right += usize::from(rank == Some(0));
    }
    match rank {
        Some(0) => report.hit1 += 1,
        _ => report.misses.push(Miss {
            question: shown.to_string(),
            gold: gold.to_vec(),
            got,
        }),
    }
    if let Some(r) = rank {
        report.hit3 += 1;
        report.reciprocal_rank_sum += 1.0 / (r + 1) as f64;
    }
}
