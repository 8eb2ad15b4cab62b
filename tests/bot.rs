//! The handler tree under `teloxide_tests::MockBot`: commands, questions, groups and buttons,
//! on the real article. The mock runs one test at a time (a global lock) and does not check
//! HTML or message length; those are covered by the render tests and tests/fake_api.rs.

use std::path::Path;
use std::sync::Arc;

use citebot::analysis::Synonyms;
use citebot::index::PassageIndex;
use citebot::knowledge::Knowledge;
use citebot::lang::Lang;
use citebot::retrieve::{By, Candidate, Question, Retriever, SearchError};
use citebot::telegram::{handler_tree, Ctx};
use citebot::Engine;
use teloxide::dptree::deps;
use teloxide::types::{Message, ParseMode, ReplyMarkup};
use teloxide_tests::{
    MockBot, MockCallbackQuery, MockGroupChat, MockMessagePhoto, MockMessageSticker,
    MockMessageText, MockUser,
};

type Mock =
    MockBot<Box<dyn std::error::Error + Send + Sync>, teloxide_tests::mock_bot::DistributionKey>;

fn ctx() -> Arc<Ctx> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine =
        Engine::load(&citebot::Options::new(root.join("knowledge"))).expect("the knowledge loads");
    Arc::new(Ctx::new(Arc::new(engine)))
}

fn bot_for(update: MockMessageText) -> Mock {
    let mut bot = MockBot::new(update, handler_tree());
    bot.dependencies(deps![ctx()]);
    bot
}

/// A retriever that panics on the word "boom", to prove one user's crash is contained.
struct Panicky(PassageIndex);

/// Panics the tests cause on purpose would print a frightening message and backtrace to a
/// newcomer's terminal: the hook keeps those quiet, and lets every other panic through.
fn quiet_panics_saying(message: &'static str) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let said = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied());
            if said != Some(message) {
                default(info);
            }
        }));
    });
}

impl Retriever for Panicky {
    fn name(&self) -> &'static str {
        "lexical"
    }
    fn evidence(&self) -> By {
        By::Words
    }
    fn candidates(&self, question: &Question, limit: usize) -> Result<Vec<Candidate>, SearchError> {
        assert!(!question.query.terms().any(|t| t == "boom"), "boom");
        self.0.candidates(question, limit)
    }
}

/// The HTML the bot sent, in order.
fn sent_html(bot: &Mock) -> Vec<String> {
    bot.get_responses()
        .sent_messages_text
        .iter()
        .map(|m| m.bot_request.text.clone())
        .collect()
}

/// [`buttons`] of a message the bot sent.
fn message_buttons(message: &Message) -> Vec<(String, String)> {
    buttons(
        &message
            .reply_markup()
            .cloned()
            .map(ReplyMarkup::InlineKeyboard),
    )
}

fn buttons(markup: &Option<ReplyMarkup>) -> Vec<(String, String)> {
    match markup {
        Some(ReplyMarkup::InlineKeyboard(k)) => k
            .inline_keyboard
            .iter()
            .flatten()
            .map(|b| {
                let data = match &b.kind {
                    teloxide::types::InlineKeyboardButtonKind::CallbackData(d) => d.clone(),
                    _ => String::new(),
                };
                (b.text.clone(), data)
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn start_greets_names_the_article_and_offers_examples() {
    let mut bot = bot_for(MockMessageText::new().text("/start from-a-link"));
    bot.dispatch().await;
    let responses = bot.get_responses();
    let sent = &responses
        .sent_messages_text
        .last()
        .expect("a greeting")
        .bot_request;
    assert!(
        sent.text.contains("Russia's Afghanistan Strategy"),
        "{}",
        sent.text
    );
    assert!(sent.text.contains("Julia Gurganus"));
    assert_eq!(sent.parse_mode, Some(ParseMode::Html));
    let examples = buttons(&sent.reply_markup);
    assert_eq!(examples.len(), 3);
    assert_eq!(
        examples[0],
        (
            "Why does Russia work with the Taliban?".to_string(),
            "a:0:e0.0".to_string()
        )
    );
}

#[tokio::test]
async fn help_and_about() {
    let mut bot = bot_for(MockMessageText::new().text("/help"));
    bot.dispatch().await;
    let help = sent_html(&bot).pop().unwrap();
    assert!(
        help.contains("/ask") && help.contains("Next match"),
        "{help}"
    );

    bot.update(MockMessageText::new().text("/about"));
    bot.dispatch().await;
    let about = sent_html(&bot).pop().unwrap();
    assert!(about.contains("https://www.foreignaffairs.com/articles/afghanistan/2018-01-02/russias-afghanistan-strategy"));
    assert!(about.contains("Foreign Affairs, 2 January 2018"), "{about}");
}

/// The body paragraphs a summary cites, and whether each links to the source.
fn cited_paragraphs(summary: &str) -> Vec<String> {
    summary
        .lines()
        .filter(|l| l.starts_with("• "))
        .filter_map(|l| {
            let label = l.rsplit("\">").next()?.strip_suffix("</a>")?;
            l.contains("<a href=\"https://www.foreignaffairs.com/")
                .then(|| label.to_string())
        })
        .collect()
}

#[tokio::test]
async fn summary_by_command_by_button_and_by_asking() {
    let mut bot = bot_for(MockMessageText::new().text("/summary"));
    bot.dispatch().await;
    let summary = sent_html(&bot).pop().unwrap();
    assert!(summary.starts_with("<b>In short:</b> “Russia's Afghanistan Strategy”\n<i>How Moscow Is Preparing to Go It Alone</i>\n"), "{summary}");
    let cited = cited_paragraphs(&summary);
    assert!((3..=5).contains(&cited.len()), "{summary}");
    assert!(cited.iter().all(|c| c.starts_with('¶')), "{cited:?}");
    assert!(summary.ends_with("Julia Gurganus, Foreign Affairs, 2 January 2018"));

    // /about offers it as a button, which sends the same summary.
    bot.update(MockMessageText::new().text("/about"));
    bot.dispatch().await;
    let about = bot.get_responses().sent_messages.last().cloned().unwrap();
    let offered = message_buttons(&about);
    assert_eq!(offered, [("📄 Summary".to_string(), "s:0:r@0".to_string())]);
    bot.update(MockCallbackQuery::new().data("s:0:r@0").message(about));
    bot.dispatch().await;
    assert_eq!(bot.get_responses().answered_callback_queries.len(), 1);
    assert_eq!(sent_html(&bot).pop().unwrap(), summary);

    // Asked in words, in Russian: the same sentences, introduced in Russian.
    bot.update(MockMessageText::new().text("о чём эта статья? кратко"));
    bot.dispatch().await;
    let russian = sent_html(&bot).pop().unwrap();
    assert!(
        russian.starts_with("<b>Кратко:</b> «Russia's Afghanistan Strategy»"),
        "{russian}"
    );
    assert_eq!(cited_paragraphs(&russian), cited);

    // A forged button for a document there is not: told so, nothing sent.
    bot.update(
        MockCallbackQuery::new()
            .data("s:0:r@9")
            .message(bot.get_responses().sent_messages.last().cloned().unwrap()),
    );
    bot.dispatch().await;
    assert_eq!(bot.get_responses().answered_callback_queries.len(), 1);
    assert!(bot.get_responses().sent_messages.is_empty());
}

#[tokio::test]
async fn who_wrote_it_is_answered_from_the_note_about_the_author() {
    for (question, marked) in [
        ("who wrote this?", None),
        (
            "When was the article published?",
            Some("<b>2 January 2018</b>"),
        ),
        ("Кто автор статьи?", None),
    ] {
        let mut bot = bot_for(MockMessageText::new().text(question));
        bot.dispatch().await;
        let sent = sent_html(&bot).pop().unwrap();
        assert!(
            !sent.contains("not sure") && !sent.contains("Не уверен"),
            "{sent}"
        );
        match marked {
            Some(value) => assert!(sent.contains(value) && sent.contains("about this article")),
            None => assert!(
                sent.contains("JULIA GURGANUS is a Visiting Scholar"),
                "{sent}"
            ),
        }
    }
}

#[tokio::test]
async fn a_question_gets_a_cited_excerpt_in_reply_with_buttons() {
    let question = MockMessageText::new()
        .text("What did Kabulov say about a US withdrawal?")
        .id(77);
    let mut bot = bot_for(question);
    bot.dispatch().await;
    let responses = bot.get_responses();
    assert_eq!(responses.sent_chat_actions.len(), 1, "typing first");
    let sent = &responses.sent_messages_text.last().unwrap().bot_request;
    assert!(sent.text.starts_with("<blockquote>"), "{}", sent.text);
    assert!(sent.text.contains("<b>Kabulov</b>"));
    assert!(sent.text.contains("<b>withdrawal</b>"));
    assert!(sent.text.contains("¶4"));
    assert!(sent
        .text
        .contains("<a href=\"https://www.foreignaffairs.com/"));
    assert_eq!(
        sent.reply_parameters.as_ref().map(|r| r.message_id.0),
        Some(77)
    );
    assert!(sent
        .link_preview_options
        .as_ref()
        .is_some_and(|o| o.is_disabled));
    let labels: Vec<String> = buttons(&sent.reply_markup)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(labels, ["Full paragraph", "Next match", "👍", "👎"]);
}

/// Nothing related: no passage, but what the article is about and its example questions, as
/// buttons, in the asker's language.
#[tokio::test]
async fn no_answer_says_so_and_shows_no_passage() {
    for (question, says, about) in [
        (
            "What is the capital of France?",
            "couldn't find an answer",
            "I answer from “Russia's Afghanistan Strategy: How Moscow Is Preparing to Go It Alone”",
        ),
        (
            "Какая столица Франции?",
            "Ответа на этот вопрос в «Russia's Afghanistan Strategy» нет",
            "Я отвечаю по тексту «Russia's Afghanistan Strategy: How Moscow Is Preparing to Go It Alone»",
        ),
    ] {
        let mut bot = bot_for(MockMessageText::new().text(question));
        bot.dispatch().await;
        let responses = bot.get_responses();
        let sent = &responses.sent_messages_text.last().unwrap().bot_request;
        assert!(sent.text.contains(says), "{}", sent.text);
        assert!(sent.text.contains(about), "{}", sent.text);
        assert!(sent.text.contains("/help"));
        assert!(!sent.text.contains("<blockquote>"));
        let labels: Vec<String> = buttons(&sent.reply_markup)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            labels,
            [
                "Why does Russia work with the Taliban?",
                "What did Kabulov say about a US withdrawal?",
                "On what issues could Russia and the US cooperate?"
            ]
        );
    }
}

/// Not sure: the closest passage, said to be the closest, in the asker's language, with the
/// buttons of any answer.
#[tokio::test]
async fn a_closest_passage_is_shown_as_such() {
    for (question, notice) in [
        (
            "how many russian soldiers are in afghanistan",
            "<i>I'm not sure “Russia's Afghanistan Strategy” answers this. The closest passage:</i>",
        ),
        (
            "сколько российских военных в Афганистане",
            "<i>Не уверен, что в «Russia's Afghanistan Strategy» есть ответ. Ближайший отрывок:</i>",
        ),
    ] {
        let mut bot = bot_for(MockMessageText::new().text(question));
        bot.dispatch().await;
        let responses = bot.get_responses();
        let sent = &responses.sent_messages_text.last().unwrap().bot_request;
        assert!(sent.text.starts_with(notice), "{question}: {}", sent.text);
        assert!(sent.text.contains("<blockquote>"), "{}", sent.text);
        let labels: Vec<String> = buttons(&sent.reply_markup)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(labels.len(), 4, "{labels:?}");
    }
}

#[tokio::test]
async fn bad_input_gets_a_normal_reply() {
    let long = "Taliban ".repeat(2_000);
    for text in [
        "\"unbalanced",
        "title:x",
        "-Taliban",
        "NOT",
        "a^2",
        "(",
        "*",
        "\\",
        "😀😀😀",
        long.as_str(),
    ] {
        let mut bot = bot_for(MockMessageText::new().text(text));
        bot.dispatch().await;
        let sent = sent_html(&bot);
        assert_eq!(sent.len(), 1, "{text:?} gets one reply");
        if text == long {
            assert!(
                sent[0].contains("only its first 1000 characters"),
                "{}",
                sent[0]
            );
        }
        drop(bot);
    }
}

#[tokio::test]
async fn groups_answer_only_when_addressed() {
    let group = MockGroupChat::new().build();
    let cases = [
        ("hello everyone, what about the Taliban?", false),
        ("/ask@other_bot Who is Mohammad Atmar?", false),
        ("/help@other_bot", false),
        ("/ask Who is Mohammad Atmar?", true),
        ("/ask@test_bot Who is Mohammad Atmar?", true),
        ("@test_bot who is Khalifa Haftar?", true),
    ];
    for (text, answered) in cases {
        let mut bot = bot_for(MockMessageText::new().text(text).chat(group.clone()));
        bot.dispatch().await;
        let sent = sent_html(&bot);
        assert_eq!(!sent.is_empty(), answered, "{text:?}: {sent:?}");
        if answered {
            assert!(sent[0].contains("<blockquote>"), "{text:?}: {sent:?}");
        }
        drop(bot);
    }
}

#[tokio::test]
async fn stickers_get_a_hint_in_private_and_silence_in_groups() {
    let mut bot = MockBot::new(MockMessageSticker::new(), handler_tree());
    bot.dependencies(deps![ctx()]);
    bot.dispatch().await;
    let hint = sent_html(&bot).pop().expect("a hint");
    assert!(hint.contains("only read text"));
    drop(bot); // The mock holds a global lock until dropped.

    let mut bot = MockBot::new(
        MockMessageSticker::new().chat(MockGroupChat::new().build()),
        handler_tree(),
    );
    bot.dependencies(deps![ctx()]);
    bot.dispatch().await;
    assert!(sent_html(&bot).is_empty());
}

/// Asks a question and returns the bot's answer message, as Telegram would show it later in a
/// callback query (replying to the question).
async fn ask(bot: &mut Mock) -> Message {
    bot.dispatch().await;
    bot.get_responses()
        .sent_messages
        .last()
        .cloned()
        .expect("an answer")
}

#[tokio::test]
async fn buttons_full_paragraph_next_match_and_one_vote() {
    let mut bot = bot_for(
        MockMessageText::new()
            .text("What did Kabulov say about a US withdrawal?")
            .from(MockUser::new().id(5).build()),
    );
    let answer = ask(&mut bot).await;
    assert!(answer.reply_to_message().is_some());

    // The mock keeps only the last dispatch's responses.
    let answered = |bot: &Mock| bot.get_responses().answered_callback_queries.len();
    bot.update(
        MockCallbackQuery::new()
            .data("f:1:r")
            .message(answer.clone()),
    );
    bot.dispatch().await;
    assert_eq!(answered(&bot), 1);
    let full = sent_html(&bot).pop().unwrap();
    assert!(
        full.contains("Moscow started developing its own strategy"),
        "{full}"
    );
    assert!(full.contains("everything will collapse"));
    assert!(full.contains("¶4"));

    bot.update(
        MockCallbackQuery::new()
            .data("n:1:r")
            .message(answer.clone()),
    );
    bot.dispatch().await;
    assert_eq!(answered(&bot), 1);
    let next = sent_html(&bot).pop().unwrap();
    assert!(next.starts_with("<i>Match 2:</i>"), "{next}");
    assert!(
        !next.contains("¶4"),
        "the next match is another passage: {next}"
    );

    bot.update(
        MockCallbackQuery::new()
            .data("v:1:u:r")
            .message(answer.clone()),
    );
    bot.dispatch().await;
    let responses = bot.get_responses();
    let edited = responses
        .edited_messages_reply_markup
        .last()
        .expect("the vote ticked");
    let left: Vec<String> = buttons(&edited.bot_request.reply_markup.clone())
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(left, ["Full paragraph", "Next match", "👍 ✓", "👎"]);
    assert_eq!(responses.answered_callback_queries.len(), 1);
    assert!(responses
        .answered_callback_queries
        .last()
        .unwrap()
        .text
        .as_deref()
        .unwrap()
        .starts_with("Thanks"));
}

#[tokio::test]
async fn stale_and_forged_buttons_are_answered_too() {
    let mut bot = bot_for(MockMessageText::new().text("Who is Mohammad Atmar?"));
    let answer = ask(&mut bot).await;
    for data in ["garbage", "f:0:r", "v:1:x:r"] {
        bot.update(MockCallbackQuery::new().data(data).message(answer.clone()));
        bot.dispatch().await;
        let responses = bot.get_responses();
        assert_eq!(responses.answered_callback_queries.len(), 1, "{data}");
        let text = responses.answered_callback_queries[0].text.clone().unwrap();
        assert!(text.contains("too old"), "{data}: {text}");
        assert!(responses.sent_messages.is_empty());
    }
}

#[tokio::test]
async fn example_buttons_ask_their_question() {
    let mut bot = bot_for(MockMessageText::new().text("/start"));
    let greeting = ask(&mut bot).await;
    bot.update(MockCallbackQuery::new().data("a:0:e0.0").message(greeting));
    bot.dispatch().await;
    let answer = sent_html(&bot).pop().unwrap();
    assert!(
        answer.starts_with("❓ <b>Why does Russia work with the Taliban?</b>"),
        "{answer}"
    );
    assert!(answer.contains("¶8"));
}

#[tokio::test]
async fn a_panic_while_answering_one_user_does_not_stop_the_bot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let knowledge = Knowledge::load(&root.join("knowledge")).unwrap();
    let index = PassageIndex::in_ram(&knowledge).unwrap();
    let engine = Engine::new(
        knowledge,
        Synonyms::default(),
        Arc::new(index.clone()),
        vec![Box::new(Panicky(index))],
        Vec::new(),
    );
    quiet_panics_saying("boom");
    let mut bot = MockBot::new(MockMessageText::new().text("boom"), handler_tree());
    bot.dependencies(deps![Arc::new(Ctx::new(Arc::new(engine)))]);
    bot.dispatch().await;
    let sorry = sent_html(&bot).pop().expect("an apology, not silence");
    assert!(sorry.contains("something went wrong"), "{sorry}");

    bot.update(MockMessageText::new().text("Who is Khalifa Haftar?"));
    bot.dispatch().await;
    let answer = sent_html(&bot).pop().expect("still answering");
    assert!(answer.contains("¶6"), "{answer}");
}

#[tokio::test]
async fn a_private_deployment_refuses_other_chats() {
    let mut ctx = Ctx::new(ctx().engine());
    ctx.allowed_chats = Some([42].into_iter().collect());
    let ctx = Arc::new(ctx);
    let mut bot = MockBot::new(
        MockMessageText::new().text("Who is Khalifa Haftar?"),
        handler_tree(),
    );
    bot.dependencies(deps![ctx.clone()]);
    bot.dispatch().await;
    let refusal = sent_html(&bot).pop().unwrap();
    assert!(refusal.contains("private citebot"), "{refusal}");
    assert!(!refusal.contains("<blockquote>"));
}

#[tokio::test]
async fn flooding_gets_one_notice_then_silence() {
    let mut ctx = Ctx::new(ctx().engine());
    ctx.flood = citebot::telegram::FloodGate::new(2, std::time::Duration::from_secs(60));
    let mut bot = MockBot::new(
        MockMessageText::new().text("Who is Khalifa Haftar?"),
        handler_tree(),
    );
    bot.dependencies(deps![Arc::new(ctx)]);
    let mut replies = Vec::new();
    for _ in 0..4 {
        bot.dispatch().await;
        replies.push(sent_html(&bot));
        bot.update(MockMessageText::new().text("Who is Khalifa Haftar?"));
    }
    assert!(replies[0][0].contains("¶6") && replies[1][0].contains("¶6"));
    assert!(
        replies[2][0].contains("faster than I can read"),
        "{:?}",
        replies[2]
    );
    assert!(replies[3].is_empty(), "silence after the notice");
}

#[tokio::test]
async fn a_photo_caption_is_a_question_like_a_text() {
    let mut bot = MockBot::new(
        MockMessagePhoto::new().caption("Who is Khalifa Haftar?"),
        handler_tree(),
    );
    bot.dependencies(deps![ctx()]);
    bot.dispatch().await;
    let answer = sent_html(&bot).pop().expect("an answer");
    assert!(answer.contains("¶6"), "{answer}");
    drop(bot);

    let mut bot = MockBot::new(
        MockMessagePhoto::new()
            .caption("/ask Who is Khalifa Haftar?")
            .chat(MockGroupChat::new().build()),
        handler_tree(),
    );
    bot.dependencies(deps![ctx()]);
    bot.dispatch().await;
    let answer = sent_html(&bot)
        .pop()
        .expect("/ask in a group photo's caption");
    assert!(answer.contains("¶6"), "{answer}");
}

/// A message sent on behalf of a channel or by an anonymous admin has no user behind it: the
/// chat it was sent as is limited instead.
#[tokio::test]
async fn messages_without_a_user_are_flood_limited_too() {
    let mut ctx = Ctx::new(ctx().engine());
    ctx.flood = citebot::telegram::FloodGate::new(2, std::time::Duration::from_secs(60));
    let group = MockGroupChat::new().build();
    let message = || {
        let mut m = MockMessageText::new()
            .text("/ask Who is Khalifa Haftar?")
            .chat(group.clone())
            .sender_chat(group.clone());
        m.from = None;
        m
    };
    let mut bot = MockBot::new(message(), handler_tree());
    bot.dependencies(deps![Arc::new(ctx)]);
    let mut replies = Vec::new();
    for _ in 0..3 {
        bot.dispatch().await;
        replies.push(sent_html(&bot));
        bot.update(message());
    }
    assert!(replies[0][0].contains("¶6") && replies[1][0].contains("¶6"));
    assert!(
        replies[2][0].contains("faster than I can read"),
        "{:?}",
        replies[2]
    );
}

/// What a Telegram client receives of the bot's message: the text without its HTML tags,
/// and its `<b>` words as bold entities (the mock keeps the HTML the bot sent).
fn as_telegram_shows(mut message: Message) -> Message {
    use teloxide::types::{MediaKind, MessageEntity, MessageKind};
    if let MessageKind::Common(common) = &mut message.kind {
        if let MediaKind::Text(text) = &mut common.media_kind {
            let mut entities = Vec::new();
            let mut plain = String::new();
            for (i, part) in text.text.split("<b>").enumerate() {
                match (i, part.split_once("</b>")) {
                    (0, _) | (_, None) => plain.push_str(&citebot::html::html_to_plain(part)),
                    (_, Some((bold, rest))) => {
                        let bold = citebot::html::html_to_plain(bold);
                        let offset = plain.encode_utf16().count();
                        entities.push(MessageEntity::bold(offset, bold.encode_utf16().count()));
                        plain.push_str(&bold);
                        plain.push_str(&citebot::html::html_to_plain(rest));
                    }
                }
            }
            text.text = plain;
            text.entities = entities;
        }
    }
    message
}

/// The first line of the last message sent, the line that says how a follow-up was read.
fn first_line(bot: &Mock) -> String {
    let html = sent_html(bot).pop().expect("an answer");
    html.lines().next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_follow_up_in_the_same_chat_is_read_in_context_and_its_buttons_act_on_that() {
    let mut bot = bot_for(MockMessageText::new().text("Who is Zamir Kabulov?"));
    bot.dispatch().await;
    assert!(sent_html(&bot)[0].contains("¶4"));
    bot.update(MockMessageText::new().text("What did he warn about?"));
    let answer = ask(&mut bot).await;
    assert_eq!(
        first_line(&bot),
        "↪ <i>What did he warn about? (about Zamir Kabulov)</i>"
    );
    assert!(sent_html(&bot)[0].contains("¶4"));
    let (_, full) = message_buttons(&answer).into_iter().next().unwrap();
    assert_eq!(
        full, "f:1:u",
        "the buttons act on the question as understood"
    );
    bot.update(
        MockCallbackQuery::new()
            .data("f:1:u")
            .message(as_telegram_shows(answer.clone())),
    );
    bot.dispatch().await;
    let full = sent_html(&bot).pop().expect("the full paragraph");
    assert!(full.contains("¶4") && full.contains("Kabulov"), "{full}");
    bot.update(
        MockCallbackQuery::new()
            .data("n:1:u")
            .message(as_telegram_shows(answer)),
    );
    bot.dispatch().await;
    let next = sent_html(&bot).pop().expect("the next match");
    assert!(
        next.starts_with("↪ <i>What did he warn about? (about Zamir Kabulov)</i>"),
        "{next}"
    );
}

/// Sends `text` as a reply to the bot's `answer`, as Telegram shows it, and returns the
/// bot's last message.
async fn reply_to(bot: &mut Mock, answer: Message, text: &str) -> String {
    bot.update(
        MockMessageText::new()
            .text(text)
            .reply_to_message(as_telegram_shows(answer)),
    );
    bot.dispatch().await;
    sent_html(bot).pop().expect("a reply")
}

#[tokio::test]
async fn a_reply_to_an_earlier_answer_takes_that_answer_as_context() {
    let mut bot = bot_for(MockMessageText::new().text("Who is Zamir Kabulov?"));
    let kabulov = ask(&mut bot).await;
    bot.update(MockMessageText::new().text("What did Egypt offer Russia?"));
    bot.dispatch().await;
    assert!(sent_html(&bot)[0].contains("¶6"));
    // The chat moved on to Egypt; the reply goes back to Kabulov's answer.
    let answer = reply_to(&mut bot, kabulov, "What did he warn about?").await;
    assert!(
        answer.starts_with("↪ <i>What did he warn about?"),
        "{answer}"
    );
    assert!(answer.contains("¶4"), "{answer}");
}

/// The answer to "Who is Russia's special envoy?" names Zamir Kabulov, whom the question could
/// not: a reply's "he" is him, though the answer does not say what was asked.
#[tokio::test]
async fn a_reply_to_an_answer_naming_someone_is_about_that_person() {
    let mut bot =
        bot_for(MockMessageText::new().text("Who is Russia's special envoy for Afghanistan?"));
    let envoy = ask(&mut bot).await;
    assert!(sent_html(&bot)[0].contains("Zamir Kabulov"));
    bot.update(MockMessageText::new().text("What did Egypt offer Russia?"));
    bot.dispatch().await;
    let answer = reply_to(&mut bot, envoy, "What did he warn about?").await;
    assert!(
        answer.starts_with("↪ <i>What did he warn about? (about Zamir Kabulov"),
        "{answer}"
    );
    assert!(answer.contains("¶4"), "{answer}");
}

/// A clock the test moves by hand, so that a TTL passes without waiting for it.
struct TestClock(std::sync::Mutex<std::time::SystemTime>);

impl citebot::conversation::store::Clock for TestClock {
    fn now(&self) -> std::time::SystemTime {
        *self.0.lock().unwrap()
    }
}

#[tokio::test]
async fn context_expires_after_its_ttl() {
    let clock = Arc::new(TestClock(std::sync::Mutex::new(
        std::time::SystemTime::now(),
    )));
    let mut ctx = Ctx::new(ctx().engine());
    ctx.conversations = Arc::new(citebot::conversation::MemoryStore::with_clock(
        std::time::Duration::from_secs(900),
        100,
        clock.clone(),
    ));
    let mut bot = MockBot::new(
        MockMessageText::new().text("Who is Zamir Kabulov?"),
        handler_tree(),
    );
    bot.dependencies(deps![Arc::new(ctx)]);
    bot.dispatch().await;
    bot.update(MockMessageText::new().text("What did he warn about?"));
    bot.dispatch().await;
    assert!(
        first_line(&bot).starts_with("↪"),
        "within the TTL: a follow-up"
    );
    *clock.0.lock().unwrap() += std::time::Duration::from_secs(900);
    bot.update(MockMessageText::new().text("What did he warn about?"));
    bot.dispatch().await;
    assert!(
        !first_line(&bot).starts_with("↪"),
        "after the TTL the question stands alone: {}",
        first_line(&bot)
    );
}

#[tokio::test]
async fn new_forgets_the_conversation() {
    let mut bot = bot_for(MockMessageText::new().text("Who is Zamir Kabulov?"));
    bot.dispatch().await;
    bot.update(MockMessageText::new().text("/new"));
    bot.dispatch().await;
    assert!(sent_html(&bot)[0].contains("Starting afresh"));
    bot.update(MockMessageText::new().text("What did he warn about?"));
    bot.dispatch().await;
    assert!(!first_line(&bot).starts_with("↪"), "{}", first_line(&bot));
    let help = citebot::texts::help(&citebot::telegram::commands::list(Lang::En), Lang::En);
    assert!(help.contains("/new — "), "listed in /help");
    let menu: Vec<String> = citebot::telegram::commands::menu(Lang::En)
        .into_iter()
        .map(|c| c.command)
        .collect();
    assert!(menu.contains(&"new".to_string()), "{menu:?}");
}

#[tokio::test]
async fn two_users_in_a_group_do_not_share_a_conversation() {
    let group = MockGroupChat::new().build();
    let (ann, bob) = (
        MockUser::new().id(11).build(),
        MockUser::new().id(12).build(),
    );
    let say = |user: &teloxide::types::User, text: &str| {
        MockMessageText::new()
            .text(format!("/ask {text}"))
            .chat(group.clone())
            .from(user.clone())
    };
    let mut bot = bot_for(say(&ann, "Who is Zamir Kabulov?"));
    bot.dispatch().await;
    bot.update(say(&bob, "Who is Mohammad Atmar?"));
    bot.dispatch().await;
    bot.update(say(&ann, "What did he warn about?"));
    bot.dispatch().await;
    assert_eq!(
        first_line(&bot),
        "↪ <i>What did he warn about? (about Zamir Kabulov)</i>"
    );
    bot.update(say(&bob, "What did he say about Moscow?"));
    bot.dispatch().await;
    assert_eq!(
        first_line(&bot),
        "↪ <i>What did he say about Moscow? (about Mohammad Atmar)</i>"
    );
    assert!(sent_html(&bot)[0].contains("¶8"));
}

/// A temporary knowledge folder holding these files of the repository.
fn knowledge_folder(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in files {
        let from = root.join(file);
        std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
    }
    dir
}

#[tokio::test]
async fn several_documents_are_listed_by_about_and_offered_under_an_answer() {
    let dir = knowledge_folder(&[
        "knowledge/russias-afghanistan-strategy.txt",
        "knowledge/synonyms.txt",
        "tests/data/library/honeybees-in-winter.txt",
        "tests/data/library/western-balkans.txt",
    ]);
    let engine = Engine::load(&citebot::Options::new(dir.path())).expect("the library loads");
    let ctx = Arc::new(Ctx::new(Arc::new(engine)));
    let mut bot = MockBot::new(MockMessageText::new().text("/about"), handler_tree());
    bot.dependencies(deps![ctx]);
    bot.dispatch().await;
    let about = sent_html(&bot).pop().unwrap();
    for says in [
        "Russia's Afghanistan Strategy",
        "How Honeybees Survive the Winter",
        "The Western Balkans After Enlargement",
        "<i>How do bees keep warm in winter?</i>",
        "<i>Why does Russia work with the Taliban?</i>",
    ] {
        assert!(about.contains(says), "{says} in {about}");
    }

    bot.update(MockMessageText::new().text("Who is Zamir Kabulov?"));
    let answer = ask(&mut bot).await;
    let html = sent_html(&bot).pop().unwrap();
    assert!(html.contains("Also in my documents"), "{html}");
    let offered = message_buttons(&answer);
    let (label, data) = offered
        .iter()
        .find(|(label, _)| label.contains("Balkans"))
        .expect("a button for the Balkans piece")
        .clone();
    assert_eq!(label, "📄 The Western Balkans After Enlargement");
    assert_eq!(data, "a:0:r@2");

    // The same question asked of the Balkans piece, which does not answer it: it says so
    // (nothing, or at most its closest passage, said to be no sure answer), naming that
    // document, and does not borrow an answer from another.
    bot.update(MockCallbackQuery::new().data(&data).message(answer.clone()));
    bot.dispatch().await;
    let refusal = sent_html(&bot).pop().unwrap();
    assert!(
        refusal
            .contains("couldn't find an answer to that in “The Western Balkans After Enlargement”")
            || refusal.starts_with(
                "<i>I'm not sure “The Western Balkans After Enlargement” answers this."
            ),
        "{refusal}"
    );
    assert!(!refusal.contains("Kabulov"), "{refusal}");
    assert!(
        !refusal.contains("Russia's Afghanistan Strategy</a>"),
        "{refusal}"
    );
}

// ---------------------------------------------------------------------------------------------
// The record of what readers asked, in a real SQLite file in a temporary folder.

/// A bot whose record is kept in `data`, with user 5 as its admin.
fn recording_bot(update: MockMessageText, data: &Path) -> (Mock, Arc<Ctx>) {
    let mut ctx = Ctx::new(ctx().engine());
    ctx.record = citebot::record::Recorder::start(data);
    ctx.admins = [5].into_iter().collect();
    let ctx = Arc::new(ctx);
    let mut bot = MockBot::new(update, handler_tree());
    bot.dependencies(deps![Arc::clone(&ctx)]);
    (bot, ctx)
}

fn rows(db: &Path, sql: &str) -> Vec<Vec<Option<String>>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |r| {
        (0..columns)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                    rusqlite::types::Value::Null => None,
                    rusqlite::types::Value::Integer(n) => Some(n.to_string()),
                    rusqlite::types::Value::Real(x) => Some(x.to_string()),
                    rusqlite::types::Value::Text(t) => Some(t),
                    rusqlite::types::Value::Blob(_) => Some("<blob>".into()),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[tokio::test]
async fn questions_and_votes_are_recorded_with_text_only_where_needed() {
    let data = tempfile::tempdir().unwrap();
    let user = || MockUser::new().id(6).build();
    let (mut bot, ctx) = recording_bot(
        MockMessageText::new()
            .text("What did Kabulov say about a US withdrawal?")
            .from(user()),
        data.path(),
    );
    let answered = ask(&mut bot).await;
    // Small talk is answered in kind, and is no question for the record.
    bot.update(MockMessageText::new().text("Thanks!").from(user()));
    bot.dispatch().await;
    let thanks = sent_html(&bot);
    assert!(thanks[0].starts_with("You're welcome"), "{thanks:?}");
    bot.update(
        MockMessageText::new()
            .text("Recommend a laptop for gaming")
            .from(user()),
    );
    bot.dispatch().await;
    bot.update(
        MockMessageText::new()
            .text("Who is Khalifa Haftar?")
            .from(user()),
    );
    let haftar = ask(&mut bot).await;
    // Not sure: the closest passage is shown, and the question recorded as unanswered, for
    // whoever keeps the knowledge.
    bot.update(
        MockMessageText::new()
            .text("how many russian soldiers are in afghanistan")
            .from(user()),
    );
    let closest = ask(&mut bot).await;
    assert!(sent_html(&bot)[0].contains("The closest passage:"));

    // A vote down, changed to up: one vote, up, and the question's text no longer kept.
    for data in ["v:1:d:r", "v:1:u:r"] {
        bot.update(
            MockCallbackQuery::new()
                .data(data)
                .message(answered.clone())
                .from(user()),
        );
        bot.dispatch().await;
    }
    // A vote down that stays: its question is kept, to show what misled.
    bot.update(
        MockCallbackQuery::new()
            .data("v:1:d:r")
            .message(haftar.clone())
            .from(user()),
    );
    bot.dispatch().await;
    // A vote up on the passage shown as the closest: recorded as such, for /stats.
    bot.update(
        MockCallbackQuery::new()
            .data("v:1:u:r")
            .message(closest.clone())
            .from(user()),
    );
    bot.dispatch().await;
    ctx.record.close();

    let db = data.path().join(citebot::record::DB_FILE);
    let questions = rows(
        &db,
        "SELECT chat_kind, passage, question, context, chat, user, verdict FROM questions
         ORDER BY id",
    );
    assert_eq!(questions.len(), 4, "{questions:?}");
    let column =
        |i: usize| -> Vec<Option<&str>> { questions.iter().map(|r| r[i].as_deref()).collect() };
    assert_eq!(column(0), [Some("private"); 4]);
    assert_eq!(column(1), [Some("¶4"), None, Some("¶6"), None]);
    assert_eq!(
        column(2),
        [
            None,
            Some("Recommend a laptop for gaming"),
            None,
            Some("how many russian soldiers are in afghanistan")
        ]
    );
    assert_eq!(
        column(6),
        [
            Some("answer"),
            Some("none"),
            Some("answer"),
            Some("closest")
        ]
    );
    // Ids are keyed hashes, never the ids.
    for id in column(4).into_iter().chain(column(5)) {
        let id = id.unwrap();
        assert_eq!(id.len(), 32, "{id}");
        assert_ne!(id, "6");
    }
    let votes = rows(
        &db,
        "SELECT passage, up, question, verdict FROM votes ORDER BY message",
    );
    assert_eq!(
        votes[..2],
        [
            vec![
                Some("¶4".into()),
                Some("1".into()),
                None,
                Some("answer".into())
            ],
            vec![
                Some("¶6".into()),
                Some("0".into()),
                Some("Who is Khalifa Haftar?".into()),
                Some("answer".into())
            ],
        ]
    );
    assert_eq!(
        votes[2][1..],
        [Some("1".into()), None, Some("closest".into())]
    );
    let report = citebot::record::Report::load(&db, std::time::SystemTime::now(), 1).unwrap();
    assert_eq!((report.closest.shown, report.closest.up), (1, 1));
    assert_eq!(report.closest.up_share(), Some(1.0));
    assert!(data.path().join(citebot::record::KEY_FILE).exists());
}

#[tokio::test]
async fn a_locked_record_does_not_stop_answers_and_recording_resumes() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join(citebot::record::DB_FILE);
    drop(citebot::record::open_for_writing(&db).unwrap());
    // Another process holds the database's write lock.
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let (mut bot, ctx) = recording_bot(
        MockMessageText::new().text("Who is Khalifa Haftar?"),
        data.path(),
    );
    let started = std::time::Instant::now();
    bot.dispatch().await;
    bot.update(MockMessageText::new().text("Who is Zamir Kabulov?"));
    bot.dispatch().await;
    let answers = sent_html(&bot);
    assert!(answers.last().unwrap().contains("¶4"), "{answers:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "answers do not wait for the database"
    );
    // Give the writer time to fail on the lock, then free it: what comes next is recorded.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    bot.update(MockMessageText::new().text("Who is Mohammad Atmar?"));
    bot.dispatch().await;
    ctx.record.close();
    let (questions, _, _) = citebot::record::totals(&db).unwrap();
    assert!(questions >= 1, "recording resumed once the lock was gone");
}

#[tokio::test]
async fn stats_and_unanswered_for_an_admin_only() {
    let data = tempfile::tempdir().unwrap();
    let admin = || MockUser::new().id(5).build();
    let (mut bot, ctx) = recording_bot(
        MockMessageText::new()
            .text("Recommend a laptop for gaming")
            .from(admin()),
        data.path(),
    );
    bot.dispatch().await;
    bot.update(
        MockMessageText::new()
            .text("Who is Khalifa Haftar?")
            .from(admin()),
    );
    bot.dispatch().await;
    // Written and closed, so that what /stats reads is all there.
    ctx.record.close();

    bot.update(MockMessageText::new().text("/stats").from(admin()));
    bot.dispatch().await;
    let stats = sent_html(&bot).pop().unwrap();
    assert!(
        stats.starts_with("<b>The last 7 days</b>\n2 questions, 1 answered"),
        "{stats}"
    );
    assert!(
        stats.contains("<i>Recommend a laptop for gaming</i>"),
        "{stats}"
    );
    assert!(
        stats.contains("Sure answers: 1, no votes yet\nClosest passages: 0, no votes yet"),
        "{stats}"
    );
    assert!(stats.encode_utf16().count() <= 4096);

    bot.update(MockMessageText::new().text("/unanswered").from(admin()));
    bot.dispatch().await;
    let unanswered = sent_html(&bot).pop().unwrap();
    assert!(
        unanswered.contains("Recommend a laptop for gaming"),
        "{unanswered}"
    );
    assert!(!unanswered.contains("Haftar"), "{unanswered}");

    for command in ["/stats", "/unanswered", "/reload", "/remove", "/remove 1"] {
        bot.update(
            MockMessageText::new()
                .text(command)
                .from(MockUser::new().id(6).build()),
        );
        bot.dispatch().await;
        let said = sent_html(&bot).pop().unwrap();
        assert!(
            said.contains("I don't know that command"),
            "{command}: {said}"
        );
    }
}

#[tokio::test]
async fn reload_swaps_in_a_new_document_and_keeps_the_old_knowledge_on_a_broken_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let knowledge = knowledge_folder(&[
        "knowledge/russias-afghanistan-strategy.txt",
        "knowledge/synonyms.txt",
    ]);
    let options = citebot::Options::new(knowledge.path());
    let engine = Engine::load(&options).unwrap();
    let mut ctx = Ctx::new(Arc::new(engine));
    ctx.admins = [5].into_iter().collect();
    ctx.reload_from = Some(options);
    let ctx = Arc::new(ctx);
    let admin = || MockUser::new().id(5).build();
    let mut bot = MockBot::new(
        MockMessageText::new().text("/reload").from(admin()),
        handler_tree(),
    );
    bot.dependencies(deps![Arc::clone(&ctx)]);
    bot.dispatch().await;
    let said = sent_html(&bot).pop().unwrap();
    assert_eq!(said, "Reloaded: 1 documents, 17 passages. Nothing changed.");

    std::fs::copy(
        root.join("tests/data/library/honeybees-in-winter.txt"),
        knowledge.path().join("honeybees-in-winter.txt"),
    )
    .unwrap();
    bot.update(MockMessageText::new().text("/reload").from(admin()));
    bot.dispatch().await;
    let said = sent_html(&bot).pop().unwrap();
    assert!(
        said.contains("Added: “How Honeybees Survive the Winter”")
            && said.contains("Passages: +6 −0"),
        "{said}"
    );
    bot.update(MockMessageText::new().text("How do bees keep warm in winter?"));
    bot.dispatch().await;
    let answer = sent_html(&bot).pop().unwrap();
    assert!(answer.contains("shivering"), "{answer}");

    // A file that cannot be read is skipped, named with its reason; the rest stay.
    std::fs::write(knowledge.path().join("broken.txt"), "no words here\n").unwrap();
    bot.update(MockMessageText::new().text("/reload").from(admin()));
    bot.dispatch().await;
    let said = sent_html(&bot).pop().unwrap();
    assert!(said.starts_with("Reloaded: 2 documents"), "{said}");
    assert!(
        said.contains("Not read:\n• <code>broken.txt</code>: no passages found in the text"),
        "the reply names the file and why: {said}"
    );
    bot.update(MockMessageText::new().text("How do bees keep warm in winter?"));
    bot.dispatch().await;
    let answer = sent_html(&bot).pop().unwrap();
    assert!(
        answer.contains("shivering"),
        "the old knowledge still answers: {answer}"
    );
}

// ---------------------------------------------------------------------------------------------
// /remove: an admin takes a document out of the knowledge folder, after confirming.

/// The article and the bee piece (with a `NAME.toml` beside it) in a temporary knowledge
/// folder, and a bot that reloads from it, with user 5 as its admin.
fn removal_bot(update: MockMessageText) -> (Mock, tempfile::TempDir) {
    let knowledge = knowledge_folder(&[
        "knowledge/russias-afghanistan-strategy.txt",
        "knowledge/synonyms.txt",
        "tests/data/library/honeybees-in-winter.txt",
    ]);
    std::fs::write(
        knowledge.path().join("honeybees-in-winter.toml"),
        "publication = \"The Apiary\"\n",
    )
    .unwrap();
    let options = citebot::Options::lexical(knowledge.path());
    let mut ctx = Ctx::new(Arc::new(Engine::load(&options).unwrap()));
    ctx.admins = [5].into_iter().collect();
    ctx.reload_from = Some(options);
    let mut bot = MockBot::new(update, handler_tree());
    bot.dependencies(deps![Arc::new(ctx)]);
    (bot, knowledge)
}

fn admin() -> teloxide::types::User {
    MockUser::new().id(5).build()
}

/// A press of the button with `data` under `message`, by `user`.
fn press(data: &str, message: &Message, user: teloxide::types::User) -> MockCallbackQuery {
    MockCallbackQuery::new()
        .data(data)
        .message(message.clone())
        .from(user)
}

/// The toast the last press got.
fn toast(bot: &Mock) -> String {
    let responses = bot.get_responses();
    let answered = &responses.answered_callback_queries;
    assert_eq!(answered.len(), 1, "one toast a press");
    answered[0].text.clone().unwrap_or_default()
}

/// What the last press put in place of the message it was under.
fn edited(bot: &Mock) -> String {
    let responses = bot.get_responses();
    let edits = &responses.edited_messages_text;
    edits
        .last()
        .expect("the message edited")
        .bot_request
        .text
        .clone()
}

const BEES: &str = "How do bees keep warm in winter?";

#[tokio::test]
async fn an_admin_removes_a_document_after_confirming_and_it_is_cited_no_more() {
    let (mut bot, knowledge) = removal_bot(MockMessageText::new().text(BEES));
    bot.dispatch().await;
    assert!(sent_html(&bot).pop().unwrap().contains("shivering"));

    // The list: each document numbered, as /about numbers them, a button for each.
    bot.update(MockMessageText::new().text("/remove").from(admin()));
    let list = ask(&mut bot).await;
    let html = sent_html(&bot).pop().unwrap();
    assert!(
        html.starts_with("Which document shall I remove?")
            && html.contains(
                "\n1. “How Honeybees Survive the Winter” (<code>honeybees-in-winter.txt</code>)"
            )
            && html.contains("\n2. “Russia's Afghanistan Strategy”"),
        "{html}"
    );
    let choices = message_buttons(&list);
    assert_eq!(choices.len(), 2);
    assert_eq!(choices[0].0, "1. How Honeybees Survive the Winter");
    assert!(choices.iter().all(|(_, data)| data.len() <= 64));

    // /about numbers them alike.
    bot.update(MockMessageText::new().text("/about"));
    bot.dispatch().await;
    let about = sent_html(&bot).pop().unwrap();
    let numbered: Vec<&str> = about
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(
        numbered.len() == 2
            && numbered[0].starts_with("1. ")
            && numbered[0].contains("How Honeybees Survive the Winter")
            && numbered[1].starts_with("2. ")
            && numbered[1].contains("Russia's Afghanistan Strategy"),
        "{about}"
    );

    // Chosen from the list: asked first, with Yes and Cancel.
    bot.update(press(&choices[0].1, &list, admin()));
    let question = ask(&mut bot).await;
    assert_eq!(
        sent_html(&bot).pop().unwrap(),
        "Remove “How Honeybees Survive the Winter” (<code>honeybees-in-winter.txt</code>, 6 passages)?"
    );
    let answers = message_buttons(&question);
    let labels: Vec<&str> = answers.iter().map(|(label, _)| label.as_str()).collect();
    assert_eq!(labels, ["🗑 Yes, remove it", "Cancel"]);

    // Cancel: nothing changes.
    bot.update(press(&answers[1].1, &question, admin()));
    bot.dispatch().await;
    assert_eq!(edited(&bot), "Cancelled: nothing was removed.");
    assert!(knowledge.path().join("honeybees-in-winter.txt").is_file());
    bot.update(MockMessageText::new().text(BEES));
    bot.dispatch().await;
    assert!(sent_html(&bot).pop().unwrap().contains("shivering"));

    // By number, as /about numbers it, then Yes: the file and its NAME.toml are gone.
    bot.update(MockMessageText::new().text("/remove 1").from(admin()));
    let question = ask(&mut bot).await;
    assert!(sent_html(&bot)
        .pop()
        .unwrap()
        .starts_with("Remove “How Honeybees"));
    let yes = message_buttons(&question).remove(0).1;
    bot.update(press(&yes, &question, admin()));
    bot.dispatch().await;
    assert_eq!(toast(&bot), "Removing…");
    let said = edited(&bot);
    assert!(
        said.starts_with(
            "Removed “How Honeybees Survive the Winter” (<code>honeybees-in-winter.txt</code>, \
             <code>honeybees-in-winter.toml</code>). 1 document remains.\n\n\
             Reloaded: 1 documents, 17 passages."
        ),
        "{said}"
    );
    assert!(!knowledge.path().join("honeybees-in-winter.txt").exists());
    assert!(!knowledge.path().join("honeybees-in-winter.toml").exists());
    assert!(knowledge
        .path()
        .join("russias-afghanistan-strategy.txt")
        .is_file());

    // The next question cannot cite it.
    bot.update(MockMessageText::new().text(BEES));
    bot.dispatch().await;
    let answer = sent_html(&bot).pop().unwrap();
    assert!(
        !answer.contains("shivering") && !answer.contains("Honeybees"),
        "{answer}"
    );

    // Buttons pressed after it went: a clear line, nothing removed.
    bot.update(press(&choices[0].1, &list, admin()));
    bot.dispatch().await;
    let stale = sent_html(&bot).pop().unwrap();
    assert!(
        stale.starts_with("That document is no longer in the knowledge folder"),
        "{stale}"
    );
    bot.update(press(&yes, &question, admin()));
    bot.dispatch().await;
    assert!(edited(&bot).starts_with("That document is no longer"));
    assert!(knowledge
        .path()
        .join("russias-afghanistan-strategy.txt")
        .is_file());

    // The last document stays: an empty folder would leave nothing to answer from.
    bot.update(MockMessageText::new().text("/remove 1").from(admin()));
    let last = ask(&mut bot).await;
    let said = sent_html(&bot).pop().unwrap();
    assert!(
        said.starts_with("“Russia's Afghanistan Strategy” is my only document"),
        "{said}"
    );
    assert!(last.reply_markup().is_none());
    bot.update(press(&choices[1].1, &list, admin()));
    bot.dispatch().await;
    assert!(sent_html(&bot)
        .pop()
        .unwrap()
        .contains("is my only document"));
    assert!(knowledge
        .path()
        .join("russias-afghanistan-strategy.txt")
        .is_file());
}

#[tokio::test]
async fn remove_by_name_refuses_others_and_unknown_names() {
    let (mut bot, knowledge) = removal_bot(
        MockMessageText::new()
            .text("/remove honeybees-in-winter.txt")
            .from(admin()),
    );
    let question = ask(&mut bot).await;
    assert!(sent_html(&bot)
        .pop()
        .unwrap()
        .starts_with("Remove “How Honeybees"));
    let yes = message_buttons(&question).remove(0).1;

    // In a group anyone may press the button: only an admin's press removes.
    bot.update(press(&yes, &question, MockUser::new().id(6).build()));
    bot.dispatch().await;
    assert_eq!(toast(&bot), "Only the bot's admins can do this.");
    assert!(bot.get_responses().edited_messages_text.is_empty());
    assert!(knowledge.path().join("honeybees-in-winter.txt").is_file());

    // Not an admin: /remove is as unknown as the other admin commands.
    bot.update(
        MockMessageText::new()
            .text("/remove 1")
            .from(MockUser::new().id(6).build()),
    );
    bot.dispatch().await;
    assert!(sent_html(&bot)
        .pop()
        .unwrap()
        .contains("I don't know that command"));

    bot.update(
        MockMessageText::new()
            .text("/remove giraffes")
            .from(admin()),
    );
    bot.dispatch().await;
    assert_eq!(
        sent_html(&bot).pop().unwrap(),
        "I have no document <code>giraffes</code>. Send /remove alone to choose from the list."
    );
    bot.update(MockMessageText::new().text("/remove 7").from(admin()));
    bot.dispatch().await;
    assert!(sent_html(&bot)
        .pop()
        .unwrap()
        .starts_with("I have no document"));
    assert!(knowledge.path().join("honeybees-in-winter.txt").is_file());
}

/// A user whose Telegram app is set to Russian (`language_code = "ru"`).
fn russian_user() -> teloxide::types::User {
    MockUser::new().id(7).language_code("ru").build()
}

fn from_russian(text: &str) -> MockMessageText {
    MockMessageText::new().text(text).from(russian_user())
}

#[tokio::test]
async fn a_user_whose_app_is_in_russian_is_answered_in_russian_unless_asking_in_english() {
    let mut bot = bot_for(from_russian("/start"));
    bot.dispatch().await;
    let responses = bot.get_responses();
    let greeting = &responses.sent_messages_text.last().unwrap().bot_request;
    assert!(
        greeting
            .text
            .starts_with("Здравствуйте! Я отвечаю на вопросы"),
        "{}",
        greeting.text
    );
    assert!(
        greeting.text.contains("Russia's Afghanistan Strategy"),
        "the title as it is"
    );
    assert_eq!(buttons(&greeting.reply_markup).len(), 3, "the examples");

    bot.update(from_russian("/help"));
    bot.dispatch().await;
    let help = sent_html(&bot).pop().unwrap();
    assert!(help.starts_with("<b>Как спрашивать</b>"), "{help}");
    assert!(help.contains("/ask — Задать вопрос о статье"), "{help}");
    assert!(help.contains("Весь абзац") && help.contains("Следующее совпадение"));

    // No question, nor letters: the app's language.
    for (text, want) in [
        ("/ask", "Напишите вопрос после команды"),
        ("/frobnicate", "Такой команды я не знаю"),
        ("/new", "Начнём заново"),
    ] {
        bot.update(from_russian(text));
        bot.dispatch().await;
        let said = sent_html(&bot).pop().unwrap();
        assert!(said.starts_with(want), "{text}: {said}");
    }

    // A Russian question nothing answers: said so in Russian, with the title as it is.
    bot.update(from_russian("Какая столица Франции?"));
    bot.dispatch().await;
    let refusal = sent_html(&bot).pop().unwrap();
    assert!(
        refusal.starts_with("Ответа на этот вопрос в «Russia's Afghanistan Strategy» нет"),
        "{refusal}"
    );

    // The same user asks in English: the question's language wins.
    bot.update(from_russian("What did Kabulov say about a US withdrawal?"));
    bot.dispatch().await;
    let responses = bot.get_responses();
    let sent = &responses.sent_messages_text.last().unwrap().bot_request;
    assert!(sent.text.contains("<b>Kabulov</b>"), "{}", sent.text);
    assert!(sent.text.contains("¶4"));
    let labels: Vec<String> = buttons(&sent.reply_markup)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(labels, ["Full paragraph", "Next match", "👍", "👎"]);
    drop(bot);

    let mut bot = MockBot::new(
        MockMessageSticker::new().from(russian_user()),
        handler_tree(),
    );
    bot.dependencies(deps![ctx()]);
    bot.dispatch().await;
    let hint = sent_html(&bot).pop().expect("a hint");
    assert!(hint.starts_with("Я читаю только текст"), "{hint}");
}

/// The bot with the multilingual sentence model alone, which reads a Russian question about
/// an English text (as `EMBEDDING_MODEL=models/multilingual-e5-small` does).
fn multilingual_ctx() -> Arc<Ctx> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let options = citebot::Options {
        models: vec![root.join("models/multilingual-e5-small")],
        ..citebot::Options::new(root.join("knowledge"))
    };
    let engine = Engine::load(&options).expect("the knowledge loads with e5");
    Arc::new(Ctx::new(Arc::new(engine)))
}

#[tokio::test]
async fn a_russian_question_gets_russian_around_the_english_quote_its_sentence_marked() {
    let question = from_russian("Почему Россию беспокоит афганский героин?").id(90);
    let mut bot = MockBot::new(question, handler_tree());
    bot.dependencies(deps![multilingual_ctx()]);
    let answer = ask(&mut bot).await;
    let responses = bot.get_responses();
    let sent = &responses.sent_messages_text.last().unwrap().bot_request;
    // The quote in English, the sentences that answer it in bold (no word is shared to
    // mark), the citation as it is.
    assert!(
        sent.text.starts_with("<blockquote><b>") && sent.text.contains("heroin"),
        "{}",
        sent.text
    );
    assert_eq!(sent.text.matches("<b>").count(), 1, "{}", sent.text);
    assert!(sent.text.contains(
        "— <a href=\"https://www.foreignaffairs.com/articles/afghanistan/2018-01-02/russias-afghanistan-strategy\">Russia's Afghanistan Strategy</a>, Julia Gurganus, Foreign Affairs, 2 January 2018, ¶12"
    ), "{}", sent.text);
    let labels: Vec<String> = buttons(&sent.reply_markup)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(labels, ["Весь абзац", "Следующее совпадение", "👍", "👎"]);

    // The buttons speak Russian too, whatever the presser's app says.
    let press = |data: &str| {
        MockCallbackQuery::new()
            .data(data)
            .message(answer.clone())
            .from(MockUser::new().id(7).build())
    };
    bot.update(press("f:1:r"));
    bot.dispatch().await;
    let responses = bot.get_responses();
    assert_eq!(
        responses.answered_callback_queries[0].text.as_deref(),
        Some("Весь абзац")
    );
    let full = sent_html(&bot).pop().unwrap();
    assert!(full.contains("¶12"), "{full}");
    assert_eq!(
        full.matches("<b>").count(),
        1,
        "the answering sentences: {full}"
    );

    bot.update(press("n:1:r"));
    bot.dispatch().await;
    let next = sent_html(&bot).pop().unwrap();
    assert!(
        next.starts_with("<i>Совпадение 2:</i>")
            || next == "Других совпадений для этого вопроса нет.",
        "{next}"
    );
}
