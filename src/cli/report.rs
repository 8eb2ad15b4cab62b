//! `citebot report` for people: the record's report as aligned tables, with a sparkline of
//! questions per day (`--json` prints the report itself).

/// A report as aligned tables, with a sparkline of questions per day.
pub fn report_text(r: &crate::record::Report) -> String {
    let sections = [
        (
            "Each day",
            table(
                &["day", "questions", "answered"],
                r.days.iter().map(day_row).collect(),
                &[1, 2],
            ),
        ),
        (
            "Asked most, not answered",
            table(
                &["times", "question", "last asked (UTC)"],
                r.unanswered.iter().map(unanswered_row).collect(),
                &[0],
            ),
        ),
        (
            "Voted down most",
            table(
                &["👎", "question", "document", "passage"],
                r.voted_down.iter().map(voted_down_row).collect(),
                &[0],
            ),
        ),
        (
            "Votes per passage",
            table(
                &["document", "passage", "👍", "👎"],
                r.votes.iter().map(passage_votes_row).collect(),
                &[2, 3],
            ),
        ),
    ];
    let mut s = format!(
        "Last {} days: {} questions, {} answered, {:.1}% not answered\n\
         Questions per day: {}\n",
        r.days_covered,
        r.questions,
        r.answered,
        r.unanswered_share * 100.0,
        r.sparkline()
    );
    // Voted up often, a closest passage was an answer the bot did not dare give: the cut
    // point could be lower. Seldom, it suits the readers.
    for (what, shown) in [("Sure answers", r.sure), ("Closest passages", r.closest)] {
        let share = shown.up_share().map_or("no votes".to_string(), |up| {
            format!("{:.0}% voted up", up * 100.0)
        });
        s += &format!(
            "{what}: {} shown, {} 👍 {} 👎, {share}\n",
            shown.shown, shown.up, shown.down
        );
    }
    for (title, body) in sections {
        s += &format!("\n{title}\n{body}\n");
    }
    s
}

/// A table of the report, with the columns listed in `numeric` right-aligned; "none" when
/// there are no rows.
fn table(header: &[&str], rows: Vec<Vec<String>>, numeric: &[usize]) -> String {
    use comfy_table::{presets::UTF8_FULL_CONDENSED, CellAlignment, Table};
    if rows.is_empty() {
        return "none".to_string();
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    for row in rows {
        t.add_row(row);
    }
    for &i in numeric {
        if let Some(column) = t.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    t.to_string()
}

/// A row of "Each day".
fn day_row(d: &crate::record::Day) -> Vec<String> {
    vec![
        d.date.clone(),
        d.questions.to_string(),
        d.answered.to_string(),
    ]
}

/// A row of "Asked most, not answered".
fn unanswered_row(u: &crate::record::Unanswered) -> Vec<String> {
    vec![
        u.count.to_string(),
        u.question.clone(),
        u.last_asked.clone(),
    ]
}

/// A row of "Voted down most".
fn voted_down_row(v: &crate::record::VotedDown) -> Vec<String> {
    vec![
        v.down.to_string(),
        v.question.clone(),
        or_blank(&v.document),
        or_blank(&v.passage),
    ]
}

/// A row of "Votes per passage".
fn passage_votes_row(v: &crate::record::PassageVotes) -> Vec<String> {
    vec![
        or_blank(&v.document),
        or_blank(&v.passage),
        v.up.to_string(),
        v.down.to_string(),
    ]
}

/// A document or passage of a vote, blank when the answer named none.
fn or_blank(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}
