//! Small text scanners for the free-form fields (`data_sample`, metric strings): numbers with
//! the word that follows them, `32x32x3` dimension patterns, quantities with units.

/// A token of lower-cased free text: a number or an alphabetic word. Punctuation separates
/// tokens and is dropped, except `x`/`×`/`*` between numbers, which become the word "x".
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Num(f64),
    Word(String),
}

/// Splits `text` into number and word tokens.
///
/// Numbers accept thousands separators (`50,000` — a comma followed by exactly three
/// digits), decimals (`0.5`) and a `k`/`m` multiplier suffix when no letter follows it
/// (`60k`, `1.2M`), since sample counts are written that way.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            // A number glued to a preceding word is part of a name ("cifar-10", "resnet50",
            // "top-5"), not a count: it is appended to that word.
            let glued = i > 0
                && (chars[i - 1].is_alphabetic()
                    || (matches!(chars[i - 1], '-' | '_')
                        && i > 1
                        && chars[i - 2].is_alphabetic()));
            if glued {
                if let Some(Token::Word(w)) =
                    out.last_mut().filter(|t| **t != Token::Word("x".into()))
                {
                    while i < chars.len() && chars[i].is_alphanumeric() {
                        w.push(chars[i]);
                        i += 1;
                    }
                    continue;
                }
            }
            let mut digits = String::new();
            while i < chars.len() {
                let c = chars[i];
                if c.is_ascii_digit() {
                    digits.push(c);
                    i += 1;
                } else if c == ','
                    && !digits.is_empty()
                    && !digits.contains('.')
                    && chars
                        .get(i + 1..i + 4)
                        .is_some_and(|d| d.iter().all(|c| c.is_ascii_digit()))
                    && !chars.get(i + 4).is_some_and(|c| c.is_ascii_digit())
                {
                    i += 1;
                } else if c == '.' && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                    digits.push('.');
                    i += 1;
                } else {
                    break;
                }
            }
            let mut value: f64 = digits.parse().unwrap_or(0.0);
            let next_is_letter = |j: usize| chars.get(j).is_some_and(|c| c.is_alphabetic());
            if let Some(&s) = chars.get(i) {
                if (s == 'k' || s == 'm') && !next_is_letter(i + 1) {
                    value *= if s == 'k' { 1e3 } else { 1e6 };
                    i += 1;
                }
            }
            out.push(Token::Num(value));
        } else if c == '×' || c == '*' {
            out.push(Token::Word("x".into()));
            i += 1;
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            i += 1;
        }
    }
    out
}

/// `true` if any word token equals one of `words`.
pub(crate) fn has_word(tokens: &[Token], words: &[&str]) -> bool {
    tokens
        .iter()
        .any(|t| matches!(t, Token::Word(w) if words.contains(&w.as_str())))
}

/// The first `N x M [x C]` pattern (values must be positive integers).
pub(crate) fn find_dims(tokens: &[Token]) -> Option<Vec<usize>> {
    let is_x = |t: Option<&Token>| matches!(t, Some(Token::Word(w)) if w == "x");
    let int = |t: Option<&Token>| match t {
        Some(Token::Num(v)) if *v >= 1.0 && v.fract() == 0.0 && *v <= 1e9 => Some(*v as usize),
        _ => None,
    };
    for i in 0..tokens.len() {
        let (Some(a), true, Some(b)) = (
            int(tokens.get(i)),
            is_x(tokens.get(i + 1)),
            int(tokens.get(i + 2)),
        ) else {
            continue;
        };
        if is_x(tokens.get(i + 3)) {
            if let Some(c) = int(tokens.get(i + 4)) {
                return Some(vec![a, b, c]);
            }
        }
        return Some(vec![a, b]);
    }
    None
}

/// The first number followed by one of `words`, allowing one word from `skip` in between
/// ("50,000 training images"). Only non-negative whole numbers count.
pub(crate) fn number_before(tokens: &[Token], words: &[&str], skip: &[&str]) -> Option<f64> {
    let word_in = |t: Option<&Token>, set: &[&str]| matches!(t, Some(Token::Word(w)) if set.contains(&w.as_str()));
    let is_x = |t: Option<&Token>| matches!(t, Some(Token::Word(w)) if w == "x");
    for i in 0..tokens.len() {
        let Token::Num(v) = tokens[i] else { continue };
        // Part of a "32x32" pattern: a dimension, not a count.
        if v.fract() != 0.0 || is_x(tokens.get(i + 1)) || (i > 0 && is_x(tokens.get(i - 1))) {
            continue;
        }
        if word_in(tokens.get(i + 1), words)
            || (word_in(tokens.get(i + 1), skip) && word_in(tokens.get(i + 2), words))
        {
            return Some(v);
        }
    }
    None
}

/// The first number that follows one of `words` ("sequence length 200", "maxlen=200").
pub(crate) fn number_after(tokens: &[Token], words: &[&str]) -> Option<f64> {
    for i in 0..tokens.len().saturating_sub(1) {
        if let (Token::Word(w), Token::Num(v)) = (&tokens[i], &tokens[i + 1]) {
            if words.contains(&w.as_str()) && v.fract() == 0.0 {
                return Some(*v);
            }
        }
    }
    None
}

/// A leading number and the (lower-cased, trimmed) rest: `"12ms"` → `(12.0, "ms")`,
/// `"85 %"` → `(85.0, "%")`. `None` if the string does not start with a number.
pub(crate) fn quantity(s: &str) -> Option<(f64, String)> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || ((c == '-' || c == '+') && i == 0)
                || ((c == 'e' || c == 'E')
                    && s[i + 1..]
                        .chars()
                        .next()
                        .is_some_and(|n| n.is_ascii_digit() || n == '-' || n == '+')
                    && s[..i].chars().any(|d| d.is_ascii_digit())))
        })
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let value: f64 = s[..end].parse().ok()?;
    value
        .is_finite()
        .then(|| (value, s[end..].trim().to_lowercase()))
}

/// Normalizes a key or type name: lower case, `-` and spaces become `_`.
pub(crate) fn normalize_key(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}
