"""Files and folders a command owns: which command kind may write a directory, and who holds it now."""

from surfturf.io.ownership import BOOKKEEPING, DirLock, claim_dir, owner_of

__all__ = ["BOOKKEEPING", "DirLock", "claim_dir", "owner_of"]
