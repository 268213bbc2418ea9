//! Archives built in memory (the `zip` crate's writer) of images encoded by the `image` crate.

use std::io::{Cursor, Write as _};

use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, LumaA, Rgb, Rgba};
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use super::*;

fn png(image: DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A `w`×`h` gray PNG whose pixels are `seed + x + 2y`.
fn gray_png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    png(DynamicImage::ImageLuma8(ImageBuffer::from_fn(
        w,
        h,
        |x, y| Luma([seed.wrapping_add((x + 2 * y) as u8)]),
    )))
}

/// A `w`×`h` RGB PNG.
fn rgb_png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    png(DynamicImage::ImageRgb8(ImageBuffer::from_fn(
        w,
        h,
        |x, y| Rgb([seed, (x * 30) as u8, (y * 40) as u8]),
    )))
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        if name.ends_with('/') {
            writer
                .add_directory(*name, SimpleFileOptions::default())
                .unwrap();
        } else {
            writer
                .start_file(*name, SimpleFileOptions::default())
                .unwrap();
            writer.write_all(bytes).unwrap();
        }
    }
    writer.finish().unwrap().into_inner()
}

/// Stored (uncompressed) entries, so their bytes can be patched.
fn stored_zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Sets the uncompressed size every central-directory header declares to `size`.
fn declare_size(zip: &mut [u8], size: u32) {
    let mut i = 0;
    while i + 46 <= zip.len() {
        if zip[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] {
            zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
            i += 46;
        } else {
            i += 1;
        }
    }
}

fn file_of(e: ImageError) -> (String, String) {
    match e {
        ImageError::File { file, message } => (file, message),
        other => panic!("not a file error: {other}"),
    }
}

fn archive_message(e: ImageError) -> String {
    match e {
        ImageError::Archive(m) => m,
        other => panic!("not an archive error: {other}"),
    }
}

#[test]
fn classes_sort_as_torchvision_sorts_them_and_images_by_path() {
    let (a, b, c, d, e) = (
        gray_png(2, 2, 0),
        gray_png(2, 2, 10),
        gray_png(2, 2, 20),
        gray_png(2, 2, 30),
        gray_png(2, 2, 40),
    );
    let zip = zip_of(&[
        ("b/2.png", &a),
        ("b/10.png", &b),
        ("a/x.PNG", &c),
        ("B/y.png", &d),
        ("10/z.png", &e),
        ("b/sub/0.png", &a),
    ]);
    let set = read_image_folder(&zip, None).unwrap();
    // Code-point order, as Python's sorted(): digits, upper case, lower case.
    assert_eq!(set.classes, ["10", "B", "a", "b"]);
    assert_eq!(set.labels, [0, 1, 2, 3, 3, 3]);
    assert_eq!(set.counts(), [1, 1, 1, 3]);
    assert_eq!((set.height, set.width, set.channels), (2, 2, 1));
    // Within `b`: its own files by name ("10.png" < "2.png"), then the subfolder's.
    assert_eq!(set.image(3), &decode_image(&b, 2, 2, 1).unwrap()[..]);
    assert_eq!(set.image(4), &decode_image(&a, 2, 2, 1).unwrap()[..]);
    assert_eq!(set.image(5), &decode_image(&a, 2, 2, 1).unwrap()[..]);
    assert_eq!(set.len(), 6);
    assert!(!set.is_empty());
    assert_eq!(set.pixels_per_image(), 4);
    assert_eq!(set.pixels.len(), 24);
}

#[test]
fn one_top_folder_is_the_folder_that_was_zipped() {
    let img = gray_png(3, 3, 1);
    let with_top = zip_of(&[
        ("digits/", b""),
        ("digits/0/", b""),
        ("digits/0/a.png", &img),
        ("digits/1/b.png", &img),
        ("digits/1/c.jpg", &png_as_jpeg(3, 3)),
    ]);
    let set = read_image_folder(&with_top, None).unwrap();
    assert_eq!(set.classes, ["0", "1"]);
    assert_eq!(set.counts(), [1, 2]);
    let without = zip_of(&[("0/a.png", &img), ("1/b.png", &img)]);
    assert_eq!(
        read_image_folder(&without, None).unwrap().classes,
        ["0", "1"]
    );
    // Windows separators read as folders too.
    let backslashes = zip_of(&[("top\\cat\\a.png", &img), ("top\\dog\\b.png", &img)]);
    assert_eq!(
        read_image_folder(&backslashes, None).unwrap().classes,
        ["cat", "dog"]
    );
}

fn png_as_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageLuma8(ImageBuffer::from_pixel(w, h, Luma([128])))
        .write_to(&mut out, ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

#[test]
fn macos_litter_hidden_files_and_folders_are_skipped() {
    let img = gray_png(2, 2, 5);
    let zip = zip_of(&[
        ("set/cat/a.png", &img),
        ("set/dog/b.png", &img),
        ("__MACOSX/set/cat/._a.png", b"resource fork"),
        ("set/.DS_Store", b"junk"),
        ("set/cat/.DS_Store", b"junk"),
        ("set/.hidden/c.png", b"not read"),
        ("set/dog/Thumbs.db", b"junk"),
        ("set/dog/", b""),
    ]);
    let set = read_image_folder(&zip, None).unwrap();
    assert_eq!(set.classes, ["cat", "dog"]);
    assert_eq!(set.len(), 2);
}

#[test]
fn channels_are_one_when_every_image_is_gray_else_three() {
    let gray = gray_png(2, 2, 7);
    let gray_alpha = png(DynamicImage::ImageLumaA8(ImageBuffer::from_pixel(
        2,
        2,
        LumaA([9, 100]),
    )));
    let gray16 = png(DynamicImage::ImageLuma16(ImageBuffer::from_pixel(
        2,
        2,
        Luma([0xFFFF]),
    )));
    let zip = zip_of(&[
        ("a/1.png", &gray),
        ("a/2.png", &gray_alpha),
        ("b/3.png", &gray16),
    ]);
    let set = read_image_folder(&zip, None).unwrap();
    assert_eq!(set.channels, 1);
    assert_eq!(set.image(1), [9, 9, 9, 9], "alpha dropped");
    assert_eq!(set.image(2), [255, 255, 255, 255]);

    let rgba = png(DynamicImage::ImageRgba8(ImageBuffer::from_pixel(
        2,
        2,
        Rgba([10, 20, 30, 0]),
    )));
    let zip = zip_of(&[("a/1.png", &gray), ("b/2.png", &rgba)]);
    let set = read_image_folder(&zip, None).unwrap();
    assert_eq!(set.channels, 3);
    assert_eq!(set.pixels_per_image(), 12);
    // The gray image before the colour one is expanded: r = g = b.
    let expected: Vec<u8> = decode_image(&gray, 2, 2, 1)
        .unwrap()
        .iter()
        .flat_map(|&l| [l, l, l])
        .collect();
    assert_eq!(set.image(0), &expected[..]);
    assert_eq!(
        set.image(1),
        [10, 20, 30].repeat(4),
        "alpha dropped, not composited"
    );
}

#[test]
fn every_image_is_resized_to_the_size_asked_or_the_first_ones() {
    let (small, big) = (rgb_png(4, 2, 1), rgb_png(8, 6, 2));
    let zip = zip_of(&[("a/1.png", &small), ("b/2.png", &big)]);
    let set = read_image_folder(&zip, None).unwrap();
    assert_eq!((set.height, set.width, set.channels), (2, 4, 3));
    assert_eq!(set.image(0), &decode_image(&small, 2, 4, 3).unwrap()[..]);
    let set = read_image_folder(&zip, Some((5, 3))).unwrap();
    assert_eq!((set.height, set.width), (5, 3));
    assert_eq!(set.pixels.len(), 2 * 5 * 3 * 3);
    assert_eq!(set.image(1), &decode_image(&big, 5, 3, 3).unwrap()[..]);
    // Resizing is the triangle filter's: a constant image stays constant.
    let flat = png(DynamicImage::ImageRgb8(ImageBuffer::from_pixel(
        7,
        5,
        Rgb([40, 80, 120]),
    )));
    let bytes = decode_image(&flat, 3, 2, 3).unwrap();
    assert_eq!(bytes, [40, 80, 120].repeat(6));
    // A first image above MAX_SIDE needs a size.
    let huge = gray_png(1100, 2, 0);
    let zip = zip_of(&[("a/1.png", &huge), ("b/2.png", &small)]);
    let (file, message) = file_of(read_image_folder(&zip, None).unwrap_err());
    assert_eq!(file, "a/1.png");
    assert!(message.contains("size"), "{message}");
    assert_eq!(read_image_folder(&zip, Some((4, 4))).unwrap().height, 4);
}

#[test]
fn decode_image_gives_the_sets_bytes_for_the_same_file() {
    let files = [gray_png(5, 4, 3), rgb_png(6, 3, 9), png_as_jpeg(4, 4)];
    let zip = zip_of(&[
        ("a/1.png", &files[0]),
        ("a/2.png", &files[1]),
        ("b/3.jpeg", &files[2]),
    ]);
    for size in [None, Some((3, 3)), Some((8, 2))] {
        let set = read_image_folder(&zip, size).unwrap();
        assert_eq!(set.channels, 3);
        for (i, file) in files.iter().enumerate() {
            let one = decode_image(file, set.height, set.width, set.channels).unwrap();
            assert_eq!(set.image(i), &one[..], "image {i} at {size:?}");
        }
    }
    // And through base64, as JSON carries it.
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(&files[1]);
    let direct = decode_image(&files[1], 3, 3, 1).unwrap();
    assert_eq!(decode_image_base64(&text, 3, 3, 1).unwrap(), direct);
    let url = format!("data:image/png;base64,{text}");
    assert_eq!(decode_image_base64(&url, 3, 3, 1).unwrap(), direct);
    assert!(decode_image_base64("%%%", 3, 3, 1).is_err());
    let (file, _) = file_of(decode_image(b"nope", 3, 3, 3).unwrap_err());
    assert_eq!(file, "image");
    assert!(decode_image(&files[0], 3, 3, 2).is_err());
    assert!(decode_image(&files[0], 0, 3, 1).is_err());
}

#[test]
fn safetensors_round_trip_with_the_classes_in_the_metadata() {
    let zip = zip_of(&[
        ("top/cat/a.png", &rgb_png(3, 2, 1)),
        ("top/cat/b.png", &rgb_png(3, 2, 2)),
        ("top/dog/c.png", &gray_png(3, 2, 3)),
    ]);
    let set = read_image_folder(&zip, None).unwrap();
    let bytes = set.to_safetensors().unwrap();
    assert_eq!(ImageSet::from_safetensors(&bytes).unwrap(), set);

    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    assert_eq!(meta["format"], "mlaas.images");
    assert_eq!(meta["version"], "1");
    assert_eq!(meta["classes"], r#"["cat","dog"]"#);
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let images = tensors.tensor("images").unwrap();
    assert_eq!(images.dtype(), Dtype::U8);
    assert_eq!(images.shape(), [3, 2, 3, 3]);
    let labels = tensors.tensor("labels").unwrap();
    assert_eq!(labels.dtype(), Dtype::U32);
    assert_eq!(labels.data(), [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);

    // Anything else is refused.
    let other = safetensors::serialize(
        [("x", TensorView::new(Dtype::U8, vec![1], &[1]).unwrap())],
        None,
    )
    .unwrap();
    assert!(matches!(
        ImageSet::from_safetensors(&other),
        Err(ImageError::Format(_))
    ));
    assert!(ImageSet::from_safetensors(b"garbage").is_err());
    let mut bad = set.clone();
    bad.labels[0] = 7;
    let bytes = bad.to_safetensors().unwrap();
    assert!(ImageSet::from_safetensors(&bytes).is_err());
}

#[test]
fn a_bad_file_is_named() {
    let img = gray_png(2, 2, 0);
    let zip = zip_of(&[("d/a/1.png", &img), ("d/b/broken.png", b"not a png at all")]);
    let (file, message) = file_of(read_image_folder(&zip, None).unwrap_err());
    assert_eq!(file, "d/b/broken.png");
    assert!(message.contains("PNG"), "{message}");

    let zip = zip_of(&[("a/1.png", &img), ("b/notes.txt", b"hello")]);
    let e = read_image_folder(&zip, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "b/notes.txt: not a PNG or JPEG image (.png, .jpg or .jpeg)"
    );

    let zip = zip_of(&[("a/1.png", &img), ("b/2.png", &img), ("loose.png", &img)]);
    let (file, message) = file_of(read_image_folder(&zip, None).unwrap_err());
    assert_eq!(file, "loose.png");
    assert!(message.contains("class folder"), "{message}");

    let message = archive_message(read_image_folder(b"PK but not a zip", None).unwrap_err());
    assert!(message.contains("not a zip"), "{message}");
    let message = archive_message(read_image_folder(&zip_of(&[("a/", b"")]), None).unwrap_err());
    assert!(message.contains("no images"), "{message}");
}

#[test]
fn one_class_is_refused() {
    let img = gray_png(2, 2, 0);
    let zip = zip_of(&[("cat/1.png", &img), ("cat/2.png", &img)]);
    let message = archive_message(read_image_folder(&zip, None).unwrap_err());
    assert!(message.contains("one class only (\"cat\")"), "{message}");
    // Under a top folder too.
    let zip = zip_of(&[("top/cat/1.png", &img), ("top/cat/2.png", &img)]);
    let message = archive_message(read_image_folder(&zip, None).unwrap_err());
    assert!(message.contains("one class only (\"cat\")"), "{message}");
}

#[test]
fn declared_sizes_are_checked_before_anything_is_read() {
    let img = gray_png(2, 2, 0);
    // One entry declaring 4 GB.
    let mut zip = stored_zip_of(&[("a/1.png", &img), ("b/2.png", &img)]);
    declare_size(&mut zip, 0xF000_0000);
    let (file, message) = file_of(read_image_folder(&zip, None).unwrap_err());
    assert_eq!(file, "a/1.png");
    assert!(message.contains("declares 4026531840 bytes"), "{message}");
    // Ten entries of 60 MiB each: each is allowed, their sum is not.
    let names: Vec<String> = (0..10).map(|i| format!("{}/{i}.png", i % 2)).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &img[..])).collect();
    let mut zip = stored_zip_of(&files);
    declare_size(&mut zip, 60 << 20);
    let message = archive_message(read_image_folder(&zip, None).unwrap_err());
    assert!(message.contains("512 MiB"), "{message}");
    // A file holding more than it declares stops at what it declared.
    let mut zip = stored_zip_of(&[("a/1.png", &img), ("b/2.png", &img)]);
    declare_size(&mut zip, 10);
    let (file, _) = file_of(read_image_folder(&zip, None).unwrap_err());
    assert_eq!(file, "a/1.png");
}

#[test]
fn a_set_above_the_pixel_bound_is_refused_before_decoding() {
    let img = gray_png(1, 1, 0);
    let names: Vec<String> = (0..1100).map(|i| format!("{}/{i}.png", i % 2)).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &img[..])).collect();
    let zip = zip_of(&files);
    let message = archive_message(read_image_folder(&zip, Some((1024, 1024))).unwrap_err());
    assert!(message.contains("1100 images of 1024x1024x1"), "{message}");
    assert_eq!(read_image_folder(&zip, Some((2, 2))).unwrap().len(), 1100);
    // A caller's tighter bound: 1100 gray 2x2 images are 4400 bytes, 3x3 are 9900.
    assert!(read_image_folder_within(&zip, Some((2, 2)), 5000).is_ok());
    let message = archive_message(read_image_folder_within(&zip, Some((3, 3)), 5000).unwrap_err());
    assert!(message.contains("1100 images of 3x3x1"), "{message}");
    // Checked again when the first colour image makes the set RGB.
    let rgb = rgb_png(1, 1, 0);
    let mut files = files.clone();
    files[1099] = ("1/1099.png", &rgb[..]);
    let zip = zip_of(&files);
    let message = archive_message(read_image_folder_within(&zip, Some((2, 2)), 5000).unwrap_err());
    assert!(message.contains("1100 images of 2x2x3"), "{message}");
}

#[test]
fn sizes_parse_as_height_by_width() {
    assert_eq!(parse_size("28x28"), Some((28, 28)));
    assert_eq!(parse_size("32X64"), Some((32, 64)));
    assert_eq!(parse_size("10,20"), Some((10, 20)));
    assert_eq!(parse_size(" 1 x 1024 "), Some((1, 1024)));
    for bad in [
        "", "28", "0x5", "5x1025", "axb", "-1x2", "+2x2", "2x2x2", "2.5x2",
    ] {
        assert_eq!(parse_size(bad), None, "{bad}");
    }
}
