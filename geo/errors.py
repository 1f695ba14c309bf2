"""The one error type geo/ raises for bad input."""


class GeoError(ValueError):
    """Invalid geometry input: NaN, out-of-range coordinates, negative radius, bad field of view."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
