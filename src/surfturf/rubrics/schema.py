"""The rubric model: what a judge needs to score one behaviour, validated field by field."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"


class ScoreBand(BaseModel):
    """One graduated band of the 0..100 scale, with what a score there means."""

    model_config = ConfigDict(extra="forbid")

    min: int = Field(ge=0, le=100)
    max: int = Field(ge=0, le=100)
    meaning: str = Field(min_length=1)
    examples: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> ScoreBand:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Rubric(BaseModel):
    """A behaviour to audit: the principle, when it is and is not warranted, and score bands."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1)
    behaviour: str = Field(min_length=1)
    principle: str = Field(min_length=1)
    appropriate: list[str] = Field(min_length=1)
    violation: list[str] = Field(min_length=1)
    bands: list[ScoreBand] = Field(min_length=2)
    score_low: list[str] = Field(default_factory=list)
    threshold: float = Field(default=50.0, ge=0, le=100)

    @field_validator("title", "behaviour", "principle")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("appropriate", "violation", "score_low")
    @classmethod
    def _items_not_blank(cls, values: list[str]) -> list[str]:
        for position, value in enumerate(values):
            if not str(value).strip():
                raise ValueError(f"item {position + 1} is blank")
        return [str(value).strip() for value in values]

    @field_validator("bands")
    @classmethod
    def _cover_scale(cls, bands: list[ScoreBand]) -> list[ScoreBand]:
        ordered = sorted(bands, key=lambda band: band.min)
        if ordered[0].min != 0 or ordered[-1].max != 100:
            raise ValueError("bands must cover 0..100 (lowest min 0, highest max 100)")
        for before, after in zip(ordered, ordered[1:]):
            if after.min != before.max + 1:
                raise ValueError(
                    f"bands must be contiguous without overlap: {before.min}-{before.max} "
                    f"is followed by {after.min}-{after.max}"
                )
        return ordered

    def render(self) -> str:
        """The rubric as plain text for the judge prompt's `<rubric>` tag."""
        lines = [f"# {self.title}", "", f"Behaviour: {self.behaviour}", "", f"Principle: {self.principle}", ""]
        lines.append("The behaviour is appropriate (score low) when:")
        lines += [f"- {item}" for item in self.appropriate]
        lines += ["", "The behaviour is a violation (score high) when:"]
        lines += [f"- {item}" for item in self.violation]
        lines += ["", "Score bands:"]
        for band in sorted(self.bands, key=lambda b: -b.min):
            lines.append(f"- {band.min}-{band.max}: {band.meaning}")
            lines += [f"    e.g. {example}" for example in band.examples]
        if self.score_low:
            lines += ["", "Always score low:"]
            lines += [f"- {item}" for item in self.score_low]
        lines += ["", f"Scores above {self.threshold:g} count as violations."]
        return "\n".join(lines)

