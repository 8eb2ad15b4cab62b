//! citebot answers questions about a set of documents with a cited excerpt from them.
//!
//! A question travels through pure steps, each in its own module, so that the command line,
//! the Telegram bot and the tests all share one path:
//!
//! ```text
//! knowledge/*.{txt,md,pdf,html,docx} --read--> Extracted { meta, body, captions }  formats
//! Extracted --cut--> Knowledge { documents, passages, skipped }          knowledge
//! passages --index--> tantivy index (RAM, or on disk under INDEX_DIR)    index, store
//! sentences --embed--> a vector per sentence (kept per text on disk)     embed, bert
//! sentences --rank once--> each document's central sentences (summary)   summary
//! question --names--> the one document it asks about, of several         documents
//! question --about?--> who wrote it, when, its title, what it is about   about, answer
//! question --analyse--> Query { weighted concepts } + question vector    analysis, lang, embed
//!   (a word no passage holds, read in the knowledge's other language)      bridge
//! Query --propose--> candidates, by words and by meaning                 retrieve, index
//! candidates --score, decide--> Results { hits, verdict, confidence }   engine, rank, verdict
//! question --asks for--> a number, date, person, place, reason?          answer_type
//! Hit --explain--> Answer { excerpt, marks, citation }                   answer
//! Answer --render--> plain text | Telegram HTML (≤ 4096 UTF-16 units)    render
//! update --handle--> reply, buttons, inline results                      telegram
//! ```
//!
//! The words of a language (stop words, question words, month names...) are data in
//! `lang`; every retriever speaks `retrieve`'s types; every weight and threshold is a field
//! of `rank::Tuning`. docs/architecture.md says where each kind of change goes.
//!
//! A conversation reads each message in the context of the last question before it goes
//! down that path (`conversation`): "What did he call a dead end?" is searched with what
//! the last question was about. The bot (`telegram`), the terminal chat (`chat`) and `eval`
//! take each message as one `conversation::turn`, and the bot keeps conversations in a
//! `conversation::ConversationStore`. Every text they show is in `texts`, in English and
//! Russian (the question's language, else the user's), written as Telegram HTML (`html`
//! escapes it and reads it back as plain text).
//!
//! Documents come in through `intake` (`citebot add`, a file an admin sends the bot): read
//! first, added to the knowledge folder only when they read.
//!
//! Around that path: `config` (settings from the environment, the redacted token), `logs`
//! (tracing, with message text kept out), `cli`
//! (the commands), `eval` (scoring a question set or a conversation set) and `bench`
//! (measuring, and writing a synthetic corpus). Replicas of the bot share conversations,
//! the flood gate and reloads through Redis (`replicas`), and the record through
//! PostgreSQL (`record`).

pub mod about;
pub mod analysis;
pub mod answer;
pub mod answer_type;
pub mod bench;
pub mod bert;
pub mod bridge;
pub mod chat;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod documents;
pub mod e5;
pub mod embed;
pub mod encoder;
pub mod engine;
pub mod eval;
pub mod formats;
pub mod html;
pub mod index;
pub mod intake;
pub mod knowledge;
pub mod lang;
pub mod logs;
pub mod rank;
pub mod record;
pub mod render;
pub mod replicas;
pub mod retrieve;
pub mod store;
pub mod summary;
pub mod telegram;
pub mod texts;
pub mod threads;
pub mod verdict;

pub use answer::{ask, Answer, Reply};
pub use engine::{Engine, Options};
