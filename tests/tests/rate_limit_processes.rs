//! Rate limits across OS processes: several processes (the `burst` helper binary, each with
//! its own store connection or DynamoDB client, as separate Lambda instances or local
//! function processes have) hit one endpoint at once, and together they are admitted
//! exactly the limit in the window. On one SQLite file and on one DynamoDB table (moto).

use std::process::Command;

const PROCESSES: usize = 4;
const REQUESTS_EACH: usize = 10;
const LIMIT: usize = 13;

/// A start time a moment from now, not near the end of a minute, so the whole burst
/// falls in one rate-limit window.
fn start_at_ms() -> i64 {
    let mut at = chrono::Utc::now().timestamp_millis() + 1_500;
    let into_minute = at.rem_euclid(60_000);
    if into_minute > 45_000 {
        at += 60_000 - into_minute + 500;
    }
    at
}

fn burst(store: &str) {
    let at = start_at_ms().to_string();
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_burst"))
                .env("MLAAS_BURST_STORE", store)
                .env("MLAAS_BURST_LIMIT", LIMIT.to_string())
                .env("MLAAS_BURST_REQUESTS", REQUESTS_EACH.to_string())
                .env("MLAAS_BURST_AT_MS", &at)
                // Its stdout is the statuses it saw, one per line: no metric lines between.
                .env("MLAAS_EMF", "off")
                .stderr(std::process::Stdio::inherit())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawn the burst helper")
        })
        .collect();
    let (mut ok, mut limited, mut resets) = (0, 0, std::collections::BTreeSet::new());
    for child in children {
        let out = child.wait_with_output().expect("burst helper output");
        assert!(
            out.status.success(),
            "a burst helper failed: {:?}",
            out.status
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (status, reset) = line.split_once(' ').expect("status and reset");
            match status {
                "200" => ok += 1,
                "429" => limited += 1,
                other => panic!("unexpected status {other}"),
            }
            resets.insert(reset.to_string());
        }
    }
    assert_eq!(resets.len(), 1, "the burst fell in one window: {resets:?}");
    assert_eq!(ok + limited, PROCESSES * REQUESTS_EACH);
    assert_eq!(ok, LIMIT, "exactly the limit is admitted across processes");
}

#[test]
fn processes_share_the_limit_on_sqlite() {
    let path = api_tests::temp_path("burst");
    // Create the schema once before the processes race to open the file.
    drop(shared::store::sqlite::SqliteStore::open(&path).expect("open sqlite"));
    burst(&format!("sqlite:{}", path.display()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_share_the_limit_on_dynamodb() {
    let (suffix, _stores) = api_tests::dynamo_stores_named(1).await;
    tokio::task::spawn_blocking(move || burst(&format!("dynamodb:{suffix}")))
        .await
        .expect("burst");
}
