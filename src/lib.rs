//! citebot answers questions about a set of documents with a cited excerpt from them.
//!
//! A question travels through pure steps, each in its own module, so that the command line,
//! the Telegram bot and the tests all share one path:
//!
//! ```text
//! knowledge/*.txt --load--> Knowledge { documents, passages }            knowledge
//! passages --index--> tantivy index (RAM, or on disk under INDEX_DIR)    search, store
//! question --analyse--> Query { concepts with weighted alternatives }    analysis
//! Query + index --rank--> Results { hits, answered }                     search
//! Hit --explain--> Answer { excerpt, marks, citation }                   answer
//! Answer --render--> plain text | Telegram HTML (≤ 4096 UTF-16 units)    render
//! update --handle--> reply, buttons, inline results                      telegram
//! ```
//!
//! Around that path: `config` (settings from the environment, the redacted token), `cli`
//! (the commands), `eval` (scoring a question set) and `bench` (measuring, and writing a
//! synthetic corpus).

pub mod analysis;
pub mod answer;
pub mod bench;
pub mod cli;
pub mod config;
pub mod eval;
pub mod knowledge;
pub mod render;
pub mod search;
pub mod store;
pub mod telegram;

pub use answer::{ask, Answer, Reply};
pub use search::Engine;
