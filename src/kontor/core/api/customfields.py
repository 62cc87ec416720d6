"""The custom fields an entity has, typed, so that clients know what ``custom`` of a
person or an organization may hold. Read-only: fields are defined under
Administration → Custom fields."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kontor.core import customfields
from kontor.core.models import CustomFieldType

router = Router(tags=["core"])


class CustomFieldOut(Schema):
    key: str
    label: str = Field(description="In the language of the request (label_en in English).")
    type: CustomFieldType
    required: bool
    choices: list[str] = Field(description="The allowed values of choice and multiple_choice.")
    help_text: str


class CustomFieldParams(Schema):
    entity: str = Field(
        description="Whose fields: " + ", ".join(customfields.ENTITIES) + ".",
        examples=["customers.person"],
        # Documented only: the view answers another value with a translated 422.
        json_schema_extra={"enum": list(customfields.ENTITIES)},
    )


@router.get(
    "/custom-fields",
    response=list[CustomFieldOut],
    summary="The custom fields of an entity",
    description=(
        "Active fields in their order. Values in a record's `custom` are typed by `type`: "
        "text, long_text, choice, url, email → string; number → integer; decimal → "
        'string ("1234.50"); date → "YYYY-MM-DD"; boolean → true/false; '
        "multiple_choice → list of strings."
    ),
)
def custom_field_list(request: HttpRequest, params: Query[CustomFieldParams]):
    if params.entity not in customfields.ENTITIES:
        raise ValidationError(
            {
                "entity": [
                    _("Choose one of: %(entities)s.")
                    % {"entities": ", ".join(customfields.ENTITIES)}
                ]
            }
        )
    return customfields.api_schema(params.entity)
