#!/usr/bin/env bash
# lm-evaluation-harness `local-completions` against a running valuechain, fully offline: loglikelihood
# multiple choice through /v1/completions (echo + prompt logprobs) and the remote tokenizer routes.
# Usage: KEY=<demo-developer key> bench/lmeval_offline.sh [http://127.0.0.1:8000]
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:-http://127.0.0.1:8000}"
if [ ! -x bench/.venv-lmeval/bin/lm_eval ]; then
  python3.11 -m venv bench/.venv-lmeval
  bench/.venv-lmeval/bin/pip install -q 'lm-eval[api]==0.4.13'
fi
HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 OPENAI_API_KEY="$KEY" bench/.venv-lmeval/bin/lm_eval \
  --model local-completions \
  --model_args "model=demo-provider/smollm2-135m-instruct,base_url=$BASE/v1/completions,tokenizer_backend=remote,auth_token=$KEY,num_concurrent=1" \
  --tasks vc_mc --include_path bench/lmeval --output_path bench/out/lmeval
