from app.surveys.models import Survey
from tests.tips.files import png

PNG = png()


def web_answers(survey: Survey) -> dict[str, str | list[str]]:
    """The form fields of the H5 page that answer the factory's survey (answers_for's)."""
    single, rating, multiple, _free = survey.questions
    fields: dict[str, str | list[str]] = {f"q{single.id}": str(single.options[0].id)}
    for target, score in zip(survey.targets, ("5", "3"), strict=True):
        fields[f"q{rating.id}_t{target.id}"] = score
    fields[f"q{multiple.id}"] = [str(o.id) for o in multiple.options[:2]]
    return fields
