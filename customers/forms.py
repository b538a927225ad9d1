"""Admin forms: the HQ customer, address countries, "Add customer at store" and the
synchronization status page's filters.

The "Add customer at store" form asks what a store's point of sale asks for (R1).

The form checks what a point of sale checks (names for the customer type, a
complete address, a country from the list). Business rules (R5) are HQ's: for a
real-time store the service raises ``CustomerValidationError`` and the form shows
its messages; an async store accepts the customer and HQ judges it on
synchronization.
"""

from django import forms

from commerce.models import NumberSequence, Store
from customers.countries import ISO3166_ALPHA3, country_choices
from customers.models import (
    AddressPurpose,
    Customer,
    CustomerGroup,
    CustomerType,
    Party,
)
from customers.selectors import ASYNC_STATUS_LABELS  # noqa: F401  (pages import it here)
from customers.services.labels import field_label, operator_text
from customers.services.validation import EDITABLE_FIELDS, AddressInput, CustomerInput
from customers.shown_version import ShownVersionForm

ADDRESS_FIELDS = ["street", "city", "state", "zip", "country"]
BLANK_CHOICE = ("", "---------")


def country_options(current: str = "") -> list[tuple[str, str]]:
    """A blank choice and every country by name; ``current`` too when it is not a country."""
    options = [BLANK_CHOICE, *country_choices()]
    if current and current not in ISO3166_ALPHA3:
        # R5 judges the country at HQ: a staged record keeps the store's code, shown
        # (and kept on save) until a person picks a country.
        options.insert(1, (current, f"{current} (not an ISO 3166-1 alpha-3 code)"))
    return options


class AddressCountryForm(forms.ModelForm):
    """An address's ``country`` as a select of country names (HQ and staged addresses)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        text = self.fields.get("country")
        if text is None:  # read-only on this page
            return
        style = text.widget.attrs.get("style")
        self.fields["country"] = forms.ChoiceField(
            choices=country_options(self.initial.get("country") or ""),
            required=text.required,
            label=text.label,
            help_text=text.help_text,
            widget=forms.Select(attrs={"style": style} if style else None),
        )


class CustomerAdminForm(ShownVersionForm, forms.ModelForm):
    """The HQ customer; a change carries the version it showed (R11), and a save over a
    newer version (a store's edit applied meanwhile) is refused, saying what changed."""

    record_label = "customer"

    class Meta:
        model = Customer
        fields = [
            "legal_entity",
            "account",
            "party",
            "customer_group",
            "currency",
            "language",
            "email",
            "phone",
        ]

    def version_of(self, record) -> str:
        return str(record.version)

    def values_of(self, record) -> dict[str, str]:
        values = {}
        for name in CustomerAdminForm.Meta.fields:  # the admin's Meta lists more
            if name not in self.fields:
                continue  # read-only on this page (legal entity and account)
            field = Customer._meta.get_field(name)
            value = getattr(record, field.attname)
            if field.is_relation:
                value = str(getattr(record, name)) if value is not None else ""
            values[str(field.verbose_name).capitalize()] = str(value)
        return values

    def changed_at(self, record):
        return record.modified_at

    def clean(self):
        data = super().clean()
        if self.stale_check():
            return data
        legal_entity, group = data.get("legal_entity"), data.get("customer_group")
        if legal_entity and group and group.legal_entity_id != legal_entity.pk:
            self.add_error(
                "customer_group",
                f"Customer group {group.code} does not belong to legal entity {legal_entity}.",
            )
        if (
            legal_entity
            and "account" in self.fields
            and not data.get("account")
            and not NumberSequence.objects.filter(legal_entity=legal_entity).exists()
        ):
            self.add_error(
                "account", f"Legal entity {legal_entity} has no customer number sequence."
            )
        return data


class PartyAdminForm(ShownVersionForm, forms.ModelForm):
    """A customer's party (its names) at HQ: carries the version of its customer that it
    showed (R11), like the customer's own form."""

    record_label = "customer"

    class Meta:
        model = Party
        fields = ["type", "name", "first_name", "last_name", "organization_name"]

    def current_for_update(self):
        # The customer row is the one account creation locks when it applies a store's
        # edit of the names; lock it too, so neither write slips between check and save.
        party = Party.objects.select_for_update().filter(pk=self.instance.pk).first()
        if party is not None:
            Customer.objects.select_for_update().filter(party=party).first()
        return party

    def version_of(self, record) -> str:
        customer = Customer.objects.filter(party_id=record.pk).values_list("version", flat=True)
        return str(customer.first() or 0)

    def values_of(self, record) -> dict[str, str]:
        return {
            str(Party._meta.get_field(name).verbose_name).capitalize(): str(getattr(record, name))
            for name in PartyAdminForm.Meta.fields
        }

    def changed_at(self, record):
        customer = Customer.objects.filter(party_id=record.pk).values_list("modified_at", flat=True)
        return customer.first()

    def clean(self):
        data = super().clean()
        self.stale_check()
        return data


class StoreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, store):
        mode = "async" if store.creates_customers_async else "real time"
        offline = ", offline" if store.offline else ""
        return f"{store.number} {store.name} ({mode}{offline}, {store.channel_database})"


class CustomerGroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, group):
        return f"{group.code} ({group.legal_entity.code})"


class StoreCustomerForm(forms.Form):
    store = StoreChoiceField(
        queryset=Store.objects.select_related(
            "legal_entity", "channel_database", "functionality_profile"
        ),
        help_text="The store's functionality profile decides: async customer in its channel "
        "database, or a real-time call to HQ.",
    )
    type = forms.ChoiceField(choices=CustomerType.choices, initial=CustomerType.PERSON)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    organization_name = forms.CharField(max_length=200, required=False)
    # Not an EmailField: a malformed email is a business rule (R5), judged at HQ.
    email = forms.CharField(max_length=254, required=False)
    phone = forms.CharField(max_length=40, required=False)
    customer_group = CustomerGroupChoiceField(
        queryset=CustomerGroup.objects.select_related("legal_entity"),
        required=False,
        help_text="Empty: the group of the store's default customer.",
    )
    currency = forms.CharField(
        max_length=3, required=False, help_text="Empty: the store's default customer's."
    )
    language = forms.CharField(
        max_length=10, required=False, help_text="Empty: the store's default customer's."
    )
    # R2: empty is home for a person, business for an organization.
    address_purpose = forms.ChoiceField(
        label="Purpose",
        choices=[("", "Home (person) or business (organization)"), *AddressPurpose.choices],
        required=False,
        initial="",
    )
    address_street = forms.CharField(label="Street", max_length=250, required=False)
    address_city = forms.CharField(label="City", max_length=100, required=False)
    address_state = forms.CharField(label="State", max_length=60, required=False)
    address_zip = forms.CharField(label="ZIP/postal code", max_length=20, required=False)
    address_country = forms.ChoiceField(label="Country", choices=country_options, required=False)
    address_primary = forms.BooleanField(label="Primary", required=False, initial=True)

    fieldsets = [
        (None, {"fields": ["store", "type"]}),
        ("Name", {"fields": ["first_name", "last_name", "organization_name"]}),
        ("Contact", {"fields": ["email", "phone"]}),
        ("Defaults", {"fields": ["customer_group", "currency", "language"]}),
        (
            "Address (optional)",
            {
                "fields": [
                    "address_purpose",
                    *(f"address_{n}" for n in ADDRESS_FIELDS),
                    "address_primary",
                ]
            },
        ),
    ]

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("type") == CustomerType.ORGANIZATION:
            if not data.get("organization_name", "").strip():
                self.add_error("organization_name", "An organization needs its name.")
        elif data.get("type") == CustomerType.PERSON:
            for name in ("first_name", "last_name"):
                if not data.get(name, "").strip():
                    self.add_error(name, "A person needs a first and a last name.")
        if self.has_address():
            for name in ("street", "city", "zip", "country"):
                if not data.get(f"address_{name}", "").strip():
                    self.add_error(f"address_{name}", "Required for the address.")
        store, group = data.get("store"), data.get("customer_group")
        if store and group and group.legal_entity_id != store.legal_entity_id:
            self.add_error(
                "customer_group",
                f"Customer group {group.code} belongs to legal entity {group.legal_entity.code}; "
                f"store {store.number} is in {store.legal_entity.code}.",
            )
        return data

    def has_address(self) -> bool:
        return any(
            (self.cleaned_data.get(f"address_{name}") or "").strip() for name in ADDRESS_FIELDS
        )

    def customer_input(self) -> CustomerInput:
        data = self.cleaned_data
        addresses = ()
        if self.has_address():
            addresses = (
                AddressInput(
                    purpose=data["address_purpose"],
                    street=data["address_street"].strip(),
                    city=data["address_city"].strip(),
                    state=data["address_state"].strip(),
                    zip=data["address_zip"].strip(),
                    country=data["address_country"],
                    is_primary=data["address_primary"],
                ),
            )
        group = data.get("customer_group")
        return CustomerInput(
            type=data["type"],
            first_name=data["first_name"].strip(),
            last_name=data["last_name"].strip(),
            organization_name=data["organization_name"].strip(),
            email=data["email"].strip(),
            phone=data["phone"].strip(),
            customer_group=group.code if group else "",
            currency=data["currency"],
            language=data["language"].strip(),
            addresses=addresses,
        )

    def add_service_errors(self, errors: list[str]) -> None:
        """Show CustomerValidationError messages ("field: problem") on their fields."""
        for message in errors:
            name = message.partition(":")[0].strip()
            if name.startswith("addresses["):
                name = "address_" + name.rpartition(".")[2]
            self.add_error(name if name in self.fields else None, operator_text(message))


class SyncStatusFilterForm(forms.Form):
    """The GET filters of the customer synchronization status page, validated."""

    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *ASYNC_STATUS_LABELS.items()]
    )
    store = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Customers, addresses and edits"),
            ("customer", "Customers"),
            ("address", "Addresses"),
            ("edit", "Edits (channel requests)"),
        ],
    )

    def __init__(self, *args, stores: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [
            ("", "All stores"),
            *((number, f"{number} {name}") for number, name in stores),
        ]


# --- Store customers page (README "Admin", R11) ------------------------------------

# The store's edit form changes every editable field but the language.
STORE_EDIT_LABELS = {name: field_label(name) for name in EDITABLE_FIELDS if name != "language"}


def _store_service_errors(form: forms.Form, errors: list[str], *, strip_prefix: str = "") -> None:
    """CustomerValidationError messages ("field: problem") on the field they name."""
    for message in errors:
        name = message.partition(":")[0].strip()
        if strip_prefix and name.startswith(strip_prefix):
            name = name.rpartition(".")[2]
        form.add_error(name if name in form.fields else None, operator_text(message))


class StoreCustomerEditForm(forms.Form):
    """A store's change to one customer (R11): what a point of sale lets a cashier
    change. Only the fields whose value differs from the customer's current one make
    the change; business rules (R5) are HQ's, as when adding a customer."""

    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    organization_name = forms.CharField(max_length=200, required=False)
    # Not an EmailField: a malformed email is a business rule (R5), judged at HQ.
    email = forms.CharField(max_length=254, required=False)
    phone = forms.CharField(max_length=40, required=False)
    customer_group = forms.ChoiceField(required=False)

    fieldsets = [
        ("Name", {"fields": ["first_name", "last_name", "organization_name"]}),
        ("Contact", {"fields": ["email", "phone"]}),
        (None, {"fields": ["customer_group"]}),
    ]

    def get_fieldsets(self) -> list:
        return [
            (title, {"fields": [n for n in options["fields"] if n in self.fields]})
            for title, options in self.fieldsets
        ]

    def __init__(self, *args, current: dict[str, str], customer_type: str, groups, **kwargs):
        """``current``: the customer's values by field name; ``groups``: the legal
        entity's customer groups (code and name)."""
        self.current = {name: current.get(name) or "" for name in STORE_EDIT_LABELS}
        self.customer_type = customer_type
        super().__init__(*args, initial=self.current, **kwargs)
        for name, label in STORE_EDIT_LABELS.items():
            self.fields[name].label = label
        # The names the customer type uses: a person's, or an organization's.
        unused = (
            ["first_name", "last_name"]
            if customer_type == CustomerType.ORGANIZATION
            else ["organization_name"]
        )
        for name in unused:
            del self.fields[name]
        choices = [(g.code, f"{g.name} ({g.code})" if g.name else g.code) for g in groups]
        group = self.current["customer_group"]
        if group not in {code for code, _ in choices}:
            # Kept as it is until a person picks a group (R5 judges it at HQ).
            unknown = (group, f"{group} (not a group of this legal entity)")
            choices.insert(0, unknown if group else BLANK_CHOICE)
        self.fields["customer_group"].choices = choices

    def clean(self):
        data = super().clean()
        changed = self.changed_fields()
        for name in ("first_name", "last_name", "organization_name"):
            if name in changed and not changed[name]:
                self.add_error(name, f"A {self.customer_type} needs this name.")
        return data

    def changed_fields(self) -> dict[str, str]:
        """The fields the user changed, with their new values."""
        data = getattr(self, "cleaned_data", {})
        return {
            name: data[name].strip()
            for name in self.fields
            if name in data and data[name].strip() != self.current[name]
        }

    def add_service_errors(self, errors: list[str]) -> None:
        _store_service_errors(self, errors)


class StoreCustomerAddressForm(forms.Form):
    """An address the store adds to a customer (R11): an async customer's own row
    before upload, a channel request after."""

    purpose = forms.ChoiceField(choices=AddressPurpose.choices, initial=AddressPurpose.DELIVERY)
    street = forms.CharField(max_length=250)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=60, required=False)
    zip = forms.CharField(label="ZIP/postal code", max_length=20)
    country = forms.ChoiceField(choices=country_options)
    is_primary = forms.BooleanField(label="Primary", required=False)

    fieldsets = [
        (None, {"fields": ["purpose", "street", "city", "state", "zip", "country", "is_primary"]})
    ]

    def address_input(self) -> AddressInput:
        data = self.cleaned_data
        return AddressInput(
            purpose=data["purpose"],
            street=data["street"].strip(),
            city=data["city"].strip(),
            state=data["state"].strip(),
            zip=data["zip"].strip(),
            country=data["country"],
            is_primary=data["is_primary"],
        )

    def add_service_errors(self, errors: list[str]) -> None:
        _store_service_errors(self, errors, strip_prefix="addresses[")
