//! Local PNG and JPEG images: resolved once per document against the Markdown file's folder,
//! read, measured, and shared by both outputs, each of which sizes them to its text width.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::{ImageFormat, ImageReader};

use crate::{Error, Result};

/// English Metric Units per pixel at 96 dpi, the resolution Word assumes for pixel sizes.
pub(crate) const EMU_PER_PIXEL: u64 = 9525;

/// An image ready for either output: PNG bytes (docx-rs stores every image as `.png`, and
/// typst reads PNG) and its size in pixels.
pub(crate) struct Picture {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Its position among the document's distinct embedded images, which names it
    /// inside the PDF's virtual file system.
    #[cfg_attr(not(feature = "pdf"), allow(dead_code))]
    pub index: usize,
}

/// What an image destination turned out to be.
#[derive(Clone)]
pub(crate) enum Resolved {
    /// A local file inside the document's folder, read and decoded.
    Embedded(Arc<Picture>),
    /// A URL: never fetched, written as a link.
    Remote,
    /// A path that leaves the document's folder: never read, so that converting a file
    /// cannot leak `~/.ssh/id_rsa.png` into a document meant to be sent outside.
    Outside,
}

/// Every image of one document, keyed by its destination as written in the Markdown.
#[derive(Default)]
pub(crate) struct Images {
    by_url: HashMap<String, Resolved>,
    embedded: Vec<Arc<Picture>>,
}

impl Images {
    /// Resolves `url` once; later calls with the same destination reuse the first result.
    pub(crate) fn resolve(&mut self, base_dir: &Path, url: &str) -> Result<Resolved> {
        if let Some(resolved) = self.by_url.get(url) {
            return Ok(resolved.clone());
        }
        let resolved = if is_remote(url) {
            Resolved::Remote
        } else if !is_inside(base_dir, url) {
            Resolved::Outside
        } else {
            let picture = Arc::new(load(base_dir, url, self.embedded.len())?);
            self.embedded.push(Arc::clone(&picture));
            Resolved::Embedded(picture)
        };
        self.by_url.insert(url.to_owned(), resolved.clone());
        Ok(resolved)
    }

    /// The resolution of a destination [`Images::resolve`] has seen.
    pub(crate) fn get(&self, url: &str) -> Option<&Resolved> {
        self.by_url.get(url)
    }

    /// The embedded pictures, in the order of their indices.
    #[cfg_attr(not(feature = "pdf"), allow(dead_code))]
    pub(crate) fn embedded(&self) -> &[Arc<Picture>] {
        &self.embedded
    }
}

/// The text that stands for an image that is not embedded: its alt text, else its path.
pub(crate) fn placeholder(alt: &str, url: &str) -> String {
    let label = if alt.is_empty() { url } else { alt };
    format!("[image: {label}]")
}

/// Whether an image destination is a URL, which docgen never fetches.
pub(crate) fn is_remote(url: &str) -> bool {
    url.contains("://") || url.starts_with("data:")
}

/// Whether `url`, taken relative to `base_dir`, stays inside it. Lexical for paths that do
/// not exist (so the caller reports them missing), canonical for those that do (so a
/// symbolic link out of the folder is caught too).
fn is_inside(base_dir: &Path, url: &str) -> bool {
    let relative = Path::new(url);
    if relative.is_absolute() || relative.has_root() {
        return false;
    }
    let mut depth: i64 = 0;
    for component in relative.components() {
        match component {
            std::path::Component::ParentDir => depth -= 1,
            std::path::Component::Normal(_) => depth += 1,
            std::path::Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    match (
        base_dir.canonicalize(),
        base_dir.join(relative).canonicalize(),
    ) {
        (Ok(base), Ok(path)) => path.starts_with(base),
        _ => true,
    }
}

/// Reads and measures the image at `url`, resolved against `base_dir`.
fn load(base_dir: &Path, url: &str, index: usize) -> Result<Picture> {
    let path: PathBuf = base_dir.join(url);
    let bytes = std::fs::read(&path).map_err(|source| Error::ReadImage {
        path: path.clone(),
        source,
    })?;
    let decode_error = |source| Error::DecodeImage {
        path: path.clone(),
        source,
    };
    let reader = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|source| decode_error(image::ImageError::IoError(source)))?;
    let (png, (width, height)) = match reader.format() {
        Some(ImageFormat::Png) => {
            let dimensions = reader.into_dimensions().map_err(decode_error)?;
            (bytes, dimensions)
        }
        Some(ImageFormat::Jpeg) => {
            let image = reader.decode().map_err(decode_error)?;
            let dimensions = (image.width(), image.height());
            let mut png = Cursor::new(Vec::new());
            image
                .write_to(&mut png, ImageFormat::Png)
                .map_err(decode_error)?;
            (png.into_inner(), dimensions)
        }
        _ => {
            return Err(decode_error(image::ImageError::Unsupported(
                image::error::UnsupportedError::from_format_and_kind(
                    image::error::ImageFormatHint::Unknown,
                    image::error::UnsupportedErrorKind::Format(
                        image::error::ImageFormatHint::Unknown,
                    ),
                ),
            )));
        }
    };
    Ok(Picture {
        png,
        width,
        height,
        index,
    })
}

/// The size in EMU of a `width` × `height` pixel image no wider than `max_width_emu`.
pub(crate) fn fit(width: u32, height: u32, max_width_emu: u32) -> (u32, u32) {
    let width_emu = u64::from(width) * EMU_PER_PIXEL;
    let height_emu = u64::from(height) * EMU_PER_PIXEL;
    let max = u64::from(max_width_emu);
    let (width_emu, height_emu) = if width_emu > max && width_emu > 0 {
        (max, height_emu * max / width_emu)
    } else {
        (width_emu, height_emu)
    };
    (
        u32::try_from(width_emu).unwrap_or(u32::MAX),
        u32::try_from(height_emu.max(1)).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_images_keep_their_size() {
        assert_eq!(fit(100, 50, 5_000_000), (952_500, 476_250));
    }

    #[test]
    fn wide_images_shrink_to_the_text_width_keeping_the_aspect() {
        let (width, height) = fit(2000, 1000, 5_000_000);
        assert_eq!(width, 5_000_000);
        assert_eq!(height, 2_500_000);
    }

    #[test]
    fn paths_that_leave_the_folder_are_outside() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("doc");
        std::fs::create_dir(&base).unwrap();
        assert!(is_inside(&base, "img/a.png"));
        assert!(is_inside(&base, "img/../a.png"));
        assert!(!is_inside(&base, "../a.png"));
        assert!(!is_inside(&base, "img/../../a.png"));
        assert!(!is_inside(&base, "/etc/passwd"));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_folder_is_outside() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("doc");
        std::fs::create_dir(&base).unwrap();
        std::fs::write(dir.path().join("secret.png"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.png"), base.join("a.png")).unwrap();
        assert!(!is_inside(&base, "a.png"));
    }

    #[test]
    fn urls_are_remote_and_paths_are_not() {
        assert!(is_remote("https://example.com/a.png"));
        assert!(!is_remote("img/a.png"));
    }
}
