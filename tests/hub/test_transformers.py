"""transformers loads a tiny model created in the test, uploaded to valuechain, through ``from_pretrained``."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from huggingface_hub import constants

from tests.hub.conftest import Served
from tests.hub.test_contract import api

pytestmark = pytest.mark.e2e
transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")

CARD = "---\nlicense: mit\nlibrary_name: transformers\npipeline_tag: text-generation\n---\n# tiny llama\n"


def _tiny_model(folder: Path) -> None:
    words = ["<unk>", "<s>", "</s>", "hello", "world", "value", "chain"]
    tokenizer = tokenizers.Tokenizer(
        tokenizers.models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>")
    )
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    config = transformers.LlamaConfig(
        vocab_size=len(words),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=32,
    )
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    (folder / "README.md").write_text(CARD)


def test_from_pretrained_loads_an_uploaded_model(served: Served, tmp_path: Path) -> None:
    folder = tmp_path / "tiny-llama"
    folder.mkdir()
    _tiny_model(folder)
    provider = api(served, served.orgs.provider)
    provider.create_repo("acme/tiny-llama")
    with mock.patch.object(constants, "HF_HUB_DISABLE_XET", True):  # *.safetensors is LFS, as on the Hub
        provider.upload_folder(repo_id="acme/tiny-llama", folder_path=folder)
    cache = tmp_path / "cache"
    token = served.orgs.developer
    tokenizer = transformers.AutoTokenizer.from_pretrained("acme/tiny-llama", token=token, cache_dir=cache)
    model = transformers.AutoModelForCausalLM.from_pretrained("acme/tiny-llama", token=token, cache_dir=cache)
    original = transformers.AutoModelForCausalLM.from_pretrained(folder)
    ids = tokenizer("hello value chain", return_tensors="pt").input_ids
    assert ids.tolist() == [[3, 5, 6]]
    with torch.no_grad():
        assert torch.equal(model(ids).logits, original(ids).logits)
