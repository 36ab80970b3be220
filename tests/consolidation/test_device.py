"""Device and dtype come from settings: a HF model folder loads where and how they say (the CPU suite checks the
CPU side; on a CUDA host "auto" means bf16 on the GPU)."""

from __future__ import annotations

import pytest
import torch

from consolidation.model import load_base, pick_device, pick_dtype
from memory_service.settings import Settings


def test_auto_means_cuda_in_bf16_when_there_is_one_else_the_cpu_in_fp32():
    assert pick_dtype("cuda") == pick_dtype("cuda:1") == torch.bfloat16
    assert pick_dtype("cpu") == torch.float32 and pick_dtype("cpu", "bfloat16") == torch.bfloat16
    assert pick_device("cpu") == "cpu" and pick_device("cuda:1") == "cuda:1"
    assert pick_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


def test_a_model_folder_loads_on_the_configured_device_and_dtype(tmp_path, tiny_base):
    tiny_base.model.save_pretrained(tmp_path)
    tiny_base.tokenizer.save_pretrained(tmp_path)
    base = load_base(str(tmp_path), "cpu", dtype="bfloat16")
    assert base.device == "cpu" and next(base.model.parameters()).dtype == torch.bfloat16
    assert next(load_base(str(tmp_path), "auto").model.parameters()).dtype == (
        torch.bfloat16 if torch.cuda.is_available() else torch.float32)


def test_settings_name_the_bad_device_or_dtype():
    assert (Settings().device, Settings().dtype) == ("auto", "auto")
    with pytest.raises(ValueError, match="device"):
        Settings(device="gpu0")
    with pytest.raises(ValueError, match="dtype"):
        Settings(dtype="int3")
