#!/bin/bash
# The CUDA checks of issue #7 in one script, for a machine where torch has CUDA: builds
# comfy._kernels on its own (cpp/kernels needs only Python, torch and the CUDA toolkit), then runs
# every native-node case on CUDA tensors against the torch reference and prints the GPU rows.
# Usage: tests/cuda/run_on_gpu.sh   (PY=python3, BUILD=/tmp/kernels-cuda, CUDA_ARCH=90 by default)
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-python3}
B=${BUILD:-/tmp/kernels-cuda}
ARCH=${CUDA_ARCH:-90}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
nvcc --version | tail -1
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"
GEN=(); command -v ninja >/dev/null && GEN=(-G Ninja)
configure() {
  cmake -S cpp/kernels -B "$B" "${GEN[@]}" -DPython_EXECUTABLE="$(command -v "$PY")" \
    -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_BUILD_TYPE=Release "$@" > "$B.configure.log" 2>&1
}
mkdir -p "$B"
if ! configure; then
  tail -20 "$B.configure.log"
  echo "TorchConfig.cmake failed; configuring with torch's folders directly"
  rm -rf "$B"; mkdir -p "$B"
  configure -DCOMFY_TORCH_CMAKE=OFF || { tail -40 "$B.configure.log"; exit 2; }
fi
grep -E "CUDA|Torch" "$B.configure.log" | head -8
start=$(date +%s)
cmake --build "$B" -j "$(nproc)" 2>&1 | tail -5 || exit 3
echo "kernels built in $(( $(date +%s) - start )) s"
cp "$B"/_kernels*.so python/comfy/
$PY tests/cuda/check_kernels_cuda.py
