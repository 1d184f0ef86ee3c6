#!/usr/bin/env bash
# Creates the Python environment the benchmark's reference side runs in
# (PyTorch eager, ONNX Runtime and OpenVINO), outside the repository.
#
#   Tests/Benchmarks/setup_reference_env.sh [VENV_DIR]
#
# VENV_DIR defaults to ~/.venvs/vision-bench. If ~/ref already holds a venv with
# torch, torchvision, onnx, onnxruntime, openvino, safetensors and pillow, it is linked
# there instead of installing again (the packages are large).
set -euo pipefail

venv="${1:-$HOME/.venvs/vision-bench}"
needed="import torch, torchvision, onnx, onnxruntime, openvino, safetensors, PIL, numpy"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$needed" 2>/dev/null; then
    echo "reference env ready: $venv"
    exit 0
fi

if [ -x "$HOME/ref/bin/python" ] && "$HOME/ref/bin/python" -c "$needed" 2>/dev/null && [ ! -e "$venv" ]; then
    mkdir -p "$(dirname "$venv")"
    ln -s "$HOME/ref" "$venv"
    echo "reference env: linked $venv -> $HOME/ref"
    exit 0
fi

python3 -m venv "$venv"
"$venv/bin/pip" install --upgrade pip
# CPU wheels of torch: the benchmark compares CPU inference only.
"$venv/bin/pip" install --index-url https://download.pytorch.org/whl/cpu torch torchvision
"$venv/bin/pip" install onnx onnxruntime openvino safetensors pillow numpy
"$venv/bin/python" -c "$needed"
echo "reference env ready: $venv"
