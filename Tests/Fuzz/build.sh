#!/usr/bin/env bash
# Builds the libFuzzer targets of Tests/Fuzz into .build-fuzz/ (gitignored).
#   Tests/Fuzz/build.sh [TARGET...]     (default: every fuzz_*.swift here)
# The parsers' modules (VisionImaging, VisionCheckpoint, VisionData, the C codec
# shim and serve's request parsing) are compiled with coverage instrumentation
# (-sanitize=fuzzer / -fsanitize=fuzzer-no-link) and AddressSanitizer; the
# numeric modules they sit on (VisionKernels, VisionCore) are plain -O builds:
# no parser lives there and instrumenting them only slows every execution.
# Modules are built with -enable-testing so targets reach internal parsers
# through @testable import. Rebuilt only when a source is newer than its output.
# Files that import swift-crypto (the TFLite conversion's source digest) are left out:
# swift-crypto is not built here, and the TFLite reader has no fuzz target yet.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${FUZZ_BUILD_DIR:-$ROOT/.build-fuzz}
MOD=$OUT/modules
mkdir -p "$MOD" "$OUT/bin"
SWIFT_COMMON=(-swift-version 5 -parse-as-library -enable-testing -wmo -g -I "$MOD" -I "$ROOT/Sources/COpenBLAS")
INSTRUMENT=(-sanitize=fuzzer,address)

# Whether $1 is missing or older than any of the remaining paths' files.
stale() {
    local target=$1; shift
    [[ ! -e $target ]] && return 0
    [[ -n $(find "$@" -newer "$target" -type f 2>/dev/null | head -1) ]]
}

# swift_module NAME "FLAGS" DIR... : a static library plus its .swiftmodule.
swift_module() {
    local name=$1 flags=$2; shift 2
    local lib=$MOD/lib$name.a
    if stale "$lib" "$@"; then
        echo "building module $name" >&2
        # shellcheck disable=SC2086
        swiftc "${SWIFT_COMMON[@]}" $flags -module-name "$name" -emit-library -static \
            -emit-module -emit-module-path "$MOD/$name.swiftmodule" \
            -o "$lib" $(find "$@" -name '*.swift' | sort | xargs grep -L '^import Crypto')
    fi
}

# CImageCodecs: the C shim, instrumented, with a module map for Swift.
CODECS=$ROOT/Sources/CImageCodecs
if stale "$MOD/libCImageCodecs.a" "$CODECS"; then
    echo "building CImageCodecs" >&2
    mkdir -p "$MOD/CImageCodecs"
    for c in "$CODECS"/*.c; do
        clang -O1 -g -fsanitize=fuzzer-no-link,address -I "$CODECS/include" -c "$c" \
            -o "$MOD/CImageCodecs/$(basename "$c" .c).o"
    done
    ar rcs "$MOD/libCImageCodecs.a" "$MOD"/CImageCodecs/*.o
    printf 'module CImageCodecs {\n    header "%s/include/image_codecs.h"\n    export *\n}\n' "$CODECS" \
        > "$MOD/CImageCodecs/module.modulemap"
fi
SWIFT_COMMON+=(-I "$MOD/CImageCodecs")

# VisionKernels' SIMD loops (generic, AVX2, AVX-512 builds chosen at run time); not instrumented,
# like VisionKernels itself.
SIMD=$ROOT/Kernels/CPUSIMD
if stale "$MOD/libCVisionSIMD.a" "$SIMD"; then
    echo "building CVisionSIMD" >&2
    mkdir -p "$MOD/CVisionSIMD"
    for c in "$SIMD"/*.c; do
        clang -O2 -g -I "$SIMD/include" -c "$c" -o "$MOD/CVisionSIMD/$(basename "$c" .c).o"
    done
    ar rcs "$MOD/libCVisionSIMD.a" "$MOD"/CVisionSIMD/*.o
    printf 'module CVisionSIMD {\n    header "%s/include/vision_simd.h"\n    export *\n}\n' "$SIMD" \
        > "$MOD/CVisionSIMD/module.modulemap"
fi
SWIFT_COMMON+=(-I "$MOD/CVisionSIMD")

swift_module VisionKernels "-O" Kernels/CPU "$MOD/libCVisionSIMD.a"
swift_module VisionCore "-O" Sources/VisionCore "$MOD/libVisionKernels.a"
swift_module VisionImaging "-O ${INSTRUMENT[*]}" Sources/VisionImaging "$MOD/libVisionCore.a" "$MOD/libCImageCodecs.a"
swift_module VisionCheckpoint "-O ${INSTRUMENT[*]}" Sources/VisionCheckpoint "$MOD/libVisionCore.a"
swift_module VisionData "-O ${INSTRUMENT[*]}" Sources/VisionData "$MOD/libVisionImaging.a"
# serve's request parsing (multipart form, options): plain Foundation, no Hummingbird.
SERVE=(Sources/vision/Serve/MultipartForm.swift Sources/vision/Serve/PredictRequest.swift)
if stale "$MOD/libServeRequest.a" "${SERVE[@]}" "$MOD/libVisionImaging.a"; then
    echo "building module ServeRequest" >&2
    swiftc "${SWIFT_COMMON[@]}" -O "${INSTRUMENT[@]}" -module-name ServeRequest -emit-library -static \
        -emit-module -emit-module-path "$MOD/ServeRequest.swiftmodule" -o "$MOD/libServeRequest.a" "${SERVE[@]}"
fi

LIBS=(-L "$MOD" -lServeRequest -lVisionData -lVisionCheckpoint -lVisionImaging -lVisionCore -lVisionKernels
      -lCVisionSIMD -lCImageCodecs -ljpeg -lpng16 -lopenblas)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for f in Tests/Fuzz/fuzz_*.swift; do targets+=("$(basename "$f" .swift)"); done
fi
for t in "${targets[@]}"; do
    src=Tests/Fuzz/$t.swift
    bin=$OUT/bin/$t
    if stale "$bin" "$src" Tests/Fuzz/Support "$MOD"; then
        echo "building $t" >&2
        # From the output folder: swiftc leaves a .swiftmodule beside an -enable-testing executable.
        (cd "$OUT/bin" && swiftc "${SWIFT_COMMON[@]}" -O "${INSTRUMENT[@]}" -module-name "${t//-/_}" "$ROOT/$src" \
            "$ROOT"/Tests/Fuzz/Support/*.swift -use-ld=lld -o "$bin" "${LIBS[@]}")
    fi
done
