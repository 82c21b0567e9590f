//! The lexer of billing language: money in its many spellings ("$5", "5 dollars", "USD 5",
//! "35 cents", "€8"), numbers in digits or words, percentages, ordinals, weekdays, words and
//! punctuation. Amounts are exact decimals from the start.

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::money::Currency;

/// The currency an amount was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// "$": any dollar currency (USD, CAD, AUD, ...): taken as the plan's when it is one.
    Dollar,
    /// A currency named by symbol, code or word.
    Named(Currency),
    /// "cents": hundredths of the plan's currency, when it has them.
    Cents,
    /// "pence", "50p": hundredths of a pound sterling.
    Pence,
    /// No currency written ("plus 0.15 per shipment"): the plan's, as the conventions say.
    Plan,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Money(Decimal, Mark),
    Number(Decimal),
    Percent(Decimal),
    Ordinal(u32),
    Weekday(usize),
    Word(String),
    Sym(char),
}

/// A token and the text it came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub text: String,
}

impl Token {
    pub fn word(&self) -> Option<&str> {
        match &self.kind {
            Kind::Word(w) => Some(w),
            _ => None,
        }
    }
    pub fn is_word(&self, w: &str) -> bool {
        self.word() == Some(w)
    }
    pub fn is_sym(&self, c: char) -> bool {
        self.kind == Kind::Sym(c)
    }
}

/// Raw pieces before numbers, money and words are combined.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Num(String),
    Word(String),
    Sym(char),
}

fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("built-in currency code")
}

fn pounds() -> Mark {
    Mark::Named(currency("GBP"))
}

fn symbol_currency(c: char) -> Option<Mark> {
    match c {
        '$' => Some(Mark::Dollar),
        '€' => Some(Mark::Named(currency("EUR"))),
        '£' => Some(Mark::Named(currency("GBP"))),
        '¥' => Some(Mark::Named(currency("JPY"))),
        '¢' => Some(Mark::Cents),
        _ => None,
    }
}

/// Words and codes that name a currency after or before a number.
pub(crate) fn word_currency(word: &str) -> Option<Mark> {
    Some(match word {
        "dollar" | "dollars" | "buck" | "bucks" => Mark::Dollar,
        "cent" | "cents" | "ct" | "cts" => Mark::Cents,
        "pence" | "penny" | "pennies" => Mark::Pence,
        "euro" | "euros" => Mark::Named(currency("EUR")),
        "yen" => Mark::Named(currency("JPY")),
        "pound" | "pounds" | "quid" => Mark::Named(currency("GBP")),
        _ if word.len() == 3 && word.chars().all(|c| c.is_ascii_alphabetic()) => {
            // Only the codes people write in plan prompts; "and", "per" etc. must stay words.
            const CODES: [&str; 12] = [
                "usd", "eur", "gbp", "cad", "aud", "jpy", "nzd", "chf", "sek", "nok", "dkk", "inr",
            ];
            if CODES.contains(&word) {
                Mark::Named(Currency::parse(word).ok()?)
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

fn number_word(word: &str) -> Option<u32> {
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    if let Some(n) = SMALL.iter().position(|w| *w == word) {
        return Some(n as u32);
    }
    TENS.iter()
        .position(|w| *w == word)
        .map(|n| (n as u32 + 2) * 10)
}

fn ordinal_word(word: &str) -> Option<u32> {
    const ORD: [&str; 12] = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth", "eleventh", "twelfth",
    ];
    if let Some(n) = ORD.iter().position(|w| *w == word) {
        return Some(n as u32 + 1);
    }
    // 1st, 2nd, 3rd, 4th ...
    let digits: String = word.chars().take_while(|c| c.is_ascii_digit()).collect();
    let rest = &word[digits.len()..];
    if !digits.is_empty() && ["st", "nd", "rd", "th"].contains(&rest) {
        return digits.parse().ok();
    }
    None
}

fn weekday(word: &str) -> Option<usize> {
    const DAYS: [[&str; 4]; 7] = [
        ["monday", "mondays", "mon", "mon"],
        ["tuesday", "tuesdays", "tue", "tues"],
        ["wednesday", "wednesdays", "wed", "weds"],
        ["thursday", "thursdays", "thu", "thurs"],
        ["friday", "fridays", "fri", "fri"],
        ["saturday", "saturdays", "sat", "sat"],
        ["sunday", "sundays", "sun", "sun"],
    ];
    DAYS.iter()
        .position(|names| names.contains(&word) || (word == "thur" && names[0] == "thursday"))
}

/// A minor unit glued to digits ("25c", "35ct", "50p"), as the word the lexer knows.
fn glued_minor_unit(suffix: &str) -> Option<&'static str> {
    match suffix {
        "c" | "ct" | "cts" => Some("cents"),
        "p" => Some("pence"),
        _ => None,
    }
}

/// Whether the comma at `at` in the number starting at `start` is a decimal comma: exactly two
/// digits follow it, and a euro sign, code or word is right before the number or right after it
/// ("1,50 €", "€2,50", "2,50 EUR"). Elsewhere a comma with two digits stays ambiguous (refused).
fn decimal_comma(chars: &[char], start: usize, at: usize) -> bool {
    let two_digits = chars
        .get(at + 1..at + 3)
        .is_some_and(|g| g.iter().all(char::is_ascii_digit))
        && !chars.get(at + 3).is_some_and(char::is_ascii_digit);
    if !two_digits {
        return false;
    }
    let before: String = chars[..start].iter().rev().take(4).collect();
    let euro_before = before.trim_start().starts_with('€');
    let after: String = chars[at + 3..]
        .iter()
        .take(8)
        .collect::<String>()
        .trim_start()
        .to_lowercase();
    let euro_after = after.starts_with('€')
        || ["eur", "euro", "euros", "ct"].iter().any(|w| {
            after
                .strip_prefix(w)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphabetic()))
        });
    euro_before || euro_after
}

fn split_raw(text: &str) -> Result<Vec<(Raw, String)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            // 1,200.50 | 0.75 | .5 | 3rd
            let start = i;
            let mut s = String::new();
            while i < chars.len() {
                let ch = chars[i];
                if ch.is_ascii_digit() {
                    s.push(ch);
                } else if ch == ','
                    && chars
                        .get(i + 1..i + 4)
                        .is_some_and(|g| g.iter().all(char::is_ascii_digit))
                    && !chars.get(i + 4).is_some_and(char::is_ascii_digit)
                {
                    // thousands separator
                } else if ch == ',' && !s.contains('.') && decimal_comma(&chars, start, i) {
                    // "1,50 €", "€2,50": a decimal comma, only beside a euro amount
                    s.push('.');
                } else if ch == ','
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                    && !s.contains('.')
                {
                    // "$1,50", "1,5": a decimal comma or a misplaced thousands separator?
                    let glued: String = chars[start..]
                        .iter()
                        .take_while(|c| c.is_ascii_digit() || **c == ',' || **c == '.')
                        .collect();
                    return Err(Error::not_understood(format!(
                        "the number {glued} is ambiguous: write a decimal point (1.50) or thousands with three digits (1,500)"
                    )));
                } else if ch == '.'
                    && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())
                    && !s.contains('.')
                {
                    s.push('.');
                } else {
                    break;
                }
                i += 1;
            }
            // ordinal suffix glued to digits: 3rd, 12th
            let suffix: String = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let lower = suffix.to_lowercase();
            if ["st", "nd", "rd", "th"].contains(&lower.as_str()) {
                i += suffix.chars().count();
                let original: String = chars[start..i].iter().collect();
                out.push((Raw::Word(format!("{s}{lower}")), original));
            } else if let Some(unit) = glued_minor_unit(&lower) {
                // "25c", "35ct", "50p": a minor unit written right after the digits
                let original: String = chars[start..i].iter().collect();
                out.push((Raw::Num(s), original));
                i += suffix.chars().count();
                out.push((Raw::Word(unit.into()), suffix));
            } else {
                let original: String = chars[start..i].iter().collect();
                out.push((Raw::Num(s), original));
            }
        } else if c.is_alphabetic() {
            let start = i;
            let mut s = String::new();
            while i < chars.len()
                && (chars[i].is_alphabetic() || chars[i] == '\'' || chars[i] == '’')
            {
                s.push(chars[i]);
                i += 1;
            }
            let original: String = chars[start..i].iter().collect();
            let lower = s.to_lowercase().replace('’', "'");
            // don't -> do not, isn't -> is not, month's -> month
            if let Some(stem) = lower.strip_suffix("n't") {
                let stem = match stem {
                    "wo" => "will",
                    "ca" => "can",
                    s => s,
                };
                out.push((Raw::Word(stem.to_string()), original.clone()));
                out.push((Raw::Word("not".into()), original));
            } else if let Some(stem) = lower
                .strip_suffix("'s")
                .or_else(|| lower.strip_suffix('\''))
            {
                out.push((Raw::Word(stem.to_string()), original));
            } else if lower.contains('\'') {
                return Err(Error::not_understood(format!(
                    "the word {original:?} could not be read"
                )));
            } else {
                out.push((Raw::Word(lower), original));
            }
        } else {
            // The hyphen-minus, the en dash and the non-breaking hyphen are one symbol: a minus sign
            // before an amount, a range between numbers or weekdays, a hyphen between words. The em
            // dash is prose punctuation, read like a colon; the ampersand is "and", "@" is "at".
            let sym = match c {
                '–' | '‑' | '−' => '-',
                c => c,
            };
            // "+" between words or amounts is "plus"; right after digits ("101+") it is "and above"
            let after_digits = i > 0 && chars[i - 1].is_ascii_digit();
            if c == '&' || c == '@' || (c == '+' && !after_digits) {
                let word = match c {
                    '&' => "and",
                    '+' => "plus",
                    _ => "at",
                };
                out.push((Raw::Word(word.into()), c.to_string()));
                i += 1;
                continue;
            }
            if c.is_control() {
                return Err(Error::not_understood(
                    "the prompt contains control characters",
                ));
            }
            out.push((Raw::Sym(sym), c.to_string()));
            i += 1;
        }
    }
    Ok(out)
}

/// Turns a prompt into tokens.
pub(crate) fn lex(text: &str) -> Result<Vec<Token>> {
    let raw = split_raw(text)?;
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    let number_at = |i: usize| -> Option<(Decimal, usize, String)> {
        // digits, or number words ("twenty five", "twenty-five", "one hundred")
        match raw.get(i) {
            Some((Raw::Num(s), text)) => Some((s.parse().ok()?, i + 1, text.clone())),
            Some((Raw::Word(w), text)) => {
                let mut value = number_word(w)?;
                let mut j = i + 1;
                let mut text = text.clone();
                if value >= 20 && value % 10 == 0 {
                    let unit = match (raw.get(j), raw.get(j + 1)) {
                        (Some((Raw::Sym('-'), _)), Some((Raw::Word(u), t))) => {
                            number_word(u).filter(|n| *n < 10).map(|n| (n, 2, t))
                        }
                        (Some((Raw::Word(u), t)), _) => number_word(u)
                            .filter(|n| (1..10).contains(n))
                            .map(|n| (n, 1, t)),
                        _ => None,
                    };
                    if let Some((n, skip, t)) = unit {
                        value += n;
                        j += skip;
                        text = format!("{text} {t}");
                    }
                }
                if let Some((Raw::Word(w), t)) = raw.get(j)
                    && (w == "hundred" || w == "thousand")
                {
                    value *= if w == "hundred" { 100 } else { 1000 };
                    j += 1;
                    text = format!("{text} {t}");
                }
                Some((Decimal::from(value), j, text))
            }
            _ => None,
        }
    };
    while i < raw.len() {
        let (piece, text) = &raw[i];
        // "a dollar", "one euro": an amount of one, written in words
        if let Raw::Word(w) = piece
            && matches!(w.as_str(), "a" | "an")
            && let Some((Raw::Word(c), t)) = raw.get(i + 1)
            && let Some(mark) = word_currency(c)
            && matches!(
                c.as_str(),
                "dollar" | "euro" | "pound" | "buck" | "cent" | "penny"
            )
        {
            let value = if matches!(mark, Mark::Cents | Mark::Pence) {
                Decimal::new(1, 2)
            } else {
                Decimal::ONE
            };
            tokens.push(Token {
                kind: Kind::Money(value, mark),
                text: format!("{text} {t}"),
            });
            i += 2;
            continue;
        }
        // "ea." is "each": its dot ends no sentence
        if let Raw::Word(w) = piece
            && w == "ea"
            && matches!(raw.get(i + 1), Some((Raw::Sym('.'), _)))
        {
            tokens.push(Token {
                kind: Kind::Word("each".into()),
                text: "ea.".into(),
            });
            i += 2;
            continue;
        }
        // symbol-led money: $5, € 8, US$5
        if let Raw::Sym(c) = piece
            && let Some(mark) = symbol_currency(*c)
            && mark != Mark::Cents
            && let Some((value, next, num_text)) = number_at(i + 1)
        {
            // "US$" written as word "us" then "$"
            let mark = match tokens.last() {
                Some(t) if mark == Mark::Dollar && t.is_word("us") => {
                    tokens.pop();
                    Mark::Named(currency("USD"))
                }
                _ => mark,
            };
            tokens.push(Token {
                kind: Kind::Money(value, mark),
                text: format!("{text}{num_text}"),
            });
            i = next;
            continue;
        }
        // code-led money: USD 5
        if let Raw::Word(w) = piece
            && w.len() == 3
            && let Some(mark @ Mark::Named(_)) = word_currency(w)
            && let Some((value, next, num_text)) = number_at(i + 1)
        {
            tokens.push(Token {
                kind: Kind::Money(value, mark),
                text: format!("{text} {num_text}"),
            });
            i = next;
            continue;
        }
        if let Some((value, next, num_text)) = number_at(i) {
            // number followed by a currency word or symbol, or by percent
            match raw.get(next) {
                Some((Raw::Word(w), t)) if word_currency(w).is_some() => {
                    let mark = word_currency(w).expect("checked");
                    let value = if matches!(mark, Mark::Cents | Mark::Pence) {
                        value / Decimal::ONE_HUNDRED
                    } else {
                        value
                    };
                    tokens.push(Token {
                        kind: Kind::Money(value, mark),
                        text: format!("{num_text} {t}"),
                    });
                    i = next + 1;
                }
                Some((Raw::Sym(c), t))
                    if symbol_currency(*c).is_some()
                        && !matches!(raw.get(next + 1), Some((Raw::Num(_), _))) =>
                {
                    let mark = symbol_currency(*c).expect("checked");
                    let value = if mark == Mark::Cents {
                        value / Decimal::ONE_HUNDRED
                    } else {
                        value
                    };
                    tokens.push(Token {
                        kind: Kind::Money(value, mark),
                        text: format!("{num_text}{t}"),
                    });
                    i = next + 1;
                }
                Some((Raw::Sym('%'), _)) => {
                    tokens.push(Token {
                        kind: Kind::Percent(value),
                        text: format!("{num_text}%"),
                    });
                    i = next + 1;
                }
                Some((Raw::Word(w), t)) if w == "percent" => {
                    tokens.push(Token {
                        kind: Kind::Percent(value),
                        text: format!("{num_text} {t}"),
                    });
                    i = next + 1;
                }
                Some((Raw::Word(w), _))
                    if w == "per"
                        && matches!(raw.get(next + 1), Some((Raw::Word(c), _)) if c == "cent") =>
                {
                    tokens.push(Token {
                        kind: Kind::Percent(value),
                        text: format!("{num_text} per cent"),
                    });
                    i = next + 2;
                }
                _ => {
                    tokens.push(Token {
                        kind: Kind::Number(value),
                        text: num_text,
                    });
                    i = next;
                }
            }
            continue;
        }
        let kind = match piece {
            Raw::Word(w) => {
                if let Some(n) = ordinal_word(w) {
                    Kind::Ordinal(n)
                } else if let Some(d) = weekday(w) {
                    Kind::Weekday(d)
                } else {
                    Kind::Word(w.clone())
                }
            }
            Raw::Sym(c) => Kind::Sym(*c),
            // A numeral `number_at` could not read: more digits than an exact decimal holds.
            Raw::Num(digits) => {
                return Err(Error::not_understood(format!(
                    "the number {digits} is too large to be a price, a count or a period"
                )));
            }
        };
        tokens.push(Token {
            kind,
            text: text.clone(),
        });
        i += 1;
    }
    let tokens = join_minor_units(tokens);
    refuse_signed_amounts(&tokens)?;
    refuse_split_amounts(&tokens)?;
    Ok(tokens)
}

/// Whether an amount's text ends in a currency word ("five dollars", "12 euros", "a dollar"),
/// the spoken form that its cents may follow.
fn said_in_words(t: &Token) -> bool {
    t.text.rsplit(' ').next().is_some_and(|w| {
        w.chars().all(char::is_alphabetic) && word_currency(&w.to_lowercase()).is_some()
    })
}

/// The cents of an amount said in words: "twelve euros fifty" is 12.50, "five dollars and fifty
/// cents" is 5.50, "a dollar twenty-five" is 1.25. Only two-digit cents (10-99) after whole
/// major units said with a currency word, and only where the cents number is not counting
/// something ("five dollars 20 deliveries" stays as written and is refused).
fn join_minor_units(tokens: Vec<Token>) -> Vec<Token> {
    const AFTER_CENTS: &[&str] = &[
        "per",
        "a",
        "an",
        "each",
        "every",
        "for",
        "monthly",
        "weekly",
        "daily",
        "yearly",
        "annually",
        "quarterly",
        "plus",
        "and",
        "then",
        "on",
        "with",
        "until",
        "from",
        "in",
    ];
    // most prompts have no amount followed by a number or by "and": nothing to join
    let joinable = tokens.windows(2).any(|w| {
        matches!(w[0].kind, Kind::Money(..))
            && (matches!(w[1].kind, Kind::Number(_)) || w[1].is_word("and"))
    });
    if !joinable {
        return tokens;
    }
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if let Kind::Money(major, mark) = t.kind
            && major.fract().is_zero()
            && said_in_words(t)
            && matches!(mark, Mark::Dollar | Mark::Named(_))
            && !matches!(mark, Mark::Named(c) if c.exponent() != 2)
        {
            // "fifty" right after, or "and fifty cents"
            let cents = match (tokens.get(i + 1).map(|t| &t.kind), tokens.get(i + 2)) {
                (Some(Kind::Number(n)), next)
                    if next.is_none_or(|t| match &t.kind {
                        Kind::Word(w) => AFTER_CENTS.contains(&w.as_str()),
                        Kind::Sym(_) => true,
                        _ => false,
                    }) =>
                {
                    Some((*n, 2))
                }
                (
                    Some(Kind::Word(and)),
                    Some(Token {
                        kind: Kind::Money(c, minor @ (Mark::Cents | Mark::Pence)),
                        ..
                    }),
                ) if and == "and" && (*minor == Mark::Pence) == (mark == pounds()) => {
                    Some((*c * Decimal::ONE_HUNDRED, 3))
                }
                _ => None,
            };
            if let Some((n, len)) = cents
                && n.fract().is_zero()
                && (Decimal::TEN..Decimal::ONE_HUNDRED).contains(&n)
            {
                let text: Vec<&str> = tokens[i..i + len].iter().map(|t| t.text.as_str()).collect();
                out.push(Token {
                    kind: Kind::Money(major + n / Decimal::ONE_HUNDRED, mark),
                    text: text.join(" "),
                });
                i += len;
                continue;
            }
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

/// "$5 and 50 cents": 5.50, or $5 and a separate price of 50 cents? Said with a currency word
/// ("five dollars and fifty cents") it is one amount; after a symbol it is never guessed, unless
/// a noun of price names the first amount ("a monthly fee of $10 and 25 cents per shipment").
fn refuse_split_amounts(tokens: &[Token]) -> Result<()> {
    for (i, w) in tokens.windows(3).enumerate() {
        let named = i > 0 && tokens[i - 1].is_word("of");
        if !named
            && matches!(w[0].kind, Kind::Money(..))
            && w[1].is_word("and")
            && matches!(w[2].kind, Kind::Money(_, Mark::Cents | Mark::Pence))
        {
            return Err(Error::not_understood(format!(
                "\"{} and {}\" is one amount or two: write the amount with a decimal point, or give each price its own period or unit",
                w[0].text, w[2].text
            )));
        }
    }
    Ok(())
}

/// A minus sign or dash right before an amount ("-$5", "- $5", "-5 USD", "then -$2") is never
/// skipped: the conventions give negative amounts no meaning, so the prompt is refused.
fn refuse_signed_amounts(tokens: &[Token]) -> Result<()> {
    for pair in tokens.windows(2) {
        if pair[0].is_sym('-') && matches!(pair[1].kind, Kind::Money(..) | Kind::Percent(_)) {
            return Err(Error::not_understood(format!(
                "a minus sign or dash before {}: amounts cannot be negative; to lower a price say \"decrease by\", to give money back say \"credit\" or \"% off\"",
                pair[1].text
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_numeral_beyond_an_exact_decimal_is_refused_not_a_panic() {
        let error = lex("Bill $99999999999999999999999999999 per month").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("99999999999999999999999999999 is too large"),
            "{error}"
        );
    }
    use super::*;

    fn kinds(s: &str) -> Vec<Kind> {
        lex(s).unwrap().into_iter().map(|t| t.kind).collect()
    }
    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn money_in_many_spellings() {
        let usd = Mark::Named(currency("USD"));
        assert_eq!(kinds("$5"), vec![Kind::Money(d("5"), Mark::Dollar)]);
        assert_eq!(
            kinds("$1,200.50"),
            vec![Kind::Money(d("1200.50"), Mark::Dollar)]
        );
        assert_eq!(kinds("5 dollars"), vec![Kind::Money(d("5"), Mark::Dollar)]);
        assert_eq!(kinds("USD 5"), vec![Kind::Money(d("5"), usd)]);
        assert_eq!(kinds("5 usd"), vec![Kind::Money(d("5"), usd)]);
        assert_eq!(kinds("35 cents"), vec![Kind::Money(d("0.35"), Mark::Cents)]);
        assert_eq!(kinds("35¢"), vec![Kind::Money(d("0.35"), Mark::Cents)]);
        assert_eq!(
            kinds("€8"),
            vec![Kind::Money(d("8"), Mark::Named(currency("EUR")))]
        );
        assert_eq!(
            kinds("five dollars"),
            vec![Kind::Money(d("5"), Mark::Dollar)]
        );
        assert_eq!(
            kinds("twenty-five euros"),
            vec![Kind::Money(d("25"), Mark::Named(currency("EUR")))]
        );
    }

    #[test]
    fn numbers_percent_ordinals_weekdays() {
        assert_eq!(kinds("20%"), vec![Kind::Percent(d("20"))]);
        assert_eq!(kinds("10 percent"), vec![Kind::Percent(d("10"))]);
        assert_eq!(kinds("3rd"), vec![Kind::Ordinal(3)]);
        assert_eq!(kinds("first"), vec![Kind::Ordinal(1)]);
        assert_eq!(
            kinds("Mon-Fri"),
            vec![Kind::Weekday(0), Kind::Sym('-'), Kind::Weekday(4)]
        );
        assert_eq!(kinds("three"), vec![Kind::Number(d("3"))]);
        assert_eq!(kinds("month's"), vec![Kind::Word("month".into())]);
        assert_eq!(
            kinds("don't"),
            vec![Kind::Word("do".into()), Kind::Word("not".into())]
        );
    }
}
