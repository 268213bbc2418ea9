//! Image datasets: an ImageFolder zip uploaded to `POST /v1/datasets`, its record, its
//! safetensors download, and the errors, through the synthetic-data function's Router; the
//! round trip on both stores (SQLite with local blobs, DynamoDB with S3 on moto_server).

use std::io::{Cursor, Write as _};
use std::sync::Arc;

use api_tests::openapi::check;
use api_tests::{assert_envelope, get, send, sqlite_state, upload_csv, Reply};
use axum::body::Body;
use axum::Router;
use http::Request;
use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, Rgb};
use serde_json::{json, Value};
use shared::store::SharedStore;
use shared::AppState;
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

fn png(image: DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        writer
            .start_file(name.as_str(), SimpleFileOptions::default())
            .unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Three classes under one top folder, 6×6 images of several sizes, one of them RGB (so the
/// set is RGB), and macOS litter.
fn shapes_zip() -> Vec<u8> {
    let mut files = Vec::new();
    for (class, n) in [("circle", 3u8), ("square", 2), ("triangle", 2)] {
        for i in 0..n {
            let side = 6 + u32::from(i);
            let gray = DynamicImage::ImageLuma8(ImageBuffer::from_fn(side, side, |x, y| {
                Luma([(x * 20 + y * 10) as u8 + i])
            }));
            files.push((format!("shapes/{class}/{i}.png"), png(gray)));
        }
    }
    let rgb = DynamicImage::ImageRgb8(ImageBuffer::from_fn(5, 7, |x, y| {
        Rgb([200, (x * 40) as u8, (y * 30) as u8])
    }));
    files.push(("shapes/square/rgb.png".into(), png(rgb)));
    files.push(("__MACOSX/shapes/circle/._0.png".into(), b"fork".to_vec()));
    files.push(("shapes/.DS_Store".into(), b"junk".to_vec()));
    zip_of(&files)
}

async fn post_zip(app: &Router, query: &str, content_type: &str, body: Vec<u8>) -> Reply {
    send(
        app,
        Request::post(format!("/v1/datasets{query}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn an_image_folder_round_trips(state: AppState) {
    let app = synthetic_data::router(state);
    let zip = shapes_zip();
    let r = post_zip(
        &app,
        "?name=shapes&size=4x4",
        "application/zip",
        zip.clone(),
    )
    .await;
    check("POST", "/v1/datasets", &r, 201);
    let created = r.body.clone();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["name"], "shapes");
    assert_eq!(created["origin"], "uploaded");
    assert_eq!(created["schema_source"], "uploaded");
    assert_eq!(created["rows"], 8);
    assert_eq!(created["columns"], json!([]));
    assert_eq!(created["target"], "label");
    assert_eq!(created["schema"], Value::Null);
    assert_eq!(
        (created["csv_bytes"].clone(), created["jsonl_bytes"].clone()),
        (json!(0), json!(0))
    );
    let classes = json!([
        {"class": "circle", "rows": 3},
        {"class": "square", "rows": 3},
        {"class": "triangle", "rows": 2}
    ]);
    let images = &created["images"];
    assert_eq!(images["height"], 4);
    assert_eq!(images["width"], 4);
    assert_eq!(images["channels"], 3);
    assert_eq!(images["classes"], classes);
    let shape = &created["training_shape"];
    assert_eq!(shape["feature_width"], 4 * 4 * 3);
    assert_eq!(shape["class_counts"], classes);
    assert_eq!(
        shape["target"],
        json!({"kind": "categorical", "distinct": 3})
    );
    assert_eq!(
        created["download_urls"],
        json!({
            "csv": null, "jsonl": null, "parquet": null,
            "safetensors": format!("/v1/datasets/{id}/download?format=safetensors")
        })
    );

    // The record and the list say the same.
    let r = get(&app, &format!("/v1/datasets/{id}")).await;
    check("GET", "/v1/datasets/{id}", &r, 200);
    assert_eq!(r.body["images"], created["images"]);
    assert_eq!(r.body["rows"], 8);
    assert_eq!(r.body["schema"], Value::Null);
    let r = get(&app, "/v1/datasets").await;
    check("GET", "/v1/datasets", &r, 200);
    let listed = r.body["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["images"], created["images"]);

    // The download is the engine's set of the same archive, byte for byte.
    let expected = images::read_image_folder(&zip, Some((4, 4))).unwrap();
    for query in ["", "?format=safetensors"] {
        let r = get(&app, &format!("/v1/datasets/{id}/download{query}")).await;
        check("GET", "/v1/datasets/{id}/download", &r, 200);
        assert_eq!(r.headers["content-type"], "application/octet-stream");
        assert_eq!(
            r.headers["content-disposition"],
            format!("attachment; filename=\"{id}.safetensors\"")
        );
        assert_eq!(r.bytes.len() as u64, images["bytes"].as_u64().unwrap());
        let set = images::ImageSet::from_safetensors(&r.bytes).unwrap();
        assert_eq!(set.classes, ["circle", "square", "triangle"]);
        assert_eq!(set.labels, [0, 0, 0, 1, 1, 1, 2, 2]);
        assert_eq!((set.height, set.width, set.channels), (4, 4, 3));
        assert_eq!(set, expected);
    }

    // A table's formats are refused, naming `format`.
    for format in ["csv", "jsonl", "parquet"] {
        let r = get(&app, &format!("/v1/datasets/{id}/download?format={format}")).await;
        check("GET", "/v1/datasets/{id}/download", &r, 400);
        let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
        assert_eq!(details["field"], "format");
        assert_eq!(details["received"], format);
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("downloads as safetensors"), "{message}");
    }
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn an_image_folder_round_trips() {
        super::an_image_folder_round_trips(super::sqlite_state()).await
    }
}

mod dynamodb {
    use super::*;

    /// The record in DynamoDB, the safetensors file in S3, both on moto_server.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn an_image_folder_round_trips() {
        let store: SharedStore = api_tests::dynamo_store().await;
        let blobs = Arc::new(api_tests::s3_blobs().await);
        let state = AppState::with_blobs(api_tests::config(&[]), store, blobs);
        super::an_image_folder_round_trips(state).await
    }
}

fn body_error(r: &Reply) -> (Value, String) {
    let details = assert_envelope(r, 400, "VALIDATION_ERROR");
    check("POST", "/v1/datasets", r, 400);
    (
        details,
        r.body["error"]["message"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_bad_archive_is_a_400_naming_the_body_or_the_file() {
    let app = synthetic_data::router(sqlite_state());
    let r = post_zip(&app, "", "application/zip", b"not a zip".to_vec()).await;
    let (details, message) = body_error(&r);
    assert_eq!(details["field"], "body");
    assert!(message.contains("not a zip"), "{message}");

    let img = png(DynamicImage::ImageLuma8(ImageBuffer::from_pixel(
        3,
        3,
        Luma([9]),
    )));
    let broken = zip_of(&[
        ("a/1.png".into(), img.clone()),
        ("b/2.png".into(), b"\x89PNG but broken".to_vec()),
    ]);
    let r = post_zip(&app, "", "application/zip", broken).await;
    let (details, message) = body_error(&r);
    assert_eq!(details["field"], "body");
    assert_eq!(details["received"], "b/2.png");
    assert!(message.starts_with("b/2.png: "), "{message}");

    let one_class = zip_of(&[
        ("a/1.png".into(), img.clone()),
        ("a/2.png".into(), img.clone()),
    ]);
    let r = post_zip(&app, "", "application/zip", one_class).await;
    let (details, message) = body_error(&r);
    assert_eq!(details["field"], "body");
    assert!(message.contains("one class only"), "{message}");

    let text_file = zip_of(&[
        ("a/1.png".into(), img.clone()),
        ("b/notes.txt".into(), b"x".to_vec()),
    ]);
    let r = post_zip(&app, "", "application/zip", text_file).await;
    let (details, _) = body_error(&r);
    assert_eq!(details["received"], "b/notes.txt");

    let good = zip_of(&[("a/1.png".into(), img.clone()), ("b/2.png".into(), img)]);
    for size in ["0x4", "4", "2000x2000", "axb"] {
        let r = post_zip(
            &app,
            &format!("?size={size}"),
            "application/zip",
            good.clone(),
        )
        .await;
        let (details, _) = body_error(&r);
        assert_eq!(details["field"], "size");
        assert_eq!(details["received"], size);
    }
    // Pixels past the function's bound are refused before a file is decoded: 257 images of
    // 1024x1024 gray are 257 MiB.
    let tiny = png(DynamicImage::ImageLuma8(ImageBuffer::from_pixel(
        1,
        1,
        Luma([1]),
    )));
    let many: Vec<(String, Vec<u8>)> = (0..257)
        .map(|i| (format!("{}/{i}.png", i % 2), tiny.clone()))
        .collect();
    let r = post_zip(&app, "?size=1024x1024", "application/zip", zip_of(&many)).await;
    let (details, message) = body_error(&r);
    assert_eq!(details["field"], "body");
    assert!(message.contains("more than 256 MiB"), "{message}");

    // `target` is a table's parameter.
    let r = post_zip(&app, "?target=label", "application/zip", good.clone()).await;
    assert_eq!(body_error(&r).0["field"], "target");

    // Windows' media type for a zip is read the same.
    let r = post_zip(&app, "?size=2,2", "application/x-zip-compressed", good).await;
    check("POST", "/v1/datasets", &r, 201);
    assert_eq!(r.body["images"]["channels"], 1);
    assert_eq!(r.body["images"]["height"], 2);
    assert_eq!(r.body["training_shape"]["feature_width"], 4);
}

#[tokio::test]
async fn a_table_does_not_download_as_safetensors() {
    let state = sqlite_state();
    let id = upload_csv(&state, "x,label\n1,a\n2,b\n3,a\n", "label").await;
    let app = synthetic_data::router(state);
    let r = get(
        &app,
        &format!("/v1/datasets/{id}/download?format=safetensors"),
    )
    .await;
    check("GET", "/v1/datasets/{id}/download", &r, 400);
    let details = assert_envelope(&r, 400, "VALIDATION_ERROR");
    assert_eq!(details["field"], "format");
    // Its record has no images and a table's URLs.
    let r = get(&app, &format!("/v1/datasets/{id}")).await;
    assert!(r.body.get("images").is_none(), "{}", r.text);
    assert!(r.body["download_urls"].get("safetensors").is_none());
    assert!(r.body["download_urls"]["csv"].is_string());
}
