"""Copy a completed prediction's outputs into our storage, with a thumbnail for each.

FASHN's output URLs expire after 72 hours and base64 outputs after 60 minutes, so outputs are
copied as soon as the prediction completes. File names are derived from the job and attempt, so a
step that runs again after a crash overwrites its own files instead of leaving orphans.

Output URLs are fetched only over https from ``FASHN_OUTPUT_HOSTS`` (FASHN's CDN), redirects
included; the offline engine's own host and port are allowed over plain http only while the
offline engine is the configured provider. A URL is never stored: only our copy of the image.

Every stored image is marked as AI-generated and carries no other metadata: EXIF (camera, GPS),
IPTC and text chunks are dropped and an XMP packet with IPTC's DigitalSourceType
``trainedAlgorithmicMedia`` is written instead (``ai_marking``). JPEG and PNG outputs are
rewritten segment by segment, without decoding, so the pixels are exactly FASHN's.
"""

import io
import logging
import struct
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from avatar_studio import fashn

from ..files import delete_files
from ..models import result_path

logger = logging.getLogger(__name__)

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


@dataclass(frozen=True)
class StoredOutput:
    """One output written to our storage: its place among the outputs, and its two files."""

    index: int
    image_name: str
    thumbnail_name: str
    content_type: str
    width: int
    height: int


def store_outputs(job, attempt, outputs):
    """Download every output and store it. Returns a ``StoredOutput`` for each.

    Raises ``fashn.FashnError`` (retryable or not) when an output cannot be had, or one of
    ``files.STORAGE_ERRORS`` when the storage fails; files written before the failure are
    removed if the storage lets them be (else the next try writes over them, as their names are
    the attempt's own, or ``purge_orphan_files`` finds them).
    """
    if not outputs:
        raise fashn.OutputUnavailableError("the prediction completed without any output")
    stored = []
    policy = OutputHostPolicy.from_settings()
    # All downloads together must end well inside the step's lease: past it the sweeper would
    # start the same step again beside this one.
    seconds_each = download_budget_seconds() / len(outputs)
    try:
        for index, output in enumerate(outputs):
            if job.return_base64 and output[:5].lower() != "data:":
                # The provider kept a copy after all; we still store only our own copy.
                logger.warning(
                    "job %s: return_base64 was asked, but output %s is a URL", job.pk, index
                )
            with policy.session() as session:
                downloaded = fashn.download_output(
                    output,
                    max_bytes=settings.AVATAR_OUTPUT_MAX_BYTES,
                    timeout=(settings.FASHN_CONNECT_TIMEOUT, settings.FASHN_READ_TIMEOUT),
                    total_seconds=seconds_each,
                    allowed_hosts=policy.hosts,
                    session=session,
                )
            stored.append(_store_one(job, attempt, index, downloaded))
    except Exception:
        delete_stored(stored)
        raise
    return stored


def download_budget_seconds():
    """How long copying one prediction's outputs may take: half the step's lease."""
    return settings.AVATAR_STEP_LEASE_SECONDS / 2


class OutputHostPolicy:
    """Where outputs may be downloaded from: https to ``https_hosts`` (default port only), and
    plain http to the ``http_origins`` (``host:port``) of the offline engine."""

    def __init__(self, https_hosts, http_origins=()):
        self.https_hosts = frozenset(host.lower() for host in https_hosts)
        self.http_origins = frozenset(origin.lower() for origin in http_origins)

    @classmethod
    def from_settings(cls):
        http_origins = []
        if settings.USING_OFFLINE_ENGINE:
            http_origins.append(urlsplit(settings.FASHN_BASE_URL).netloc)
        return cls(settings.FASHN_OUTPUT_HOSTS, http_origins)

    @property
    def hosts(self):
        """Host names for ``download_output``'s own check (scheme and port are checked here)."""
        return self.https_hosts | {origin.rsplit(":", 1)[0] for origin in self.http_origins}

    def allows(self, url):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "https":
            try:
                port = parts.port
            except ValueError:
                return False
            return (parts.hostname or "").lower() in self.https_hosts and port in (None, 443)
        if scheme == "http":
            return parts.netloc.lower() in self.http_origins
        return False

    def session(self):
        return _PolicySession(self)


class _PolicySession(requests.Session):
    """A session that refuses every request (first URL and each redirect) the policy forbids."""

    def __init__(self, policy):
        super().__init__()
        self.trust_env = False  # no proxies or .netrc from the environment
        self._policy = policy

    def request(self, method, url, *args, **kwargs):
        if not self._policy.allows(url):
            parts = urlsplit(url)
            raise fashn.OutputHostNotAllowedError(
                f"output {parts.scheme}://{parts.netloc} is not an allowed output host"
            )
        return super().request(method, url, *args, **kwargs)


def _store_one(job, attempt, index, downloaded):
    extension = _EXTENSIONS.get(downloaded.content_type, "img")
    stem = result_path(job, f"{attempt.number}-{index}")
    marked = mark_as_ai_generated(downloaded.data, downloaded.content_type)
    width, height = _dimensions(marked)
    image_name = _save(f"{stem}.{extension}", marked)
    try:
        thumbnail_name = _save(f"{stem}-thumb.jpg", make_thumbnail(marked))
    except Exception:
        delete_files([image_name])
        raise
    return StoredOutput(index, image_name, thumbnail_name, downloaded.content_type, width, height)


def _dimensions(image_bytes):
    """The image's size, read from its header. Stored on the result row: with width and height
    left at 0, Django's ImageField would open the file to measure it every time a row loads
    (a storage read per image per page, and a 500 if the file has gone)."""
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise fashn.OutputUnavailableError(f"the output is not a readable image: {error}") from None


def make_thumbnail(image_bytes):
    """A small JPEG for galleries, marked AI-generated, without EXIF.

    Raises OutputUnavailableError if the bytes are no image.
    """
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            image.draft("RGB", settings.AVATAR_THUMBNAIL_SIZE)
            image = image.convert("RGB")
            image.thumbnail(settings.AVATAR_THUMBNAIL_SIZE)
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=85, optimize=True, xmp=AI_XMP_PACKET)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise fashn.OutputUnavailableError(f"the output is not a readable image: {error}") from None
    return buffer.getvalue()


def _save(name, data):
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(data))


def delete_stored(stored):
    """Delete the outputs' files as far as the storage lets (a failure is logged), so that the
    error that made them unwanted is the one raised."""
    delete_files(name for output in stored for name in (output.image_name, output.thumbnail_name))


# --- AI-generated marking and metadata stripping -------------------------------------------------

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

AI_XMP_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '  <rdf:Description rdf:about=""\n'
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    f'    Iptc4xmpExt:DigitalSourceType="{DIGITAL_SOURCE_TYPE}"\n'
    '    xmp:CreatorTool="Avatar Studio (FASHN face-to-model)">\n'
    '   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">AI-generated avatar'
    "</rdf:li></rdf:Alt></dc:description>\n"
    "  </rdf:Description>\n"
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
    '<?xpacket end="r"?>'
).encode()

_XMP_NAMESPACE = b"http://ns.adobe.com/xap/1.0/\x00"
# JPEG segments kept: JFIF/JFXX (APP0), the ICC colour profile (APP2) and Adobe's colour transform
# (APP14) are needed to show the pixels right. Every other APPn (EXIF, old XMP, IPTC/Photoshop,
# maker notes) and comments go.
_JPEG_KEPT_APP_MARKERS = {0xE0, 0xE2, 0xEE}
# PNG chunks dropped: EXIF, every text chunk (old XMP included) and the modification time.
_PNG_DROPPED_CHUNKS = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Malformed(ValueError):
    pass


def mark_as_ai_generated(data, content_type):
    """The image bytes without EXIF and other metadata, with the AI-generated XMP packet.

    JPEG and PNG are rewritten without decoding (lossless); anything else, or a file whose
    structure cannot be followed, is decoded and encoded again.
    """
    try:
        if content_type == "image/jpeg":
            return _jpeg_with_xmp(data, AI_XMP_PACKET)
        if content_type == "image/png":
            return _png_with_xmp(data, AI_XMP_PACKET)
    except _Malformed as error:
        logger.warning("output re-encoded: its %s structure is unusual (%s)", content_type, error)
    return _reencoded_with_xmp(data, content_type)


def _jpeg_with_xmp(data, xmp):
    if not data.startswith(b"\xff\xd8"):
        raise _Malformed("no start of image")
    leading_app0, rest = [], []
    position = 2
    while True:
        if position + 4 > len(data) or data[position] != 0xFF:
            raise _Malformed(f"no marker at byte {position}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA:  # start of scan: entropy-coded data (and the rest) follows as is
            rest.append(data[position:])
            break
        if 0xD0 <= marker <= 0xD9 or marker == 0x01:
            raise _Malformed(f"unexpected marker {marker:#x} before the scan")
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise _Malformed("truncated segment")
        segment = data[position:end]
        position = end
        is_app = 0xE0 <= marker <= 0xEF
        if (is_app and marker not in _JPEG_KEPT_APP_MARKERS) or marker == 0xFE:
            continue
        if marker == 0xE0 and not rest:
            leading_app0.append(segment)  # JFIF must stay first
        else:
            rest.append(segment)
    payload = _XMP_NAMESPACE + xmp
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return b"\xff\xd8" + b"".join(leading_app0) + app1 + b"".join(rest)


def _png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with_xmp(data, xmp):
    if not data.startswith(_PNG_SIGNATURE):
        raise _Malformed("no PNG signature")
    chunks = []
    position = len(_PNG_SIGNATURE)
    while position < len(data):
        if position + 12 > len(data):
            raise _Malformed("truncated chunk")
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise _Malformed("truncated chunk")
        chunks.append((kind, data[position:end]))
        position = end
        if kind == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        raise _Malformed("IHDR or IEND missing")
    # iTXt: keyword, NUL, no compression (0, 0), no language tag or translated keyword, text.
    xmp_chunk = _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp)
    kept = [raw for kind, raw in chunks[1:] if kind not in _PNG_DROPPED_CHUNKS]
    return _PNG_SIGNATURE + chunks[0][1] + xmp_chunk + b"".join(kept)


def _reencoded_with_xmp(data, content_type):
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            icc = image.info.get("icc_profile")
            buffer = io.BytesIO()
            extra = {"icc_profile": icc} if icc else {}
            if content_type == "image/webp":
                image.save(buffer, "WEBP", quality=95, xmp=AI_XMP_PACKET, **extra)
            elif content_type == "image/png":
                image.save(buffer, "PNG", pnginfo=_png_info(), **extra)
            else:
                image.convert("RGB").save(buffer, "JPEG", quality=95, xmp=AI_XMP_PACKET, **extra)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise fashn.OutputUnavailableError(f"the output is not a readable image: {error}") from None
    return buffer.getvalue()


def _png_info():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", AI_XMP_PACKET.decode("utf-8"))
    return info
