"""Import stand-in for `tqdm` (not installed here): gguf-py's writer uses it only for a progress bar."""


class tqdm:
    def __init__(self, iterable=None, **kwargs):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable or ())

    def update(self, n=1):
        pass

    def set_description(self, desc=None):
        pass

    def reset(self, total=None):
        pass

    def close(self):
        pass
