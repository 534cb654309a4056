//! The election definition (spec §8): questions with their rules, the trustees and the
//! threshold, the credential authority, each named with its public role key (§8.6), the
//! server's board key and the monitors that watch it. Every size is bounded before anything is allocated from it (a selection
//! limit of 2³¹−1 once made a range proof allocate 51 GB elsewhere; here it is refused).
//!
//! A question has `answers`; a voter gives each answer a value in `0 … max_per_answer`
//! (1 for approval or single choice, more for score voting), and the sum of the values
//! must lie in `min … max`. If `blank` is allowed the voter may instead vote blank:
//! every value 0, counted separately.

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::error::{ElectionError, invalid};
use crate::roles::fingerprint;
use scrutin_crypto::Point;
use scrutin_crypto::disjunctive::MAX_VALUES;
use scrutin_crypto::dkg::{DkgParameters, MAX_TRUSTEES};

/// At most this many questions in an election.
pub const MAX_QUESTIONS: usize = 50;
/// At most this many answers in a question.
pub const MAX_ANSWERS: usize = 100;
/// At most this value for one answer (score voting).
pub const MAX_PER_ANSWER: u64 = 100;
/// At most this proof size (branches of membership proofs plus bits of bits proofs, §8.3)
/// in one ballot, which bounds a ballot's size and cost.
pub const MAX_PROOF_SIZE_PER_BALLOT: usize = 10_000;
/// Longest title, answer or name, in characters.
pub const MAX_TEXT: usize = 1_000;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 20_000;
/// At most this many grades in a graded question (§8.2 rule 11).
pub const MAX_GRADES: usize = crate::count::MAX_GRADES as usize;
/// At most this many rows times (answers + 22) of ranked and graded questions (§9.3 rule
/// 6): the `result` line, which holds every decrypted row and the invalid ones listed
/// (at most 5 bytes per answer and 110 per row and question), then stays within 14.5 MB
/// of the 16 MiB of a record line. Shuffles and shares are written over several lines
/// (§11.15) and set no bound.
pub const MAX_MIXED_ENTRIES: u64 = 2_900_000;

/// The entries of one row of a ranked or graded question with `answers` answers (§9.3
/// rule 6): one per answer and 22 for the row.
pub const fn mixed_row_entries(answers: u64) -> u64 {
    answers + 22
}
/// At most this many monitors named in an election.
pub const MAX_MONITORS: usize = 16;
/// Longest monitor URL, in bytes.
pub const MAX_URL: usize = 200;

/// A trustee or the credential authority: a name for people and the public role key
/// that signs its events (§8.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleHolder {
    pub name: String,
    pub key: Point,
}

/// One question of the ballot (§8.1). Without `kind` it is homomorphic: its answers are
/// summed and only the sums decrypted. With `kind` it is ranked or graded: every answer
/// is decrypted ballot by ballot after the trustees' shuffles, then counted by `method`
/// (§8.2 rule 11); `min`, `max`, `max_per_answer` and `blank` then keep their defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub text: String,
    pub answers: Vec<String>,
    #[serde(default)]
    pub min: u64,
    #[serde(default)]
    pub max: u64,
    #[serde(default = "one")]
    pub max_per_answer: u64,
    #[serde(default)]
    pub blank: bool,
    /// `ranked` or `grades`; absent for a homomorphic question.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub kind: Option<QuestionKind>,
    /// How a ranked or graded question is counted; present iff `kind` is.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub method: Option<Method>,
    /// The number of seats of an `stv` count; present iff the method is `stv`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub seats: Option<u64>,
    /// The grade names of a graded question, best first; present iff `kind` is `grades`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub grades: Option<Vec<String>>,
}

/// A question whose answers are decrypted one ballot at a time (§8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// Each answer (candidate) is given a rank: 1 = first preference, 0 = unranked.
    Ranked,
    /// Each answer is given a grade: its index in `grades`, 0 = best.
    Grades,
}

/// The count of a ranked or graded question (§8.1, `crate::count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Condorcet–Schulze, equal ranks allowed.
    Schulze,
    /// Single transferable vote (Scottish rules), `seats` seats, no equal ranks.
    Stv,
    /// Instant-runoff, one seat, no equal ranks.
    Irv,
    /// Majority judgment on the question's grades.
    MajorityJudgment,
}

impl Method {
    /// The kind of question this method counts (§8.1).
    pub fn kind(self) -> QuestionKind {
        match self {
            Method::MajorityJudgment => QuestionKind::Grades,
            _ => QuestionKind::Ranked,
        }
    }

    /// The method's name as written in the definition (§8.1).
    pub fn name(self) -> &'static str {
        match self {
            Method::Schulze => "schulze",
            Method::Stv => "stv",
            Method::Irv => "irv",
            Method::MajorityJudgment => "majority-judgment",
        }
    }
}

fn one() -> u64 {
    1
}

/// The whole election definition: the body of the `election` event (§11.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionDefinition {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub trustees: Vec<RoleHolder>,
    pub threshold: u32,
    pub authority: RoleHolder,
    /// The server's board key (§14), when a server runs the election.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_key: Option<Point>,
    /// Base URLs of monitors that follow the board (§14.3); voters' booths and trustees
    /// compare the board's head with theirs.
    pub monitors: Vec<String>,
    pub questions: Vec<Question>,
}

/// A trustee or the authority as the TOML description names it: the public key as the
/// holder gave it, 64 hexadecimal characters (§8.4).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribedRole {
    pub name: String,
    pub key: String,
}

impl DescribedRole {
    fn holder(self, what: &str) -> Result<RoleHolder, ElectionError> {
        let key = Point::from_hex(self.key.trim()).map_err(|e| {
            ElectionError::Invalid(format!(
                "the key of {what} ({}) is not a public key (64 hexadecimal characters): {e}",
                self.name
            ))
        })?;
        Ok(RoleHolder {
            name: self.name,
            key,
        })
    }
}

impl From<&RoleHolder> for DescribedRole {
    fn from(h: &RoleHolder) -> Self {
        DescribedRole {
            name: h.name.clone(),
            key: h.key.to_hex(),
        }
    }
}

/// The TOML description an administrator writes; `id` is drawn at random when absent.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionDescription {
    pub id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "trustee")]
    pub trustees: Vec<DescribedRole>,
    pub threshold: u32,
    pub authority: DescribedRole,
    #[serde(default)]
    pub monitors: Vec<String>,
    #[serde(rename = "question")]
    pub questions: Vec<Question>,
}

/// The Unicode characters of general category `Cf` (format characters, Unicode 15.1), in
/// increasing order, with their names: invisible, or changing the direction of the text
/// around them, so that two answers that look alike (`Ada` and `Ada` followed by U+200B) or
/// a reversed one (U+202E) could pass for what they are not (§8.2 rule 10, check E2).
const FORMAT_CHARACTERS: &[(u32, &str)] = &[
    (0x00AD, "SOFT HYPHEN"),
    (0x0600, "ARABIC NUMBER SIGN"),
    (0x0601, "ARABIC SIGN SANAH"),
    (0x0602, "ARABIC FOOTNOTE MARKER"),
    (0x0603, "ARABIC SIGN SAFHA"),
    (0x0604, "ARABIC SIGN SAMVAT"),
    (0x0605, "ARABIC NUMBER MARK ABOVE"),
    (0x061C, "ARABIC LETTER MARK"),
    (0x06DD, "ARABIC END OF AYAH"),
    (0x070F, "SYRIAC ABBREVIATION MARK"),
    (0x0890, "ARABIC POUND MARK ABOVE"),
    (0x0891, "ARABIC PIASTRE MARK ABOVE"),
    (0x08E2, "ARABIC DISPUTED END OF AYAH"),
    (0x180E, "MONGOLIAN VOWEL SEPARATOR"),
    (0x200B, "ZERO WIDTH SPACE"),
    (0x200C, "ZERO WIDTH NON-JOINER"),
    (0x200D, "ZERO WIDTH JOINER"),
    (0x200E, "LEFT-TO-RIGHT MARK"),
    (0x200F, "RIGHT-TO-LEFT MARK"),
    (0x202A, "LEFT-TO-RIGHT EMBEDDING"),
    (0x202B, "RIGHT-TO-LEFT EMBEDDING"),
    (0x202C, "POP DIRECTIONAL FORMATTING"),
    (0x202D, "LEFT-TO-RIGHT OVERRIDE"),
    (0x202E, "RIGHT-TO-LEFT OVERRIDE"),
    (0x2060, "WORD JOINER"),
    (0x2061, "FUNCTION APPLICATION"),
    (0x2062, "INVISIBLE TIMES"),
    (0x2063, "INVISIBLE SEPARATOR"),
    (0x2064, "INVISIBLE PLUS"),
    (0x2066, "LEFT-TO-RIGHT ISOLATE"),
    (0x2067, "RIGHT-TO-LEFT ISOLATE"),
    (0x2068, "FIRST STRONG ISOLATE"),
    (0x2069, "POP DIRECTIONAL ISOLATE"),
    (0x206A, "INHIBIT SYMMETRIC SWAPPING"),
    (0x206B, "ACTIVATE SYMMETRIC SWAPPING"),
    (0x206C, "INHIBIT ARABIC FORM SHAPING"),
    (0x206D, "ACTIVATE ARABIC FORM SHAPING"),
    (0x206E, "NATIONAL DIGIT SHAPES"),
    (0x206F, "NOMINAL DIGIT SHAPES"),
    (0xFEFF, "ZERO WIDTH NO-BREAK SPACE"),
    (0xFFF9, "INTERLINEAR ANNOTATION ANCHOR"),
    (0xFFFA, "INTERLINEAR ANNOTATION SEPARATOR"),
    (0xFFFB, "INTERLINEAR ANNOTATION TERMINATOR"),
    (0x110BD, "KAITHI NUMBER SIGN"),
    (0x110CD, "KAITHI NUMBER SIGN ABOVE"),
    (0x13430, "EGYPTIAN HIEROGLYPH VERTICAL JOINER"),
    (0x13431, "EGYPTIAN HIEROGLYPH HORIZONTAL JOINER"),
    (0x13432, "EGYPTIAN HIEROGLYPH INSERT AT TOP START"),
    (0x13433, "EGYPTIAN HIEROGLYPH INSERT AT BOTTOM START"),
    (0x13434, "EGYPTIAN HIEROGLYPH INSERT AT TOP END"),
    (0x13435, "EGYPTIAN HIEROGLYPH INSERT AT BOTTOM END"),
    (0x13436, "EGYPTIAN HIEROGLYPH OVERLAY MIDDLE"),
    (0x13437, "EGYPTIAN HIEROGLYPH BEGIN SEGMENT"),
    (0x13438, "EGYPTIAN HIEROGLYPH END SEGMENT"),
    (0x13439, "EGYPTIAN HIEROGLYPH INSERT AT MIDDLE"),
    (0x1343A, "EGYPTIAN HIEROGLYPH INSERT AT TOP"),
    (0x1343B, "EGYPTIAN HIEROGLYPH INSERT AT BOTTOM"),
    (0x1343C, "EGYPTIAN HIEROGLYPH BEGIN ENCLOSURE"),
    (0x1343D, "EGYPTIAN HIEROGLYPH END ENCLOSURE"),
    (0x1343E, "EGYPTIAN HIEROGLYPH BEGIN WALLED ENCLOSURE"),
    (0x1343F, "EGYPTIAN HIEROGLYPH END WALLED ENCLOSURE"),
    (0x1BCA0, "SHORTHAND FORMAT LETTER OVERLAP"),
    (0x1BCA1, "SHORTHAND FORMAT CONTINUING OVERLAP"),
    (0x1BCA2, "SHORTHAND FORMAT DOWN STEP"),
    (0x1BCA3, "SHORTHAND FORMAT UP STEP"),
    (0x1D173, "MUSICAL SYMBOL BEGIN BEAM"),
    (0x1D174, "MUSICAL SYMBOL END BEAM"),
    (0x1D175, "MUSICAL SYMBOL BEGIN TIE"),
    (0x1D176, "MUSICAL SYMBOL END TIE"),
    (0x1D177, "MUSICAL SYMBOL BEGIN SLUR"),
    (0x1D178, "MUSICAL SYMBOL END SLUR"),
    (0x1D179, "MUSICAL SYMBOL BEGIN PHRASE"),
    (0x1D17A, "MUSICAL SYMBOL END PHRASE"),
    (0xE0001, "LANGUAGE TAG"),
    (0xE0020, "TAG SPACE"),
    (0xE0021, "TAG EXCLAMATION MARK"),
    (0xE0022, "TAG QUOTATION MARK"),
    (0xE0023, "TAG NUMBER SIGN"),
    (0xE0024, "TAG DOLLAR SIGN"),
    (0xE0025, "TAG PERCENT SIGN"),
    (0xE0026, "TAG AMPERSAND"),
    (0xE0027, "TAG APOSTROPHE"),
    (0xE0028, "TAG LEFT PARENTHESIS"),
    (0xE0029, "TAG RIGHT PARENTHESIS"),
    (0xE002A, "TAG ASTERISK"),
    (0xE002B, "TAG PLUS SIGN"),
    (0xE002C, "TAG COMMA"),
    (0xE002D, "TAG HYPHEN-MINUS"),
    (0xE002E, "TAG FULL STOP"),
    (0xE002F, "TAG SOLIDUS"),
    (0xE0030, "TAG DIGIT ZERO"),
    (0xE0031, "TAG DIGIT ONE"),
    (0xE0032, "TAG DIGIT TWO"),
    (0xE0033, "TAG DIGIT THREE"),
    (0xE0034, "TAG DIGIT FOUR"),
    (0xE0035, "TAG DIGIT FIVE"),
    (0xE0036, "TAG DIGIT SIX"),
    (0xE0037, "TAG DIGIT SEVEN"),
    (0xE0038, "TAG DIGIT EIGHT"),
    (0xE0039, "TAG DIGIT NINE"),
    (0xE003A, "TAG COLON"),
    (0xE003B, "TAG SEMICOLON"),
    (0xE003C, "TAG LESS-THAN SIGN"),
    (0xE003D, "TAG EQUALS SIGN"),
    (0xE003E, "TAG GREATER-THAN SIGN"),
    (0xE003F, "TAG QUESTION MARK"),
    (0xE0040, "TAG COMMERCIAL AT"),
    (0xE0041, "TAG LATIN CAPITAL LETTER A"),
    (0xE0042, "TAG LATIN CAPITAL LETTER B"),
    (0xE0043, "TAG LATIN CAPITAL LETTER C"),
    (0xE0044, "TAG LATIN CAPITAL LETTER D"),
    (0xE0045, "TAG LATIN CAPITAL LETTER E"),
    (0xE0046, "TAG LATIN CAPITAL LETTER F"),
    (0xE0047, "TAG LATIN CAPITAL LETTER G"),
    (0xE0048, "TAG LATIN CAPITAL LETTER H"),
    (0xE0049, "TAG LATIN CAPITAL LETTER I"),
    (0xE004A, "TAG LATIN CAPITAL LETTER J"),
    (0xE004B, "TAG LATIN CAPITAL LETTER K"),
    (0xE004C, "TAG LATIN CAPITAL LETTER L"),
    (0xE004D, "TAG LATIN CAPITAL LETTER M"),
    (0xE004E, "TAG LATIN CAPITAL LETTER N"),
    (0xE004F, "TAG LATIN CAPITAL LETTER O"),
    (0xE0050, "TAG LATIN CAPITAL LETTER P"),
    (0xE0051, "TAG LATIN CAPITAL LETTER Q"),
    (0xE0052, "TAG LATIN CAPITAL LETTER R"),
    (0xE0053, "TAG LATIN CAPITAL LETTER S"),
    (0xE0054, "TAG LATIN CAPITAL LETTER T"),
    (0xE0055, "TAG LATIN CAPITAL LETTER U"),
    (0xE0056, "TAG LATIN CAPITAL LETTER V"),
    (0xE0057, "TAG LATIN CAPITAL LETTER W"),
    (0xE0058, "TAG LATIN CAPITAL LETTER X"),
    (0xE0059, "TAG LATIN CAPITAL LETTER Y"),
    (0xE005A, "TAG LATIN CAPITAL LETTER Z"),
    (0xE005B, "TAG LEFT SQUARE BRACKET"),
    (0xE005C, "TAG REVERSE SOLIDUS"),
    (0xE005D, "TAG RIGHT SQUARE BRACKET"),
    (0xE005E, "TAG CIRCUMFLEX ACCENT"),
    (0xE005F, "TAG LOW LINE"),
    (0xE0060, "TAG GRAVE ACCENT"),
    (0xE0061, "TAG LATIN SMALL LETTER A"),
    (0xE0062, "TAG LATIN SMALL LETTER B"),
    (0xE0063, "TAG LATIN SMALL LETTER C"),
    (0xE0064, "TAG LATIN SMALL LETTER D"),
    (0xE0065, "TAG LATIN SMALL LETTER E"),
    (0xE0066, "TAG LATIN SMALL LETTER F"),
    (0xE0067, "TAG LATIN SMALL LETTER G"),
    (0xE0068, "TAG LATIN SMALL LETTER H"),
    (0xE0069, "TAG LATIN SMALL LETTER I"),
    (0xE006A, "TAG LATIN SMALL LETTER J"),
    (0xE006B, "TAG LATIN SMALL LETTER K"),
    (0xE006C, "TAG LATIN SMALL LETTER L"),
    (0xE006D, "TAG LATIN SMALL LETTER M"),
    (0xE006E, "TAG LATIN SMALL LETTER N"),
    (0xE006F, "TAG LATIN SMALL LETTER O"),
    (0xE0070, "TAG LATIN SMALL LETTER P"),
    (0xE0071, "TAG LATIN SMALL LETTER Q"),
    (0xE0072, "TAG LATIN SMALL LETTER R"),
    (0xE0073, "TAG LATIN SMALL LETTER S"),
    (0xE0074, "TAG LATIN SMALL LETTER T"),
    (0xE0075, "TAG LATIN SMALL LETTER U"),
    (0xE0076, "TAG LATIN SMALL LETTER V"),
    (0xE0077, "TAG LATIN SMALL LETTER W"),
    (0xE0078, "TAG LATIN SMALL LETTER X"),
    (0xE0079, "TAG LATIN SMALL LETTER Y"),
    (0xE007A, "TAG LATIN SMALL LETTER Z"),
    (0xE007B, "TAG LEFT CURLY BRACKET"),
    (0xE007C, "TAG VERTICAL LINE"),
    (0xE007D, "TAG RIGHT CURLY BRACKET"),
    (0xE007E, "TAG TILDE"),
    (0xE007F, "CANCEL TAG"),
];

/// The first format character of `text`, if any, with its Unicode name.
fn format_character(text: &str) -> Option<(char, &'static str)> {
    text.chars().find_map(|c| {
        FORMAT_CHARACTERS
            .binary_search_by_key(&u32::from(c), |(code, _)| *code)
            .ok()
            .and_then(|i| FORMAT_CHARACTERS.get(i))
            .map(|(_, name)| (c, *name))
    })
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), ElectionError> {
    let n = text.chars().count();
    if n == 0 || n > max {
        return invalid(format!("{what} must have 1 to {max} characters, found {n}"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return invalid(format!("{what} contains control characters"));
    }
    Ok(())
}

/// A monitor's base URL: `http://` or `https://`, at most [`MAX_URL`] bytes, printable
/// ASCII without spaces, quotes or angle brackets.
fn check_monitor_url(url: &str) -> Result<(), ElectionError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= MAX_URL
        && url.len() > "https://".len()
        && url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'<' | b'>' | b'\\'));
    if ok {
        Ok(())
    } else {
        invalid(format!(
            "monitor {:?} is not an http(s) URL of at most {MAX_URL} printable characters",
            url.chars().take(60).collect::<String>()
        ))
    }
}

impl Question {
    /// True for a ranked or graded question: answers decrypted one ballot at a time
    /// after the shuffles, never summed (§8.1).
    pub fn is_mixed(&self) -> bool {
        self.kind.is_some()
    }

    /// How many entries the question has in the encrypted tally (§11.8): one per answer
    /// of a homomorphic question, none for a ranked or graded one.
    pub fn tallied_answers(&self) -> usize {
        if self.is_mixed() {
            0
        } else {
            self.answers.len()
        }
    }

    /// The largest value an honest ballot encrypts for one answer of a ranked or graded
    /// question (§10.7): the number of answers (the last rank) or the number of grades
    /// minus one (the worst grade); `max_per_answer` for a homomorphic question.
    pub fn value_bound(&self) -> u64 {
        match self.kind {
            Some(QuestionKind::Ranked) => self.answers.len() as u64,
            Some(QuestionKind::Grades) => self
                .grades
                .as_ref()
                .map_or(0, |g| g.len() as u64)
                .saturating_sub(1),
            None => self.max_per_answer,
        }
    }

    /// The allowed values of one answer: `0 … max_per_answer` (used by the range proofs
    /// of answers when `max_per_answer > 1`).
    pub fn choice_values(&self) -> Vec<u64> {
        (0..=self.max_per_answer).collect()
    }

    /// The largest possible sum of the answers' values.
    pub fn max_sum(&self) -> u64 {
        self.answers.len() as u64 * self.max_per_answer
    }

    /// The value that stands for a blank vote in the sum proof: larger than any real sum.
    pub fn blank_marker(&self) -> u64 {
        self.max_sum() + 1
    }

    /// The allowed values of `Σ choices + blank_marker·blank` (§10.3), or `None` when the
    /// per-answer proofs already imply the rule (no blank, `min = 0`, `max ≥ max_sum`)
    /// and for a ranked or graded question, which has no sum proof.
    pub fn sum_values(&self) -> Option<Vec<u64>> {
        if self.is_mixed() || (!self.blank && self.min == 0 && self.max >= self.max_sum()) {
            return None;
        }
        let mut values: Vec<u64> = (self.min..=self.max.min(self.max_sum())).collect();
        if self.blank {
            values.push(self.blank_marker());
        }
        Some(values)
    }

    /// Whether each answer of a homomorphic question is 0 or 1 (`max_per_answer = 1`),
    /// and so covered by the bits proof rather than by a range proof of its own (§10.2).
    pub fn answers_are_bits(&self) -> bool {
        !self.is_mixed() && self.max_per_answer == 1
    }

    /// Whether each answer carries a range proof of its own: a homomorphic question with
    /// `max_per_answer > 1` (§10.2).
    pub fn has_range_proofs(&self) -> bool {
        !self.is_mixed() && self.max_per_answer > 1
    }

    /// The items of this question the bits proof covers, in order (§10.2): the answers'
    /// if [`Question::answers_are_bits`], then the blank indicator's if there is one.
    pub fn bit_items<T: Clone>(&self, answers: &[T], blank: Option<T>) -> Vec<T> {
        let answers = if self.answers_are_bits() {
            answers
        } else {
            &[]
        };
        answers.iter().cloned().chain(blank).collect()
    }

    /// How many ciphertexts the question's bits proof covers (§8.3); 0 means no bits
    /// proof.
    pub fn bit_count(&self) -> usize {
        let answers = if self.answers_are_bits() {
            self.answers.len()
        } else {
            0
        };
        answers + usize::from(self.blank)
    }

    /// The proof size of the question in a ballot (§8.3): the bits of its bits proof,
    /// plus the branches of its membership proofs; for a ranked or graded question, its
    /// proofs of knowledge, one per answer.
    pub fn proof_size(&self) -> usize {
        if self.is_mixed() {
            return self.answers.len();
        }
        let per_answer = if self.has_range_proofs() {
            self.answers.len() * (self.max_per_answer as usize + 1)
        } else {
            0
        };
        self.bit_count() + per_answer + self.sum_values().map_or(0, |v| v.len())
    }

    fn validate(&self, n: usize) -> Result<(), ElectionError> {
        let what = format!("question {n}");
        check_text(&format!("{what}: text"), &self.text, MAX_TEXT)?;
        if self.answers.is_empty() || self.answers.len() > MAX_ANSWERS {
            return invalid(format!("{what} must have 1 to {MAX_ANSWERS} answers"));
        }
        for (i, a) in self.answers.iter().enumerate() {
            check_text(&format!("{what}: answer {}", i + 1), a, MAX_TEXT)?;
        }
        if self.is_mixed() || self.method.is_some() || self.seats.is_some() || self.grades.is_some()
        {
            return self.validate_mixed(&what);
        }
        if self.max_per_answer == 0 || self.max_per_answer > MAX_PER_ANSWER {
            return invalid(format!(
                "{what}: max_per_answer must be 1 to {MAX_PER_ANSWER}"
            ));
        }
        if self.min > self.max || self.max > self.max_sum() {
            return invalid(format!(
                "{what}: need min <= max <= {} (answers × max_per_answer), got min {} and max {}",
                self.max_sum(),
                self.min,
                self.max
            ));
        }
        if !self.blank && self.max == 0 {
            return invalid(format!(
                "{what}: max is 0 and blank is not allowed: no vote is possible"
            ));
        }
        if let Some(values) = self.sum_values().filter(|v| v.len() > MAX_VALUES) {
            return invalid(format!(
                "{what}: the range min..max holds {} sums, at most {MAX_VALUES} are allowed",
                values.len()
            ));
        }
        Ok(())
    }

    /// §8.2 rule 11: a ranked or graded question (answers already checked).
    fn validate_mixed(&self, what: &str) -> Result<(), ElectionError> {
        let (Some(kind), Some(method)) = (self.kind, self.method) else {
            return invalid(format!(
                "{what}: kind and method go together (kind \"ranked\" with method schulze, stv or irv; kind \"grades\" with method majority-judgment)"
            ));
        };
        if method.kind() != kind {
            return invalid(format!(
                "{what}: method {} does not count a question of this kind",
                method.name()
            ));
        }
        if self.min != 0 || self.max != 0 || self.max_per_answer != 1 || self.blank {
            return invalid(format!(
                "{what}: a ranked or graded question takes no min, max, max_per_answer or blank"
            ));
        }
        match (method, self.seats) {
            (Method::Stv, Some(seats)) => {
                if seats == 0 || seats >= self.answers.len() as u64 {
                    return invalid(format!(
                        "{what}: {seats} seats for {} candidates: seats must be at least 1 and fewer than the candidates",
                        self.answers.len()
                    ));
                }
            }
            (Method::Stv, None) => return invalid(format!("{what}: stv needs a number of seats")),
            (_, Some(_)) => {
                return invalid(format!("{what}: only an stv count takes a number of seats"));
            }
            (_, None) => {}
        }
        match (kind, &self.grades) {
            (QuestionKind::Grades, Some(grades)) => {
                if grades.len() < 2 || grades.len() > MAX_GRADES {
                    return invalid(format!(
                        "{what}: a scale has 2 to {MAX_GRADES} grades, found {}",
                        grades.len()
                    ));
                }
                for (i, g) in grades.iter().enumerate() {
                    check_text(&format!("{what}: grade {}", i + 1), g, MAX_TEXT)?;
                }
                Ok(())
            }
            (QuestionKind::Grades, None) => invalid(format!(
                "{what}: a graded question needs its grades, best first"
            )),
            (QuestionKind::Ranked, Some(_)) => {
                invalid(format!("{what}: only a graded question has grades"))
            }
            (QuestionKind::Ranked, None) => Ok(()),
        }
    }
}

impl ElectionDefinition {
    /// Checks every rule and bound of §8.
    pub fn validate(&self) -> Result<(), ElectionError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return invalid("election id must be 1 to 64 characters among A-Z a-z 0-9 - _");
        }
        check_text("title", &self.title, MAX_TEXT)?;
        self.check_format_characters()?;
        if self.description.chars().count() > MAX_DESCRIPTION {
            return invalid(format!(
                "description longer than {MAX_DESCRIPTION} characters"
            ));
        }
        if self.trustees.is_empty() || self.trustees.len() > MAX_TRUSTEES as usize {
            return invalid(format!("an election needs 1 to {MAX_TRUSTEES} trustees"));
        }
        for (i, t) in self.trustees.iter().enumerate() {
            check_text(&format!("trustee {}", i + 1), &t.name, MAX_TEXT)?;
        }
        check_text("credential authority", &self.authority.name, MAX_TEXT)?;
        self.check_role_keys()?;
        if self.monitors.len() > MAX_MONITORS {
            return invalid(format!("at most {MAX_MONITORS} monitors can be named"));
        }
        for m in &self.monitors {
            check_monitor_url(m)?;
        }
        self.dkg_parameters()?;
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            return invalid(format!("an election needs 1 to {MAX_QUESTIONS} questions"));
        }
        let mut size = 0usize;
        for (n, q) in self.questions.iter().enumerate() {
            q.validate(n + 1)?;
            size += q.proof_size();
        }
        if size > MAX_PROOF_SIZE_PER_BALLOT {
            return invalid(format!(
                "a ballot's proofs would have size {size} (bits plus branches), at most {MAX_PROOF_SIZE_PER_BALLOT} is allowed"
            ));
        }
        Ok(())
    }

    /// No title, name, question or answer holds a format character (§8.2 rule 10): the
    /// error names the text and the character (check E2).
    pub fn check_format_characters(&self) -> Result<(), ElectionError> {
        let mut texts: Vec<(String, &str)> = vec![("the title".into(), &self.title)];
        for (i, t) in self.trustees.iter().enumerate() {
            texts.push((format!("the name of trustee {}", i + 1), &t.name));
        }
        texts.push((
            "the credential authority's name".into(),
            &self.authority.name,
        ));
        for (q, question) in self.questions.iter().enumerate() {
            texts.push((format!("question {}", q + 1), &question.text));
            for (a, answer) in question.answers.iter().enumerate() {
                texts.push((format!("answer {} of question {}", a + 1, q + 1), answer));
            }
            for (g, grade) in question.grades.iter().flatten().enumerate() {
                texts.push((format!("grade {} of question {}", g + 1, q + 1), grade));
            }
        }
        for (what, text) in texts {
            if let Some((c, name)) = format_character(text) {
                return invalid(format!(
                    "{what} contains U+{:04X} {name}, an invisible or direction-changing \
                     character: remove it (texts that look alike must be alike)",
                    u32::from(c)
                ));
            }
        }
        Ok(())
    }

    /// Every role key is a valid point other than the identity, and no key serves two roles
    /// or two trustees (§8.2 rule 8).
    fn check_role_keys(&self) -> Result<(), ElectionError> {
        let mut seen: Vec<(&Point, String)> = Vec::new();
        let named = self
            .trustees
            .iter()
            .enumerate()
            .map(|(i, t)| (&t.key, format!("trustee {} ({})", i + 1, t.name)))
            .chain(std::iter::once((
                &self.authority.key,
                format!("the credential authority ({})", self.authority.name),
            )))
            .chain(self.board_key.iter().map(|k| (k, "the board".to_owned())));
        for (key, who) in named {
            if key.is_identity() {
                return invalid(format!("the key of {who} is the neutral element"));
            }
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                return invalid(format!(
                    "{first} and {who} have the same key {}: every role needs a key of its own",
                    fingerprint(key)
                ));
            }
            seen.push((key, who));
        }
        Ok(())
    }

    /// The number (from 1) of the trustee whose role key is `key`.
    pub fn trustee_with_key(&self, key: &Point) -> Option<u32> {
        self.trustees
            .iter()
            .position(|t| t.key == *key)
            .map(|i| i as u32 + 1)
    }

    /// The role key of trustee `index` (from 1).
    pub fn trustee_key(&self, index: u32) -> Option<&Point> {
        (index as usize)
            .checked_sub(1)
            .and_then(|i| self.trustees.get(i))
            .map(|t| &t.key)
    }

    /// The key-generation parameters `(n, k)`.
    pub fn dkg_parameters(&self) -> Result<DkgParameters, ElectionError> {
        Ok(DkgParameters::new(
            self.trustees.len() as u32,
            self.threshold,
        )?)
    }

    /// §9.3 rule 6: with ranked or graded questions, every unit of weight is one row, and
    /// the `result` holds every decrypted row in one line of at most 16 MiB; so
    /// `W × Σ (A + 22)` over those questions (`A` answers each) is at most
    /// [`MAX_MIXED_ENTRIES`], `W` being the total weight of the list.
    pub fn check_mix_weight(&self, total_weight: u64) -> Result<(), ElectionError> {
        let per_row: u64 = self
            .questions
            .iter()
            .filter(|q| q.is_mixed())
            .map(|q| mixed_row_entries(q.answers.len() as u64))
            .sum();
        if total_weight.saturating_mul(per_row) > MAX_MIXED_ENTRIES {
            return invalid(format!(
                "a total weight of {total_weight} makes {total_weight} rows to decrypt for the ranked and graded questions; \
                 with their answers (plus 22 each) that is {} entries, and the result holds at most {MAX_MIXED_ENTRIES} in its record line",
                total_weight.saturating_mul(per_row)
            ));
        }
        Ok(())
    }

    /// The largest value one answer's tally can reach per unit of voter weight.
    pub fn max_per_answer(&self) -> u64 {
        self.questions
            .iter()
            .map(|q| q.max_per_answer)
            .max()
            .unwrap_or(1)
    }
}

impl ElectionDescription {
    /// Parses the administrator's TOML description.
    pub fn from_toml(text: &str) -> Result<Self, ElectionError> {
        if text.len() > 1 << 20 {
            return invalid("election description larger than 1 MiB");
        }
        Ok(toml::from_str(text)?)
    }

    /// The validated definition, with a random id if none was given.
    pub fn into_definition<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
    ) -> Result<ElectionDefinition, ElectionError> {
        let id = match self.id {
            Some(id) => id,
            None => {
                let mut b = [0u8; 12];
                rng.fill_bytes(&mut b);
                hex::encode(b)
            }
        };
        let def = ElectionDefinition {
            id,
            title: self.title,
            description: self.description,
            trustees: self
                .trustees
                .into_iter()
                .enumerate()
                .map(|(i, t)| t.holder(&format!("trustee {}", i + 1)))
                .collect::<Result<_, _>>()?,
            threshold: self.threshold,
            authority: self.authority.holder("the credential authority")?,
            board_key: None,
            monitors: self.monitors,
            questions: self.questions,
        };
        def.validate()?;
        Ok(def)
    }
}

/// What a voter chose on one question: a value per answer, or blank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QuestionChoice {
    /// The string `"blank"`.
    Blank(BlankWord),
    /// One value per answer.
    Values(Vec<u64>),
}

/// The word `blank` in a choices file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlankWord {
    Blank,
}

impl QuestionChoice {
    /// A blank vote.
    pub fn blank() -> Self {
        QuestionChoice::Blank(BlankWord::Blank)
    }

    /// The values encrypted for a question of `answers` answers, and the blank indicator:
    /// a blank vote encrypts 0 for every answer (§10.1).
    pub fn plaintexts(&self, answers: usize) -> (Vec<u64>, bool) {
        match self {
            QuestionChoice::Blank(_) => (vec![0; answers], true),
            QuestionChoice::Values(v) => (v.clone(), false),
        }
    }

    /// Checks the choice against the question's rules (before anything is encrypted).
    pub fn validate(&self, q: &Question, n: usize) -> Result<(), ElectionError> {
        match self {
            QuestionChoice::Blank(_) if q.blank => Ok(()),
            QuestionChoice::Blank(_) => {
                invalid(format!("question {n} does not allow a blank vote"))
            }
            QuestionChoice::Values(v) if q.is_mixed() => validate_mixed_choice(v, q, n),
            QuestionChoice::Values(v) => {
                if v.len() != q.answers.len() {
                    return invalid(format!(
                        "question {n} has {} answers but {} values were given",
                        q.answers.len(),
                        v.len()
                    ));
                }
                if let Some(bad) = v.iter().find(|x| **x > q.max_per_answer) {
                    return invalid(format!(
                        "question {n}: value {bad} is above the maximum of {} per answer",
                        q.max_per_answer
                    ));
                }
                let sum: u64 = v.iter().sum();
                if sum < q.min || sum > q.max {
                    return invalid(format!(
                        "question {n}: the values add up to {sum}, they must add up to {} to {}",
                        q.min, q.max
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Checks the values of a ranked or graded question (§8.5): one per answer, a valid
/// ranking for the method (ranks `1 … k` without gap, 0 for unranked, equal ranks only
/// for Schulze) or a grade index of the scale. The booth encrypts nothing else, so an
/// honest ballot is never counted as invalid.
fn validate_mixed_choice(v: &[u64], q: &Question, n: usize) -> Result<(), ElectionError> {
    use crate::count::{Ties, validate_graded, validate_ranked};
    let fault = match q.kind {
        Some(QuestionKind::Grades) => {
            let scale = q.grades.as_ref().map_or(0, Vec::len);
            let grades: Vec<u32> = v
                .iter()
                .map(|g| u32::try_from(*g).unwrap_or(u32::MAX))
                .collect();
            // Grade index 0 is the best; the count's grade 0 is the worst.
            validate_graded(&grades, q.answers.len(), scale as u32).err()
        }
        _ => {
            let ties = if q.method == Some(Method::Schulze) {
                Ties::Allowed
            } else {
                Ties::Forbidden
            };
            let ranks: Vec<Option<u32>> = v
                .iter()
                .map(|r| (*r > 0).then(|| u32::try_from(*r).unwrap_or(u32::MAX)))
                .collect();
            validate_ranked(&ranks, q.answers.len(), ties).err()
        }
    };
    match fault {
        None => Ok(()),
        Some(fault) => invalid(format!(
            "question {n}: not a valid ballot for {}: {}",
            q.method.map_or("this question", Method::name),
            serde_json::to_string(&fault).unwrap_or_default()
        )),
    }
}

/// Checks a whole set of choices against the definition.
pub fn validate_choices(
    def: &ElectionDefinition,
    choices: &[QuestionChoice],
) -> Result<(), ElectionError> {
    if choices.len() != def.questions.len() {
        return invalid(format!(
            "the election has {} questions but {} answers were given",
            def.questions.len(),
            choices.len()
        ));
    }
    for (n, (c, q)) in choices.iter().zip(&def.questions).enumerate() {
        c.validate(q, n + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutin_crypto::rng::SeededRng;

    const BASE: &str = r#"
title = "Board election"
threshold = 2

[[question]]
text = "Who?"
answers = ["A", "B", "C"]
min = 1
max = 1
blank = true

[[question]]
text = "Approve"
answers = ["x", "y"]
min = 0
max = 2
"#;

    /// The description above with three trustees and an authority named with their keys.
    fn toml() -> String {
        let (trustees, authority) =
            crate::demo::role_keys(&["Alice", "Bob", "Carol"], b"definition tests");
        format!("{BASE}{}", crate::demo::roles_toml(&trustees, &authority))
    }

    #[test]
    fn parses_and_validates() {
        let text = toml();
        let d = ElectionDescription::from_toml(&text).unwrap();
        let def = d.into_definition(&mut SeededRng::new(b"id")).unwrap();
        assert_eq!(def.questions[0].sum_values(), Some(vec![1, 4]));
        assert_eq!(def.questions[1].sum_values(), None);
        assert!(
            validate_choices(
                &def,
                &[
                    QuestionChoice::Values(vec![0, 1, 0]),
                    QuestionChoice::Values(vec![1, 1])
                ]
            )
            .is_ok()
        );
        assert!(
            validate_choices(
                &def,
                &[QuestionChoice::blank(), QuestionChoice::Values(vec![0, 0])]
            )
            .is_ok()
        );
        assert!(
            validate_choices(
                &def,
                &[
                    QuestionChoice::Values(vec![1, 1, 0]),
                    QuestionChoice::Values(vec![1, 1])
                ]
            )
            .is_err()
        );
        assert!(
            validate_choices(
                &def,
                &[
                    QuestionChoice::Values(vec![0, 2, 0]),
                    QuestionChoice::Values(vec![1, 1])
                ]
            )
            .is_err()
        );
        assert!(
            validate_choices(
                &def,
                &[
                    QuestionChoice::Values(vec![0, 1, 0]),
                    QuestionChoice::blank()
                ]
            )
            .is_err()
        );
        let parsed: Vec<QuestionChoice> = serde_json::from_str(r#"[[0,1,0],"blank"]"#).unwrap();
        assert_eq!(parsed[1], QuestionChoice::blank());
    }

    #[test]
    fn role_keys_must_be_named_valid_and_distinct() {
        let mut rng = SeededRng::new(b"id");
        let text = toml();
        let def = ElectionDescription::from_toml(&text)
            .and_then(|d| d.into_definition(&mut rng))
            .unwrap();
        assert_eq!(def.trustee_with_key(&def.trustees[1].key), Some(2));
        assert_eq!(def.trustee_with_key(&def.authority.key), None);
        assert_eq!(def.trustee_key(3), Some(&def.trustees[2].key));
        assert_eq!(def.trustee_key(0), None);
        let mut same = def.clone();
        same.trustees[2].key = same.trustees[0].key;
        let e = same.validate().unwrap_err().to_string();
        assert!(
            e.contains("trustee 1 (Alice) and trustee 3 (Carol) have the same key"),
            "{e}"
        );
        let mut same = def.clone();
        same.authority.key = same.trustees[1].key;
        assert!(same.validate().is_err());
        let mut same = def.clone();
        same.board_key = Some(same.authority.key);
        assert!(same.validate().is_err());
        let mut zero = def.clone();
        zero.trustees[0].key = Point::identity();
        assert!(zero.validate().is_err());
        let mut monitors = def.clone();
        monitors.monitors = vec!["https://monitor.example.org".into()];
        assert!(monitors.validate().is_ok());
        for bad in [
            "ftp://x.org",
            "https://",
            "https://a b",
            "javascript:alert(1)",
        ] {
            monitors.monitors = vec![bad.into()];
            assert!(monitors.validate().is_err(), "accepted {bad}");
        }
        monitors.monitors = vec!["https://m.example.org".into(); MAX_MONITORS + 1];
        assert!(monitors.validate().is_err());
        // A description without keys is refused: nobody but the trustees may make them.
        let unkeyed = format!("{BASE}trustees = [\"Alice\"]\n");
        assert!(ElectionDescription::from_toml(&unkeyed).is_err());
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused() {
        let mut rng = SeededRng::new(b"id");
        let text = toml();
        let def = ElectionDescription::from_toml(&text)
            .and_then(|d| d.into_definition(&mut rng))
            .unwrap();
        for (c, name) in [
            ('\u{200B}', "200B ZERO WIDTH SPACE"),
            ('\u{202E}', "202E RIGHT-TO-LEFT OVERRIDE"),
            ('\u{FEFF}', "FEFF ZERO WIDTH NO-BREAK SPACE"),
            ('\u{00AD}', "00AD SOFT HYPHEN"),
            ('\u{2066}', "2066 LEFT-TO-RIGHT ISOLATE"),
            ('\u{E0041}', "E0041 TAG LATIN CAPITAL LETTER A"),
            (
                '\u{1343F}',
                "1343F EGYPTIAN HIEROGLYPH END WALLED ENCLOSURE",
            ),
        ] {
            let mut d = def.clone();
            d.questions[0].answers[1] = format!("A{c}");
            let e = d.validate().unwrap_err().to_string();
            assert!(
                e.contains(&format!("answer 2 of question 1 contains U+{name},")),
                "{e}"
            );
            let mut d = def.clone();
            d.title = format!("{c}esialB");
            assert!(d.check_format_characters().is_err());
            let mut d = def.clone();
            d.trustees[0].name = format!("Alice{c}");
            assert!(d.validate().is_err());
        }
        // The table is in increasing order (it is searched by bisection).
        assert!(FORMAT_CHARACTERS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(FORMAT_CHARACTERS.len(), 170);
        // Letters of every script, and emoji, are fine.
        let mut d = def.clone();
        d.questions[0].answers[0] = "Zoë, 李, عربي, 🗳".into();
        assert!(d.validate().is_ok());
    }

    #[test]
    fn hostile_sizes_are_refused_with_a_message() {
        let mut rng = SeededRng::new(b"id");
        let toml = toml();
        let toml = toml.as_str();
        for bad in [
            toml.replace("max = 1\n", "max = 2147483647\n"),
            toml.replace("threshold = 2", "threshold = 4"),
            toml.replace("threshold = 2", "threshold = 0"),
            toml.replace("min = 1", "min = 2"),
            toml.replace("title = \"Board election\"", "title = \"\""),
            toml.replace(
                "answers = [\"x\", \"y\"]",
                &format!("answers = [{}]", vec!["\"a\""; 101].join(",")),
            ),
            toml.replace("blank = true", "blank = true\nmax_per_answer = 100000"),
            toml.replace("threshold = 2", "unknown = 1\nthreshold = 2"),
        ] {
            let r = ElectionDescription::from_toml(&bad).and_then(|d| d.into_definition(&mut rng));
            assert!(r.is_err(), "accepted: {bad}");
        }
        assert!(ElectionDescription::from_toml("title = ").is_err());
        let mut many = String::from(toml);
        for _ in 0..60 {
            many.push_str("\n[[question]]\ntext = \"q\"\nanswers = [\"a\"]\nmin = 0\nmax = 1\n");
        }
        let r = ElectionDescription::from_toml(&many).and_then(|d| d.into_definition(&mut rng));
        assert!(r.is_err());
    }
}
