//! Several documents in one knowledge folder: the Russia article beside two short ones
//! (tests/data/library), in a temporary folder. A question that names a document is answered
//! from it; one that names none is answered from the best, and the others are offered.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use citebot::conversation::understand_with;
use citebot::{answer, Engine, Options, Reply};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A knowledge folder with the three documents (and the article's synonyms), kept for the
/// whole test run.
fn library() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        for from in [
            root().join("knowledge/russias-afghanistan-strategy.txt"),
            root().join("knowledge/synonyms.txt"),
            root().join("tests/data/library/honeybees-in-winter.txt"),
            root().join("tests/data/library/western-balkans.txt"),
        ] {
            std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
        }
        dir
    })
    .path()
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::load(&Options::new(library())).expect("the library loads"))
}

fn doc(id: &str) -> usize {
    engine()
        .knowledge
        .documents
        .iter()
        .position(|d| d.id == id)
        .unwrap_or_else(|| panic!("no document {id}"))
}

/// The id of the document the best answer comes from, and its excerpt.
fn answered(reply: &Reply) -> (&str, &str) {
    let a = reply
        .answers
        .first()
        .unwrap_or_else(|| panic!("no answer to {:?}", reply.question));
    (a.doc.as_str(), a.excerpt.text.as_str())
}

fn others(reply: &Reply) -> Vec<&str> {
    reply
        .others
        .iter()
        .map(|&d| engine().knowledge.documents[d].id.as_str())
        .collect()
}

#[test]
fn a_question_naming_a_document_is_answered_from_it() {
    for (question, id, says) in [
        (
            "When was the bee article published?",
            "honeybees-in-winter",
            "3 November 2021",
        ),
        (
            "Who wrote the piece on the Balkans?",
            "western-balkans",
            "Marko Petrović",
        ),
        (
            "When was the Russia article published?",
            "russias-afghanistan-strategy",
            "2 January 2018",
        ),
        (
            "What does the honeybee article say about damp?",
            "honeybees-in-winter",
            "damp",
        ),
    ] {
        let reply = citebot::ask(engine(), question, 1).unwrap();
        let (doc, excerpt) = answered(&reply);
        assert_eq!(doc, id, "{question}: {excerpt}");
        assert!(excerpt.contains(says), "{question}: {excerpt}");
        assert!(
            reply.others.is_empty(),
            "{question}: the question said which document"
        );
    }
}

#[test]
fn a_document_named_but_silent_on_the_question_does_not_borrow_an_answer() {
    // The Balkans piece says nothing of the Taliban; the Russia article does.
    let reply = citebot::ask(
        engine(),
        "What does the Balkans article say about the Taliban?",
        3,
    )
    .unwrap();
    assert!(
        reply.answers.iter().all(|a| a.doc == "western-balkans"),
        "{:?}",
        reply.answers.iter().map(|a| &a.doc).collect::<Vec<_>>()
    );
}

#[test]
fn a_question_naming_no_document_is_answered_from_the_best_and_offers_the_others() {
    // "Moscow" would name the Russia article (its subtitle has it): Kabulov is only in its text.
    let reply = citebot::ask(engine(), "Who is Zamir Kabulov?", 1).unwrap();
    assert_eq!(answered(&reply).0, "russias-afghanistan-strategy");
    assert_eq!(others(&reply), ["honeybees-in-winter", "western-balkans"]);

    let reply = citebot::ask(engine(), "What do beekeepers worry about?", 1).unwrap();
    assert_eq!(answered(&reply).0, "honeybees-in-winter");
    assert_eq!(
        others(&reply),
        ["russias-afghanistan-strategy", "western-balkans"]
    );

    // Nothing to offer when nothing answered.
    let reply = citebot::ask(engine(), "Recommend a laptop for gaming", 1).unwrap();
    assert!(reply.answers.is_empty() && reply.others.is_empty());
}

#[test]
fn a_question_asked_of_one_document_is_answered_from_it_or_refused() {
    let question = "What has China financed in the region?";
    let balkans = answer::ask_in(engine(), question, Some(doc("western-balkans")), 3).unwrap();
    assert_eq!(answered(&balkans).0, "western-balkans");
    assert!(answered(&balkans).1.contains("motorways"));

    let bees = answer::ask_in(engine(), question, Some(doc("honeybees-in-winter")), 3).unwrap();
    assert!(bees.answers.is_empty(), "{:?}", answered(&bees));
}

#[test]
fn a_follow_up_stays_in_the_document_of_the_answer_before() {
    let first = understand_with("How do bees keep warm?", None, &engine().names);
    let reply = answer::reply(engine(), &first, 1).unwrap();
    assert_eq!(answered(&reply).0, "honeybees-in-winter");
    let context = first.remember(None, reply.answers.first().map(Into::into));

    let next = understand_with("When was it published?", context.as_ref(), &engine().names);
    let reply = answer::reply(engine(), &next, 1).unwrap();
    let (id, excerpt) = answered(&reply);
    assert_eq!(id, "honeybees-in-winter");
    assert!(excerpt.contains("2021"), "{excerpt}");
}

fn citebot() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_citebot"));
    cmd.current_dir(std::env::temp_dir());
    for var in ["INDEX_DIR", "SEMANTIC", "EMBEDDING_MODEL", "NO_COLOR"] {
        cmd.env_remove(var);
    }
    cmd.env("KNOWLEDGE_DIR", library());
    cmd
}

fn stdout_of(cmd: &mut Command) -> (String, String, bool) {
    let out = cmd.output().expect("citebot runs");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.success(),
    )
}

#[test]
fn the_command_line_offers_the_other_documents_and_asks_one_with_doc() {
    let (out, _, ok) = stdout_of(citebot().args(["ask", "Who is Zamir Kabulov?"]));
    assert!(ok);
    let last = out.lines().last().unwrap();
    assert!(
        last.contains("Also in my documents")
            && last.contains("“How Honeybees Survive the Winter” (--doc honeybees-in-winter)"),
        "{out}"
    );

    let (out, _, ok) = stdout_of(citebot().args([
        "ask",
        "--json",
        "--doc",
        "western-balkans",
        "What has China financed in the region?",
    ]));
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["answers"][0]["doc"], "western-balkans");
    assert_eq!(json["others"], serde_json::json!([]));

    let (_, err, ok) = stdout_of(citebot().args(["ask", "--doc", "bees", "Why?"]));
    assert!(!ok);
    assert!(
        err.contains("no document \"bees\"") && err.contains("honeybees-in-winter"),
        "{err}"
    );
}
