//! The `citebot` binary end to end: what a person or a script sees on stdout, stderr and in
//! the exit code.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn citebot() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_citebot"));
    // A developer's .env (read from the working directory) or environment must not change
    // what the tests see.
    cmd.current_dir(std::env::temp_dir());
    for var in [
        "TELOXIDE_TOKEN",
        "TELOXIDE_API_URL",
        "INDEX_DIR",
        "WEBHOOK_URL",
        "ALLOWED_CHATS",
        "SEMANTIC",
        "EMBEDDING_MODEL",
        // The terminal's locale is the user's language, as Telegram's language_code is.
        "LC_ALL",
        "LC_MESSAGES",
        "LANG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("KNOWLEDGE_DIR", root().join("knowledge"));
    cmd
}

fn run(cmd: &mut Command) -> (String, String, i32) {
    let Output {
        stdout,
        stderr,
        status,
    } = cmd.output().expect("citebot runs");
    (
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
        status.code().unwrap_or(-1),
    )
}

#[test]
fn ask_prints_the_excerpt_and_its_citation() {
    let (out, _, code) = run(citebot().args(["ask", "Who is Khalifa Haftar?"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("*Khalifa* *Haftar*, the head of the Libyan National Army"),
        "{out}"
    );
    assert!(out.contains(
        "— Russia's Afghanistan Strategy, Julia Gurganus, Foreign Affairs, 2 January 2018, ¶6"
    ));
    assert!(out.contains("https://www.foreignaffairs.com/articles/afghanistan/2018-01-02/russias-afghanistan-strategy"));
}

#[test]
fn ask_json_has_the_documented_shape() {
    let (out, _, code) = run(citebot().args([
        "ask",
        "--json",
        "--top",
        "2",
        "Where was the photo of the Mi-17 taken?",
    ]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["question"], "Where was the photo of the Mi-17 taken?");
    assert_eq!(v["question_language"], "en");
    assert_eq!(v["passage_language"], "en");
    let first = &v["answers"][0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "rank",
            "doc",
            "language",
            "title",
            "passage",
            "kind",
            "score",
            "signals",
            "text",
            "excerpt",
            "highlights",
            "citation",
            "url"
        ]
    );
    assert_eq!(first["rank"], 1);
    assert_eq!(first["kind"], "caption");
    assert_eq!(first["passage"], "photo caption 2");
    let signals = &first["signals"];
    assert!(signals["lexical"].as_f64().unwrap() > 0.0);
    assert!(signals["semantic"].as_f64().unwrap() > 0.0);
    assert!(first["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h == "Mi-17"));
    assert!(v["answers"].as_array().unwrap().len() <= 2);
}

#[test]
fn out_of_scope_questions_get_no_answer() {
    let (out, _, code) = run(citebot().args(["ask", "--json", "What is the capital of France?"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["answers"], serde_json::json!([]));
    let (out, _, _) = run(citebot().args(["ask", "What is the capital of France?"]));
    assert!(out.starts_with("I couldn't find an answer"), "{out}");
    assert!(
        !out.contains("/help"),
        "no bot commands on the command line: {out}"
    );
}

/// Runs citebot with `args`, feeds it `input` on stdin, and reads one JSON object per line
/// of its stdout.
fn json_lines(args: &[&str], input: &[u8]) -> Vec<serde_json::Value> {
    let mut child = citebot()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

#[test]
fn questions_on_stdin_give_one_json_line_each() {
    let lines = json_lines(
        &["ask"],
        "Who is Mohammad Atmar?\n\n\"unbalanced\ntitle:x -Taliban NOT a^2 ( * \\\nWho won the Super Bowl?\n"
            .as_bytes(),
    );
    assert_eq!(lines.len(), 4, "blank lines are skipped");
    assert_eq!(lines[0]["answers"][0]["passage"], "¶8");
    assert_eq!(lines[3]["answers"], serde_json::json!([]));
}

#[test]
fn eval_scores_the_public_set() {
    let data = root().join("tests/data");
    let (out, _, code) = run(citebot()
        .arg("eval")
        .arg(data.join("questions.jsonl"))
        .arg("--gold")
        .arg(data.join("passages.json")));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hit@1:"), "{out}");
    assert!(out.contains("rejected:      1.000 (4/4"));
}

/// `--tuning` ranks and decides with other thresholds, without recompiling: thresholds no
/// passage can reach answer nothing; a misspelt field is one line that names it.
#[test]
fn eval_takes_its_tuning_from_a_file() {
    let data = root().join("tests/data");
    let dir = tempfile::tempdir().unwrap();
    let eval = |tuning: &Path| {
        run(citebot()
            .args(["--semantic", "off", "eval"])
            .arg(data.join("questions.jsonl"))
            .arg("--gold")
            .arg(data.join("passages.json"))
            .arg("--tuning")
            .arg(tuning))
    };
    let unreachable = dir.path().join("unreachable.toml");
    std::fs::write(
        &unreachable,
        "[confidence_words_only]\nsure = 2.0\nclosest = 2.0\n",
    )
    .unwrap();
    let (out, err, code) = eval(&unreachable);
    assert_eq!(code, 0, "{err}");
    // Only the two questions about the author, answered from the note about her whatever
    // the search's cut points (about.rs reads them, before any search).
    assert!(out.contains("hit@1:         0.065 (2/31)"), "{out}");
    assert!(out.contains("rejected:      1.000 (4/4"), "{out}");
    // No sure answer, but every passage shown as the closest: the ranking alone.
    let unsure = dir.path().join("unsure.toml");
    std::fs::write(
        &unsure,
        "[confidence_words_only]\nsure = 2.0\nclosest = 0.0\n",
    )
    .unwrap();
    let (out, _, _) = eval(&unsure);
    assert!(out.contains("sure:          0.065"), "{out}");
    assert!(out.contains("hit@1:         1.000 (31/31)"), "{out}");

    let misspelt = dir.path().join("misspelt.toml");
    std::fs::write(&misspelt, "[policy]\nmeaning_alonne = 0.7\n").unwrap();
    let (_, err, code) = eval(&misspelt);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("misspelt.toml: line 2: ") && err.contains("meaning_alonne"),
        "{err}"
    );
}

#[test]
fn bad_knowledge_is_one_line_and_a_failure() {
    let empty = tempfile::tempdir().unwrap();
    let unreadable = tempfile::tempdir().unwrap();
    std::fs::write(
        unreadable.path().join("article.txt"),
        [0u8, 1, 2, 3].repeat(500),
    )
    .unwrap();
    let cases = [
        (
            Path::new("/nonexistent/knowledge").to_path_buf(),
            "cannot be read",
        ),
        (empty.path().to_path_buf(), "holds no documents"),
        (
            unreadable.path().to_path_buf(),
            "no document could be read (",
        ),
    ];
    for (dir, want) in cases {
        let (out, err, code) = run(citebot().args(["ask", "x"]).env("KNOWLEDGE_DIR", &dir));
        assert_ne!(code, 0);
        assert!(out.is_empty());
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("citebot: ") && err.contains(want), "{err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn serve_without_a_token_says_what_to_do() {
    let (_, err, code) = run(citebot().arg("serve"));
    assert_ne!(code, 0);
    assert!(err.contains("@BotFather") && err.contains(".env"), "{err}");
    assert!(err.contains("-- chat"), "and how to try it now: {err}");
    let (_, err, code) = run(citebot().env("TELOXIDE_TOKEN", "not-a-token"));
    assert_ne!(code, 0);
    assert!(err.contains("does not look like a bot token"), "{err}");
    assert!(!err.contains("not-a-token"), "the token is never echoed");
}

#[test]
fn usage_errors_exit_with_2() {
    let (_, err, code) = run(citebot().args(["ask", "--top", "0", "x"]));
    assert_eq!(code, 2, "{err}");
    let (_, _, code) = run(citebot().arg("frobnicate"));
    assert_eq!(code, 2);
}

/// The token never reaches a log line, not even at trace level while Telegram is unreachable
/// (the bot retries, logging each failure).
#[test]
fn the_token_never_appears_in_logs() {
    let secret = "AAEhBP0av28ZfT4cQ1Rkq3B9sWLsecretpart";
    let mut child = citebot()
        .arg("serve")
        .env("TELOXIDE_TOKEN", format!("123456:{secret}"))
        // Nothing listens on port 9 of the loopback: every request fails at once.
        .env("TELOXIDE_API_URL", "http://127.0.0.1:9/")
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("Telegram unreachable at start"), "{log}");
    assert!(!log.contains(secret), "the token leaked: {log}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
}

#[test]
fn the_meaning_layer_switches_off_and_follows_the_model_folder() {
    let q = "Why is Moscow on speaking terms with the Taliban?";
    let (out, _, code) = run(citebot().args(["ask", "--json", "--semantic", "off", q]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Words alone do not understand this one; meaning does.
    assert_eq!(v["answers"].as_array().unwrap().len(), 0, "{out}");
    let (out, _, _) = run(citebot().env("SEMANTIC", "on").args(["ask", "--json", q]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["answers"][0]["passage"], "¶8", "{out}");

    // A model folder that is not there: one warning, and answers by words.
    let (out, err, code) = run(citebot()
        .env("EMBEDDING_MODEL", "/nonexistent/model")
        .args(["ask", "--json", "Who is Khalifa Haftar?"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("/nonexistent/model"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["answers"][0]["signals"]["semantic"],
        serde_json::Value::Null
    );
}

/// Two processes started at once on one fresh INDEX_DIR: one builds, the other waits and
/// reuses the build; neither takes the other's unfinished build for a broken one.
#[test]
fn two_processes_share_a_fresh_index_dir() {
    let index = tempfile::tempdir().unwrap();
    let spawn = || {
        citebot()
            .env("INDEX_DIR", index.path())
            .env("SEMANTIC", "off")
            .args(["ask", "--json", "Who is Khalifa Haftar?"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["answers"][0]["passage"], "¶6", "{stderr}");
    }
}

#[test]
fn chat_off_a_terminal_reads_a_conversation_per_blank_line_separated_block() {
    let lines = json_lines(
        &["chat", "--json"],
        b"Who is Zamir Kabulov?\nWhat did he warn about?\n/more\n\nWhat did he warn about?\n/help\n",
    );
    assert_eq!(lines.len(), 4, "/help prints no JSON: {lines:?}");
    assert_eq!(lines[0]["understood_as"], serde_json::Value::Null);
    assert_eq!(lines[0]["answers"][0]["passage"], "¶4");
    assert_eq!(
        lines[1]["understood_as"],
        "What did he warn about? (about Zamir Kabulov)"
    );
    assert_eq!(lines[1]["answers"][0]["passage"], "¶4");
    assert_eq!(lines[2]["answers"][0]["rank"], 2, "/more: the next match");
    assert_eq!(
        lines[3]["understood_as"],
        serde_json::Value::Null,
        "an empty line started a new conversation"
    );
}

/// The interactive chat, on a pseudo-terminal as a person would use it. (rexpect reads the
/// output byte by byte as Latin-1, so only ASCII is looked for.)
#[cfg(unix)]
#[test]
fn chat_on_a_terminal_renders_answers_and_quits() {
    let mut cmd = citebot();
    cmd.args(["chat"]).env("NO_COLOR", "1").env("TERM", "dumb");
    let mut chat = rexpect::session::spawn_command(cmd, Some(60_000)).expect("a pty");
    chat.exp_string("/quit").expect("the welcome names /quit");
    chat.exp_string("you> ").expect("a prompt");
    chat.send_line("Who is Zamir Kabulov?").unwrap();
    chat.exp_string("*Kabulov*")
        .expect("matched words highlighted");
    chat.exp_string("Julia Gurganus, Foreign Affairs, 2 January 2018")
        .expect("the citation");
    chat.exp_string("/more: next match")
        .expect("the buttons as commands");
    chat.exp_string("you> ").unwrap();
    chat.send_line("What did he warn about?").unwrap();
    chat.exp_string("What did he warn about? (about Zamir Kabulov)")
        .expect("how the follow-up was understood");
    chat.exp_string("you> ").unwrap();
    chat.send_line("/full").unwrap();
    chat.exp_string("Special Representative")
        .expect("the whole paragraph");
    chat.exp_string("you> ").unwrap();
    chat.send_line("/quit").unwrap();
    chat.exp_eof().expect("/quit ends the chat");
}

#[test]
fn ask_takes_unquoted_words_cuts_long_questions_and_says_so() {
    let (out, _, code) = run(citebot().args(["ask", "--json", "Kabulov", "withdrawal"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["question"], "Kabulov withdrawal");
    assert_eq!(v["truncated"], false);
    assert_eq!(v["answers"][0]["passage"], "¶4");
    let score = v["answers"][0]["score"].as_f64().unwrap();
    assert_eq!((score * 10_000.0).round() / 10_000.0, score, "4 digits");

    let long = format!("Who is Khalifa Haftar? {}", "and more ".repeat(50));
    let (out, _, _) = run(citebot()
        .env("MAX_QUESTION_CHARS", "40")
        .args(["ask", "--json", &long]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["truncated"], true);
    assert_eq!(
        v["question"].as_str().unwrap().chars().count(),
        40,
        "the cut question"
    );
}

#[test]
fn a_setting_only_the_bot_reads_does_not_stop_ask() {
    let (out, err, code) = run(citebot()
        .env("FLOOD_LIMIT", "abc")
        .env("CONTEXT_TTL", "soon")
        .args(["ask", "Who is Khalifa Haftar?"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("¶6"), "{out}");
    let (_, err, code) = run(citebot()
        .env("FLOOD_LIMIT", "abc")
        .env(
            "TELOXIDE_TOKEN",
            "123456789:AAEhBP0av28ZfT4cQ1Rkq3B9sWL-8xEyz_Q",
        )
        .arg("serve"));
    assert_ne!(code, 0);
    assert!(
        err.contains("FLOOD_LIMIT"),
        "the bot says what is wrong: {err}"
    );
}

#[test]
fn a_bad_line_in_a_batch_is_an_error_line_and_the_batch_goes_on() {
    let mut input: Vec<u8> = b"Who is Mohammad Atmar?\n".to_vec();
    input.extend_from_slice(b"caf\xe9 \xff\n");
    input.extend_from_slice(&vec![b'a'; 70_000]);
    input.extend_from_slice(b"\nWho is Khalifa Haftar?\n");
    let lines = json_lines(&["ask"], &input);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].as_str().unwrap().contains("bytes"));
    assert_eq!(lines[3]["answers"][0]["passage"], "¶6");
}

#[test]
fn color_follows_the_option_and_no_color() {
    let q = "Who is Khalifa Haftar?";
    let (out, _, _) = run(citebot().args(["ask", "--color", "always", q]));
    assert!(out.contains("\x1b[1m"), "{out}");
    let (out, _, _) = run(citebot().args(["ask", "--color", "never", q]));
    assert!(!out.contains('\x1b') && out.contains("*Haftar*"), "{out}");
    // Not a terminal here: auto is plain, and NO_COLOR keeps it so.
    let (out, _, _) = run(citebot().env("NO_COLOR", "1").args(["ask", q]));
    assert!(!out.contains('\x1b'), "{out}");
    assert!(!out.contains("””"), "no doubled quotes: {out}");
}

#[test]
fn index_counts_in_words() {
    let (out, _, code) = run(citebot().arg("index"));
    assert_eq!(code, 0);
    assert!(
        out.contains("13 paragraphs, 2 captions, 1 author note, 1 note about it"),
        "{out}"
    );
    assert!(out.contains("1 document, 17 passages indexed"), "{out}");
    // The article's words that a Russian question's words can be read as (`bridge`).
    assert!(
        out.contains("572 words a question in another language can be read as"),
        "{out}"
    );
    let (out, _, _) = run(citebot().args(["--semantic", "off", "index"]));
    assert!(
        !out.contains("another language"),
        "no model, no bridge: {out}"
    );
}

/// Whoever adds a document sees what citebot will not answer from: how many lines each rule
/// dropped, and with `--dropped` the lines themselves.
#[test]
fn index_says_what_it_dropped_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let wiki = "lighthouse-keepers.txt";
    std::fs::copy(
        root().join("tests/data/shapes").join(wiki),
        dir.path().join(wiki),
    )
    .unwrap();
    let mut cmd = citebot();
    cmd.env("KNOWLEDGE_DIR", dir.path())
        .args(["--semantic", "off", "index"]);
    let (out, err, code) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("9 paragraphs"), "{out}");
    assert!(
        out.contains(
            "not passages: 11 lines (short line 11; `citebot index --dropped` lists them)"
        ),
        "{out}"
    );
    assert!(!out.contains("Jump to navigation"), "{out}");
    let mut cmd = citebot();
    cmd.env("KNOWLEDGE_DIR", dir.path())
        .args(["--semantic", "off", "index", "--dropped"]);
    let (out, _, _) = run(&mut cmd);
    assert!(out.contains("  short line: Jump to navigation"), "{out}");
    assert!(out.contains("  short line: See also"), "{out}");
    // The seed article's credits, paywall text and pull quote, each under its rule.
    let (out, _, _) = run(citebot().args(["--semantic", "off", "index", "--dropped"]));
    for line in [
        "  photo credit: Sabine Siebold / REUTERS",
        "  repeated caption: An Afghan soldier",
        "  paywall: Subscribe Now",
        "  pull quote: Moscow has established a relationship",
    ] {
        assert!(out.contains(line), "{line:?} in {out}");
    }
}

/// `citebot ask` with no question on a terminal opens the chat rather than waiting silently
/// for lines on standard input.
#[cfg(unix)]
#[test]
fn ask_without_a_question_on_a_terminal_opens_the_chat() {
    let mut cmd = citebot();
    cmd.args(["ask"]).env("TERM", "dumb");
    let mut chat = rexpect::session::spawn_command(cmd, Some(60_000)).expect("a pty");
    chat.exp_string("you> ").expect("the chat's prompt");
    chat.send_line("/quit").unwrap();
    chat.exp_eof().expect("/quit ends it");
}

#[test]
fn report_shows_the_record_as_tables_and_json() {
    use citebot::record::{Asked, Recorder};
    use std::time::{Duration, SystemTime};
    let data = tempfile::tempdir().unwrap();
    let (_, err, code) = run(citebot().arg("report").env("DATA_DIR", data.path()));
    assert_ne!(code, 0);
    assert!(err.contains("no record yet"), "{err}");

    let record = Recorder::start(data.path());
    for (chat, question, answer) in [
        (1, "Who is Putin?", None),
        (2, "who is putin", None),
        (
            3,
            "Who is Zamir Kabulov?",
            Some(("russias-afghanistan-strategy", "¶4")),
        ),
    ] {
        record.question(Asked {
            at: SystemTime::now(),
            chat_kind: "private",
            chat,
            user: Some(chat as u64),
            answer: answer.map(|(d, p)| (d.to_string(), p.to_string())),
            latency: Duration::from_millis(11),
            context: false,
            verdict: if answer.is_some() {
                citebot::record::Verdict::Answer
            } else {
                citebot::record::Verdict::None
            },
            question: question.into(),
        });
    }
    record.close();

    let (out, _, code) = run(citebot().arg("report").env("DATA_DIR", data.path()));
    assert_eq!(code, 0);
    assert!(
        out.starts_with("Last 7 days: 3 questions, 1 answered, 66.7% not answered"),
        "{out}"
    );
    assert!(out.contains("│     2 ┆ Who is Putin?"), "{out}");
    assert!(
        out.contains("Sure answers: 1 shown, 0 👍 0 👎, no votes\nClosest passages: 0 shown"),
        "{out}"
    );

    let (out, _, code) = run(citebot()
        .args(["report", "--since", "1d", "--json"])
        .env("DATA_DIR", data.path()));
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["questions"], 3);
    assert_eq!(json["days"].as_array().unwrap().len(), 1);
    assert_eq!(json["unanswered"][0]["count"], 2);

    let (_, err, code) = run(citebot().args(["report", "--since", "soon"]));
    assert_ne!(code, 0);
    assert!(err.contains("expected a number of days"), "{err}");
}

/// `bench --busy 1 --concurrency 3`: one spinning process beside the measurement, three
/// questions answered at once; the spinner is gone once the bench is.
#[test]
fn bench_runs_beside_busy_processes_and_answers_several_at_once() {
    let (out, err, code) = run(citebot().args([
        "--semantic",
        "off",
        "bench",
        "--busy",
        "1",
        "--concurrency",
        "3",
    ]));
    assert_eq!(code, 0, "{err}");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name:?} in {out}"))
            .to_string()
    };
    assert!(row("busy processes beside").ends_with(" 1"), "{out}");
    assert!(
        row("questions/s, 3 at once").contains("x one at a time"),
        "{out}"
    );
    row("latency p99, 3 at once");
    let spinners = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|p| std::fs::read(p.path().join("cmdline")).ok())
        .filter(|cmdline| {
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            args.first().is_some_and(|a| a.ends_with(b"citebot"))
                && args.get(1) == Some(&&b"spin"[..])
        })
        .count();
    assert_eq!(spinners, 0, "a spinning process outlived the bench");
}

/// A Russian question in the article's words, which the multilingual model answers from ¶12.
const HEROIN_RU: &str = "Почему Россию беспокоит афганский героин?";

/// `citebot` with the multilingual sentence model, which reads Russian questions.
fn multilingual() -> Command {
    let mut cmd = citebot();
    cmd.env(
        "EMBEDDING_MODEL",
        root().join("models/multilingual-e5-small"),
    );
    cmd
}

#[test]
fn a_russian_question_gets_russian_texts_and_the_json_says_both_languages() {
    let question = "кто такой Кабулов";
    let (out, err, code) = run(citebot().args(["ask", "--color", "never", question]));
    assert_eq!(code, 0, "{err}");
    let (json, _, _) = run(citebot().args(["ask", "--json", question]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["question_language"], "ru");
    if v["answers"][0].is_null() {
        assert!(
            out.starts_with("Ответа на этот вопрос в «Russia's Afghanistan Strategy» нет"),
            "{out}"
        );
        assert!(v["passage_language"].is_null());
    } else {
        assert_eq!(v["passage_language"], "en");
        // Not sure: said above the quote, in Russian.
        let quote = match v["verdict"].as_str() {
            Some("closest") => out
                .strip_prefix(
                    "Не уверен, что в «Russia's Afghanistan Strategy» есть ответ. \
                     Ближайший отрывок:\n",
                )
                .unwrap_or_else(|| panic!("the closest passage said as such: {out}")),
            _ => &out,
        };
        assert!(
            quote.starts_with("“*"),
            "the answering sentence marked: {out}"
        );
    }

    // Cut for length: said in Russian.
    let long = format!("{question} {}", "и ещё ".repeat(100));
    let (out, _, _) = run(citebot()
        .env("MAX_QUESTION_CHARS", "40")
        .args(["ask", "--color", "never", &long]));
    assert!(
        out.starts_with("Вопрос длинный, поэтому поиск шёл только по первым"),
        "{out}"
    );

    // Across languages: the English quote, the sentence that answers marked (no word is
    // shared), the citation as it is.
    let (out, err, code) = run(multilingual().args(["ask", "--color", "never", HEROIN_RU]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("“*") && out.contains("heroin"), "{out}");
    assert!(
        out.contains("*”\n— Russia's Afghanistan Strategy, Julia Gurganus, Foreign Affairs, 2 January 2018, ¶12"),
        "{out}"
    );
    let (json, _, _) = run(multilingual().args(["ask", "--json", HEROIN_RU]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["question_language"], "ru");
    assert_eq!(v["passage_language"], "en");
    assert_eq!(v["answers"][0]["language"], "en");
    assert_eq!(v["answers"][0]["passage"], "¶12");
}

#[test]
fn the_chat_speaks_the_language_of_the_last_question() {
    let mut child = multilingual()
        .args(["chat", "--color", "never"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!("{HEROIN_RU}\n/help\nWho is Zamir Kabulov?\n/help\n");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let help = stdout
        .find("*Как спрашивать*")
        .expect("the help in Russian");
    let answer = &stdout[..help];
    assert!(
        answer.contains("¶12") && answer.contains("/full: весь абзац"),
        "{stdout}"
    );
    assert!(
        stdout[help..].contains("/more — следующее совпадение"),
        "{stdout}"
    );
    let english = stdout.find("*Kabulov*").expect("the English answer");
    assert!(
        stdout[english..].contains("How to ask"),
        "an English question, English help: {stdout}"
    );

    let lines = json_lines(&["chat", "--json"], format!("{HEROIN_RU}\n").as_bytes());
    assert_eq!(lines[0]["question_language"], "ru");
}

/// The interactive chat with a Russian question. rexpect reads each byte as a Latin-1
/// character: Russian text is looked for as its UTF-8 bytes read that way.
#[cfg(unix)]
#[test]
fn the_chat_on_a_terminal_answers_a_russian_question_in_russian() {
    let as_read = |text: &str| -> String { text.bytes().map(char::from).collect() };
    let mut cmd = multilingual();
    cmd.args(["chat"])
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .env("LANG", "ru_RU.UTF-8");
    let mut chat = rexpect::session::spawn_command(cmd, Some(120_000)).expect("a pty");
    chat.exp_string(&as_read("Задайте вопрос о статье"))
        .expect("a Russian welcome: the locale is Russian");
    chat.exp_string("you> ").expect("a prompt");
    chat.send_line(HEROIN_RU).unwrap();
    chat.exp_string("heroin").expect("the English quote");
    chat.exp_string("Julia Gurganus, Foreign Affairs, 2 January 2018, ")
        .expect("the citation");
    chat.exp_string(&as_read("/full: весь абзац"))
        .expect("the buttons as commands, in Russian");
    chat.exp_string("you> ").unwrap();
    chat.send_line("/full").unwrap();
    chat.exp_string("*Russia wants to stem")
        .expect("the whole paragraph, the answering sentence marked");
    chat.exp_string("you> ").unwrap();
    chat.send_line("/quit").unwrap();
    chat.exp_eof().expect("/quit ends the chat");
}

/// Serves each of `pages` (path, content type, body) once per request on 127.0.0.1, for as
/// long as the test runs; returns the base URL.
fn http_server(pages: Vec<(&'static str, &'static str, Vec<u8>)>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut stream = &stream;
            let reply = match pages.iter().find(|(p, _, _)| *p == path) {
                Some((_, kind, body)) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    [head.into_bytes(), body.clone()].concat()
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&reply);
        }
    });
    base
}

/// `citebot add` takes a file or a URL into the knowledge folder and says what it found;
/// `--author` goes to the sidecar; a URL's page too large, or missing, changes nothing.
#[test]
fn add_takes_a_file_or_a_url_into_the_knowledge() {
    let knowledge = tempfile::tempdir().unwrap();
    let file = knowledge.path().join("../notes-to-add.txt");
    std::fs::write(
        &file,
        "Field notes from Kabul\nBy Jane Doe\nMarch 3, 2019\n\nMoscow has reached out to the \
         Taliban, legitimizing a group that continues to threaten the security of the Afghan \
         government and of NATO forces.\n",
    )
    .unwrap();
    let (out, err, code) = run(citebot()
        .args(["add", file.to_str().unwrap(), "--author", "Julia Gurganus"])
        .env("KNOWLEDGE_DIR", knowledge.path()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("title:    Field notes from Kabul"), "{out}");
    assert!(out.contains("author:   Julia Gurganus"), "{out}");
    assert!(out.contains("date:     2019-03-03"), "{out}");
    assert!(out.contains("1 paragraph; try: citebot ask"), "{out}");
    assert!(knowledge.path().join("notes-to-add.toml").exists());
    std::fs::remove_file(&file).unwrap();

    let page = "# Honeybees in Winter\n\nHoneybees survive the winter by clustering inside \
                the hive and shivering their flight muscles to make heat for the queen.\n";
    let base = http_server(vec![
        ("/bees", "text/markdown", page.as_bytes().to_vec()),
        ("/huge", "text/plain", vec![b'a'; 2_100_000]),
    ]);
    let (out, err, code) = run(citebot()
        .args(["add", &format!("{base}/bees")])
        .env("KNOWLEDGE_DIR", knowledge.path()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("title:    Honeybees in Winter"), "{out}");
    assert!(knowledge.path().join("bees.md").exists(), "{out}");
    let sidecar = std::fs::read_to_string(knowledge.path().join("bees.toml")).unwrap();
    assert!(
        sidecar.contains(&format!("url = \"{base}/bees\"")),
        "{sidecar}"
    );

    for (path, said) in [("/huge", "larger than 1 MB"), ("/gone", "404")] {
        let (_, err, code) = run(citebot()
            .args(["add", &format!("{base}{path}")])
            .env("KNOWLEDGE_DIR", knowledge.path())
            .env("MAX_DOCUMENT_MB", "1"));
        assert_ne!(code, 0);
        assert!(err.contains(said), "{err}");
    }
    let files = std::fs::read_dir(knowledge.path()).unwrap().count();
    assert_eq!(files, 4, "two documents and their sidecars, nothing else");
}

/// A file that cannot be read does not stop `index` or `ask`: it is named with its reason,
/// the rest answer, and `index` exits non-zero so that a script notices.
#[test]
fn a_bad_file_is_skipped_by_name_and_index_fails_for_scripts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let knowledge = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("knowledge/russias-afghanistan-strategy.txt"),
        knowledge.path().join("russias-afghanistan-strategy.txt"),
    )
    .unwrap();
    std::fs::write(
        knowledge.path().join("broken.md"),
        [0u8, 1, 2, 3].repeat(500),
    )
    .unwrap();
    let (out, _, code) = run(citebot()
        .args(["--semantic", "off", "index"])
        .env("KNOWLEDGE_DIR", knowledge.path()));
    assert_ne!(code, 0);
    assert!(
        out.contains("russias-afghanistan-strategy.txt: “Russia's Afghanistan Strategy”"),
        "{out}"
    );
    assert!(out.contains("broken.md: is not text"), "{out}");
    let (out, _, code) = run(citebot()
        .args([
            "--semantic",
            "off",
            "ask",
            "What did Kabulov say about a US withdrawal?",
        ])
        .env("KNOWLEDGE_DIR", knowledge.path()));
    assert_eq!(code, 0);
    assert!(out.contains("¶4"), "{out}");
}
