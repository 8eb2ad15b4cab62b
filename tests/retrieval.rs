//! Answer quality on real questions about the real article, with the real sentence model:
//! - the public question set (copied from the project's shared eval set), the bar the core
//!   issue set;
//! - `more_questions.jsonl`, paraphrases written for the lexical ranking as a guard;
//! - `paraphrases.jsonl`, questions in people's own words and questions the article does not
//!   answer, written before the meaning layer was ranked on them, in two parts: `tune` (the
//!   thresholds were chosen on it) and `held_out` (never tuned on; it only measures).
//!
//! - `document_questions.jsonl`, questions about the article itself (its title, publication,
//!   date, author), written before the metadata passages could answer on words alone and
//!   only measured since.
//! - `off_topic.jsonl`: 80 off-topic questions, English and Russian (54 `tune`, 26
//!   `held_out`), written after the confidence was fitted and never fitted on.
//! - `off_topic_follow_ups.jsonl`: a real first question, then a follow-up pointing back
//!   that the article does not answer ("Does he have children?"), `tune` (32) and
//!   `held_out` (20, only measured).
//! - `conversations.jsonl` (48 conversations, `tune` and `held_out`),
//!   `conversations_more.jsonl` (40 more, written later, all tuned on),
//!   `conversations_fresh.jsonl` (30, all held out) and `conversations_casual.jsonl` (40 in
//!   chat's own style, written last, all tuned on): follow-up questions read in the context
//!   of the ones before.
//!
//! Floors sit a little under what was measured on every numeric path of the sentence models
//! (bf16 on AMX tiles, 8-bit on AVX-512 VNNI, f32: `CITEBOT_PRECISION`; docs/retrieval.md,
//! "Numeric paths", has the figures side by side), so a change that loses more than a
//! question or two fails here, and a floor that only one kind of CPU meets fails on all.

use std::path::Path;
use std::sync::OnceLock;

use citebot::eval::{evaluate, QuestionSet, Report};
use citebot::verdict::Verdict;
use citebot::{Engine, Options};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn semantic() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let engine = Engine::load(&Options::new(root().join("knowledge"))).expect("loads");
        assert!(
            engine.is_semantic(),
            "the model that ships with citebot loads"
        );
        engine
    })
}

fn lexical() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::load(&Options::lexical(root().join("knowledge"))).unwrap())
}

/// Scores a question set of tests/data (one split of it, when given) against the gold passages.
fn evaluate_set(engine: &Engine, questions: &str, split: Option<&str>) -> Report {
    let data = root().join("tests/data");
    let mut set = QuestionSet::load(&data.join(questions), &data.join("passages.json")).unwrap();
    if let Some(split) = split {
        set = set.only_split(split);
    }
    let report = evaluate(engine, &set).unwrap();
    println!(
        "{questions} {split:?} semantic={}\n{}",
        engine.is_semantic(),
        report.render()
    );
    report
}

/// `hit1` is shown@1: the right passage first, as a sure answer or as the closest; `rejected`
/// the share of questions without an answer given no sure one.
fn assert_floor(report: &Report, hit1: f64, hit3: f64, rejected: f64) {
    assert!(report.hit_at_1() >= hit1, "hit@1 {:.3}", report.hit_at_1());
    assert!(report.hit_at_3() >= hit3, "hit@3 {:.3}", report.hit_at_3());
    assert!(
        report.rejection_rate() >= rejected,
        "rejected {:.3}",
        report.rejection_rate()
    );
}

#[test]
fn public_question_set_meets_the_bar_with_and_without_meaning() {
    for engine in [semantic(), lexical()] {
        let report = evaluate_set(engine, "questions.jsonl", None);
        assert!(report.in_scope >= 30 && report.out_of_scope >= 4);
        assert_floor(&report, 0.93, 0.95, 1.0);
        assert_sure(&report, 0.95, 0.6);
    }
}

/// Sure answers right at least `precision` of the time, covering at least `coverage` of the
/// answerable questions.
fn assert_sure(report: &Report, precision: f64, coverage: f64) {
    assert!(
        report.sure_precision() >= precision,
        "sure answers right {:.3}",
        report.sure_precision()
    );
    assert!(
        report.sure_coverage() >= coverage,
        "answered sure and right {:.3}",
        report.sure_coverage()
    );
}

/// Paraphrases written for the lexical ranking: misses allowed, but few, and no answer to an
/// out-of-scope question.
#[test]
fn earlier_paraphrases_hold_up() {
    assert_floor(
        &evaluate_set(semantic(), "more_questions.jsonl", None),
        0.9,
        0.95,
        1.0,
    );
    assert_floor(
        &evaluate_set(lexical(), "more_questions.jsonl", None),
        0.85,
        0.95,
        1.0,
    );
}

/// Questions in people's own words: the meaning layer is what answers them.
#[test]
fn questions_in_other_words_are_understood() {
    let set = "paraphrases.jsonl";
    let tune = evaluate_set(semantic(), set, Some("tune"));
    assert!(tune.in_scope >= 90 && tune.out_of_scope >= 25);
    assert_floor(&tune, 0.72, 0.86, 0.85);
    assert_sure(&tune, 0.82, 0.19);

    let held_out = evaluate_set(semantic(), set, Some("held_out"));
    assert!(held_out.in_scope >= 60 && held_out.out_of_scope >= 15);
    assert_floor(&held_out, 0.78, 0.84, 0.85);
    assert_sure(&held_out, 0.8, 0.22);

    // Words alone answer far fewer of them: the layer earns its cost.
    let words_only = evaluate_set(lexical(), set, Some("held_out"));
    assert!(
        held_out.hit_at_1() >= words_only.hit_at_1() + 0.2,
        "with meaning {:.3}, words only {:.3}",
        held_out.hit_at_1(),
        words_only.hit_at_1()
    );
}

/// Questions about the article itself ("Who wrote this piece?", "What's the headline?") are
/// answered from its metadata and the note on its author, and what those do not say ("How
/// many pages is it?") is not.
#[test]
fn questions_about_the_article_itself_are_answered() {
    let report = evaluate_set(semantic(), "document_questions.jsonl", None);
    assert!(report.in_scope >= 20 && report.out_of_scope >= 6);
    // 0.750 on the 8-bit path and on f32 (docs/retrieval.md, "Graded answers").
    assert_floor(&report, 0.7, 0.7, 0.8);
    assert_sure(&report, 0.95, 0.45);
}

/// Questions about other things entirely get no sure answer, and mostly nothing at all (not
/// even a closest passage): the paraphrases' off-topic questions and `off_topic.jsonl` (80,
/// English and Russian, written later and never fitted on, a third held out).
#[test]
fn off_topic_questions_are_never_answered() {
    let data = root().join("tests/data");
    let gold = data.join("passages.json");
    let mut paraphrases = QuestionSet::load(&data.join("paraphrases.jsonl"), &gold).unwrap();
    paraphrases
        .questions
        .retain(|q| q.kind.as_deref() == Some("off_topic"));
    let off_topic = QuestionSet::load(&data.join("off_topic.jsonl"), &gold).unwrap();
    assert!(paraphrases.questions.len() >= 20 && off_topic.questions.len() >= 80);
    for engine in [semantic(), lexical()] {
        for (set, name) in [(&paraphrases, "paraphrases"), (&off_topic, "off_topic")] {
            for split in ["tune", "held_out"] {
                let report = evaluate(engine, &set.clone().only_split(split)).unwrap();
                assert_eq!(report.unanswerable_sure, 0, "{}", report.render());
                // The paraphrases' tune part, where the closest cut was chosen, all get
                // nothing. The rest are under the cut less often: held out, two of nine
                // paraphrases ("Who painted the Mona Lisa?" finds a person); of
                // `off_topic.jsonl`, 43 to 45 of 54 and 22 of 26 by the numeric path
                // (docs/retrieval.md, "Graded answers").
                let floor = match (name, split) {
                    ("paraphrases", "tune") => 1.0,
                    _ => 0.75,
                };
                let none = report.off_topic_none as f64 / report.off_topic as f64;
                assert!(none >= floor, "{name}, {split}: {}", report.render());
            }
        }
    }
}

/// Questions in the article's words that ask what it does not say: the meaning is close, but
/// the sentences lack what is asked for (a number of troops, a leader, a budget). No sure
/// answer: at most the closest passage, shown as such.
#[test]
fn questions_the_article_does_not_answer_are_refused() {
    for q in [
        "How many troops does Russia have in Afghanistan?",
        "How many Russian troops are there?",
        "What did Ashraf Ghani say about the Taliban?",
        "Who leads the Taliban?",
        "What is NATO's budget for Afghanistan?",
        "What is the capital of France?",
    ] {
        for engine in [semantic(), lexical()] {
            let reply = citebot::ask(engine, q, 1).unwrap();
            assert_ne!(
                reply.verdict,
                Verdict::Answer,
                "{q}: answered {:?}",
                reply.answers[0].citation.label
            );
        }
    }
}

/// A word the article does not use is not read as one it does, when it is a word of its
/// own: "raining" is not "training", "cost" not the stop word "most". A misspelling still is
/// corrected ("abut the withdrawl"), and so is another form of an indexed word ("rebuilt").
#[test]
fn english_words_are_not_corrected_into_the_articles_words() {
    for q in [
        "Is Kabulov raining?",
        "How much do those weapons cost?",
        "When does it snow in Kabul?",
    ] {
        for engine in [semantic(), lexical()] {
            let reply = citebot::ask(engine, q, 1).unwrap();
            assert_ne!(reply.verdict, Verdict::Answer, "{q}: answered");
        }
    }
    for engine in [semantic(), lexical()] {
        let reply = citebot::ask(engine, "What did Kabulov say abut the withdrawl?", 1).unwrap();
        let got = reply.answers.first().map(|a| a.citation.label.as_str());
        assert_eq!(got, Some("¶4"));
    }
    let reply = citebot::ask(semantic(), "What did Afghanistan need rebuilt?", 1).unwrap();
    let got = reply.answers.first().map(|a| a.citation.label.as_str());
    assert_eq!(got, Some("¶12"));
}

/// The title says what the article argues; a question in its words asks about that, and is
/// answered from the text. A question about the article itself still gets the metadata.
#[test]
fn a_question_in_the_titles_words_is_answered_from_the_text() {
    let label = |engine: &Engine, q: &str| {
        let reply = citebot::ask(engine, q, 1).unwrap();
        reply.answers.first().map(|a| a.citation.label.clone())
    };
    let q = "Why is Russia preparing to go it alone?";
    assert_eq!(label(semantic(), q).as_deref(), Some("¶2"));
    // By words alone ¶2 shares too little with it: refused, but not given the metadata.
    assert_eq!(label(lexical(), q), None);
    for engine in [semantic(), lexical()] {
        let q = "What is the title of this article?";
        assert_eq!(label(engine, q).as_deref(), Some("about this article"));
        // Asking for the article's gist gets its summary: key sentences of the body.
        for q in ["tldr", "summary please"] {
            let reply = citebot::ask(engine, q, 1).unwrap();
            assert_eq!(reply.kind, citebot::answer::Kind::Summary, "{q}");
            assert!(reply.answers.len() >= 3, "{q}");
            assert!(reply
                .answers
                .iter()
                .all(|a| a.citation.label.starts_with('¶')));
        }
    }
}

/// Each answer says why it won: its lexical and semantic scores.
#[test]
fn answers_carry_both_signals() {
    let reply = citebot::ask(
        semantic(),
        "Why is Moscow on speaking terms with the Taliban?",
        1,
    )
    .unwrap();
    let a = &reply.answers[0];
    assert_eq!(a.citation.label, "¶8");
    let meaning = a.signals.semantic.expect("the layer is on");
    assert!(meaning > a.signals.lexical, "{:?}", a.signals);

    let reply = citebot::ask(lexical(), "Who is Khalifa Haftar?", 1).unwrap();
    assert_eq!(reply.answers[0].signals.semantic, None);
}

/// Scores the conversations of `file` (one split, when given), with and without context.
fn conversations(
    file: &str,
    split: Option<&str>,
) -> (
    citebot::eval::ConversationReport,
    citebot::eval::ConversationReport,
) {
    let data = root().join("tests/data");
    let text = std::fs::read_to_string(data.join(file)).unwrap();
    let mut set = citebot::eval::parse_conversations(&text).unwrap();
    if let Some(split) = split {
        set.retain(|c| c.split.as_deref() == Some(split));
    }
    let gold = citebot::eval::load_gold(&data.join("passages.json")).unwrap();
    let run = |with_context| {
        let report =
            citebot::eval::evaluate_conversations(semantic(), &set, &gold, with_context).unwrap();
        println!(
            "{file} {split:?} context={with_context}\n{}",
            report.render()
        );
        report
    };
    (run(true), run(false))
}

#[test]
fn follow_ups_are_understood_in_context() {
    for (file, split, floor, unanswerable_refused) in [
        // 0.862 before questions about the article itself were read as such (issue 32);
        // 0.793 since: one first turn of this held-out part is, and its follow-ups are read
        // after that reply. Held out, so not looked into.
        ("conversations.jsonl", Some("held_out"), 0.78, 0.7),
        ("conversations.jsonl", Some("tune"), 0.74, 0.9),
        ("conversations_more.jsonl", None, 0.73, 0.9),
        ("conversations_fresh.jsonl", None, 0.7, 0.9),
        ("conversations_casual.jsonl", None, 0.75, 0.88),
    ] {
        let (context, alone) = conversations(file, split);
        let follow = &context.follow_ups;
        assert!(follow.in_scope >= 25, "{file} {split:?}: a real sample");
        assert!(
            follow.hit_at_1() >= floor,
            "{file} {split:?}: follow-ups hit@1 {:.3}",
            follow.hit_at_1()
        );
        // Read alone, a follow-up often still gets the right passage as the closest: the
        // context is what makes the difference on the rest.
        assert!(
            follow.hit_at_1() >= alone.follow_ups.hit_at_1() + 0.2,
            "{file} {split:?}: context must be what answers follow-ups"
        );
        assert!(
            follow.rejection_rate() >= unanswerable_refused,
            "{file} {split:?}: follow-ups the article does not answer, refused {:.3}",
            follow.rejection_rate()
        );
        // A first turn has no context: it is answered exactly as `ask` answers it.
        assert_eq!(context.first.hit1, alone.first.hit1, "{file} {split:?}");
        assert_eq!(context.first.in_scope, alone.first.in_scope);
    }
}

/// Follow-ups that point back at the last answer but ask what the article never says ("Does
/// he have children?" after Kabulov). Short of the target (every one refused) on the
/// held-out part: the topic's names carry such a message to the last paragraph, whose
/// people, places and dates satisfy the check of what it asks for. These floors keep it from
/// getting worse; docs/retrieval.md has the figures and what was tried.
#[test]
fn off_topic_follow_ups_are_refused_no_less_than_measured() {
    for (split, floor) in [("tune", 0.9), ("held_out", 0.9)] {
        let (context, alone) = conversations("off_topic_follow_ups.jsonl", Some(split));
        assert!(context.follow_ups.out_of_scope >= 8);
        let refused = context.follow_ups.rejection_rate();
        assert!(refused >= floor, "{split}: refused {refused:.3}");
        // Read alone, none of them is answered: only context answers them.
        assert_eq!(alone.follow_ups.rejection_rate(), 1.0, "{split}");
    }
}

/// Context adds words to search with, never a reason to answer: a question about something
/// else entirely gets no sure answer whatever was asked before it, and context almost never
/// makes it show a passage it would not show alone. Measured: of 275 pairs, one does ("Will
/// it snow in Chicago this weekend?" after "Who is the author?": the author's note, as the
/// closest); two held-out off-topic questions get a closest passage with or without context
/// (docs/retrieval.md, "Graded answers").
#[test]
fn off_topic_questions_stay_refused_after_any_question() {
    use citebot::conversation::{understand_with, Understood};
    let data = root().join("tests/data");
    let paraphrases =
        QuestionSet::load(&data.join("paraphrases.jsonl"), &data.join("passages.json")).unwrap();
    let public =
        QuestionSet::load(&data.join("questions.jsonl"), &data.join("passages.json")).unwrap();
    let off_topic: Vec<&str> = paraphrases
        .questions
        .iter()
        .filter(|q| q.kind.as_deref() == Some("off_topic"))
        .chain(public.questions.iter().filter(|q| q.gold.is_empty()))
        .map(|q| q.q.as_str())
        .collect();
    assert!(off_topic.len() >= 25);
    let engine = semantic();
    let alone: Vec<Verdict> = off_topic
        .iter()
        .map(|q| citebot::ask(engine, q, 1).unwrap().verdict)
        .collect();
    let (mut sure, mut raised, mut pairs) = (Vec::new(), Vec::new(), 0);
    for first in public
        .questions
        .iter()
        .filter(|q| !q.gold.is_empty())
        .step_by(3)
    {
        let before = Understood::standalone(&first.q);
        let reply = citebot::answer::reply(engine, &before, 1).unwrap();
        let context = before.remember(None, reply.answers.first().map(Into::into));
        for (q, alone) in off_topic.iter().zip(&alone) {
            let understood = understand_with(q, context.as_ref(), &engine.names);
            let verdict = citebot::answer::reply(engine, &understood, 1)
                .unwrap()
                .verdict;
            pairs += 1;
            let pair = format!("{q:?} after {:?}", first.q);
            if verdict == Verdict::Answer {
                sure.push(pair);
            } else if verdict.shows() && !alone.shows() {
                raised.push(pair);
            }
        }
    }
    assert!(pairs >= 250);
    assert!(sure.is_empty(), "answered sure: {sure:#?}");
    assert!(raised.len() <= 2, "shown only in context: {raised:#?}");
}

/// Questions in Russian about the English article (`questions_ru.jsonl`, written before any
/// ranking, `tune` and `held_out`): multilingual-e5-small's meaning answers them, with the
/// words it reads across the languages (`bridge`) and names found by transliteration. Floors
/// under the lowest of the numeric paths (docs/retrieval.md, "Numeric paths": tune
/// 0.569 / 0.723 / 0.842, held out 0.610 / 0.678 / 11 of 16, the lowest of bf16, 8-bit and
/// f32 each; 8-bit on plain rows, measured with an empty cache beside 8-bit on candle's
/// tensors, rejects one tune question fewer, 15 of 19, and puts one more first, 50 of 65;
/// held out it is the same but for one sure answer), under issue 25's bar for answers, which
/// this model on these questions does not reach: what stands here guards against losing what
/// it does.
#[test]
fn questions_in_russian_are_answered_from_the_english_article() {
    let tune = evaluate_set(semantic(), "questions_ru.jsonl", Some("tune"));
    assert!(tune.in_scope >= 60 && tune.out_of_scope >= 15);
    assert_floor(&tune, 0.7, 0.85, 0.78);
    assert_sure(&tune, 0.8, 0.2);
    let held_out = evaluate_set(semantic(), "questions_ru.jsonl", Some("held_out"));
    assert!(held_out.in_scope >= 55 && held_out.out_of_scope >= 15);
    assert_floor(&held_out, 0.69, 0.79, 0.75);
    assert_sure(&held_out, 0.84, 0.33);
    // Words alone answer almost none of them.
    let words_only = evaluate_set(lexical(), "questions_ru.jsonl", Some("held_out"));
    assert!(
        held_out.hit_at_1() >= words_only.hit_at_1() + 0.3,
        "with meaning {:.3}, words only {:.3}",
        held_out.hit_at_1(),
        words_only.hit_at_1()
    );
}

/// A Russian word that no passage holds is read as the article's English word nearest in
/// meaning, with the weight of a guess; a name is still read by its letters, and a word with
/// no close English word in the article stays as it is.
#[test]
fn a_russian_questions_words_are_read_in_the_articles_english() {
    use citebot::analysis::Source;
    let query = semantic().analyse("почему россию волнует стабильность, переговоры и хафтар");
    let read: Vec<(&str, Source, String)> = (query.concepts.iter())
        .map(|c| {
            (
                c.surface.as_str(),
                c.alternatives[0].source,
                c.alternatives[0].terms.join(" "),
            )
        })
        .collect();
    let of = |word: &str| {
        read.iter()
            .find(|(w, _, _)| *w == word)
            .map(|(_, s, t)| (*s, t.as_str()))
    };
    assert_eq!(
        of("переговоры"),
        Some((Source::Translation, "discuss")),
        "{read:?}"
    );
    assert_eq!(
        of("россию"),
        Some((Source::Translation, "russia")),
        "{read:?}"
    );
    assert_eq!(of("хафтар"), Some((Source::Typo, "haftar")), "{read:?}");
    // Words alone have no model, and read nothing across the languages.
    let alone = lexical().analyse("почему россию волнует афганский героин");
    assert!(
        (alone.concepts.iter()).all(|c| c.alternatives[0].source != Source::Translation),
        "{alone:?}"
    );
}

/// A Russian document (`library-ru/`, its header saying `language = "ru"`) is cut and indexed
/// with Russian stemming: a question's word in another case finds the passage ("паромы",
/// "пассажиров"), by words alone, and its citation is that of any document.
#[test]
fn a_russian_document_is_indexed_with_russian_stemming() {
    let engine = Engine::load(&Options::lexical(root().join("tests/data/library-ru"))).unwrap();
    assert_eq!(
        engine.knowledge.documents[0].language,
        citebot::lang::Lang::Ru
    );
    let results = engine
        .search("сколько пассажира перевез паромом за прошлый год", 3)
        .unwrap();
    let best = results.hits.first().expect("a passage matches");
    let passage = &engine.knowledge.passages[best.passage];
    assert!(
        passage.text.contains("190 тысяч пассажиров"),
        "{}",
        passage.text
    );
    assert_eq!(passage.label(), "¶5");
}
