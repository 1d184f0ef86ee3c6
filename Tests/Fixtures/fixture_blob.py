"""The fixture layout the Swift ops/training tests read: float32 arrays packed
little-endian into one .f32 file, indexed by index.json
{"arrays": {name: {"offset": <floats>, "shape": [...]}}, "ints": {name: [...]}, "params": {...}}."""
import json
from collections import OrderedDict

import torch


class FixtureBlob:
    def __init__(self):
        self.chunks = []
        self.offset = 0
        self.arrays = OrderedDict()
        self.ints = OrderedDict()
        self.params = OrderedDict()

    def put(self, name, t):
        a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4")
        self.arrays[name] = {"offset": self.offset, "shape": list(a.shape)}
        self.chunks.append(a.reshape(-1).tobytes())
        self.offset += a.size

    def put_ints(self, name, t):
        self.ints[name] = [int(v) for v in torch.as_tensor(t).reshape(-1).tolist()]

    def write(self, data_path, index_path, header=None, **json_options):
        """Writes the floats and the index (`header` keys first, then arrays, ints, params)."""
        with open(data_path, "wb") as f:
            for chunk in self.chunks:
                f.write(chunk)
        index = dict(header or {})
        index.update(arrays=self.arrays, ints=self.ints, params=self.params)
        with open(index_path, "w") as f:
            json.dump(index, f, **json_options)
