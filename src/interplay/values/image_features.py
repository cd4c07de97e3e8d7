"""Image features: an image cut into regions that a mask keeps or replaces by a baseline.

An image of shape (H, W, C) is split into n regions — a grid of rectangular patches, SLIC
superpixels (scikit-image), or a label map the user gives. A mask keeps or removes each
region; a removed region shows the *baseline* image there instead:

- ``"mean"``: the image's mean colour (per channel) everywhere;
- ``"blur"``: the image under a Gaussian blur (its layout without its detail);
- ``"zeros"``: black (zero in every channel);
- an array of the image's shape: any reference image the user picks.

Rendering is vectorised: N masks give an (N, H, W, C) array in one ``np.where``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from interplay.values.base import check_masks

__all__ = ["Baseline", "ImageFeatures", "as_image", "check_positive_int", "make_baseline"]

Baseline = Literal["mean", "blur", "zeros"]
_BASELINES: tuple[str, ...] = get_args(Baseline)
_KINDS = ("grid", "superpixels", "segments")


def check_positive_int(value: Any, name: str) -> int:
    """``value`` as an int ≥ 1; a TypeError for a non-integer, a ValueError for one below 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def as_image(image: Any, name: str = "image") -> np.ndarray:
    """Check an image and return it as a read-only (H, W, C) array.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array-like
        uint8 (0–255) or floating point values; C between 1 and 4 (channels last). A
        (H, W) array is read as one channel.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    (H, W, C) array, uint8 or float, not writeable (a copy when the input was writeable)
    """
    arr = np.asarray(image)
    if arr.dtype == object or not (arr.dtype == np.uint8 or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(
            f"{name} must be a uint8 or float array, got dtype {arr.dtype}; convert it with "
            "np.asarray(img, dtype=np.uint8) (0-255) or .astype(np.float32)"
        )
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"{name} must have shape (H, W) or (H, W, C), got {arr.shape}")
    if not 1 <= arr.shape[2] <= 4:
        hint = (
            "; it looks channels-first: use np.moveaxis(img, 0, -1)"
            if 1 <= arr.shape[0] <= 4
            else ""
        )
        raise ValueError(
            f"{name} must have 1 to 4 channels last, shape (H, W, C), got {arr.shape}{hint}"
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if arr.dtype != np.uint8 and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has NaN or infinite pixels")
    arr = np.array(arr) if arr.flags.writeable else arr
    arr.flags.writeable = False
    return arr


def _cast_like(values: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``values`` in ``image``'s dtype (rounded and clipped to 0..255 for uint8)."""
    if image.dtype == np.uint8:
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return np.asarray(values, dtype=image.dtype)


def make_baseline(
    image: np.ndarray, baseline: str | Any = "mean", *, blur_sigma: float | None = None
) -> tuple[np.ndarray, str]:
    """The image a removed region shows, and its name.

    Parameters
    ----------
    image : (H, W, C) array
        A checked image (see :func:`as_image`).
    baseline : {"mean", "blur", "zeros"} or (H, W, C) array
        ``mean``: the image's mean colour; ``blur``: a Gaussian blur of the image;
        ``zeros``: black; an array: that image (same shape as ``image``).
    blur_sigma : float, optional
        Standard deviation of the blur in pixels (``blur`` only); default ``max(H, W) / 16``.

    Returns
    -------
    baseline : (H, W, C) array in the image's dtype, not writeable
    name : str
        ``"mean"``, ``"blur"``, ``"zeros"`` or ``"image"``.
    """
    height, width, _ = image.shape
    if isinstance(baseline, str):
        if baseline not in _BASELINES:
            raise ValueError(
                f"unknown baseline {baseline!r}; valid: {', '.join(_BASELINES)}, "
                "or an image array of the same shape"
            )
        if blur_sigma is not None and baseline != "blur":
            raise ValueError("blur_sigma is only used with baseline='blur'")
        pixels = image.astype(np.float64)
        if baseline == "mean":
            values = np.broadcast_to(pixels.mean(axis=(0, 1)), image.shape)
        elif baseline == "zeros":
            values = np.zeros(image.shape)
        else:
            from scipy.ndimage import gaussian_filter

            sigma = max(height, width) / 16.0 if blur_sigma is None else float(blur_sigma)
            if not sigma > 0:
                raise ValueError(f"blur_sigma must be positive, got {blur_sigma}")
            values = gaussian_filter(pixels, sigma=(sigma, sigma, 0.0), mode="nearest")
        out, name = _cast_like(values, image), baseline
    else:
        if blur_sigma is not None:
            raise ValueError("blur_sigma is only used with baseline='blur'")
        given = as_image(baseline, "baseline")
        if given.shape != image.shape:
            raise ValueError(
                f"baseline image has shape {given.shape} but the image has shape {image.shape}"
            )
        out, name = _cast_like(given, image), "image"
    out = np.ascontiguousarray(out)
    out.flags.writeable = False
    return out, name


def _check_label_map(segments: Any, image: np.ndarray) -> np.ndarray:
    """``segments`` as an integer (H, W) array matching ``image``; else a clear error."""
    labels = np.asarray(segments)
    if labels.shape != image.shape[:2]:
        raise ValueError(
            f"segments must have the image's height and width {image.shape[:2]}, "
            f"got shape {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"segments must be an integer label array, got dtype {labels.dtype}")
    return labels


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


@dataclass(frozen=True, eq=False)
class ImageFeatures:
    """An image cut into n maskable regions, with the baseline a removed region shows.

    Build one with :meth:`grid`, :meth:`superpixels` or :meth:`from_segments`.

    Attributes
    ----------
    image : (H, W, C) array
        The explained image (uint8 or float, read-only).
    segments : (H, W) int64 array
        The region of each pixel, in ``0..n-1``; every region has at least one pixel.
    baseline : (H, W, C) array
        What a removed region shows (same shape and dtype as ``image``).
    kind : {"grid", "superpixels", "segments"}
        How the regions were made.
    baseline_name : str
        ``"mean"``, ``"blur"``, ``"zeros"`` or ``"image"`` (a given array).
    grid_shape : (rows, cols) or None
        The grid's size, for ``kind="grid"``.
    """

    image: np.ndarray
    segments: np.ndarray
    baseline: np.ndarray
    kind: str = "segments"
    baseline_name: str = "image"
    grid_shape: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        image = as_image(self.image)
        segments = _check_label_map(self.segments, image)
        n = int(segments.max()) + 1
        if segments.min() < 0 or np.bincount(segments.ravel(), minlength=n).min() == 0:
            raise ValueError(
                "segments must label the regions 0..n-1, each with at least one pixel "
                "(relabel with np.unique(segments, return_inverse=True))"
            )
        baseline = as_image(self.baseline, "baseline")
        if baseline.shape != image.shape or baseline.dtype != image.dtype:
            raise ValueError(
                f"baseline has shape {baseline.shape} and dtype {baseline.dtype}; expected "
                f"{image.shape} and {image.dtype} (build it with make_baseline)"
            )
        if self.kind not in _KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; valid: {', '.join(_KINDS)}")
        if self.grid_shape is not None and self.grid_shape[0] * self.grid_shape[1] != n:
            raise ValueError(f"grid_shape {self.grid_shape} does not match {n} regions")
        segments = np.array(segments, dtype=np.int64)
        segments.flags.writeable = False
        object.__setattr__(self, "image", image)
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "baseline", baseline)

    # ------------------------------------------------------------ constructors
    @classmethod
    def grid(
        cls,
        image: Any,
        rows: int,
        cols: int | None = None,
        *,
        baseline: str | Any = "mean",
        blur_sigma: float | None = None,
    ) -> ImageFeatures:
        """A grid of ``rows`` × ``cols`` patches (as equal as the pixel counts allow).

        Parameters
        ----------
        image : (H, W) or (H, W, C) array
            uint8 or float.
        rows, cols : int
            Grid size; ``cols`` defaults to ``rows``. At most H rows and W columns.
        baseline, blur_sigma
            What a removed patch shows (see :func:`make_baseline`).

        Notes
        -----
        Patch ``r * cols + c`` is named ``"patch r{r}c{c}"``.
        """
        image = as_image(image)
        cols = rows if cols is None else cols
        height, width, _ = image.shape
        for label, value, limit, axis in (("rows", rows, height, "height"),
                                          ("cols", cols, width, "width")):
            if check_positive_int(value, label) > limit:
                raise ValueError(
                    f"{label}={value} is larger than the image's {axis} ({limit} pixels): "
                    f"use at most {limit} {label}"
                )
        row_of = (np.arange(height) * int(rows)) // height
        col_of = (np.arange(width) * int(cols)) // width
        segments = row_of[:, None] * int(cols) + col_of[None, :]
        base, name = make_baseline(image, baseline, blur_sigma=blur_sigma)
        return cls(image, segments, base, "grid", name, (int(rows), int(cols)))

    @classmethod
    def superpixels(
        cls,
        image: Any,
        n_segments: int = 50,
        *,
        compactness: float = 10.0,
        baseline: str | Any = "mean",
        blur_sigma: float | None = None,
    ) -> ImageFeatures:
        """SLIC superpixels (``skimage.segmentation.slic``): regions that follow edges.

        ``n_segments`` is the approximate number of superpixels (SLIC may return a few more
        or fewer), ``compactness`` SLIC's balance of colour against space (higher: squarer
        regions); ``image``, ``baseline`` and ``blur_sigma`` are as in :meth:`grid`.
        """
        image = as_image(image)
        if check_positive_int(n_segments, "n_segments") > image.shape[0] * image.shape[1]:
            raise ValueError(
                f"n_segments={n_segments} must be between 1 and the number of pixels "
                f"({image.shape[0] * image.shape[1]})"
            )
        base, name = make_baseline(image, baseline, blur_sigma=blur_sigma)
        try:
            from skimage.segmentation import slic
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "superpixels need scikit-image: pip install 'interplay[image]'"
            ) from exc
        labels = slic(
            image, n_segments=int(n_segments), compactness=float(compactness),
            channel_axis=-1, start_label=0,
        )
        _, segments = np.unique(labels, return_inverse=True)
        return cls(image, segments.reshape(labels.shape), base, "superpixels", name)

    @classmethod
    def from_segments(
        cls,
        image: Any,
        segments: Any,
        *,
        baseline: str | Any = "mean",
        blur_sigma: float | None = None,
    ) -> ImageFeatures:
        """Regions from a label map the user made (any integer labels; relabelled 0..n-1
        in increasing order of label)."""
        image = as_image(image)
        labels = _check_label_map(segments, image)
        _, relabelled = np.unique(labels, return_inverse=True)
        base, name = make_baseline(image, baseline, blur_sigma=blur_sigma)
        return cls(image, relabelled.reshape(labels.shape), base, "segments", name)

    # ----------------------------------------------------------------- reading
    @property
    def n_features(self) -> int:
        return int(self.segments.max()) + 1

    @property
    def shape(self) -> tuple[int, int, int]:
        """(H, W, C) of the image."""
        return tuple(int(s) for s in self.image.shape)  # type: ignore[return-value]

    def names(self) -> list[str]:
        """``"patch r{r}c{c}"`` for a grid, ``"segment {i}"`` otherwise."""
        if self.grid_shape is not None:
            cols = self.grid_shape[1]
            return [f"patch r{i // cols}c{i % cols}" for i in range(self.n_features)]
        return [f"segment {i}" for i in range(self.n_features)]

    def areas(self) -> np.ndarray:
        """(n,) int array: the number of pixels of each region."""
        return np.bincount(self.segments.ravel(), minlength=self.n_features)

    def centroids(self) -> np.ndarray:
        """(n, 2) float array: (row, column) of each region's centre of mass."""
        rows, cols = np.indices(self.segments.shape)
        flat = self.segments.ravel()
        area = self.areas().astype(np.float64)
        return np.stack(
            [np.bincount(flat, rows.ravel(), self.n_features) / area,
             np.bincount(flat, cols.ravel(), self.n_features) / area],
            axis=1,
        )

    def region(self, features: Any) -> np.ndarray:
        """(H, W) bool array: the pixels of the given regions (indices in ``0..n-1``)."""
        idx = np.asarray(list(features) if not np.isscalar(features) else [features])
        if idx.size and (not np.issubdtype(idx.dtype, np.integer)
                         or idx.min() < 0 or idx.max() >= self.n_features):
            raise ValueError(f"region indices must be ints in 0..{self.n_features - 1}")
        chosen = np.zeros(self.n_features, dtype=bool)
        chosen[idx.astype(np.int64)] = True
        return chosen[self.segments]

    # --------------------------------------------------------------- rendering
    def render(self, masks: Any) -> np.ndarray:
        """The masked images.

        Parameters
        ----------
        masks : (N, n) bool array
            True keeps a region; a removed region shows the baseline.

        Returns
        -------
        (N, H, W, C) array in the image's dtype
        """
        masks = check_masks(masks, self.n_features)
        keep = masks[:, self.segments]  # (N, H, W)
        return np.where(keep[..., None], self.image[None], self.baseline[None])

    def to_dict(self) -> dict:
        """JSON-serialisable description (for fingerprints and metadata): the kind, sizes,
        baseline, names and SHA-256 digests of the image, the regions and the baseline."""
        height, width, channels = self.shape
        return {
            "kind": self.kind,
            "height": height,
            "width": width,
            "channels": channels,
            "dtype": str(self.image.dtype),
            "n_features": self.n_features,
            "grid": None if self.grid_shape is None else list(self.grid_shape),
            "baseline": self.baseline_name,
            "names": self.names(),
            "image_sha256": _digest(self.image),
            "segments_sha256": _digest(self.segments),
            "baseline_sha256": _digest(self.baseline),
        }

    def __repr__(self) -> str:
        grid = f", grid={self.grid_shape}" if self.grid_shape is not None else ""
        return (
            f"ImageFeatures(kind={self.kind!r}, n_features={self.n_features}, "
            f"shape={self.shape}{grid}, baseline={self.baseline_name!r})"
        )
