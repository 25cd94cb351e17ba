from campaigns.errors import DomainError


class CreativeNotApprovedError(DomainError):
    """Only approved creative may be scheduled or sent."""

    code = "creative_not_approved"


class CreativeGenerationError(DomainError):
    code = "creative_generation_failed"
