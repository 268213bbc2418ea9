//! `POST /v1/ai/synthetic-data` and the dataset routes, through the function's Router.

use api_tests::mock_providers::{MockProviders, Step};
use api_tests::{assert_envelope, get, post_json, send, sqlite_state};
use axum::body::Body;
use axum::Router;
use http::Request;
use serde_json::{json, Value};
use shared::providers::Provider;

fn spec_request() -> Value {
    json!({
        "model_description": "Binary classification model for fraud detection",
        "existing_data": "Transaction data with features: amount, merchant, time, location",
        "target_count": 10000,
        "data_format": "tabular",
        "quality_requirements": {"diversity": "high", "realism": "production_ready", "balance": "stratified"}
    })
}

async fn generate(app: &Router, body: &Value) -> Value {
    let r = post_json(app, "/v1/ai/synthetic-data", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn download(app: &Router, id: &str, format: &str) -> String {
    let r = get(app, &format!("/v1/datasets/{id}/download?format={format}")).await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    r.text
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn spec_example_without_providers_uses_the_builtin_designer() {
    let app = synthetic_data::router(sqlite_state());
    let b = generate(&app, &spec_request()).await;
    assert_eq!(b["status"], "success");
    assert_eq!(b["provider"], "builtin");
    let s = &b["synthetic_data"];
    assert_eq!(s["generated_samples"], 10000);
    assert_eq!(s["data_schema"]["schema_source"], "builtin");
    assert_eq!(s["data_schema"]["target"], "is_fraudulent");
    let features: Vec<&str> = s["data_schema"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        features,
        [
            "amount",
            "merchant_category",
            "time_of_day",
            "location_risk"
        ]
    );
    let q = &s["quality_metrics"];
    assert_eq!(q["balance_ratio"], 1.0, "stratified: 5,000 of each class");
    for k in ["diversity_score", "realism_score"] {
        let v = q[k].as_f64().unwrap();
        assert!(v > 0.0 && v <= 1.0, "{k} {v}");
    }
    assert_eq!(q["method"], "fidelity_to_spec");
    assert_eq!(s["preview"].as_array().unwrap().len(), 5);
    assert!(s["preview"][0].get("is_fraudulent").is_some());
    assert!(b["generation_time_seconds"].as_f64().unwrap() > 0.0);
    assert!(!b["recommendations"].as_array().unwrap().is_empty());
    assert!(b["recommendation_details"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["source"] == "builtin"));

    let id = s["dataset_id"].as_str().unwrap();
    let csv = download(&app, id, "csv").await;
    let rows = csv_rows(&csv);
    assert_eq!(
        rows[0],
        [
            "amount",
            "merchant_category",
            "time_of_day",
            "location_risk",
            "is_fraudulent"
        ]
    );
    assert_eq!(rows.len(), 10_001);
    let fraud = rows[1..].iter().filter(|r| r[4] == "1").count();
    assert_eq!(fraud, 5000);
}

#[tokio::test]
async fn a_configured_provider_designs_the_schema_and_its_advice_is_marked() {
    let mock = MockProviders::start().await;
    let designed = json!({
        "schema": synth::design(
            "Binary classifier for email spam detection",
            Some("Email dataset with subject, body, sender features"),
        ),
        "recommendations": ["Hold out a time-based test split"],
    });
    mock.answer(Provider::Openai, designed);
    let app = synthetic_data::router(api_tests::state_with_mock(&mock, &[Provider::Openai], &[]));
    let b = generate(
        &app,
        &json!({
            "model_description": "Binary classifier for email spam detection",
            "existing_data": "Email dataset with subject, body, sender features",
            "target_count": 500
        }),
    )
    .await;
    assert_eq!(b["provider"], "openai");
    assert_eq!(
        b["synthetic_data"]["data_schema"]["schema_source"],
        "openai"
    );
    let details = b["recommendation_details"].as_array().unwrap();
    assert!(details
        .iter()
        .any(|r| r["source"] == "openai" && r["text"] == "Hold out a time-based test split"));
    assert_eq!(b["usage"]["providers"][0]["provider"], "openai");
    assert!(b["usage"]["providers"][0]["total_tokens"].as_u64().unwrap() > 0);
    let request = &mock.requests(Provider::Openai)[0];
    assert_eq!(
        request.body["response_format"]["json_schema"]["name"],
        "synthetic_data_schema"
    );
}

#[tokio::test]
async fn a_failing_provider_falls_back_to_the_builtin_designer_and_says_so() {
    let mock = MockProviders::start().await;
    mock.script(Provider::Openai, vec![Step::Status(500); 5]);
    let app = synthetic_data::router(api_tests::state_with_mock(&mock, &[Provider::Openai], &[]));
    let mut body = spec_request();
    body["target_count"] = json!(200);
    let b = generate(&app, &body).await;
    assert_eq!(b["provider"], "builtin");
    assert_eq!(b["provider_attempts"][0]["provider"], "openai");
    assert_eq!(b["provider_attempts"][0]["outcome"], "provider_error");
    assert_eq!(b["usage"]["providers"][0]["failed_calls"], 3);
}

fn explicit_schema() -> Value {
    json!({
        "columns": [
            {"name": "age", "type": "integer", "distribution": {"name": "normal", "mean": 40.0, "std": 12.0}, "min": 18, "max": 90},
            {"name": "income", "type": "numeric", "distribution": {"name": "lognormal", "mu": 10.5, "sigma": 0.6}, "min": 0.0, "decimals": 2},
            {"name": "segment", "type": "categorical", "categories": ["a", "b", "c"], "weights": [0.5, 0.3, 0.2]},
            {"name": "member", "type": "boolean", "p_true": 0.3}
        ],
        "target": {"name": "churned", "classes": ["no", "yes"], "weights": [0.8, 0.2]},
        "correlations": [{"a": "age", "b": "income", "r": 0.5}, {"a": "income", "b": "churned", "r": -0.4}]
    })
}

#[tokio::test]
async fn explicit_schemas_are_reproducible_by_seed() {
    let app = synthetic_data::router(sqlite_state());
    let body = json!({"schema": explicit_schema(), "target_count": 2000, "seed": 42});
    let a = generate(&app, &body).await;
    assert_eq!(
        a["synthetic_data"]["data_schema"]["schema_source"],
        "explicit"
    );
    assert_eq!(a["synthetic_data"]["seed"], 42);
    let b = generate(&app, &body).await;
    let (ida, idb) = (
        a["synthetic_data"]["dataset_id"].as_str().unwrap(),
        b["synthetic_data"]["dataset_id"].as_str().unwrap(),
    );
    assert_ne!(ida, idb);
    assert_eq!(
        download(&app, ida, "csv").await,
        download(&app, idb, "csv").await
    );
    let mut other = body.clone();
    other["seed"] = json!(43);
    let c = generate(&app, &other).await;
    let idc = c["synthetic_data"]["dataset_id"].as_str().unwrap();
    assert_ne!(
        download(&app, ida, "csv").await,
        download(&app, idc, "csv").await
    );
    // natural balance: about 20 % churners
    let ratio = a["synthetic_data"]["quality_metrics"]["balance_ratio"]
        .as_f64()
        .unwrap();
    assert!((0.18..0.33).contains(&ratio), "natural ratio {ratio}");
}

#[tokio::test]
async fn balance_modes() {
    let app = synthetic_data::router(sqlite_state());
    for (balance, want) in [
        (json!("stratified"), 1.0),
        (json!(0.25), 0.25),
        (json!("1:2"), 0.5),
    ] {
        let body = json!({"schema": explicit_schema(), "target_count": 1000, "seed": 1,
                          "quality_requirements": {"balance": balance}});
        let b = generate(&app, &body).await;
        let got = b["synthetic_data"]["quality_metrics"]["balance_ratio"]
            .as_f64()
            .unwrap();
        assert!((got - want).abs() < 0.01, "{balance}: {got}");
    }
}

#[tokio::test]
async fn sample_rows_are_fitted_and_scored_against() {
    let app = synthetic_data::router(sqlite_state());
    let rows: Vec<Value> = (0..200)
        .map(|i| {
            let x = (i as f64) / 10.0;
            let kind = ["red", "green", "blue"][i % 3];
            let y = 2.0 * x + ((i * 7919) % 13) as f64 / 10.0;
            json!({"x": x, "y": y, "kind": kind, "label": i32::from(i % 4 == 0)})
        })
        .collect();
    let b = generate(
        &app,
        &json!({"sample_rows": rows, "target": "label", "target_count": 3000, "seed": 5}),
    )
    .await;
    let s = &b["synthetic_data"];
    assert_eq!(s["data_schema"]["schema_source"], "fitted");
    assert_eq!(s["data_schema"]["target"], "label");
    assert_eq!(s["quality_metrics"]["method"], "sdmetrics_quality_report");
    let realism = s["quality_metrics"]["realism_score"].as_f64().unwrap();
    assert!(
        realism > 0.7,
        "a fitted copula reproduces its sample: {realism}"
    );
    assert!(s["fit_report"]["columns"].as_array().unwrap().len() >= 3);

    let csv = "a,b,flag\n1.5,x,true\n2.5,y,false\n3.0,x,true\n4.2,y,false\n5.1,x,true\n";
    let b = generate(&app, &json!({"sample_rows": csv, "target_count": 50})).await;
    assert_eq!(
        b["synthetic_data"]["data_schema"]["schema_source"],
        "fitted"
    );
    assert!(b["recommendation_details"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["reason"] == "few_sample_rows"));
}

#[tokio::test]
async fn sample_rows_get_a_privacy_report_and_a_holdout_keeps_rows_out_of_the_fit() {
    let app = synthetic_data::router(sqlite_state());
    let rows: Vec<Value> = (0..200)
        .map(|i| {
            let x = ((i * 37) % 101) as f64 / 10.0;
            let kind = ["red", "green", "blue"][i % 3];
            let n = (i * 7) % 12;
            json!({"x": x, "n": n, "kind": kind, "label": if i % 4 == 0 { "yes" } else { "no" }})
        })
        .collect();
    let b = generate(
        &app,
        &json!({"sample_rows": rows, "target": "label", "target_count": 2000, "seed": 3,
                "privacy": {"holdout": 0.25}}),
    )
    .await;
    let p = &b["synthetic_data"]["quality_metrics"]["privacy"];
    assert_eq!(p["real_rows"], 150, "{p}");
    assert_eq!(p["synthetic_rows"], 2000);
    let columns: Vec<(&str, &str)> = p["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["measure"].as_str().unwrap()))
        .collect();
    assert_eq!(
        columns,
        [
            ("x", "numeric"),
            ("n", "numeric"),
            ("kind", "categorical"),
            ("label", "categorical")
        ]
    );
    for key in ["exact_match_rate", "dcr_median", "dcr_p5", "nndr_median"] {
        let v = p[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{key}: {v}");
    }
    assert!(p["dcr_p5"].as_f64() <= p["dcr_median"].as_f64());
    let baseline = &p["dcr_baseline_protection"];
    // A copula's rows are new rows, not copies: far from random, but not on top of the real.
    assert!(
        baseline["median_dcr_random"].as_f64().unwrap() > 0.0,
        "{baseline}"
    );
    assert!(baseline["score"].as_f64().unwrap() > 0.0);
    let o = &p["dcr_overfitting_protection"];
    assert_eq!(o["holdout_rows"], 50);
    let share = o["closer_to_training"].as_f64().unwrap();
    assert!((share + o["closer_to_holdout"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!(
        (o["score"].as_f64().unwrap() - ((1.0 - share) * 2.0).min(1.0)).abs() < 1e-12,
        "{o}"
    );
    assert!(b["timings"]["privacy_seconds"].as_f64().unwrap() >= 0.0);
    // Stored with the dataset.
    let id = b["synthetic_data"]["dataset_id"].as_str().unwrap();
    let d = get(&app, &format!("/v1/datasets/{id}")).await;
    assert_eq!(d.body["quality"]["privacy"], *p);

    // No holdout: no overfitting score; no sample rows: no report.
    let b = generate(
        &app,
        &json!({"sample_rows": rows, "target": "label", "target_count": 100, "seed": 3}),
    )
    .await;
    let p = &b["synthetic_data"]["quality_metrics"]["privacy"];
    assert_eq!(p["real_rows"], 200);
    assert!(p.get("dcr_overfitting_protection").is_none(), "{p}");
    let b = generate(&app, &spec_request()).await;
    assert!(b["synthetic_data"]["quality_metrics"]
        .get("privacy")
        .is_none());
    assert!(b["timings"].get("privacy_seconds").is_none());

    // Asked without sample rows, or holding out too much: 400s naming the field.
    for (body, field) in [
        (
            json!({"model_description": "churn", "privacy": {"holdout": 0.2}}),
            "privacy",
        ),
        (
            json!({"sample_rows": rows, "privacy": {"holdout": 0.9}}),
            "privacy.holdout",
        ),
        (
            json!({"sample_rows": rows, "privacy": {"holdout": 0}}),
            "privacy.holdout",
        ),
        (
            json!({"sample_rows": rows, "privacy": {"k": 1}}),
            "privacy.k",
        ),
        (
            json!({"sample_rows": &rows[..12], "privacy": {"holdout": 0.5}}),
            "privacy.holdout",
        ),
    ] {
        let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(details["field"], field, "{}", r.text);
    }
}

#[tokio::test]
async fn bad_inputs_are_validation_errors() {
    let app = synthetic_data::router(sqlite_state());
    for (count, field) in [
        (json!(0), "target_count"),
        (json!(1_000_001), "target_count"),
        (json!(-3), "target_count"),
        (json!("ten"), "target_count"),
    ] {
        let mut body = spec_request();
        body["target_count"] = count;
        let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
        assert_eq!(assert_envelope(&r, 400, "VALIDATION_ERROR")["field"], field);
    }
    let mut body = spec_request();
    body["data_format"] = json!("image");
    let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "data_format"
    );
    let mut bad = explicit_schema();
    bad["columns"][0]["distribution"]["std"] = json!(-1.0);
    let r = post_json(&app, "/v1/ai/synthetic-data", &json!({"schema": bad})).await;
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert!(
        details["field"]
            .as_str()
            .unwrap()
            .starts_with("schema.columns[0]"),
        "{details}"
    );
    let r = post_json(
        &app,
        "/v1/ai/synthetic-data",
        &json!({"model_description": "x", "providers": ["gemini"]}),
    )
    .await;
    assert_envelope(&r, 400, "MISSING_API_KEY");
    let r = post_json(&app, "/v1/ai/synthetic-data", &json!({"sample_rows": 5})).await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "sample_rows"
    );
}

#[tokio::test]
async fn a_hundred_thousand_rows_download_whole_in_both_formats() {
    let app = synthetic_data::router(sqlite_state());
    let b = generate(
        &app,
        &json!({"schema": explicit_schema(), "target_count": 100_000, "seed": 9}),
    )
    .await;
    let id = b["synthetic_data"]["dataset_id"]
        .as_str()
        .unwrap()
        .to_string();
    let csv = download(&app, &id, "csv").await;
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 100_001);
    assert_eq!(rows[0], ["age", "income", "segment", "member", "churned"]);
    assert!(rows[1..].iter().all(|r| r.len() == 5));
    let jsonl = download(&app, &id, "jsonl").await;
    let lines: Vec<&str> = jsonl.lines().collect();
    assert_eq!(lines.len(), 100_000);
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first.as_object().unwrap().len(), 5);
    let r = get(&app, &format!("/v1/datasets/{id}")).await;
    assert_eq!(r.body["rows"], 100_000);
    assert_eq!(r.body["schema"]["columns"].as_array().unwrap().len(), 4);
    // Parquet, written while the rows streamed: every row, typed columns, smaller than CSV.
    let p = get(&app, &format!("/v1/datasets/{id}/download?format=parquet")).await;
    assert_eq!(p.status, 200);
    assert_eq!(p.headers["content-type"], "application/vnd.apache.parquet");
    assert_eq!(
        p.bytes.len() as u64,
        r.body["parquet_bytes"].as_u64().unwrap()
    );
    assert!(
        p.bytes.len() < csv.len(),
        "{} vs {}",
        p.bytes.len(),
        csv.len()
    );
    let (names, rows) = synth::parquet_file::read_rows(p.bytes).unwrap();
    assert_eq!(names, ["age", "income", "segment", "member", "churned"]);
    assert_eq!(rows.len(), 100_000);
    let first_csv = &csv_rows(&csv)[1];
    for (cell, text) in rows[0].iter().zip(first_csv) {
        match cell {
            Value::String(s) => assert_eq!(s, text),
            Value::Bool(b) => assert_eq!(b.to_string(), *text),
            Value::Number(n) => assert_eq!(n.as_f64().unwrap(), text.parse::<f64>().unwrap()),
            Value::Null => assert!(text.is_empty()),
            other => panic!("{other}"),
        }
    }
}

#[tokio::test]
async fn parquet_keeps_each_column_type_both_ways() {
    let app = synthetic_data::router(sqlite_state());
    let csv = "id,count,price,name,active,seen,empty\n\
               1,3,1.5,ann,true,2024-01-02T03:04:05Z,\n\
               2,,2.25,\"b, c\",false,2024-02-29,\n\
               3,-9,,,true,,\n";
    let r = upload(&app, "?name=types&target=active", "text/csv", csv).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body["download_urls"]["parquet"],
        format!("/v1/datasets/{id}/download?format=parquet")
    );
    let p = get(&app, &format!("/v1/datasets/{id}/download?format=parquet")).await;
    assert_eq!(p.status, 200, "{}", p.text);
    let (names, rows) = synth::parquet_file::read_rows(p.bytes.clone()).unwrap();
    assert_eq!(
        names,
        ["id", "count", "price", "name", "active", "seen", "empty"]
    );
    assert_eq!(
        rows,
        vec![
            vec![
                json!(1),
                json!(3),
                json!(1.5),
                json!("ann"),
                json!(true),
                json!("2024-01-02T03:04:05Z"),
                Value::Null
            ],
            vec![
                json!(2),
                Value::Null,
                json!(2.25),
                json!("b, c"),
                json!(false),
                json!("2024-02-29T00:00:00Z"),
                Value::Null
            ],
            vec![
                json!(3),
                json!(-9),
                Value::Null,
                Value::Null,
                json!(true),
                Value::Null,
                Value::Null
            ],
        ]
    );
    // The same file uploaded back is the same table.
    let again = send(
        &app,
        http::Request::post("/v1/datasets?name=again&target=active")
            .header("content-type", "application/vnd.apache.parquet")
            .body(axum::body::Body::from(p.bytes.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.body["rows"], 3);
    let kinds = |v: &Value| -> Vec<String> {
        v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{}:{}", c["name"], c["kind"]))
            .collect()
    };
    assert_eq!(kinds(&again.body), kinds(&r.body));
    let back = get(
        &app,
        &format!(
            "/v1/datasets/{}/download?format=parquet",
            again.body["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(synth::parquet_file::read_rows(back.bytes).unwrap().1, rows);
    // Not Parquet: a 400 that says so.
    let bad = send(
        &app,
        http::Request::post("/v1/datasets?target=active")
            .header("content-type", "application/vnd.apache.parquet")
            .body(axum::body::Body::from("id,active\n1,true\n"))
            .unwrap(),
    )
    .await;
    let details = assert_envelope(&bad, 400, "VALIDATION_ERROR");
    assert_eq!(details["field"], "body", "{}", bad.text);
    assert!(bad.text.contains("Parquet"), "{}", bad.text);
}

#[tokio::test]
async fn a_parquet_text_column_of_numerals_stays_text() {
    use synth::{Cell, ParquetSink, ParquetType};
    let app = synthetic_data::router(sqlite_state());
    let header = ["zip", "count", "label"].map(String::from);
    let mut sink = ParquetSink::new(
        Vec::new(),
        &header,
        vec![ParquetType::Text, ParquetType::Int64, ParquetType::Text],
    )
    .unwrap();
    for (zip, count, label) in [("94107", 1, "a"), ("10001", 2, "b"), ("60601", 3, "a")] {
        sink.write_row(&[
            Cell::Text(zip.into()),
            Cell::Int(count),
            Cell::Text(label.into()),
        ])
        .unwrap();
    }
    let file = sink.finish().unwrap();
    let r = send(
        &app,
        http::Request::post("/v1/datasets?name=zips&target=label")
            .header("content-type", "application/vnd.apache.parquet")
            .body(axum::body::Body::from(file))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let kinds: Vec<(String, String)> = r.body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(kinds[0], ("zip".to_string(), "categorical".to_string()));
    assert_eq!(kinds[1], ("count".to_string(), "integer".to_string()));
    let id = r.body["id"].as_str().unwrap();
    let p = get(&app, &format!("/v1/datasets/{id}/download?format=parquet")).await;
    let (_, rows) = synth::parquet_file::read_rows(p.bytes).unwrap();
    assert_eq!(rows[0], vec![json!("94107"), json!(1), json!("a")]);
    let j = get(&app, &format!("/v1/datasets/{id}/download?format=jsonl")).await;
    assert!(
        j.text.starts_with(r#"{"zip":"94107","count":1"#),
        "{}",
        j.text
    );
}

#[tokio::test]
async fn datasets_list_get_and_errors() {
    let app = synthetic_data::router(sqlite_state());
    let mut ids = Vec::new();
    for seed in 0..3 {
        let b = generate(
            &app,
            &json!({"schema": explicit_schema(), "target_count": 10, "seed": seed}),
        )
        .await;
        ids.push(
            b["synthetic_data"]["dataset_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.reverse();
    let r = get(&app, "/v1/datasets?limit=2").await;
    assert_eq!(r.status, 200);
    let page: Vec<&str> = r.body["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, [ids[0].as_str(), ids[1].as_str()]);
    let token = r.body["next_token"].as_str().unwrap();
    let r = get(&app, &format!("/v1/datasets?limit=2&next_token={token}")).await;
    assert_eq!(r.body["datasets"][0]["id"], ids[2].as_str());
    assert!(r.body["next_token"].is_null());

    let r = get(&app, "/v1/datasets/ds_01jzzzzzzzzzzzzzzzzzzzzzzz").await;
    assert_envelope(&r, 404, "NOT_FOUND");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("POST /v1/datasets"));
    let r = get(
        &app,
        &format!("/v1/datasets/{}/download?format=xlsx", ids[0]),
    )
    .await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "format"
    );
    let r = get(&app, "/v1/datasets?limit=0").await;
    assert_envelope(&r, 400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn csv_uploads_become_datasets() {
    let app = synthetic_data::router(sqlite_state());
    let csv = "sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n\"4,9\",1.5,setosa\n";
    let r = send(
        &app,
        Request::post("/v1/datasets?name=iris&target=species")
            .header("content-type", "text/csv")
            .body(Body::from(csv))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["origin"], "uploaded");
    assert_eq!(r.body["rows"], 4);
    assert_eq!(r.body["target"], "species");
    let id = r.body["id"].as_str().unwrap().to_string();
    let back = download(&app, &id, "csv").await;
    assert_eq!(back.lines().count(), 5);
    assert!(back.starts_with("sepal,petal,species") || back.contains("species"));

    let r = post_json(
        &app,
        "/v1/datasets",
        &json!({"name": "tiny", "rows": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["rows"], 2);

    let r = send(
        &app,
        Request::post("/v1/datasets")
            .header("content-type", "image/png")
            .body(Body::from("x"))
            .unwrap(),
    )
    .await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "content-type"
    );
    let r = send(
        &app,
        Request::post("/v1/datasets")
            .header("content-type", "text/csv")
            .body(Body::from("a,b\n"))
            .unwrap(),
    )
    .await;
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    let big = format!("a\n{}", "1\n".repeat(4 * 1024 * 1024));
    let r = send(
        &app,
        Request::post("/v1/datasets")
            .header("content-type", "text/csv")
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    assert_envelope(&r, 413, "PAYLOAD_TOO_LARGE");
}

async fn upload(app: &Router, query: &str, content_type: &str, body: &str) -> api_tests::Reply {
    send(
        app,
        Request::post(format!("/v1/datasets{query}"))
            .header("content-type", content_type)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

fn column<'a>(record: &'a Value, name: &str) -> &'a Value {
    record["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name:?} in {record}"))
}

/// A stored upload is the bytes that were sent, cell for cell: leading zeros, long integers,
/// decimals as written, booleans' case, header spaces, quotes, unicode, an all-empty column.
#[tokio::test]
async fn an_upload_downloads_byte_for_byte_and_says_how_each_column_was_read() {
    let app = synthetic_data::router(sqlite_state());
    let csv = "id,zip,amt,flag,empty, note ,label\n\
               1,00501,1.50,TRUE,,\"a, \"\"quoted\"\" note\",a\n\
               2,007,123456789012345678901,False,,naïve café,b\n\
               3,02134,1e3,true,,\"line\nbreak\",a\n\
               4,10001,-0.25,FALSE,,,b\n";
    let r = upload(&app, "?target=label", "text/csv", csv).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let record = r.body.clone();
    let id = record["id"].as_str().unwrap().to_string();
    assert_eq!(
        download(&app, &id, "csv").await,
        csv,
        "the CSV comes back as sent"
    );

    assert_eq!(column(&record, "zip")["kind"], "categorical");
    assert!(column(&record, "zip")["reason"]
        .as_str()
        .unwrap()
        .contains("leading zeros"));
    assert_eq!(column(&record, "empty")["kind"], "empty");
    assert_eq!(column(&record, "amt")["kind"], "numeric");
    assert_eq!(column(&record, "flag")["kind"], "boolean");
    assert_eq!(column(&record, "id")["kind"], "integer");
    assert_eq!(column(&record, " note ")["kind"], "categorical");
    assert_eq!(column(&record, "label")["kind"], "target");
    let names: Vec<&str> = record["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["id", "zip", "amt", "flag", "empty", " note ", "label"]
    );

    let jsonl = download(&app, &id, "jsonl").await;
    let lines: Vec<&str> = jsonl.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines[0].starts_with(r#"{"id":1,"zip":"00501","amt":1.50,"flag":true,"empty":null,"#),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(r#""amt":123456789012345678901"#),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(r#""zip":"007""#), "{}", lines[1]);
    assert!(lines[1].contains("naïve café"), "{}", lines[1]);
    assert!(lines[2].contains(r#""amt":1e3"#), "{}", lines[2]);
    for line in &lines {
        let v: Value = serde_json::from_str(line).expect("each line is JSON");
        assert_eq!(v.as_object().unwrap().len(), 7, "{line}");
    }
    let third: Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(third[" note "], "line\nbreak");
}

#[tokio::test]
async fn json_rows_are_stored_as_the_csv_they_spell() {
    let app = synthetic_data::router(sqlite_state());
    let body = r#"{"target": "label", "rows": [
        {"zip": "00501", "amt": 1.50, "big": 123456789012345678901, "ok": true, "note": "", "label": "a"},
        {"zip": "007", "amt": 1e3, "big": 2, "ok": false, "note": "x, y", "label": "b"},
        {"zip": "02134", "amt": -0.25, "ok": null, "label": "a"}
    ]}"#;
    let r = upload(&app, "", "application/json", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        download(&app, &id, "csv").await,
        "zip,amt,big,ok,note,label\n00501,1.50,123456789012345678901,true,,a\n007,1e3,2,false,\"x, y\",b\n02134,-0.25,,,,a\n"
    );
    assert_eq!(column(&r.body, "zip")["kind"], "categorical");

    // A key sent twice is refused, as on every other JSON route.
    let r = upload(
        &app,
        "",
        "application/json",
        r#"{"rows": [{"a": 1, "b": 2}], "rows": []}"#,
    )
    .await;
    assert!(assert_envelope(&r, 400, "VALIDATION_ERROR")["expected"]
        .as_str()
        .is_some());
    assert!(r.text.contains("duplicate key"), "{}", r.text);
    let r = upload(
        &app,
        "",
        "application/json",
        r#"{"rows": [{"a": 1, "a": 2}, {"a": 3}]}"#,
    )
    .await;
    assert_envelope(&r, 400, "VALIDATION_ERROR");
    let r = upload(
        &app,
        "",
        "application/json",
        r#"{"rows": [{"a": 1, "b": [1]}, {"a": 3, "b": 2}]}"#,
    )
    .await;
    assert_eq!(
        assert_envelope(&r, 400, "VALIDATION_ERROR")["field"],
        "rows[0].b"
    );
}

/// With the dev server's signed URLs configured, a body above 1 MiB is a redirect to one
/// (the emulator loses large responses); a smaller one is inline, marked as text so
/// lambda_http does not base64-encode JSON Lines.
#[tokio::test]
async fn large_local_downloads_redirect_to_a_signed_url() {
    let state = api_tests::state_with(
        api_tests::sqlite_store(),
        &[
            ("MLAAS_LOCAL_BLOB_URL", "http://127.0.0.1:9/blobs"),
            (
                "MLAAS_LOCAL_BLOB_SECRET",
                "00112233445566778899aabbccddeeff",
            ),
        ],
    );
    let app = synthetic_data::router(state);
    let small = generate(
        &app,
        &json!({"model_description": "fraud", "target_count": 100, "seed": 1}),
    )
    .await;
    let id = small["synthetic_data"]["dataset_id"].as_str().unwrap();
    let r = get(&app, &format!("/v1/datasets/{id}/download?format=jsonl")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-lambda-http-content-encoding"], "text");
    let big = generate(
        &app,
        &json!({"model_description": "fraud", "target_count": 60000, "seed": 1}),
    )
    .await;
    let id = big["synthetic_data"]["dataset_id"].as_str().unwrap();
    for format in ["csv", "jsonl"] {
        let r = get(&app, &format!("/v1/datasets/{id}/download?format={format}")).await;
        assert_eq!(r.status, 302, "{format}: {}", r.text);
        let location = r.headers["location"].to_str().unwrap();
        assert!(
            location.starts_with(&format!(
                "http://127.0.0.1:9/blobs/datasets/{id}.{format}?expires="
            )),
            "{location}"
        );
        assert!(location.contains("&signature="), "{location}");
    }
}

#[tokio::test]
async fn constraints_hold_on_every_row_and_are_reported() {
    let app = synthetic_data::router(sqlite_state());
    let mut schema = explicit_schema();
    for (name, mean) in [("start", 10.0), ("end", 11.0)] {
        schema["columns"].as_array_mut().unwrap().push(json!(
            {"name": name, "type": "numeric", "distribution": {"name": "normal", "mean": mean, "std": 3.0}}
        ));
    }
    let constraints = json!([
        {"type": "range", "column": "age", "min": 25, "max": 60},
        {"type": "inequality", "low": "start", "high": "end"},
        {"type": "positive", "columns": ["start"], "strict": true}
    ]);
    let body = json!({"schema": schema, "target_count": 2000, "seed": 3,
                      "quality_requirements": {"balance": "stratified"},
                      "constraints": constraints});
    let r = generate(&app, &body).await;
    let report = &r["synthetic_data"]["constraints"];
    let methods: Vec<&str> = report["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["rejection", "swap", "rejection"], "{report}");
    assert_eq!(report["accepted"], 2000);
    assert!(report["rejection_rate"].as_f64().unwrap() > 0.0, "{report}");
    assert!(report["constraints"][1]["transformed"].as_u64().unwrap() > 0);
    let id = r["synthetic_data"]["dataset_id"].as_str().unwrap();
    let rows = csv_rows(&download(&app, id, "csv").await);
    let header = &rows[0];
    let at = |n: &str| header.iter().position(|h| h == n).unwrap();
    assert_eq!(rows.len(), 2001);
    let mut yes = 0;
    for row in &rows[1..] {
        let num = |n: &str| row[at(n)].parse::<f64>().unwrap();
        assert!((25.0..=60.0).contains(&num("age")), "{row:?}");
        assert!(num("start") < num("end") && num("start") > 0.0, "{row:?}");
        yes += usize::from(row[at("churned")] == "yes");
    }
    assert_eq!(
        yes, 1000,
        "a stratified balance stays exact under rejection"
    );
    // The dataset keeps what its rows were held to.
    let d = get(&app, &format!("/v1/datasets/{id}")).await.body;
    let given = &d["quality"]["constraints"]["given"];
    assert_eq!(
        given[0],
        json!({"type": "range", "column": "age", "min": 25.0, "max": 60.0})
    );
    assert_eq!(
        given[1],
        json!({"type": "inequality", "low": "start", "high": "end"}),
        "{d}"
    );
    assert_eq!(d["quality"]["constraints"]["report"], *report);

    // Bad and impossible constraints are named, and nothing is stored.
    for (c, needle) in [
        (json!({"type": "range"}), "missing field `column`"),
        (
            json!({"type": "between", "column": "age"}),
            "unknown variant",
        ),
        (
            json!({"type": "range", "column": "age", "min": 200}),
            "rejected 1000",
        ),
        (
            json!({"type": "fixed_combinations", "columns": ["segment"]}),
            "needs sample_rows",
        ),
        (
            json!({"type": "positive", "columns": ["segment"]}),
            "numeric, integer or datetime",
        ),
    ] {
        let body = json!({"schema": explicit_schema(), "target_count": 100, "seed": 1,
                          "constraints": [c]});
        let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
        api_tests::assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(
            r.body["error"]["details"]["field"], "constraints[0]",
            "{}",
            r.body
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn fixed_combinations_come_from_the_sample_rows() {
    let app = synthetic_data::router(sqlite_state());
    let mut csv = String::from("city,plan,spend,label\n");
    for i in 0..300 {
        let (city, plan) = [("paris", "gold"), ("paris", "basic"), ("lyon", "basic")][i % 3];
        csv.push_str(&format!("{city},{plan},{},{}\n", 10 + i % 37, i % 2));
    }
    let body = json!({"sample_rows": csv, "target": "label", "target_count": 1000, "seed": 5,
                      "constraints": [{"type": "fixed_combinations", "columns": ["city", "plan"]}]});
    let r = generate(&app, &body).await;
    let id = r["synthetic_data"]["dataset_id"].as_str().unwrap();
    let rows = csv_rows(&download(&app, id, "csv").await);
    let at = |n: &str| rows[0].iter().position(|h| h == n).unwrap();
    for row in &rows[1..] {
        let combo = (row[at("city")].as_str(), row[at("plan")].as_str());
        assert_ne!(
            combo,
            ("lyon", "gold"),
            "a combination the sample never had"
        );
    }
    assert_eq!(rows.len(), 1001);
}

/// A table built to satisfy known constraints: `start < end`, `x + y = 100`, a one-hot group
/// `red, green, blue`, `amount > 0`, and `city`/`plan` never `lyon`/`gold`.
fn constrained_csv() -> String {
    let mut csv = String::from("start,end,x,y,red,green,blue,amount,city,plan,label\n");
    for i in 0..400u32 {
        let start = f64::from(i % 50) * 1.5;
        let end = start + 1.0 + f64::from(i % 7);
        let x = f64::from(i % 83) + 0.25;
        let hot = i % 3;
        let (city, plan) =
            [("paris", "gold"), ("paris", "basic"), ("lyon", "basic")][(i % 5 % 3) as usize];
        csv.push_str(&format!(
            "{start},{end},{x},{},{},{},{},{},{city},{plan},{}\n",
            100.0 - x,
            u32::from(hot == 0),
            u32::from(hot == 1),
            u32::from(hot == 2),
            1.0 + f64::from(i % 91) * 0.5,
            i % 2
        ));
    }
    csv
}

#[tokio::test]
async fn sample_rows_answer_suggested_constraints_that_can_be_passed_back() {
    let app = synthetic_data::router(sqlite_state());
    let csv = constrained_csv();
    let body = json!({"sample_rows": csv, "target": "label", "target_count": 500, "seed": 9});
    let reply = post_json(&app, "/v1/ai/synthetic-data", &body).await;
    api_tests::openapi::assert_conforms("POST", "/v1/ai/synthetic-data", &reply);
    let r = reply.body;
    let suggested = r["synthetic_data"]["suggested_constraints"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .clone();
    let constraints: Vec<Value> = suggested.iter().map(|s| s["constraint"].clone()).collect();
    for s in &suggested {
        assert_eq!(s["support"], 400, "every row has every value: {s}");
        assert!(!s["reason"].as_str().unwrap().is_empty());
    }
    for wanted in [
        json!({"type": "inequality", "low": "start", "high": "end"}),
        json!({"type": "one_hot", "columns": ["red", "green", "blue"]}),
        json!({"type": "sum", "columns": ["x", "y"], "total": 100.0}),
        json!({"type": "fixed_combinations", "columns": ["city", "plan"]}),
    ] {
        assert!(
            constraints.contains(&wanted),
            "{wanted} not in {constraints:?}"
        );
    }
    assert!(
        constraints.iter().any(|c| c["type"] == "positive"
            && c["strict"] == true
            && c["columns"].as_array().unwrap().contains(&json!("amount"))),
        "{constraints:?}"
    );
    assert!(constraints
        .contains(&json!({"type": "range", "column": "amount", "min": 1.0, "max": 46.0})));
    // The dataset keeps them.
    let id = r["synthetic_data"]["dataset_id"].as_str().unwrap();
    let d = get(&app, &format!("/v1/datasets/{id}")).await.body;
    assert_eq!(d["quality"]["suggested_constraints"], json!(suggested));

    // Passed back, they hold on every generated row.
    let body = json!({"sample_rows": csv, "target": "label", "target_count": 500, "seed": 9,
                      "constraints": constraints});
    let r = generate(&app, &body).await;
    assert_eq!(r["synthetic_data"]["constraints"]["accepted"], 500, "{r}");
    let id = r["synthetic_data"]["dataset_id"].as_str().unwrap();
    let rows = csv_rows(&download(&app, id, "csv").await);
    let at = |n: &str| rows[0].iter().position(|h| h == n).unwrap();
    assert_eq!(rows.len(), 501);
    for row in &rows[1..] {
        let num = |n: &str| row[at(n)].parse::<f64>().unwrap();
        assert!(num("start") < num("end"), "{row:?}");
        assert!((num("x") + num("y") - 100.0).abs() <= 1e-7, "{row:?}");
        assert_eq!(num("red") + num("green") + num("blue"), 1.0, "{row:?}");
        assert!(num("amount") > 0.0 && num("amount") <= 46.0, "{row:?}");
        assert_ne!(
            (row[at("city")].as_str(), row[at("plan")].as_str()),
            ("lyon", "gold")
        );
    }

    // An upload answers them too; an explicit schema has none to suggest.
    let r = post_json(
        &app,
        "/v1/datasets",
        &json!({"csv": csv, "target": "label"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    api_tests::openapi::assert_conforms("POST", "/v1/datasets", &r);
    assert_eq!(r.body["suggested_constraints"], json!(suggested));
    let r = generate(
        &app,
        &json!({"schema": explicit_schema(), "target_count": 10}),
    )
    .await;
    assert!(r["synthetic_data"].get("suggested_constraints").is_none());
}

/// Conditions on sample rows (a range, category shares, the target's value) with a
/// constraint: every downloaded row meets them, the shares are exact, the report and the
/// stored dataset say so; an impossible condition is a 422 that stores nothing.
async fn conditions_hold_on_every_row_and_are_stored(store: shared::store::SharedStore) {
    let state = api_tests::state_with(store, &[]);
    let app = synthetic_data::router(state);
    let conditions = json!([
        {"column": "amount", "min": 20.0, "max": 30.0},
        {"column": "city", "values": {"paris": 0.4, "lyon": 0.6}},
        {"column": "label", "value": 1}
    ]);
    let body = json!({"sample_rows": constrained_csv(), "target": "label", "target_count": 500,
                      "seed": 4, "conditions": conditions,
                      "constraints": [{"type": "inequality", "low": "start", "high": "end"}]});
    let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    api_tests::openapi::assert_conforms("post", "/v1/ai/synthetic-data", &r);
    let report = &r.body["synthetic_data"]["conditions"];
    assert_eq!(report["accepted"], 500, "{report}");
    let c = &report["conditions"];
    assert_eq!(c[0]["type"], "range");
    assert_eq!(
        c[1]["counts"],
        json!({"lyon": 300, "paris": 200}),
        "{report}"
    );
    // The rarest interval (amount in [20, 30]) is sampled from the conditioned copula.
    assert_eq!(c[0]["method"], "copula", "{report}");
    assert_eq!(c[0]["rejected"], 0, "{report}");
    assert_eq!(c[2]["method"], "rejection", "{report}");
    let id = r.body["synthetic_data"]["dataset_id"].as_str().unwrap();
    let rows = csv_rows(&download(&app, id, "csv").await);
    assert_eq!(rows.len(), 501);
    let at = |n: &str| rows[0].iter().position(|h| h == n).unwrap();
    let mut paris = 0;
    for row in &rows[1..] {
        let num = |n: &str| row[at(n)].parse::<f64>().unwrap();
        assert!((20.0..=30.0).contains(&num("amount")), "{row:?}");
        assert!(num("start") < num("end"), "{row:?}");
        assert_eq!(row[at("label")], "1", "{row:?}");
        paris += usize::from(row[at("city")] == "paris");
    }
    assert_eq!(paris, 200);
    let d = get(&app, &format!("/v1/datasets/{id}")).await.body;
    assert_eq!(d["quality"]["conditions"]["given"], conditions, "{d}");
    assert_eq!(d["quality"]["conditions"]["report"], *report);

    // No row can meet these: 422 naming the condition, and nothing stored.
    let before = get(&app, "/v1/datasets").await.body["datasets"]
        .as_array()
        .unwrap()
        .len();
    for (conditions, field, needle) in [
        (
            json!([{"column": "amount", "min": 5000}]),
            "conditions[0]",
            "no probability",
        ),
        (
            json!([{"column": "label", "value": 1}, {"column": "city", "value": "nice"}]),
            "conditions[1]",
            "is not a value",
        ),
        (
            // end ≤ 2 is the rarer, sampled exactly; start ≥ 70 then almost never holds.
            json!([{"column": "start", "min": 70}, {"column": "end", "max": 2}]),
            "conditions[0]",
            "condition on \"start\" rejected",
        ),
    ] {
        let body = json!({"sample_rows": constrained_csv(), "target": "label",
                          "target_count": 200, "seed": 1, "conditions": conditions});
        let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
        if needle == "is not a value" {
            assert_envelope(&r, 400, "VALIDATION_ERROR");
        } else {
            assert_envelope(&r, 422, "UNSATISFIABLE");
            api_tests::openapi::assert_conforms("post", "/v1/ai/synthetic-data", &r);
        }
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{}",
            r.body
        );
    }
    let after = get(&app, "/v1/datasets").await.body["datasets"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "a refused request stores nothing");
}

#[tokio::test]
async fn bad_conditions_are_validation_errors() {
    let app = synthetic_data::router(sqlite_state());
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"column": format!("c{i}"), "value": 1}))
        .collect();
    for (conditions, field) in [
        (json!("amount > 3"), "conditions"),
        (json!(many), "conditions"),
        (json!([{"column": "age", "equals": 3}]), "conditions[0]"),
        (json!([{"column": "age", "min": "young"}]), "conditions[0]"),
        (json!([{"column": "nope", "value": 3}]), "conditions[0]"),
        (json!([{"column": "segment", "min": 1}]), "conditions[0]"),
    ] {
        let body = json!({"schema": explicit_schema(), "target_count": 50, "seed": 1,
                          "conditions": conditions});
        let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
        assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.body);
    }
    // An explicit schema takes conditions too.
    let body = json!({"schema": explicit_schema(), "target_count": 300, "seed": 2,
                      "conditions": [{"column": "age", "value": 33},
                                     {"column": "member", "value": true}]});
    let r = generate(&app, &body).await;
    let id = r["synthetic_data"]["dataset_id"].as_str().unwrap();
    let rows = csv_rows(&download(&app, id, "csv").await);
    let at = |n: &str| rows[0].iter().position(|h| h == n).unwrap();
    assert!(rows[1..]
        .iter()
        .all(|row| row[at("age")] == "33" && row[at("member")] == "true"));
}

/// 40 stores, daily rows: `store` (key), `date` (index), `region` (constant per store; north
/// stores have longer histories), `sales` (an AR(1) series around 100), `promo` (per day).
fn sequences_csv() -> String {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut csv = String::from("store,date,region,sales,promo\n");
    for s in 0..40 {
        let north = s % 2 == 0;
        let len = if north {
            rng.random_range(30..50)
        } else {
            rng.random_range(8..20)
        };
        let mut z: f64 = 0.0;
        for d in 0..len {
            let e: f64 = rng.sample(rand_distr::StandardNormal);
            z = 0.85 * z + (1.0f64 - 0.85 * 0.85).sqrt() * e;
            let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
                + chrono::Duration::days(s * 3 + d);
            csv.push_str(&format!(
                "S{s:03},{date},{},{:.2},{}\n",
                if north { "north" } else { "south" },
                100.0 + 15.0 * z,
                rng.random_bool(0.2)
            ));
        }
    }
    csv
}

/// Sequential data from sample rows: whole entities with their context constant, dates in
/// order, the series' autocorrelation and the lengths measured; stored and downloadable.
async fn sequences_keep_entities_order_and_dependence(store: shared::store::SharedStore) {
    let app = synthetic_data::router(api_tests::state_with(store, &[]));
    let body = json!({"sample_rows": sequences_csv(), "data_format": "sequential",
                      "sequence_key": "store", "sequence_index": "date",
                      "target_count": 3000, "seed": 3});
    let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    api_tests::openapi::assert_conforms("post", "/v1/ai/synthetic-data", &r);
    let data = &r.body["synthetic_data"];
    assert_eq!(data["data_format"], "sequential");
    let seq = &data["sequences"];
    assert_eq!(seq["model"]["entities"], 40);
    assert_eq!(seq["model"]["index_kind"], "datetime");
    let q = &seq["quality"];
    assert_eq!(q["real_entities"], 40);
    assert!(q["length_similarity"].as_f64().unwrap() > 0.5, "{q}");
    let sales = q["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "sales")
        .unwrap();
    let (real, synthetic) = (
        sales["real"][0].as_f64().unwrap(),
        sales["synthetic"][0].as_f64().unwrap(),
    );
    assert!(real > 0.6 && (real - synthetic).abs() < 0.15, "{sales}");

    let id = data["dataset_id"].as_str().unwrap();
    let rows = csv_rows(&download(&app, id, "csv").await);
    assert_eq!(rows[0], ["store", "date", "region", "sales", "promo"]);
    assert_eq!(rows.len(), 3001);
    let mut last: Option<(String, String, String)> = None;
    let mut entities = 0;
    for row in &rows[1..] {
        let (store, date, region) = (row[0].clone(), row[1].clone(), row[2].clone());
        match &last {
            Some((s, d, reg)) if *s == store => {
                assert_eq!(*reg, region, "context is constant within an entity");
                assert!(date >= *d, "{d} then {date}");
            }
            _ => entities += 1,
        }
        assert!(store.starts_with("seq_"), "new keys: {store}");
        last = Some((store, date, region));
    }
    assert_eq!(q["synthetic_entities"], entities);
    let d = get(&app, &format!("/v1/datasets/{id}")).await.body;
    assert_eq!(d["quality"]["sequences"], *q);
    // The stored key column weighs each generated entity by its rows.
    let key = d["schema"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "store")
        .expect("the key column is in the stored schema");
    let categories = key["categories"].as_array().unwrap();
    assert_eq!(categories.len(), entities, "{key}");
    for (c, w) in categories.iter().zip(key["weights"].as_array().unwrap()) {
        let n = rows[1..]
            .iter()
            .filter(|r| r[0] == c.as_str().unwrap())
            .count();
        assert_eq!(w.as_f64(), Some(n as f64), "{c}");
    }

    // What sequences do not take is named.
    let base = || {
        json!({"sample_rows": sequences_csv(), "data_format": "sequential",
                         "sequence_key": "store", "target_count": 100})
    };
    let mut cases = Vec::new();
    let mut b = base();
    b.as_object_mut().unwrap().remove("sequence_key");
    cases.push((b, "sequence_key"));
    let mut b = base();
    b["sequence_key"] = json!("shop");
    cases.push((b, "sequence_key"));
    let mut b = base();
    b["constraints"] = json!([{"type": "positive", "columns": ["sales"]}]);
    cases.push((b, "constraints"));
    let mut b = base();
    b["target_count"] = json!(300_000);
    cases.push((b, "target_count"));
    let mut b = base();
    b.as_object_mut().unwrap().remove("sample_rows");
    b["model_description"] = json!("daily sales");
    cases.push((b, "sample_rows"));
    let mut b = base();
    b["data_format"] = json!("tabular");
    cases.push((b, "sequence_key"));
    for (body, field) in cases {
        let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
        assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.body);
    }
}

/// scikit-learn's breast-cancer table (569 rows, 30 measurements, `diagnosis`).
const BREAST_CANCER: &str = include_str!("../fixtures/breast_cancer.csv");

async fn utility_trains_on_synthetic_rows_and_tests_on_held_out_real_ones(
    store: shared::store::SharedStore,
) {
    let scratch = std::env::temp_dir().join(format!("utility-test-{}", rand::random::<u64>()));
    let app = synthetic_data::router(api_tests::state_with(
        store,
        &[("MLAAS_SCRATCH_DIR", scratch.to_str().unwrap())],
    ));
    let body = json!({"sample_rows": BREAST_CANCER, "target": "diagnosis", "target_count": 2000,
                      "seed": 11, "utility": {}});
    let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    api_tests::openapi::assert_conforms("post", "/v1/ai/synthetic-data", &r);
    let u = &r.body["synthetic_data"]["quality_metrics"]["utility"];
    // The default holdout: round(0.2 × 569) rows, never fitted.
    assert_eq!(
        (&u["holdout_rows"], &u["real_rows"], &u["synthetic_rows"]),
        (&json!(114), &json!(455), &json!(2000)),
        "{u}"
    );
    assert_eq!(
        (&u["task"], &u["metric"]),
        (&json!("classification"), &json!("accuracy"))
    );
    assert_eq!(u["model"]["family"], "gbm");
    let acc = |side: &str| u[side]["accuracy"].as_f64().unwrap();
    let (real, synthetic, baseline) = (acc("real"), acc("synthetic"), acc("baseline"));
    // Trees on the real rows separate the tumours; rows from the copula keep most of that.
    assert!(real > 0.9, "{u}");
    assert!(synthetic > 0.85 && synthetic > baseline + 0.15, "{u}");
    assert!(baseline > 0.5 && baseline < 0.75, "{u}");
    let ratio = u["ratio"].as_f64().unwrap();
    assert!((ratio - synthetic / real).abs() < 1e-12);
    assert!((u["score"].as_f64().unwrap() - ratio.min(1.0)).abs() < 1e-12);
    for side in ["real", "synthetic"] {
        let f1 = u[side]["macro_f1"].as_f64().unwrap();
        assert!(f1 > 0.8 && f1 <= 1.0, "{side}: {u}");
    }
    assert!(r.body["timings"]["utility_seconds"].as_f64().unwrap() > 0.0);
    let id = r.body["synthetic_data"]["dataset_id"].as_str().unwrap();
    let d = get(&app, &format!("/v1/datasets/{id}")).await;
    assert_eq!(d.body["quality"]["utility"], *u);

    // A numeric column is a regression; with privacy the two reports share the holdout.
    let body = json!({"sample_rows": BREAST_CANCER, "target": "diagnosis", "target_count": 1000,
                      "seed": 11, "utility": {"target": "mean_area"},
                      "privacy": {"holdout": 0.25}});
    let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let q = &r.body["synthetic_data"]["quality_metrics"];
    let u = &q["utility"];
    assert_eq!(
        (&u["task"], &u["metric"]),
        (&json!("regression"), &json!("r2"))
    );
    assert_eq!(u["holdout_rows"], 142);
    assert_eq!(
        q["privacy"]["dcr_overfitting_protection"]["holdout_rows"],
        142
    );
    let r2 = |side: &str| u[side]["r2"].as_f64().unwrap();
    // The area follows the radius and perimeter almost exactly.
    assert!(r2("real") > 0.95 && r2("synthetic") > 0.8, "{u}");
    assert!(r2("baseline") <= 0.0, "{u}");
    assert!(u["synthetic"]["rmse"].as_f64().unwrap() > 0.0);

    // One class left in the synthetic rows: no classifier, a 400 naming that side; nothing stored.
    let before = get(&app, "/v1/datasets").await.body["datasets"]
        .as_array()
        .map(Vec::len);
    let body = json!({"sample_rows": BREAST_CANCER, "target": "diagnosis", "target_count": 300,
                      "seed": 1, "utility": {},
                      "conditions": [{"column": "diagnosis", "value": "benign"}]});
    let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(details["field"], "utility.synthetic", "{}", r.text);
    assert!(r.text.contains("2 classes"), "{}", r.text);
    api_tests::openapi::assert_conforms("post", "/v1/ai/synthetic-data", &r);
    let after = get(&app, "/v1/datasets").await.body["datasets"]
        .as_array()
        .map(Vec::len);
    assert_eq!(before, after);
    // Nor are the generated files left behind.
    let left: Vec<_> = std::fs::read_dir(scratch.join("mlaas-generate"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(&scratch);
}

#[tokio::test]
async fn bad_utility_options_are_validation_errors() {
    let app = synthetic_data::router(sqlite_state());
    let small: Vec<Value> = (0..40)
        .map(|i| json!({"x": i, "label": if i % 2 == 0 { "a" } else { "b" }}))
        .collect();
    for (body, field) in [
        (
            json!({"model_description": "churn", "utility": {}}),
            "utility",
        ),
        (
            json!({"sample_rows": small, "target": "label", "utility": true}),
            "utility",
        ),
        (
            json!({"sample_rows": small, "target": "label", "utility": {"k": 1}}),
            "utility.k",
        ),
        (
            json!({"sample_rows": small, "target": "label", "utility": {"holdout": 0.7}}),
            "utility.holdout",
        ),
        (
            json!({"sample_rows": small, "target": "label", "utility": {"holdout": 0.3},
                   "privacy": {"holdout": 0.2}}),
            "utility.holdout",
        ),
        (
            json!({"sample_rows": small, "target": "label", "utility": {"target": "nope"}}),
            "utility.target",
        ),
        (
            json!({"sample_rows": &small[..11], "target": "label", "utility": {}}),
            "utility.holdout",
        ),
        (
            json!({"sample_rows": sequences_csv(), "data_format": "sequential",
                   "sequence_key": "store", "utility": {}}),
            "utility",
        ),
    ] {
        let r = post_json(&app, "/v1/ai/synthetic-data", &body).await;
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(details["field"], field, "{body}: {}", r.text);
    }
}

api_tests::on_both_stores!(
    conditions_hold_on_every_row_and_are_stored,
    sequences_keep_entities_order_and_dependence,
    utility_trains_on_synthetic_rows_and_tests_on_held_out_real_ones,
);
