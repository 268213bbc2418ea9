//! `GET /ui`, the dashboard page, through the system function's Router: served open with
//! keys on, small, self-contained (its policy allows this origin only and it names no other),
//! and every API route it reads is one the OpenAPI document has. The page in a real browser:
//! tests/ui_check.py (scripts/ui-test, run by .ci/run).

use api_tests::{get, state_with};

const KEY: &str = "dashboard-test-key";

#[tokio::test]
async fn the_page_is_open_small_and_self_contained() {
    let app = system::router(state_with(
        api_tests::sqlite_store(),
        &[("MLAAS_API_KEYS", KEY)],
    ));
    let r = get(&app, "/ui").await;
    assert_eq!(r.status, 200, "the page needs no key");
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text.starts_with("<!doctype html>"));
    assert!(r.bytes.len() < 200 * 1024, "{} bytes", r.bytes.len());
    let policy = r.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"));
    // Nothing from elsewhere: the only absolute URL is SVG's namespace, never fetched.
    let outside: Vec<&str> = r
        .text
        .match_indices("http")
        .map(|(i, _)| &r.text[i..(i + 40).min(r.text.len())])
        .filter(|s| !s.starts_with("http://www.w3.org/2000/svg"))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    // The data behind it still asks for a key.
    assert_eq!(get(&app, "/v1/ai/usage").await.status, 401);
}

#[test]
fn every_route_the_page_reads_is_in_the_openapi_document() {
    let page = include_str!("../../functions/system/src/ui.html");
    let doc = shared::openapi::document();
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    // `/v1/...` literals and template strings, `${...}` standing for one path segment.
    let mut used = Vec::new();
    for (i, _) in page.match_indices("/v1/") {
        let rest = &page[i..];
        let end = rest.find(['"', '`', '?', '\'', ' ']).unwrap_or(rest.len());
        let path = &rest[..end];
        if path.ends_with('/') {
            continue; // a prefix built on
        }
        used.push(path.to_string());
    }
    assert!(used.len() >= 8, "{used:?}");
    for path in used {
        let segments: Vec<&str> = path.split('/').collect();
        let known = paths.iter().any(|p| {
            let t: Vec<&str> = p.split('/').collect();
            t.len() == segments.len()
                && t.iter().zip(&segments).all(|(a, b)| {
                    a == b || (a.starts_with('{') && (b.starts_with("${") || b.contains('{')))
                })
        });
        // `${what}` after a model id is stop or resume.
        let known = known
            || (path.ends_with("/${what}")
                && ["stop", "resume"]
                    .iter()
                    .all(|w| paths.contains(&format!("/v1/models/{{id}}/{w}"))));
        assert!(known, "{path} is not a route of the document");
    }
}
