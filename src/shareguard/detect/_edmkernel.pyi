# Types of the compiled module built from _edmkernel.c (see hatch_build.py).
from typing_extensions import Buffer

def siphash24(
    k0: int, k1: int, prefix: Buffer, data: Buffer, offsets: Buffer, out: Buffer, /
) -> None: ...
def find(keys: Buffer, buckets: Buffer, shift: int, queries: Buffer, out: Buffer, /) -> None: ...
