#!/usr/bin/env bash
# Makes the small media fixtures in server/tests/fixtures/media with ffmpeg (Debian's package).
# The files are committed; run this only to change them. Needs: apt-get install -y ffmpeg
set -euo pipefail
OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/server/tests/fixtures/media"
mkdir -p "$OUT"
cd "$OUT"
FF=(ffmpeg -hide_banner -loglevel error -y)
# A tiny, fast-to-encode test pattern: low frame rate and high CRF keep every file a few kB.
video() { # name size seconds extra-args...
  local name="$1" size="$2" seconds="$3"; shift 3
  "${FF[@]}" -f lavfi -i "testsrc=size=${size}:rate=4:duration=${seconds}" \
    -c:v libx264 -preset ultrafast -crf 45 -pix_fmt yuv420p -an "$@" "$name"
}

# Images.
"${FF[@]}" -f lavfi -i "testsrc=size=768x1024:duration=1" -frames:v 1 -q:v 20 valid.jpg
"${FF[@]}" -f lavfi -i "testsrc=size=600x800:duration=1" -frames:v 1 valid.png
"${FF[@]}" -f lavfi -i "testsrc=size=200x200:duration=1" -frames:v 1 too-small.png
"${FF[@]}" -f lavfi -i "testsrc=size=300x900:duration=1" -frames:v 1 -q:v 20 bad-aspect.jpg

# Videos.
video valid-index-at-end.mp4 360x640 5
video valid-index-at-start.mp4 360x640 5 -movflags +faststart
video valid.mov 640x360 4 -f mov
video fragmented.mp4 360x640 6 -movflags +frag_keyframe+empty_moov+default_base_moof -g 4
# Stored landscape (640x360) with a 90° rotation: displayed portrait (360x640), like a phone
# video. ffmpeg 5.1 cannot set the display matrix on encode, so it is written into tkhd here.
video rotated.mp4 640x360 4
python3 - <<'PY'
import struct
data = bytearray(open("rotated.mp4", "rb").read())
at = data.index(b"tkhd") + 4
matrix_at = at + (52 if data[at] == 1 else 40)
rotate_90 = [0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000]
data[matrix_at:matrix_at + 36] = struct.pack(">9i", *rotate_90)
open("rotated.mp4", "wb").write(data)
PY
video too-short.mp4 360x640 2
video too-long-for-match-image.mp4 360x640 12
video too-small.mp4 320x240 4
# The index (moov) is at the end, so cutting the file loses it.
head -c 2000 valid-index-at-end.mp4 > truncated.mp4

# Custom element reference videos (≤ 8 s, width 720–2160 px)
video element-face.mp4 720x1280 5
# The same in WEBM (VP8); a low bitrate cap keeps it as small as the MP4s.
"${FF[@]}" -f lavfi -i "testsrc=size=720x1280:rate=4:duration=5" \
  -c:v libvpx -deadline realtime -cpu-used 8 -crf 63 -b:v 40k -pix_fmt yuv420p -an element-face.webm
video element-too-long.mp4 720x1280 10
video element-too-narrow.mp4 640x960 5

# Files whose names lie about their contents.
python3 - <<'PY'
import zipfile
with zipfile.ZipFile("archive-named-video.mp4", "w") as z:
    z.writestr("readme.txt", "not a video")
with open("page-named-image.png", "w") as f:
    f.write("<!DOCTYPE html><html><body>not an image</body></html>\n")
PY
ls -l "$OUT"
