//! The BLT ballot file format, as read by OpenSTV, Droop and most STV counting
//! programs, for exporting ranked ballots and loading published data sets.
//!
//! ```text
//! 4 2            number of candidates, number of seats
//! -3             optional: withdrawn candidates, as negative numbers
//! 12 1 3 2 0     weight, then candidates (1-based) in order of preference, then 0
//! 7 2=4 1 0      equal rankings: candidates joined by '=' share a rank
//! 0              end of the ballots
//! "Alice"        one name per candidate, in order
//! "Bob"
//! "Carol"
//! "Dan"
//! "Title"        the title of the election
//! ```
//!
//! **Equal rankings** use the `=` extension (as Droop and OpenSTV's Condorcet methods
//! accept): `2=4` gives candidates 2 and 4 the same rank. [`write`] uses it for ballots
//! with ties; a ballot without ties is written in plain BLT. The counts that forbid ties
//! report such ballots as invalid.
//!
//! **Names and title** are written in double quotes, a quote inside doubled (`""`). The
//! reader also takes names without quotes (a whole line, trimmed), as found in some
//! published files.
//!
//! **Bounds.** [`parse`] refuses input over [`MAX_BLT_BYTES`] bytes, more than
//! [`super::MAX_CANDIDATES`] candidates, more than [`MAX_BLT_LINES`] ballot lines and
//! weights summing to more than [`super::MAX_BALLOTS`], before allocating from them.
//! Weights are whole numbers.

use super::{CountError, Counted, MAX_BALLOTS, RankedBallot, check_candidates, index_u32};

/// Largest BLT input accepted, in bytes.
pub const MAX_BLT_BYTES: usize = 16 * 1024 * 1024;

/// Most ballot lines accepted (each becomes one entry per candidate in memory).
pub const MAX_BLT_LINES: usize = 200_000;

/// Longest name or title accepted, in characters.
pub const MAX_NAME: usize = 1_000;

/// A ballot file: candidates, seats, ballots with their weights, names and title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blt {
    pub candidates: usize,
    pub seats: usize,
    /// Withdrawn candidates (0-based).
    pub withdrawn: Vec<u32>,
    pub ballots: Vec<Counted<RankedBallot>>,
    pub names: Vec<String>,
    pub title: String,
}

fn error<T>(line: usize, message: impl Into<String>) -> Result<T, CountError> {
    Err(CountError::Blt {
        line,
        message: message.into(),
    })
}

/// Parses a BLT file (see the module docs).
pub fn parse(text: &str) -> Result<Blt, CountError> {
    if text.len() > MAX_BLT_BYTES {
        return error(0, format!("more than {MAX_BLT_BYTES} bytes"));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());

    let Some((n, header)) = lines.next() else {
        return error(1, "empty file");
    };
    let header: Vec<&str> = header.split_whitespace().collect();
    let [candidates, seats] = header.as_slice() else {
        return error(n, "the first line must be: candidates seats");
    };
    let number = |t: &str| t.parse::<usize>().ok();
    let (Some(candidates), Some(seats)) = (number(candidates), number(seats)) else {
        return error(n, "the first line must be: candidates seats");
    };
    if let Err(e) = check_candidates(candidates) {
        return error(n, e.to_string());
    }

    let mut withdrawn = Vec::new();
    let mut ballots = Vec::new();
    let mut total: u64 = 0;
    let mut first = true;
    loop {
        let Some((n, line)) = lines.next() else {
            return error(0, "missing the 0 line that ends the ballots");
        };
        if line == "0" {
            break;
        }
        let mut tokens = line.split_whitespace().peekable();
        if first && tokens.peek().is_some_and(|t| t.starts_with('-')) {
            first = false;
            for t in tokens {
                let c = t
                    .strip_prefix('-')
                    .and_then(number)
                    .and_then(|c| c.checked_sub(1))
                    .filter(|c| *c < candidates);
                let Some(c) = c else {
                    return error(n, format!("bad withdrawn candidate {t:?}"));
                };
                withdrawn.push(index_u32(c));
            }
            continue;
        }
        first = false;
        if ballots.len() >= MAX_BLT_LINES {
            return error(n, format!("more than {MAX_BLT_LINES} ballot lines"));
        }
        let Some(weight) = tokens.next().and_then(|t| t.parse::<u64>().ok()) else {
            return error(n, "a ballot starts with a whole weight");
        };
        total = match total.checked_add(weight).filter(|t| *t <= MAX_BALLOTS) {
            Some(t) => t,
            None => return error(n, format!("more than {MAX_BALLOTS} ballots")),
        };
        let mut ranks: RankedBallot = vec![None; candidates];
        let mut rank = 0u32;
        let mut ended = false;
        for t in tokens {
            if ended {
                return error(n, "text after the 0 that ends the ballot");
            }
            if t == "0" {
                ended = true;
                continue;
            }
            rank += 1;
            for part in t.split('=') {
                let c = number(part).and_then(|c| c.checked_sub(1));
                let Some(slot) = c.and_then(|c| ranks.get_mut(c)) else {
                    return error(n, format!("bad candidate {part:?}"));
                };
                if slot.is_some() {
                    return error(n, format!("candidate {part} ranked twice"));
                }
                *slot = Some(rank);
            }
        }
        if !ended {
            return error(n, "a ballot ends with 0");
        }
        ballots.push(Counted {
            count: weight,
            ballot: ranks,
        });
    }

    let mut names = Vec::with_capacity(candidates);
    for _ in 0..candidates {
        let Some((n, line)) = lines.next() else {
            return error(0, format!("{candidates} names expected"));
        };
        names.push(text_line(n, line)?);
    }
    let title = match lines.next() {
        Some((n, line)) => text_line(n, line)?,
        None => String::new(),
    };
    if let Some((n, _)) = lines.next() {
        return error(n, "text after the title");
    }
    Ok(Blt {
        candidates,
        seats,
        withdrawn,
        ballots,
        names,
        title,
    })
}

/// A name or the title: quoted with `""` for a quote, or a bare line.
fn text_line(n: usize, line: &str) -> Result<String, CountError> {
    let text = match line.strip_prefix('"') {
        Some(rest) => {
            let Some(inner) = rest.strip_suffix('"') else {
                return error(n, "unterminated quoted name");
            };
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(ch) = chars.next() {
                if ch == '"' && chars.next() != Some('"') {
                    return error(n, "a quote inside a name must be doubled");
                }
                out.push(ch);
            }
            out
        }
        None => line.to_string(),
    };
    if text.chars().count() > MAX_NAME {
        return error(
            n,
            format!("a name or title has more than {MAX_NAME} characters"),
        );
    }
    Ok(text)
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Writes ranked ballots as BLT. Ballots that rank no candidate or whose ranks are not
/// `1 … k` without gaps cannot be written and are refused; `names` must have one name
/// per candidate.
pub fn write(
    candidates: usize,
    seats: usize,
    ballots: &[Counted<RankedBallot>],
    names: &[String],
    title: &str,
) -> Result<String, CountError> {
    check_candidates(candidates)?;
    if names.len() != candidates {
        return error(
            0,
            format!("{candidates} names expected, {} given", names.len()),
        );
    }
    let mut out = format!("{candidates} {seats}\n");
    for (i, b) in ballots.iter().enumerate() {
        if let Err(fault) = super::validate_ranked(&b.ballot, candidates, super::Ties::Allowed) {
            return error(0, format!("ballot {i} cannot be written: {fault:?}"));
        }
        let mut by_rank: Vec<Vec<usize>> = vec![Vec::new(); candidates];
        for (c, r) in b.ballot.iter().enumerate() {
            if let Some(group) = r
                .and_then(|r| usize::try_from(r).ok())
                .and_then(|r| r.checked_sub(1))
                .and_then(|r| by_rank.get_mut(r))
            {
                group.push(c + 1);
            }
        }
        out.push_str(&b.count.to_string());
        for group in by_rank.iter().filter(|g| !g.is_empty()) {
            let joined: Vec<String> = group.iter().map(usize::to_string).collect();
            out.push(' ');
            out.push_str(&joined.join("="));
        }
        out.push_str(" 0\n");
    }
    out.push_str("0\n");
    for name in names {
        out.push_str(&quoted(name));
        out.push('\n');
    }
    out.push_str(&quoted(title));
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "4 2\n-3\n12 1 3 2 0\n7 2=4 1 0\n0\n\"Alice\"\n\"Bob \"\"B\"\"\"\nCarol\n\"Dan\"\n\"Test\"\n";

    #[test]
    fn parses_weights_ties_withdrawals_and_names() {
        let b = parse(SAMPLE).unwrap();
        assert_eq!((b.candidates, b.seats), (4, 2));
        assert_eq!(b.withdrawn, vec![2]);
        assert_eq!(b.ballots.len(), 2);
        assert_eq!(b.ballots[0].count, 12);
        assert_eq!(b.ballots[0].ballot, vec![Some(1), Some(3), Some(2), None]);
        assert_eq!(b.ballots[1].ballot, vec![Some(2), Some(1), None, Some(1)]);
        assert_eq!(b.names, vec!["Alice", "Bob \"B\"", "Carol", "Dan"]);
        assert_eq!(b.title, "Test");
    }

    #[test]
    fn round_trips() {
        let b = parse(SAMPLE).unwrap();
        let text = write(b.candidates, b.seats, &b.ballots, &b.names, &b.title).unwrap();
        let again = parse(&text).unwrap();
        assert_eq!(again.ballots, b.ballots);
        assert_eq!(again.names, b.names);
        assert_eq!(again.title, b.title);
        assert!(text.contains("7 2=4 1 0\n"));
    }

    #[test]
    fn refuses_malformed_and_oversize_input() {
        for bad in [
            "",
            "4\n0\n",
            "101 1\n0\n",
            "2 1\n1 1 2\n0\n\"a\"\n\"b\"\n",
            "2 1\n1 1 3 0\n0\n\"a\"\n\"b\"\n",
            "2 1\n1 1 1 0\n0\n\"a\"\n\"b\"\n",
            "2 1\nx 1 0\n0\n\"a\"\n\"b\"\n",
            "2 1\n1 1 0 2\n0\n\"a\"\n\"b\"\n",
            "2 1\n1 1 0\n0\n\"a\"\n",
            "2 1\n1 1 0\n0\n\"a\"\n\"b\"\n\"t\"\n\"more\"\n",
            "2 1\n1 1 0\n0\n\"a\n\"b\"\n",
            "2 1\n10000000 1 0\n1 2 0\n0\n\"a\"\n\"b\"\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let huge = " ".repeat(MAX_BLT_BYTES + 1);
        assert!(parse(&huge).is_err());
    }

    #[test]
    fn write_refuses_ballots_it_cannot_express() {
        let names = vec!["a".to_string(), "b".to_string()];
        let gap = vec![Counted::one(vec![Some(2), None])];
        assert!(write(2, 1, &gap, &names, "t").is_err());
        let ok = vec![Counted::one(vec![Some(1), None])];
        assert!(write(2, 1, &ok, &names[..1], "t").is_err());
        assert_eq!(
            write(2, 1, &ok, &names, "t").unwrap(),
            "2 1\n1 1 0\n0\n\"a\"\n\"b\"\n\"t\"\n"
        );
    }
}
