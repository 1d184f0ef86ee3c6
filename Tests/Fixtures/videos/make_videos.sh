#!/usr/bin/env bash
# Makes the video test clips from the committed sample photos, and records what
# ffprobe says about each (<clip>.ffprobe.json: the stream's size, rates and
# frame count, and every frame's best-effort timestamp in decode output order).
# The tests compare vision's decoder with those files, so CI needs FFmpeg's
# libraries but not the ffmpeg/ffprobe programs. Needs Debian's `ffmpeg` package.
# Run from anywhere: ./Tests/Fixtures/videos/make_videos.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
samples="$here/../../../Samples"
cd "$here"
ff=(ffmpeg -hide_banner -loglevel error -y)

# H.264 in MP4 with B-frames (so decode order != packet order): a 2 s pan across
# pets.jpg at 12 fps, 320x240, moov first.
"${ff[@]}" -loop 1 -i "$samples/photos/pets.jpg" -t 2 -r 12 \
    -vf "crop=320:240:x='t*80':y='t*40',format=yuv420p" \
    -c:v libx264 -preset medium -crf 32 -bf 2 -g 12 -movflags +faststart -an h264.mp4

# VP9 in WebM (no frame count in the header, 1 ms time base): a pan across a blood
# smear at 8 fps, 10 frames.
"${ff[@]}" -loop 1 -i "$samples/bccd/JPEGImages/BloodImage_00007.jpg" -frames:v 10 -r 8 \
    -vf "crop=320:240:x='n*24':y='n*12',format=yuv420p" \
    -c:v libvpx-vp9 -b:v 0 -crf 45 -deadline good -cpu-used 4 -an vp9.webm

# Variable frame rate: H.264 in MP4 whose frame intervals grow from 50 ms to 140 ms.
"${ff[@]}" -loop 1 -i "$samples/photos/owl.jpg" -frames:v 16 \
    -vf "crop=320:240:x='n*10':y='n*6',settb=1/1000,setpts='(N*0.05+N*N*0.003)/TB',format=yuv420p" \
    -fps_mode passthrough -enc_time_base:v 1:1000 -video_track_timescale 1000 \
    -c:v libx264 -preset medium -crf 32 -movflags +faststart -an vfr.mp4

# MPEG-4 Part 2 in AVI: a pan across the hot dog at 10 fps, 12 frames (odd size 321x241
# is not allowed by the codec, so 320x240).
"${ff[@]}" -loop 1 -i "$samples/photos/hot_dog.jpg" -frames:v 12 -r 10 \
    -vf "crop=320:240:x='n*12':y='n*8'" -c:v mpeg4 -q:v 8 -an mpeg4.avi

# The H.264 clip with a display matrix asking for a 90 degree turn (as phones write
# portrait videos): same frames, shown 240x320.
"${ff[@]}" -i h264.mp4 -c copy -metadata:s:v:0 rotate=90 rotated.mp4

# A truncated copy of the H.264 clip: the moov (first) and the first part of the
# frame data survive.
size=$(stat -c %s h264.mp4)
head -c $((size * 55 / 100)) h264.mp4 > truncated.mp4

# The sample under Samples/video (used by `vision predict --help`'s examples): a
# 4 s, 8 fps, 640x480 pan across three BCCD test images, which the shipped model knows.
mkdir -p "$samples/video"
J="$samples/bccd/JPEGImages"
"${ff[@]}" -i "$J/BloodImage_00007.jpg" -i "$J/BloodImage_00011.jpg" -i "$J/BloodImage_00015.jpg" \
    -filter_complex "[0][1][2]hstack=inputs=3,loop=loop=-1:size=1:start=0,fps=8,crop=640:480:x='min(n*40\,1280)':y=0,format=yuv420p" \
    -frames:v 33 -c:v libx264 -preset slow -crf 28 -movflags +faststart -an "$samples/video/blood_smear.mp4"

for clip in h264.mp4 vp9.webm vfr.mp4 mpeg4.avi rotated.mp4 truncated.mp4; do
    ffprobe -v quiet -select_streams v:0 -of json \
        -show_entries stream=codec_name,width,height,time_base,r_frame_rate,avg_frame_rate,nb_frames:stream_side_data=rotation:frame=best_effort_timestamp,best_effort_timestamp_time \
        "$clip" > "$clip.ffprobe.json"
done
ls -l
