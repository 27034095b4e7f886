//! The lab's fraud model (`data/fraud_model.json`) and the verdict on a
//! pipeline's output: which orders must have an alert, with which score, and
//! what the output topic holds instead.

use datalab_clients::kafka::Record;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A logistic model: `score = 1 / (1 + exp(-z))` with
/// `z = bias + amount × amount_weight + country weight + night weight`.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Model {
    bias: f64,
    amount_weight: f64,
    country_weights: BTreeMap<String, f64>,
    other_country: f64,
    night_hours: Vec<i64>,
    night_weight: f64,
    pub(crate) threshold: f64,
}

impl Model {
    pub(crate) fn score(&self, amount: f64, country: &str, hour: i64) -> f64 {
        let z = self.bias
            + amount * self.amount_weight
            + self
                .country_weights
                .get(country)
                .copied()
                .unwrap_or(self.other_country)
            + if self.night_hours.contains(&hour) {
                self.night_weight
            } else {
                0.0
            };
        1.0 / (1.0 + (-z).exp())
    }
}

/// Scores may be rounded by the learner's program; this much is forgiven.
const SCORE_TOLERANCE: f64 = 0.0011;

/// The alerts a correct pipeline writes: order id → score, for every input
/// order at or above the threshold. `Err` names the first record that is no
/// order (the input was not produced from the lab's data).
pub(crate) fn expected_alerts(
    model: &Model,
    input: &[Record],
) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for r in input {
        let v: serde_json::Value = serde_json::from_str(&r.value).unwrap_or_default();
        let id = v.get("order_id").and_then(|x| x.as_str());
        let amount = v.get("amount").and_then(|x| x.as_f64());
        let country = v.get("country").and_then(|x| x.as_str());
        let hour = v.get("hour").and_then(|x| x.as_i64());
        let (Some(id), Some(amount), Some(country), Some(hour)) = (id, amount, country, hour)
        else {
            return Err(format!(
                "partition {} offset {} is no order with order_id, amount, country and hour: {:?}",
                r.partition, r.offset, r.value
            ));
        };
        let s = model.score(amount, country, hour);
        if s >= model.threshold {
            out.insert(id.to_string(), s);
        }
    }
    Ok(out)
}

/// What the output topic holds, compared with the expected alerts.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Verdict {
    /// Order ids with more than one alert, and how many each.
    pub(crate) duplicated: Vec<(String, usize)>,
    pub(crate) missing: Vec<String>,
    /// Alerts for orders under the threshold or no order at all.
    pub(crate) extra: Vec<String>,
    /// (order id, score written, expected score).
    pub(crate) wrong_score: Vec<(String, f64, f64)>,
    /// Records that are no alert (no JSON with `order_id` and `score`).
    pub(crate) unreadable: Vec<String>,
    pub(crate) alerts: usize,
}

impl Verdict {
    pub(crate) fn ok(&self) -> bool {
        self.duplicated.is_empty()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.wrong_score.is_empty()
            && self.unreadable.is_empty()
    }
}

/// Judge the alerts read with read_committed against the expected ones.
pub(crate) fn judge(expected: &BTreeMap<String, f64>, alerts: &[Record]) -> Verdict {
    let mut v = Verdict {
        alerts: alerts.len(),
        ..Verdict::default()
    };
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for r in alerts {
        let j: serde_json::Value = serde_json::from_str(&r.value).unwrap_or_default();
        let (Some(id), Some(score)) = (
            j.get("order_id").and_then(|x| x.as_str()),
            j.get("score").and_then(|x| x.as_f64()),
        ) else {
            v.unreadable.push(r.value.clone());
            continue;
        };
        *count.entry(id.to_string()).or_insert(0) += 1;
        match expected.get(id) {
            None => v.extra.push(id.to_string()),
            Some(want) if (want - score).abs() > SCORE_TOLERANCE => {
                v.wrong_score.push((id.to_string(), score, *want));
            }
            Some(_) => {}
        }
    }
    v.duplicated = count
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    v.missing = expected
        .keys()
        .filter(|k| !count.contains_key(*k))
        .cloned()
        .collect();
    v.extra.dedup();
    v
}

/// The first few items of a list, for a message.
pub(crate) fn some<T: std::fmt::Debug>(items: &[T]) -> String {
    let shown: Vec<String> = items.iter().take(5).map(|x| format!("{x:?}")).collect();
    let more = items.len().saturating_sub(5);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        serde_json::from_str(include_str!(
            "../../../../../labs/kafka/data/fraud_model.json"
        ))
        .unwrap()
    }

    fn rec(offset: i64, value: &str) -> Record {
        Record {
            partition: 0,
            offset,
            key: None,
            value: value.into(),
            timestamp_ms: None,
        }
    }

    fn orders() -> Vec<Record> {
        include_str!("../../../../../labs/kafka/data/orders.jsonl")
            .lines()
            .enumerate()
            .map(|(i, l)| rec(i as i64, l))
            .collect()
    }

    fn alert(id: &str, score: f64) -> Record {
        rec(0, &format!(r#"{{"order_id": "{id}", "score": {score}}}"#))
    }

    #[test]
    fn the_lab_data_gives_a_quarter_of_alerts_none_on_the_threshold() {
        let m = model();
        let want = expected_alerts(&m, &orders()).unwrap();
        assert_eq!(want.len(), 26);
        for r in orders() {
            let v: serde_json::Value = serde_json::from_str(&r.value).unwrap();
            let s = m.score(
                v["amount"].as_f64().unwrap(),
                v["country"].as_str().unwrap(),
                v["hour"].as_i64().unwrap(),
            );
            assert!(
                (s - m.threshold).abs() > 0.004,
                "{s} too near the threshold"
            );
        }
    }

    #[test]
    fn exact_alerts_pass_and_each_fault_is_named() {
        let m = model();
        let want = expected_alerts(&m, &orders()).unwrap();
        let good: Vec<Record> = want
            .iter()
            .map(|(id, s)| alert(id, (s * 1000.0).round() / 1000.0))
            .collect();
        assert!(judge(&want, &good).ok());

        let mut dup = good.clone();
        dup.push(good[3].clone());
        let v = judge(&want, &dup);
        assert_eq!(v.duplicated.len(), 1);
        assert!(!v.ok());

        let v = judge(&want, &good[1..]);
        assert_eq!(v.missing.len(), 1);

        let mut wrong = good.clone();
        wrong[0] = alert(want.keys().next().unwrap(), 0.1);
        wrong.push(alert("o999", 0.9));
        wrong.push(rec(9, "not json"));
        let v = judge(&want, &wrong);
        assert_eq!(v.wrong_score.len(), 1);
        assert_eq!(v.extra, vec!["o999".to_string()]);
        assert_eq!(v.unreadable.len(), 1);
    }

    #[test]
    fn an_order_without_country_is_named() {
        let e =
            expected_alerts(&model(), &[rec(7, r#"{"order_id": "o1", "amount": 3}"#)]).unwrap_err();
        assert!(e.contains("offset 7"), "{e}");
    }
}
