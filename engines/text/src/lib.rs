//! Text as a network reads it: word tokens, their count per text, and a vocabulary that maps
//! words to ids.
//!
//! - **Words**: maximal runs of alphanumeric characters (Unicode), lower-cased; everything
//!   else separates words. `"Don't panic!"` → `don`, `t`, `panic` (as Keras'
//!   `TextVectorization` with its default punctuation stripping reads it).
//! - **Ids**: `0` pads, `1` is any word outside the vocabulary, and `2..size` are the
//!   vocabulary's words, most frequent first (ties in alphabetical order, so a vocabulary is
//!   the same for the same texts in any order).
//! - **Sequences** keep a text's first `max_length` words and pad the rest with `0`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The padding id.
pub const PAD: u32 = 0;
/// The id of a word outside the vocabulary.
pub const OOV: u32 = 1;
/// Ids reserved before the first word.
pub const RESERVED: usize = 2;
/// The longest sequence a network may read.
pub const MAX_LENGTH: usize = 4096;
/// The default `max_length`: this percentile of the texts' word counts.
pub const LENGTH_PERCENTILE: f64 = 95.0;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TextError {
    #[error("a vocabulary needs room for at least one word after the padding and out-of-vocabulary ids: size {0} is below 3")]
    TooSmall(usize),
    #[error("no text has a word: every text is empty or punctuation only")]
    NoWords,
    #[error("max_length {0} is outside 1..={MAX_LENGTH}")]
    Length(usize),
}

/// The words of `text`, lower-cased.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// How many words a text has.
pub fn word_count(text: &str) -> usize {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .count()
}

/// Word counts over a column of texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthStats {
    pub texts: u64,
    /// Mean words per text.
    pub mean: f64,
    /// The 95th percentile of words per text (nearest rank), at least 1: the default
    /// `max_length`.
    pub p95: usize,
    pub max: usize,
}

impl LengthStats {
    pub fn of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Option<LengthStats> {
        let mut counts: Vec<usize> = texts.into_iter().map(word_count).collect();
        if counts.is_empty() {
            return None;
        }
        counts.sort_unstable();
        let n = counts.len();
        let total: usize = counts.iter().sum();
        Some(LengthStats {
            texts: n as u64,
            mean: total as f64 / n as f64,
            p95: percentile(&counts, LENGTH_PERCENTILE).max(1),
            max: counts[n - 1],
        })
    }
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `p` % of
/// the values at or below it.
fn percentile(sorted: &[usize], p: f64) -> usize {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Words to ids (see the module docs); as JSON, its words in id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct Vocabulary {
    /// The words in id order: `words[i]` has id `i + 2`.
    pub words: Vec<String>,
    ids: HashMap<String, u32>,
}

impl From<Vec<String>> for Vocabulary {
    fn from(words: Vec<String>) -> Vocabulary {
        Vocabulary::from_words(words)
    }
}

impl From<Vocabulary> for Vec<String> {
    fn from(v: Vocabulary) -> Vec<String> {
        v.words
    }
}

impl Vocabulary {
    /// The `size − 2` most frequent words of `texts` (fewer when they have fewer).
    pub fn build<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        size: usize,
    ) -> Result<Vocabulary, TextError> {
        if size <= RESERVED {
            return Err(TextError::TooSmall(size));
        }
        let mut counts: HashMap<String, u64> = HashMap::new();
        for text in texts {
            for w in words(text) {
                *counts.entry(w).or_default() += 1;
            }
        }
        if counts.is_empty() {
            return Err(TextError::NoWords);
        }
        let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(size - RESERVED);
        Ok(Vocabulary::from_words(
            ranked.into_iter().map(|(w, _)| w).collect(),
        ))
    }

    /// A vocabulary from its words in id order (as a model file keeps them).
    pub fn from_words(words: Vec<String>) -> Vocabulary {
        let ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), (i + RESERVED) as u32))
            .collect();
        Vocabulary { words, ids }
    }

    /// Ids in use, the reserved two included.
    pub fn size(&self) -> usize {
        self.words.len() + RESERVED
    }

    pub fn id(&self, word: &str) -> u32 {
        self.ids.get(word).copied().unwrap_or(OOV)
    }

    /// The first `max_length` word ids of `text`, padded with [`PAD`].
    pub fn encode(&self, text: &str, max_length: usize, out: &mut Vec<u32>) {
        let start = out.len();
        out.extend(words(text).take(max_length).map(|w| self.id(&w)));
        out.resize(start + max_length, PAD);
    }

    /// The share of the words of `texts` that the vocabulary knows (1.0 when they have none).
    pub fn coverage<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> f64 {
        let (mut known, mut all) = (0u64, 0u64);
        for text in texts {
            for w in words(text) {
                all += 1;
                known += u64::from(self.ids.contains_key(&w));
            }
        }
        if all == 0 {
            1.0
        } else {
            known as f64 / all as f64
        }
    }
}

/// Checks a requested `max_length`.
pub fn check_length(max_length: usize) -> Result<usize, TextError> {
    if (1..=MAX_LENGTH).contains(&max_length) {
        Ok(max_length)
    } else {
        Err(TextError::Length(max_length))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_alphanumeric_runs() {
        let w: Vec<String> = words("Don't panic!  Größe 42x, naïve—café").collect();
        assert_eq!(
            w,
            ["don", "t", "panic", "größe", "42x", "naïve", "café"].map(String::from)
        );
        assert_eq!(word_count("  ...  "), 0);
        assert_eq!(word_count("a b,c"), 3);
    }

    #[test]
    fn the_vocabulary_ranks_by_frequency_then_alphabet() {
        let texts = ["b a c a", "c a b d", "e"];
        let v = Vocabulary::build(texts, 5).unwrap();
        // a: 3, then b and c with 2 each (alphabetical); d and e dropped at size 5.
        assert_eq!(v.words, ["a", "b", "c"].map(String::from));
        assert_eq!((v.id("a"), v.id("c"), v.id("d")), (2, 4, OOV));
        // The same texts in another order give the same vocabulary.
        let mut reversed = texts;
        reversed.reverse();
        assert_eq!(Vocabulary::build(reversed, 5).unwrap(), v);
        assert_eq!(v.size(), 5);
    }

    #[test]
    fn sequences_are_truncated_and_padded() {
        let v = Vocabulary::build(["one two three"], 10).unwrap();
        let mut out = Vec::new();
        v.encode("Three, one; zero", 5, &mut out);
        assert_eq!(out, [v.id("three"), v.id("one"), OOV, PAD, PAD]);
        v.encode("one one one one one one", 2, &mut out);
        assert_eq!(&out[5..], [v.id("one"), v.id("one")]);
        assert!((v.coverage(["one zero"]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn length_statistics_use_the_nearest_rank() {
        // Word counts 1..=20: the 95th percentile by nearest rank is the 19th value.
        let texts: Vec<String> = (1..=20).map(|n| vec!["w"; n].join(" ")).collect();
        let s = LengthStats::of(texts.iter().map(String::as_str)).unwrap();
        assert_eq!((s.p95, s.max, s.texts), (19, 20, 20));
        assert!((s.mean - 10.5).abs() < 1e-12);
        assert_eq!(LengthStats::of(["", "!"]).unwrap().p95, 1);
        assert!(LengthStats::of(std::iter::empty()).is_none());
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert_eq!(
            Vocabulary::build(["a"], 2).unwrap_err(),
            TextError::TooSmall(2)
        );
        assert_eq!(
            Vocabulary::build(["?!"], 10).unwrap_err(),
            TextError::NoWords
        );
        assert_eq!(check_length(0), Err(TextError::Length(0)));
        assert_eq!(check_length(64), Ok(64));
    }

    #[test]
    fn a_vocabulary_survives_json() {
        let v = Vocabulary::build(["x y y"], 10).unwrap();
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"["y","x"]"#);
        // Ids are rebuilt from the word order.
        let back: Vocabulary = serde_json::from_str(&json).unwrap();
        assert_eq!((back.id("y"), back.id("x")), (v.id("y"), v.id("x")));
    }
}
