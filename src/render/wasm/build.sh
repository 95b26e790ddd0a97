#!/usr/bin/env bash
# Rebuild blend.wasm from blend.c (needs clang and lld: apt-get install clang lld). The output is committed.
set -euo pipefail
cd "$(dirname "$0")"
clang --target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -mmutable-globals -nostdlib -fno-builtin-memset \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -Wl,--export=__stack_pointer -Wl,--export=__heap_base -Wl,-z,stack-size=65536 \
  -o blend.wasm blend.c
