//! The builtin schema designer, used when no LLM provider is configured: deterministic keyword
//! rules that turn a model description (and a description of the existing data) into a
//! [`DataSchema`] a classifier can learn from.
//!
//! Rules, in order:
//! 1. **Target.** "N classes" / "N-class" (N ≥ 3, digits or a number word) → `label` with classes
//!    `0`…`N−1`, equal weights; "multiclass"/"multi-class" without N → 3 classes. Otherwise a binary
//!    target named by domain with a realistic natural rate: fraud → `is_fraudulent` (3%), spam →
//!    `is_spam` (30%), churn → `churned` (20%), loan/credit default → `is_default` (10%),
//!    anomaly/intrusion → `is_anomaly` (5%), anything else → `label` (50%). Binary classes are
//!    `["0", "1"]`.
//! 2. **Feature names.** From the existing-data text, else the description: the list after
//!    `features:`/`columns:`/`fields:`/`attributes:`/`variables:`/`including`, or between `with` and
//!    `features`/`fields`/`columns`/`attributes`/`variables`; items split on commas, `and`, `&`,
//!    `;`, `/`; snake_cased; at most 50. With none found, domain defaults (fraud: amount, merchant,
//!    time, location; spam: subject, body, sender; churn: tenure, monthly charges, support calls,
//!    contract; default: income, loan amount, credit score, age; else four generic features).
//! 3. **Feature kinds**, by keyword in the name (`FEATURE_RULES`, first match wins): text
//!    fields become tabular features (subject/title → `<name>_length`; body/message/text/content → `<name>_length` plus
//!    `num_links`; sender/from/email → `<name>_domain_type`; url/link → `num_links`);
//!    `is_`/`has_`/flag → boolean; date/timestamp/created/`_at` → datetime over the last year;
//!    time/hour → `time_of_day` integer hour 0–23; amount/price/income/balance/salary/cost/… →
//!    lognormal money (min 0.01, 2 decimals); age → integer 18–90; count/number/num_/… → integer
//!    count; tenure/duration/days/… → gamma duration; score/rate/ratio/percent/risk → beta in [0, 1];
//!    location/geo/ip/address → `<name>_risk` beta score in risk domains (fraud, default,
//!    anomaly), else a region category; merchant → `merchant_category`; country, city, device,
//!    channel, browser, os, payment, plan/tier/contract, status, category/type → categorical with
//!    typical categories; anything else a standard normal.
//! 4. **Signal.** Each feature gets a latent correlation with the target (e.g. fraud: amount 0.35,
//!    location_risk 0.45, time_of_day −0.15, merchant_category 0.2; spam: num_links 0.45,
//!    sender_domain_type 0.35); categories are listed from least to most associated with the
//!    positive class so the correlation reads naturally. Generic features cycle through
//!    ±0.1…0.3. If the squared correlations with the target sum past 0.8 they are scaled down so
//!    the matrix stays positive definite.

use chrono::{Duration, NaiveDate, Utc};

use super::schema::{
    format_instant, ColumnKind, ColumnSpec, Correlation, DataSchema, Distribution, TargetSpec,
};

/// At most this many features are taken from a description.
const MAX_FEATURES: usize = 50;
/// Squared target correlations are kept below this sum (positive definiteness with margin).
const MAX_SIGNAL: f64 = 0.8;

/// Designs a schema from a model description and an optional description of existing data.
/// Deterministic for the same inputs on the same UTC day (datetime columns cover the year up to
/// today); see [`design_at`] for a fixed day.
pub fn design(model_description: &str, existing_data: Option<&str>) -> DataSchema {
    design_at(model_description, existing_data, Utc::now().date_naive())
}

/// [`design`] with the datetime window ending at `today`.
pub fn design_at(
    model_description: &str,
    existing_data: Option<&str>,
    today: NaiveDate,
) -> DataSchema {
    let all = format!("{} {}", model_description, existing_data.unwrap_or("")).to_lowercase();
    let domain = Domain::detect(&all);
    let target = target_for(&all, domain);

    let raw = existing_data
        .map(feature_list)
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| feature_list(model_description));
    let raw = if raw.is_empty() {
        domain
            .default_features()
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        raw
    };

    let window = Window::last_year(today);
    let mut columns: Vec<ColumnSpec> = Vec::new();
    let mut signal: Vec<(String, f64)> = Vec::new();
    let mut generic = 0usize;
    for name in raw.iter().take(MAX_FEATURES) {
        for (spec, r) in map_feature(name, domain, &window, &mut generic) {
            if spec.name == target.name || columns.iter().any(|c| c.name == spec.name) {
                continue;
            }
            if r != 0.0 {
                signal.push((spec.name.clone(), r));
            }
            columns.push(spec);
        }
    }
    if columns.is_empty() {
        for name in Domain::Generic.default_features() {
            let (spec, r) = map_feature(name, domain, &window, &mut generic).remove(0);
            signal.push((spec.name.clone(), r));
            columns.push(spec);
        }
    }

    let total: f64 = signal.iter().map(|(_, r)| r * r).sum();
    let shrink = if total > MAX_SIGNAL {
        (MAX_SIGNAL / total).sqrt()
    } else {
        1.0
    };
    let mut correlations: Vec<Correlation> = signal
        .into_iter()
        .map(|(name, r)| Correlation {
            a: name,
            b: target.name.clone(),
            r: ((r * shrink) * 1e3).round() / 1e3,
        })
        .collect();
    // Longer emails carry more links: a feature–feature dependence worth keeping.
    let has = |n: &str| columns.iter().any(|c| c.name == n);
    if has("body_length") && has("num_links") {
        correlations.push(Correlation {
            a: "body_length".into(),
            b: "num_links".into(),
            r: 0.4,
        });
    }
    DataSchema {
        columns,
        target: Some(target),
        correlations,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Domain {
    Fraud,
    Spam,
    Churn,
    CreditDefault,
    Anomaly,
    Generic,
}

impl Domain {
    fn detect(text: &str) -> Domain {
        if text.contains("fraud") {
            Domain::Fraud
        } else if text.contains("spam") {
            Domain::Spam
        } else if text.contains("churn") {
            Domain::Churn
        } else if text.contains("default") && (text.contains("loan") || text.contains("credit")) {
            Domain::CreditDefault
        } else if text.contains("anomal") || text.contains("intrusion") || text.contains("outlier")
        {
            Domain::Anomaly
        } else {
            Domain::Generic
        }
    }

    /// Risk domains turn locations into risk scores.
    fn is_risk(self) -> bool {
        matches!(
            self,
            Domain::Fraud | Domain::CreditDefault | Domain::Anomaly
        )
    }

    fn default_features(self) -> &'static [&'static str] {
        match self {
            Domain::Fraud => &["amount", "merchant", "time", "location"],
            Domain::Spam => &["subject", "body", "sender"],
            Domain::Churn => &[
                "tenure_months",
                "monthly_charges",
                "num_support_calls",
                "contract",
            ],
            Domain::CreditDefault => &["income", "loan_amount", "credit_score", "age"],
            Domain::Anomaly => &["bytes_sent", "num_connections", "duration", "device"],
            Domain::Generic => &["feature_1", "feature_2", "feature_3", "feature_4"],
        }
    }
}

fn target_for(text: &str, domain: Domain) -> TargetSpec {
    if let Some(n) = class_count(text).filter(|&n| n >= 3) {
        return TargetSpec {
            name: "label".into(),
            classes: (0..n).map(|i| i.to_string()).collect(),
            weights: vec![1.0; n],
        };
    }
    let (name, positive) = match domain {
        Domain::Fraud => ("is_fraudulent", 0.03),
        Domain::Spam => ("is_spam", 0.30),
        Domain::Churn => ("churned", 0.20),
        Domain::CreditDefault => ("is_default", 0.10),
        Domain::Anomaly => ("is_anomaly", 0.05),
        Domain::Generic => ("label", 0.5),
    };
    TargetSpec {
        name: name.into(),
        classes: vec!["0".into(), "1".into()],
        weights: vec![1.0 - positive, positive],
    }
}

/// "5 classes", "10-class", "three categories"; "multiclass" alone means 3.
fn class_count(text: &str) -> Option<usize> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    const NUMBERS: [&str; 19] = [
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
        "twenty",
    ];
    for pair in words.windows(2) {
        if matches!(pair[1], "classes" | "class" | "categories" | "labels") {
            let n = pair[0]
                .parse::<usize>()
                .ok()
                .or_else(|| NUMBERS.iter().position(|w| *w == pair[0]).map(|i| i + 2));
            if let Some(n) = n.filter(|n| (2..=1000).contains(n)) {
                return Some(n);
            }
        }
    }
    (text.contains("multiclass") || text.contains("multi-class")).then_some(3)
}

/// Feature names listed in free text (see the module docs), snake_cased.
fn feature_list(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut list: Option<&str> = None;
    for marker in [
        "features:",
        "columns:",
        "fields:",
        "attributes:",
        "variables:",
        "including",
    ] {
        if let Some(i) = lower.find(marker) {
            list = Some(&lower[i + marker.len()..]);
            break;
        }
    }
    if list.is_none() {
        if let Some(i) = lower.find("with ") {
            let rest = &lower[i + 5..];
            list = ["features", "fields", "columns", "attributes", "variables"]
                .iter()
                .filter_map(|w| rest.find(w))
                .min()
                .map(|end| &rest[..end]);
        }
    }
    let Some(list) = list else {
        return Vec::new();
    };
    let list = list.split(['.', '\n', '(', ')']).next().unwrap_or("");
    list.split([',', ';', '&', '/'])
        .flat_map(|part| part.split(" and "))
        .filter_map(|item| {
            let item = item.trim();
            let item = ["the ", "a ", "an ", "and "]
                .iter()
                .fold(item, |s, p| s.strip_prefix(p).unwrap_or(s));
            let words: Vec<&str> = item.split_whitespace().take(4).collect();
            let name = snake_case(&words.join(" "));
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

fn snake_case(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// The last-year window for datetime columns.
struct Window {
    start: String,
    end: String,
}

impl Window {
    fn last_year(today: NaiveDate) -> Window {
        let end = today
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        let start = end - Duration::days(365);
        Window {
            start: format_instant(start.timestamp()),
            end: format_instant(end.timestamp()),
        }
    }
}

fn numeric(
    name: &str,
    distribution: Distribution,
    min: Option<f64>,
    max: Option<f64>,
    decimals: u32,
) -> ColumnSpec {
    ColumnSpec {
        name: name.into(),
        kind: ColumnKind::Numeric {
            distribution,
            min,
            max,
            decimals: Some(decimals),
        },
    }
}

fn integer(name: &str, distribution: Distribution, min: i64, max: i64) -> ColumnSpec {
    ColumnSpec {
        name: name.into(),
        kind: ColumnKind::Integer {
            distribution,
            min: Some(min),
            max: Some(max),
        },
    }
}

fn categorical(name: &str, categories: &[&str], weights: &[f64]) -> ColumnSpec {
    ColumnSpec {
        name: name.into(),
        kind: ColumnKind::Categorical {
            categories: categories.iter().map(|c| c.to_string()).collect(),
            weights: weights.to_vec(),
        },
    }
}

fn beta_score(name: &str) -> ColumnSpec {
    numeric(
        name,
        Distribution::Beta {
            alpha: 2.0,
            beta: 5.0,
        },
        Some(0.0),
        Some(1.0),
        4,
    )
}

/// Whether the snake_case name has `word` as one of its parts.
fn has_part(name: &str, words: &[&str]) -> bool {
    name.split('_').any(|p| words.contains(&p))
}

/// Columns built for one feature, each with its latent correlation to the target.
type Columns = Vec<(ColumnSpec, f64)>;

/// What a keyword rule's builder sees: the feature's snake_case name, the domain, and the
/// datetime window.
struct Feature<'a> {
    name: &'a str,
    domain: Domain,
    window: &'a Window,
}

impl Feature<'_> {
    /// A signal strength: `spam_r` in the spam domain, where text features carry the signal,
    /// `other_r` elsewhere.
    fn strength(&self, spam_r: f64, other_r: f64) -> f64 {
        if self.domain == Domain::Spam {
            spam_r
        } else {
            other_r
        }
    }
}

/// Which snake_case names a keyword rule takes: a name with one of `parts` as a
/// `_`-separated part, or starting with one of `prefixes`, and with none of `unless`.
struct Keywords {
    parts: &'static [&'static str],
    prefixes: &'static [&'static str],
    unless: &'static [&'static str],
}

impl Keywords {
    const fn parts(parts: &'static [&'static str]) -> Keywords {
        Keywords {
            parts,
            prefixes: &[],
            unless: &[],
        }
    }

    const fn or_prefixes(self, prefixes: &'static [&'static str]) -> Keywords {
        Keywords {
            parts: self.parts,
            prefixes,
            unless: self.unless,
        }
    }

    const fn unless(self, unless: &'static [&'static str]) -> Keywords {
        Keywords {
            parts: self.parts,
            prefixes: self.prefixes,
            unless,
        }
    }

    fn matches(&self, name: &str) -> bool {
        (self.prefixes.iter().any(|p| name.starts_with(p)) || has_part(name, self.parts))
            && !has_part(name, self.unless)
    }
}

/// One keyword rule: the names it takes and the columns it builds for them.
struct FeatureRule {
    keywords: Keywords,
    build: fn(&Feature) -> Columns,
}

/// A [`FEATURE_RULES`] entry.
const fn rule(keywords: Keywords, build: fn(&Feature) -> Columns) -> FeatureRule {
    FeatureRule { keywords, build }
}

/// The keyword rules, checked in this order: the first that takes a name builds its
/// columns; a name no rule takes becomes a generic numeric feature.
const FEATURE_RULES: &[FeatureRule] = &[
    // Text fields become what a tabular classifier can use.
    rule(
        Keywords::parts(&["subject", "title", "headline"]),
        title_length,
    ),
    rule(
        Keywords::parts(&[
            "body",
            "message",
            "text",
            "content",
            "comment",
            "review",
            "description",
        ]),
        body_length_and_links,
    ),
    rule(
        Keywords::parts(&["sender", "from", "email"]),
        sender_domain_type,
    ),
    rule(Keywords::parts(&["url", "urls", "link", "links"]), links),
    rule(
        Keywords::parts(&["flag"]).or_prefixes(&["is_", "has_"]),
        boolean,
    ),
    rule(
        Keywords::parts(&["date", "timestamp", "datetime", "created", "updated", "at"]),
        datetime,
    ),
    rule(
        Keywords::parts(&["time", "hour"]).unless(&["response", "spent", "duration"]),
        hour_of_day,
    ),
    rule(
        Keywords::parts(&[
            "amount", "price", "income", "balance", "salary", "cost", "spend", "spending",
            "revenue", "payment", "fee", "charges", "charge", "value",
        ]),
        money,
    ),
    rule(Keywords::parts(&["age"]), age),
    rule(
        Keywords::parts(&[
            "count",
            "number",
            "num",
            "qty",
            "quantity",
            "visits",
            "clicks",
            "logins",
            "transactions",
            "calls",
            "attempts",
            "items",
            "connections",
            "failures",
        ])
        .or_prefixes(&["num_", "n_"]),
        count,
    ),
    rule(
        Keywords::parts(&[
            "tenure", "duration", "days", "months", "years", "minutes", "seconds", "bytes",
        ]),
        duration,
    ),
    rule(
        Keywords::parts(&[
            "score",
            "rate",
            "ratio",
            "pct",
            "percent",
            "percentage",
            "probability",
            "risk",
        ]),
        score,
    ),
    rule(
        Keywords::parts(&[
            "location", "geo", "ip", "address", "region", "zip", "postcode",
        ]),
        location,
    ),
    rule(Keywords::parts(&["merchant"]), merchant_category),
    rule(Keywords::parts(&["country"]), country),
    rule(Keywords::parts(&["city"]), city),
    rule(Keywords::parts(&["device"]), device),
    rule(Keywords::parts(&["channel"]), channel),
    rule(Keywords::parts(&["browser"]), browser),
    rule(Keywords::parts(&["os"]), os),
    rule(Keywords::parts(&["payment", "method"]), payment_method),
    rule(
        Keywords::parts(&["plan", "tier", "subscription", "contract"]),
        plan,
    ),
    rule(Keywords::parts(&["status"]), status),
    rule(
        Keywords::parts(&["category", "type", "kind", "group", "segment"]),
        category,
    ),
];

/// One described feature → columns with their latent correlation to the target.
fn map_feature(raw: &str, domain: Domain, window: &Window, generic: &mut usize) -> Columns {
    let name = snake_case(raw);
    let feature = Feature {
        name: &name,
        domain,
        window,
    };
    match FEATURE_RULES.iter().find(|r| r.keywords.matches(&name)) {
        Some(rule) => (rule.build)(&feature),
        None => generic_numeric(&name, generic),
    }
}

/// A subject or title → `<name>_length`, a short lognormal character count.
fn title_length(f: &Feature) -> Columns {
    let col = integer(
        &format!("{}_length", f.name),
        Distribution::Lognormal {
            mu: 3.6,
            sigma: 0.4,
        },
        1,
        250,
    );
    vec![(col, f.strength(0.1, 0.05))]
}

/// A body or message → `<name>_length` and the `num_links` it contains.
fn body_length_and_links(f: &Feature) -> Columns {
    let length = integer(
        &format!("{}_length", f.name),
        Distribution::Lognormal {
            mu: 6.2,
            sigma: 0.8,
        },
        1,
        50_000,
    );
    let links = integer(
        "num_links",
        Distribution::Gamma {
            shape: 1.2,
            scale: 1.5,
        },
        0,
        100,
    );
    vec![
        (length, f.strength(0.15, 0.1)),
        (links, f.strength(0.45, 0.2)),
    ]
}

/// A sender or email address → `<name>_domain_type`, the kind of mail domain.
fn sender_domain_type(f: &Feature) -> Columns {
    let col = categorical(
        &format!("{}_domain_type", f.name),
        &["corporate", "educational", "free_mail", "unknown"],
        &[0.45, 0.10, 0.35, 0.10],
    );
    vec![(col, f.strength(0.35, 0.15))]
}

/// URLs or links → a `num_links` count.
fn links(f: &Feature) -> Columns {
    let col = integer(
        "num_links",
        Distribution::Gamma {
            shape: 1.2,
            scale: 1.5,
        },
        0,
        100,
    );
    vec![(col, f.strength(0.45, 0.2))]
}

/// `is_`/`has_`/flag → a boolean, true 20% of the time.
fn boolean(f: &Feature) -> Columns {
    let col = ColumnSpec {
        name: f.name.to_string(),
        kind: ColumnKind::Boolean { p_true: 0.2 },
    };
    vec![(col, 0.2)]
}

/// A date or timestamp → a datetime over the last year, carrying no signal.
fn datetime(f: &Feature) -> Columns {
    let col = ColumnSpec {
        name: f.name.to_string(),
        kind: ColumnKind::Datetime {
            start: f.window.start.clone(),
            end: f.window.end.clone(),
        },
    };
    vec![(col, 0.0)]
}

/// A time or hour (not a response time or time spent) → an integer hour 0–23, named
/// `time_of_day` when the name is just "time" or "hour"; night hours are the risky ones in
/// fraud and anomaly data.
fn hour_of_day(f: &Feature) -> Columns {
    let n = f.name;
    let hour_name = if n == "time" || n == "hour" {
        "time_of_day"
    } else {
        n
    };
    let r = match f.domain {
        Domain::Fraud | Domain::Anomaly => -0.15,
        _ => 0.05,
    };
    let col = integer(
        hour_name,
        Distribution::Normal {
            mean: 14.0,
            std: 5.0,
        },
        0,
        23,
    );
    vec![(col, r)]
}

/// An amount of money → lognormal (min 0.01, 2 decimals) scaled by what it is: incomes
/// largest, then balances, then prices and fees; higher incomes and balances default less.
fn money(f: &Feature) -> Columns {
    let n = f.name;
    let (mu, sigma) = if has_part(n, &["income", "salary"]) {
        (10.9, 0.5)
    } else if has_part(n, &["balance"]) {
        (7.5, 1.5)
    } else if has_part(n, &["price", "charges", "charge", "fee"]) {
        (3.5, 0.8)
    } else {
        (3.8, 1.1)
    };
    let r = match f.domain {
        Domain::Fraud => 0.35,
        Domain::CreditDefault if has_part(n, &["income", "salary", "balance"]) => -0.3,
        Domain::CreditDefault => 0.25,
        Domain::Churn => 0.2,
        _ => 0.15,
    };
    let col = numeric(
        n,
        Distribution::Lognormal { mu, sigma },
        Some(0.01),
        None,
        2,
    );
    vec![(col, r)]
}

/// An age → an integer 18–90 around 40.
fn age(f: &Feature) -> Columns {
    let r = if f.domain == Domain::CreditDefault {
        -0.15
    } else {
        0.05
    };
    let col = integer(
        f.name,
        Distribution::Normal {
            mean: 40.0,
            std: 13.0,
        },
        18,
        90,
    );
    vec![(col, r)]
}

/// A count → a gamma-distributed integer 0–1000.
fn count(f: &Feature) -> Columns {
    let col = integer(
        f.name,
        Distribution::Gamma {
            shape: 2.0,
            scale: 2.0,
        },
        0,
        1000,
    );
    let r = if f.domain == Domain::Generic {
        0.15
    } else {
        0.25
    };
    vec![(col, r)]
}

/// A duration or tenure → a gamma-distributed non-negative number; long tenure means less
/// churn.
fn duration(f: &Feature) -> Columns {
    let r = if f.domain == Domain::Churn { -0.3 } else { 0.1 };
    let col = numeric(
        f.name,
        Distribution::Gamma {
            shape: 2.0,
            scale: 12.0,
        },
        Some(0.0),
        None,
        1,
    );
    vec![(col, r)]
}

/// A score, rate or ratio → beta in [0, 1]; a higher credit score means less default.
fn score(f: &Feature) -> Columns {
    let r = if f.domain == Domain::CreditDefault && has_part(f.name, &["credit"]) {
        -0.35
    } else {
        0.3
    };
    vec![(beta_score(f.name), r)]
}

/// A location → a `<name>_risk` beta score in risk domains (fraud, default, anomaly), else a
/// region category.
fn location(f: &Feature) -> Columns {
    if f.domain.is_risk() {
        return vec![(beta_score(&format!("{}_risk", f.name)), 0.45)];
    }
    let col = categorical(
        f.name,
        &["north", "south", "east", "west", "central"],
        &[0.22, 0.2, 0.2, 0.2, 0.18],
    );
    vec![(col, 0.1)]
}

/// A merchant → `merchant_category`, the riskier categories last.
fn merchant_category(_: &Feature) -> Columns {
    let col = categorical(
        "merchant_category",
        &[
            "grocery",
            "restaurant",
            "gas_station",
            "online_retail",
            "electronics",
            "travel",
            "gambling",
        ],
        &[0.25, 0.18, 0.12, 0.2, 0.1, 0.1, 0.05],
    );
    vec![(col, 0.2)]
}

/// A country → a category of typical countries.
fn country(f: &Feature) -> Columns {
    let col = categorical(
        f.name,
        &["US", "GB", "DE", "FR", "IN", "BR", "CA", "other"],
        &[0.35, 0.1, 0.08, 0.07, 0.12, 0.08, 0.05, 0.15],
    );
    vec![(col, 0.1)]
}

/// A city → a category of large cities.
fn city(f: &Feature) -> Columns {
    let col = categorical(
        f.name,
        &["new_york", "london", "paris", "tokyo", "sydney", "other"],
        &[0.2, 0.18, 0.12, 0.15, 0.1, 0.25],
    );
    vec![(col, 0.05)]
}

/// A device → desktop, tablet or mobile.
fn device(f: &Feature) -> Columns {
    let col = categorical(f.name, &["desktop", "tablet", "mobile"], &[0.35, 0.1, 0.55]);
    vec![(col, 0.1)]
}

/// A channel → in store, phone or online.
fn channel(f: &Feature) -> Columns {
    let col = categorical(f.name, &["in_store", "phone", "online"], &[0.4, 0.1, 0.5]);
    vec![(col, 0.15)]
}

/// A browser → a category of common browsers.
fn browser(f: &Feature) -> Columns {
    let col = categorical(
        f.name,
        &["chrome", "safari", "edge", "firefox", "other"],
        &[0.6, 0.2, 0.08, 0.07, 0.05],
    );
    vec![(col, 0.05)]
}

/// An operating system → a category of common ones.
fn os(f: &Feature) -> Columns {
    let col = categorical(
        f.name,
        &["windows", "macos", "ios", "android", "linux"],
        &[0.35, 0.15, 0.2, 0.25, 0.05],
    );
    vec![(col, 0.05)]
}

/// A payment method → card, transfer or wallet.
fn payment_method(f: &Feature) -> Columns {
    let col = categorical(
        f.name,
        &[
            "debit_card",
            "credit_card",
            "bank_transfer",
            "digital_wallet",
        ],
        &[0.35, 0.35, 0.1, 0.2],
    );
    vec![(col, 0.1)]
}

/// A plan, tier or contract → its commitment, a strong churn signal.
fn plan(f: &Feature) -> Columns {
    // Longer commitments churn less: most-committed first for a positive correlation.
    let col = categorical(
        f.name,
        &["two_year", "one_year", "month_to_month"],
        &[0.25, 0.25, 0.5],
    );
    vec![(col, if f.domain == Domain::Churn { 0.35 } else { 0.1 })]
}

/// A status → active, inactive or suspended.
fn status(f: &Feature) -> Columns {
    let col = categorical(
        f.name,
        &["active", "inactive", "suspended"],
        &[0.75, 0.2, 0.05],
    );
    vec![(col, 0.15)]
}

/// A category or type → four generic types.
fn category(f: &Feature) -> Columns {
    let col = categorical(
        f.name,
        &["type_a", "type_b", "type_c", "type_d"],
        &[0.4, 0.3, 0.2, 0.1],
    );
    vec![(col, 0.15)]
}

/// A name no rule takes → a standard normal, its signal the next of a fixed cycle.
fn generic_numeric(name: &str, generic: &mut usize) -> Columns {
    // Generic numeric features: alternate signs and vary strength so each carries signal.
    const SIGNALS: [f64; 6] = [0.3, -0.25, 0.2, -0.15, 0.25, -0.1];
    let r = SIGNALS[*generic % SIGNALS.len()];
    *generic += 1;
    let col = numeric(
        name,
        Distribution::Normal {
            mean: 0.0,
            std: 1.0,
        },
        None,
        None,
        4,
    );
    vec![(col, r)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Balance, Generator};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    fn names(s: &DataSchema) -> Vec<&str> {
        s.columns.iter().map(|c| c.name.as_str()).collect()
    }

    fn r_with_target(s: &DataSchema, column: &str) -> f64 {
        let t = s.target_name().unwrap();
        s.correlations
            .iter()
            .find(|c| c.a == column && c.b == t)
            .map_or(0.0, |c| c.r)
    }

    #[test]
    fn fraud_example() {
        let s = design_at(
            "Binary classification model for fraud detection",
            Some("Transaction data with features: amount, merchant, time, location"),
            today(),
        );
        s.validate().unwrap();
        assert_eq!(
            names(&s),
            [
                "amount",
                "merchant_category",
                "time_of_day",
                "location_risk"
            ]
        );
        let t = s.target.as_ref().unwrap();
        assert_eq!(t.name, "is_fraudulent");
        assert_eq!(t.classes, ["0", "1"]);
        assert_eq!(t.weights, [0.97, 0.03]);
        match &s.columns[0].kind {
            ColumnKind::Numeric {
                distribution,
                min,
                decimals,
                ..
            } => {
                assert_eq!(distribution.family(), "lognormal");
                assert_eq!((*min, *decimals), (Some(0.01), Some(2)));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&s.columns[1].kind, ColumnKind::Categorical { categories, weights }
            if categories.len() >= 4 && weights.len() == categories.len())
        );
        assert!(matches!(
            &s.columns[2].kind,
            ColumnKind::Integer {
                min: Some(0),
                max: Some(23),
                ..
            }
        ));
        assert!(matches!(
            &s.columns[3].kind,
            ColumnKind::Numeric {
                distribution: Distribution::Beta { .. },
                min: Some(0.0),
                max: Some(1.0),
                ..
            }
        ));
        assert_eq!(r_with_target(&s, "amount"), 0.35);
        assert_eq!(r_with_target(&s, "location_risk"), 0.45);
        assert_eq!(r_with_target(&s, "time_of_day"), -0.15);
        // It generates, and fraud rows really are larger on average.
        let rows: Vec<_> = Generator::new(&s, 1, Balance::Stratified, 4000)
            .unwrap()
            .collect();
        let mean_amount = |class: i64| {
            let v: Vec<f64> = rows
                .iter()
                .filter(|r| r[4] == crate::Cell::Int(class))
                .map(|r| match r[0] {
                    crate::Cell::Num(x) => x.ln(),
                    _ => unreachable!(),
                })
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(mean_amount(1) > mean_amount(0) + 0.3);
    }

    #[test]
    fn spam_example() {
        let s = design_at(
            "Binary classifier for email spam detection",
            Some("Email dataset with subject, body, sender features"),
            today(),
        );
        s.validate().unwrap();
        assert_eq!(
            names(&s),
            [
                "subject_length",
                "body_length",
                "num_links",
                "sender_domain_type"
            ]
        );
        assert_eq!(s.target_name(), Some("is_spam"));
        assert!(r_with_target(&s, "num_links") > 0.3);
        assert!(r_with_target(&s, "sender_domain_type") > 0.2);
    }

    #[test]
    fn n_classes_and_generic_defaults() {
        let s = design_at("Image quality classifier with 5 classes", None, today());
        s.validate().unwrap();
        let t = s.target.as_ref().unwrap();
        assert_eq!((t.name.as_str(), t.classes.len()), ("label", 5));
        assert_eq!(
            names(&s),
            ["feature_1", "feature_2", "feature_3", "feature_4"]
        );
        assert_eq!(class_count("a ten-class problem"), Some(10));
        assert_eq!(class_count("three categories"), Some(3));
        assert_eq!(class_count("binary classification"), None);

        let s = design_at("Predict something", None, today());
        s.validate().unwrap();
        assert_eq!(s.target.as_ref().unwrap().classes, ["0", "1"]);
        assert!(s.correlations.iter().all(|c| c.r != 0.0));
    }

    #[test]
    fn keyword_rules_and_list_parsing() {
        assert_eq!(
            feature_list("Customers with age, annual income and the signup date fields."),
            ["age", "annual_income", "signup_date"]
        );
        let s = design_at(
            "Churn model",
            Some("columns: age, annual income, signup date, num_orders, device type, is_premium, plan"),
            today(),
        );
        s.validate().unwrap();
        let kinds: Vec<&str> = s.columns.iter().map(|c| c.kind.kind_name()).collect();
        assert_eq!(
            kinds,
            [
                "integer",
                "numeric",
                "datetime",
                "integer",
                "categorical",
                "boolean",
                "categorical"
            ]
        );
        assert_eq!(s.target_name(), Some("churned"));
        match &s.columns[2].kind {
            ColumnKind::Datetime { start, end } => {
                assert_eq!(end, "2025-06-01T00:00:00Z");
                assert_eq!(start, "2024-06-01T00:00:00Z");
            }
            other => panic!("{other:?}"),
        }
        // Many generic features: the signal is scaled so the matrix stays valid.
        let list: Vec<String> = (0..30).map(|i| format!("signal {i}")).collect();
        let s = design_at(
            "classifier",
            Some(&format!("features: {}", list.join(", "))),
            today(),
        );
        s.validate().unwrap();
        let total: f64 = s.correlations.iter().map(|c| c.r * c.r).sum();
        assert!(total <= MAX_SIGNAL + 0.01, "{total}");
        assert_eq!(s.columns.len(), 30);
    }

    #[test]
    fn design_is_deterministic() {
        let a = design_at("fraud", Some("features: amount"), today());
        let b = design_at("fraud", Some("features: amount"), today());
        assert_eq!(a, b);
    }
}
