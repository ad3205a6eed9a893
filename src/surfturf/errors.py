"""The one exception type that reaches the user as a one-line message and exit code 2."""


class UserError(Exception):
    """Bad input the user can fix: says what is wrong and how to fix it, in one line."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} ({fix})" if fix else problem)

    def line(self) -> str:
        """The single line printed on stderr."""
        return f"error: {self.problem}" + (f"; fix: {self.fix}" if self.fix else "")
