"""What infobarrier's SCIM service is: its schemas, resource types, capabilities and tolerance.

Users are RFC 7643 ``User`` resources with the enterprise extension and infobarrier's own
extension (the segmentable attributes of semantics §2 that no standard attribute carries);
groups are RFC 7643 ``Group`` resources. The models come from ``scim2-models``.
"""

from __future__ import annotations

from typing import Any, Union

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    EnterpriseUser,
    ETag,
    Extension,
    Filter,
    Group,
    Patch,
    ResourceType,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models.urn import URN

#: The URN of infobarrier's user extension (Entra ID's custom-attribute naming).
INFOBARRIER_USER_URN = "urn:ietf:params:scim:schemas:extension:infobarrier:2.0:User"

#: The most resources one search answers (``count`` is bounded by it).
MAX_RESULTS = 1000


class InfobarrierUser(Extension):
    """Segmentable directory attributes (semantics §2) that no standard SCIM attribute carries."""

    __schema__ = URN(INFOBARRIER_USER_URN)

    mail_nickname: str | None = None
    """The Exchange alias (``MailNickname``, ``Alias``)."""

    usage_location: str | None = None
    """The two-letter country code where the user's services are used (``UsageLocation``)."""

    description: str | None = None
    """A free-text description of the user (``Description``)."""

    target_address: str | None = None
    """The external e-mail address of a mail user (``TargetAddress``)."""

    hidden_from_address_lists_enabled: bool | None = None
    """Hidden from the address lists (``HiddenFromAddressListsEnabled``)."""

    extension_attribute1: str | None = None
    """``ExtensionAttribute1`` (``CustomAttribute1``)."""
    extension_attribute2: str | None = None
    """``ExtensionAttribute2`` (``CustomAttribute2``)."""
    extension_attribute3: str | None = None
    """``ExtensionAttribute3`` (``CustomAttribute3``)."""
    extension_attribute4: str | None = None
    """``ExtensionAttribute4`` (``CustomAttribute4``)."""
    extension_attribute5: str | None = None
    """``ExtensionAttribute5`` (``CustomAttribute5``)."""
    extension_attribute6: str | None = None
    """``ExtensionAttribute6`` (``CustomAttribute6``)."""
    extension_attribute7: str | None = None
    """``ExtensionAttribute7`` (``CustomAttribute7``)."""
    extension_attribute8: str | None = None
    """``ExtensionAttribute8`` (``CustomAttribute8``)."""
    extension_attribute9: str | None = None
    """``ExtensionAttribute9`` (``CustomAttribute9``)."""
    extension_attribute10: str | None = None
    """``ExtensionAttribute10`` (``CustomAttribute10``)."""
    extension_attribute11: str | None = None
    """``ExtensionAttribute11`` (``CustomAttribute11``)."""
    extension_attribute12: str | None = None
    """``ExtensionAttribute12`` (``CustomAttribute12``)."""
    extension_attribute13: str | None = None
    """``ExtensionAttribute13`` (``CustomAttribute13``)."""
    extension_attribute14: str | None = None
    """``ExtensionAttribute14`` (``CustomAttribute14``)."""
    extension_attribute15: str | None = None
    """``ExtensionAttribute15`` (``CustomAttribute15``)."""
    ms_exch_extension_custom_attribute1: str | None = None
    """``MSExchExtensionCustomAttribute1`` (``ExtensionCustomAttribute1``)."""
    ms_exch_extension_custom_attribute2: str | None = None
    """``MSExchExtensionCustomAttribute2`` (``ExtensionCustomAttribute2``)."""
    ms_exch_extension_custom_attribute3: str | None = None
    """``MSExchExtensionCustomAttribute3`` (``ExtensionCustomAttribute3``)."""
    ms_exch_extension_custom_attribute4: str | None = None
    """``MSExchExtensionCustomAttribute4`` (``ExtensionCustomAttribute4``)."""
    ms_exch_extension_custom_attribute5: str | None = None
    """``MSExchExtensionCustomAttribute5`` (``ExtensionCustomAttribute5``)."""


#: The model of a SCIM user: core schema, enterprise extension, infobarrier extension.
ScimUser: type[User[Any]] = User[Union[EnterpriseUser, InfobarrierUser]]  # noqa: UP007

CONFIG = ServiceProviderConfig(
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=True),
    etag=ETag(supported=True),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="Bearer token",
            description=(
                "A token of the tenant with the provisioner role: "
                "infobarrier tokens create --tenant T --role provisioner"
            ),
            primary=True,
        )
    ],
)

#: What infobarrier tolerates from what Entra ID's provisioning service really sends:
#: attributes it does not know are dropped (Entra sends its own schema URNs), a ``remove``
#: whose value lists the members to remove removes those (Entra's member removal), and an
#: ``add``/``replace`` on ``emails[type eq "work"].value`` creates the entry it describes.
#: PATCH ``op`` names are case-insensitive in scim2-models anyway (Entra's ``Replace``).
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

USER_TYPE = ResourceType.from_resource(ScimUser)
GROUP_TYPE = ResourceType.from_resource(Group)

PROVIDER = ScimProvider(
    models=[User, EnterpriseUser, InfobarrierUser, Group],
    resource_types=[USER_TYPE, GROUP_TYPE],
    config=CONFIG,
    policy=POLICY,
)
