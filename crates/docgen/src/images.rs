//! Local PNG and JPEG images: read, measured, and sized to fit the text width.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ImageFormat, ImageReader};

use crate::{Error, Result};

/// English Metric Units per pixel at 96 dpi, the resolution Word assumes for pixel sizes.
const EMU_PER_PIXEL: u64 = 9525;

/// An image ready for the package: PNG bytes (docx-rs stores every image as `.png`) and
/// its size in EMU.
pub(crate) struct Picture {
    pub png: Vec<u8>,
    pub width_emu: u32,
    pub height_emu: u32,
}

/// Whether an image destination is a URL, which docgen never fetches.
pub(crate) fn is_remote(url: &str) -> bool {
    url.contains("://") || url.starts_with("data:")
}

/// Reads the image at `url`, resolved against `base_dir`, and scales it down (never up)
/// to `max_width_emu`, keeping its aspect ratio.
pub(crate) fn load(base_dir: &Path, url: &str, max_width_emu: u32) -> Result<Picture> {
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
    let (width_emu, height_emu) = fit(width, height, max_width_emu);
    Ok(Picture {
        png,
        width_emu,
        height_emu,
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
    fn urls_are_remote_and_paths_are_not() {
        assert!(is_remote("https://example.com/a.png"));
        assert!(!is_remote("img/a.png"));
    }
}
