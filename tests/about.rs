//! Questions about the article itself (tests/data/about: who wrote it, who she is, when and
//! where it was published, its title, what it is about; and look-alikes that ask about
//! something else), asked of the real article with the real models, as `citebot ask` asks.
//!
//! The set was written blind; `tune` was looked at while writing `lang/*/about.toml`,
//! `held_out` only measures (a miss there is counted, never printed). Both parts are scored
//! and printed. On `tune` the floors are the bar (metadata right and sure for at
//! least 93%, every summary request a summary citing at least 3 body paragraphs, no
//! look-alike read as a question about the document); on `held_out` they are what was
//! measured, which is under that bar for all but the look-alikes.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use citebot::answer::{ask, Kind, Reply};
use citebot::knowledge::PassageKind;
use citebot::verdict::Verdict;
use citebot::{Engine, Options};

#[derive(serde::Deserialize)]
struct Question {
    q: String,
    asks: String,
    lang: String,
    split: String,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::load(&Options::new(root().join("knowledge"))).expect("loads"))
}

fn questions() -> Vec<Question> {
    let text = std::fs::read_to_string(root().join("tests/data/about/questions.jsonl")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Whether `reply` gives what `asks` asks for: the metadata passage first and sure for the
/// date, publication and title (for the author, it or the note about her, which names her); the note about the author for who she is; a summary
/// quoting at least three body paragraphs; and, for a look-alike, anything but a reply
/// about the document itself.
fn right(asks: &str, reply: &Reply) -> bool {
    let first = reply.answers.first().map(|a| a.kind);
    let sure = reply.verdict == Verdict::Answer;
    match asks {
        // The note about the author names her too, and says who she is.
        "author" => sure && matches!(first, Some(PassageKind::About | PassageKind::AuthorNote)),
        "date" | "publication" | "title" => sure && first == Some(PassageKind::About),
        "author_bio" => sure && first == Some(PassageKind::AuthorNote),
        "summary" => {
            let paragraphs: BTreeSet<usize> = reply
                .answers
                .iter()
                .filter(|a| a.kind == PassageKind::Paragraph)
                .map(|a| a.passage)
                .collect();
            reply.kind == Kind::Summary && paragraphs.len() >= 3
        }
        "none" => {
            reply.kind != Kind::Summary
                && !(reply.confidence == citebot::answer::FROM_THE_DOCUMENT
                    && matches!(first, Some(PassageKind::About | PassageKind::AuthorNote)))
        }
        other => panic!("unknown label {other}"),
    }
}

#[test]
fn questions_about_the_article_itself_are_answered_from_its_metadata_and_summary() {
    let (mut failures, mut misses, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    for split in ["tune", "held_out"] {
        for group in ["metadata", "author_bio", "summary", "none"] {
            let asked: Vec<&Question> = questions_in(split, group);
            let mut ok = 0;
            for q in &asked {
                let reply = ask(engine(), &q.q, 3).unwrap();
                if right(&q.asks, &reply) {
                    ok += 1;
                } else if split == "held_out" {
                    // Counted, never read: what is tuned must not learn from this part.
                    misses.push(format!("held_out {} ({}) missed", q.asks, q.lang));
                } else {
                    misses.push(format!(
                        "{split} {} ({}): {:?} → {:?} {:?} {:?}",
                        q.asks,
                        q.lang,
                        q.q,
                        reply.kind,
                        reply.verdict,
                        reply.answers.first().map(|a| a.citation.label.clone())
                    ));
                }
            }
            let rate = ok as f64 / asked.len().max(1) as f64;
            lines.push(format!(
                "{split:9} {group:10} {ok:2}/{:2} = {rate:.3}",
                asked.len()
            ));
            let floor = match (split, group) {
                ("tune", "metadata" | "author_bio") => 0.93,
                ("tune", _) | (_, "none") => 1.0,
                // Held out, as measured when the cues were written (docs/retrieval.md): under
                // the bar, which only the tune part meets.
                (_, "metadata") => 0.83,
                (_, "author_bio") => 0.33,
                _ => 0.75,
            };
            if rate < floor {
                failures.push(format!("{split} {group}: {rate:.3} under {floor}"));
            }
        }
    }
    println!("{}\n{}", lines.join("\n"), misses.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The questions of one split: `metadata` is author, date, publication and title together,
/// as the bar counts them.
fn questions_in(split: &str, group: &str) -> Vec<&'static Question> {
    static ALL: OnceLock<Vec<Question>> = OnceLock::new();
    ALL.get_or_init(questions)
        .iter()
        .filter(|q| q.split == split)
        .filter(|q| match group {
            "metadata" => ["author", "date", "publication", "title"].contains(&q.asks.as_str()),
            g => q.asks == g,
        })
        .collect()
}
