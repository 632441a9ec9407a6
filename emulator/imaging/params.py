"""``x-oss-process=image/...`` read into steps, each checked against OSS's parameter ranges.

Pure text work, no Pillow: a bad parameter is refused before a byte of the image is read.
Messages follow the shape real OSS sends: ``The value: image of parameter: quality is
invalid.reason:Value must be digit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..protocol.errors import OssError, invalid_argument

#: What OSS documents and the emulator does too (``image/info`` is a step without parameters).
SUPPORTED = ("info", "resize", "crop", "rotate", "format", "quality", "auto-orient")
#: Real IMG operations the emulator does not draw: 501 names them, so a test knows why.
UNSUPPORTED = (
    "watermark",
    "blur",
    "bright",
    "contrast",
    "sharpen",
    "circle",
    "indexcrop",
    "rounded-corners",
    "interlace",
    "average-hue",
)
FORMATS = ("jpg", "png", "webp", "bmp", "gif", "tiff")
MAX_SIDE = 16384  # resize's w, h, l, s: [1, 16384]
MODES = ("lfit", "mfit", "fill", "pad", "fixed")
GRAVITIES = ("nw", "north", "ne", "west", "center", "east", "sw", "south", "se")
MAX_STEPS = 16
MAX_SPEC = 4096


@dataclass(frozen=True)
class Step:
    """One action of the chain, its parameters as given (``w`` -> ``100``)."""

    action: str
    args: dict[str, str] = field(default_factory=dict)
    value: str | None = None  # the bare value of ``rotate,90``, ``format,png``...

    def int_arg(self, name: str, low: int, high: int, default: int | None = None) -> int | None:
        """The parameter ``name`` as an int in [low, high], or ``default`` when absent."""
        raw = self.args.get(name)
        return default if raw is None else check_int(raw, name, low, high)


def parse(spec: str) -> list[Step]:
    """``image/resize,w_100/format,png`` -> steps; refuses what OSS refuses."""
    if len(spec) > MAX_SPEC:
        raise invalid_argument("The x-oss-process is too long.", "x-oss-process", spec[:64])
    kind, _, rest = spec.partition("/")
    if kind != "image":
        raise OssError("NotImplemented", f"The process {kind} is not supported by ossemu.")
    steps = [_step(part) for part in rest.split("/") if part]
    if not steps:
        raise OssError("MissingArgument", "The image process has no operation.")
    if len(steps) > MAX_STEPS:
        raise invalid_argument("Too many image operations.", "x-oss-process", spec[:64])
    if any(s.action == "info" for s in steps[:-1]):
        raise invalid_argument(_bad("info", "image", "info must be the last operation"))
    return steps


def check_int(raw: str, name: str, low: int, high: int) -> int:
    """An integer parameter in [low, high], with OSS's wording when it is not."""
    if not raw.isdigit():
        raise invalid_argument(_bad(raw, name, "Value must be digit"))
    number = int(raw)
    if not low <= number <= high:
        raise invalid_argument(_bad(raw, name, f"Value must be in [{low}, {high}]"))
    return number


def _step(text: str) -> Step:
    action, _, params = text.partition(",")
    if action in UNSUPPORTED:
        raise OssError(
            "NotImplemented", f"The image operation {action} is not supported by ossemu."
        )
    if action not in SUPPORTED:
        raise invalid_argument(_bad(action, "operation", "Operation is not supported"))
    if action in ("rotate", "format", "auto-orient"):
        return _bare(action, params)
    args: dict[str, str] = {}
    for item in filter(None, params.split(",")):
        name, sep, value = item.partition("_")
        if not sep:
            raise invalid_argument(_bad(item, action, "Value must be name_value"))
        args[name] = value
    step = Step(action, args)
    {"resize": _check_resize, "crop": _check_crop, "quality": _check_quality}.get(
        action, lambda s: None
    )(step)
    return step


def _bare(action: str, value: str) -> Step:
    if action == "rotate":
        check_int(value, "rotate", 0, 360)
    elif action == "auto-orient":
        check_int(value, "auto-orient", 0, 1)
    elif value not in FORMATS:
        reason = "heic and avif are not supported by ossemu" if value in ("heic", "avif") else ""
        raise invalid_argument(_bad(value, "format", reason or f"Value must be in {FORMATS}"))
    return Step(action, value=value)


def _check_resize(step: Step) -> None:
    for name in ("w", "h", "l", "s"):
        step.int_arg(name, 1, MAX_SIDE)
    step.int_arg("p", 1, 1000)
    step.int_arg("limit", 0, 1)
    mode = step.args.get("m", "lfit")
    if mode not in MODES:
        raise invalid_argument(_bad(mode, "m", f"Value must be in {MODES}"))
    color = step.args.get("color", "FFFFFF")
    if len(color) != 6 or any(c not in "0123456789abcdefABCDEF" for c in color):
        raise invalid_argument(_bad(color, "color", "Value must be RRGGBB"))
    if not any(n in step.args for n in ("w", "h", "l", "s", "p")):
        raise OssError("MissingArgument", "The resize needs w, h, l, s or p.")
    unknown = set(step.args) - {"w", "h", "l", "s", "p", "m", "limit", "color"}
    if unknown:
        raise invalid_argument(_bad(min(unknown), "resize", "Unknown parameter"))


def _check_crop(step: Step) -> None:
    for name in ("w", "h", "x", "y"):
        step.int_arg(name, 0, 30000)
    gravity = step.args.get("g", "nw")
    if gravity not in GRAVITIES:
        raise invalid_argument(_bad(gravity, "g", f"Value must be in {GRAVITIES}"))
    unknown = set(step.args) - {"w", "h", "x", "y", "g"}
    if unknown:
        raise invalid_argument(_bad(min(unknown), "crop", "Unknown parameter"))


def _check_quality(step: Step) -> None:
    if not step.args:
        raise OssError("MissingArgument", "The quality needs q or Q.")
    for name in step.args:
        if name not in ("q", "Q"):
            raise invalid_argument(_bad(name, "quality", "Unknown parameter"))
        step.int_arg(name, 1, 100)


def _bad(value: str, name: str, reason: str) -> str:
    return f"The value: {value} of parameter: {name} is invalid.reason:{reason}"
