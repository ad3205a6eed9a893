"""Output folders: the files every command writes (atomic, append-only), their manifests, and
which command kind owns a folder and who holds it now."""

from surfturf.io.ownership import BOOKKEEPING, DirLock, claim_dir, owner_of

__all__ = ["BOOKKEEPING", "DirLock", "claim_dir", "owner_of"]
