"""`python -m reclab.torchrun ...` = `torchrun ...` (torch.distributed.run), working on torch 1.13 with
Python 3.11 as well: there torchrun's `Std.from_str("0")` (its default --redirects / --tee) returns
None, because Python 3.11 no longer lists a Flag enum's zero member when iterating it, and the
launcher crashes before starting a process (AttributeError: 'NoneType' object has no attribute
'get'). We map that None back to Std.NONE and hand over to torchrun unchanged; on torch 2.x the
fix never triggers."""
from __future__ import annotations

from typing import Any

from torch.distributed.elastic.multiprocessing import api

_from_str = api.Std.from_str


def _fixed_from_str(vm: str) -> Any:
    r = _from_str(vm)
    if r is None:
        return api.Std.NONE
    if isinstance(r, dict):
        return {k: api.Std.NONE if v is None else v for k, v in r.items()}
    return r


api.Std.from_str = staticmethod(_fixed_from_str)  # type: ignore[method-assign]

if __name__ == "__main__":
    from torch.distributed.run import main

    main()
