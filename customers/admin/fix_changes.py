"""What a person's fix of a failed staged record changed, for its event (README "Event
log"): each changed field by its label, with the value it had and the value saved
("Customer group: PLATINUM → RETAIL"); a changed row of an inline as "Address 1:
Country", a new row as added, a deleted one as removed."""

from __future__ import annotations

from django.utils.text import capfirst


def _text(value) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set):
        return ", ".join(_text(v) for v in value) or "(empty)"
    return str(value)


def _label(form, name: str) -> str:
    field = form.fields.get(name)
    return str(
        capfirst(field.label if field is not None and field.label else name.replace("_", " "))
    )


def _initial(form, name: str):
    field = form.fields.get(name)
    value = form.get_initial_for_field(field, name) if field is not None else None
    if field is not None and hasattr(field, "queryset") and value not in (None, ""):
        # A choice of a model: its name, not its id.
        found = field.queryset.filter(pk=getattr(value, "pk", value)).first()
        return found if found is not None else value
    return value


def form_changes(form, *, prefix: str = "") -> list[list[str]]:
    """[[label, old, new], ...] of ``form``'s changed fields."""
    return [
        [
            f"{prefix}{_label(form, name)}",
            _text(_initial(form, name)),
            _text(form.cleaned_data.get(name)),
        ]
        for name in form.changed_data
        if name not in ("DELETE", "id") and not name.endswith("_ptr")
    ]


def fix_changes(form, formsets) -> list[list[str]]:
    """The changes of a fix form and its inline formsets."""
    changes = form_changes(form)
    for formset in formsets:
        # "staged async customer address" is the customer's "Address".
        noun = str(formset.model._meta.verbose_name).removeprefix("staged async customer ")
        noun = str(capfirst(noun))
        for index, inline in enumerate(formset.forms, start=1):
            if not inline.has_changed():
                continue
            label = f"{noun} {index}: "
            if inline.cleaned_data.get("DELETE"):
                changes.append([f"{noun} {index}", "present", "removed"])
            elif inline.instance._state.adding:
                changes.append([f"{noun} {index}", "(none)", "added"])
            else:
                changes += form_changes(inline, prefix=label)
    return changes
