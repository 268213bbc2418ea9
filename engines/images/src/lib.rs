//! The image-dataset engine (pure): an ImageFolder zip archive read into one [`ImageSet`]
//! (every image decoded, converted to one channel count and resized to one shape, with its
//! class label), that set as one safetensors file and back, and one image decoded the same way
//! for prediction.
//!
//! **Layout.** `<class>/<file>.png|jpg|jpeg`, optionally under one top folder
//! (`digits/0/a.png`), as torchvision's `ImageFolder` and Keras' `image_dataset_from_directory`
//! read a folder: the class names are the folder names sorted (by code point, as Python sorts
//! strings), label `i` is the `i`-th class, and the images of a class are in the order
//! torchvision lists them (files of the class folder sorted by name, then each subfolder's, the
//! subfolders sorted by path). `__MACOSX/`, hidden names (`.DS_Store`, any component starting
//! with `.`), `Thumbs.db`, `desktop.ini` and directory entries are skipped; a file outside any
//! class folder or with another extension is an error naming it.
//!
//! **Pixels.** Channels are 1 when every image is grayscale (L, LA, 16-bit or not), else 3:
//! alpha is dropped (not composited), gray images are expanded to RGB (`r = g = b`). Every image
//! is resized to one shape, `size` when given, else the first image's, with a triangle
//! (bilinear) filter as torchvision's `Resize` default; an image already of that shape is kept
//! as decoded. A gray image is resized as gray and then expanded, which is the same arithmetic
//! per channel as expanding first, so [`decode_image`] and [`read_image_folder`] agree byte for
//! byte.
//!
//! **Bounds.** The archive is checked before anything is decompressed: at most [`MAX_IMAGES`]
//! files, each declaring at most [`MAX_FILE_BYTES`] uncompressed and [`MAX_ARCHIVE_BYTES`] all
//! together, and each read through a limit anyway (a declared size can lie). A decoder may not
//! allocate more than [`MAX_DECODE_BYTES`] for one image, a source image's side is at most
//! [`MAX_SOURCE_SIDE`], the output side at most [`MAX_SIDE`], and the whole set's pixels at most
//! [`MAX_PIXEL_BYTES`]: a zip bomb or an oversized set is refused, never an out-of-memory.
//!
//! **File.** [`ImageSet::to_safetensors`]: tensors `images` (U8, `[N, H, W, C]`) and `labels`
//! (U32, `[N]`), metadata `format = "mlaas.images"`, `version = "1"`, `classes` (a JSON array
//! of the names). Python reads it with `safetensors.numpy.load_file`.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};

use base64::Engine as _;
use image::imageops::FilterType;
use image::{DynamicImage, ImageBuffer, ImageReader, Limits, Pixel};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use zip::{CompressionMethod, ZipArchive};

#[cfg(test)]
mod tests;

/// Files (images) an archive may hold.
pub const MAX_IMAGES: usize = 100_000;
/// The output images' largest side, and a `size` side's.
pub const MAX_SIDE: usize = 1024;
/// Bound on decoded pixel bytes of the whole set (N·H·W·C), so a zip bomb or a huge set is
/// refused, not an OOM.
pub const MAX_PIXEL_BYTES: usize = 1 << 30;
/// What one file of the archive may declare (and hold) uncompressed.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// What the archive's files may declare (and hold) uncompressed, all together.
pub const MAX_ARCHIVE_BYTES: u64 = 512 << 20;
/// A source image's largest side, before resizing.
pub const MAX_SOURCE_SIDE: u32 = 16_384;
/// What a decoder may allocate for one image.
pub const MAX_DECODE_BYTES: u64 = 256 << 20;
/// Classes (folders) a set may have: a dataset record lists them, and it stays small.
pub const MAX_CLASSES: usize = 1_000;
/// A class (folder) name's length in characters.
pub const MAX_CLASS_NAME: usize = 100;
/// The safetensors metadata `format` of an image set.
pub const FORMAT: &str = "mlaas.images";
/// The safetensors metadata `version` written.
pub const VERSION: &str = "1";

/// Decoded images of one shape with their class labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    pub height: usize,
    pub width: usize,
    /// 1 (grayscale) or 3 (RGB).
    pub channels: usize,
    /// Class names in label order (the ImageFolder folder names, sorted as torchvision's
    /// ImageFolder sorts them).
    pub classes: Vec<String>,
    /// One label (index into `classes`) per image.
    pub labels: Vec<u32>,
    /// Row-major `[N, H, W, C]` bytes.
    pub pixels: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A problem with one file of the archive or one image, naming it (`file` is the archive
    /// path, or e.g. `images[2]`).
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// The archive as a whole (not a zip, no classes, one class only, too many images, too big).
    #[error("{0}")]
    Archive(String),
    #[error("safetensors: {0}")]
    Format(String),
}

fn file_error(file: impl Into<String>, message: impl Into<String>) -> ImageError {
    ImageError::File {
        file: file.into(),
        message: message.into(),
    }
}

impl ImageSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// H·W·C.
    pub fn pixels_per_image(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Image `i`'s `[H, W, C]` bytes. Panics when `i` is out of range.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.pixels_per_image();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Images per class, in class order.
    pub fn counts(&self) -> Vec<u64> {
        let mut counts = vec![0u64; self.classes.len()];
        for &label in &self.labels {
            if let Some(c) = counts.get_mut(label as usize) {
                *c += 1;
            }
        }
        counts
    }

    /// One safetensors file: tensor `images` (U8, `[N, H, W, C]`) and `labels` (U32, `[N]`);
    /// metadata `{"format": "mlaas.images", "version": "1", "classes": <JSON array of
    /// names>}`. Readable by `safetensors.numpy.load`.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, ImageError> {
        let format = |e: safetensors::SafeTensorError| ImageError::Format(e.to_string());
        if self.pixels.len() != self.len() * self.pixels_per_image() {
            return Err(ImageError::Format(format!(
                "{} pixel bytes for {} images of {}x{}x{}",
                self.pixels.len(),
                self.len(),
                self.height,
                self.width,
                self.channels
            )));
        }
        let labels: Vec<u8> = self.labels.iter().flat_map(|l| l.to_le_bytes()).collect();
        let images = TensorView::new(
            Dtype::U8,
            vec![self.len(), self.height, self.width, self.channels],
            &self.pixels,
        )
        .map_err(format)?;
        let labels = TensorView::new(Dtype::U32, vec![self.len()], &labels).map_err(format)?;
        let classes =
            serde_json::to_string(&self.classes).map_err(|e| ImageError::Format(e.to_string()))?;
        let metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("version".to_string(), VERSION.to_string()),
            ("classes".to_string(), classes),
        ]);
        safetensors::serialize([("images", images), ("labels", labels)], Some(metadata))
            .map_err(format)
    }

    /// The set [`ImageSet::to_safetensors`] wrote (checked: the format, the tensors' types and
    /// shapes, 1 or 3 channels, every label a class).
    pub fn from_safetensors(bytes: &[u8]) -> Result<ImageSet, ImageError> {
        let bad = |m: String| ImageError::Format(m);
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(bad(format!(
                "not an image set (metadata format is not {FORMAT:?})"
            )));
        }
        let classes: Vec<String> = meta
            .get("classes")
            .ok_or_else(|| bad("the metadata has no classes".into()))
            .and_then(|c| {
                serde_json::from_str(c)
                    .map_err(|e| bad(format!("classes is not a JSON array of names: {e}")))
            })?;
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let images = tensors
            .tensor("images")
            .map_err(|e| bad(format!("images: {e}")))?;
        let labels = tensors
            .tensor("labels")
            .map_err(|e| bad(format!("labels: {e}")))?;
        let [n, height, width, channels] = match (images.dtype(), images.shape()) {
            (Dtype::U8, &[n, h, w, c]) => [n, h, w, c],
            (dtype, shape) => {
                return Err(bad(format!(
                    "images is {dtype:?} {shape:?}, not U8 [N, H, W, C]"
                )))
            }
        };
        if !matches!(channels, 1 | 3) {
            return Err(bad(format!("{channels} channels, not 1 or 3")));
        }
        if labels.dtype() != Dtype::U32 || labels.shape() != [n] {
            return Err(bad(format!(
                "labels is {:?} {:?}, not U32 [{n}]",
                labels.dtype(),
                labels.shape()
            )));
        }
        let labels: Vec<u32> = labels
            .data()
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(l) = labels.iter().find(|&&l| l as usize >= classes.len()) {
            return Err(bad(format!("label {l} with {} classes", classes.len())));
        }
        Ok(ImageSet {
            height,
            width,
            channels,
            classes,
            labels,
            pixels: images.data().to_vec(),
        })
    }
}

/// Parses a `?size=` value `HxW` (also `H,W`; 1..=1024 each).
pub fn parse_size(s: &str) -> Option<(usize, usize)> {
    let (h, w) = s.trim().split_once(['x', 'X', ','])?;
    let side = |t: &str| {
        let t = t.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse::<usize>()
            .ok()
            .filter(|v| (1..=MAX_SIDE).contains(v))
    };
    Some((side(h)?, side(w)?))
}

/// One file of the archive that is an image of a class.
struct Entry {
    index: usize,
    /// The path as written in the archive.
    path: String,
    /// The folders between the class folder and the file (`a/b`), empty when directly in it.
    dir: String,
    name: String,
}

/// Reads an ImageFolder archive: `<class>/<file>.png|jpg|jpeg` (case-insensitive extensions),
/// optionally under one top folder (`digits/0/a.png`), as torchvision's ImageFolder and Keras'
/// image_dataset_from_directory read the folder. Skips `__MACOSX/`, hidden files (`.DS_Store`,
/// names starting with `.`), and directory entries. Files in the top level (no class folder)
/// or with other extensions are an error naming the file. All images are resized to one
/// shape: `size` if given, else the first image's (in sorted path order) size. Channels: 1 if
/// every image is grayscale (L8/L16/La*), else 3 (RGBA/LA lose alpha; gray images are expanded
/// to RGB). Resize with `image::imageops::FilterType::Triangle` (bilinear, as torchvision's
/// Resize default). Images sorted by path within a class.
pub fn read_image_folder(zip: &[u8], size: Option<(usize, usize)>) -> Result<ImageSet, ImageError> {
    read_image_folder_within(zip, size, MAX_PIXEL_BYTES)
}

/// [`read_image_folder`] with a tighter bound on the set's pixel bytes (N·H·W·C) than
/// [`MAX_PIXEL_BYTES`] (which still applies), for a caller whose memory holds less; checked
/// as soon as the shape is known, before the images are decoded.
pub fn read_image_folder_within(
    zip: &[u8],
    size: Option<(usize, usize)>,
    max_pixel_bytes: usize,
) -> Result<ImageSet, ImageError> {
    let limit = max_pixel_bytes.min(MAX_PIXEL_BYTES);
    if let Some((h, w)) = size {
        check_side(h, w).map_err(ImageError::Archive)?;
    }
    let mut archive = ZipArchive::new(Cursor::new(zip))
        .map_err(|e| ImageError::Archive(format!("the body is not a zip archive: {e}")))?;
    let classes = list(&mut archive)?;

    let total: usize = classes.values().map(Vec::len).sum();
    let class_names: Vec<String> = classes.keys().cloned().collect();
    let mut labels = Vec::with_capacity(total);
    let mut pixels = Vec::new();
    if let Some((h, w)) = size {
        pixels.reserve_exact(set_bytes(total, h, w, 1, limit)?);
    }
    let mut shape: Option<(usize, usize)> = size;
    let mut channels = 1;
    let mut left = MAX_ARCHIVE_BYTES;
    for (label, entries) in classes.values().enumerate() {
        for entry in entries {
            let bytes = read_entry(&mut archive, entry, &mut left)?;
            let image = decode(&bytes).map_err(|m| file_error(&entry.path, m))?;
            let (h, w) = match shape {
                Some(s) => s,
                None => {
                    let (h, w) = (image.height() as usize, image.width() as usize);
                    check_side(h, w).map_err(|m| {
                        file_error(
                            &entry.path,
                            format!("{m}; send ?size=HxW to resize every image to one shape"),
                        )
                    })?;
                    shape = Some((h, w));
                    pixels.reserve_exact(set_bytes(total, h, w, 1, limit)?);
                    (h, w)
                }
            };
            let gray = !image.color().has_color();
            if !gray && channels == 1 {
                // The first image in colour: the set is RGB, the gray ones so far expanded.
                let needed = set_bytes(total, h, w, 3, limit)?;
                let mut rgb = Vec::with_capacity(needed);
                rgb.extend(pixels.iter().flat_map(|&l| [l, l, l]));
                pixels = rgb;
                channels = 3;
            }
            pixels.extend_from_slice(&convert(image, h, w, channels));
            labels.push(label as u32);
        }
    }
    let (height, width) = shape.unwrap_or((0, 0));
    Ok(ImageSet {
        height,
        width,
        channels,
        classes: class_names,
        labels,
        pixels,
    })
}

/// One PNG or JPEG, converted to `channels` (1 or 3) and resized to height×width exactly as
/// [`read_image_folder`] does: `[H, W, C]` bytes. For predict. Errors name the file `image`
/// (the caller knows which one it was).
pub fn decode_image(
    bytes: &[u8],
    height: usize,
    width: usize,
    channels: usize,
) -> Result<Vec<u8>, ImageError> {
    check_side(height, width).map_err(|m| file_error("image", m))?;
    if !matches!(channels, 1 | 3) {
        return Err(file_error(
            "image",
            format!("{channels} channels asked; 1 or 3"),
        ));
    }
    let image = decode(bytes).map_err(|m| file_error("image", m))?;
    Ok(convert(image, height, width, channels))
}

/// [`decode_image`] of base64 text (standard alphabet, padded or not; a `data:` URL prefix
/// such as `data:image/png;base64,` is allowed), for images sent inside JSON.
pub fn decode_image_base64(
    text: &str,
    height: usize,
    width: usize,
    channels: usize,
) -> Result<Vec<u8>, ImageError> {
    let text = text.trim();
    let text = match text.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map(|(_, data)| data).unwrap_or(""),
        None => text,
    };
    let text = text.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text)
        .map_err(|e| file_error("image", format!("not base64: {e}")))?;
    decode_image(&bytes, height, width, channels)
}

fn check_side(h: usize, w: usize) -> Result<(), String> {
    if (1..=MAX_SIDE).contains(&h) && (1..=MAX_SIDE).contains(&w) {
        Ok(())
    } else {
        Err(format!(
            "{h}x{w} (height x width) is outside 1..={MAX_SIDE} on a side"
        ))
    }
}

/// N·H·W·C, refused above `limit`.
fn set_bytes(n: usize, h: usize, w: usize, c: usize, limit: usize) -> Result<usize, ImageError> {
    n.checked_mul(h * w * c)
        .filter(|&b| b <= limit)
        .ok_or_else(|| {
            ImageError::Archive(format!(
                "{n} images of {h}x{w}x{c} are more than {} MiB of pixels; send fewer images or a smaller ?size=HxW",
                limit >> 20
            ))
        })
}

/// The archive's image files by class (sorted), each class's files in torchvision's order;
/// every bound that the central directory can show is checked here, before any file is read.
fn list<R: Read + std::io::Seek>(
    archive: &mut ZipArchive<R>,
) -> Result<BTreeMap<String, Vec<Entry>>, ImageError> {
    let mut files: Vec<(usize, String, Vec<String>)> = Vec::new();
    let mut declared: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive
            .by_index_data(index)
            .map_err(|e| ImageError::Archive(format!("entry {index} of the archive: {e}")))?;
        let raw = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let path = entry.name().map(|n| n.into_owned()).unwrap_or(raw);
        let normalized = path.replace('\\', "/");
        if entry.is_dir() || normalized.ends_with('/') {
            continue;
        }
        let parts: Vec<String> = normalized
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .map(str::to_string)
            .collect();
        let Some(last) = parts.last() else {
            continue;
        };
        if parts[0] == "__MACOSX"
            || parts.iter().any(|p| p.starts_with('.'))
            || last.eq_ignore_ascii_case("thumbs.db")
            || last.eq_ignore_ascii_case("desktop.ini")
        {
            continue;
        }
        if parts.iter().any(|p| p == "..") {
            return Err(file_error(&path, "a path that climbs out of the archive"));
        }
        if entry.is_symlink() {
            return Err(file_error(&path, "a symbolic link, not an image"));
        }
        if entry.encrypted() {
            return Err(file_error(
                &path,
                "encrypted; send the archive without a password",
            ));
        }
        let method = entry.compression();
        if !matches!(
            method,
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            return Err(file_error(
                &path,
                format!("compressed with {method}; only stored and deflated entries are read"),
            ));
        }
        if entry.size() > MAX_FILE_BYTES {
            return Err(file_error(
                &path,
                format!(
                    "declares {} bytes uncompressed, more than the {} MiB one file may hold",
                    entry.size(),
                    MAX_FILE_BYTES >> 20
                ),
            ));
        }
        declared += entry.size();
        if declared > MAX_ARCHIVE_BYTES {
            return Err(ImageError::Archive(format!(
                "the archive's files declare more than {} MiB uncompressed",
                MAX_ARCHIVE_BYTES >> 20
            )));
        }
        files.push((index, path, parts));
        if files.len() > MAX_IMAGES {
            return Err(ImageError::Archive(format!(
                "the archive holds more than {MAX_IMAGES} images"
            )));
        }
    }
    if files.is_empty() {
        return Err(ImageError::Archive(
            "the archive holds no images: put each class's PNG or JPEG files in a folder named after the class".into(),
        ));
    }
    // One top folder over every file (`digits/0/a.png`) is the folder that was zipped.
    let top = &files[0].2[0];
    let strip = files.iter().all(|(_, _, p)| p.len() >= 3 && &p[0] == top);
    let mut classes: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for (index, path, mut parts) in files {
        if strip {
            parts.remove(0);
        }
        if parts.len() < 2 {
            return Err(file_error(
                &path,
                "outside any class folder: put each image in a folder named after its class",
            ));
        }
        let name = parts.pop().unwrap_or_default();
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        if !matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) {
            return Err(file_error(
                &path,
                "not a PNG or JPEG image (.png, .jpg or .jpeg)",
            ));
        }
        let class = parts.remove(0);
        if class.chars().count() > MAX_CLASS_NAME {
            return Err(file_error(
                &path,
                format!("the class folder's name is longer than {MAX_CLASS_NAME} characters"),
            ));
        }
        classes.entry(class).or_default().push(Entry {
            index,
            path,
            dir: parts.join("/"),
            name,
        });
    }
    if classes.len() < 2 {
        let only = classes.keys().next().cloned().unwrap_or_default();
        return Err(ImageError::Archive(format!(
            "one class only ({only:?}): an ImageFolder archive needs at least two class folders"
        )));
    }
    if classes.len() > MAX_CLASSES {
        return Err(ImageError::Archive(format!(
            "{} classes; at most {MAX_CLASSES}",
            classes.len()
        )));
    }
    for entries in classes.values_mut() {
        // torchvision: sorted(os.walk(class_dir)), each folder's files sorted.
        entries.sort_by(|a, b| (&a.dir, &a.name).cmp(&(&b.dir, &b.name)));
        if let Some(twice) = entries
            .windows(2)
            .find(|w| (&w[0].dir, &w[0].name) == (&w[1].dir, &w[1].name))
        {
            return Err(file_error(&twice[1].path, "appears twice in the archive"));
        }
    }
    Ok(classes)
}

/// An entry's bytes, read through a limit (its declared size, and what is `left` of the
/// archive's allowance) whatever the central directory said.
fn read_entry<R: Read + std::io::Seek>(
    archive: &mut ZipArchive<R>,
    entry: &Entry,
    left: &mut u64,
) -> Result<Vec<u8>, ImageError> {
    let mut file = archive
        .by_index(entry.index)
        .map_err(|e| file_error(&entry.path, format!("cannot be read: {e}")))?;
    let declared = file.size();
    let limit = declared.min(MAX_FILE_BYTES).min(*left);
    let mut bytes = Vec::with_capacity(limit as usize);
    (&mut file)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| file_error(&entry.path, format!("cannot be decompressed: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(file_error(
            &entry.path,
            format!("holds more than the {declared} bytes it declares"),
        ));
    }
    *left -= bytes.len() as u64;
    Ok(bytes)
}

/// A PNG or JPEG (told by its bytes, not its name), within the decoding bounds.
fn decode(bytes: &[u8]) -> Result<DynamicImage, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if reader.format().is_none() {
        return Err("is neither a PNG nor a JPEG image".into());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_SOURCE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| format!("cannot be decoded as a PNG or JPEG image: {e}"))
}

/// `[H, W, C]` bytes of `image`: gray images (and every image when `channels` is 1) as 8-bit
/// luma, others as 8-bit RGB (alpha dropped), resized with the triangle filter unless already
/// `h`×`w`; a gray image asked in RGB is expanded after resizing.
fn convert(image: DynamicImage, h: usize, w: usize, channels: usize) -> Vec<u8> {
    if channels == 1 || !image.color().has_color() {
        let luma = resized(image.into_luma8(), h, w);
        if channels == 1 {
            luma
        } else {
            luma.iter().flat_map(|&l| [l, l, l]).collect()
        }
    } else {
        resized(image.into_rgb8(), h, w)
    }
}

fn resized<P>(buffer: ImageBuffer<P, Vec<u8>>, h: usize, w: usize) -> Vec<u8>
where
    P: Pixel<Subpixel = u8> + 'static,
{
    if buffer.height() as usize == h && buffer.width() as usize == w {
        return buffer.into_raw();
    }
    image::imageops::resize(&buffer, w as u32, h as u32, FilterType::Triangle).into_raw()
}
