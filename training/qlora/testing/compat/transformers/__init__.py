"""Import stand-in for `transformers`, which is not installed on the Council development machine.

llama.cpp's convert_lora_to_gguf.py imports AutoConfig and AutoTokenizer at the top but, given `--base <folder>`,
reads config.json itself and never calls them; calling them here fails loudly.
"""


class _NotInstalled:
    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        raise ImportError("transformers is not installed (test stand-in)")


AutoConfig = _NotInstalled
AutoTokenizer = _NotInstalled
