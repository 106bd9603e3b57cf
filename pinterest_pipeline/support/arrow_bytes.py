"""The bytes of an Arrow array of texts, as one buffer, without building a Python object per value.

The transform's output and the request bodies are pre-serialized texts that only ever travel
whole: a file gets all of a batch's lines, a request all of a chunk's events. In an Arrow string or
binary array the values of a slice lie back to back in one data buffer, so their concatenation is a
view of it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def concatenated_bytes(values: pa.Array | pa.ChunkedArray) -> memoryview:
    """The values of a string or binary array without NULLs, back to back, as a view of its buffer."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if array.null_count:
        raise ValueError("an array with NULLs has no concatenated bytes")
    _validity, offsets, data = array.buffers()
    large = pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type)
    offset_type = np.int64 if large else np.int32
    bounds = np.frombuffer(
        offsets, dtype=offset_type, count=len(array) + 1, offset=array.offset * offset_type().itemsize
    )
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(bounds[0]) : int(bounds[-1])]
